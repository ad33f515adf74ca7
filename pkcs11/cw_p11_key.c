/*
 * cw_p11_key.c: key generation, key lookup, public key export, signing and decryption.
 */
#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw_p11_internal.h"
#include "mbedtls/asn1.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/oid.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"

/* ---- key types -------------------------------------------------------------------------------- */

/* ECParameters ::= namedCurve OBJECT IDENTIFIER (RFC 5480 2.1.1), as CKA_EC_PARAMS wants it. */
static const uint8_t ec_params_p256[] = "\x06\x08" MBEDTLS_OID_EC_GRP_SECP256R1;
static const uint8_t ec_params_p384[] = "\x06\x05" MBEDTLS_OID_EC_GRP_SECP384R1;
#define EC_PARAMS_LEN(a) (sizeof(a) - 1u) /* without the string literal's NUL */

static bool is_rsa(cw_key_type t)
{
    return t == CW_KEY_RSA2048 || t == CW_KEY_RSA3072 || t == CW_KEY_RSA4096;
}

static bool is_ec(cw_key_type t)
{
    return t == CW_KEY_EC_P256 || t == CW_KEY_EC_P384;
}

/* RSA: modulus bytes. EC: bytes of one coordinate. */
static size_t key_bytes(cw_key_type t)
{
    switch (t) {
    case CW_KEY_RSA2048: return 256u;
    case CW_KEY_RSA3072: return 384u;
    case CW_KEY_RSA4096: return 512u;
    case CW_KEY_EC_P256: return 32u;
    case CW_KEY_EC_P384: return 48u;
    case CW_KEY_NONE: break;
    }
    return 0u;
}

/* ---- DER helpers (mbedTLS writes backwards from the end of a buffer) -------------------------- */

static size_t der_len_size(size_t n)
{
    return n < 0x80u ? 1u : n < 0x100u ? 2u : n < 0x10000u ? 3u : 4u;
}

static size_t der_tlv_size(size_t content)
{
    return 1u + der_len_size(content) + content;
}

/* Content length of the INTEGER holding the unsigned big-endian v[0..n). */
static size_t der_uint_content(const uint8_t *v, size_t n)
{
    while (n > 1u && v[0] == 0u) {
        v++;
        n--;
    }
    return n + ((n > 0u && (v[0] & 0x80u) != 0u) ? 1u : 0u) + (n == 0u ? 1u : 0u);
}

