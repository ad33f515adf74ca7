/*
 * test_pem.c: PEM in and out. Known answers from OpenSSL: the requester certificate of the
 * captured SCEP exchange (../shared/vectors/scep-micromdm-2.1.0/requester-signer-cert.pem) must
 * decode to exactly what `openssl x509 -outform DER` makes of it (with and without the text lines
 * around the block), and our writer must produce OpenSSL's text byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_pem.h"
#include "support/test_board.h"

#define VECTORS "../shared/vectors/scep-micromdm-2.1.0/"

static size_t slurp(const char *cmd_or_path, bool is_cmd, uint8_t *buf, size_t cap)
{
    FILE *f = is_cmd ? popen(cmd_or_path, "r") : fopen(cmd_or_path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    if (is_cmd) {
        assert_int_equal(pclose(f), 0);
    } else {
        fclose(f);
    }
    return n;
}

/* Feeds text line by line (LF or CRLF). */
static cw_err feed(cw_pem_reader_ctx *r, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        cw_err e = cw_pem_reader_push_line(r, p, n);
        if (e != CW_OK) {
            return e;
        }
        p += n + (nl != NULL ? 1 : 0);
    }
    return cw_pem_reader_finish(r);
}

static void test_openssl_certificate_decodes_exactly(void **state)
{
    (void)state;
    static char pem[8192];
    static uint8_t want[4096];
    static uint8_t got[4096];
    /* The vector carries openssl's subject=/issuer= text lines before its block; `openssl x509`
     * prints the bare block. */
    size_t pem_len = slurp("openssl x509 -in " VECTORS "requester-signer-cert.pem", true, (uint8_t *)pem, sizeof pem - 1);
    pem[pem_len] = '\0';
    size_t want_len = slurp("openssl x509 -in " VECTORS "requester-signer-cert.pem -outform DER", true, want,
                            sizeof want);
    cw_pem_reader_ctx r;
    static char wide[8192]; /* the file as it is, text lines included */
    size_t wide_len = slurp(VECTORS "requester-signer-cert.pem", false, (uint8_t *)wide, sizeof wide - 1);
    wide[wide_len] = '\0';
    cw_pem_reader_init(&r, got, sizeof got);
    assert_int_equal(feed(&r, wide), CW_OK);
    assert_int_equal(r.blocks[0].len, want_len);
    assert_memory_equal(got, want, want_len);

    cw_pem_reader_init(&r, got, sizeof got);
    assert_int_equal(feed(&r, pem), CW_OK);
    assert_int_equal(r.nblocks, 1);
    assert_string_equal(r.blocks[0].label, "CERTIFICATE");
    assert_int_equal(r.blocks[0].len, want_len);
    assert_memory_equal(got, want, want_len);

    /* and writing it back gives OpenSSL's text, byte for byte */
    static char again[8192];
    size_t again_len = 0;
    assert_int_equal(cw_pem_write("CERTIFICATE", got, want_len, NULL, 0, &again_len), CW_ERR_BUFFER_SMALL);
    assert_int_equal(again_len, pem_len + 1);
    assert_int_equal(cw_pem_write("CERTIFICATE", got, want_len, again, sizeof again, &again_len), CW_OK);
    assert_int_equal(again_len, pem_len);
    assert_memory_equal(again, pem, pem_len);
    test_assert_arena_empty();
}

static void test_round_trip_every_length(void **state)
{
    (void)state;
    uint8_t der[200];
    char pem[512];
    uint8_t back[200];
    for (size_t i = 0; i < sizeof der; i++) {
        der[i] = (uint8_t)(i * 37u + 11u);
    }
    for (size_t n = 1; n <= sizeof der; n++) {
        size_t len;
        cw_pem_reader_ctx r;
        assert_int_equal(cw_pem_write("X", der, n, pem, sizeof pem, &len), CW_OK);
        assert_int_equal(strlen(pem), len);
        cw_pem_reader_init(&r, back, sizeof back);
        assert_int_equal(feed(&r, pem), CW_OK);
        assert_int_equal(r.blocks[0].len, n);
        assert_memory_equal(back, der, n);
    }
}

/* Printing line by line (what the console does) gives exactly cw_pem_write's text. */
static void test_line_by_line_equals_whole_block(void **state)
{
    (void)state;
    uint8_t der[200];
    char whole[512];
    char pieces[512];
    for (size_t i = 0; i < sizeof der; i++) {
        der[i] = (uint8_t)(i * 91u + 7u);
    }
    for (size_t n = 1; n <= sizeof der; n++) {
        size_t len;
        size_t o = 0;
        assert_int_equal(cw_pem_write("CERTIFICATE REQUEST", der, n, whole, sizeof whole, &len), CW_OK);
        o += (size_t)sprintf(pieces + o, "-----BEGIN CERTIFICATE REQUEST-----\n");
        for (size_t i = 0; i < n; i += CW_PEM_LINE_BYTES) {
            char line[65];
            size_t ll = cw_pem_encode_line(der + i, n - i < CW_PEM_LINE_BYTES ? n - i : CW_PEM_LINE_BYTES, line);
            assert_int_equal(ll, strlen(line));
            assert_true(ll <= 64);
            o += (size_t)sprintf(pieces + o, "%s\n", line);
        }
        o += (size_t)sprintf(pieces + o, "-----END CERTIFICATE REQUEST-----\n");
        assert_int_equal(o, len);
        assert_string_equal(pieces, whole);
    }
}

