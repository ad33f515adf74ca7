/*
 * cw_err.c: names and sentences for every code of the cw_err space.
 *
 * Foreign codes keep their own names (CKR_PIN_INCORRECT, MBEDTLS_ERR_ASN1_OUT_OF_DATA, ERR_MEM of
 * lwIP as LWIP_ERR_MEM), so an operator can look them up in the foreign documentation.
 *
 * The rows come from CW_ERR_LIST (cw_err.h) and cw_err_foreign.def. tools/gen-err-table.py packs
 * them at build time into cw_err_table.h, because a table of pointers to plain strings took 18 KB
 * of a Cortex-M image and this takes less than half: each row's value is a byte (its difference
 * from the row before), and its name and sentence are two strings of one bit stream, names without
 * their range's prefix ("CKR_"), frequent pairs of symbols replaced by one symbol (byte-pair
 * encoding), each symbol written as its Huffman code (the script describes the format).
 * A lookup walks the table from the nearest index entry, which is quick enough for an error path;
 * the decoded strings go to static buffers (cw_err.h says how long they stay valid).
 * The console's own lines (cw_console_say's formats, help lines, prompts) are further strings of
 * the same stream, decoded into the caller's buffer by cw_err_say_line (decision 47).
 */
#include "cw/base/cw_err.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cw_err_table.h" /* generated: cw_err_values, _stream, _index, _symbols, _code_counts */

/* One range of codes: where its rows are, and what its codes without a row are called. */
typedef struct range_t {
    size_t first; /* its rows are cw_err_values[first .. first + count - 1] */
    size_t count;
    const char *prefix; /* the table stores the range's names without it */
    const char *unknown_name;
    const char *unknown_text;
} range_t;

static const range_t own_range = {CW_ERR_TABLE_OWN_FIRST, CW_ERR_TABLE_OWN_COUNT,
                                  CW_ERR_TABLE_OWN_PREFIX, "UNKNOWN_ERROR",
                                  "An error code certwiz does not know."};
static const range_t p11_range = {CW_ERR_TABLE_P11_FIRST, CW_ERR_TABLE_P11_COUNT,
                                  CW_ERR_TABLE_P11_PREFIX, "CKR_UNKNOWN",
                                  "The token answered with a code certwiz does not know."};
static const range_t mbedtls_range = {CW_ERR_TABLE_MBEDTLS_FIRST, CW_ERR_TABLE_MBEDTLS_COUNT,
                                      CW_ERR_TABLE_MBEDTLS_PREFIX, "MBEDTLS_ERR",
                                      "The crypto library reported an error."};
static const range_t lwip_range = {CW_ERR_TABLE_LWIP_FIRST, CW_ERR_TABLE_LWIP_COUNT,
                                   CW_ERR_TABLE_LWIP_PREFIX, "LWIP_ERR",
                                   "The network stack reported an error."};

/* n bits of the packed array p from bit `at` on, most significant first. */
static unsigned bits_at(const uint8_t *p, uint32_t at, unsigned n)
{
    unsigned v = 0;
    for (; n > 0; n--, at++) {
        v = (v << 1) | (((unsigned)p[at >> 3] >> (7u - (at & 7u))) & 1u);
    }
    return v;
}

/* The next symbol of the stream at *at (canonical Huffman: the codes of each length follow the
 * shorter ones, numbered in the symbols' order, as zlib's puff.c reads them). */