/* Writes the unsigned big-endian v[0..n) as a DER INTEGER. Returns bytes written or < 0. */
static int der_write_uint(unsigned char **p, unsigned char *start, const uint8_t *v, size_t n)
{
    static const uint8_t zero = 0;
    while (n > 1u && v[0] == 0u) {
        v++;
        n--;
    }
    if (n == 0u) {
        v = &zero;
        n = 1u;
    }
    int ret;
    size_t len = 0;
    if ((ret = mbedtls_asn1_write_raw_buffer(p, start, v, n)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    if ((v[0] & 0x80u) != 0u) {
        if ((ret = mbedtls_asn1_write_raw_buffer(p, start, &zero, 1u)) < 0) {
            return ret;
        }
        len += (size_t)ret;
    }
    if ((ret = mbedtls_asn1_write_len(p, start, len)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    if ((ret = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_INTEGER)) < 0) {
        return ret;
    }
    return (int)(len + (size_t)ret);
}

/* Closes a constructed value of content length len just written: adds length and tag. */
static int der_close(unsigned char **p, unsigned char *start, size_t len, unsigned char tag)
{
    int ret;
    size_t total = len;
    if ((ret = mbedtls_asn1_write_len(p, start, len)) < 0) {
        return ret;
    }
    total += (size_t)ret;
    if ((ret = mbedtls_asn1_write_tag(p, start, tag)) < 0) {
        return ret;
    }
    return (int)(total + (size_t)ret);
}

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

/* ---- public key parts ----------------------------------------------------------------------- */

/* Scratch for a public key read from the token; taken from the arena (about 640 bytes). */
typedef struct pubkey_parts {
    cw_key_type type;
    uint8_t n[CW_P11_RSA_MODULUS_MAX];
    size_t n_len;
    uint8_t e[CW_P11_RSA_EXPONENT_MAX];
    size_t e_len;
    uint8_t point[CW_P11_EC_POINT_MAX]; /* 04 || X || Y */
    size_t point_len;
} pubkey_parts;

/* Reads an attribute of known maximum size into buf. Over cap: CW_ERR_TOO_LARGE. */
static cw_err get_bounded(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t *buf,
                          size_t cap, size_t *len)
{
    cw_err e = cw_p11__get_attr(ctx, h, type, buf, cap, len);
    return e == CW_ERR_BUFFER_SMALL ? CW_ERR_TOO_LARGE : e;
}

/* CKA_EC_POINT: PKCS#11 v2.40 says DER OCTET STRING (SoftHSM2 does that); some tokens give the
 * raw point. Both are accepted; the result is the raw uncompressed point of coord-byte X and Y. */
static cw_err unwrap_ec_point(const uint8_t *v, size_t n, size_t coord, uint8_t *out, size_t *out_len)
{
    size_t want = 1u + 2u * coord;
    const uint8_t *pt = v;
    size_t len = n;
    if (!(n == want && v[0] == 0x04u)) {
        unsigned char *p = (unsigned char *)(uintptr_t)v;
        const unsigned char *end = v + n;
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 || p + len != end) {
            return CW_ERR_MALFORMED;
        }
        pt = p;
    }
    if (len != want || pt[0] != 0x04u) {
        return CW_ERR_NOT_SUPPORTED; /* compressed or hybrid point, or a different curve size */
    }
    memcpy(out, pt, len);
    *out_len = len;
    return CW_OK;
}

static cw_err read_pubkey(cw_p11_ctx *ctx, CK_OBJECT_HANDLE pub, pubkey_parts *pp)
{
    CK_KEY_TYPE kt = 0;
    size_t len = 0;
    cw_err e = get_bounded(ctx, pub, CKA_KEY_TYPE, (uint8_t *)&kt, sizeof kt, &len);
    if (e != CW_OK) {
        return e;
    }
    if (kt == CKK_RSA) {
        e = get_bounded(ctx, pub, CKA_MODULUS, pp->n, sizeof pp->n, &pp->n_len);
        if (e == CW_ERR_TOO_LARGE) {
            return CW_ERR_NOT_SUPPORTED;
        }
        if (e == CW_OK) {
            e = get_bounded(ctx, pub, CKA_PUBLIC_EXPONENT, pp->e, sizeof pp->e, &pp->e_len);
        }
        if (e != CW_OK) {
            return e;
        }
        size_t skip = 0;
        while (skip < pp->n_len && pp->n[skip] == 0u) {
            skip++;
        }
        switch (pp->n_len - skip) {
        case 256u: pp->type = CW_KEY_RSA2048; break;
        case 384u: pp->type = CW_KEY_RSA3072; break;
        case 512u: pp->type = CW_KEY_RSA4096; break;
        default: return CW_ERR_NOT_SUPPORTED;
        }
        return CW_OK;
    }
    if (kt == CKK_EC) {
        uint8_t params[16];
        uint8_t raw[CW_P11_EC_POINT_MAX + 4u]; /* OCTET STRING header of at most 2 bytes */
        e = get_bounded(ctx, pub, CKA_EC_PARAMS, params, sizeof params, &len);
        if (e == CW_ERR_TOO_LARGE) {
            return CW_ERR_NOT_SUPPORTED;
        }
        if (e != CW_OK) {
            return e;
        }
        if (len == EC_PARAMS_LEN(ec_params_p256) && memcmp(params, ec_params_p256, len) == 0) {
            pp->type = CW_KEY_EC_P256;
        } else if (len == EC_PARAMS_LEN(ec_params_p384) && memcmp(params, ec_params_p384, len) == 0) {
            pp->type = CW_KEY_EC_P384;
        } else {
            return CW_ERR_NOT_SUPPORTED;
        }
        e = get_bounded(ctx, pub, CKA_EC_POINT, raw, sizeof raw, &len);
        if (e == CW_ERR_TOO_LARGE) {
            return CW_ERR_NOT_SUPPORTED;
        }
        if (e != CW_OK) {
            return e;
        }
        return unwrap_ec_point(raw, len, key_bytes(pp->type), pp->point, &pp->point_len);
    }
    return CW_ERR_NOT_SUPPORTED;
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }   (RFC 8017 A.1.1) */
static size_t rsa_pubkey_size(const pubkey_parts *pp)
{
    return der_tlv_size(der_tlv_size(der_uint_content(pp->n, pp->n_len)) +
                        der_tlv_size(der_uint_content(pp->e, pp->e_len)));
}

static int write_rsa_pubkey(unsigned char **p, unsigned char *start, const pubkey_parts *pp)
{
    int ret;
    size_t len = 0;
    if ((ret = der_write_uint(p, start, pp->e, pp->e_len)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    if ((ret = der_write_uint(p, start, pp->n, pp->n_len)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    return der_close(p, start, len, SEQ);
}

/* Length of the subjectPublicKey BIT STRING's contents (without the unused-bits byte). */
static size_t spk_bits_size(const pubkey_parts *pp)
{
    return is_rsa(pp->type) ? rsa_pubkey_size(pp) : pp->point_len;
}

/*
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 * RSA (RFC 3279 2.3.1): algorithm rsaEncryption, parameters NULL; key bits RSAPublicKey.
 * EC (RFC 5480 2.1.1): algorithm id-ecPublicKey, parameters namedCurve; key bits the
 * uncompressed ECPoint.
 */
static size_t spki_size(const pubkey_parts *pp)
{
    size_t alg;
    if (is_rsa(pp->type)) {
        alg = der_tlv_size(der_tlv_size(MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_RSA)) + 2u);
    } else {
        size_t curve = pp->type == CW_KEY_EC_P256 ? EC_PARAMS_LEN(ec_params_p256)
                                                  : EC_PARAMS_LEN(ec_params_p384);
        alg = der_tlv_size(der_tlv_size(MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_ALG_UNRESTRICTED)) + curve);
    }
    return der_tlv_size(alg + der_tlv_size(1u + spk_bits_size(pp)));
}

static int write_spki(unsigned char **p, unsigned char *start, const pubkey_parts *pp)
{
    int ret;
    size_t len = 0;
    if (is_rsa(pp->type)) {
        if ((ret = write_rsa_pubkey(p, start, pp)) < 0) {
            return ret;
        }
    } else if ((ret = mbedtls_asn1_write_raw_buffer(p, start, pp->point, pp->point_len)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    static const uint8_t no_unused_bits = 0;
    if ((ret = mbedtls_asn1_write_raw_buffer(p, start, &no_unused_bits, 1u)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    if ((ret = der_close(p, start, len, MBEDTLS_ASN1_BIT_STRING)) < 0) {
        return ret;
    }
    len = (size_t)ret;
    if (is_rsa(pp->type)) {
        ret = mbedtls_asn1_write_algorithm_identifier(p, start, MBEDTLS_OID_PKCS1_RSA,
                                                      MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_RSA), 0);
    } else {
        const uint8_t *curve = pp->type == CW_KEY_EC_P256 ? ec_params_p256 : ec_params_p384;
        size_t clen = pp->type == CW_KEY_EC_P256 ? EC_PARAMS_LEN(ec_params_p256)
                                                 : EC_PARAMS_LEN(ec_params_p384);
        if ((ret = mbedtls_asn1_write_raw_buffer(p, start, curve, clen)) < 0) {
            return ret;
        }
        ret = mbedtls_asn1_write_algorithm_identifier(
            p, start, MBEDTLS_OID_EC_ALG_UNRESTRICTED,
            MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_ALG_UNRESTRICTED), clen);
    }
    if (ret < 0) {
        return ret;
    }
    len += (size_t)ret;
    return der_close(p, start, len, SEQ);
}

/* CKA_ID: SHA-1 over the subjectPublicKey BIT STRING contents, as openssl computes the
 * subjectKeyIdentifier (RFC 5280 4.2.1.2, method 1). */
static cw_err key_id(const pubkey_parts *pp, uint8_t id[CW_P11_KEY_ID_LEN])
{
    if (is_ec(pp->type)) {
        return CW_ERR_FROM_MBEDTLS(mbedtls_sha1(pp->point, pp->point_len, id));
    }
    size_t n = rsa_pubkey_size(pp);
    uint8_t *buf = cw_arena_alloc(n);
    if (buf == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    unsigned char *p = buf + n;
    int ret = write_rsa_pubkey(&p, buf, pp);
    cw_err e = ret < 0 ? CW_ERR_FROM_MBEDTLS(ret) : (p != buf ? CW_ERR_INTERNAL : CW_OK);
    if (e == CW_OK) {
        e = CW_ERR_FROM_MBEDTLS(mbedtls_sha1(buf, n, id));
    }
    cw_arena_free(buf);
    return e;
}

/* A token may drop the handles of private objects at logout (SoftHSM2 does) and then answer
 * a handle error for a key it still holds; while the session is logged out the real cause is
 * the missing login, and that is what the operator needs to hear. */
static cw_err key_use_error(cw_p11_ctx *ctx, const char *call, CK_RV rv)
{
    cw_err e = cw_p11__rv(ctx, call, rv);
    if ((rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID) && !cw_p11_logged_in(ctx)) {
        ctx->last_call = call;
        return CW_ERR_NOT_LOGGED_IN;
    }
    return e;
}

/* ---- key generation ---------------------------------------------------------------------------- */

/* Most mechanisms read from C_GetMechanismList (SoftHSM2 2.6 lists 70; taken from the arena). */
#define MECH_LIST_MAX 256u

/* The mechanisms certwiz can use, one bit each in cw_p11_mechs_t.usable (bit = index), with the
 * flag the token must give it; CKM_RSA_PKCS also has a decryption bit, M_RSA_DECRYPT. */
enum {
    M_RSA_GEN, M_EC_GEN, M_RSA_PKCS, M_SHA1_RSA, M_SHA256_RSA, M_SHA384_RSA,
    M_ECDSA, M_ECDSA_SHA1, M_ECDSA_SHA256, M_ECDSA_SHA384, M_COUNT,
    M_RSA_DECRYPT = M_COUNT
};
static const CK_MECHANISM_TYPE mech_of[M_COUNT] = {
    CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS,
    CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_ECDSA, CKM_ECDSA_SHA1, CKM_ECDSA_SHA256,
    CKM_ECDSA_SHA384,
};

#define USABLE(ctx, m) (((ctx)->mechs.usable & (1u << (m))) != 0u)

/* What the token offers, read once per open: C_GetMechanismList (what it offers on this slot;
 * SoftHSM2 filters only this list by its configuration), then C_GetMechanismInfo of each listed
 * mechanism certwiz can use. A list longer than MECH_LIST_MAX is read as listing everything. */
static cw_err load_mechs(cw_p11_ctx *ctx)
{
    if (ctx->mechs.loaded) {
        return CW_OK;
    }
    CK_MECHANISM_TYPE *list = cw_arena_alloc(MECH_LIST_MAX * sizeof *list);
    if (list == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    CK_ULONG n = MECH_LIST_MAX;
    CK_RV rv = CW_P11_FN(ctx, C_GetMechanismList)(ctx->slot, list, &n);
    cw_err e = CW_OK;
    if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) {
        e = cw_p11__rv(ctx, "C_GetMechanismList", rv);
    }
    cw_p11_mechs_t m = {.loaded = true};
    for (unsigned i = 0; e == CW_OK && i < M_COUNT; i++) {
        bool listed = rv == CKR_BUFFER_TOO_SMALL;
        for (CK_ULONG j = 0; !listed && j < n; j++) {
            listed = list[j] == mech_of[i];
        }
        CK_MECHANISM_INFO mi;
        CK_RV irv = listed ? CW_P11_FN(ctx, C_GetMechanismInfo)(ctx->slot, mech_of[i], &mi) : CKR_MECHANISM_INVALID;
        if (irv == CKR_MECHANISM_INVALID) {
            continue;
        }
        if (irv != CKR_OK) {
            e = cw_p11__rv(ctx, "C_GetMechanismInfo", irv);
            break;
        }
        CK_FLAGS need = i <= M_EC_GEN ? CKF_GENERATE_KEY_PAIR : CKF_SIGN;
        if ((mi.flags & need) != 0u) {
            m.usable = (uint16_t)(m.usable | (1u << i));
        }
        if (i == M_RSA_PKCS && (mi.flags & CKF_DECRYPT) != 0u) {
            m.usable = (uint16_t)(m.usable | (1u << M_RSA_DECRYPT));
        }
        if (i == M_RSA_GEN) {
            m.rsa_min = mi.ulMinKeySize;
            m.rsa_max = mi.ulMaxKeySize;
        } else if (i == M_EC_GEN) {
            m.ec_min = mi.ulMinKeySize;
            m.ec_max = mi.ulMaxKeySize;
        }
    }
    cw_arena_free(list);
    if (e == CW_OK) {
        ctx->mechs = m;
    }
    return e;
}

/* The mechanism index that signs with a key of type t over hash h: with the data at hand
 * (have_data), a hash-and-sign mechanism when the token offers one, else the raw mechanism over
 * the digest (RSA: over the DigestInfo). Hash-and-sign first for RSA because a raw CKM_RSA_PKCS
 * "signature" is an RSA private-key operation on any bytes, which a token may do only with a key
 * that may also decrypt (a TPM does; notes/tpm2-token.md); raw first for ECDSA, which has no such
 * difference and leaves the hashing, and the data's trip to the token, out. -1: none. */
static int sign_mech_index(const cw_p11_ctx *ctx, cw_key_type t, cw_hash_alg h, bool have_data)
{
    int hs;
    if (is_rsa(t)) {
        hs = h == CW_HASH_SHA1 ? M_SHA1_RSA : h == CW_HASH_SHA256 ? M_SHA256_RSA : M_SHA384_RSA;
        return have_data && USABLE(ctx, hs) ? hs : USABLE(ctx, M_RSA_PKCS) ? M_RSA_PKCS : -1;
    }
    hs = h == CW_HASH_SHA1 ? M_ECDSA_SHA1 : h == CW_HASH_SHA256 ? M_ECDSA_SHA256 : M_ECDSA_SHA384;
    return USABLE(ctx, M_ECDSA) ? M_ECDSA : have_data && USABLE(ctx, hs) ? hs : -1;
}

cw_err cw_p11_sign_mechanism(cw_p11_ctx *ctx, cw_key_type type, cw_hash_alg hash, CK_MECHANISM_TYPE *mech)
{
    if (mech == NULL || (!is_rsa(type) && !is_ec(type)) ||
        (hash != CW_HASH_SHA1 && hash != CW_HASH_SHA256 && hash != CW_HASH_SHA384)) {
        return CW_ERR_INVALID_ARG;
    }
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    cw_err e = load_mechs(ctx);
    int i = e == CW_OK ? sign_mech_index(ctx, type, hash, true) : -1;
    if (e == CW_OK && i < 0) {
        ctx->last_call = "C_GetMechanismInfo";
        e = CW_ERR_MECHANISM;
    }
    *mech = i < 0 ? CK_UNAVAILABLE_INFORMATION : mech_of[i];
    return e;
}

cw_err cw_p11_key_size_check(cw_p11_ctx *ctx, cw_key_type type, cw_p11_key_range_t *range)
{
    if (range == NULL || (!is_rsa(type) && !is_ec(type))) {
        return CW_ERR_INVALID_ARG;
    }
    memset(range, 0, sizeof *range);
    range->bits = (unsigned long)(key_bytes(type) * 8u);
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    cw_err e = load_mechs(ctx);
    if (e != CW_OK) {
        return e;
    }
    if (!USABLE(ctx, is_rsa(type) ? M_RSA_GEN : M_EC_GEN)) {
        ctx->last_call = "C_GetMechanismList";
        return CW_ERR_MECHANISM;
    }
    range->min = is_rsa(type) ? ctx->mechs.rsa_min : ctx->mechs.ec_min;
    range->max = is_rsa(type) ? ctx->mechs.rsa_max : ctx->mechs.ec_max;
    /* PKCS#11 v2.40 allows bytes for some mechanisms' sizes; both generators here count bits,
     * and a range of 0..0 means the token does not say */
    if (range->max != 0u && (range->bits < range->min || range->bits > range->max)) {
        ctx->last_call = "C_GetMechanismInfo";
        return CW_ERR_KEY_SIZE;
    }
    return CW_OK;
}

/* The private half first: if the token refuses to remove it, the public half stays beside it
 * (a private key without its public half cannot be paired, listed or pruned by its ID).
 * CK_INVALID_HANDLE: that half is not there. */
static cw_err destroy_halves(cw_p11_ctx *ctx, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub)
{
    cw_err e = priv != CK_INVALID_HANDLE ? cw_p11_destroy(ctx, priv) : CW_OK;
    if (e == CW_OK && pub != CK_INVALID_HANDLE) {
        e = cw_p11_destroy(ctx, pub);
    }
    return e;
}

/* Reads CKA_CLASS and CKA_ID of h in one call and says whether they still name this half of key:
 * a token may give a destroyed object's handle to a new object (tpm2-pkcs11 does). An object
 * that is gone answers CKR_OBJECT_HANDLE_INVALID, which comes back as is. */
static cw_err check_half(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h, CK_OBJECT_CLASS want, const cw_p11_key *key)
{
    CK_OBJECT_CLASS cls = 0;
    uint8_t id[CW_P11_KEY_ID_LEN];
    CK_ATTRIBUTE t[] = {CW_P11_ATTR(CKA_CLASS, &cls, sizeof cls), CW_P11_ATTR(CKA_ID, id, sizeof id)};
    CK_RV rv = CW_P11_FN(ctx, C_GetAttributeValue)(ctx->session, h, t, 2);
    if (rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID) {
        return CW_ERR_TOKEN_HANDLE_REUSED; /* an ID longer than a certwiz key's, or none at all */
    }
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_GetAttributeValue", rv);
    }
    if (cls != want || t[1].ulValueLen != (CK_ULONG)key->id_len || memcmp(id, key->id, key->id_len) != 0) {
        ctx->last_call = "C_GetAttributeValue";
        return CW_ERR_TOKEN_HANDLE_REUSED;
    }
    return CW_OK;
}

/* A key whose handles were read before the last fresh login (cw_p11_relogin) is found again by
 * its CKA_ID into *tmp, and *key points there. */
static cw_err current_handles(cw_p11_ctx *ctx, const cw_p11_key **key, cw_p11_key *tmp)
{
    if ((*key)->gen == ctx->gen) {
        return CW_OK;
    }
    cw_err e = cw_p11_key_find_by_id(ctx, (*key)->id, (*key)->id_len, tmp);
    if (e == CW_OK) {
        *key = tmp;
    }
    return e;
}

/* The token refused a key generation or use (*e) as a token without room for another loaded key
 * does, after key work earlier in this login (cw_p11_set_relogin): the hook logs in afresh and
 * *e gets its answer. True: try once more. */
static bool retry_after_fresh_login(cw_p11_ctx *ctx, bool work_before, cw_err *e)
{
    if (!work_before || ctx->relogin_fn == NULL ||
        (!CW_ERR_IS_P11(*e, CKR_GENERAL_ERROR) && !CW_ERR_IS_P11(*e, CKR_DEVICE_MEMORY))) {
        return false;
    }
    *e = ctx->relogin_fn(ctx, ctx->relogin_arg);
    return *e == CW_OK;
}

cw_err cw_p11_key_destroy(cw_p11_ctx *ctx, const cw_p11_key *key)
{
    if (key == NULL || key->id_len > CW_P11_KEY_ID_LEN) {
        return CW_ERR_INVALID_ARG;
    }
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    cw_p11_key now;
    cw_err e = current_handles(ctx, &key, &now);
    if (e != CW_OK) {
        return e == CW_ERR_NOT_FOUND ? CW_OK : e; /* both halves already gone */
    }
    /* Both halves checked before either goes; a half already gone is no reason to keep the other. */
    cw_err ep = key->priv != CK_INVALID_HANDLE ? check_half(ctx, key->priv, CKO_PRIVATE_KEY, key)
                                               : CW_ERR_FROM_P11(CKR_OBJECT_HANDLE_INVALID);
    cw_err eu = key->pub != CK_INVALID_HANDLE ? check_half(ctx, key->pub, CKO_PUBLIC_KEY, key)
                                              : CW_ERR_FROM_P11(CKR_OBJECT_HANDLE_INVALID);
    const cw_err gone = CW_ERR_FROM_P11(CKR_OBJECT_HANDLE_INVALID);
    if ((ep != CW_OK && ep != gone) || (eu != CW_OK && eu != gone)) {
        return ep != CW_OK && ep != gone ? ep : eu;
    }
    return destroy_halves(ctx, ep == CW_OK ? key->priv : CK_INVALID_HANDLE,
                          eu == CW_OK ? key->pub : CK_INVALID_HANDLE);
}

/* After generation: compute the ID from the public key and set it on both halves. */
static cw_err set_key_id(cw_p11_ctx *ctx, cw_p11_key *k)
{
    pubkey_parts *pp = cw_arena_alloc(sizeof *pp);
    if (pp == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    cw_err e = read_pubkey(ctx, k->pub, pp);
    if (e == CW_OK && pp->type != k->type) {
        e = CW_ERR_INTERNAL; /* the token made a different key than asked */
    }
    if (e == CW_OK) {
        e = key_id(pp, k->id);
    }
    cw_arena_free(pp);
    if (e != CW_OK) {
        return e;
    }
    k->id_len = CW_P11_KEY_ID_LEN;
    CK_ATTRIBUTE id = CW_P11_ATTR(CKA_ID, k->id, k->id_len);
    CK_RV rv = CW_P11_FN(ctx, C_SetAttributeValue)(ctx->session, k->priv, &id, 1);
    if (rv == CKR_OK) {
        rv = CW_P11_FN(ctx, C_SetAttributeValue)(ctx->session, k->pub, &id, 1);
    }
    return cw_p11__rv(ctx, "C_SetAttributeValue", rv);
}

cw_err cw_p11_keygen(cw_p11_ctx *ctx, cw_key_type type, const char *label, bool allow_decrypt,
                     cw_p11_key *out)
{
    if (out == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    if (label == NULL || (!is_rsa(type) && !is_ec(type)) || (allow_decrypt && !is_rsa(type))) {
        return CW_ERR_INVALID_ARG;
    }

    CK_MECHANISM gen = {is_rsa(type) ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL_PTR, 0};
    CK_ULONG bits = (CK_ULONG)(key_bytes(type) * 8u);
    cw_p11_key_range_t range;
    cw_err e = cw_p11_key_size_check(ctx, type, &range);
    if (e != CW_OK) {
        return e;
    }
    /* no key the token could not sign with (SHA-256 is what certwiz signs with), or decrypt */
    if (sign_mech_index(ctx, type, CW_HASH_SHA256, true) < 0 || (allow_decrypt && !USABLE(ctx, M_RSA_DECRYPT))) {
        ctx->last_call = "C_GetMechanismList";
        return CW_ERR_MECHANISM;
    }

    CK_BBOOL yes = CK_TRUE, no = CK_FALSE, dec = allow_decrypt ? CK_TRUE : CK_FALSE;
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    size_t label_len = strlen(label);
    const uint8_t *params = type == CW_KEY_EC_P256 ? ec_params_p256 : ec_params_p384;
    size_t params_len = type == CW_KEY_EC_P256 ? EC_PARAMS_LEN(ec_params_p256)
                                               : EC_PARAMS_LEN(ec_params_p384);
    /* No CKA_VERIFY or CKA_ENCRYPT: certwiz never verifies or encrypts in the token, and a token
     * may tie them to the private key's uses (tpm2-pkcs11 refuses VERIFY != DECRYPT and
     * ENCRYPT != SIGN, notes/tpm2-token.md); the token's defaults are what it can make. */
    CK_ATTRIBUTE pub_t[] = {
        CW_P11_ATTR(CKA_TOKEN, &yes, sizeof yes),
        CW_P11_ATTR(CKA_PRIVATE, &no, sizeof no),
        CW_P11_ATTR(CKA_WRAP, &no, sizeof no),
        CW_P11_ATTR(CKA_LABEL, label, label_len),
        /* type-specific: the last two slots */
        CW_P11_ATTR(CKA_MODULUS_BITS, &bits, sizeof bits),
        CW_P11_ATTR(CKA_PUBLIC_EXPONENT, f4, sizeof f4),
    };
    CK_ULONG pub_n = sizeof pub_t / sizeof pub_t[0];
    if (is_ec(type)) {
        pub_t[pub_n - 2u] = (CK_ATTRIBUTE)CW_P11_ATTR(CKA_EC_PARAMS, params, params_len);
        pub_n--;
    }
    CK_ATTRIBUTE priv_t[] = {
        CW_P11_ATTR(CKA_TOKEN, &yes, sizeof yes),
        CW_P11_ATTR(CKA_PRIVATE, &yes, sizeof yes),
        CW_P11_ATTR(CKA_SENSITIVE, &yes, sizeof yes),
        CW_P11_ATTR(CKA_EXTRACTABLE, &no, sizeof no),
        CW_P11_ATTR(CKA_SIGN, &yes, sizeof yes),
        CW_P11_ATTR(CKA_DECRYPT, &dec, sizeof dec),
        CW_P11_ATTR(CKA_UNWRAP, &no, sizeof no),
        CW_P11_ATTR(CKA_DERIVE, &no, sizeof no),
        CW_P11_ATTR(CKA_LABEL, label, label_len),
    };
    CK_ULONG priv_n = sizeof priv_t / sizeof priv_t[0];

    bool work_before = ctx->key_work;
    for (bool again = false;; again = true) { /* once more after a fresh login, at most */
        CK_RV rv = CW_P11_FN(ctx, C_GenerateKeyPair)(ctx->session, &gen, pub_t, pub_n, priv_t, priv_n, &out->pub,
                                                     &out->priv);
        ctx->key_work = true;
        if (rv == CKR_OK) {
            break;
        }
        memset(out, 0, sizeof *out);
        e = cw_p11__rv(ctx, "C_GenerateKeyPair", rv);
        if (again || !retry_after_fresh_login(ctx, work_before, &e)) {
            return e;
        }
    }
    out->type = type;
    out->gen = ctx->gen;
    e = set_key_id(ctx, out);
    if (e != CW_OK) {
        (void)destroy_halves(ctx, out->priv, out->pub); /* just made: no handle can be reused */
        memset(out, 0, sizeof *out);
    }
    return e;
}

/* ---- finding a key pair -------------------------------------------------------------------------- */

static cw_err find_one(cw_p11_ctx *ctx, const cw_p11_match_t *m, CK_OBJECT_HANDLE *h)
{
    size_t n = 0;
    cw_err e = cw_p11_find(ctx, m, h, 1u, &n);
    if (e == CW_ERR_BUFFER_SMALL) {
        return CW_ERR_AMBIGUOUS;
    }
    if (e == CW_OK && n == 0u) {
        return CW_ERR_NOT_FOUND;
    }
    return e;
}

/* Given the private key, finds its public half by CKA_ID and fills out. */
static cw_err complete_pair(cw_p11_ctx *ctx, CK_OBJECT_HANDLE priv, const char *label, cw_p11_key *out)
{
    size_t id_len = 0;
    cw_err e = cw_p11__get_attr(ctx, priv, CKA_ID, out->id, sizeof out->id, &id_len);
    if (e == CW_ERR_BUFFER_SMALL) {
        return CW_ERR_TOO_LARGE;
    }
    if (e != CW_OK) {
        return e;
    }
    cw_p11_match_t m = {.has_class = true, .cls = CKO_PUBLIC_KEY};
    if (id_len > 0u) {
        m.id = out->id;
        m.id_len = id_len;
    } else {
        m.label = label; /* a key without CKA_ID (another tool's): pair by label */
        if (label == NULL) {
            return CW_ERR_NOT_FOUND;
        }
    }
    e = find_one(ctx, &m, &out->pub);
    if (e != CW_OK) {
        return e;
    }
    out->priv = priv;
    out->id_len = id_len;
    out->gen = ctx->gen;

    pubkey_parts *pp = cw_arena_alloc(sizeof *pp);
    if (pp == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    e = read_pubkey(ctx, out->pub, pp);
    out->type = pp->type;
    cw_arena_free(pp);
    return e;
}

/* The one private key matching m, completed with its public key; out zeroed on failure. */
static cw_err find_pair(cw_p11_ctx *ctx, const cw_p11_match_t *m, const char *label, cw_p11_key *out)
{
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
    cw_err e = find_one(ctx, m, &priv);
    if (e == CW_OK) {
        e = complete_pair(ctx, priv, label, out);
    }
    if (e != CW_OK) {
        memset(out, 0, sizeof *out);
    }
    return e;
}

cw_err cw_p11_key_find_by_id(cw_p11_ctx *ctx, const uint8_t *id, size_t id_len, cw_p11_key *out)
{
    if (out == NULL || id == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    if (id_len > CW_P11_KEY_ID_LEN) {
        return CW_ERR_TOO_LARGE;
    }
    cw_p11_match_t m = {.has_class = true, .cls = CKO_PRIVATE_KEY, .id = id, .id_len = id_len};
    return find_pair(ctx, &m, NULL, out);
}

cw_err cw_p11_key_find_by_label(cw_p11_ctx *ctx, const char *label, cw_p11_key *out)
{
    if (out == NULL || label == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    cw_p11_match_t m = {.has_class = true, .cls = CKO_PRIVATE_KEY, .label = label};
    return find_pair(ctx, &m, label, out);
}

/* ---- public key export ---------------------------------------------------------------------------- */

cw_err cw_p11_pubkey_spki(cw_p11_ctx *ctx, const cw_p11_key *key, uint8_t *out, size_t cap,
                          size_t *len)
{
    if (key == NULL || len == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    cw_p11_key now;
    cw_err e = current_handles(ctx, &key, &now);
    if (e != CW_OK) {
        return e;
    }
    pubkey_parts *pp = cw_arena_alloc(sizeof *pp);
    if (pp == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    e = read_pubkey(ctx, key->pub, pp);
    if (e == CW_OK) {
        size_t need = spki_size(pp);
        *len = need;
        if (out == NULL || cap < need) {
            e = CW_ERR_BUFFER_SMALL;
        } else {
            unsigned char *p = out + need;
            int ret = write_spki(&p, out, pp);
            e = ret < 0 ? CW_ERR_FROM_MBEDTLS(ret) : (p != out ? CW_ERR_INTERNAL : CW_OK);
        }
    }
    cw_arena_free(pp);
    return e;
}

/* ---- signing ----------------------------------------------------------------------------------------- */

static size_t hash_len(cw_hash_alg h)
{
    switch (h) {
    case CW_HASH_SHA1: return 20u;
    case CW_HASH_SHA256: return 32u;
    case CW_HASH_SHA384: return 48u;
    }
    return 0u;
}

static cw_err hash_data(cw_hash_alg h, const uint8_t *data, size_t len, uint8_t *out)
{
    switch (h) {
    case CW_HASH_SHA1: return CW_ERR_FROM_MBEDTLS(mbedtls_sha1(data, len, out));
    case CW_HASH_SHA256: return CW_ERR_FROM_MBEDTLS(mbedtls_sha256(data, len, out, 0));
    case CW_HASH_SHA384: return CW_ERR_FROM_MBEDTLS(mbedtls_sha512(data, len, out, 1));
    }
    return CW_ERR_INVALID_ARG;
}

/*
 * DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
 * (RFC 8017 9.2, step 2), with NULL parameters as RFC 8017 Note 1 lists them. At most
 * 2 + (2 + 11 + 2) + (2 + 48) = 67 bytes (SHA-384).
 */
#define DIGEST_INFO_MAX 80u

static int write_digest_info(unsigned char **p, unsigned char *start, cw_hash_alg h,
                             const uint8_t *digest, size_t dlen)
{
    const char *oid;
    size_t oid_len;
    switch (h) {
    case CW_HASH_SHA1:
        oid = MBEDTLS_OID_DIGEST_ALG_SHA1;
        oid_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA1);
        break;
    case CW_HASH_SHA256:
        oid = MBEDTLS_OID_DIGEST_ALG_SHA256;
        oid_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA256);
        break;
    default:
        oid = MBEDTLS_OID_DIGEST_ALG_SHA384;
        oid_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA384);
        break;
    }
    int ret;
    size_t len = 0;
    if ((ret = mbedtls_asn1_write_octet_string(p, start, digest, dlen)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    if ((ret = mbedtls_asn1_write_algorithm_identifier(p, start, oid, oid_len, 0)) < 0) {
        return ret;
    }
    len += (size_t)ret;
    return der_close(p, start, len, SEQ);
}

/* ECDSA: both INTEGERs 1 byte longer than the coordinate, for a sign byte: SEQUENCE
 * 2 + 2 * (2 + coord + 1). */
size_t cw_p11_sig_max(cw_key_type t)
{
    return is_rsa(t) ? key_bytes(t) : 2u + 2u * (2u + key_bytes(t) + 1u);
}

/* Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5480 2.2.3 / RFC 3279 2.2.3);
 * PKCS#11's CKM_ECDSA gives r || s, each the length of the group order. */
static cw_err ecdsa_raw_to_der(const uint8_t *raw, size_t coord, uint8_t *sig, size_t cap, size_t *siglen)
{
    unsigned char *p = sig + cap;
    int ret;
    size_t len = 0;
    if ((ret = der_write_uint(&p, sig, raw + coord, coord)) < 0) {
        return CW_ERR_FROM_MBEDTLS(ret);
    }
    len += (size_t)ret;
    if ((ret = der_write_uint(&p, sig, raw, coord)) < 0) {
        return CW_ERR_FROM_MBEDTLS(ret);
    }
    len += (size_t)ret;
    if ((ret = der_close(&p, sig, len, SEQ)) < 0) {
        return CW_ERR_FROM_MBEDTLS(ret);
    }
    memmove(sig, p, (size_t)ret);
    *siglen = (size_t)ret;
    return CW_OK;
}

/* PKCS#11 v2.40 5.2: a C_Sign or C_Decrypt that fails (other than for a short buffer) ends the
 * operation. A token that keeps it active instead (tpm2-pkcs11 1.9 does: the next C_SignInit
 * answers CKR_OPERATION_ACTIVE) gets a fresh session. The new one is opened before the old one
 * is closed: the login belongs to the application, and ends only with its last session. */
static void end_operation(cw_p11_ctx *ctx)
{
    CK_SESSION_HANDLE s;
    CK_RV rv = CW_P11_FN(ctx, C_OpenSession)(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL_PTR,
                                             NULL_PTR, &s);
    if (rv == CKR_OK) {
        (void)CW_P11_FN(ctx, C_CloseSession)(ctx->session);
        ctx->session = s;
    }
}

/* Signs in[0..in_len) with mechanism index m: the data for a hash-and-sign mechanism, else the
 * digest (RSA: wrapped in its DigestInfo here). ECDSA's r || s comes back as DER. */
static cw_err sign_in_token(cw_p11_ctx *ctx, const cw_p11_key *key, int m, cw_hash_alg hash,
                            const uint8_t *in, size_t in_len, uint8_t *sig, size_t cap, size_t *siglen)
{
    uint8_t buf[DIGEST_INFO_MAX]; /* RSA: the DigestInfo */
    uint8_t raw[2u * 48u];        /* ECDSA: r || s */
    CK_MECHANISM mech = {mech_of[m], NULL_PTR, 0};
    const uint8_t *tbs = in;
    size_t tbs_len = in_len;
    if (m == M_RSA_PKCS) {
        unsigned char *p = buf + sizeof buf;
        memset(buf, 0, sizeof buf); /* mbedTLS takes the start as const: GCC wants it written */
        int ret = write_digest_info(&p, buf, hash, in, in_len);
        if (ret < 0) {
            return CW_ERR_FROM_MBEDTLS(ret);
        }
        tbs = p;
        tbs_len = (size_t)ret;
    }
    ctx->key_work = true;
    CK_RV rv = CW_P11_FN(ctx, C_SignInit)(ctx->session, &mech, key->priv);
    if (rv != CKR_OK) {
        return key_use_error(ctx, "C_SignInit", rv);
    }
    size_t coord = key_bytes(key->type);
    CK_ULONG out_len = is_rsa(key->type) ? (CK_ULONG)cap : (CK_ULONG)(2u * coord);
    rv = CW_P11_FN(ctx, C_Sign)(ctx->session, CW_P11_IN(tbs), (CK_ULONG)tbs_len, is_rsa(key->type) ? sig : raw,
                                &out_len);
    cw_err e = cw_p11__rv(ctx, "C_Sign", rv);
    if (e != CW_OK) {
        end_operation(ctx);
    } else if (is_rsa(key->type)) {
        *siglen = (size_t)out_len;
    } else if (out_len != 2u * coord) {
        e = CW_ERR_MALFORMED; /* the token's r || s does not fit the curve */
    } else {
        e = ecdsa_raw_to_der(raw, coord, sig, cap, siglen);
    }
    cw_p11__wipe(raw, sizeof raw);
    if (m == M_RSA_PKCS) {
        cw_p11__wipe(buf, sizeof buf);
    }
    return e;
}

/* sign_in_token with the key's current handles, and once more after a fresh login when the token
 * had no room for the key (cw_p11_set_relogin). */
static cw_err sign_with_room(cw_p11_ctx *ctx, const cw_p11_key *key, int m, cw_hash_alg hash,
                             const uint8_t *in, size_t in_len, uint8_t *sig, size_t cap, size_t *siglen)
{
    cw_p11_key now;
    bool work_before = ctx->key_work;
    cw_err e = current_handles(ctx, &key, &now);
    if (e == CW_OK) {
        e = sign_in_token(ctx, key, m, hash, in, in_len, sig, cap, siglen);
    }
    if (retry_after_fresh_login(ctx, work_before, &e)) {
        e = current_handles(ctx, &key, &now);
        if (e == CW_OK) {
            e = sign_in_token(ctx, key, m, hash, in, in_len, sig, cap, siglen);
        }
    }
    return e;
}

/* Argument checks and the sizing pass shared by both signing calls; CW_OK: go on. */
static cw_err sign_prepare(cw_p11_ctx *ctx, const cw_p11_key *key, cw_hash_alg hash, uint8_t *sig, size_t cap,
                           size_t *siglen)
{
    if (key == NULL || siglen == NULL || hash_len(hash) == 0u || (!is_rsa(key->type) && !is_ec(key->type))) {
        return CW_ERR_INVALID_ARG;
    }
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    size_t need = cw_p11_sig_max(key->type);
    if (sig == NULL || cap < need) {
        *siglen = need; /* sizing pass: no hashing, no token call */
        return CW_ERR_BUFFER_SMALL;
    }
    return load_mechs(ctx);
}

/* No mechanism to sign with: said before any key use. */
static cw_err no_sign_mechanism(cw_p11_ctx *ctx)
{
    ctx->last_call = "C_GetMechanismInfo";
    return CW_ERR_MECHANISM;
}

cw_err cw_p11_sign_digest(cw_p11_ctx *ctx, const cw_p11_key *key, cw_hash_alg hash,
                          const uint8_t *digest, size_t dlen, uint8_t *sig, size_t cap,
                          size_t *siglen)
{
    if (digest == NULL || dlen != hash_len(hash)) {
        return CW_ERR_INVALID_ARG;
    }
    cw_err e = sign_prepare(ctx, key, hash, sig, cap, siglen);
    if (e != CW_OK) {
        return e;
    }
    int m = sign_mech_index(ctx, key->type, hash, false);
    return m < 0 ? no_sign_mechanism(ctx) : sign_with_room(ctx, key, m, hash, digest, dlen, sig, cap, siglen);
}

cw_err cw_p11_sign(cw_p11_ctx *ctx, const cw_p11_key *key, cw_hash_alg hash, const uint8_t *data,
                   size_t len, uint8_t *sig, size_t cap, size_t *siglen)
{
    uint8_t digest[48];
    if (data == NULL && len != 0u) {
        return CW_ERR_INVALID_ARG;
    }
    cw_err e = sign_prepare(ctx, key, hash, sig, cap, siglen);
    if (e != CW_OK) {
        return e;
    }
    const uint8_t *d = data == NULL ? (const uint8_t *)"" : data;
    int m = sign_mech_index(ctx, key->type, hash, true);
    if (m < 0) {
        return no_sign_mechanism(ctx);
    }
    if (m != M_RSA_PKCS && m != M_ECDSA) {
        return sign_with_room(ctx, key, m, hash, d, len, sig, cap, siglen); /* the token hashes */
    }
    e = hash_data(hash, d, len, digest);
    if (e == CW_OK) {
        e = sign_with_room(ctx, key, m, hash, digest, hash_len(hash), sig, cap, siglen);
    }
    cw_p11__wipe(digest, sizeof digest);
    return e;
}

/* ---- decryption -------------------------------------------------------------------------------------- */

/* One C_DecryptInit + C_Decrypt into scratch (mod bytes); a failed C_Decrypt ends the operation. */
static cw_err decrypt_once(cw_p11_ctx *ctx, const cw_p11_key *key, const uint8_t *in, size_t len, uint8_t *scratch,
                           size_t mod, CK_ULONG *n)
{
    CK_MECHANISM mech = {CKM_RSA_PKCS, NULL_PTR, 0};
    ctx->key_work = true;
    CK_RV rv = CW_P11_FN(ctx, C_DecryptInit)(ctx->session, &mech, key->priv);
    cw_err e = key_use_error(ctx, "C_DecryptInit", rv);
    if (e == CW_OK) {
        *n = (CK_ULONG)mod;
        rv = CW_P11_FN(ctx, C_Decrypt)(ctx->session, CW_P11_IN(in), (CK_ULONG)len, scratch, n);
        e = cw_p11__rv(ctx, "C_Decrypt", rv);
        if (e != CW_OK) {
            end_operation(ctx);
        }
    }
    return e;
}

CW_NOINLINE cw_err cw_p11_decrypt(cw_p11_ctx *ctx, const cw_p11_key *key, const uint8_t *in, size_t len,
                      uint8_t *out, size_t cap, size_t *outlen)
{
    if (key == NULL || in == NULL || outlen == NULL || !is_rsa(key->type)) {
        return CW_ERR_INVALID_ARG;
    }
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    size_t mod = key_bytes(key->type);
    size_t need = mod - 11u; /* RFC 8017 7.2.1: at least 8 padding bytes and 3 fixed ones */
    if (out == NULL || cap < need) {
        *outlen = need;
        return CW_ERR_BUFFER_SMALL;
    }
    /* Some tokens (SoftHSM2 among them) want room for a whole modulus whatever the plaintext. */
    uint8_t *scratch = cw_arena_alloc(mod);
    if (scratch == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    cw_p11_key now;
    CK_ULONG n = 0;
    bool work_before = ctx->key_work;
    cw_err e = current_handles(ctx, &key, &now);
    if (e == CW_OK) {
        e = decrypt_once(ctx, key, in, len, scratch, mod, &n);
    }
    if (retry_after_fresh_login(ctx, work_before, &e)) {
        e = current_handles(ctx, &key, &now);
        if (e == CW_OK) {
            e = decrypt_once(ctx, key, in, len, scratch, mod, &n);
        }
    }
    if (e == CW_OK && n > cap) {
        e = CW_ERR_MALFORMED; /* cannot happen with PKCS#1 v1.5 padding */
    }
    if (e == CW_OK) {
        memcpy(out, scratch, (size_t)n);
        *outlen = (size_t)n;
    }
    cw_p11__wipe(scratch, mod);
    cw_arena_free(scratch);
    return e;
}
