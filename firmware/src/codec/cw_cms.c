/*
 * cw_cms.c: SignedData and EnvelopedData (RFC 5652) for SCEP (cw_cms.h).
 *
 * Reading is BER: a small TLV reader below follows indefinite lengths with a depth counter (no
 * recursion) and puts constructed OCTET STRINGs together in a caller buffer. Writing is DER with
 * mbedTLS's backwards writer, into the end of the caller's buffer, then moved to the front (as
 * cw_csr.c does).
 */
#include "cw/codec/cw_cms.h"
#include "cw/base/cw_der.h"

#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/base/cw_time.h"
#include "cw/base/cw_wipe.h"
#include "mbedtls/aes.h"
#include "mbedtls/asn1.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/des.h"
#include "mbedtls/md.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#define OID_LEN(o) (sizeof(o) - 1u)


/* ==== BER reader ============================================================================== */

/* One element: its first byte, tag, content (for an indefinite length up to, not including, the
 * end-of-contents octets) and the first byte after it. */
typedef struct ber_t {
    const uint8_t *start;
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    const uint8_t *next;
} ber_t;

/* X.690 8.1.2-8.1.3: identifier (low tag numbers only) and length octets. */
static cw_err ber_header(const uint8_t *p, const uint8_t *end, uint8_t *tag, size_t *len, bool *indef,
                         const uint8_t **content)
{
    size_t n;
    size_t l = 0;

    if (end - p < 2 || (p[0] & 0x1Fu) == 0x1Fu) {
        return CW_ERR_CMS_FORMAT;
    }
    *tag = p[0];
    *indef = false;
    if (p[1] < 0x80u) {
        l = p[1];
        p += 2;
    } else if (p[1] == 0x80u) {
        if ((p[0] & CW_DER_CONSTRUCTED) == 0) {
            return CW_ERR_CMS_FORMAT; /* X.690 8.1.3.2: only constructed may be indefinite */
        }
        *indef = true;
        p += 2;
    } else {
        n = p[1] & 0x7Fu;
        p += 2;
        if (n > 4u || (size_t)(end - p) < n) {
            return CW_ERR_CMS_FORMAT;
        }
        for (size_t i = 0; i < n; i++) {
            l = (l << 8) | p[i];
        }
        p += n;
    }
    if (!*indef && l > (size_t)(end - p)) {
        return CW_ERR_CMS_FORMAT;
    }
    *len = l;
    *content = p;
    return CW_OK;
}

/* Reads the element at p (inside [p, end)). An indefinite length is resolved by walking forward
 * to the matching end-of-contents: definite elements are stepped over whole, each nested
 * indefinite one counts one level, at most CW_CMS_BER_DEPTH_MAX. */
static cw_err ber_read(const uint8_t *p, const uint8_t *end, ber_t *e)
{
    bool indef;
    const uint8_t *q;
    unsigned depth = 1;

    e->start = p;
    CW_TRY(ber_header(p, end, &e->tag, &e->len, &indef, &e->v));
    if (!indef) {
        e->next = e->v + e->len;
        return CW_OK;
    }
    q = e->v;
    for (;;) {
        uint8_t t;
        size_t l;
        bool in;
        const uint8_t *c;
        if (end - q < 2) {
            return CW_ERR_CMS_FORMAT;
        }
        if (q[0] == 0 && q[1] == 0) {
            if (--depth == 0) {
                e->len = (size_t)(q - e->v);
                e->next = q + 2;
                return CW_OK;
            }
            q += 2;
            continue;
        }
        CW_TRY(ber_header(q, end, &t, &l, &in, &c));
        if (in) {
            if (++depth > CW_CMS_BER_DEPTH_MAX) {
                return CW_ERR_CMS_FORMAT;
            }
            q = c;
        } else {
            q = c + l;
        }
    }
}

/* The next element at *p inside [*p, end), which must have tag; *p moves past it. */
static cw_err ber_expect(const uint8_t **p, const uint8_t *end, uint8_t tag, ber_t *e)
{
    CW_TRY(ber_read(*p, end, e));
    if (e->tag != tag) {
        return CW_ERR_CMS_FORMAT;
    }
    *p = e->next;
    return CW_OK;
}

static bool ber_is_oid(const ber_t *e, const char *oid, size_t oid_len)
{
    return e->len == oid_len && memcmp(e->v, oid, oid_len) == 0;
}

/* The octets of an OCTET STRING (or of an IMPLICIT-tagged one). Primitive: a view. Constructed
 * (X.690 8.7.3): the primitive pieces in order, copied to buf. Nested constructed pieces are
 * walked in line, so this needs no stack either. */
static cw_err ber_octets(const ber_t *e, uint8_t *buf, size_t cap, cw_der_t *out)
{
    const uint8_t *q = e->v;
    const uint8_t *end = e->v + e->len;
    size_t n = 0;

    if ((e->tag & CW_DER_CONSTRUCTED) == 0) {
        out->p = e->v;
        out->len = e->len;
        return CW_OK;
    }
    while (q < end) {
        uint8_t t;
        size_t l;
        bool indef;
        const uint8_t *c;
        if (end - q >= 2 && q[0] == 0 && q[1] == 0) {
            q += 2; /* the end of a nested indefinite piece */
            continue;
        }
        CW_TRY(ber_header(q, end, &t, &l, &indef, &c));
        if (t == (CW_DER_OCTETS | CW_DER_CONSTRUCTED)) {
            q = c;
            continue;
        }
        if (t != CW_DER_OCTETS) {
            return CW_ERR_CMS_FORMAT;
        }
        if (l > cap - n) {
            return CW_ERR_BUFFER_SMALL;
        }
        if (l > 0) {
            memcpy(buf + n, c, l);
        }
        n += l;
        q = c + l;
    }
    out->p = buf;
    out->len = n;
    return CW_OK;
}

/* ==== algorithms ============================================================================= */

typedef struct digest_alg {
    const char *oid;
    size_t oid_len;
    mbedtls_md_type_t md;
    cw_hash_alg hash; /* 0: read only */
} digest_alg;

static const digest_alg digests[] = {
    {MBEDTLS_OID_DIGEST_ALG_SHA1, OID_LEN(MBEDTLS_OID_DIGEST_ALG_SHA1), MBEDTLS_MD_SHA1, CW_HASH_SHA1},
    {MBEDTLS_OID_DIGEST_ALG_SHA256, OID_LEN(MBEDTLS_OID_DIGEST_ALG_SHA256), MBEDTLS_MD_SHA256, CW_HASH_SHA256},
    {MBEDTLS_OID_DIGEST_ALG_SHA384, OID_LEN(MBEDTLS_OID_DIGEST_ALG_SHA384), MBEDTLS_MD_SHA384, CW_HASH_SHA384},
    {MBEDTLS_OID_DIGEST_ALG_SHA512, OID_LEN(MBEDTLS_OID_DIGEST_ALG_SHA512), MBEDTLS_MD_SHA512, (cw_hash_alg)0},
};

