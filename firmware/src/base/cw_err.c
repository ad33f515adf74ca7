/*
 * cw_err.c: names and sentences for every code of the cw_err space.
 *
 * Foreign codes keep their own names (CKR_PIN_INCORRECT, MBEDTLS_ERR_ASN1_OUT_OF_DATA, ERR_MEM of
 * lwIP as LWIP_ERR_MEM), so an operator can look them up in the foreign documentation.
 *
 * The rows come from CW_ERR_LIST (cw_err.h) and cw_err_foreign.def. tools/gen-err-table.py packs
 * them at build time into cw_err_table.h, because a table of pointers to plain strings took 18 KB
 * of a Cortex-M image and this takes about half: each row is a 16-bit value, and its name and
 * sentence are the next two NUL-terminated strings of one byte array, names without their range's
 * prefix ("CKR_"), frequent pairs of bytes replaced by one byte that is not printable ASCII
 * (byte-pair encoding).
 * A lookup walks the table, which is quick enough for an error path; the decoded strings go to
 * static buffers (cw_err.h says how long they stay valid).
 */
#include "cw/base/cw_err.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cw_err_table.h" /* generated: cw_err_values, cw_err_strings, cw_err_pairs */

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

/* The n-th NUL-terminated string of cw_err_strings: row i has its name at 2i, its sentence at 2i+1. */
static const uint8_t *string_at(size_t n)
{
    const uint8_t *s = cw_err_strings;
    for (; n > 0; n--) {
        s += strlen((const char *)s) + 1;
    }
    return s;
}

/* The row of e as a pointer to its encoded name, or NULL; *range gets e's range. */
static const uint8_t *find(cw_err e, const range_t **range)
{
    long v = (long)e;
    long key = v % CW_ERR_RANGE; /* a foreign code's original value */

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
    for (size_t i = (*range)->first; i < (*range)->first + (*range)->count; i++) {
        if (cw_err_values[i] == key) {
            return string_at(2 * i);
        }
    }
    return NULL;
}

/* The printable characters no string of the table uses: they are pair codes (NULL if b is not
 * one of them). */
static const char *extra_code(uint8_t b)
{
    return b >= 0x20u && b < 0x7Fu ? strchr(CW_ERR_TABLE_EXTRA_CODES, b) : NULL;
}

/* The row of cw_err_pairs that pair code b stands for (tools/gen-err-table.py numbers them):
 * 0x80..0xFF are rows 0..127, 0x01..0x1F rows 128..158, 0x7F row 159, then the printable
 * characters of CW_ERR_TABLE_EXTRA_CODES in their order. */
static size_t pair_row(uint8_t b)
{
    const char *x = extra_code(b);
    if (x != NULL) {
        return 160u + (size_t)(x - CW_ERR_TABLE_EXTRA_CODES);
    }
    return b >= 0x80u ? b - 0x80u : b == 0x7Fu ? 159u : 127u + b;
}

/* Appends the expansion of byte b at *out: printable ASCII is that character (unless the table
 * uses it as a pair code), any other byte stands for a pair of bytes, each expanded in turn
 * (pairs nest only a few deep). */
static void expand(uint8_t b, char **out)
{
    if (b >= 0x20u && b < 0x7Fu && extra_code(b) == NULL) {
        *(*out)++ = (char)b;
    } else {
        const uint8_t *pair = cw_err_pairs[pair_row(b)];
        expand(pair[0], out);
        expand(pair[1], out);
    }
}

/* Writes prefix and the decoding of the encoded string s to out, NUL-terminated, and returns out.
 * The generator sized CW_ERR_TABLE_NAME_MAX and _TEXT_MAX for the longest result. */
static const char *decode(const char *prefix, const uint8_t *s, char *out)
{
    char *p = out;
    while (*prefix != '\0') {
        *p++ = *prefix++;
    }
    for (; *s != 0; s++) {
        expand(*s, &p);
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
    const uint8_t *row = find(e, &range);

    if (row == NULL) {
        return range->unknown_name;
    }
    turn = 1 - turn;
    return decode(range->prefix, row, names[turn]);
}

const char *cw_err_text(cw_err e)
{
    static char text[CW_ERR_TABLE_TEXT_MAX];
    const range_t *range;
    const uint8_t *row = find(e, &range);

    if (row == NULL) {
        return range->unknown_text;
    }
    return decode("", row + strlen((const char *)row) + 1, text);
}

size_t cw_err_format(cw_err e, char *out, size_t cap)
{
    const range_t *range;
    const uint8_t *row = find(e, &range);
    long v = (long)e;
    long sub = v % CW_ERR_RANGE;
    int n;

    if (cap == 0) {
        return 0;
    }
    if (row != NULL) {
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
