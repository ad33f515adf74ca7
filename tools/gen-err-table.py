#!/usr/bin/env python3
"""gen-err-table.py CW_ERR_H FOREIGN_DEF [CONSOLE_C ...] > cw_err_table.h
   gen-err-table.py --say-rows [CONSOLE_C ...] > cw_say_rows.h

Writes the compressed name and sentence table that firmware/src/base/cw_err.c decodes, and the
console's own lines in the same stream. The Makefile runs it at build time; nobody edits the output.

Sources of truth (both keep each row's value, name and sentence on one line):
  CW_ERR_H     firmware/include/cw/base/cw_err.h, the X-macro CW_ERR_LIST: certwiz's own codes
  FOREIGN_DEF  firmware/src/base/cw_err_foreign.def: PKCS#11, mbedTLS and lwIP codes
  CONSOLE_C    the console's sources (firmware/src/console/*.c): the string literals of each
               cw_console_say(con, "format", ...), CW_CMD_HELP("help line") and
               CW_SAY_LINE("prompt") (cw_console.h), each a string of the stream after the error
               rows (a text used twice is stored once). --say-rows writes cw_say_rows.h, which the
               console's sources include: each call's row and the size of its text, by the
               source's CW_SAY_FILE (its name without .c) and the line the macro's name is on, and
               CW_SAY_MAX, the longest text plus its NUL.

The output, all for cw_err.c alone:
  CW_ERR_TABLE_<RANGE>_FIRST / _COUNT / _PREFIX
                    which rows belong to a range, and the name prefix its rows were stored without
                    ("CKR_", "MBEDTLS_ERR_", "LWIP_ERR_"; "" for the own codes). Within a range the
                    rows are in the order of their values.
  cw_err_values[]   each row's value as a byte, the difference from the row before it in its
                    range (the first row's from 0); 0xFF: the value is in the next two bytes
                    (big-endian)
  cw_err_stream[]   row i's name and sentence as the 2i-th and (2i+1)-th string of a bit stream
                    (most significant bit first), each a sequence of symbols ended by the symbol
                    CW_ERR_TABLE_END; a symbol is written as its canonical Huffman code, whose
                    lengths cw_err_code_counts[] gives (how many symbols have a code of each
                    length, 1 to CW_ERR_TABLE_CODE_MAX; symbols are numbered in code order)
  cw_err_index[]    the bit where string k * 2 * CW_ERR_TABLE_INDEX_STEP starts (uint32_t when the
                    stream is over 65 535 bits)
  CW_ERR_TABLE_SAY_FIRST / _COUNT
                    the console's lines: string SAY_FIRST + row
  cw_err_symbols[]  what each symbol stands for: two fields of CW_ERR_TABLE_SYMBOL_BITS bits
                    (packed, most significant bit first): a character is the pair (itself, the
                    character); any other symbol is a pair of symbols, each of which may be a pair
                    again
  CW_ERR_TABLE_NAME_MAX / _TEXT_MAX
                    the longest decoded name (prefix included) and sentence, plus one for the NUL

The pairs are chosen by byte-pair encoding (replace the most frequent pair of adjacent symbols in
all strings by a new symbol, and repeat); how many pairs is chosen by the size of the whole table.
Then each symbol gets a Huffman code by how often the strings use it. Alternatives measured on
these tables (237 rows, 15 093 bytes of names and sentences with their NULs), table bytes
including the values:
  byte pairs, 173 (every byte no string uses a pair code), values as uint16_t  8 842  (before)
  the same bytes Huffman-coded (a list of 247 symbols), values as uint16_t  ~8 420  (estimated)
  pairs without a byte limit (650, 731 symbols), Huffman-coded, values as
  differences                                                                 7 387  (this script)
The decoder stays small: a bit reader, canonical Huffman's loop over code lengths (as zlib's
puff.c reads codes), and the recursive expansion of a pair. The script runs in a few seconds (the
pair search), only when the error sources change. Finding a row walks the stream from
the nearest index entry, which is quick enough for an error path. On Cortex-M, cw_err.o went from
18 038 to 9 662 bytes with byte pairs, then (decision 44) to the figure docs/decisions.md gives.
With the console's lines (decision 47: 162 formats, help lines and prompts, 6 031 bytes with
their NULs) all strings share one set of pairs: 840 of them then make the table smallest, and
cw_err.o grows by 2 528 bytes on Cortex-M; MAX_PAIRS leaves room above that.
"""
import collections
import heapq
import re
import sys

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