static const digest_alg *digest_by_hash(cw_hash_alg h)
{
    for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++) {
        if (digests[i].hash == h) {
            return &digests[i];
        }
    }
    return NULL;
}

/* RSA signature algorithms a SignerInfo may name: rsaEncryption (what OpenSSL and most SCEP
 * servers write) or one of the sha*WithRSAEncryption; the digest comes from digestAlgorithm. */
static bool rsa_signature_oid(const ber_t *e)
{
    static const struct {
        const char *oid;
        size_t len;
    } ok[] = {
        {MBEDTLS_OID_PKCS1_RSA, OID_LEN(MBEDTLS_OID_PKCS1_RSA)},
        {MBEDTLS_OID_PKCS1_SHA1, OID_LEN(MBEDTLS_OID_PKCS1_SHA1)},
        {MBEDTLS_OID_PKCS1_SHA256, OID_LEN(MBEDTLS_OID_PKCS1_SHA256)},
        {MBEDTLS_OID_PKCS1_SHA384, OID_LEN(MBEDTLS_OID_PKCS1_SHA384)},
        {MBEDTLS_OID_PKCS1_SHA512, OID_LEN(MBEDTLS_OID_PKCS1_SHA512)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (ber_is_oid(e, ok[i].oid, ok[i].len)) {
            return true;
        }
    }
    return false;
}

typedef struct cipher_alg {
    cw_cms_cipher cipher;
    const char *oid;
    size_t oid_len;
    size_t key_len;
    size_t block;
} cipher_alg;

static const cipher_alg ciphers[] = {
    {CW_CMS_DES, MBEDTLS_OID_DES_CBC, OID_LEN(MBEDTLS_OID_DES_CBC), 8u, 8u},
    {CW_CMS_3DES, MBEDTLS_OID_DES_EDE3_CBC, OID_LEN(MBEDTLS_OID_DES_EDE3_CBC), 24u, 8u},
    {CW_CMS_AES128, MBEDTLS_OID_AES_128_CBC, OID_LEN(MBEDTLS_OID_AES_128_CBC), 16u, 16u},
    {CW_CMS_AES192, MBEDTLS_OID_AES_192_CBC, OID_LEN(MBEDTLS_OID_AES_192_CBC), 24u, 16u},
    {CW_CMS_AES256, MBEDTLS_OID_AES_256_CBC, OID_LEN(MBEDTLS_OID_AES_256_CBC), 32u, 16u},
};

static const cipher_alg *cipher_by_id(cw_cms_cipher c)
{
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
        if (ciphers[i].cipher == c) {
            return &ciphers[i];
        }
    }
    return NULL;
}

static const cipher_alg *cipher_by_oid(const ber_t *e)
{
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
        if (ber_is_oid(e, ciphers[i].oid, ciphers[i].oid_len)) {
            return &ciphers[i];
        }
    }
    return NULL;
}

/* CBC over len bytes (a multiple of the block) from in to out (in == out allowed: mbedTLS keeps
 * the ciphertext block it needs before writing). iv is updated. The key schedule is wiped by
 * the mbedTLS free functions. */
static cw_err cbc(const cipher_alg *a, bool encrypt, const uint8_t *key, uint8_t *iv, const uint8_t *in,
                  size_t len, uint8_t *out)
{
    int r;
    if (a->block == 8u) {
        if (a->cipher == CW_CMS_DES) {
            mbedtls_des_context d;
            mbedtls_des_init(&d);
            r = encrypt ? mbedtls_des_setkey_enc(&d, key) : mbedtls_des_setkey_dec(&d, key);
            if (r == 0) {
                r = mbedtls_des_crypt_cbc(&d, encrypt ? MBEDTLS_DES_ENCRYPT : MBEDTLS_DES_DECRYPT, len, iv, in, out);
            }
            mbedtls_des_free(&d);
        } else {
            mbedtls_des3_context d;
            mbedtls_des3_init(&d);
            r = encrypt ? mbedtls_des3_set3key_enc(&d, key) : mbedtls_des3_set3key_dec(&d, key);
            if (r == 0) {
                r = mbedtls_des3_crypt_cbc(&d, encrypt ? MBEDTLS_DES_ENCRYPT : MBEDTLS_DES_DECRYPT, len, iv, in, out);
            }
            mbedtls_des3_free(&d);
        }
    } else {
        mbedtls_aes_context c;
        unsigned bits = (unsigned)(a->key_len * 8u);
        mbedtls_aes_init(&c);
        r = encrypt ? mbedtls_aes_setkey_enc(&c, key, bits) : mbedtls_aes_setkey_dec(&c, key, bits);
        if (r == 0) {
            r = mbedtls_aes_crypt_cbc(&c, encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT, len, iv, in, out);
        }
        mbedtls_aes_free(&c);
    }
    return r == 0 ? CW_OK : CW_ERR_FROM_MBEDTLS(r);
}

/* ==== reading SignedData ====================================================================== */

/*
 * RFC 5652 5.3:
 *   SignerInfo ::= SEQUENCE {
 *       version CMSVersion,
 *       sid SignerIdentifier,                 -- issuerAndSerialNumber | [0] SubjectKeyIdentifier
 *       digestAlgorithm DigestAlgorithmIdentifier,
 *       signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
 *       signatureAlgorithm SignatureAlgorithmIdentifier,
 *       signature SignatureValue,             -- OCTET STRING
 *       unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
 */
static cw_err parse_signer(const ber_t *si, cw_cms_signed_t *out)
{
    const uint8_t *p = si->v;
    const uint8_t *end = si->v + si->len;
    ber_t e;
    ber_t oid;
    const uint8_t *q;
    const digest_alg *d = NULL;

    CW_TRY(ber_expect(&p, end, CW_DER_INTEGER, &e));
    CW_TRY(ber_read(p, end, &e));
    p = e.next;
    if (e.tag == CW_DER_SEQ) {
        ber_t name;
        ber_t serial;
        q = e.v;
        CW_TRY(ber_expect(&q, e.v + e.len, CW_DER_SEQ, &name));
        CW_TRY(ber_expect(&q, e.v + e.len, CW_DER_INTEGER, &serial));
        out->sid_issuer.p = name.start;
        out->sid_issuer.len = (size_t)(name.next - name.start);
        out->sid_serial.p = serial.v;
        out->sid_serial.len = serial.len;
    } else if (e.tag == CW_DER_CTX(0)) {
        out->sid_ski.p = e.v;
        out->sid_ski.len = e.len;
    } else {
        return CW_ERR_CMS_FORMAT;
    }

    CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &e));
    q = e.v;
    CW_TRY(ber_expect(&q, e.v + e.len, CW_DER_OID, &oid));
    for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++) {
        if (ber_is_oid(&oid, digests[i].oid, digests[i].oid_len)) {
            d = &digests[i];
        }
    }
    if (d == NULL) {
        return CW_ERR_CMS_ALGORITHM;
    }
    out->digest_md = (int)d->md;

    if (p < end && *p == CW_DER_CTX_CONS(0)) {
        /* RFC 5652 5.3: signedAttrs are DER, so definite; hashed exactly as they came. */
        if (end - p < 2 || p[1] == 0x80u) {
            return CW_ERR_CMS_FORMAT;
        }
        CW_TRY(ber_expect(&p, end, CW_DER_CTX_CONS(0), &e));
        out->signed_attrs.p = e.start;
        out->signed_attrs.len = (size_t)(e.next - e.start);
    }
    CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &e));
    q = e.v;
    CW_TRY(ber_expect(&q, e.v + e.len, CW_DER_OID, &oid));
    if (!rsa_signature_oid(&oid)) {
        return CW_ERR_CMS_ALGORITHM;
    }
    CW_TRY(ber_expect(&p, end, CW_DER_OCTETS, &e));
    out->signature.p = e.v;
    out->signature.len = e.len;
    return CW_OK;
}

