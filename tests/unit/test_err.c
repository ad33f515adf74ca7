/*
 * test_err.c: every code has a name and a sentence; foreign codes survive wrapping; the compressed
 * table (tools/gen-err-table.py) gives back, byte for byte, every row of the sources it comes from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/base/cw_err.h"
#include "support/test_board.h"

static const cw_err own[] = {
#define ROW_(name, value, text) CW_ERR_##name,
    CW_ERR_LIST(ROW_)
#undef ROW_
};

/* Every row in plain text, read from the same sources as the generator: CW_ERR_LIST and the
 * foreign codes' X-macro list, each code wrapped the way callers wrap it. */
typedef struct row_t {
    cw_err code;
    const char *name;
    const char *text;
} row_t;

static const row_t rows[] = {
    {CW_OK, "OK", "No error."},
#define X(name, value, text) {CW_ERR_##name, #name, text},
    CW_ERR_LIST(X)
#undef X
#define P11(name, value, text) {CW_ERR_FROM_P11(value), #name, text},
#define MBEDTLS(name, value, text) {CW_ERR_FROM_MBEDTLS(-(value)), #name, text},
#define LWIP(name, value, text) {CW_ERR_FROM_LWIP(-(value)), #name, text},
#include "../../firmware/src/base/cw_err_foreign.def"
#undef P11
#undef MBEDTLS
#undef LWIP
};

static void test_own_codes_have_distinct_names_and_sentences(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        char n[64]; /* a copy: later calls reuse cw_err_name()'s buffers */
        snprintf(n, sizeof n, "%s", cw_err_name(own[i]));
        const char *t = cw_err_text(own[i]);
        assert_non_null(t);
        assert_true(strlen(t) > 10);
        assert_int_equal(t[strlen(t) - 1], '.'); /* one sentence */
        assert_string_not_equal(n, "UNKNOWN_ERROR");
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(n, cw_err_name(own[j]));
            assert_int_not_equal(own[i], own[j]);
        }
    }
}

static void test_every_row_decodes_to_its_source(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row_t *r = &rows[i];
        char want[256];
        char got[256];
        int len = snprintf(want, sizeof want, "%s: %s", r->name, r->text);
        assert_true(len > 0 && (size_t)len < sizeof want);
        assert_string_equal(cw_err_name(r->code), r->name);
        assert_string_equal(cw_err_text(r->code), r->text);
        memset(got, 'Z', sizeof got);
        assert_int_equal(cw_err_format(r->code, got, sizeof got), (size_t)len);
        assert_string_equal(got, want);
    }
}

static void test_rows_have_distinct_codes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(rows[i].code, rows[j].code);
        }
    }
}

static void test_two_names_in_one_call(void **state)
{
    (void)state;
    char line[128];
    snprintf(line, sizeof line, "%s, want %s", cw_err_name(CW_ERR_TOPO_TAG),
             cw_err_name(CW_ERR_FROM_P11(0xA0UL)));
    assert_string_equal(line, "TOPO_TAG, want CKR_PIN_INCORRECT");
    snprintf(line, sizeof line, "%s: %s", cw_err_name(CW_ERR_FROM_LWIP(-4)),
             cw_err_text(CW_ERR_FROM_LWIP(-4)));
    assert_string_equal(line, "LWIP_ERR_RTE: There is no route to the host.");
}

static void test_ok(void **state)
{
    (void)state;
    assert_string_equal(cw_err_name(CW_OK), "OK");
}

static void test_p11_codes_keep_the_tokens_name(void **state)
{
    (void)state;
    assert_int_equal(CW_ERR_FROM_P11(0UL), CW_OK);
    assert_string_equal(cw_err_name(CW_ERR_FROM_P11(0xA0UL)), "CKR_PIN_INCORRECT");
    assert_string_equal(cw_err_name(CW_ERR_FROM_P11(0xA4UL)), "CKR_PIN_LOCKED");
    assert_string_equal(cw_err_name(CW_ERR_FROM_P11(0xA2UL)), "CKR_PIN_LEN_RANGE");
    assert_true(CW_ERR_IS_P11(CW_ERR_FROM_P11(0xA0UL), 0xA0UL));
    assert_false(CW_ERR_IS_P11(CW_ERR_FROM_P11(0xA0UL), 0xA4UL));
    /* an unknown token code keeps its value in the formatted text */
    char buf[128];
    cw_err_format(CW_ERR_FROM_P11(0x8000ABCDUL), buf, sizeof buf);
    assert_non_null(strstr(buf, "CKR_UNKNOWN"));
    assert_non_null(strstr(buf, "0xABCD"));
}

