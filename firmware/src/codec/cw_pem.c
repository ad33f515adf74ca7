/*
 * cw_pem.c: PEM blocks in (line by line) and out. RFC 7468 section 2 (general syntax) and 3
 * (ABNF): BEGIN and END lines with the same label, base64 in between; we accept any line length
 * that keeps the base64 groups intact across lines, and whitespace at line ends.
 */
#include "cw/codec/cw_pem.h"

#include <string.h>

#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"
#define PEM_COLUMNS 64u

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for a base64 character, -1 otherwise. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

void cw_pem_reader_init(cw_pem_reader_ctx *r, uint8_t *out, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->out = out;
    r->cap = cap;
    r->state = CW_PEM_OUTSIDE;
}

static cw_err fail(cw_pem_reader_ctx *r, cw_err e)
{
    r->state = CW_PEM_FAILED;
    r->err = e;
    return e;
}

/* If line[0..len) is "<prefix><label>-----", copies the label into label and returns true. */
static bool armour_line(const char *line, size_t len, const char *prefix, char *label)
{
    size_t plen = strlen(prefix);
    size_t dlen = strlen(PEM_DASHES);
    size_t llen;

    if (len < plen + dlen || memcmp(line, prefix, plen) != 0 ||
        memcmp(line + len - dlen, PEM_DASHES, dlen) != 0) {
        return false;
    }
    llen = len - plen - dlen;
    if (llen > CW_PEM_LABEL_MAX) {
        return false;
    }
    memcpy(label, line + plen, llen);
    label[llen] = '\0';
    return true;
}

static cw_err emit(cw_pem_reader_ctx *r, uint8_t byte)
{
    if (r->len >= r->cap) {
        return fail(r, CW_ERR_TOO_LARGE);
    }
    r->out[r->len++] = byte;
    return CW_OK;
}

static cw_err decode_line(cw_pem_reader_ctx *r, const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        int v;
        if (c == '=') {
            /* Padding: what is left in the accumulator must be the zero bits of a short group. */
            r->padded = true;
            continue;
        }
        if (r->padded) {
            return fail(r, CW_ERR_MALFORMED); /* data after padding */
        }
        v = b64_value(c);
        if (v < 0) {
            return fail(r, CW_ERR_MALFORMED);
        }
        r->acc = (r->acc << 6) | (uint32_t)v;
        r->acc_bits += 6;
        if (r->acc_bits >= 8) {
            r->acc_bits -= 8;
            if (emit(r, (uint8_t)(r->acc >> r->acc_bits)) != CW_OK) {
                return r->err;
            }
            r->acc &= (1u << r->acc_bits) - 1u;
        }
    }
    return CW_OK;
}

cw_err cw_pem_reader_push_line(cw_pem_reader_ctx *r, const char *line, size_t len)
{
    char label[CW_PEM_LABEL_MAX + 1];
    cw_pem_block_t *b;

    if (r->state == CW_PEM_FAILED) {
        return r->err;
    }
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) {
        len--;
    }
    if (r->state == CW_PEM_OUTSIDE) {
        if (!armour_line(line, len, PEM_BEGIN, label)) {
            return CW_OK; /* explanatory text between blocks */
        }
        if (r->nblocks == CW_PEM_BLOCKS_MAX) {
            return fail(r, CW_ERR_TOO_LARGE);
        }
        b = &r->blocks[r->nblocks];
        memcpy(b->label, label, sizeof label);
        b->off = r->len;
        b->len = 0;
        r->acc = 0;
        r->acc_bits = 0;
        r->padded = false;
        r->state = CW_PEM_INSIDE;
        return CW_OK;
    }

    /* inside a block */
    b = &r->blocks[r->nblocks];
    if (armour_line(line, len, PEM_END, label)) {
        /* Leftover bits must be fewer than a byte and zero (RFC 4648 3.5, canonical encoding). */
        if (strcmp(label, b->label) != 0 || r->acc != 0 || r->acc_bits == 6 || r->len == b->off) {
            return fail(r, CW_ERR_MALFORMED);
        }
        b->len = r->len - b->off;
        r->nblocks++;
        r->state = CW_PEM_OUTSIDE;
        return CW_OK;
    }
    if (len >= strlen(PEM_DASHES) && memcmp(line, PEM_DASHES, strlen(PEM_DASHES)) == 0) {
        return fail(r, CW_ERR_MALFORMED); /* BEGIN inside a block, or a broken armour line */
    }
    if (memchr(line, ':', len) != NULL) {
        return fail(r, CW_ERR_MALFORMED); /* RFC 1421 headers (encrypted PEM) are not for us */
    }
    return decode_line(r, line, len);
}

