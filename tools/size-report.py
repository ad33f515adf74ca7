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
  tests    tests/ objects (the on-target test image)

Linker padding between input sections (*fill*) is counted as "padding".

Link-time optimisation (GCC -flto): the map then names GCC's partitions (*.ltrans.o), not our
objects. Their bytes are attributed from the ELF (MAP without ".map", or --elf) and its DWARF
debug info (the image must be built with -g; readelf reads it):

  - each function and variable symbol goes to the source file that defined it: the compilation
    unit that holds the symbol's abstract origin;
  - within a function, each instruction goes to the source file the line table gives it when
    that file is ours, so code inlined across components counts where it came from, as it would
    have without -flto (the board's reset handler holds certwiz's start-up, inlined);
  - what no symbol covers (merged string literals, switch tables the compiler made) goes to the
    component whose code or data holds its address (a literal-pool word, a pointer in a table;
    the most referencing component wins, a function counting for the component that makes up
    most of it);
  - what nothing attributed refers to is "unattributed".

Objects outside the partitions (newlib, libgcc) are still named by the map. Checked on a build
without -flto by sending every object through this path instead of the map: each component
within 0.3 % of the map's figure, the difference being strings of mbedTLS's OID tables that
nothing refers to, shown as unattributed.

When the ELF is there, the totals are its section headers' sizes, and whatever the rows above do
not account for is "unattributed": the rows always add up to the image.

With --top N it also lists the N largest RAM input sections (where the static RAM goes); from a
partition, one line per variable, named by its section and its source's object. With --files N,
the N objects with the most flash: after -flto each function's bytes count for the objects its
line table names (as the components do), and strings and tables found by reference for their
component as a whole.
"""
import argparse
import bisect
import os
import re
import shutil
import struct
import subprocess
import sys

FLASH_SECTIONS = {".text", ".ARM.exidx", ".rodata"}
DATA_SECTIONS = {".data"}
BSS_SECTIONS = {".bss"}
STACK_SECTIONS = {".stack"}
COMPONENTS = ["certwiz", "mbedTLS", "lwIP", "board", "tests", "libc", "padding", "unattributed"]
UNKNOWN = "unattributed"
ALWAYS_SHOWN = {"certwiz", "mbedTLS", "lwIP", "board", "libc"}

# " .text.foo  0x00000123  0x44 path"  (the name may stand alone on the line before)
INPUT_RE = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
OUTPUT_RE = re.compile(r"^(\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)")
FILL_RE = re.compile(r"^ \*fill\*\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)")
# GCC's link-time partitions: /tmp/ccXXXXXX.ltrans0.ltrans.o (or NAME.ltrans0.ltrans.o)
LTRANS_RE = re.compile(r"\.ltrans\d*\.ltrans\.o$")


def component(path):
    """The component of an input section, by the object (or archive member) the map names."""
    if "libmbedtls.a" in path:
        return "mbedTLS"
    if "liblwip.a" in path:
        return "lwIP"
    if "/obj/firmware/" in path or "/obj/pkcs11/" in path:
        return "certwiz"
    if "/obj/board/" in path:
        return "board"
    if "/obj/tests/" in path:
        return "tests"
    return "libc"


# The top of the tree: sources are compiled by relative path from here.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source_component(src):
    """The component of a source file as the debug info names it (relative to the top)."""
    s = src.replace("\\", "/")
    if s.startswith(ROOT + "/"):
        s = s[len(ROOT) + 1:]
    while s.startswith("./"):
        s = s[2:]
    if s.startswith("third_party/mbedtls/"):
        return "mbedTLS"
    if s.startswith("third_party/lwip/"):
        return "lwIP"
    if s.startswith(("firmware/", "pkcs11/")):
        return "certwiz"
    if s.startswith("board/"):
        return "board"
    if s.startswith("tests/"):
        return "tests"
    if "newlib" in s or "libgcc" in s:
        return "libc"
    return UNKNOWN


def source_object(src):
    """How the map would have named the object of a source file: cw_arena.o, liblwip.a(memp.o)."""
    base = os.path.basename(src)
    obj = (base[:-2] if base.endswith(".c") else base) + ".o"
    comp = source_component(src)
    if comp == "mbedTLS":
        return f"libmbedtls.a({obj})"
    if comp == "lwIP":
        return f"liblwip.a({obj})"
    return obj


def source_component_of_object(obj, fallback):
    """The component of an object name from source_object(), or fallback for one of ours."""
    if obj.startswith("libmbedtls.a("):
        return "mbedTLS"
    if obj.startswith("liblwip.a("):
        return "lwIP"
    return fallback


# ---- the map ------------------------------------------------------------------------------------

def parse(lines):
    """Yields (output section, component, input section name, path, address, size), each byte once.

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
            yield out, comp, name, path, start, end - start


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


