#!/bin/sh
# tools/run-fuzz.sh <libFuzzer options...> -- BIN...: run each fuzz target over a working copy of
# its seed corpus (tests/fuzz/corpus/<name>/), then print one summary line.
set -u
opts=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts="$opts $1"; shift; done
shift
pass=0
fail=0
failed=""
for bin in "$@"; do
  name=$(basename "$bin" | sed 's/^fuzz_//')
  work="$(dirname "$bin")/corpus-$name"
  mkdir -p "$work"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n "tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
  echo "== fuzz $name ($opts )"
  # shellcheck disable=SC2086
  if "$bin" $opts -print_final_stats=0 -artifact_prefix="$(dirname "$bin")/crash-$name-" "$work" \
       > "$(dirname "$bin")/$name.log" 2>&1; then
    tail -n 1 "$(dirname "$bin")/$name.log"
    pass=$((pass + 1))
  else
    tail -n 40 "$(dirname "$bin")/$name.log"
    fail=$((fail + 1))
    failed="$failed $name"
  fi
done
echo "fuzz targets: $pass passed, $fail failed${failed:+ (failed:$failed)}"
[ "$fail" -eq 0 ]
