/*
 * test_arena.c: the static arena's accounting, and mbedTLS really allocating from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cw/cw_arena.h"
#include "cw/cw_opts.h"
#include "mbedtls/bignum.h"
#include "support/test_board.h"

static void test_starts_empty_with_board_size(void **state)
{
    (void)state;
    cw_arena_stats_t s;
    cw_arena_stats(&s);
    assert_int_equal(s.size, CW_ARENA_SIZE);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.blocks, 0);
}

static void test_used_and_high_water(void **state)
{
    (void)state;
    cw_arena_stats_t s;
    cw_arena_reset_high_water();
    uint8_t *a = cw_arena_alloc(1000);
    uint8_t *b = cw_arena_alloc(24);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(a[i], 0); /* zeroed */
    }
    cw_arena_stats(&s);
    assert_int_equal(s.used, 1024);
    assert_int_equal(s.blocks, 2);
    cw_arena_free(a);
    cw_arena_free(b);
    cw_arena_free(NULL);
    cw_arena_stats(&s);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.high_water, 1024);
    assert_int_equal(s.high_blocks, 2);
    cw_arena_reset_high_water();
    cw_arena_stats(&s);
    assert_int_equal(s.high_water, 0);
    test_assert_arena_empty();
}

static void test_exhaustion_is_null_not_a_crash(void **state)
{
    (void)state;
    assert_null(cw_arena_alloc(CW_ARENA_SIZE));
    void *p = cw_arena_alloc(CW_ARENA_SIZE / 2);
    assert_non_null(p);
    assert_null(cw_arena_alloc(CW_ARENA_SIZE / 2));
    cw_arena_free(p);
    test_assert_arena_empty();
}

static void test_mbedtls_allocates_from_the_arena(void **state)
{
    (void)state;
    cw_arena_stats_t s;
    mbedtls_mpi x;
    mbedtls_mpi_init(&x);
    cw_arena_reset_high_water();
    assert_int_equal(mbedtls_mpi_lset(&x, 12345), 0);
    assert_int_equal(mbedtls_mpi_shift_l(&x, 4000), 0); /* needs ~500 bytes of limbs */
    cw_arena_stats(&s);
    assert_true(s.used >= 500);
    mbedtls_mpi_free(&x);
    test_assert_arena_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starts_empty_with_board_size),
        cmocka_unit_test(test_used_and_high_water),
        cmocka_unit_test(test_exhaustion_is_null_not_a_crash),
        cmocka_unit_test(test_mbedtls_allocates_from_the_arena),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
