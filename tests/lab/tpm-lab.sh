#!/bin/sh
# tests/lab/tpm-lab.sh: a TPM 2.0 token lab from Debian packages only (../shared/notes/tpm2-token.md).
#
#   tpm-lab.sh [-d DIR] start      swtpm + a private D-Bus session bus + tpm2-abrmd, in a network
#                                  namespace of its own (only lo), and two tpm2-pkcs11 tokens
#   tpm-lab.sh [-d DIR] stop       ends what start began (by the pids it wrote) and removes DIR
#   tpm-lab.sh [-d DIR] env        the exports a program needs to use the lab's tokens
#   tpm-lab.sh [-d DIR] run CMD..  CMD inside the lab's namespace with those exports; without -d
#                                  and with no lab running there, a fresh lab for this CMD only
#   tpm-lab.sh [-d DIR] ns         the namespace's path, for nsenter --net=PATH
#   tpm-lab.sh [-d DIR] status     what runs and which tokens the store holds
#
# DIR defaults to build/tpm-lab (relative to the current directory). The TPM's state, the D-Bus
# socket, the tpm2-pkcs11 store (TPM2_PKCS11_STORE) and the logs all live there.
#
# Resource manager: tpm2-abrmd --max-transients=3 imitates the kernel's /dev/tpmrm0, which lets one
# open file hold 3 loaded transient objects (Linux struct tpm_space). tabrmd 3.0.0 lets one more
# through than the option says (an earlier probe), so this lab is a little kinder than /dev/tpmrm0;
# with tpm2-pkcs11 1.9 (the token's primary key stays loaded) two key pairs fit in one login.
# TPM_LAB_TRANSIENTS overrides the option.
#
# Tokens: labels certwiz-tpm and certwiz-tpm-2, SO PIN 87654321, user PIN 1234 (the PINs the unit
# tests use on SoftHSM2). Every tpm2-pkcs11 token has serial 0000000000000000: select by label.
#
# Module: always named by path (TPM_LAB_MODULE below). Installing libtpm2-pkcs11-1 also registers it
# with p11-kit for the whole machine; nothing here relies on p11-kit's module list.
#
# The dictionary-attack counter is one for the whole (software) TPM: start clears it and sets
# 3 tries, 1000 s recovery (swtpm's defaults); `run tpm2_dictionarylockout --clear-lockout` resets it.
#
# Needs root (unshare --net). Exit status: 0, or 2 when a needed program is missing (the message
# names the Debian package), or that of CMD for run.
set -eu

TPM_LAB_MODULE=/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so
TPM_LAB_LABEL=certwiz-tpm
TPM_LAB_LABEL2=certwiz-tpm-2
TPM_LAB_SO_PIN=87654321
TPM_LAB_PIN=1234
TPM_LAB_TRANSIENTS=${TPM_LAB_TRANSIENTS:-3}

dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -d) dir="$2"; shift 2 ;;
    *) break ;;
  esac