# ---- the ELF ------------------------------------------------------------------------------------

class Elf:
    """A 32-bit little-endian ELF (an Arm image): allocated sections, symbols, section bytes."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.raw = f.read()
        raw = self.raw
        if raw[:4] != b"\x7fELF" or raw[4] != 1 or raw[5] != 1:
            raise ValueError(f"{path}: not a 32-bit little-endian ELF file")
        shoff, = struct.unpack_from("<I", raw, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", raw, 0x2E)
        heads = [struct.unpack_from("<IIIIIIIIII", raw, shoff + i * shentsize) for i in range(shnum)]
        strtab = heads[shstrndx]
        # (name, type, flags, addr, offset, size) of each section
        self.sections = [(self._str(strtab[4], h[0]), h[1], h[2], h[3], h[4], h[5]) for h in heads]
        self.symbols = []  # (address, size, type, name): functions and objects with a size
        for h in heads:
            if h[1] != 2:  # SHT_SYMTAB
                continue
            off, size, str_off = h[4], h[5], heads[h[6]][4]
            for i in range(size // 16):
                st_name, value, st_size, info = struct.unpack_from("<IIIB", raw, off + i * 16)
                stype = info & 0xF
                if st_size == 0 or stype not in (1, 2):  # STT_OBJECT, STT_FUNC
                    continue
                if stype == 2:
                    value &= ~1  # the Thumb bit
                self.symbols.append((value, st_size, "func" if stype == 2 else "object",
                                     self._str(str_off, st_name)))

    def _str(self, table_off, index):
        end = self.raw.index(b"\0", table_off + index)
        return self.raw[table_off + index:end].decode("utf-8", "replace")

    def bytes_at(self, addr, size):
        """The initial bytes of [addr, addr + size), or None where the file holds none."""
        for _name, typ, flags, start, off, length in self.sections:
            if flags & 2 and typ != 8 and start <= addr and addr + size <= start + length:
                return self.raw[off + addr - start:off + addr - start + size]
        return None

    def section_size(self, name):
        return sum(s[5] for s in self.sections if s[0] == name)

    def words(self):
        """Every aligned 32-bit word of the image's initialised sections: (value, address)."""
        for _name, typ, flags, addr, off, size in self.sections:
            if not flags & 2 or typ == 8:  # SHF_ALLOC; SHT_NOBITS has no bytes
                continue
            start = (4 - addr % 4) % 4
            for i in range(start, size - 3, 4):
                yield struct.unpack_from("<I", self.raw, off + i)[0], addr + i


def readelf_tool():
    for t in (os.environ.get("READELF"), "readelf", "arm-none-eabi-readelf"):
        if t and shutil.which(t):
            return t
    raise SystemExit("size-report.py: a link-time optimised image needs readelf (binutils) for "
                     "its debug info")


