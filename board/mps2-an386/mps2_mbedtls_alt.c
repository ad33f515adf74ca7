/*
 * mps2_mbedtls_alt.c: mbedTLS functions this board replaces, to leave out code that can never run
 * on it: through mbedtls_config.h's *_ALT options, and through calls renamed in pk_wrap.c and
 * rsa.c (board.mk, MBEDTLS_CPPFLAGS_pk_wrap and _rsa). tests/target/target_pk_refusals.c checks that mbedTLS's
 * key-type table reaches these refusals.
 *
 * Private keys live in the token and sign there (pkcs11/cw_p11_key.c, cw_p11_sign); mbedTLS only
 * verifies signatures and encrypts to public keys here. Its PK layer still names an ECDSA signing
 * function in the key-type table (pk_wrap.c), so without MBEDTLS_ECDSA_SIGN_ALT the whole signing
 * path (nonce generation, scalar multiplication with the private key, inversion mod n) is
 * linked although nothing reaches it. This replacement refuses instead; with no private key
 * ever parsed into an mbedTLS context it is unreachable as well.
 */
#include "mbedtls_config.h"

#include "mbedtls/ecdsa.h"
#include "mbedtls/error.h"
#include "mbedtls/rsa.h"

#if defined(MBEDTLS_ECDSA_SIGN_ALT)
int mbedtls_ecdsa_sign(mbedtls_ecp_group *grp, mbedtls_mpi *r, mbedtls_mpi *s, const mbedtls_mpi *d,
                       const unsigned char *buf, size_t blen,
                       int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    (void)grp;
    (void)r;
    (void)s;
    (void)d;
    (void)buf;
    (void)blen;
    (void)f_rng;
    (void)p_rng;
    return MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE;
}
#endif

/* The private-key calls of mbedTLS's key-type table, renamed in pk_wrap.c alone (board.mk,
 * MBEDTLS_CPPFLAGS_pk_wrap): they refuse, and the arithmetic behind the originals is not linked.
 * The prototypes are mbedTLS's own, under these names. */
int board_refuse_rsa_sign(mbedtls_rsa_context *ctx, mbedtls_f_rng_t *f_rng, void *p_rng, mbedtls_md_type_t md_alg,
                          unsigned int hashlen, const unsigned char *hash, unsigned char *sig);
int board_refuse_rsa_decrypt(mbedtls_rsa_context *ctx, mbedtls_f_rng_t *f_rng, void *p_rng, size_t *olen,
                             const unsigned char *input, unsigned char *output, size_t output_max_len);
int board_refuse_rsa_check_pair(const mbedtls_rsa_context *pub, const mbedtls_rsa_context *prv);
int board_refuse_ecp_check_pair(const mbedtls_ecp_keypair *pub, const mbedtls_ecp_keypair *prv,
                                int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);

int board_refuse_rsa_sign(mbedtls_rsa_context *ctx, mbedtls_f_rng_t *f_rng, void *p_rng, mbedtls_md_type_t md_alg,
                          unsigned int hashlen, const unsigned char *hash, unsigned char *sig)
{
    (void)ctx;
    (void)f_rng;
    (void)p_rng;
    (void)md_alg;
    (void)hashlen;
    (void)hash;
    (void)sig;
    return MBEDTLS_ERR_RSA_PRIVATE_FAILED;
}

int board_refuse_rsa_decrypt(mbedtls_rsa_context *ctx, mbedtls_f_rng_t *f_rng, void *p_rng, size_t *olen,
                             const unsigned char *input, unsigned char *output, size_t output_max_len)
{
    (void)ctx;
    (void)f_rng;
    (void)p_rng;
    (void)input;
    (void)output;
    (void)output_max_len;
    *olen = 0;
    return MBEDTLS_ERR_RSA_PRIVATE_FAILED;
}

