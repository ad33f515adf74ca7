#!/bin/sh
# tools/check-no-malloc.sh OBJ...: fail if any object file references libc allocation.
#
# certwiz's memory model (DESIGN.md) forbids malloc, calloc, realloc and free in firmware/,
# pkcs11/, hal/ and in mbedTLS and lwIP as we build them. This looks at the undefined symbols
# of each object with nm and names every offender.
set -eu
NM=${NM:-nm}
bad=0
for obj in "$@"; do
  for sym in $($NM -u "$obj" | awk '{print $NF}'); do
    case "$sym" in
      malloc|calloc|realloc|free|malloc@*|calloc@*|realloc@*|free@*)
        echo "no-malloc check: $obj references $sym" >&2
        bad=1 ;;
    esac
  done
done
if [ "$bad" -ne 0 ]; then
  echo "no-malloc check: FAILED: the portable core and its libraries must use the static arena (cw_arena.h) or caller-owned buffers" >&2
  exit 1
fi
echo "no-malloc check: $# objects, none references malloc, calloc, realloc or free"