DIE_RE = re.compile(r"^ <(\d+)><([0-9a-f]+)>: Abbrev Number: \d+ \((DW_TAG_\w+)\)")
ATTR_RE = re.compile(r"^\s+<[0-9a-f]+>\s+(DW_AT_\w+)\s*: (.*)$")
CU_RE = re.compile(r"^\s+Compilation Unit @ offset (?:0x)?([0-9a-f]+):")
REF_RE = re.compile(r"<(?:0x)?([0-9a-f]+)>")
ADDR_LOC_RE = re.compile(r"\(exprloc\) 5 byte block: .*\(DW_OP_addr: ([0-9a-f]+)\)\s*$")


def dwarf_sources(elf_path):
    """{address: [(name, source file)]} of every function and variable the debug info places.

    Under -flto the concrete DIEs live in artificial partition units and point (abstract_origin,
    specification) at the original compilation unit's DIEs: the source is that unit's name. Code
    and data the linker discarded keep DIEs at address 0, hence a list and the names.
    """
    r = subprocess.run([readelf_tool(), "--debug-dump=info", "--wide", elf_path],
                       capture_output=True, text=True, errors="replace")
    if r.returncode != 0:
        raise SystemExit(f"size-report.py: readelf failed on {elf_path}: {r.stderr.strip()}")
    cu_offsets, cu_names = [], []
    origin = {}   # DIE offset -> the DIE it refers to
    names = {}    # DIE offset -> DW_AT_name, for functions and variables
    placed = []   # (address, DIE offset)
    die = tag = None
    for line in r.stdout.splitlines():
        m = DIE_RE.match(line)
        if m:
            die, tag = int(m.group(2), 16), m.group(3)
            continue
        m = CU_RE.match(line)
        if m:
            cu_offsets.append(int(m.group(1), 16))
            cu_names.append("<artificial>")
            die = tag = None
            continue
        m = ATTR_RE.match(line)
        if not m or die is None:
            continue
        attr, val = m.group(1), m.group(2)
        if attr == "DW_AT_name":
            name = val.rsplit("): ", 1)[-1].strip()
            if tag in ("DW_TAG_compile_unit", "DW_TAG_partial_unit"):
                cu_names[-1] = name
            elif tag in ("DW_TAG_subprogram", "DW_TAG_variable"):
                names[die] = name
        elif attr in ("DW_AT_abstract_origin", "DW_AT_specification"):
            ref = REF_RE.search(val)
            if ref:
                origin[die] = int(ref.group(1), 16)
        elif attr == "DW_AT_low_pc" and tag == "DW_TAG_subprogram":
            placed.append((int(val.split()[-1], 16), die))
        elif attr == "DW_AT_location" and tag == "DW_TAG_variable":
            a = ADDR_LOC_RE.search(val)
            if a:
                placed.append((int(a.group(1), 16), die))

    def follow(off, want):
        """want(off) along the origin chain: the first answer that is not None."""
        for _ in range(8):
            got = want(off)
            if got is not None or off not in origin:
                return got
            off = origin[off]
        return None

    if not cu_offsets:
        raise SystemExit(f"size-report.py: {elf_path} has no debug info: a link-time optimised "
                         f"image is attributed through it (build with -g)")

    def unit_name(off):
        name = cu_names[bisect.bisect_right(cu_offsets, off) - 1]
        return None if name == "<artificial>" else name

    out = {}
    for addr, off in placed:
        src = follow(off, unit_name)
        if src:
            out.setdefault(addr, []).append((follow(off, names.get), src))
    return out


def symbol_source(sources, addr, symbol):
    """The source of a symbol: of the DIEs at its address, the one of its name (GCC's clones and
    local statics add suffixes: cmd_net.lto_priv.0, hash.constprop.0, text.1)."""
    found = sources.get(addr, [])
    base = symbol.split(".")[0]
    for name, src in found:
        if name == base:
            return src
    return found[0][1] if len(found) == 1 else None