/*
 * RFC 5652 5.1, 5.2:
 *   ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
 *   SignedData ::= SEQUENCE {
 *       version CMSVersion,
 *       digestAlgorithms DigestAlgorithmIdentifiers,          -- SET OF
 *       encapContentInfo EncapsulatedContentInfo,
 *       certificates [0] IMPLICIT CertificateSet OPTIONAL,
 *       crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
 *       signerInfos SignerInfos }                              -- SET OF
 *   EncapsulatedContentInfo ::= SEQUENCE {
 *       eContentType ContentType,
 *       eContent [0] EXPLICIT OCTET STRING OPTIONAL }
 */
static cw_err parse_encap(const ber_t *encap, uint8_t *scratch, size_t scap, cw_cms_signed_t *out)
{
    const uint8_t *p = encap->v;
    const uint8_t *end = encap->v + encap->len;
    ber_t e;
    ber_t os;

    CW_TRY(ber_expect(&p, end, CW_DER_OID, &e));
    out->content_type.p = e.v;
    out->content_type.len = e.len;
    if (p == end) {
        return CW_OK;
    }
    CW_TRY(ber_expect(&p, end, CW_DER_CTX_CONS(0), &e));
    CW_TRY(ber_read(e.v, e.v + e.len, &os));
    if ((os.tag & (uint8_t)~CW_DER_CONSTRUCTED) != CW_DER_OCTETS || os.next != e.v + e.len || p != end) {
        return CW_ERR_CMS_FORMAT;
    }
    CW_TRY(ber_octets(&os, scratch, scap, &out->content));
    out->has_content = true;
    return CW_OK;
}

cw_err cw_cms_signed_parse(const uint8_t *der, size_t len, uint8_t *scratch, size_t scap, cw_cms_signed_t *out)
{
    static const char oid_signed[] = MBEDTLS_OID_PKCS7_SIGNED_DATA;
    const uint8_t *p = der;
    const uint8_t *end = der + len;
    ber_t e;
    ber_t sd;

    memset(out, 0, sizeof *out);
    if (der == NULL) {
        return CW_ERR_CMS_FORMAT;
    }
    CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &e));
    if (p != end) {
        return CW_ERR_CMS_FORMAT; /* bytes after the ContentInfo */
    }
    p = e.v;
    end = e.v + e.len;
    CW_TRY(ber_expect(&p, end, CW_DER_OID, &e));
    if (!ber_is_oid(&e, oid_signed, OID_LEN(oid_signed))) {
        return CW_ERR_CMS_FORMAT;
    }
    CW_TRY(ber_expect(&p, end, CW_DER_CTX_CONS(0), &e));
    p = e.v;
    CW_TRY(ber_expect(&p, e.v + e.len, CW_DER_SEQ, &sd));
    p = sd.v;
    end = sd.v + sd.len;

    CW_TRY(ber_expect(&p, end, CW_DER_INTEGER, &e));
    CW_TRY(ber_expect(&p, end, CW_DER_SET, &e));
    CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &e));
    CW_TRY(parse_encap(&e, scratch, scap, out));
    if (p < end && *p == CW_DER_CTX_CONS(0)) {
        CW_TRY(ber_expect(&p, end, CW_DER_CTX_CONS(0), &e));
        out->certs.p = e.v;
        out->certs.len = e.len;
    }
    if (p < end && *p == CW_DER_CTX_CONS(1)) {
        CW_TRY(ber_expect(&p, end, CW_DER_CTX_CONS(1), &e));
    }
    CW_TRY(ber_expect(&p, end, CW_DER_SET, &e));
    {
        const uint8_t *q = e.v;
        const uint8_t *qe = e.v + e.len;
        while (q < qe) {
            ber_t si;
            CW_TRY(ber_expect(&q, qe, CW_DER_SEQ, &si));
            if (out->nsigners++ == 0) {
                CW_TRY(parse_signer(&si, out));
            }
        }
    }
    return p == end ? CW_OK : CW_ERR_CMS_FORMAT;
}

cw_err cw_cms_attr_get(const cw_cms_signed_t *sd, const char *oid, size_t oid_len, uint8_t tag, cw_der_t *value)
{
    const uint8_t *p;
    const uint8_t *end;
    ber_t set;
    bool found = false;

    if (sd->signed_attrs.len == 0) {
        return CW_ERR_NOT_FOUND;
    }
    CW_TRY(ber_read(sd->signed_attrs.p, sd->signed_attrs.p + sd->signed_attrs.len, &set));
    p = set.v;
    end = set.v + set.len;
    /* Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue } */
    while (p < end) {
        ber_t a;
        ber_t t;
        ber_t vals;
        ber_t v;
        const uint8_t *q;
        CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &a));
        q = a.v;
        CW_TRY(ber_expect(&q, a.v + a.len, CW_DER_OID, &t));
        if (!ber_is_oid(&t, oid, oid_len)) {
            continue;
        }
        /* RFC 5652 5.3: a signed attribute type appears once, with one value for those here */
        if (found) {
            return CW_ERR_CMS_FORMAT;
        }
        CW_TRY(ber_expect(&q, a.v + a.len, CW_DER_SET, &vals));
        CW_TRY(ber_read(vals.v, vals.v + vals.len, &v));
        if (v.tag != tag || v.next != vals.v + vals.len) {
            return CW_ERR_CMS_FORMAT;
        }
        value->p = v.v;
        value->len = v.len;
        found = true;
    }
    return found ? CW_OK : CW_ERR_NOT_FOUND;
}

cw_err cw_cms_signed_certs(const cw_cms_signed_t *sd, cw_cert_list_t *out)
{
    const uint8_t *p = sd->certs.p;
    const uint8_t *end;

    if (p == NULL) {
        return CW_OK; /* no certificates field */
    }
    end = p + sd->certs.len;
    while (p < end) {
        ber_t c;
        CW_TRY(ber_read(p, end, &c));
        p = c.next;
        if (c.tag != CW_DER_SEQ) {
            continue; /* other CertificateChoices (attribute certificates, other formats) */
        }
        if (out->n == CW_IMPORT_CERTS_MAX) {
            return CW_ERR_TOO_LARGE;
        }
        out->cert[out->n].p = c.start;
        out->cert[out->n].len = (size_t)(c.next - c.start);
        out->n++;
    }
    return CW_OK;
}

