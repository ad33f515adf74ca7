/*
 * cw_pem.h: PEM (RFC 7468) in and out, bounded.
 *
 * Reading is line by line, as a paste arrives on the console: cw_pem_reader_push_line() takes
 * one line at a time and decodes the base64 of each BEGIN/END block straight into the caller's
 * buffer, so a paste never needs more memory than its DER. Text outside blocks (the
 * "subject=..." lines openssl puts in bundles) is skipped. Several blocks may follow each other
 * (a certificate and its chain).
 *
 * Writing produces 64-column lines ending in "\n".
 */
#ifndef CW_PEM_H
#define CW_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"

/* Longest label between "-----BEGIN " and "-----" ("CERTIFICATE REQUEST", "PKCS7", "CERTWIZ
 * TOPOLOGY" all fit). */
#define CW_PEM_LABEL_MAX 32u

typedef struct cw_pem_block_t {
    char label[CW_PEM_LABEL_MAX + 1];
    size_t off;   /* where the block's DER starts in the reader's output buffer */
    size_t len;   /* its length */
} cw_pem_block_t;

typedef enum cw_pem_state_t {
    CW_PEM_OUTSIDE,  /* between blocks: waiting for a BEGIN line */
    CW_PEM_INSIDE,   /* inside a block: base64 lines until the END line */
    CW_PEM_FAILED    /* an error stopped the reader; cw_pem_reader_error() says which */
} cw_pem_state_t;

/* Caller-owned. The output buffer is linked, not copied. */
typedef struct cw_pem_reader_ctx {
    uint8_t *out;
    size_t cap;
    size_t len;                                 /* DER bytes written so far */
    cw_pem_block_t blocks[CW_PEM_BLOCKS_MAX];
    size_t nblocks;                             /* complete blocks */
    cw_pem_state_t state;
    cw_err err;
    uint32_t acc;                               /* base64 bits carried between lines */
    unsigned acc_bits;
    bool padded;                                /* '=' seen: only END may follow */
} cw_pem_reader_ctx;

/* Starts a reader that writes decoded DER into out[0..cap). */
void cw_pem_reader_init(cw_pem_reader_ctx *r, uint8_t *out, size_t cap);

/* One line of text without its line end (a trailing CR is ignored). Returns CW_OK, or the error
 * that stopped the reader, which stays set: CW_ERR_TOO_LARGE (the DER would pass cap, or more
 * than CW_PEM_BLOCKS_MAX blocks), CW_ERR_MALFORMED (bad base64, END label not the BEGIN label,
 * BEGIN inside a block, data after padding). */
cw_err cw_pem_reader_push_line(cw_pem_reader_ctx *r, const char *line, size_t len);

/* CW_OK when at least one block is complete and no block is open; CW_ERR_TRUNCATED when a block
 * was begun but not ended, CW_ERR_NOT_FOUND when no block was seen, or the stopping error. */
cw_err cw_pem_reader_finish(cw_pem_reader_ctx *r);

/* The error that stopped the reader, CW_OK if none. */
cw_err cw_pem_reader_error(const cw_pem_reader_ctx *r);

/* Writes der as a PEM block with label into out ("-----BEGIN label-----\n", 64-column base64
 * lines, "-----END label-----\n", NUL-terminated). Two-pass: out NULL or cap too small returns
 * CW_ERR_BUFFER_SMALL with the needed size (NUL included) in *len; else *len is the length
 * without the NUL. */
cw_err cw_pem_write(const char *label, const uint8_t *der, size_t der_len, char *out, size_t cap,
                    size_t *len);

/* DER bytes per PEM line: 48 bytes make the 64 base64 characters of one line. */
#define CW_PEM_LINE_BYTES 48u

/* Encodes der[0..len), len <= CW_PEM_LINE_BYTES, as one PEM line (base64, padded at the end of
 * the data) into out, NUL-terminated; out holds 65 bytes. For printing a block line by line
 * without buffering it: cw_pem_write's text is exactly "-----BEGIN label-----", these lines for
 * successive 48-byte pieces, and "-----END label-----". Returns the line's length. */
size_t cw_pem_encode_line(const uint8_t *der, size_t len, char out[65]);

#endif /* CW_PEM_H */