# The console's own lines: the format of each cw_console_say(con, "format", ...) and the text of
# each CW_CMD_HELP("help line") and CW_SAY_LINE("prompt") in the console's sources (cw_console.h).
# The row of a call is keyed by its file and a line of the call: GCC's __LINE__ in a call written
# over several lines is the line its name is on, clang's the line of its closing parenthesis, so
# both are keys (make check builds with both: the fuzz targets with clang).
SAY_RE = re.compile(r"\b(cw_console_say|CW_CMD_HELP|CW_SAY_LINE)\s*\(")
LITERAL_RE = re.compile(r'\s*"([^"\\\n]*)"')


def blank_comments(source):
    """source with comments replaced by spaces (newlines kept, so line numbers stay right)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), source,
                  flags=re.S)


def say_tag(path):
    """The name a console source gives itself in CW_SAY_FILE: its file name without .c."""
    tag = path.rsplit("/", 1)[-1]
    if not tag.endswith(".c") or not re.fullmatch(r"\w+", tag[:-2]):
        fail(path, "a console source is a .c file with a C identifier for a name")
    return tag[:-2]


def call_end(source, i):
    """The index of the parenthesis that closes the call whose arguments start at source[i]
    (comments are blanked already; string and character literals are skipped)."""
    depth = 1
    while i < len(source):
        c = source[i]
        if c in "\"'":
            i += 1
            while i < len(source) and source[i] != c:
                i += 2 if source[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(source)


def read_say(path):
    """[(line, end_line, text)] of the file's cw_console_say, CW_CMD_HELP and CW_SAY_LINE: the
    line the call's name is on and the line of its closing parenthesis."""
    source = blank_comments(open(path, encoding="latin-1").read())
    calls = []
    for m in SAY_RE.finditer(source):
        line = source.count("\n", 0, m.start()) + 1
        where = f"{path}:{line}"
        if calls and calls[-1][0] == line:
            fail(where, "two console lines on one line (a row is keyed by its line)")
        i = m.end()
        if m.group(1) == "cw_console_say":
            # the first argument (the console) ends at the first comma outside parentheses
            depth = 0
            while i < len(source) and not (depth == 0 and source[i] == ","):
                depth += {"(": 1, ")": -1}.get(source[i], 0)
                i += 1
            i += 1
        parts = []
        while True:
            lit = LITERAL_RE.match(source, i)
            if not lit:
                break
            parts.append(lit.group(1))
            i = lit.end()
        if not parts or source[i:].lstrip()[:1] not in (",", ")"):
            fail(where, f"{m.group(1)}'s text is string literals without escapes or quotes")
        text = "".join(parts)
        if not text or not all(0x20 <= ord(ch) < 0x7F for ch in text):
            fail(where, "a console line must be printable ASCII, not empty")
        end_line = source.count("\n", 0, call_end(source, m.end())) + 1
        calls.append((line, end_line, text))
    return calls


def say_rows(paths):
    """The console lines over all files: (distinct formats in order, {(tag, line): row})."""
    texts, where = [], {}
    for path in paths:
        tag = say_tag(path)
        for line, end_line, text in read_say(path):
            if text not in texts:
                texts.append(text)
            for key in {line, end_line}:
                if (tag, key) in where:
                    fail(f"{path}:{key}", "two console lines share this line (a row is keyed by its lines)")
                where[(tag, key)] = texts.index(text)
    return texts, where


def say_header(paths):
    """The ids header the console's sources include (cw_console.h's cw_console_say)."""
    texts, where = say_rows(paths)
    out = [f"/* Generated by tools/gen-err-table.py --say-rows from the console's sources; do not",
           " * edit. cw_console_say's row (and the format's size, checked against the literal) of each",
           " * call, by CW_SAY_FILE and line. */",
           f"#define CW_SAY_MAX {max(len(t) for t in texts) + 1 if texts else 1}", ""]
    for (tag, line), row in sorted(where.items()):
        out.append(f"#define CW_SAY_ROW_{tag}_{line} {row}u")
        out.append(f"#define CW_SAY_SIZE_{tag}_{line} {len(texts[row]) + 1}u")
    return "\n".join(out)


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


# Symbols: END (the end of a string) and the characters are the first; pairs are numbered from
# FIRST_PAIR on while they are made, and renumbered in Huffman code order at the end.
END = 0
FIRST_PAIR = 0x80
# Pairs are made one at a time, and the table's size is measured every PAIR_STEP pairs, up to
# MAX_PAIRS: the smallest is kept.
PAIR_STEP = 10
MAX_PAIRS = 1000
# Longest Huffman code the decoder takes (its loop ends there).
CODE_MAX = 20
INDEX_STEP = 16