def line_ranges(elf_path, functions):
    """[(start, end, source file)] of every row of the line table, sorted by address.

    Code the linker discarded keeps its rows, at address 0 on: only sequences that start where a
    function of the image starts (functions: a set of addresses) are read.
    """
    r = subprocess.run([readelf_tool(), "--debug-dump=decodedline", "--wide", elf_path],
                       capture_output=True, text=True, errors="replace")
    if r.returncode != 0:
        raise SystemExit(f"size-report.py: readelf failed on {elf_path}: {r.stderr.strip()}")
    rows = []  # (address, file, end of sequence)
    current = None
    for line in r.stdout.splitlines():
        if line.startswith("CU: "):
            current = line[4:].rstrip(":")
            continue
        parts = line.split()
        if len(parts) == 1 and line.endswith(":"):
            current = line[:-1]  # the rows below come from this file
            continue
        if len(parts) >= 3 and parts[2].startswith("0x") and (parts[1].isdigit() or parts[1] == "-"):
            rows.append((int(parts[2], 16), current, parts[1] == "-"))
    out = []
    live = None  # whether the current sequence is kept code; None before its first row
    for (addr, src, last), nxt in zip(rows, rows[1:] + [(None, None, True)]):
        if live is None:
            live = addr in functions
        if last:
            live = None
        elif live and nxt[0] is not None and nxt[0] > addr:
            out.append((addr, nxt[0], src))
    out.sort()
    return out


# ---- attribution -------------------------------------------------------------------------------

STRINGS_RE = re.compile(r"\.str\d+\.\d+$")  # .rodata.str1.1, .rodata.<function>.str1.4


class Piece:
    """A range of the image with the component it is counted for.

    kind: section (named by the map), func or object (a symbol of a partition), strings or gap
    (what a partition's symbols leave). parts: a function's bytes per component (split_by_lines).
    """
    __slots__ = ("out", "addr", "size", "comp", "name", "obj", "kind", "parts", "objs")

    def __init__(self, out, addr, size, comp, name, obj, kind="section"):
        self.out, self.addr, self.size, self.comp = out, addr, size, comp
        self.name, self.obj, self.kind = name, obj, kind
        self.parts = {comp: size}
        self.objs = None  # a function's bytes per object (split_by_lines); else all of obj's

    def main_component(self):
        """The component most of its bytes are counted for."""
        return max(COMPONENTS, key=lambda c: (self.parts.get(c, 0), -COMPONENTS.index(c)))


def split_partitions(pieces, elf, sources):
    """Replaces every piece from a link-time partition by its symbols and what they leave."""
    syms = sorted(elf.symbols, key=lambda s: (s[0], -s[1]))  # of aliases, the longest first
    starts = [s[0] for s in syms]
    result = []
    for p in pieces:
        if not LTRANS_RE.search(p.obj):
            result.append(p)
            continue
        gap = "strings" if STRINGS_RE.search(p.name) else "gap"
        end = p.addr + p.size
        pos = p.addr
        for addr, size, typ, name in syms[bisect.bisect_left(starts, p.addr):]:
            if addr >= end:
                break
            if addr < pos:
                continue  # an alias of a symbol already counted
            if addr > pos:
                result.append(Piece(p.out, pos, addr - pos, UNKNOWN, p.name, "?", gap))
            size = min(size, end - addr)
            src = symbol_source(sources, addr, name)
            whole = addr == p.addr and size == p.size
            result.append(Piece(p.out, addr, size, source_component(src) if src else UNKNOWN,
                                p.name if whole else name, source_object(src) if src else "?", typ))
            pos = addr + size
        if pos < end:
            result.append(Piece(p.out, pos, end - pos, UNKNOWN, p.name, "?", gap))
    return result


