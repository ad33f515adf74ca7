#!/usr/bin/env python3
"""tools/size-report.py MAP: flash and RAM of a GNU ld image, whole and per component.

Reads the "Linker script and memory map" part of a GNU ld map file (-Wl,-Map=...) and adds up
each input section by the output section it was placed in:

  flash = .text + .rodata + .ARM.exidx + .data (its initial values are stored in flash)
  RAM   = .data + .bss (static RAM) + .stack (the reserved main stack, listed on its own line)

Components are named by the object file an input section comes from:

  certwiz  firmware/ and pkcs11/ objects     mbedTLS  libmbedtls.a
  lwIP     liblwip.a                         board    board/<name>/ objects
  libc     newlib (libc/libg/libm), libgcc, and the toolchain's own objects

Linker padding between input sections (*fill*) and alignment gaps are counted as "padding".
With --top N it also lists the N largest RAM input sections (where the static RAM goes).
"""
import argparse
import re
import sys

FLASH_SECTIONS = {".text", ".ARM.exidx", ".rodata"}
DATA_SECTIONS = {".data"}
BSS_SECTIONS = {".bss"}
STACK_SECTIONS = {".stack"}
COMPONENTS = ["certwiz", "mbedTLS", "lwIP", "board", "libc", "padding"]

# " .text.foo  0x00000123  0x44 path"  (the name may stand alone on the line before)
INPUT_RE = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
OUTPUT_RE = re.compile(r"^(\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)")
FILL_RE = re.compile(r"^ \*fill\*\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)")


def component(path):
    if "libmbedtls.a" in path:
        return "mbedTLS"
    if "liblwip.a" in path:
        return "lwIP"
    if "/obj/firmware/" in path or "/obj/pkcs11/" in path:
        return "certwiz"
    if "/obj/board/" in path:
        return "board"
    return "libc"


def parse(lines):
    """Yields (output section, component, input section name, path, size), each byte once.

    Mergeable string sections (.rodata.str1.1) are listed with their size before merging and
    overlap once merged; each input section is counted for the addresses no earlier one covers.
    """
    items = []
    for out, comp, name, path, addr, size in parse_raw(lines):
        items.append((out, addr, -size, comp, name, path))
    covered = {}
    for out, addr, neg, comp, name, path in sorted(items, key=lambda i: (str(i[0]), i[1], i[2])):
        end = addr - neg
        start = max(addr, covered.get(out, 0))
        if end > start:
            covered[out] = end
            yield out, comp, name, path, end - start


def parse_raw(lines):
    """Yields (output section, component, input section name, path, address, size)."""
    out = None
    pending_name = None
    started = False
    for line in lines:
        line = line.rstrip("\n")
        if not started:
            started = line.startswith("Linker script and memory map")
            continue
        m = OUTPUT_RE.match(line)
        if m:
            out = m.group(1)
            pending_name = None
            continue
        if line.startswith(".") and " " not in line.strip():
            out = line.strip()  # a long output section name stands alone; its figures follow
            pending_name = None
            continue
        m = FILL_RE.match(line)
        if m:
            yield out, "padding", "*fill*", "", int(m.group(1), 16), int(m.group(2), 16)
            continue
        m = INPUT_RE.match(line)
        if m and not m.group(4).startswith(("0x", "=")) and "load address" not in m.group(4):
            name = m.group(1) or pending_name or "?"
            pending_name = None
            path = m.group(4).strip()
            yield out, component(path), name, path, int(m.group(2), 16), int(m.group(3), 16)
            continue
        s = line.strip()
        if line.startswith(" ") and s and " " not in s and not s.startswith("*"):
            pending_name = s  # the input section's name; its address, size and file follow
        else:
            pending_name = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("map")
    ap.add_argument("--top", type=int, default=0, help="list the N largest RAM input sections")
    args = ap.parse_args()

    text = {c: 0 for c in COMPONENTS}
    data = {c: 0 for c in COMPONENTS}
    bss = {c: 0 for c in COMPONENTS}
    stack = 0
    ram_items = []
    with open(args.map, encoding="utf-8", errors="replace") as f:
        for out, comp, name, path, size in parse(f):
            if size == 0 or out is None:
                continue
            base = out if out in FLASH_SECTIONS | DATA_SECTIONS | BSS_SECTIONS | STACK_SECTIONS else None
            if base in FLASH_SECTIONS:
                text[comp] += size
            elif base in DATA_SECTIONS:
                data[comp] += size
                ram_items.append((size, comp, name, path))
            elif base in BSS_SECTIONS:
                bss[comp] += size
                ram_items.append((size, comp, name, path))
    # The stack is reserved by the linker script itself (no input section): its output size.
    with open(args.map, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = OUTPUT_RE.match(line)
            if m and m.group(1) in STACK_SECTIONS:
                stack += int(m.group(3), 16)

    def row(name, t, d, b):
        print(f"{name:<14} {t:>9} {d:>7} {b:>9} {t + d:>10} {d + b:>10}")

    print(f"{'component':<14} {'text':>9} {'data':>7} {'bss':>9} {'flash':>10} {'static RAM':>10}")
    print("-" * 64)
    for c in COMPONENTS:
        if text[c] or data[c] or bss[c]:
            row(c, text[c], data[c], bss[c])
    print("-" * 64)
    row("total", sum(text.values()), sum(data.values()), sum(bss.values()))
    print(f"main stack (reserved, .stack): {stack} bytes; static RAM + stack: "
          f"{sum(data.values()) + sum(bss.values()) + stack} bytes")
    print("flash = text + data (initial values); static RAM = data + bss; sizes in bytes")
    if args.top > 0:
        print()
        print(f"largest {args.top} RAM input sections:")
        for size, comp, name, path in sorted(ram_items, reverse=True)[: args.top]:
            short = path.split("/")[-1]
            print(f"  {size:>7}  {comp:<8} {name:<32} {short}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
