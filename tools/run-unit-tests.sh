#!/bin/sh
# tools/run-unit-tests.sh BIN...: run each cmocka test binary, then print one summary line.
# Each binary prints cmocka's own report; a binary that fails or crashes counts as failed.
set -u
# SoftHSM2 keeps allocations alive inside itself after C_Finalize; they are not ours.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tests/unit/lsan.supp}"
pass=0
fail=0
failed=""
for t in "$@"; do
  echo "== $(basename "$t")"
  if "$t"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    failed="$failed $(basename "$t")"
  fi
done
echo "unit test binaries: $pass passed, $fail failed${failed:+ (failed:$failed)}"
[ "$fail" -eq 0 ]