static void test_mbedtls_and_lwip_codes(void **state)
{
    (void)state;
    assert_int_equal(CW_ERR_FROM_MBEDTLS(0), CW_OK);
    assert_string_equal(cw_err_name(CW_ERR_FROM_MBEDTLS(-0x0060)), "MBEDTLS_ERR_ASN1_OUT_OF_DATA");
    assert_string_equal(cw_err_name(CW_ERR_FROM_LWIP(-1)), "LWIP_ERR_MEM");
    assert_string_equal(cw_err_name(CW_ERR_FROM_LWIP(-13)), "LWIP_ERR_ABRT");
    char buf[128];
    cw_err_format(CW_ERR_FROM_MBEDTLS(-0x7F00), buf, sizeof buf);
    assert_non_null(strstr(buf, "MBEDTLS_ERR"));
    assert_non_null(strstr(buf, "0x7F00"));
}

/* Codes without a row, in each range, print exactly as before the table was compressed. */
static void test_unknown_codes_in_every_range(void **state)
{
    (void)state;
    static const struct {
        long code;
        const char *name;
        const char *text;
        const char *format;
    } cases[] = {
        {99999, "UNKNOWN_ERROR", "An error code certwiz does not know.",
         "UNKNOWN_ERROR: An error code certwiz does not know. (99999)"},
        {609, "UNKNOWN_ERROR", "An error code certwiz does not know.",
         "UNKNOWN_ERROR: An error code certwiz does not know. (609)"},
        {0x04000000L, "UNKNOWN_ERROR", "An error code certwiz does not know.",
         "UNKNOWN_ERROR: An error code certwiz does not know. (67108864)"},
        {CW_ERR_P11_BASE + 0xABCDL, "CKR_UNKNOWN", "The token answered with a code certwiz does not know.",
         "CKR_UNKNOWN: The token answered with a code certwiz does not know. (0xABCD)"},
        {CW_ERR_P11_BASE, "CKR_UNKNOWN", "The token answered with a code certwiz does not know.",
         "CKR_UNKNOWN: The token answered with a code certwiz does not know. (0x0)"},
        {CW_ERR_MBEDTLS_BASE + 0x7F00L, "MBEDTLS_ERR", "The crypto library reported an error.",
         "MBEDTLS_ERR: The crypto library reported an error. (0x7F00)"},
        {CW_ERR_LWIP_BASE + 0x60L, "LWIP_ERR", "The network stack reported an error.",
         "LWIP_ERR: The network stack reported an error. (0x60)"},
        {CW_ERR_LWIP_BASE + 0xFFFFFFL, "LWIP_ERR", "The network stack reported an error.",
         "LWIP_ERR: The network stack reported an error. (0xFFFFFF)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cw_err e = (cw_err)cases[i].code;
        char buf[128];
        assert_string_equal(cw_err_name(e), cases[i].name);
        assert_string_equal(cw_err_text(e), cases[i].text);
        assert_int_equal(cw_err_format(e, buf, sizeof buf), strlen(cases[i].format));
        assert_string_equal(buf, cases[i].format);
    }
}

static void test_format_is_bounded(void **state)
{
    (void)state;
    char buf[12];
    memset(buf, 'Z', sizeof buf);
    size_t n = cw_err_format(CW_ERR_LINE_TOO_LONG, buf, sizeof buf);
    assert_int_equal(n, sizeof buf - 1);
    assert_int_equal(buf[sizeof buf - 1], '\0');
    assert_memory_equal(buf, "LINE_TOO_LO", 11);
    assert_int_equal(cw_err_format(CW_ERR_USAGE, buf, 0), 0);
}

/* At every capacity the output is the full line cut to cap - 1 characters, and nothing beyond. */
static void test_format_truncates_at_every_capacity(void **state)
{
    (void)state;
    static const cw_err codes[] = {CW_ERR_SCEP_BAD_REQUEST, (cw_err)(CW_ERR_P11_BASE + 0x999L)};
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
        char full[256];
        size_t len = cw_err_format(codes[k], full, sizeof full);
        for (size_t cap = 1; cap <= len + 1; cap++) {
            char buf[256];
            memset(buf, 'Z', sizeof buf);
            assert_int_equal(cw_err_format(codes[k], buf, cap), cap - 1 < len ? cap - 1 : len);
            assert_memory_equal(buf, full, cap - 1);
            assert_int_equal(buf[cap - 1], '\0');
            assert_int_equal(buf[cap], 'Z');
        }
    }
}

static void test_unknown_own_code(void **state)
{
    (void)state;
    assert_string_equal(cw_err_name((cw_err)99999), "UNKNOWN_ERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_codes_have_distinct_names_and_sentences),
        cmocka_unit_test(test_every_row_decodes_to_its_source),
        cmocka_unit_test(test_rows_have_distinct_codes),
        cmocka_unit_test(test_two_names_in_one_call),
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_p11_codes_keep_the_tokens_name),
        cmocka_unit_test(test_mbedtls_and_lwip_codes),
        cmocka_unit_test(test_unknown_codes_in_every_range),
        cmocka_unit_test(test_format_is_bounded),
        cmocka_unit_test(test_format_truncates_at_every_capacity),
        cmocka_unit_test(test_unknown_own_code),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