/* digest of a || b with the md type; out holds MBEDTLS_MD_MAX_SIZE. */
static cw_err hash_two(mbedtls_md_type_t md, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       uint8_t *out)
{
    mbedtls_md_context_t c;
    int r;
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md);
    if (info == NULL) {
        return CW_ERR_CMS_ALGORITHM;
    }
    mbedtls_md_init(&c);
    r = mbedtls_md_setup(&c, info, 0);
    if (r == 0) {
        r = mbedtls_md_starts(&c);
    }
    if (r == 0 && alen > 0) {
        r = mbedtls_md_update(&c, a, alen);
    }
    if (r == 0 && blen > 0) {
        r = mbedtls_md_update(&c, b, blen);
    }
    if (r == 0) {
        r = mbedtls_md_finish(&c, out);
    }
    mbedtls_md_free(&c);
    if (r == MBEDTLS_ERR_MD_ALLOC_FAILED) {
        return CW_ERR_NO_MEMORY;
    }
    return r == 0 ? CW_OK : CW_ERR_FROM_MBEDTLS(r);
}

static bool view_equal(const cw_der_t *a, const uint8_t *p, size_t len)
{
    return a->len == len && (len == 0 || memcmp(a->p, p, len) == 0);
}

/* The attribute checks of RFC 5652 5.4 and 11: contentType and messageDigest present and right. */
static cw_err check_attrs(const cw_cms_signed_t *sd, mbedtls_md_type_t md)
{
    static const char oid_ct[] = MBEDTLS_OID_PKCS9 "\x03";
    static const char oid_md[] = MBEDTLS_OID_PKCS9 "\x04";
    uint8_t h[MBEDTLS_MD_MAX_SIZE];
    cw_der_t v;
    cw_err e;

    e = cw_cms_attr_get(sd, oid_ct, OID_LEN(oid_ct), CW_DER_OID, &v);
    if (e != CW_OK || !view_equal(&v, sd->content_type.p, sd->content_type.len)) {
        return e == CW_ERR_CMS_FORMAT ? e : CW_ERR_CMS_SIGNATURE;
    }
    CW_TRY(hash_two(md, sd->content.p, sd->content.len, NULL, 0, h));
    e = cw_cms_attr_get(sd, oid_md, OID_LEN(oid_md), CW_DER_OCTETS, &v);
    if (e != CW_OK || !view_equal(&v, h, mbedtls_md_get_size(mbedtls_md_info_from_type(md)))) {
        return e == CW_ERR_CMS_FORMAT ? e : CW_ERR_CMS_SIGNATURE;
    }
    return CW_OK;
}

/* Does the SignerInfo's sid name this certificate? */
static bool sid_matches(const cw_cms_signed_t *sd, const mbedtls_x509_crt *c)
{
    if (sd->sid_issuer.len > 0) {
        return view_equal(&sd->sid_issuer, c->issuer_raw.p, c->issuer_raw.len) &&
               view_equal(&sd->sid_serial, c->serial.p, c->serial.len);
    }
    return c->subject_key_id.len > 0 && view_equal(&sd->sid_ski, c->subject_key_id.p, c->subject_key_id.len);
}

cw_err cw_cms_signed_verify(const cw_cms_signed_t *sd, const cw_der_t *cert)
{
    mbedtls_md_type_t md = (mbedtls_md_type_t)sd->digest_md;
    uint8_t h[MBEDTLS_MD_MAX_SIZE];
    static const uint8_t set_tag = CW_DER_SET;
    mbedtls_x509_crt c;
    cw_err e;
    int r;

    if (sd->nsigners == 0 || sd->signed_attrs.len < 2) {
        return CW_ERR_CMS_SIGNATURE; /* SCEP signs attributes; a bare content signature is not read */
    }
    CW_TRY(check_attrs(sd, md));
    /* RFC 5652 5.4: the DER of signedAttrs with the SET OF tag in place of [0] IMPLICIT */
    CW_TRY(hash_two(md, &set_tag, 1, sd->signed_attrs.p + 1, sd->signed_attrs.len - 1, h));

    mbedtls_x509_crt_init(&c);
    r = mbedtls_x509_crt_parse_der_nocopy(&c, cert->p, cert->len);
    if (r != 0) {
        e = r == MBEDTLS_ERR_X509_ALLOC_FAILED ? CW_ERR_NO_MEMORY : CW_ERR_INVALID_ARG;
    } else if (mbedtls_pk_get_type(&c.pk) != MBEDTLS_PK_RSA) {
        e = CW_ERR_CMS_ALGORITHM;
    } else if (!sid_matches(sd, &c)) {
        e = CW_ERR_CMS_SIGNATURE;
    } else {
        cw_arena_prepare_key(&c.pk); /* before the verification's own buffers (cw_arena.h) */
        r = mbedtls_pk_verify(&c.pk, md, h, mbedtls_md_get_size(mbedtls_md_info_from_type(md)), sd->signature.p,
                              sd->signature.len);
        e = r == 0 ? CW_OK : CW_ERR_CMS_SIGNATURE;
    }
    mbedtls_x509_crt_free(&c);
    return e;
}

/* ==== building SignedData ===================================================================== */

static cw_err from_writer(int r)
{
    return r == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? CW_ERR_BUFFER_SMALL : CW_ERR_FROM_MBEDTLS(r);
}

size_t cw_cms_time(int64_t utc, uint8_t *tag, char text[16])
{
    static const char digits[] = "0123456789";
    cw_tm_t tm;
    int32_t fields[6];
    size_t n = 0;

    cw_time_split(utc, &tm);
    fields[0] = tm.year;
    fields[1] = tm.month;
    fields[2] = tm.day;
    fields[3] = tm.hour;
    fields[4] = tm.min;
    fields[5] = tm.sec;
    /* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 */
    if (tm.year >= 1950 && tm.year < 2050) {
        *tag = MBEDTLS_ASN1_UTC_TIME;
        fields[0] = tm.year % 100;
    } else {
        *tag = MBEDTLS_ASN1_GENERALIZED_TIME;
        text[n++] = digits[(tm.year / 1000) % 10];
        text[n++] = digits[(tm.year / 100) % 10];
        fields[0] = tm.year % 100;
    }
    for (size_t i = 0; i < 6; i++) {
        text[n++] = digits[(fields[i] / 10) % 10];
        text[n++] = digits[fields[i] % 10];
    }
    text[n++] = 'Z';
    return n;
}

/* Attribute ::= SEQUENCE { attrType OID, attrValues SET { value } }, written before *p. */
static int write_attr(unsigned char **p, unsigned char *start, const cw_cms_attr_t *a, size_t *total)
{
    size_t before = *total;
    if (a->len > 0) {
        CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, a->value, a->len));
    }
    CW_DER_W(mbedtls_asn1_write_len(p, start, a->len));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, a->tag));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SET));
    CW_DER_W(mbedtls_asn1_write_oid(p, start, a->oid, a->oid_len));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    return 0;
}

