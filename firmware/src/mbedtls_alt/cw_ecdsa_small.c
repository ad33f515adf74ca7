/*
 * cw_ecdsa_small.c: a small ECDSA verification for mbedTLS, for boards where flash is tight.
 *
 * certwiz verifies ECDSA signatures (certificates and CMS signers with P-256 or P-384 keys) and
 * never signs with mbedTLS (keys sign in the token). mbedTLS verifies with its general scalar
 * multiplication: the comb method with precomputed tables, mixed additions, batched
 * normalisation and constant-time selection, built for signing with a secret scalar (about
 * 2.4 KB of Cortex-M code, and 0.8 KB more for the constant-time modular inversion). A board
 * that defines MBEDTLS_ECDSA_VERIFY_ALT gets this instead, written from SEC 1 v2 section 4.1.4:
 *
 *   1. r and s in [1, n-1], else the signature is refused;
 *   3. e from the hash: its leftmost bits, as many as n has;
 *   4. w = s^-1 mod n; u1 = e w mod n, u2 = r w mod n;
 *   5. R = u1 G + u2 Q, refused if it is the point at infinity;
 *   6-8. v = x(R) mod n must equal r.
 *
 * R is computed in one pass over the bits of u1 and u2 together (Shamir's trick: double, then
 * add G, Q or G + Q), in Jacobian coordinates (x = X/Z^2, y = Y/Z^3; Z = 0 is the point at
 * infinity) with the doubling for a = -3, which both of certwiz's curves have; other curves are
 * refused (MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE). Every value here is public (the signature, the
 * hash, the key), so nothing needs constant time. Inverses are by Fermat's little theorem (n and
 * p are prime: a^-1 = a^(m-2) mod m) with mbedtls_mpi_exp_mod, which RSA links anyway.
 * Arithmetic is mbedtls_mpi's, reduced mod p after each step. As mbedTLS does, the public key is
 * checked to be a point of the curve first.
 *
 * Speed: faster than mbedTLS's own here, which without MBEDTLS_ECP_NIST_OPTIM reduces with the
 * same general division: in QEMU with -icount shift=5 (32 ns an instruction), P-256 3.9 s against
 * 5.9 s, P-384 11.3 s against 17.3 s (docs/decisions.md 44); once per signature checked.
 * The on-target suite `ecdsa` (tests/target/target_ecdsa.c) checks OpenSSL-made signatures on
 * both curves with both hash lengths, the (r, n - s) twin of one, and refusals. The host board
 * sets no switch: there this file compiles to nothing and mbedTLS's code runs in every test.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/build_info.h"

#if defined(MBEDTLS_ECDSA_C) && defined(MBEDTLS_ECDSA_VERIFY_ALT)

#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"

#define TMP_COUNT 6

/* r = r mod p, in [0, p) also when r is negative. */
static int mod_p(mbedtls_mpi *r, const mbedtls_ecp_group *g)
{
    return mbedtls_mpi_mod_mpi(r, r, &g->P);
}

/* r = a * b mod p (r may be a or b). */
static int mul_p(mbedtls_mpi *r, const mbedtls_mpi *a, const mbedtls_mpi *b, const mbedtls_ecp_group *g)
{
    int ret = mbedtls_mpi_mul_mpi(r, a, b);
    return ret != 0 ? ret : mod_p(r, g);
}

/* r = a - b mod p (r may be a or b). */
static int sub_p(mbedtls_mpi *r, const mbedtls_mpi *a, const mbedtls_mpi *b, const mbedtls_ecp_group *g)
{
    int ret = mbedtls_mpi_sub_mpi(r, a, b);
    return ret != 0 ? ret : mod_p(r, g);
}

/* r = a * 2^k mod p. */
static int shl_p(mbedtls_mpi *r, unsigned k, const mbedtls_ecp_group *g)
{
    int ret = mbedtls_mpi_shift_l(r, k);
    return ret != 0 ? ret : mod_p(r, g);
}

/* p = 2p for a = -3:  M = 3 (X - Z^2)(X + Z^2), S = 4 X Y^2,
 * X' = M^2 - 2S, Y' = M (S - X') - 8 Y^4, Z' = 2 Y Z (infinity, Z = 0, stays infinity). */
