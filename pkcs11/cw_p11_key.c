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

/* Does the token list mechanism m (C_GetMechanismList: what it offers on this slot; SoftHSM2
 * filters only this list by its configuration) with the flags in need and, if bits, that key
 * size (C_GetMechanismInfo)? A list longer than MECH_LIST_MAX is not held against the token. */
static cw_err check_mechanism(cw_p11_ctx *ctx, CK_MECHANISM_TYPE m, CK_FLAGS need, CK_ULONG bits)
{
    CK_MECHANISM_TYPE *list = cw_arena_alloc(MECH_LIST_MAX * sizeof *list);
    if (list == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    CK_ULONG n = MECH_LIST_MAX;
    CK_RV rv = ctx->fl->C_GetMechanismList(ctx->slot, list, &n);
    bool listed = (rv == CKR_BUFFER_TOO_SMALL);
    for (CK_ULONG i = 0; rv == CKR_OK && i < n && !listed; i++) {
        listed = (list[i] == m);
    }
    cw_arena_free(list);
    if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) {
        return cw_p11__rv(ctx, "C_GetMechanismList", rv);
    }
    if (!listed) {
        ctx->last_call = "C_GetMechanismList";
        return CW_ERR_MECHANISM;
    }
    CK_MECHANISM_INFO mi;
    rv = ctx->fl->C_GetMechanismInfo(ctx->slot, m, &mi);
    if (rv == CKR_MECHANISM_INVALID) {
        ctx->last_call = "C_GetMechanismInfo";
        return CW_ERR_MECHANISM;
    }
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_GetMechanismInfo", rv);
    }
    if ((mi.flags & need) != need || (bits != 0u && (bits < mi.ulMinKeySize || bits > mi.ulMaxKeySize))) {
        ctx->last_call = "C_GetMechanismInfo";
        return CW_ERR_MECHANISM;
    }
    return CW_OK;
}

