#!/usr/bin/env python3
"""gen-err-table.py CW_ERR_H FOREIGN_DEF > cw_err_table.h

Writes the compressed name and sentence table that firmware/src/base/cw_err.c decodes. The Makefile
runs it at build time; nobody edits the output.

Sources of truth (both keep each row's value, name and sentence on one line):
  CW_ERR_H     firmware/include/cw/base/cw_err.h, the X-macro CW_ERR_LIST: certwiz's own codes
  FOREIGN_DEF  firmware/src/base/cw_err_foreign.def: PKCS#11, mbedTLS and lwIP codes

The output, all for cw_err.c alone:
  cw_err_values[]   each row's value (uint16_t), rows of one range next to each other:
                    own codes (OK first), then PKCS#11, mbedTLS, lwIP
  CW_ERR_TABLE_<RANGE>_FIRST / _COUNT / _PREFIX
                    which rows belong to a range, and the name prefix its rows were stored without
                    ("CKR_", "MBEDTLS_ERR_", "LWIP_ERR_"; "" for the own codes)
  cw_err_strings[]  row i's name and sentence as the 2i-th and (2i+1)-th NUL-terminated string
  cw_err_pairs[][2] the pair table: in a string, a printable ASCII byte (0x20..0x7E) that some
                    string uses is that character; any other byte but NUL is a pair code,
                    standing for the two bytes of one row of the table, each of which may be a
                    pair again: codes 0x80..0xFF are rows 0..127, 0x01..0x1F rows 128..158, 0x7F
                    row 159, and the printable characters no string uses (listed in
                    CW_ERR_TABLE_EXTRA_CODES) rows 160 on, in that list's order
  CW_ERR_TABLE_NAME_MAX / _TEXT_MAX
                    the longest decoded name (prefix included) and sentence, plus one for the NUL

The pairs are chosen by byte-pair encoding: replace the most frequent pair of adjacent bytes in
all strings by a new byte, and repeat while that is worth it. Alternatives measured on the tables
as this script was written (226 rows, 14 133 bytes of names and sentences without their prefixes),
table bytes including the 452 of 16-bit values:
  no compression                                      14 585
  dictionary of the 128 most profitable words          9 919
  byte pairs, 128 of them (until 2026-11-25)           8 831
  the 128 most profitable substrings, nested           8 451  (20 s per build in Python)
  byte pairs, 160 (every non-printable byte a pair)   ~8 430  (this script)
  16-bit offsets to each row's strings                  +452  (instead of walking the strings)
Byte pairs give nearly the best size with the smallest decoder (a four-line recursive function)
and a script that runs in under a second; the 32 codes below 0x20 and DEL were added as pair codes
when the Cortex-M image had to fit 128 KiB (their decoder is one comparison longer). On Cortex-M, cw_err.o went from 18 038 to 9 662 bytes.
The printable characters no string uses (15 of them when added, 2026-12-07) became pair codes too
when the Cortex-M image had to fit 136 KiB with the integrator API: 8 317 -> 8 151 table bytes.
"""
import collections
import re
import sys

# Pair codes are every byte the strings themselves do not use, NUL aside (it ends a string), in
# the order cw_err.c's pair_row() numbers them: the bytes outside printable ASCII first, then the
# printable characters no name or sentence contains (set_unused_printable, from the table's
# strings: cw_err_table.h lists them in CW_ERR_TABLE_EXTRA_CODES, and cw_err.c reads such a byte
# as a pair code, not as the character).
BASE_PAIR_CODES = list(range(0x80, 0x100)) + list(range(0x01, 0x20)) + [0x7F]
PAIR_CODES = list(BASE_PAIR_CODES)
EXTRA_CODES = []
MAX_PAIRS = len(PAIR_CODES)


def set_unused_printable(strings):
    """Adds the printable characters that no string uses to the pair codes."""
    global PAIR_CODES, EXTRA_CODES, MAX_PAIRS
    used = set(b for s in strings for b in s)
    # '"', '\\' and '?' stay characters: the C literal would escape them, and nothing is won
    EXTRA_CODES = [b for b in range(0x20, 0x7F) if b not in used and chr(b) not in '"\\?']
    PAIR_CODES = BASE_PAIR_CODES + EXTRA_CODES
    MAX_PAIRS = len(PAIR_CODES)


def is_literal(b):
    return 0x20 <= b < 0x7F and b not in EXTRA_CODES


def pair_row(b):
    return PAIR_CODES.index(b)