static unsigned next_symbol(uint32_t *at)
{
    unsigned code = 0;
    unsigned first = 0;
    unsigned index = 0;
    for (unsigned len = 1; len <= CW_ERR_TABLE_CODE_MAX; len++) {
        unsigned count = cw_err_code_counts[len];
        code |= bits_at(cw_err_stream, (*at)++, 1);
        if (code < first + count) {
            return index + (code - first);
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return CW_ERR_TABLE_END; /* not reached: the generator wrote every code */
}

/* The bit where string n starts (row i's name is string 2i, its sentence 2i + 1). */
static uint32_t string_at(size_t n)
{
    uint32_t at = cw_err_index[n / (2u * CW_ERR_TABLE_INDEX_STEP)];
    for (n %= 2u * CW_ERR_TABLE_INDEX_STEP; n > 0;) {
        if (next_symbol(&at) == CW_ERR_TABLE_END) {
            n--;
        }
    }
    return at;
}

/* The row of e, or -1; *range gets e's range. */
static long find(cw_err e, const range_t **range)
{
    long v = (long)e;
    long key = v % CW_ERR_RANGE; /* a foreign code's original value */
    const uint8_t *d = cw_err_values;
    long value = 0;

    switch (v - key) {
    case CW_ERR_P11_BASE:
        *range = &p11_range;
        break;
    case CW_ERR_MBEDTLS_BASE:
        *range = &mbedtls_range;
        break;
    case CW_ERR_LWIP_BASE:
        *range = &lwip_range;
        break;
    default:
        *range = &own_range;
        key = v;
        break;
    }
    /* each row's value is the one before it in its range plus a byte, or two bytes after 0xFF */
    for (size_t i = 0; i < (*range)->first + (*range)->count; i++) {
        if (i == (*range)->first) {
            value = 0;
        }
        if (*d == 0xFFu) {
            value = (long)((unsigned)d[1] << 8 | d[2]);
            d += 3;
        } else {
            value += *d++;
        }
        if (i >= (*range)->first && value == key) {
            return (long)i;
        }
    }
    return -1;
}

/* Appends what symbol sym stands for at *out: a character, or a pair of symbols, each expanded in
 * turn (pairs nest a few deep: the generator says how deep). */
static void expand(unsigned sym, char **out)
{
    uint32_t at = (uint32_t)sym * 2u * CW_ERR_TABLE_SYMBOL_BITS;
    unsigned left = bits_at(cw_err_symbols, at, CW_ERR_TABLE_SYMBOL_BITS);
    unsigned right = bits_at(cw_err_symbols, at + CW_ERR_TABLE_SYMBOL_BITS, CW_ERR_TABLE_SYMBOL_BITS);

    if (left == sym) {
        *(*out)++ = (char)right;
    } else {
        expand(left, out);
        expand(right, out);
    }
}

/* Writes prefix and string n of the stream to out, NUL-terminated, and returns out. The generator
 * sized CW_ERR_TABLE_NAME_MAX and _TEXT_MAX for the longest result. */
static const char *decode(const char *prefix, size_t n, char *out)
{
    char *p = out;
    uint32_t at = string_at(n);
    unsigned sym;

    while (*prefix != '\0') {
        *p++ = *prefix++;
    }
    while ((sym = next_symbol(&at)) != CW_ERR_TABLE_END) {
        expand(sym, &p);
    }
    *p = '\0';
    return out;
}

const char *cw_err_name(cw_err e)
{
    /* Two buffers used in turn, so that one printf can show two names (see cw_err.h). */
    static char names[2][CW_ERR_TABLE_NAME_MAX];
    static size_t turn;
    const range_t *range;
    long row = find(e, &range);

    if (row < 0) {
        return range->unknown_name;
    }
    turn = 1 - turn;
    return decode(range->prefix, 2u * (size_t)row, names[turn]);
}

const char *cw_err_text(cw_err e)
{
    static char text[CW_ERR_TABLE_TEXT_MAX];
    const range_t *range;
    long row = find(e, &range);

    if (row < 0) {
        return range->unknown_text;
    }
    return decode("", 2u * (size_t)row + 1u, text);
}

const char *cw_err_say_line(unsigned row, char *out)
{
    if (row >= CW_ERR_TABLE_SAY_COUNT) {
        out[0] = '\0'; /* not reached: rows come from the same generator as the table */
        return out;
    }
    return decode("", CW_ERR_TABLE_SAY_FIRST + (size_t)row, out);
}

size_t cw_err_format(cw_err e, char *out, size_t cap)
{
    const range_t *range;
    long row = find(e, &range);
    long v = (long)e;
    long sub = v % CW_ERR_RANGE;
    int n;

    if (cap == 0) {
        return 0;
    }
    if (row >= 0) {
        n = snprintf(out, cap, "%s: %s", cw_err_name(e), cw_err_text(e));
    } else if (v >= CW_ERR_P11_BASE && v < CW_ERR_LWIP_BASE + CW_ERR_RANGE) {
        n = snprintf(out, cap, "%s: %s (0x%lX)", range->unknown_name, range->unknown_text,
                     (unsigned long)sub);
    } else {
        n = snprintf(out, cap, "%s: %s (%ld)", range->unknown_name, range->unknown_text, v);
    }
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
