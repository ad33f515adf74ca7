/*
 * cw_arena.c: the static arena behind mbedTLS's buffer allocator.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* an RSA key's N and its cached R^2 mod N (RN) */
#include "cw/base/cw_arena.h"
#include "cw/base/cw_opts.h"

#include <stdint.h>

#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "mbedtls/rsa.h"
#include "mbedtls/version.h"

#if !defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C) || !defined(MBEDTLS_MEMORY_DEBUG)
#error "the board's mbedtls_config.h must enable MBEDTLS_MEMORY_BUFFER_ALLOC_C and MBEDTLS_MEMORY_DEBUG"
#endif

/* cw_arena_prepare_key fills the field where mbedTLS 3.6's mbedtls_rsa_public looks for R^2 mod N
 * (ctx->RN, handed to mbedtls_mpi_exp_mod as its precomputed RR); check that again before
 * moving to another mbedTLS line. */
#if MBEDTLS_VERSION_MAJOR != 3 || MBEDTLS_VERSION_MINOR != 6
#error "cw_arena_prepare_key knows mbedTLS 3.6's RSA context"
#endif

/* Aligned for any object mbedTLS places there. */
static union {
    unsigned char bytes[CW_ARENA_SIZE];
    uint64_t align_u64;
    void *align_ptr;
} arena;

void cw_arena_init(void)
{
    mbedtls_memory_buffer_alloc_init(arena.bytes, sizeof arena.bytes);
}

CW_NOINLINE void *cw_arena_alloc(size_t n)
{
    return mbedtls_calloc(1, n);
}

void cw_arena_free(void *p)
{
    mbedtls_free(p);
}

void cw_arena_stats(cw_arena_stats_t *out)
{
    out->size = sizeof arena.bytes;
    mbedtls_memory_buffer_alloc_cur_get(&out->used, &out->blocks);
    mbedtls_memory_buffer_alloc_max_get(&out->high_water, &out->high_blocks);
}

void cw_arena_reset_high_water(void)
{
    mbedtls_memory_buffer_alloc_max_reset();
}

void cw_arena_prepare_key(mbedtls_pk_context *pk)
{
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA) {
        return;
    }
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*pk);
    const mbedtls_mpi *n = &rsa->N;
    size_t bits = mbedtls_mpi_bitlen(n);
    if (rsa->RN.p != NULL || bits < 2 || mbedtls_mpi_get_bit(n, 0) != 1) {
        return; /* done already, or not a modulus: mbedTLS refuses it when it is used */
    }
    /* R^2 = 2^(2 * limbs * limb bits), as mbedtls_mpi_exp_mod computes it for this N */
    const size_t r2_bits = 2u * n->n * (8u * sizeof(mbedtls_mpi_uint));
    mbedtls_mpi x;
    int r;

    mbedtls_mpi_init(&x);
    r = mbedtls_mpi_lset(&x, 1);
    if (r == 0) {
        r = mbedtls_mpi_shift_l(&x, bits - 1u); /* 2^(bits-1) < N: already reduced */
    }
    for (size_t k = bits - 1u; r == 0 && k < r2_bits; k++) { /* x = 2^(k+1) mod N */
        r = mbedtls_mpi_shift_l(&x, 1);
        if (r == 0 && mbedtls_mpi_cmp_mpi(&x, n) >= 0) {
            r = mbedtls_mpi_sub_abs(&x, &x, n);
        }
    }
    if (r == 0) {
        r = mbedtls_mpi_shrink(&x, n->n); /* the length mbedTLS gives it */
    }
    if (r != 0) {
        mbedtls_mpi_free(&x);
        return;
    }
    rsa->RN = x; /* the context owns it now, and frees it with the key */
}

void cw_arena_prepare_certs(mbedtls_x509_crt *list, size_t from)
{
    size_t i = 0;
    for (mbedtls_x509_crt *c = list; c != NULL && c->raw.p != NULL; c = c->next, i++) {
        if (i >= from) {
            cw_arena_prepare_key(&c->pk);
        }
    }
}