int board_refuse_rsa_check_pair(const mbedtls_rsa_context *pub, const mbedtls_rsa_context *prv)
{
    (void)pub;
    (void)prv;
    return MBEDTLS_ERR_RSA_KEY_CHECK_FAILED;
}

int board_refuse_ecp_check_pair(const mbedtls_ecp_keypair *pub, const mbedtls_ecp_keypair *prv,
                                int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);
/* rsa.c's calls into rsa_alt_helpers.c, renamed there (board.mk, MBEDTLS_CPPFLAGS_rsa): a
 * private key's parts are neither made nor checked here. The code is one mbedTLS's own helpers
 * never return, so a test can tell the refusal from their answer. */
int board_refuse_rsa_deduce_primes(mbedtls_mpi const *N, mbedtls_mpi const *E, mbedtls_mpi const *D, mbedtls_mpi *P,
                                   mbedtls_mpi *Q);
int board_refuse_rsa_deduce_exponent(mbedtls_mpi const *P, mbedtls_mpi const *Q, mbedtls_mpi const *E,
                                     mbedtls_mpi *D);
int board_refuse_rsa_deduce_crt(const mbedtls_mpi *P, const mbedtls_mpi *Q, const mbedtls_mpi *D, mbedtls_mpi *DP,
                                mbedtls_mpi *DQ, mbedtls_mpi *QP);
int board_refuse_rsa_validate_params(const mbedtls_mpi *N, const mbedtls_mpi *P, const mbedtls_mpi *Q,
                                     const mbedtls_mpi *D, const mbedtls_mpi *E,
                                     int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);
int board_refuse_rsa_validate_crt(const mbedtls_mpi *P, const mbedtls_mpi *Q, const mbedtls_mpi *D,
                                  const mbedtls_mpi *DP, const mbedtls_mpi *DQ, const mbedtls_mpi *QP);

int board_refuse_ecp_check_pair(const mbedtls_ecp_keypair *pub, const mbedtls_ecp_keypair *prv,
                                int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    (void)pub;
    (void)prv;
    (void)f_rng;
    (void)p_rng;
    return MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE;
}

int board_refuse_rsa_deduce_primes(mbedtls_mpi const *N, mbedtls_mpi const *E, mbedtls_mpi const *D, mbedtls_mpi *P,
                                   mbedtls_mpi *Q)
{
    (void)N;
    (void)E;
    (void)D;
    (void)P;
    (void)Q;
    return MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED;
}

int board_refuse_rsa_deduce_exponent(mbedtls_mpi const *P, mbedtls_mpi const *Q, mbedtls_mpi const *E,
                                     mbedtls_mpi *D)
{
    (void)P;
    (void)Q;
    (void)E;
    (void)D;
    return MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED;
}

int board_refuse_rsa_deduce_crt(const mbedtls_mpi *P, const mbedtls_mpi *Q, const mbedtls_mpi *D, mbedtls_mpi *DP,
                                mbedtls_mpi *DQ, mbedtls_mpi *QP)
{
    (void)P;
    (void)Q;
    (void)D;
    (void)DP;
    (void)DQ;
    (void)QP;
    return MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED;
}

int board_refuse_rsa_validate_params(const mbedtls_mpi *N, const mbedtls_mpi *P, const mbedtls_mpi *Q,
                                     const mbedtls_mpi *D, const mbedtls_mpi *E,
                                     int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    (void)N;
    (void)P;
    (void)Q;
    (void)D;
    (void)E;
    (void)f_rng;
    (void)p_rng;
    return MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED;
}

int board_refuse_rsa_validate_crt(const mbedtls_mpi *P, const mbedtls_mpi *Q, const mbedtls_mpi *D,
                                  const mbedtls_mpi *DP, const mbedtls_mpi *DQ, const mbedtls_mpi *QP)
{
    (void)P;
    (void)Q;
    (void)D;
    (void)DP;
    (void)DQ;
    (void)QP;
    return MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED;
}
