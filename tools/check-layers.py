#!/usr/bin/env python3
"""check-layers.py: the firmware's includes run one way (docs/architecture.md).

Every `#include "..."` in firmware/ and pkcs11/ is checked against the layer rules below, and the
include graph between certwiz's own files must have no cycle. Prints one line per broken rule,
naming the file, what it includes and what its layer may include; exits 1 if any.

    tools/check-layers.py [ROOT]      (ROOT defaults to the repository holding this script)

The build runs it (make: $(BUILD)/layers.ok) before it links the firmware.
"""
import re
import sys
from pathlib import Path

# A layer may include the layers it names (and itself). Read upwards: base is at the bottom.
MAY_INCLUDE = {
    "base": set(),
    "pkcs11": {"base"},
    "mbedtls_alt": {"base"},
    "codec": {"base", "pkcs11"},
    "net": {"base", "codec"},
    "pki": {"base", "pkcs11", "codec"},
    "scep": {"base", "pkcs11", "codec", "net", "pki"},
    "core": {"base", "pkcs11", "codec", "net", "pki", "scep"},
    "console": {"base", "pkcs11", "codec", "net", "pki", "core"},
    "top": {"base", "pkcs11", "codec", "net", "pki", "scep", "core", "console"},
}
# The integrator's headers at the top of firmware/include/cw/: cw_roles.h is the core's face
# (core/cw_roles.c answers it); cw.h composes everything (cw_firmware.c).
API_HEADERS = {"cw_roles.h": "core", "cw.h": "top"}
# Layers that may use the board's interface (hal/): the ones that keep time, talk to the network
# or the token, or run the loop. Codecs and checks are functions of what they are given.
MAY_USE_HAL = {"base", "net", "scep", "core", "console", "top"}

PKCS11_HEADERS = {"cw_p11.h", "cw_p11_uri.h", "cw_p11_cryptoki.h", "cw_p11_internal.h", "cw_p11_rpc.h"}


def layer_of_path(rel):
    """The layer of a file of ours, by where it lives; None for files outside the layers."""
    parts = rel.split("/")
    if parts[0] == "pkcs11":
        return "pkcs11"
    if parts[:2] == ["firmware", "src"]:
        return parts[2] if len(parts) > 3 else "top"
    if parts[:3] == ["firmware", "include", "cw"]:
        return parts[3] if len(parts) > 4 else API_HEADERS.get(parts[3], "top")
    return None


def target_of_include(name, files):
    """(layer, file) that `#include "name"` means; layer None for headers that are not ours
    (mbedTLS, lwIP, the board's configuration, generated ones)."""
    if name.startswith("cw/"):
        rel = "firmware/include/" + name
        return layer_of_path(rel), rel
    if name.startswith("hal_"):
        return "hal", "hal/" + name
    base = name.split("/")[-1]
    if base in PKCS11_HEADERS:
        for rel in files:
            if rel.startswith("pkcs11/") and rel.endswith("/" + base):
                return "pkcs11", rel
        return "pkcs11", "pkcs11/" + base
    return None, None


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    files = sorted(str(p.relative_to(root)) for d in ("firmware", "pkcs11")
                   for p in (root / d).rglob("*") if p.suffix in (".c", ".h"))
    problems = []
    graph = {}
    for rel in files:
        layer = layer_of_path(rel)
        if layer is None:
            continue
        graph.setdefault(rel, set())
        text = (root / rel).read_text(errors="replace")
        for m in re.finditer(r'^\s*#\s*include\s+"([^"]+)"', text, re.M):
            name = m.group(1)
            target, target_file = target_of_include(name, files)
            if target is None:
                continue
            if target == "hal":
                if layer not in MAY_USE_HAL:
                    problems.append(f"{rel} includes {name}: the {layer} layer never touches the board "
                                    f"(hal/ is for {', '.join(sorted(MAY_USE_HAL))})")
                continue
            graph[rel].add(target_file)
            if target != layer and target not in MAY_INCLUDE[layer]:
                allowed = ", ".join(sorted(MAY_INCLUDE[layer])) or "nothing else"
                problems.append(f"{rel} includes {name}: the {layer} layer may include {allowed}")

    # no cycle between files (include guards would hide one until a type is needed both ways)
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append("include cycle: " + " -> ".join(cycle))
            elif nxt in graph and state.get(nxt) is None:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)

    for p in problems:
        print(f"layer check: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"layer check: {len(graph)} files, includes run one way, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
