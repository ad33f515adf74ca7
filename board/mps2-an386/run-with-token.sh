#!/bin/sh
# board/mps2-an386/run-with-token.sh ELF: what `make run BOARD=mps2-an386` runs. Starts
# `p11-kit server` with a SoftHSM2 token (made the first time, reused after) and boots ELF in
# QEMU with the console on this terminal (UART0) and UART1 connected to the server's socket, the
# board's token link (docs/mps2-an386.md). QEMU connects once, at its start, before the board runs
# (its `reconnect=` option would connect asynchronously, and the board, which boots in
# milliseconds, could send its handshake before the connection is up); the server lives as long as
# QEMU. If the connection ends, the board says the link broke; quit and `make run` again.
#
#   MPS2_TOKEN_DIR     where the token, its softhsm2.conf and the socket live
#                      (default: build/mps2-an386/token, beside the image)
#   MPS2_TOKEN_MODULE  the PKCS#11 module the server exports (default: SoftHSM2's)
#   MPS2_TOKEN_LABEL   the token's label (default: certwiz-mps2); user PIN 1234, SO PIN 87654321
#                      when this script makes it
#   QEMU               the emulator (default: qemu-system-arm)
set -eu
elf=$1
dir=${MPS2_TOKEN_DIR:-$(dirname "$elf")/token}
module=${MPS2_TOKEN_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
label=${MPS2_TOKEN_LABEL:-certwiz-mps2}
qemu=${QEMU:-qemu-system-arm}

mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/softhsm2.conf" ]; then
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$dir" \
        > "$dir/softhsm2.conf"
fi
export SOFTHSM2_CONF="$dir/softhsm2.conf"
if ! softhsm2-util --show-slots 2>/dev/null | grep -q "Label: *$label *\$"; then
    softhsm2-util --init-token --free --label "$label" --so-pin 87654321 --pin 1234 >/dev/null
    echo "mps2-an386: made the SoftHSM2 token '$label' in $dir (user PIN 1234)"
fi

sock="$dir/p11-kit.sock"
rm -f "$sock"
# -f: stays in the foreground, so that it ends with this script; one `p11-kit remote` per
# connection, serving only this token, to this user only.
p11-kit server -f -n "$sock" --provider "$module" "pkcs11:token=$label" > "$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT INT TERM HUP
# Until the socket listens (the file appears at bind, a moment before listen): QEMU's first connect
# is asynchronous and the board's handshake waits only 0.5 s, so a connect refused here would boot
# the board without its token.
listening() {
    [ -S "$sock" ] && { ! command -v ss >/dev/null 2>&1 || ss -xln | grep -qF "$sock"; }
}
i=0
while ! listening; do
    i=$((i + 1))
    if [ $i -gt 50 ] || ! kill -0 $server 2>/dev/null; then
        echo "mps2-an386: p11-kit server did not start (see $dir/server.log)" >&2
        exit 1
    fi
    sleep 0.1
done
echo "mps2-an386: token '$label' served on UART1 by p11-kit server (pid $server); Ctrl-A x quits QEMU"
"$qemu" -M mps2-an386 -nographic -serial mon:stdio \
    -chardev "socket,id=token,path=$sock" -serial chardev:token \
    -nic user -semihosting-config enable=on,target=native -kernel "$elf"