/* The SET's tag and length before its *total bytes of elements. */
static int write_set_header(unsigned char **p, unsigned char *start, size_t *total)
{
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SET));
    return 0;
}

/* X.690 11.6: DER orders SET OF elements by their encodings, the shorter padded with zeros. */
static bool der_less(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
    size_t n = la < lb ? la : lb;
    int c = memcmp(a, b, n);
    return c < 0 || (c == 0 && la < lb);
}

/* signedAttrs as a DER SET (tag 0x31, as signed) into set[0..CW_CMS_SIGNED_ATTRS_MAX): the
 * caller's attributes plus contentType id-data, messageDigest and signingTime. */
static cw_err build_attrs(const cw_cms_signer_t *s, const uint8_t *digest, size_t dlen, uint8_t *set, size_t *set_len)
{
    static const char oid_ct[] = MBEDTLS_OID_PKCS9 "\x03";
    static const char oid_md[] = MBEDTLS_OID_PKCS9 "\x04";
    static const char oid_st[] = MBEDTLS_OID_PKCS9 "\x05";
    static const char oid_data[] = MBEDTLS_OID_PKCS7_DATA;
    enum { N_MAX = CW_CMS_ATTRS_MAX + 3u };
    uint8_t pieces[CW_CMS_SIGNED_ATTRS_MAX];
    unsigned char *p = pieces + sizeof pieces;
    unsigned char *q = set + CW_CMS_SIGNED_ATTRS_MAX;
    size_t off[N_MAX];
    size_t len[N_MAX];
    bool used[N_MAX];
    cw_cms_attr_t fixed[3];
    char when[16];
    uint8_t when_tag = 0;
    size_t nfixed = 0;
    size_t count = 0;
    size_t total = 0;

    if (s->nattrs > CW_CMS_ATTRS_MAX) {
        return CW_ERR_TOO_LARGE;
    }
    fixed[nfixed++] = (cw_cms_attr_t){oid_ct, OID_LEN(oid_ct), CW_DER_OID, (const uint8_t *)oid_data, OID_LEN(oid_data)};
    fixed[nfixed++] = (cw_cms_attr_t){oid_md, OID_LEN(oid_md), CW_DER_OCTETS, digest, dlen};
    if (s->signing_time != 0) {
        size_t tl = cw_cms_time(s->signing_time, &when_tag, when);
        fixed[nfixed++] = (cw_cms_attr_t){oid_st, OID_LEN(oid_st), when_tag, (const uint8_t *)when, tl};
    }
    for (size_t i = 0; i < nfixed + s->nattrs; i++) {
        len[count] = 0;
        if (write_attr(&p, pieces, i < nfixed ? &fixed[i] : &s->attrs[i - nfixed], &len[count]) < 0) {
            return CW_ERR_TOO_LARGE;
        }
        off[count] = (size_t)(p - pieces);
        used[count++] = false;
    }
    /* written backwards, so the greatest first: a selection sort over a handful of elements */
    for (size_t k = 0; k < count; k++) {
        size_t best = N_MAX;
        for (size_t i = 0; i < count; i++) {
            if (!used[i] && (best == N_MAX || der_less(pieces + off[best], len[best], pieces + off[i], len[i]))) {
                best = i;
            }
        }
        used[best] = true;
        if (mbedtls_asn1_write_raw_buffer(&q, set, pieces + off[best], len[best]) < 0) {
            return CW_ERR_TOO_LARGE;
        }
        total += len[best];
    }
    if (write_set_header(&q, set, &total) < 0) {
        return CW_ERR_TOO_LARGE;
    }
    memmove(set, q, total);
    *set_len = total;
    return CW_OK;
}

/* IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber } */
static int write_issuer_serial(unsigned char **p, unsigned char *start, const mbedtls_x509_crt *c, size_t *total)
{
    size_t before = *total;
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, c->serial.p, c->serial.len));
    CW_DER_W(mbedtls_asn1_write_len(p, start, c->serial.len));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_INTEGER));
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, c->issuer_raw.p, c->issuer_raw.len));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    return 0;
}

/* DigestAlgorithmIdentifier without parameters (RFC 5754 2: absent for SHA-2; accepted for SHA-1). */
static int write_digest_alg(unsigned char **p, unsigned char *start, const digest_alg *d, size_t *total)
{
    CW_DER_W(mbedtls_asn1_write_algorithm_identifier_ext(p, start, d->oid, d->oid_len, 0, 0));
    return 0;
}

/* SignerInfo inside its SET (signerInfos), version 1 with issuerAndSerialNumber. */
static int write_signer_infos(unsigned char **p, unsigned char *start, const mbedtls_x509_crt *c,
                              const digest_alg *d, const uint8_t *attrs, size_t attrs_len, const uint8_t *sig,
                              size_t sig_len, size_t *total)
{
    size_t before = *total;
    int r;
    CW_DER_W(mbedtls_asn1_write_octet_string(p, start, sig, sig_len));
    /* rsaEncryption with NULL, as OpenSSL writes it (RFC 3370 3.2) */
    CW_DER_W(mbedtls_asn1_write_algorithm_identifier(p, start, MBEDTLS_OID_PKCS1_RSA, OID_LEN(MBEDTLS_OID_PKCS1_RSA), 0));
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, attrs, attrs_len));
    if ((r = write_digest_alg(p, start, d, total)) < 0 || (r = write_issuer_serial(p, start, c, total)) < 0) {
        return r;
    }
    CW_DER_W(mbedtls_asn1_write_int(p, start, 1));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SET));
    return 0;
}

/* Everything of the ContentInfo in front of signerInfos and certificates, around the content
 * already in place at *p. */
static int write_signed_head(unsigned char **p, unsigned char *start, const digest_alg *d, size_t content_len,
                             size_t *total)
{
    static const char oid_data[] = MBEDTLS_OID_PKCS7_DATA;
    static const char oid_signed[] = MBEDTLS_OID_PKCS7_SIGNED_DATA;
    size_t algs;
    int r;

    /* encapContentInfo: eContentType id-data, eContent [0] EXPLICIT OCTET STRING */
    {
        size_t before = *total - content_len;
        CW_DER_W(mbedtls_asn1_write_len(p, start, content_len));
        CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_OCTETS));
        CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
        CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_CTX_CONS(0)));
        CW_DER_W(mbedtls_asn1_write_oid(p, start, oid_data, OID_LEN(oid_data)));
        CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
        CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    }
    algs = *total;
    if ((r = write_digest_alg(p, start, d, total)) < 0) {
        return r;
    }
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - algs));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SET));
    CW_DER_W(mbedtls_asn1_write_int(p, start, 1));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_CTX_CONS(0)));
    CW_DER_W(mbedtls_asn1_write_oid(p, start, oid_signed, OID_LEN(oid_signed)));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    return 0;
}

static cw_err parse_cert(mbedtls_x509_crt *c, const uint8_t *der, size_t len)
{
    int r;
    mbedtls_x509_crt_init(c);
    r = mbedtls_x509_crt_parse_der_nocopy(c, der, len);
    if (r != 0) {
        mbedtls_x509_crt_free(c);
        return r == MBEDTLS_ERR_X509_ALLOC_FAILED ? CW_ERR_NO_MEMORY : CW_ERR_INVALID_ARG;
    }
    return CW_OK;
}