def split_strings(pieces, elf):
    """Cuts unattributed string sections at their NULs: one piece per string."""
    result = []
    for p in pieces:
        data = elf.bytes_at(p.addr, p.size) if p.kind == "strings" else None
        if data is None:
            result.append(p)
            continue
        start = 0
        while start < len(data):
            nul = data.find(b"\0", start)
            stop = len(data) if nul < 0 else nul + 1
            result.append(Piece(p.out, p.addr + start, stop - start, UNKNOWN, p.name, "?", "strings"))
            start = stop
    return result


def attribute_by_reference(pieces, elf):
    """Gives each unattributed piece to the component whose bytes hold its address.

    A literal-pool word counts for the component that makes up most of its function (after
    -flto the board's reset handler is mostly certwiz's start-up, inlined, and so are its strings).
    """
    ordered = sorted(pieces, key=lambda p: p.addr)
    starts = [p.addr for p in ordered]

    def piece_at(a):
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and a < ordered[i].addr + ordered[i].size:
            return ordered[i]
        return None

    refs = {}  # id of an unattributed piece -> (piece, [addresses of words that point into it])
    for value, where in elf.words():
        for v in (value, value & ~1) if value & 1 else (value,):
            target = piece_at(v)
            if target is not None and target.comp == UNKNOWN:
                refs.setdefault(id(target), (target, []))[1].append(where)
                break
    for _ in range(4):  # a table without a symbol may itself hold the addresses of strings
        changed = False
        for p, wheres in refs.values():
            if p.comp != UNKNOWN:
                continue
            votes = {}
            for w in wheres:
                holder = piece_at(w)
                comp = holder.main_component() if holder is not None else UNKNOWN
                if comp not in (UNKNOWN, "padding"):
                    votes[comp] = votes.get(comp, 0) + 1
            if votes:
                p.comp = max(COMPONENTS, key=lambda c: (votes.get(c, 0), -COMPONENTS.index(c)))
                p.parts = {p.comp: p.size}
                changed = True
        if not changed:
            break