# The ranges in the order of their rows. The macro is the one a row of FOREIGN_DEF starts with.
RANGES = [
    # (macro, prefix every name of the range has; stored without it)
    ("OWN", ""),
    ("P11", "CKR_"),
    ("MBEDTLS", "MBEDTLS_ERR_"),
    ("LWIP", "LWIP_ERR_"),
]

# CW_OK is declared on its own in cw_err.h's enum, not in CW_ERR_LIST; its row is this.
OK_ROW = (0, "OK", "No error.")

# One row: MACRO(NAME, value, "sentence"), maybe followed by the backslash of a macro's line.
# A sentence is plain text: no escapes, so no quotes or backslashes in it.
ROW_RE = re.compile(r'^\s*(\w+)\(\s*(\w+),\s*(0x[0-9A-Fa-f]+|\d+),\s*"([^"\\]*)"\)\s*\\?\s*$')


def fail(where, message):
    sys.exit(f"gen-err-table.py: {where}: {message}")


def parse_row(line, where):
    m = ROW_RE.match(line)
    if not m:
        fail(where, f"not a row of the form MACRO(NAME, value, \"sentence\"): {line.strip()}")
    macro, name, value, text = m.groups()
    if not all(0x20 <= ord(ch) < 0x7F for ch in text):
        fail(where, "a sentence must be printable ASCII")
    return macro, int(value, 0), name, text


def read_own(path):
    """The rows of the X-macro CW_ERR_LIST: every line from its #define to the first line that
    does not end in a backslash; each X(...) line is a row, comment lines are skipped."""
    lines = open(path, encoding="latin-1").read().split("\n")
    start = next((i for i, l in enumerate(lines) if l.startswith("#define CW_ERR_LIST(X)")), None)
    if start is None:
        fail(path, "no #define CW_ERR_LIST(X)")
    rows = [OK_ROW]
    i = start
    while lines[i].rstrip().endswith("\\"):
        i += 1
        line = lines[i]
        body = line.rstrip().rstrip("\\").strip()
        if body == "" or (body.startswith("/*") and body.endswith("*/")):
            continue
        macro, value, name, text = parse_row(line, f"{path}:{i + 1}")
        if macro != "X":
            fail(f"{path}:{i + 1}", "a row of CW_ERR_LIST starts with X(")
        rows.append((value, name, text))
    return rows


def read_foreign(path):
    """The rows of FOREIGN_DEF by range macro; comments are dropped, every other line is a row."""
    source = open(path, encoding="latin-1").read()
    # Blank out comments but keep their newlines, so that line numbers stay right.
    source = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), source, flags=re.S)
    rows = {macro: [] for macro, _ in RANGES[1:]}
    for number, line in enumerate(source.split("\n"), 1):
        if line.strip() == "":
            continue
        macro, value, name, text = parse_row(line, f"{path}:{number}")
        if macro not in rows:
            fail(f"{path}:{number}", f"unknown range {macro}; the ranges are {', '.join(rows)}")
        rows[macro].append((value, name, text))
    return rows


def check_range(macro, prefix, rows):
    """Values and names of a range are unique, values fit 16 bits, names carry the prefix."""
    for kind, column in (("value", 0), ("name", 1)):
        seen = collections.Counter(row[column] for row in rows)
        twice = [key for key, count in seen.items() if count > 1]
        if twice:
            fail(macro, f"{kind} listed twice: {twice[0]}")
    for value, name, _ in rows:
        if not 0 <= value <= 0xFFFF:
            fail(macro, f"{name}: value {value:#x} does not fit the table's 16 bits")
        if not name.startswith(prefix) or name == prefix:
            fail(macro, f"{name}: a name of this range starts with {prefix}")


def pair_encode(strings):
    """Byte-pair encoding of a list of byte strings: returns (encoded strings, pairs)."""
    pairs = []
    while len(pairs) < MAX_PAIRS:
        counts = collections.Counter()
        for s in strings:
            counts.update(zip(s, s[1:]))
        if not counts:
            break
        # The most frequent pair; among equally frequent ones the lowest, so output is stable.
        pair, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
        # A pair costs its 2 bytes in the table and saves 1 byte per use (a little less where
        # uses overlap, as in "aaa"): only worth it from 3 uses.
        if count < 3:
            break
        code = bytes([PAIR_CODES[len(pairs)]])
        pairs.append(pair)
        # bytes.replace works left to right without overlaps, just as the pair is meant.
        strings = [s.replace(bytes(pair), code) for s in strings]
    return strings, pairs