/* Writes the SignedData around content into out; the signature and attributes are ready. */
static cw_err write_signed(const cw_cms_signer_t *s, const mbedtls_x509_crt *c, const digest_alg *d,
                           const uint8_t *attrs, size_t attrs_len, const uint8_t *sig, size_t sig_len,
                           const uint8_t *content, size_t content_len, uint8_t *out, size_t cap, size_t *len)
{
    unsigned char *p = out + cap;
    unsigned char *floor = out;
    size_t total = 0;
    int r;

    /* Content inside out stays where it is until the tail is written behind it. */
    if ((uintptr_t)content >= (uintptr_t)out && (uintptr_t)content < (uintptr_t)(out + cap)) {
        size_t at = (size_t)((uintptr_t)content - (uintptr_t)out);
        if (content_len > cap - at) {
            return CW_ERR_INVALID_ARG;
        }
        floor = out + at + content_len;
    }
    r = write_signer_infos(&p, floor, c, d, attrs, attrs_len, sig, sig_len, &total);
    if (r >= 0) {
        size_t before = total;
        r = mbedtls_asn1_write_raw_buffer(&p, floor, s->cert, s->cert_len);
        if (r >= 0) {
            total += (size_t)r;
            r = mbedtls_asn1_write_len(&p, floor, total - before);
        }
        if (r >= 0) {
            total += (size_t)r;
            r = mbedtls_asn1_write_tag(&p, floor, CW_DER_CTX_CONS(0));
        }
        if (r >= 0) {
            total += (size_t)r;
        }
    }
    if (r < 0) {
        return from_writer(r);
    }
    if ((size_t)(p - out) < content_len) {
        return CW_ERR_BUFFER_SMALL;
    }
    p -= content_len;
    memmove(p, content, content_len);
    total += content_len;
    r = write_signed_head(&p, out, d, content_len, &total);
    if (r < 0) {
        return from_writer(r);
    }
    memmove(out, p, total);
    *len = total;
    return CW_OK;
}

cw_err cw_cms_signed_encode(cw_p11_ctx *p11, const cw_cms_signer_t *s, const uint8_t *content, size_t content_len,
                            uint8_t *out, size_t cap, size_t *len)
{
    const digest_alg *d = digest_by_hash(s->digest);
    uint8_t digest[MBEDTLS_MD_MAX_SIZE];
    uint8_t attrs[CW_CMS_SIGNED_ATTRS_MAX];
    uint8_t sig[CW_P11_SIG_MAX];
    size_t attrs_len = 0;
    size_t sig_len = 0;
    mbedtls_x509_crt c;
    cw_err e;

    *len = 0;
    if (d == NULL || s->key == NULL || s->cert == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    /* Headers: ContentInfo, SignedData, encap, certificates, SignerInfo: well under 128 bytes. */
    *len = content_len + s->cert_len + CW_CMS_SIGNED_ATTRS_MAX + cw_p11_sig_max(s->key->type) + 128u;
    if (out == NULL) {
        return CW_ERR_BUFFER_SMALL;
    }
    CW_TRY(hash_two(d->md, content, content_len, NULL, 0, digest));
    CW_TRY(build_attrs(s, digest, mbedtls_md_get_size(mbedtls_md_info_from_type(d->md)), attrs, &attrs_len));
    CW_TRY(cw_p11_sign(p11, s->key, s->digest, attrs, attrs_len, sig, sizeof sig, &sig_len));
    attrs[0] = CW_DER_CTX_CONS(0); /* signed as SET OF, sent as [0] IMPLICIT */
    CW_TRY(parse_cert(&c, s->cert, s->cert_len));
    e = write_signed(s, &c, d, attrs, attrs_len, sig, sig_len, content, content_len, out, cap, len);
    mbedtls_x509_crt_free(&c);
    if (e == CW_ERR_BUFFER_SMALL) {
        *len = content_len + s->cert_len + CW_CMS_SIGNED_ATTRS_MAX + cw_p11_sig_max(s->key->type) + 128u;
    }
    return e;
}

/* ==== EnvelopedData ========================================================================== */

/* The token's random bytes, drawn TOKEN_DRAW at a time: mbedTLS asks for RSA PKCS#1 v1.5
 * padding one byte at a time (and again for each zero), which was one C_GenerateRandom per byte,
 * about 500 calls for an envelope to an RSA-4096 CA; now the content key, the IV and the padding
 * take a few draws. Wiped when the envelope is done. */
#define TOKEN_DRAW 128u

typedef struct token_rand_t {
    cw_p11_ctx *p11;
    uint8_t buf[TOKEN_DRAW];
    size_t pos;                 /* bytes of buf already handed out (TOKEN_DRAW: empty) */
} token_rand_t;

static cw_err rand_take(token_rand_t *r, uint8_t *out, size_t len)
{
    while (len > 0u) {
        size_t n;
        if (r->pos == TOKEN_DRAW) {
            CW_TRY(cw_p11_random(r->p11, r->buf, TOKEN_DRAW));
            r->pos = 0;
        }
        n = TOKEN_DRAW - r->pos < len ? TOKEN_DRAW - r->pos : len;
        memcpy(out, r->buf + r->pos, n);
        cw_wipe(r->buf + r->pos, n); /* a byte handed out is not kept */
        r->pos += n;
        out += n;
        len -= n;
    }
    return CW_OK;
}

/* mbedTLS's RNG callback shape over the drawn bytes. */
static int token_rng(void *rand, unsigned char *buf, size_t len)
{
    return rand_take(rand, buf, len) == CW_OK ? 0 : MBEDTLS_ERR_RSA_RNG_FAILED;
}

/* A content key from the token; DES keys get odd parity (FIPS 46-3), which peers may check: each
 * byte's low bit makes the number of its ones odd (what mbedtls_des_key_set_parity does with a
 * 128-byte table; a loop here, for the Cortex-M image). */
static cw_err content_key(token_rand_t *rand, const cipher_alg *a, uint8_t *key)
{
    CW_TRY(rand_take(rand, key, a->key_len));
    if (a->block == 8u) {
        for (size_t i = 0; i < a->key_len; i++) {
            unsigned bit = 1;
            for (unsigned v = key[i] >> 1; v != 0u; v >>= 1) {
                bit ^= v & 1u;
            }
            key[i] = (uint8_t)((key[i] & 0xFEu) | bit);
        }
    }
    return CW_OK;
}

/* encryptedContent [0] IMPLICIT OCTET STRING: content CBC-encrypted with PKCS#7 padding,
 * written backwards (the ciphertext straight into place, no copy of the plaintext). */
static cw_err write_encrypted(unsigned char **p, unsigned char *start, const cipher_alg *a, const uint8_t *key,
                              const uint8_t *iv, const uint8_t *content, size_t len, size_t *total)
{
    size_t full = len - len % a->block;
    size_t ct = full + a->block;
    uint8_t chain[CW_CMS_IV_MAX];
    uint8_t last[CW_CMS_IV_MAX];
    unsigned char *c;
    cw_err e;
    int r;

    if ((size_t)(*p - start) < ct) {
        return CW_ERR_BUFFER_SMALL;
    }
    c = *p - ct;
    memcpy(chain, iv, a->block);
    /* RFC 5652 6.3: pad with k - (l mod k) octets of that value */
    memcpy(last, content + full, len - full);
    memset(last + (len - full), (int)(a->block - (len - full)), a->block - (len - full));
    e = full > 0 ? cbc(a, true, key, chain, content, full, c) : CW_OK;
    if (e == CW_OK) {
        e = cbc(a, true, key, chain, last, a->block, c + full);
    }
    cw_wipe(last, sizeof last);
    if (e != CW_OK) {
        return e;
    }
    *p = c;
    *total += ct;
    if ((r = mbedtls_asn1_write_len(p, start, ct)) < 0) {
        return from_writer(r);
    }
    *total += (size_t)r;
    if ((r = mbedtls_asn1_write_tag(p, start, CW_DER_CTX(0))) < 0) {
        return from_writer(r);
    }
    *total += (size_t)r;
    return CW_OK;
}

/* EncryptedContentInfo's head: contentType id-data, contentEncryptionAlgorithm { oid, iv }. */
static int write_content_info_head(unsigned char **p, unsigned char *start, const cipher_alg *a, const uint8_t *iv,
                                   size_t *total)
{
    static const char oid_data[] = MBEDTLS_OID_PKCS7_DATA;
    size_t before = *total;
    CW_DER_W(mbedtls_asn1_write_octet_string(p, start, iv, a->block));
    CW_DER_W(mbedtls_asn1_write_oid(p, start, a->oid, a->oid_len));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    CW_DER_W(mbedtls_asn1_write_oid(p, start, oid_data, OID_LEN(oid_data)));
    return 0;
}

/*
 * RFC 5652 6.1, 6.2.1:
 *   EnvelopedData ::= SEQUENCE { version CMSVersion (0), recipientInfos SET OF RecipientInfo,
 *                                encryptedContentInfo EncryptedContentInfo }
 *   KeyTransRecipientInfo ::= SEQUENCE { version (0), rid IssuerAndSerialNumber,
 *                                        keyEncryptionAlgorithm (rsaEncryption, NULL),
 *                                        encryptedKey OCTET STRING }
 * Written around the EncryptedContentInfo already at *p (content_len bytes from there).
 */
static int write_enveloped_head(unsigned char **p, unsigned char *start, const mbedtls_x509_crt *rc,
                                const uint8_t *ek, size_t ek_len, size_t *total)
{
    static const char oid_env[] = MBEDTLS_OID_PKCS7_ENVELOPED_DATA;
    size_t ri;
    int r;

    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ)); /* EncryptedContentInfo */
    ri = *total;
    CW_DER_W(mbedtls_asn1_write_octet_string(p, start, ek, ek_len));
    CW_DER_W(mbedtls_asn1_write_algorithm_identifier(p, start, MBEDTLS_OID_PKCS1_RSA, OID_LEN(MBEDTLS_OID_PKCS1_RSA), 0));
    if ((r = write_issuer_serial(p, start, rc, total)) < 0) {
        return r;
    }
    CW_DER_W(mbedtls_asn1_write_int(p, start, 0));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - ri));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - ri));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SET));
    CW_DER_W(mbedtls_asn1_write_int(p, start, 0));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_CTX_CONS(0)));
    CW_DER_W(mbedtls_asn1_write_oid(p, start, oid_env, OID_LEN(oid_env)));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, CW_DER_SEQ));
    return 0;
}

