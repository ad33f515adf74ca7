/*
 * test_arena.c: the static arena's accounting, and mbedTLS really allocating from it.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the RSA context's cached R^2 mod N */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/base/cw_opts.h"
#include "mbedtls/bignum.h"
#include "mbedtls/md.h"
#include "mbedtls/rsa.h"
#include "mbedtls/x509_crt.h"
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

/* ---- cw_arena_prepare_key ------------------------------------------------------------------- */

#define VECTORS "../shared/vectors/scep-micromdm-2.1.0/"

static uint8_t ca_der[4096]; /* the captured exchange's CA: RSA-4096, self-signed */
static size_t ca_len;

static void parse_ca(mbedtls_x509_crt *c)
{
    if (ca_len == 0) {
        FILE *f = fopen(VECTORS "getcacert.der", "rb");
        assert_non_null(f);
        ca_len = fread(ca_der, 1, sizeof ca_der, f);
        fclose(f);
    }
    mbedtls_x509_crt_init(c);
    assert_int_equal(mbedtls_x509_crt_parse_der_nocopy(c, ca_der, ca_len), 0);
    assert_int_equal(mbedtls_pk_get_type(&c->pk), MBEDTLS_PK_RSA);
    assert_int_equal(mbedtls_pk_get_bitlen(&c->pk), 4096);
}

/* mbedTLS's own verification of the certificate's self-signature with its key, as is. */
static int verify_self(mbedtls_x509_crt *c)
{
    uint8_t h[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(c->sig_md);
    assert_int_equal(mbedtls_md(md, c->tbs.p, c->tbs.len, h), 0);
    return mbedtls_pk_verify(&c->pk, c->sig_md, h, mbedtls_md_get_size(md), c->sig.p, c->sig.len);
}

/* The value is mbedTLS's own: a key it prepared itself in a first operation holds the same. */
static void test_prepare_key_computes_what_mbedtls_would(void **state)
{
    (void)state;
    mbedtls_x509_crt ours;
    mbedtls_x509_crt theirs;
    parse_ca(&ours);
    parse_ca(&theirs);
    assert_null(mbedtls_pk_rsa(ours.pk)->RN.p);

    cw_arena_prepare_key(&ours.pk);
    assert_int_equal(verify_self(&theirs), 0); /* mbedTLS computes its RN on the way */
    const mbedtls_mpi *a = &mbedtls_pk_rsa(ours.pk)->RN;
    const mbedtls_mpi *b = &mbedtls_pk_rsa(theirs.pk)->RN;
    assert_non_null(a->p);
    assert_non_null(b->p);
    assert_int_equal(a->n, b->n);
    assert_int_equal(mbedtls_mpi_cmp_mpi(a, b), 0);

    /* and signatures check with it: the good one passes, a changed one does not */
    const mbedtls_mpi_uint *kept = a->p;
    assert_int_equal(verify_self(&ours), 0);
    assert_ptr_equal(mbedtls_pk_rsa(ours.pk)->RN.p, kept); /* used as it was, not made again */
    ca_der[ca_len - 1] ^= 1u;                              /* the signature's last byte */
    assert_int_not_equal(verify_self(&ours), 0);
    ca_der[ca_len - 1] ^= 1u;
    cw_arena_prepare_key(&ours.pk); /* a prepared key is left as it is */
    assert_ptr_equal(mbedtls_pk_rsa(ours.pk)->RN.p, kept);
    mbedtls_x509_crt_free(&ours);
    mbedtls_x509_crt_free(&theirs);
    test_assert_arena_empty();
}

/* What it is for: the check's peak without the lazy division inside it. */
static void test_prepare_key_lowers_the_peak_of_a_check(void **state)
{
    (void)state;
    cw_arena_stats_t lazy;
    cw_arena_stats_t prepared;
    mbedtls_x509_crt c;

    parse_ca(&c);
    cw_arena_reset_high_water();
    assert_int_equal(verify_self(&c), 0);
    cw_arena_stats(&lazy);
    mbedtls_x509_crt_free(&c);

    parse_ca(&c);
    cw_arena_prepare_key(&c.pk);
    cw_arena_reset_high_water();
    assert_int_equal(verify_self(&c), 0);
    cw_arena_stats(&prepared);
    mbedtls_x509_crt_free(&c);
    /* the division's temporaries (about 11 numbers of N's size) are gone from the check; the
     * figures themselves are make bench's to report */
    assert_true(prepared.high_water + 4u * 512u < lazy.high_water);
    test_assert_arena_empty();
}

/* No room: the key stays unprepared, and mbedTLS still does its work itself later. */
static void test_prepare_key_without_room_leaves_the_key(void **state)
{
    (void)state;
    mbedtls_x509_crt c;
    cw_arena_stats_t s;
    parse_ca(&c);
    cw_arena_stats(&s);
    void *fill = cw_arena_alloc(s.size - s.used - 1024u); /* room for less than two numbers */
    assert_non_null(fill);
    cw_arena_prepare_key(&c.pk);
    assert_null(mbedtls_pk_rsa(c.pk)->RN.p);
    cw_arena_free(fill);
    assert_int_equal(verify_self(&c), 0);
    assert_non_null(mbedtls_pk_rsa(c.pk)->RN.p); /* mbedTLS's, as without the call */
    mbedtls_x509_crt_free(&c);
    test_assert_arena_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starts_empty_with_board_size),
        cmocka_unit_test(test_used_and_high_water),
        cmocka_unit_test(test_exhaustion_is_null_not_a_crash),
        cmocka_unit_test(test_mbedtls_allocates_from_the_arena),
        cmocka_unit_test(test_prepare_key_computes_what_mbedtls_would),
        cmocka_unit_test(test_prepare_key_lowers_the_peak_of_a_check),
        cmocka_unit_test(test_prepare_key_without_room_leaves_the_key),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