static int dbl(mbedtls_ecp_point *p, const mbedtls_ecp_group *g, mbedtls_mpi *t)
{
    int ret;
    mbedtls_mpi *m = &t[0];
    mbedtls_mpi *s = &t[1];
    mbedtls_mpi *yy = &t[2];
    mbedtls_mpi *zz = &t[3];

    MBEDTLS_MPI_CHK(mul_p(zz, &p->Z, &p->Z, g));
    MBEDTLS_MPI_CHK(mbedtls_mpi_sub_mpi(m, &p->X, zz));
    MBEDTLS_MPI_CHK(mbedtls_mpi_add_mpi(zz, &p->X, zz));
    MBEDTLS_MPI_CHK(mul_p(m, m, zz, g));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mul_int(m, m, 3));
    MBEDTLS_MPI_CHK(mod_p(m, g));
    MBEDTLS_MPI_CHK(mul_p(yy, &p->Y, &p->Y, g));
    MBEDTLS_MPI_CHK(mul_p(s, &p->X, yy, g));
    MBEDTLS_MPI_CHK(shl_p(s, 2, g));
    MBEDTLS_MPI_CHK(mul_p(&p->Z, &p->Y, &p->Z, g));
    MBEDTLS_MPI_CHK(shl_p(&p->Z, 1, g));
    MBEDTLS_MPI_CHK(mul_p(&p->X, m, m, g));
    MBEDTLS_MPI_CHK(sub_p(&p->X, &p->X, s, g));
    MBEDTLS_MPI_CHK(sub_p(&p->X, &p->X, s, g));
    MBEDTLS_MPI_CHK(sub_p(s, s, &p->X, g));
    MBEDTLS_MPI_CHK(mul_p(s, m, s, g));
    MBEDTLS_MPI_CHK(mul_p(yy, yy, yy, g));
    MBEDTLS_MPI_CHK(shl_p(yy, 3, g));
    MBEDTLS_MPI_CHK(sub_p(&p->Y, s, yy, g));
cleanup:
    return ret;
}

/* p = p + q:  U1 = X1 Z2^2, U2 = X2 Z1^2, S1 = Y1 Z2^3, S2 = Y2 Z1^3, H = U2 - U1, R = S2 - S1,
 * X' = R^2 - H^3 - 2 U1 H^2, Y' = R (U1 H^2 - X') - S1 H^3, Z' = H Z1 Z2; when H = 0 the points
 * have the same x: p + p = 2p, p + (-p) = infinity. */
static int add(mbedtls_ecp_point *p, const mbedtls_ecp_point *q, const mbedtls_ecp_group *g, mbedtls_mpi *t)
{
    int ret;
    mbedtls_mpi *u1 = &t[0];
    mbedtls_mpi *u2 = &t[1];
    mbedtls_mpi *s1 = &t[2];
    mbedtls_mpi *s2 = &t[3];
    mbedtls_mpi *zz = &t[4];
    mbedtls_mpi *h3 = &t[5];

    if (mbedtls_mpi_cmp_int(&q->Z, 0) == 0) {
        return 0;
    }
    if (mbedtls_mpi_cmp_int(&p->Z, 0) == 0) {
        return mbedtls_ecp_copy(p, q);
    }
    MBEDTLS_MPI_CHK(mul_p(zz, &q->Z, &q->Z, g));
    MBEDTLS_MPI_CHK(mul_p(u1, &p->X, zz, g));
    MBEDTLS_MPI_CHK(mul_p(zz, zz, &q->Z, g));
    MBEDTLS_MPI_CHK(mul_p(s1, &p->Y, zz, g));
    MBEDTLS_MPI_CHK(mul_p(zz, &p->Z, &p->Z, g));
    MBEDTLS_MPI_CHK(mul_p(u2, &q->X, zz, g));
    MBEDTLS_MPI_CHK(mul_p(zz, zz, &p->Z, g));
    MBEDTLS_MPI_CHK(mul_p(s2, &q->Y, zz, g));
    MBEDTLS_MPI_CHK(sub_p(u2, u2, u1, g)); /* H */
    MBEDTLS_MPI_CHK(sub_p(s2, s2, s1, g)); /* R */
    if (mbedtls_mpi_cmp_int(u2, 0) == 0) {
        if (mbedtls_mpi_cmp_int(s2, 0) == 0) {
            return dbl(p, g, t);
        }
        return mbedtls_mpi_lset(&p->Z, 0);
    }
    MBEDTLS_MPI_CHK(mul_p(&p->Z, &p->Z, &q->Z, g));
    MBEDTLS_MPI_CHK(mul_p(&p->Z, &p->Z, u2, g));
    MBEDTLS_MPI_CHK(mul_p(zz, u2, u2, g));   /* H^2 */
    MBEDTLS_MPI_CHK(mul_p(h3, zz, u2, g));   /* H^3 */
    MBEDTLS_MPI_CHK(mul_p(u1, u1, zz, g));   /* U1 H^2 */
    MBEDTLS_MPI_CHK(mul_p(&p->X, s2, s2, g));
    MBEDTLS_MPI_CHK(sub_p(&p->X, &p->X, h3, g));
    MBEDTLS_MPI_CHK(sub_p(&p->X, &p->X, u1, g));
    MBEDTLS_MPI_CHK(sub_p(&p->X, &p->X, u1, g));
    MBEDTLS_MPI_CHK(sub_p(u1, u1, &p->X, g));
    MBEDTLS_MPI_CHK(mul_p(u1, s2, u1, g));
    MBEDTLS_MPI_CHK(mul_p(h3, s1, h3, g));
    MBEDTLS_MPI_CHK(sub_p(&p->Y, u1, h3, g));
cleanup:
    return ret;
}

/* x = a^-1 mod m for a prime m and 0 < a < m: a^(m-2) mod m. */
static int inverse(mbedtls_mpi *x, const mbedtls_mpi *a, const mbedtls_mpi *m, mbedtls_mpi *tmp)
{
    int ret;
    MBEDTLS_MPI_CHK(mbedtls_mpi_sub_int(tmp, m, 2));
    MBEDTLS_MPI_CHK(mbedtls_mpi_exp_mod(x, a, tmp, m, NULL));
cleanup:
    return ret;
}