static cw_err envelope(cw_p11_ctx *p11, const mbedtls_x509_crt *rc, const cipher_alg *a, const uint8_t *content,
                       size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t key[CW_CMS_KEY_MAX];
    uint8_t iv[CW_CMS_IV_MAX];
    uint8_t ek[CW_P11_RSA_MODULUS_MAX];
    size_t ek_len = 0;
    unsigned char *p = out + cap;
    size_t total = 0;
    token_rand_t rand;
    cw_err e;
    int r;

    rand.p11 = p11;
    rand.pos = TOKEN_DRAW;
    e = content_key(&rand, a, key);
    if (e == CW_OK) {
        e = rand_take(&rand, iv, a->block);
    }
    if (e == CW_OK) {
        r = mbedtls_pk_encrypt((mbedtls_pk_context *)(uintptr_t)&rc->pk, key, a->key_len, ek, &ek_len, sizeof ek,
                               token_rng, &rand);
        e = r == 0 ? CW_OK : CW_ERR_FROM_MBEDTLS(r);
    }
    cw_wipe(&rand, sizeof rand);
    if (e == CW_OK) {
        e = write_encrypted(&p, out, a, key, iv, content, len, &total);
    }
    cw_wipe(key, sizeof key);
    if (e != CW_OK) {
        return e;
    }
    r = write_content_info_head(&p, out, a, iv, &total);
    if (r >= 0) {
        r = write_enveloped_head(&p, out, rc, ek, ek_len, &total);
    }
    if (r < 0) {
        return from_writer(r);
    }
    memmove(out, p, total);
    *outlen = total;
    return CW_OK;
}

cw_err cw_cms_enveloped_encode(cw_p11_ctx *p11, const cw_der_t *recipient, cw_cms_cipher cipher,
                               const uint8_t *content, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    const cipher_alg *a = cipher_by_id(cipher);
    mbedtls_x509_crt rc;
    cw_err e;

    *outlen = 0;
    if (a == NULL || content == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    CW_TRY(parse_cert(&rc, recipient->p, recipient->len));
    /* the ciphertext (padded: up to a block more), the IV, the recipient's issuer and serial, the
     * encrypted key (the recipient's modulus), and headers (about 100 bytes) */
    *outlen = len + 2u * a->block + rc.issuer_raw.len + rc.serial.len + mbedtls_pk_get_len(&rc.pk) + 128u;
    if (mbedtls_pk_get_type(&rc.pk) != MBEDTLS_PK_RSA) {
        e = CW_ERR_CMS_ALGORITHM;
    } else if (out == NULL || cap < *outlen) {
        e = CW_ERR_BUFFER_SMALL;
    } else {
        cw_arena_prepare_key(&rc.pk); /* before the encryption's own buffers (cw_arena.h) */
        e = envelope(p11, &rc, a, content, len, out, cap, outlen);
    }
    mbedtls_x509_crt_free(&rc);
    return e;
}

/* The parts of an EnvelopedData that opening needs. */
typedef struct env_view {
    ber_t recipients;       /* recipientInfos SET */
    const cipher_alg *alg;
    uint8_t iv[CW_CMS_IV_MAX];
    ber_t encrypted;        /* encryptedContent [0] (primitive or constructed) */
} env_view;

/* EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
 *                                     encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL } */
static cw_err parse_encrypted_info(const ber_t *eci, env_view *v)
{
    const uint8_t *p = eci->v;
    const uint8_t *end = eci->v + eci->len;
    const uint8_t *q;
    ber_t e;
    ber_t alg;

    CW_TRY(ber_expect(&p, end, CW_DER_OID, &e));
    CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &alg));
    q = alg.v;
    CW_TRY(ber_expect(&q, alg.v + alg.len, CW_DER_OID, &e));
    v->alg = cipher_by_oid(&e);
    if (v->alg == NULL) {
        return CW_ERR_CMS_ALGORITHM;
    }
    /* CBCParameter ::= IV (RFC 3370 5.1, RFC 3565 4.1): one block */
    CW_TRY(ber_expect(&q, alg.v + alg.len, CW_DER_OCTETS, &e));
    if (e.len != v->alg->block) {
        return CW_ERR_CMS_FORMAT;
    }
    memcpy(v->iv, e.v, e.len);
    CW_TRY(ber_read(p, end, &v->encrypted));
    if ((v->encrypted.tag & (uint8_t)~CW_DER_CONSTRUCTED) != CW_DER_CTX(0)) {
        return CW_ERR_CMS_FORMAT;
    }
    return CW_OK;
}

