#!/bin/sh
# tools/demo.sh: what certwiz can do today, end to end, as an operator would do it.
#
# Boots the firmware as a Linux process with its console on a pty, drives it with cwctl, and
# shuts it down. Run through `make demo`, which builds everything first.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${CW_BUILD:-$top/build/host}
demo="$top/build/demo"
mkdir -p "$demo"

step() { printf '\n== %s\n' "$*"; }

step "boot the firmware with its console on a pseudo-terminal"
"$build/certwiz" --uart pty --pty-link "$demo/console" > "$demo/certwiz.out" 2> "$demo/certwiz.err" &
fw=$!
trap 'kill $fw 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  [ -L "$demo/console" ] && break
  sleep 0.1
done
[ -L "$demo/console" ] || { echo "demo: the firmware did not start" >&2; cat "$demo/certwiz.err" >&2; exit 1; }
cat "$demo/certwiz.out"

cw() {
  echo "\$ cwctl --port $demo/console $*"
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

step "shut down (SIGTERM)"
kill -TERM $fw
wait $fw
trap - EXIT
cat "$demo/certwiz.err"
echo
echo "demo: done. Not built yet: the token layer, topology, requests and enrolment (see README)."
