#!/bin/sh
# tools/demo.sh: what certwiz can do today, end to end, as an operator would do it.
#
# Makes a fresh SoftHSM2 token (the appliance's HSM), boots the firmware as a Linux process with
# its console on a pty, drives it with cwctl, and shuts it down. Run through `make demo`, which
# builds everything first. Leaves build/demo/env for looking at the token afterwards.
set -eu

# The SCEP CA (micromdm scepserver) has no listen-address option and binds every interface. As
# root the demo re-runs itself in a private network namespace that has only `lo`; the firmware's
# slirp network reaches that loopback as 10.0.2.2. Otherwise it runs on this machine's loopback.
if [ "$(id -u)" = 0 ] && [ -z "${CW_DEMO_NETNS:-}" ] && command -v unshare > /dev/null; then
  exec env CW_DEMO_NETNS=1 unshare --net sh "$0" "$@"
fi
if [ -n "${CW_DEMO_NETNS:-}" ]; then
  ip link set lo up
fi

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${CW_BUILD:-$top/build/host}
demo="$top/build/demo"
mkdir -p "$demo"

step() { printf '\n== %s\n' "$*"; }

# make demo TOKEN=tpm: the token is a TPM 2.0 instead (tpm2-pkcs11 on swtpm behind tpm2-abrmd
# --max-transients=3, as /dev/tpmrm0 allows: the lab of tests/lab/tpm-lab.sh; needs root).
kind=${CW_DEMO_TOKEN:-softhsm2}
if [ "$kind" = tpm ]; then
  step "a TPM 2.0 for this demo (swtpm + tpm2-abrmd + tpm2-pkcs11: tests/lab/tpm-lab.sh)"
  [ "$(id -u)" = 0 ] || { echo "demo: TOKEN=tpm needs root (the lab makes a network namespace)" >&2; exit 2; }
  tests/lab/tpm-lab.sh -d "$demo/tpm-lab" stop
  tests/lab/tpm-lab.sh -d "$demo/tpm-lab" start < /dev/null > "$demo/tpm-lab.log" 2>&1 \
    || { cat "$demo/tpm-lab.log" >&2; exit 1; }
  eval "$(tests/lab/tpm-lab.sh -d "$demo/tpm-lab" env)"
  export TSS2_LOG='all+none' # the TSS's own log: the token's refusals certwiz answers (a fresh login) print as ERROR
  TOKEN_LABEL=$TPM_LAB_LABEL
  USER_PIN=$TPM_LAB_PIN
  PKCS11_MODULE=$TPM_LAB_MODULE
  TOKEN_ENV="DBUS_SESSION_BUS_ADDRESS='$DBUS_SESSION_BUS_ADDRESS' TPM2_PKCS11_STORE='$TPM2_PKCS11_STORE' TPM2_PKCS11_TCTI='$TPM2_PKCS11_TCTI'"
  TOKEN_EXPORT="DBUS_SESSION_BUS_ADDRESS TPM2_PKCS11_STORE TPM2_PKCS11_TCTI"
  echo "token $TOKEN_LABEL on a software TPM; tpm2-pkcs11's store: $TPM2_PKCS11_STORE"
else
step "a fresh SoftHSM2 token for this demo (the appliance's HSM)"
rm -rf "$demo/softhsm"
mkdir -p "$demo/softhsm/tokens"
SOFTHSM2_CONF="$demo/softhsm/softhsm2.conf"
export SOFTHSM2_CONF
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$demo/softhsm/tokens" > "$SOFTHSM2_CONF"
TOKEN_LABEL=certwiz-demo
USER_PIN=1234
PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so
softhsm2-util --init-token --free --label "$TOKEN_LABEL" --so-pin 12345678 --pin "$USER_PIN"
TOKEN_ENV="SOFTHSM2_CONF='$SOFTHSM2_CONF'"
TOKEN_EXPORT=SOFTHSM2_CONF
fi
printf '%s\n' "$USER_PIN" > "$demo/pin"
printf '0000\n' > "$demo/wrong-pin"
# A key pair made by another tool, so that `keys` has something to list.
pkcs11-tool --module "$PKCS11_MODULE" --token-label "$TOKEN_LABEL" --login --pin "$USER_PIN" \
  --keypairgen --key-type EC:prime256v1 --label made-by-pkcs11-tool --id 01 > /dev/null
{
  echo "# Shell assignments for looking at the demo's token: . build/demo/env"
  echo "$TOKEN_ENV"
  echo "TOKEN_LABEL='$TOKEN_LABEL'"
  echo "USER_PIN='$USER_PIN'"
  echo "PKCS11_MODULE='$PKCS11_MODULE'"
  echo "CA_CERT='$demo/ca/ca.pem'"
  echo "SCEP_CA_CERT='$demo/scep/depot/ca.pem'"
  echo "export $TOKEN_EXPORT"
} > "$demo/env"