static cw_err parse_enveloped(const uint8_t *der, size_t len, env_view *v)
{
    static const char oid_env[] = MBEDTLS_OID_PKCS7_ENVELOPED_DATA;
    const uint8_t *p = der;
    const uint8_t *end = der + len;
    ber_t e;

    CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &e));
    if (p != end) {
        return CW_ERR_CMS_FORMAT;
    }
    p = e.v;
    end = e.v + e.len;
    CW_TRY(ber_expect(&p, end, CW_DER_OID, &e));
    if (!ber_is_oid(&e, oid_env, OID_LEN(oid_env))) {
        return CW_ERR_CMS_FORMAT;
    }
    CW_TRY(ber_expect(&p, end, CW_DER_CTX_CONS(0), &e));
    p = e.v;
    CW_TRY(ber_expect(&p, e.v + e.len, CW_DER_SEQ, &e));
    p = e.v;
    end = e.v + e.len;
    CW_TRY(ber_expect(&p, end, CW_DER_INTEGER, &e));
    if (p < end && *p == CW_DER_CTX_CONS(0)) {
        CW_TRY(ber_expect(&p, end, CW_DER_CTX_CONS(0), &e)); /* originatorInfo: not needed */
    }
    CW_TRY(ber_expect(&p, end, CW_DER_SET, &v->recipients));
    CW_TRY(ber_expect(&p, end, CW_DER_SEQ, &e));
    return parse_encrypted_info(&e, v);
}

/* Tries the KeyTransRecipientInfos with rsaEncryption until one decrypts with key to a content
 * key of the cipher's length. */
static cw_err recover_key(cw_p11_ctx *p11, const cw_p11_key *key, const env_view *v, uint8_t *cek)
{
    const uint8_t *p = v->recipients.v;
    const uint8_t *end = v->recipients.v + v->recipients.len;
    uint8_t plain[CW_P11_RSA_MODULUS_MAX];
    unsigned tried = 0;
    cw_err last = CW_ERR_CMS_NO_RECIPIENT;

    while (p < end && tried < CW_CMS_RECIPIENTS_MAX) {
        ber_t ri;
        ber_t e;
        const uint8_t *q;
        size_t n = 0;
        cw_err err;
        CW_TRY(ber_read(p, end, &ri));
        p = ri.next;
        if (ri.tag != CW_DER_SEQ) {
            continue; /* kari [1], kekri [2], pwri [3], ori [4]: not for an RSA key */
        }
        q = ri.v;
        CW_TRY(ber_expect(&q, ri.v + ri.len, CW_DER_INTEGER, &e));
        CW_TRY(ber_read(q, ri.v + ri.len, &e)); /* rid: issuerAndSerialNumber or [0] ski */
        q = e.next;
        CW_TRY(ber_expect(&q, ri.v + ri.len, CW_DER_SEQ, &e));
        {
            const uint8_t *a = e.v;
            ber_t oid;
            CW_TRY(ber_expect(&a, e.v + e.len, CW_DER_OID, &oid));
            if (!ber_is_oid(&oid, MBEDTLS_OID_PKCS1_RSA, OID_LEN(MBEDTLS_OID_PKCS1_RSA))) {
                continue;
            }
        }
        CW_TRY(ber_expect(&q, ri.v + ri.len, CW_DER_OCTETS, &e));
        tried++;
        err = cw_p11_decrypt(p11, key, e.v, e.len, plain, sizeof plain, &n);
        if (err == CW_OK && n == v->alg->key_len) {
            memcpy(cek, plain, n);
            cw_wipe(plain, sizeof plain);
            return CW_OK;
        }
        cw_wipe(plain, sizeof plain);
        /* Not being logged in is worth saying as such; anything else about this recipient
         * (wrong key, bad padding, wrong length) is one answer, to give no padding oracle. */
        last = (err == CW_ERR_NOT_LOGGED_IN || CW_ERR_IS_P11(err, CKR_USER_NOT_LOGGED_IN)) ? err : CW_ERR_CMS_DECRYPT;
    }
    return last;
}

/* RFC 5652 6.3: the last octet says how many padding octets, all of that value. */
static bool unpad(const uint8_t *buf, size_t len, size_t block, size_t *plain)
{
    uint8_t n = buf[len - 1];
    uint8_t bad = (uint8_t)(n == 0 || n > block);
    for (size_t i = 0; i < block; i++) {
        /* looked at in full whatever n is */
        bad |= (uint8_t)((i < n) & (buf[len - 1 - i] != n));
    }
    *plain = len - n;
    return bad == 0;
}

cw_err cw_cms_enveloped_open(cw_p11_ctx *p11, const cw_p11_key *key, const uint8_t *der, size_t len, uint8_t *out,
                             size_t cap, size_t *outlen)
{
    env_view v;
    cw_der_t ct;
    uint8_t cek[CW_CMS_KEY_MAX];
    cw_err e;

    *outlen = 0;
    memset(&v, 0, sizeof v);
    CW_TRY(parse_enveloped(der, len, &v));
    CW_TRY(ber_octets(&v.encrypted, out, cap, &ct));
    if (ct.len == 0 || ct.len % v.alg->block != 0) {
        return CW_ERR_CMS_FORMAT;
    }
    if (ct.p != out) {
        if (ct.len > cap) {
            *outlen = ct.len;
            return CW_ERR_BUFFER_SMALL;
        }
        memmove(out, ct.p, ct.len);
    }
    e = recover_key(p11, key, &v, cek);
    if (e == CW_OK) {
        e = cbc(v.alg, false, cek, v.iv, out, ct.len, out);
    }
    cw_wipe(cek, sizeof cek);
    if (e == CW_OK && !unpad(out, ct.len, v.alg->block, outlen)) {
        e = CW_ERR_CMS_DECRYPT;
    }
    if (e != CW_OK) {
        cw_wipe(out, ct.len);
        *outlen = 0;
    }
    return e;
}