def replace_pair(s, pair, code):
    """s with every occurrence of pair, taken left to right without overlaps, replaced by code."""
    out = []
    i = 0
    a, b = pair
    n = len(s)
    while i < n:
        if s[i] == a and i + 1 < n and s[i + 1] == b:
            out.append(code)
            i += 2
        else:
            out.append(s[i])
            i += 1
    return out


def huffman_lengths(counts):
    """Code lengths of a Huffman code for {symbol: count}; ties broken by symbol, so stable."""
    if len(counts) == 1:
        return {next(iter(counts)): 1}
    heap = [(n, i, (sym,)) for i, (sym, n) in enumerate(sorted(counts.items()))]
    heapq.heapify(heap)
    lengths = dict.fromkeys(counts, 0)
    order = len(heap)
    while len(heap) > 1:
        n1, _, s1 = heapq.heappop(heap)
        n2, _, s2 = heapq.heappop(heap)
        for sym in s1 + s2:
            lengths[sym] += 1
        heapq.heappush(heap, (n1 + n2, order, s1 + s2))
        order += 1
    return lengths


def table_bits(strings, symbols):
    """Bits of the stream and of the symbol table for these strings, with that many symbols."""
    counts = collections.Counter()
    for s in strings:
        counts.update(s)
    counts[END] += len(strings)
    lengths = huffman_lengths(counts)
    width = max(1, (symbols - 1).bit_length())
    return sum(counts[k] * lengths[k] for k in counts) + symbols * 2 * width


def pair_encode(plain):
    """Byte-pair encoding of the strings (lists of character codes): returns (strings, pairs),
    pairs[k] being what symbol FIRST_PAIR + k stands for; the number of pairs gives the smallest
    table."""
    strings = [list(s) for s in plain]
    characters = len(set(b for s in plain for b in s)) + 1  # and END
    pairs = []
    best = (table_bits(strings, characters), 0, strings, [])
    while len(pairs) < MAX_PAIRS:
        counts = collections.Counter()
        for s in strings:
            counts.update(zip(s, s[1:]))
        if not counts:
            break
        # The most frequent pair; among equally frequent ones the lowest, so output is stable.
        pair, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
        if count < 2:
            break
        code = FIRST_PAIR + len(pairs)
        pairs.append(pair)
        strings = [replace_pair(s, pair, code) for s in strings]
        if len(pairs) % PAIR_STEP == 0:
            bits = table_bits(strings, characters + len(pairs))
            if bits < best[0]:
                best = (bits, len(pairs), strings, list(pairs))
    return best[2], best[3]


def expand(sym, pairs):
    """What symbol sym stands for, as bytes (before renumbering)."""
    if sym < FIRST_PAIR:
        return bytes([sym])
    a, b = pairs[sym - FIRST_PAIR]
    return expand(a, pairs) + expand(b, pairs)


def depth(sym, pairs):
    """How deep the decoder recurses for sym."""
    if sym < FIRST_PAIR:
        return 0
    return 1 + max(depth(half, pairs) for half in pairs[sym - FIRST_PAIR])


class BitWriter:
    def __init__(self):
        self.bits = []

    def put(self, value, width):
        self.bits += [(value >> (width - 1 - i)) & 1 for i in range(width)]

    def data(self):
        padded = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int("".join(map(str, padded[i:i + 8])), 2) for i in range(0, len(padded), 8))


def c_bytes(data, indent="    "):
    """data as lines of C hex bytes."""
    items = [f"0x{b:02X}," for b in data]
    return [indent + " ".join(items[i:i + 16]) for i in range(0, len(items), 16)]