step "boot the firmware with its console on a pseudo-terminal"
"$build/certwiz" --uart pty --pty-link "$demo/console" --module "$PKCS11_MODULE" \
  --token "pkcs11:token=$TOKEN_LABEL" > "$demo/certwiz.out" 2> "$demo/certwiz.err" &
fw=$!
scep_pid=
trap 'kill $fw $scep_pid 2>/dev/null || true; [ "$kind" = tpm ] && tests/lab/tpm-lab.sh -d "$demo/tpm-lab" stop' EXIT
for _ in $(seq 50); do
  [ -L "$demo/console" ] && break
  sleep 0.1
done
[ -L "$demo/console" ] || { echo "demo: the firmware did not start" >&2; cat "$demo/certwiz.err" >&2; exit 1; }
cat "$demo/certwiz.out"

cw() {
  echo "\$ cwctl --port build/demo/console $*"
  "$build/cwctl" --port "$demo/console" "$@"
}

step "what is this device"
cw version
step "its state"
cw status
step "its memory: the static arena and lwIP's pools"
cw mem
step "a mistyped command gets a named error; the console carries on"
cw frobnicate || echo "(cwctl exit status $?)"
step "the token"
cw token
step "a wrong PIN gets the token's own answer"
cw --pin-file build/demo/wrong-pin login || echo "(cwctl exit status $?)"
step "log in (the PIN comes from a file and is never echoed)"
cw --pin-file build/demo/pin login

step "the offline CA: openssl ca with a root it creates under build/demo/ca"
ca="$demo/ca"
rm -rf "$ca"
mkdir -p "$ca/new"
: > "$ca/index.txt"
echo 1000 > "$ca/serial"
openssl req -new -x509 -newkey rsa:3072 -nodes -keyout "$ca/ca.key" -subj "/O=certwiz demo/CN=Demo Offline CA" \
  -days 3650 -sha256 -addext "basicConstraints=critical,CA:true" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$ca/ca.pem" 2>/dev/null
{
  echo "[ ca ]"
  echo "default_ca = demo"
  echo "[ demo ]"
  echo "dir = $ca"
  echo "database = $ca/index.txt"
  echo "serial = $ca/serial"
  echo "new_certs_dir = $ca/new"
  echo "certificate = $ca/ca.pem"
  echo "private_key = $ca/ca.key"
  echo "default_md = sha256"
  echo "policy = anything"
  echo "unique_subject = no"
  echo "copy_extensions = copy"
  echo "[ anything ]"
  echo "countryName = optional"
  echo "stateOrProvinceName = optional"
  echo "localityName = optional"
  echo "organizationName = optional"
  echo "organizationalUnitName = optional"
  echo "commonName = supplied"
  echo "[ server ]"
  echo "basicConstraints = CA:false"
} > "$ca/ca.cnf"
fp=$(openssl x509 -in "$ca/ca.pem" -outform DER | sha256sum | cut -c1-64)
echo "demo CA SHA-256: $fp"

step "the online CA: micromdm scepserver (Debian's scep package), RSA-4096, challenge password"
scep="$demo/scep"
rm -rf "$scep"
mkdir -p "$scep"
if [ -n "${CW_DEMO_NETNS:-}" ]; then
  scep_port=8080
  echo "(in a private network namespace with only lo: nothing outside this demo can reach it)"
else
  scep_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "note: not root, so no private network namespace: scepserver listens on every interface"
  echo "      of this machine (port $scep_port) while the demo runs"
fi
(cd "$scep" && scepserver ca -init -depot "$scep/depot" -organization "certwiz demo" > /dev/null 2>&1)
openssl rand -hex 12 > "$scep/challenge"
scepserver -depot "$scep/depot" -port "$scep_port" -challenge "$(cat "$scep/challenge")" -allowrenew 0 \
  > "$scep/scepserver.log" 2>&1 &
