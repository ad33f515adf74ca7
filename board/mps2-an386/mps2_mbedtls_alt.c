/*
 * mps2_mbedtls_alt.c: mbedTLS functions this board replaces through mbedtls_config.h's *_ALT
 * options, to leave out code that can never run on it.
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
