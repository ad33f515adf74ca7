/*
 * test_err.c: every code has a name and a sentence; foreign codes survive wrapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cw/cw_arena.h"
#include "cw/cw_err.h"
#include "support/test_board.h"

static const cw_err own[] = {
#define ROW_(name, value, text) CW_ERR_##name,
    CW_ERR_LIST(ROW_)
#undef ROW_
};

static void test_own_codes_have_distinct_names_and_sentences(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        const char *n = cw_err_name(own[i]);
        const char *t = cw_err_text(own[i]);
        assert_non_null(n);
        assert_true(strlen(t) > 10);
        assert_int_equal(t[strlen(t) - 1], '.'); /* one sentence */
        assert_string_not_equal(n, "UNKNOWN_ERROR");
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(n, cw_err_name(own[j]));
            assert_int_not_equal(own[i], own[j]);
        }
    }
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

static void test_unknown_own_code(void **state)
{
    (void)state;
    assert_string_equal(cw_err_name((cw_err)99999), "UNKNOWN_ERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_codes_have_distinct_names_and_sentences),
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_p11_codes_keep_the_tokens_name),
        cmocka_unit_test(test_mbedtls_and_lwip_codes),
        cmocka_unit_test(test_format_is_bounded),
        cmocka_unit_test(test_unknown_own_code),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
