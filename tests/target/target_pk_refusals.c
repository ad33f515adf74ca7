/*
 * target_pk_refusals.c: on this board mbedTLS's key-type table reaches refusals, not private-key
 * arithmetic (board/mps2-an386: MBEDTLS_ECDSA_SIGN_ALT and board.mk's MBEDTLS_CPPFLAGS_pk_wrap,
 * with the refusing functions in mps2_mbedtls_alt.c). Keys live in the token; this checks that
 * the code the board left out is really what those entries lead to.
 *
 * Each key here is a public one, taken from a certificate, so mbedTLS's own code would refuse as
 * well, but with other error codes (a missing private key: RSA_BAD_INPUT_DATA, ECP_INVALID_KEY
 * or ECP_BAD_INPUT_DATA); the codes checked are the board's refusals alone, so the suite fails
 * if the build links mbedTLS's private-key functions again.
 */
#include <string.h>

#include "mbedtls/ecp.h"
#include "mbedtls/error.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/x509_crt.h"
#include "target_blobs.h"
#include "target_check.h"

/* mbedTLS asks for a random source before it signs or checks a pair; nothing random is needed
 * to be refused. */
static int not_random(void *arg, unsigned char *buf, size_t len)
{
    (void)arg;
    memset(buf, 0x5a, len);
    return 0;
}

void target_test_pk_refusals(void)
{
    static const unsigned char hash[32] = {1};
    unsigned char out[512];
    size_t out_len = 1;
    mbedtls_x509_crt rsa;
    mbedtls_x509_crt ec;

    /* RSA: the micromdm CA's RSA-4096 key */
    mbedtls_x509_crt_init(&rsa);
    CHECK(mbedtls_x509_crt_parse_der_nocopy(&rsa, getcacert_der, sizeof getcacert_der) == 0);
    CHECK(mbedtls_pk_get_type(&rsa.pk) == MBEDTLS_PK_RSA);
    CHECK(mbedtls_pk_sign(&rsa.pk, MBEDTLS_MD_SHA256, hash, sizeof hash, out, sizeof out, &out_len, not_random,
                          NULL) == MBEDTLS_ERR_RSA_PRIVATE_FAILED);
    out_len = 1;
    CHECK(mbedtls_pk_decrypt(&rsa.pk, out, 512, out, &out_len, sizeof out, not_random, NULL) ==
          MBEDTLS_ERR_RSA_PRIVATE_FAILED);
    CHECK(out_len == 0);

    /* the same modulus with a private exponent and no primes: mbedTLS would go on to look for
     * the primes (and fail otherwise on this made-up exponent); the board refuses at once */
    {
        mbedtls_rsa_context k;
        mbedtls_mpi d;
        mbedtls_rsa_init(&k);
        mbedtls_mpi_init(&d);
        CHECK(mbedtls_mpi_lset(&d, 3) == 0);
        CHECK(mbedtls_rsa_import(&k, &mbedtls_pk_rsa(rsa.pk)->MBEDTLS_PRIVATE(N), NULL, NULL, &d,
                                 &mbedtls_pk_rsa(rsa.pk)->MBEDTLS_PRIVATE(E)) == 0);
        CHECK(mbedtls_rsa_complete(&k) ==
              MBEDTLS_ERR_RSA_BAD_INPUT_DATA + MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED);
        mbedtls_mpi_free(&d);
        mbedtls_rsa_free(&k);
    }
    mbedtls_x509_crt_free(&rsa);

    /* EC: the P-256 test certificate's key */
    mbedtls_x509_crt_init(&ec);
    CHECK(mbedtls_x509_crt_parse_der_nocopy(&ec, target_cert_p256, target_cert_p256_len) == 0);
    CHECK(mbedtls_pk_get_type(&ec.pk) == MBEDTLS_PK_ECKEY);
    CHECK(mbedtls_pk_sign(&ec.pk, MBEDTLS_MD_SHA256, hash, sizeof hash, out, sizeof out, &out_len, not_random,
                          NULL) == MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE);
    CHECK(mbedtls_pk_check_pair(&ec.pk, &ec.pk, not_random, NULL) == MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE);
    mbedtls_x509_crt_free(&ec);
}