CW_NOINLINE cw_err cw_pem_reader_finish(cw_pem_reader_ctx *r)
{
    if (r->state == CW_PEM_FAILED) {
        return r->err;
    }
    if (r->state == CW_PEM_INSIDE) {
        return CW_ERR_TRUNCATED;
    }
    return r->nblocks > 0 ? CW_OK : CW_ERR_NOT_FOUND;
}

cw_err cw_pem_reader_error(const cw_pem_reader_ctx *r)
{
    return r->state == CW_PEM_FAILED ? r->err : CW_OK;
}

size_t cw_pem_encode_line(const uint8_t *der, size_t len, char out[65])
{
    size_t o = 0;
    if (len > CW_PEM_LINE_BYTES) {
        len = CW_PEM_LINE_BYTES;
    }
    for (size_t i = 0; i < len; i += 3) {
        uint32_t g = (uint32_t)der[i] << 16;
        size_t n = len - i < 3 ? len - i : 3;
        if (n > 1) {
            g |= (uint32_t)der[i + 1] << 8;
        }
        if (n > 2) {
            g |= der[i + 2];
        }
        out[o++] = b64_alphabet[(g >> 18) & 63u];
        out[o++] = b64_alphabet[(g >> 12) & 63u];
        out[o++] = n > 1 ? b64_alphabet[(g >> 6) & 63u] : '=';
        out[o++] = n > 2 ? b64_alphabet[g & 63u] : '=';
    }
    out[o] = '\0';
    return o;
}

cw_err cw_pem_write(const char *label, const uint8_t *der, size_t der_len, char *out, size_t cap,
                    size_t *len)
{
    size_t llen = strlen(label);
    size_t b64 = 4u * ((der_len + 2u) / 3u);
    size_t lines = (b64 + PEM_COLUMNS - 1u) / PEM_COLUMNS;
    size_t need = strlen(PEM_BEGIN) + llen + strlen(PEM_DASHES) + 1u + b64 + lines +
                  strlen(PEM_END) + llen + strlen(PEM_DASHES) + 1u + 1u;
    size_t o = 0;

    if (llen > CW_PEM_LABEL_MAX) {
        return CW_ERR_INVALID_ARG;
    }
    if (out == NULL || cap < need) {
        *len = need;
        return CW_ERR_BUFFER_SMALL;
    }
#define PUT_STR(s)                                                                                 \
    do {                                                                                           \
        size_t n_ = strlen(s);                                                                     \
        memcpy(out + o, (s), n_);                                                                  \
        o += n_;                                                                                   \
    } while (0)
    PUT_STR(PEM_BEGIN);
    PUT_STR(label);
    PUT_STR(PEM_DASHES "\n");
    for (size_t i = 0; i < der_len; i += CW_PEM_LINE_BYTES) {
        size_t n = der_len - i < CW_PEM_LINE_BYTES ? der_len - i : CW_PEM_LINE_BYTES;
        char line[65];
        size_t ll = cw_pem_encode_line(der + i, n, line);
        memcpy(out + o, line, ll);
        o += ll;
        out[o++] = '\n';
    }
    PUT_STR(PEM_END);
    PUT_STR(label);
    PUT_STR(PEM_DASHES "\n");
#undef PUT_STR
    out[o] = '\0';
    *len = o;
    return CW_OK;
}