scep_pid=$!
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$scep_port/scep?operation=GetCACaps', timeout=1)" \
    > /dev/null 2>&1 && break
  sleep 0.1
done
scep_fp=$(openssl x509 -in "$scep/depot/ca.pem" -outform DER | sha256sum | cut -c1-64)
echo "SCEP CA SHA-256: $scep_fp"

step "compile the example topology on the PC and load it"
echo "Changes to docs/examples/edge-appliance.json for this lab: both CA profiles pinned to the demo's"
echo "CAs; lab-scep at the demo's scepserver; set default asks for clientAuth only, because"
echo "scepserver issues clientAuth-only certificates and certwiz refuses a certificate whose"
echo "EKU does not cover what the set asks for (a real CA template would give serverAuth too)."
fpc=$(echo "$fp" | tr a-f A-F | sed 's/../&:/g; s/:$//')
scep_fpc=$(echo "$scep_fp" | tr a-f A-F | sed 's/../&:/g; s/:$//')
python3 - "$fpc" "$scep_fpc" "$scep_port" > "$demo/site.json" <<'PYJSON'
import json, sys
doc = json.load(open("docs/examples/edge-appliance.json"))
offline_fp, scep_fp, port = sys.argv[1:4]
for p in doc["caProfiles"]:
    if p["name"] == "public-offline":
        p["caFingerprint"] = offline_fp
    if p["name"] == "lab-scep":
        p["caFingerprint"] = scep_fp
        p["url"] = "http://10.0.2.2:%s/scep" % port
for s in doc["sets"]:
    if s["caProfile"] == "lab-scep":
        s["eku"] = ["clientAuth"]
json.dump(doc, sys.stdout, indent=2)
PYJSON
"$build/cwctl" topology compile "$demo/site.json" -o "$demo/site.der"
cw topology load build/demo/site.der
cw topology show

step "authenticate the SCEP CA (like a router's crypto pki authenticate): the pin must match"
cw ca auth --profile lab-scep
step "enrol every SCEP set online; the challenge comes from a file and is never echoed"
cw --challenge-file build/demo/scep/challenge request --all --online
step "the CA's own record of what it issued"
ls "$scep/depot"

for set in external oauth; do
  step "request set $set offline: a key pair born in the token, a CSR signed there"
  cw request --set "$set" --offline -o "build/demo/$set.csr"
  openssl req -in "$demo/$set.csr" -verify -noout
  step "the CA signs it (openssl ca); the answer is imported with the CA certificate"
  openssl ca -batch -config "$ca/ca.cnf" -extensions server -days 365 -notext \
    -in "$demo/$set.csr" -out "$demo/$set.pem" 2>/dev/null
  cat "$demo/$set.pem" "$ca/ca.pem" > "$demo/$set-bundle.pem"
  cw import --set "$set" "build/demo/$set-bundle.pem"
done

step "renew set default now: key rollover (new key, RenewalReq signed by the current certificate)"
cw keys
cw --challenge-file build/demo/scep/challenge renew --set default
cw keys

step "every role, with its certificate"
cw roles
cw keys
step "what other PKCS#11 tools see: each set's certificate beside its key, same label and ID"
p11tool --provider "$PKCS11_MODULE" --list-all-certs "pkcs11:token=$TOKEN_LABEL" 2>/dev/null | grep -E "Label|ID|Type" || true
step "what it all cost in RAM: the arena's high-water mark and lwIP's pools"
cw mem
cw logout

step "shut down (SIGTERM)"
kill -TERM $fw
wait $fw
kill $scep_pid 2>/dev/null || true
trap - EXIT
cat "$demo/certwiz.err"
echo
if [ "$kind" = tpm ]; then
  tests/lab/tpm-lab.sh -d "$demo/tpm-lab" stop
  echo "demo: done on the TPM token; the TPM lab is stopped (its daemons and store are gone)."
  echo "A device with a real TPM: README, 'certwiz on a TPM 2.0'."
  exit 0
fi
echo "demo: done. The token is in build/demo/softhsm; to look at it:"
echo "  . build/demo/env && pkcs11-tool --module \$PKCS11_MODULE -O --login --pin \$USER_PIN"
echo "  openssl x509 -in \$CA_CERT -noout -subject"
echo "  openssl x509 -in \$SCEP_CA_CERT -noout -subject"
echo "Not built yet: ACME (the EC set stays offline), TLS (see README)."