def encode_values(values):
    """A range's values (ascending) as differences, 0xFF and two bytes where one does not fit."""
    out = bytearray()
    prev = 0
    for v in values:
        if 0 <= v - prev < 0xFF:
            out.append(v - prev)
        else:
            out += bytes([0xFF, v >> 8, v & 0xFF])
        prev = v
    return bytes(out)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--say-rows":
        print(say_header(sys.argv[2:]))
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n")[0])
    own_path, foreign_path = sys.argv[1], sys.argv[2]
    say_texts, _ = say_rows(sys.argv[3:])
    by_range = {"OWN": read_own(own_path), **read_foreign(foreign_path)}

    rows = []  # (range macro, value, full name, stored name, sentence), in table order
    for macro, prefix in RANGES:
        check_range(macro, prefix, by_range[macro])
        by_range[macro] = sorted(by_range[macro], key=lambda row: row[0])
        rows += [(macro, v, n, n[len(prefix):], t) for v, n, t in by_range[macro]]

    # Strings in table order: row i's name, then its sentence.
    plain = [s.encode("ascii") for _, _, _, name, text in rows for s in (name, text)]
    # then the console's lines, one string each
    plain += [t.encode("ascii") for t in say_texts]
    if any(b == END or b >= FIRST_PAIR for s in plain for b in s):
        fail("strings", "a name or sentence holds a byte that is not printable ASCII")
    encoded, pairs = pair_encode(plain)
    if [b"".join(expand(sym, pairs) for sym in s) for s in encoded] != plain:
        fail("pair_encode", "the encoding does not decode to the input (a bug of this script)")

    # Huffman code lengths, then symbols renumbered in canonical order: by code length, then by
    # their number before.
    counts = collections.Counter()
    for s in encoded:
        counts.update(s)
    counts[END] += len(encoded)
    lengths = huffman_lengths(counts)
    longest = max(lengths.values())
    if longest > CODE_MAX:
        fail("huffman", f"a code of {longest} bits, over the decoder's {CODE_MAX}")
    order = sorted(counts, key=lambda sym: (lengths[sym], sym))
    # then the symbols that only pairs use: they need no code
    order += sorted(set([END] + [b for s in plain for b in s] +
                        [FIRST_PAIR + k for k in range(len(pairs))]) - set(order))
    number = {sym: i for i, sym in enumerate(order)}
    per_length = [0] * (longest + 1)
    for sym in counts:
        per_length[lengths[sym]] += 1
    codes = {}
    code = 0
    for length in range(1, longest + 1):
        for sym in order:
            if lengths.get(sym) == length:
                codes[sym] = code
                code += 1
        code <<= 1

    # What each symbol stands for: (itself, character) or (left, right), in the new numbers.
    width = max(1, (len(order) - 1).bit_length())
    table = BitWriter()
    for sym in order:
        if sym < FIRST_PAIR:
            table.put(number[sym], width)
            table.put(sym, width)
        else:
            a, b = pairs[sym - FIRST_PAIR]
            table.put(number[a], width)
            table.put(number[b], width)

    stream = BitWriter()
    index = []
    for i, s in enumerate(encoded):
        if i % (2 * INDEX_STEP) == 0:
            index.append(len(stream.bits))
        for sym in s + [END]:
            stream.put(codes[sym], lengths[sym])
    index_type = "uint16_t" if len(stream.bits) <= 0xFFFF else "uint32_t"

    values = b""
    for macro, _ in RANGES:
        values += encode_values([v for m, v, *_ in rows if m == macro])

    deepest = max(depth(sym, pairs) for s in encoded for sym in s)
    out = [
        f"/* Generated by tools/gen-err-table.py from {own_path} and {foreign_path}; do not edit.",
        " * Included by firmware/src/base/cw_err.c only; the format is described in the script. */",
        "#include <stdint.h>",
        "",
        f"#define CW_ERR_TABLE_ROWS {len(rows)}",
        f"#define CW_ERR_TABLE_NAME_MAX {max(len(r[2]) for r in rows) + 1}",
        f"#define CW_ERR_TABLE_TEXT_MAX {max(len(r[4]) for r in rows) + 1}",
        f"/* {len(pairs)} pairs, {len(order)} symbols; the decoder recurses at most {deepest} deep */",
        f"#define CW_ERR_TABLE_END {number[END]}",
        f"#define CW_ERR_TABLE_SYMBOL_BITS {width}",
        f"#define CW_ERR_TABLE_CODE_MAX {longest}",
        f"#define CW_ERR_TABLE_INDEX_STEP {INDEX_STEP}",
        f"#define CW_ERR_TABLE_SAY_FIRST {2 * len(rows)} /* the console's lines: strings from here on */",
        f"#define CW_ERR_TABLE_SAY_COUNT {len(say_texts)}",
        "",
    ]
    first = 0
    for macro, prefix in RANGES:
        count = len(by_range[macro])
        out += [f"#define CW_ERR_TABLE_{macro}_FIRST {first}",
                f"#define CW_ERR_TABLE_{macro}_COUNT {count}",
                f'#define CW_ERR_TABLE_{macro}_PREFIX "{prefix}"']
        first += count

    out += ["", f"static const uint8_t cw_err_values[{len(values)}] = {{"] + c_bytes(values) + ["};", ""]
    out += [f"static const uint16_t cw_err_code_counts[{longest + 1}] = {{",
            "    " + ", ".join(str(n) for n in per_length), "};", ""]
    out += [f"static const {index_type} cw_err_index[{len(index)}] = {{",
            "    " + ", ".join(str(n) for n in index), "};", ""]
    data = table.data()
    out += [f"static const uint8_t cw_err_symbols[{len(data)}] = {{"] + c_bytes(data) + ["};", ""]
    data = stream.data()
    out += [f"static const uint8_t cw_err_stream[{len(data)}] = {{"] + c_bytes(data) + ["};"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