int mbedtls_ecdsa_verify(mbedtls_ecp_group *grp, const unsigned char *buf, size_t blen,
                         const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s)
{
    int ret;
    mbedtls_mpi e;
    mbedtls_mpi w;
    mbedtls_mpi t[TMP_COUNT];
    mbedtls_ecp_point pts[3]; /* G, Q, G + Q: the point added for bits (1, 0), (0, 1), (1, 1) */
    mbedtls_ecp_point acc;
    size_t nbytes = (grp->nbits + 7u) / 8u;
    size_t bits;

    if (grp->N.p == NULL || !mbedtls_ecp_group_a_is_minus_3(grp) ||
        mbedtls_ecp_get_type(grp) != MBEDTLS_ECP_TYPE_SHORT_WEIERSTRASS) {
        return MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE;
    }
    /* step 1 */
    if (mbedtls_mpi_cmp_int(r, 1) < 0 || mbedtls_mpi_cmp_mpi(r, &grp->N) >= 0 ||
        mbedtls_mpi_cmp_int(s, 1) < 0 || mbedtls_mpi_cmp_mpi(s, &grp->N) >= 0) {
        return MBEDTLS_ERR_ECP_VERIFY_FAILED;
    }
    if ((ret = mbedtls_ecp_check_pubkey(grp, Q)) != 0) {
        return ret;
    }
    mbedtls_mpi_init(&e);
    mbedtls_mpi_init(&w);
    for (size_t i = 0; i < TMP_COUNT; i++) {
        mbedtls_mpi_init(&t[i]);
    }
    for (size_t i = 0; i < 3u; i++) {
        mbedtls_ecp_point_init(&pts[i]);
    }
    mbedtls_ecp_point_init(&acc);

    /* step 3: the hash's leftmost nbits bits */
    MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(&e, buf, blen < nbytes ? blen : nbytes));
    if ((blen < nbytes ? blen : nbytes) * 8u > grp->nbits) {
        MBEDTLS_MPI_CHK(mbedtls_mpi_shift_r(&e, (blen < nbytes ? blen : nbytes) * 8u - grp->nbits));
    }
    /* step 4: u1 = e w (in e), u2 = r w (in w) */
    MBEDTLS_MPI_CHK(inverse(&t[0], s, &grp->N, &t[1]));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(&e, &e, &t[0]));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&e, &e, &grp->N));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(&w, r, &t[0]));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&w, &w, &grp->N));

    /* step 5: R = u1 G + u2 Q, high bits first */
    MBEDTLS_MPI_CHK(mbedtls_ecp_copy(&pts[0], &grp->G));
    MBEDTLS_MPI_CHK(mbedtls_ecp_copy(&pts[1], Q));
    MBEDTLS_MPI_CHK(mbedtls_ecp_copy(&pts[2], &grp->G));
    MBEDTLS_MPI_CHK(add(&pts[2], Q, grp, t));
    MBEDTLS_MPI_CHK(mbedtls_ecp_set_zero(&acc));
    bits = mbedtls_mpi_bitlen(&e) > mbedtls_mpi_bitlen(&w) ? mbedtls_mpi_bitlen(&e) : mbedtls_mpi_bitlen(&w);
    while (bits-- > 0u) {
        int k = mbedtls_mpi_get_bit(&e, bits) | mbedtls_mpi_get_bit(&w, bits) << 1;
        MBEDTLS_MPI_CHK(dbl(&acc, grp, t));
        if (k != 0) {
            MBEDTLS_MPI_CHK(add(&acc, &pts[k - 1], grp, t));
        }
    }
    if (mbedtls_mpi_cmp_int(&acc.Z, 0) == 0) {
        ret = MBEDTLS_ERR_ECP_VERIFY_FAILED;
        goto cleanup;
    }
    /* steps 6 to 8: x = X / Z^2, v = x mod n */
    MBEDTLS_MPI_CHK(mul_p(&t[2], &acc.Z, &acc.Z, grp));
    MBEDTLS_MPI_CHK(inverse(&t[3], &t[2], &grp->P, &t[4]));
    MBEDTLS_MPI_CHK(mul_p(&t[2], &acc.X, &t[3], grp));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&t[2], &t[2], &grp->N));
    if (mbedtls_mpi_cmp_mpi(&t[2], r) != 0) {
        ret = MBEDTLS_ERR_ECP_VERIFY_FAILED;
    }

cleanup:
    mbedtls_mpi_free(&e);
    mbedtls_mpi_free(&w);
    for (size_t i = 0; i < TMP_COUNT; i++) {
        mbedtls_mpi_free(&t[i]);
    }
    for (size_t i = 0; i < 3u; i++) {
        mbedtls_ecp_point_free(&pts[i]);
    }
    mbedtls_ecp_point_free(&acc);
    return ret;
}

#endif /* MBEDTLS_ECDSA_C && MBEDTLS_ECDSA_VERIFY_ALT */