def expand(data, pairs):
    """The decoder of cw_err.c, in Python: used to check the encoding before writing it."""
    out = bytearray()
    for b in data:
        out += bytes([b]) if is_literal(b) else expand(pairs[pair_row(b)], pairs)
    return bytes(out)


def depth(b, pairs):
    """How deep the decoder recurses for byte b."""
    if is_literal(b):
        return 0
    return 1 + max(depth(half, pairs) for half in pairs[pair_row(b)])


def c_string(data):
    """A C string literal of data; every byte outside printable ASCII, and the characters that
    would need an escape or could start a trigraph (" \\ ?), as a three-digit octal escape."""
    return '"' + "".join(chr(b) if 0x20 <= b < 0x7F and chr(b) not in '"\\?' else f"\\{b:03o}"
                         for b in data) + '"'


def c_comment(text):
    """text made safe inside a C comment: no comment delimiters, no trigraphs."""
    return text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n")[0])
    own_path, foreign_path = sys.argv[1], sys.argv[2]
    by_range = {"OWN": read_own(own_path), **read_foreign(foreign_path)}

    rows = []  # (range macro, value, full name, stored name, sentence), in table order
    for macro, prefix in RANGES:
        check_range(macro, prefix, by_range[macro])
        rows += [(macro, v, n, n[len(prefix):], t) for v, n, t in by_range[macro]]

    # Strings in table order: row i's name, then its sentence.
    plain = [s.encode("ascii") for _, _, _, name, text in rows for s in (name, text)]
    set_unused_printable(plain)
    encoded, pairs = pair_encode(plain)
    if [expand(s, pairs) for s in encoded] != plain:
        fail("pair_encode", "the encoding does not decode to the input (a bug of this script)")

    deepest = max(depth(b, pairs) for s in encoded for b in s)
    out = [
        f"/* Generated by tools/gen-err-table.py from {own_path} and {foreign_path}; do not edit.",
        " * Included by firmware/src/base/cw_err.c only; the format is described in the script. */",
        "#include <stdint.h>",
        "",
        f"#define CW_ERR_TABLE_ROWS {len(rows)}",
        f"#define CW_ERR_TABLE_NAME_MAX {max(len(r[2]) for r in rows) + 1}",
        f"#define CW_ERR_TABLE_TEXT_MAX {max(len(r[4]) for r in rows) + 1}",
        f"/* the decoder recurses at most {deepest} deep */",
        "/* printable characters no string uses: pair codes 160.. (cw_err.c's pair_row) */",
        f"#define CW_ERR_TABLE_EXTRA_CODES {c_string(bytes(EXTRA_CODES))}",
        "",
    ]
    first = 0
    for macro, prefix in RANGES:
        count = len(by_range[macro])
        out += [f"#define CW_ERR_TABLE_{macro}_FIRST {first}",
                f"#define CW_ERR_TABLE_{macro}_COUNT {count}",
                f'#define CW_ERR_TABLE_{macro}_PREFIX "{prefix}"']
        first += count

    out += ["", "static const uint16_t cw_err_values[CW_ERR_TABLE_ROWS] = {"]
    for macro, _ in RANGES:
        # As they are written in the sources: own codes in decimal, foreign ones in hex.
        values = [f"{v}," if macro == "OWN" else f"0x{v:X},"
                  for m, v, *_ in rows if m == macro]
        out += [f"    /* {macro} */"] + ["    " + " ".join(values[i:i + 12])
                                         for i in range(0, len(values), 12)]
    out += ["};", ""]

    out += [f"static const uint8_t cw_err_pairs[{len(pairs)}][2] = {{"]
    for k, (a, b) in enumerate(pairs):
        text = c_comment(expand(bytes([PAIR_CODES[k]]), pairs).decode("ascii"))
        out.append(f"    {{0x{a:02X}, 0x{b:02X}}}, /* 0x{PAIR_CODES[k]:02X} \"{text}\" */")
    out += ["};", ""]

    # One line per row; the array's size leaves out the literal's own terminating NUL.
    size = sum(len(s) + 1 for s in encoded)
    out.append(f"static const uint8_t cw_err_strings[{size}] =")
    for i, row in enumerate(rows):
        literal = c_string(encoded[2 * i] + b"\0" + encoded[2 * i + 1] + b"\0")
        out.append(f"    /* {row[2]} */ {literal}")
    out[-1] += ";"
    print("\n".join(out))


if __name__ == "__main__":
    main()