static void test_bundle_with_text_between_blocks(void **state)
{
    (void)state;
    const char *text = "subject=CN = leaf\r\n"
                       "-----BEGIN CERTIFICATE-----\r\n"
                       "AQID\r\n"
                       "-----END CERTIFICATE-----\r\n"
                       "\r\n"
                       "issuer=CN = ca\n"
                       "-----BEGIN CERTIFICATE-----\n"
                       "BAUG\n"
                       "Bw==\n"
                       "-----END CERTIFICATE-----\n";
    uint8_t out[16];
    cw_pem_reader_ctx r;
    cw_pem_reader_init(&r, out, sizeof out);
    assert_int_equal(feed(&r, text), CW_OK);
    assert_int_equal(r.nblocks, 2);
    assert_int_equal(r.blocks[0].off, 0);
    assert_int_equal(r.blocks[0].len, 3);
    assert_int_equal(r.blocks[1].off, 3);
    assert_int_equal(r.blocks[1].len, 4);
    assert_memory_equal(out, "\x01\x02\x03\x04\x05\x06\x07", 7);
}

static const struct {
    const char *text;
    cw_err want;
    const char *why;
} bad[] = {
    {"", CW_ERR_NOT_FOUND, "no block at all"},
    {"just text\n", CW_ERR_NOT_FOUND, "no block at all"},
    {"-----BEGIN X-----\nAQID\n", CW_ERR_TRUNCATED, "no END line"},
    {"-----BEGIN X-----\nAQID\n-----END Y-----\n", CW_ERR_MALFORMED, "END label differs"},
    {"-----BEGIN X-----\nAQ*D\n-----END X-----\n", CW_ERR_MALFORMED, "not base64"},
    {"-----BEGIN X-----\nAQ==AQID\n-----END X-----\n", CW_ERR_MALFORMED, "data after padding"},
    {"-----BEGIN X-----\n-----BEGIN X-----\n", CW_ERR_MALFORMED, "BEGIN inside a block"},
    {"-----BEGIN X-----\n-----END X-----\n", CW_ERR_MALFORMED, "empty block"},
    {"-----BEGIN X-----\nAR==\n-----END X-----\n", CW_ERR_MALFORMED, "non-zero padding bits"},
    {"-----BEGIN X-----\nA\n-----END X-----\n", CW_ERR_MALFORMED, "a lone base64 character"},
    {"-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAQID\n-----END X-----\n", CW_ERR_MALFORMED,
     "encrypted PEM headers"},
    {"-----BEGIN X-----\nAQIDBAUGBwgJ\n-----END X-----\n", CW_ERR_TOO_LARGE, "more DER than the buffer"},
};

static void test_bad_input_is_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[8];
        cw_pem_reader_ctx r;
        cw_pem_reader_init(&r, out, sizeof out);
        cw_err got = feed(&r, bad[i].text);
        if (got != bad[i].want) {
            fail_msg("case %zu (%s): got %s, want %s", i, bad[i].why, cw_err_name(got), cw_err_name(bad[i].want));
        }
    }
}

static void test_error_sticks(void **state)
{
    (void)state;
    uint8_t out[8];
    cw_pem_reader_ctx r;
    cw_pem_reader_init(&r, out, sizeof out);
    assert_int_equal(cw_pem_reader_push_line(&r, "-----BEGIN X-----", 17), CW_OK);
    assert_int_equal(cw_pem_reader_push_line(&r, "!!!!", 4), CW_ERR_MALFORMED);
    assert_int_equal(cw_pem_reader_push_line(&r, "AQID", 4), CW_ERR_MALFORMED);
    assert_int_equal(cw_pem_reader_error(&r), CW_ERR_MALFORMED);
}

static void test_too_many_blocks(void **state)
{
    (void)state;
    uint8_t out[256];
    cw_pem_reader_ctx r;
    cw_pem_reader_init(&r, out, sizeof out);
    cw_err e = CW_OK;
    for (unsigned i = 0; i <= CW_PEM_BLOCKS_MAX && e == CW_OK; i++) {
        e = feed(&r, "-----BEGIN X-----\nAQID\n-----END X-----\n");
    }
    assert_int_equal(e, CW_ERR_TOO_LARGE);
}

static void test_write_rejects_small_buffer_and_long_label(void **state)
{
    (void)state;
    char out[16];
    size_t len = 0;
    assert_int_equal(cw_pem_write("CERTIFICATE", (const uint8_t *)"abc", 3, out, sizeof out, &len),
                     CW_ERR_BUFFER_SMALL);
    assert_true(len > sizeof out);
    assert_int_equal(cw_pem_write("THIS LABEL IS FAR TOO LONG FOR PEM X", (const uint8_t *)"a", 1, NULL, 0, &len),
                     CW_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_certificate_decodes_exactly),
        cmocka_unit_test(test_round_trip_every_length),
        cmocka_unit_test(test_line_by_line_equals_whole_block),
        cmocka_unit_test(test_bundle_with_text_between_blocks),
        cmocka_unit_test(test_bad_input_is_named),
        cmocka_unit_test(test_error_sticks),
        cmocka_unit_test(test_too_many_blocks),
        cmocka_unit_test(test_write_rejects_small_buffer_and_long_label),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("pem", tests, NULL, NULL);
}