static void destroy_pair(cw_p11_ctx *ctx, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub)
{
    (void)ctx->fl->C_DestroyObject(ctx->session, priv);
    (void)ctx->fl->C_DestroyObject(ctx->session, pub);
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
    CK_RV rv = ctx->fl->C_SetAttributeValue(ctx->session, k->priv, &id, 1);
    if (rv == CKR_OK) {
        rv = ctx->fl->C_SetAttributeValue(ctx->session, k->pub, &id, 1);
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
    cw_err e = check_mechanism(ctx, gen.mechanism, CKF_GENERATE_KEY_PAIR, is_rsa(type) ? bits : 0u);
    if (e == CW_OK) {
        e = check_mechanism(ctx, is_rsa(type) ? CKM_RSA_PKCS : CKM_ECDSA, CKF_SIGN, 0u);
    }
    if (e == CW_OK && allow_decrypt) {
        e = check_mechanism(ctx, CKM_RSA_PKCS, CKF_DECRYPT, 0u);
    }
    if (e != CW_OK) {
        return e;
    }

    CK_BBOOL yes = CK_TRUE, no = CK_FALSE, dec = allow_decrypt ? CK_TRUE : CK_FALSE;
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    size_t label_len = strlen(label);
    const uint8_t *params = type == CW_KEY_EC_P256 ? ec_params_p256 : ec_params_p384;
    size_t params_len = type == CW_KEY_EC_P256 ? EC_PARAMS_LEN(ec_params_p256)
                                               : EC_PARAMS_LEN(ec_params_p384);
    CK_ATTRIBUTE pub_t[] = {
        CW_P11_ATTR(CKA_TOKEN, &yes, sizeof yes),
        CW_P11_ATTR(CKA_PRIVATE, &no, sizeof no),
        CW_P11_ATTR(CKA_VERIFY, &yes, sizeof yes),
        CW_P11_ATTR(CKA_ENCRYPT, &dec, sizeof dec),
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

    CK_RV rv = ctx->fl->C_GenerateKeyPair(ctx->session, &gen, pub_t, pub_n, priv_t, priv_n, &out->pub,
                                          &out->priv);
    if (rv != CKR_OK) {
        memset(out, 0, sizeof *out);
        return cw_p11__rv(ctx, "C_GenerateKeyPair", rv);
    }
    out->type = type;
    e = set_key_id(ctx, out);
    if (e != CW_OK) {
        destroy_pair(ctx, out->priv, out->pub);
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
    pubkey_parts *pp = cw_arena_alloc(sizeof *pp);
    if (pp == NULL) {
        return CW_ERR_NO_MEMORY;
    }
    cw_err e = read_pubkey(ctx, key->pub, pp);
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

/* Most bytes a signature by this key takes (ECDSA: both INTEGERs 1 byte longer than the
 * coordinate, for a sign byte: SEQUENCE 2 + 2 * (2 + coord + 1)). */
static size_t sig_max(cw_key_type t)
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

cw_err cw_p11_sign_digest(cw_p11_ctx *ctx, const cw_p11_key *key, cw_hash_alg hash,
                          const uint8_t *digest, size_t dlen, uint8_t *sig, size_t cap,
                          size_t *siglen)
{
    if (key == NULL || digest == NULL || siglen == NULL || hash_len(hash) == 0u ||
        dlen != hash_len(hash) || (!is_rsa(key->type) && !is_ec(key->type))) {
        return CW_ERR_INVALID_ARG;
    }
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    size_t need = sig_max(key->type);
    if (sig == NULL || cap < need) {
        *siglen = need;
        return CW_ERR_BUFFER_SMALL;
    }

    uint8_t buf[DIGEST_INFO_MAX]; /* RSA: the DigestInfo; ECDSA: r || s */
    CK_MECHANISM mech = {is_rsa(key->type) ? CKM_RSA_PKCS : CKM_ECDSA, NULL_PTR, 0};
    const uint8_t *in = digest;
    size_t in_len = dlen;
    if (is_rsa(key->type)) {
        unsigned char *p = buf + sizeof buf;
        int ret = write_digest_info(&p, buf, hash, digest, dlen);
        if (ret < 0) {
            return CW_ERR_FROM_MBEDTLS(ret);
        }
        in = p;
        in_len = (size_t)ret;
    }
    CK_RV rv = ctx->fl->C_SignInit(ctx->session, &mech, key->priv);
    if (rv != CKR_OK) {
        return key_use_error(ctx, "C_SignInit", rv);
    }
    cw_err e;
    if (is_rsa(key->type)) {
        CK_ULONG out_len = (CK_ULONG)cap;
        rv = ctx->fl->C_Sign(ctx->session, CW_P11_IN(in), (CK_ULONG)in_len, sig, &out_len);
        e = cw_p11__rv(ctx, "C_Sign", rv);
        if (e == CW_OK) {
            *siglen = (size_t)out_len;
        }
    } else {
        /* in still points at the digest, so the raw signature cannot share buf */
        uint8_t raw[2u * 48u];
        size_t coord = key_bytes(key->type);
        CK_ULONG out_len = (CK_ULONG)(2u * coord);
        rv = ctx->fl->C_Sign(ctx->session, CW_P11_IN(in), (CK_ULONG)in_len, raw, &out_len);
        e = cw_p11__rv(ctx, "C_Sign", rv);
        if (e == CW_OK && out_len != 2u * coord) {
            e = CW_ERR_MALFORMED; /* the token's r || s does not fit the curve */
        }
        if (e == CW_OK) {
            e = ecdsa_raw_to_der(raw, coord, sig, cap, siglen);
        }
        cw_p11__wipe(raw, sizeof raw);
    }
    cw_p11__wipe(buf, sizeof buf);
    return e;
}

cw_err cw_p11_sign(cw_p11_ctx *ctx, const cw_p11_key *key, cw_hash_alg hash, const uint8_t *data,
                   size_t len, uint8_t *sig, size_t cap, size_t *siglen)
{
    uint8_t digest[48];
    if (key == NULL || siglen == NULL || (data == NULL && len != 0u) || hash_len(hash) == 0u ||
        (!is_rsa(key->type) && !is_ec(key->type))) {
        return CW_ERR_INVALID_ARG;
    }
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    size_t need = sig_max(key->type);
    if (sig == NULL || cap < need) {
        *siglen = need; /* sizing pass: no hashing, no token call */
        return CW_ERR_BUFFER_SMALL;
    }
    cw_err e = hash_data(hash, data == NULL ? (const uint8_t *)"" : data, len, digest);
    if (e == CW_OK) {
        e = cw_p11_sign_digest(ctx, key, hash, digest, hash_len(hash), sig, cap, siglen);
    }
    cw_p11__wipe(digest, sizeof digest);
    return e;
}

/* ---- decryption -------------------------------------------------------------------------------------- */

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
    CK_MECHANISM mech = {CKM_RSA_PKCS, NULL_PTR, 0};
    CK_RV rv = ctx->fl->C_DecryptInit(ctx->session, &mech, key->priv);
    cw_err e = key_use_error(ctx, "C_DecryptInit", rv);
    if (e == CW_OK) {
        CK_ULONG n = (CK_ULONG)mod;
        rv = ctx->fl->C_Decrypt(ctx->session, CW_P11_IN(in), (CK_ULONG)len, scratch, &n);
        e = cw_p11__rv(ctx, "C_Decrypt", rv);
        if (e == CW_OK && n > cap) {
            e = CW_ERR_MALFORMED; /* cannot happen with PKCS#1 v1.5 padding */
        }
        if (e == CW_OK) {
            memcpy(out, scratch, (size_t)n);
            *outlen = (size_t)n;
        }
    }
    cw_p11__wipe(scratch, mod);
    cw_arena_free(scratch);
    return e;
}