def split_by_lines(pieces, lines):
    """Counts the bytes of each function by the source file its line table gives them (parts).

    After -flto a function holds the code of what was inlined into it (the board's reset handler
    holds certwiz's start-up, certwiz's functions hold mbedTLS's small helpers): each instruction
    is counted for the file it came from, when that file is ours; the rest (literal pools after
    the last row, code from the toolchain's headers) stays with the function's own source.
    """
    starts = [r[0] for r in lines]
    for p in pieces:
        if p.kind != "func":
            continue
        end = p.addr + p.size
        parts = {}
        objs = {}
        i = max(bisect.bisect_right(starts, p.addr) - 1, 0)
        while i < len(lines) and lines[i][0] < end:
            lo, hi = max(lines[i][0], p.addr), min(lines[i][1], end)
            if hi > lo:
                comp = source_component(lines[i][2])
                obj = source_object(lines[i][2])
                if comp in (UNKNOWN, "libc"):
                    comp, obj = p.comp, p.obj
                parts[comp] = parts.get(comp, 0) + hi - lo
                objs[obj] = objs.get(obj, 0) + hi - lo
            i += 1
        parts[p.comp] = parts.get(p.comp, 0) + p.size - sum(parts.values())
        objs[p.obj] = objs.get(p.obj, 0) + p.size - sum(objs.values())
        p.parts = {c: n for c, n in parts.items() if n}
        p.objs = {o: n for o, n in objs.items() if n}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("map")
    ap.add_argument("--elf", help="the image (default: MAP without .map); needed after -flto")
    ap.add_argument("--top", type=int, default=0, help="list the N largest RAM input sections")
    ap.add_argument("--files", type=int, default=0, help="list the N objects with the most flash")
    args = ap.parse_args()

    elf_path = args.elf or (args.map[:-4] if args.map.endswith(".map") else None)
    elf = None
    if elf_path and os.path.exists(elf_path):
        elf = Elf(elf_path)

    pieces = []
    with open(args.map, encoding="utf-8", errors="replace") as f:
        for out, comp, name, path, addr, size in parse(f):
            if size == 0 or out not in FLASH_SECTIONS | DATA_SECTIONS | BSS_SECTIONS:
                continue
            pieces.append(Piece(out, addr, size, comp, name, path))
    lto = any(LTRANS_RE.search(p.obj) for p in pieces)
    if lto:
        if elf is None:
            raise SystemExit(f"size-report.py: {args.map} is from a link-time optimised link: "
                             f"the ELF is needed too (--elf)")
        pieces = split_strings(split_partitions(pieces, elf, dwarf_sources(elf.path)), elf)
        functions = {a for a, _s, t, _n in elf.symbols if t == "func"}
        split_by_lines(pieces, line_ranges(elf.path, functions))
        attribute_by_reference(pieces, elf)

    text = {c: 0 for c in COMPONENTS}
    data = {c: 0 for c in COMPONENTS}
    bss = {c: 0 for c in COMPONENTS}
    stack = 0
    ram_items = []
    flash_objs = {}  # (component, object) -> flash bytes
    for p in pieces:
        table = text if p.out in FLASH_SECTIONS else data if p.out in DATA_SECTIONS else bss
        for comp, n in p.parts.items():
            table[comp] += n
        if table is not bss:
            if p.objs is not None:
                for obj, n in p.objs.items():
                    key = (source_component_of_object(obj, p.comp), obj)
                    flash_objs[key] = flash_objs.get(key, 0) + n
            else:
                # strings and tables found by reference are named by their component only
                key = (p.comp, p.obj if p.obj != "?" else f"({p.comp}: strings, tables)")
                flash_objs[key] = flash_objs.get(key, 0) + p.size
        if table is not text:
            ram_items.append((p.size, p.comp, p.name, p.obj))
    # The stack is reserved by the linker script itself (no input section): its output size.
    with open(args.map, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = OUTPUT_RE.match(line)
            if m and m.group(1) in STACK_SECTIONS:
                stack += int(m.group(3), 16)
    if elf is not None:
        # The image's own totals; what the rows miss (alignment at a section's end) is shown.
        for table, names in ((text, FLASH_SECTIONS), (data, DATA_SECTIONS), (bss, BSS_SECTIONS)):
            whole = sum(elf.section_size(n) for n in names)
            table[UNKNOWN] += whole - sum(table.values())

    def row(name, t, d, b):
        print(f"{name:<14} {t:>9} {d:>7} {b:>9} {t + d:>10} {d + b:>10}")

    print(f"{'component':<14} {'text':>9} {'data':>7} {'bss':>9} {'flash':>10} {'static RAM':>10}")
    print("-" * 64)
    for c in COMPONENTS:
        # the parts of every image show also when empty (the board's image links nothing of
        # newlib since it has its own memcpy and memset: libc 0); the others only when present
        if text[c] or data[c] or bss[c] or c in ALWAYS_SHOWN:
            row(c, text[c], data[c], bss[c])
    print("-" * 64)
    row("total", sum(text.values()), sum(data.values()), sum(bss.values()))
    print(f"main stack (reserved, .stack): {stack} bytes; static RAM + stack: "
          f"{sum(data.values()) + sum(bss.values()) + stack} bytes")
    print("flash = text + data (initial values); static RAM = data + bss; sizes in bytes")
    if lto:
        print("link-time optimised: components from the debug info (tools/size-report.py says how)")
    if args.top > 0:
        print()
        print(f"largest {args.top} RAM input sections:")
        for size, comp, name, path in sorted(ram_items, reverse=True)[: args.top]:
            short = path.split("/")[-1]
            print(f"  {size:>7}  {comp:<8} {name:<32} {short}")
    if args.files > 0:
        print()
        print(f"largest {args.files} objects in flash (text + data):")
        for (comp, obj), size in sorted(flash_objs.items(), key=lambda kv: -kv[1])[: args.files]:
            print(f"  {size:>7}  {comp:<8} {obj.split('/')[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