done
cmd="${1:-}"
[ $# -gt 0 ] && shift
explicit_dir=1
if [ -z "$dir" ]; then
  dir=build/tpm-lab
  explicit_dir=0
fi

say() { echo "tpm-lab: $*" >&2; }
die() { say "$*"; exit 1; }

need_tools() {
  for t in swtpm:swtpm swtpm_ioctl:swtpm-tools tpm2-abrmd:tpm2-abrmd tpm2_startup:tpm2-tools \
           tpm2_ptool:libtpm2-pkcs11-tools dbus-daemon:dbus unshare:util-linux nsenter:util-linux \
           ip:iproute2; do
    if ! command -v "${t%%:*}" >/dev/null 2>&1; then
      say "missing ${t%%:*} (Debian package ${t#*:}; make deps installs it)"
      exit 2
    fi
  done
  if [ ! -f "$TPM_LAB_MODULE" ]; then
    say "missing $TPM_LAB_MODULE (Debian package libtpm2-pkcs11-1; make deps installs it)"
    exit 2
  fi
}

abs_dir() { mkdir -p "$dir" && dir=$(cd "$dir" && pwd); }

running() { [ -f "$dir/holder.pid" ] && kill -0 "$(cat "$dir/holder.pid")" 2>/dev/null; }

in_ns() { nsenter --net="/proc/$(cat "$dir/holder.pid")/ns/net" -- "$@"; }

print_env() {
  cat <<EOF
export DBUS_SESSION_BUS_ADDRESS='unix:path=$dir/dbus.sock'
export TPM2_PKCS11_STORE='$dir/store'
export TPM2_PKCS11_TCTI='tabrmd:bus_type=session'
export TPM2TOOLS_TCTI='tabrmd:bus_type=session'
export TPM2_PKCS11_LOG_LEVEL=0
export TPM_LAB_MODULE='$TPM_LAB_MODULE'
export TPM_LAB_LABEL='$TPM_LAB_LABEL'
export TPM_LAB_LABEL2='$TPM_LAB_LABEL2'
export TPM_LAB_SO_PIN='$TPM_LAB_SO_PIN'
export TPM_LAB_PIN='$TPM_LAB_PIN'
export TPM_LAB_DIR='$dir'
EOF
}

# Runs "$@" in the namespace with the lab's environment.
lab_exec() {
  eval "$(print_env)"
  in_ns "$@"
}

# Waits up to 10 s for "$@" to succeed.
wait_for() {
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || return 1
    sleep 0.1
  done
}

start() {
  need_tools
  abs_dir
  running && die "a lab already runs in $dir (stop it first)"
  rm -rf "$dir/tpmstate" "$dir/store" "$dir"/*.pid "$dir/dbus.sock"
  mkdir -p "$dir/tpmstate" "$dir/store"

  # The namespace: unshare execs sleep inside it; wait until it has switched.
  unshare --net -- sleep infinity >/dev/null 2>&1 &
  echo $! > "$dir/holder.pid"
  self=$(readlink /proc/self/ns/net)
  i=0
  while [ "$(readlink "/proc/$(cat "$dir/holder.pid")/ns/net" 2>/dev/null)" = "$self" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "unshare --net did not make a namespace"
    sleep 0.05
  done
  in_ns ip link set lo up

  in_ns swtpm socket --tpm2 --tpmstate "dir=$dir/tpmstate" \
    --server type=tcp,port=2321,bindaddr=127.0.0.1 --ctrl type=tcp,port=2322,bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear --pid "file=$dir/swtpm.pid" \
    --log "file=$dir/swtpm.log" -d
  wait_for test -s "$dir/swtpm.pid" || die "swtpm did not start (see $dir/swtpm.log)"

  in_ns dbus-daemon --session --address="unix:path=$dir/dbus.sock" --fork --print-pid \
    > "$dir/dbus.pid" 2> "$dir/dbus.log"
  eval "$(print_env)"
  in_ns tpm2-abrmd --session --allow-root --flush-all --max-transients="$TPM_LAB_TRANSIENTS" \
    --tcti='swtpm:host=127.0.0.1,port=2321' > "$dir/abrmd.log" 2>&1 &
  echo $! > "$dir/abrmd.pid"
  wait_for in_ns tpm2_getcap properties-fixed || die "tpm2-abrmd did not answer (see $dir/abrmd.log)"

  in_ns tpm2_dictionarylockout --setup-parameters --max-tries=3 --recovery-time=1000 \
    --lockout-recovery-time=1000 --clear-lockout > /dev/null
  in_ns tpm2_ptool init --path "$dir/store" > "$dir/ptool.log" 2>&1 || die "tpm2_ptool init failed (see $dir/ptool.log)"
  for label in "$TPM_LAB_LABEL" "$TPM_LAB_LABEL2"; do
    in_ns tpm2_ptool addtoken --pid=1 --label="$label" --sopin="$TPM_LAB_SO_PIN" \
      --userpin="$TPM_LAB_PIN" --path "$dir/store" >> "$dir/ptool.log" 2>&1 \
      || die "tpm2_ptool addtoken $label failed (see $dir/ptool.log)"
  done
  say "started in $dir (tokens $TPM_LAB_LABEL, $TPM_LAB_LABEL2; max-transients $TPM_LAB_TRANSIENTS)"
}

stop_pid() {
  if [ -f "$dir/$1.pid" ]; then
    pid=$(cat "$dir/$1.pid")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$1.pid"
  fi
}

stop() {
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  for p in abrmd dbus swtpm holder; do stop_pid "$p"; done
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  env) abs_dir; print_env ;;
  ns) abs_dir; running || die "no lab runs in $dir"; echo "/proc/$(cat "$dir/holder.pid")/ns/net" ;;
  status)
    abs_dir
    if ! running; then echo "tpm-lab: not running in $dir"; exit 1; fi
    for p in holder swtpm dbus abrmd; do
      printf '%s pid %s\n' "$p" "$(cat "$dir/$p.pid" 2>/dev/null || echo '?')"
    done
    lab_exec tpm2_ptool listtokens --pid=1 --path "$dir/store"
    ;;
  run)
    [ $# -gt 0 ] || die "run needs a command"
    if [ "$explicit_dir" -eq 0 ]; then
      if running; then
        abs_dir
      else
        need_tools
        mkdir -p build
        dir=$(mktemp -d "$(pwd)/build/tpm-lab.XXXXXX")
        trap 'stop' EXIT INT TERM
        start
      fi
    else
      abs_dir
      running || die "no lab runs in $dir"
    fi
    set +e
    lab_exec "$@"
    rc=$?
    set -e
    exit $rc
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 64
    ;;
esac
