/*
 * cw_p11_object.c: certificates and data records in the token; finding, reading, destroying.
 */
#include <string.h>

#include "cw_p11_internal.h"
#include "mbedtls/asn1.h"

cw_err cw_p11__get_attr(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t *out,
                        size_t cap, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL_PTR, 0};
    CK_RV rv = CW_P11_FN(ctx, C_GetAttributeValue)(ctx->session, h, &a, 1);
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_GetAttributeValue", rv);
    }
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
        return cw_p11__rv(ctx, "C_GetAttributeValue", CKR_ATTRIBUTE_TYPE_INVALID);
    }
    *len = (size_t)a.ulValueLen;
    if (out == NULL || cap < *len) {
        return CW_ERR_BUFFER_SMALL;
    }
    a.pValue = out;
    rv = CW_P11_FN(ctx, C_GetAttributeValue)(ctx->session, h, &a, 1);
    if (rv == CKR_OK) {
        *len = (size_t)a.ulValueLen;
    }
    return cw_p11__rv(ctx, "C_GetAttributeValue", rv);
}

/* ---- certificates ------------------------------------------------------------------------------ */

/* A span of DER: a whole TLV. */
typedef struct der_span {
    const uint8_t *p;
    size_t len;
} der_span;

static cw_err asn1_err(int ret)
{
    return ret == MBEDTLS_ERR_ASN1_OUT_OF_DATA ? CW_ERR_TRUNCATED : CW_ERR_MALFORMED;
}

/* Reads one TLV of the given tag at *p, sets span to it and moves *p past it. */
static cw_err take_tlv(unsigned char **p, const unsigned char *end, int tag, der_span *span)
{
    unsigned char *start = *p;
    size_t len;
    int ret = mbedtls_asn1_get_tag(p, end, &len, tag);
    if (ret != 0) {
        return asn1_err(ret);
    }
    *p += len;
    if (span != NULL) {
        span->p = start;
        span->len = (size_t)(*p - start);
    }
    return CW_OK;
}

/*
 * RFC 5280 4.1:
 *   Certificate  ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm, signatureValue }
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
 *        serialNumber CertificateSerialNumber, signature AlgorithmIdentifier, issuer Name,
 *        validity Validity, subject Name, ... }
 * Only the spans are taken; the rest is the token's and the reader's business.
 */
static cw_err cert_fields(const uint8_t *der, size_t len, der_span *serial, der_span *issuer,
                          der_span *subject)
{
    const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + len;
    size_t n;
    int ret = mbedtls_asn1_get_tag(&p, end, &n, seq);
    if (ret != 0) {
        return asn1_err(ret);
    }
    if (p + n != end) {
        return CW_ERR_MALFORMED; /* trailing bytes after the certificate */
    }
    if ((ret = mbedtls_asn1_get_tag(&p, end, &n, seq)) != 0) {
        return asn1_err(ret);
    }
    const unsigned char *tbs_end = p + n;
    cw_err e = CW_OK;
    if (p < tbs_end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        e = take_tlv(&p, tbs_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0, NULL);
    }
    if (e == CW_OK) {
        e = take_tlv(&p, tbs_end, MBEDTLS_ASN1_INTEGER, serial);
    }
    if (e == CW_OK) {
        e = take_tlv(&p, tbs_end, seq, NULL); /* signature */
    }
    if (e == CW_OK) {
        e = take_tlv(&p, tbs_end, seq, issuer);
    }
    if (e == CW_OK) {
        e = take_tlv(&p, tbs_end, seq, NULL); /* validity */
    }
    if (e == CW_OK) {
        e = take_tlv(&p, tbs_end, seq, subject);
    }
    return e;
}

cw_err cw_p11_cert_create(cw_p11_ctx *ctx, const uint8_t *der, size_t len, const char *label,
                          const uint8_t *id, size_t idlen, unsigned long category,
                          CK_OBJECT_HANDLE *out)
{
    if (der == NULL || label == NULL || out == NULL || (id == NULL && idlen != 0u)) {
        return CW_ERR_INVALID_ARG;
    }
    *out = CK_INVALID_HANDLE;
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    der_span serial, issuer, subject;
    cw_err e = cert_fields(der, len, &serial, &issuer, &subject);
    if (e != CW_OK) {
        return e;
    }
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ctype = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG cat = (CK_ULONG)category;
    CK_ATTRIBUTE t[] = {
        CW_P11_ATTR(CKA_CLASS, &cls, sizeof cls),
        CW_P11_ATTR(CKA_CERTIFICATE_TYPE, &ctype, sizeof ctype),
        CW_P11_ATTR(CKA_TOKEN, &yes, sizeof yes),
        CW_P11_ATTR(CKA_PRIVATE, &no, sizeof no),
        CW_P11_ATTR(CKA_SUBJECT, subject.p, subject.len),
        CW_P11_ATTR(CKA_ISSUER, issuer.p, issuer.len),
        CW_P11_ATTR(CKA_SERIAL_NUMBER, serial.p, serial.len),
        CW_P11_ATTR(CKA_VALUE, der, len),
        CW_P11_ATTR(CKA_CERTIFICATE_CATEGORY, &cat, sizeof cat),
        CW_P11_ATTR(CKA_LABEL, label, strlen(label)),
        CW_P11_ATTR(CKA_ID, id, idlen), /* last: left out when there is no ID */
    };
    CK_ULONG n = sizeof t / sizeof t[0] - (id == NULL ? 1u : 0u);
    return cw_p11__rv(ctx, "C_CreateObject", CW_P11_FN(ctx, C_CreateObject)(ctx->session, t, n, out));
}

/* ---- data records -------------------------------------------------------------------------------- */

cw_err cw_p11_data_create(cw_p11_ctx *ctx, const char *application, const char *label, bool is_private,
                          const uint8_t *value, size_t len, CK_OBJECT_HANDLE *out)
{
    if (application == NULL || label == NULL || out == NULL || (value == NULL && len != 0u)) {
        return CW_ERR_INVALID_ARG;
    }
    *out = CK_INVALID_HANDLE;
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL priv = is_private ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE t[] = {
        CW_P11_ATTR(CKA_CLASS, &cls, sizeof cls),
        CW_P11_ATTR(CKA_TOKEN, &yes, sizeof yes),
        CW_P11_ATTR(CKA_PRIVATE, &priv, sizeof priv),
        CW_P11_ATTR(CKA_APPLICATION, application, strlen(application)),
        CW_P11_ATTR(CKA_LABEL, label, strlen(label)),
        CW_P11_ATTR(CKA_VALUE, value, len),
    };
    return cw_p11__rv(ctx, "C_CreateObject",
                      CW_P11_FN(ctx, C_CreateObject)(ctx->session, t, sizeof t / sizeof t[0], out));
}

cw_err cw_p11_public_data_allowed(cw_p11_ctx *ctx, bool *allowed)
{
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {
        CW_P11_ATTR(CKA_CLASS, &cls, sizeof cls),
        CW_P11_ATTR(CKA_TOKEN, &no, sizeof no),
        CW_P11_ATTR(CKA_PRIVATE, &no, sizeof no),
        CW_P11_ATTR(CKA_VALUE, &no, sizeof no),
    };
    *allowed = false;
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    if (CW_P11_FN(ctx, C_CreateObject)(ctx->session, t, sizeof t / sizeof t[0], &h) == CKR_OK) {
        *allowed = true;
        (void)cw_p11_destroy(ctx, h);
    }
    return CW_OK;
}

/* ---- finding -------------------------------------------------------------------------------------- */

/* Handles fetched per C_FindObjects call once the caller's buffer is full (only counted). */
#define FIND_CHUNK 16u

cw_err cw_p11_find(cw_p11_ctx *ctx, const cw_p11_match_t *m, CK_OBJECT_HANDLE *out, size_t cap,
                   size_t *n)
{
    if (m == NULL || n == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    *n = 0;
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    if (out == NULL) {
        cap = 0;
    }
    CK_ATTRIBUTE t[4];
    CK_ULONG tn = 0;
    CK_OBJECT_CLASS cls = m->cls;
    if (m->has_class) {
        t[tn++] = (CK_ATTRIBUTE)CW_P11_ATTR(CKA_CLASS, &cls, sizeof cls);
    }
    if (m->label != NULL) {
        t[tn++] = (CK_ATTRIBUTE)CW_P11_ATTR(CKA_LABEL, m->label, strlen(m->label));
    }
    if (m->id != NULL) {
        t[tn++] = (CK_ATTRIBUTE)CW_P11_ATTR(CKA_ID, m->id, m->id_len);
    }
    if (m->application != NULL) {
        t[tn++] = (CK_ATTRIBUTE)CW_P11_ATTR(CKA_APPLICATION, m->application, strlen(m->application));
    }
    CK_RV rv = CW_P11_FN(ctx, C_FindObjectsInit)(ctx->session, tn > 0u ? t : NULL_PTR, tn);
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_FindObjectsInit", rv);
    }
    size_t total = 0;
    for (;;) {
        CK_OBJECT_HANDLE spill[FIND_CHUNK];
        CK_OBJECT_HANDLE *dst = total < cap ? out + total : spill;
        CK_ULONG want = total < cap ? (CK_ULONG)(cap - total) : FIND_CHUNK;
        CK_ULONG got = 0;
        rv = CW_P11_FN(ctx, C_FindObjects)(ctx->session, dst, want, &got);
        if (rv != CKR_OK || got == 0u) {
            break;
        }
        total += (size_t)got;
    }
    CK_RV rv_final = CW_P11_FN(ctx, C_FindObjectsFinal)(ctx->session);
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_FindObjects", rv);
    }
    if (rv_final != CKR_OK) {
        return cw_p11__rv(ctx, "C_FindObjectsFinal", rv_final);
    }
    *n = total;
    return total > cap ? CW_ERR_BUFFER_SMALL : CW_OK;
}

/* ---- attributes and destruction ------------------------------------------------------------------- */

/* Attributes that hold key material of a private or secret key: never read, whatever the
 * token's CKA_SENSITIVE / CKA_EXTRACTABLE say (DESIGN: private keys never leave the token). */
static bool is_secret_attr(CK_ATTRIBUTE_TYPE type)
{
    switch (type) {
    case CKA_VALUE:
    case CKA_PRIVATE_EXPONENT:
    case CKA_PRIME_1:
    case CKA_PRIME_2:
    case CKA_EXPONENT_1:
    case CKA_EXPONENT_2:
    case CKA_COEFFICIENT:
        return true;
    default:
        return false;
    }
}

cw_err cw_p11_read_attr(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t *buf,
                        size_t cap, size_t *len)
{
    if (len == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    *len = 0;
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    if (is_secret_attr(type)) {
        CK_OBJECT_CLASS cls = 0;
        size_t n = 0;
        cw_err e = cw_p11__get_attr(ctx, h, CKA_CLASS, (uint8_t *)&cls, sizeof cls, &n);
        if (e != CW_OK) {
            return e;
        }
        if (cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY) {
            return CW_ERR_INVALID_ARG;
        }
    }
    return cw_p11__get_attr(ctx, h, type, buf, cap, len);
}

cw_err cw_p11_destroy(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h)
{
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    return cw_p11__rv(ctx, "C_DestroyObject", CW_P11_FN(ctx, C_DestroyObject)(ctx->session, h));
}

/* ---- what a power cut left half-made ------------------------------------------------------------- */

/* An object this token shows as finished: CKA_TOKEN reads true. An object whose creation was cut
 * reads false (its class's defaults are stored, the template is not), or has no CKA_TOKEN at all:
 * nothing but its class, or not even that, was stored. SoftHSM2 2.6.1 answers a read of any
 * attribute of an object without a class with CKR_ATTRIBUTE_VALUE_INVALID (measured), other tokens
 * may say CKR_ATTRIBUTE_TYPE_INVALID; either means the object cannot say it is a token object.
 * Other errors are the token's and end the sweep. */
static cw_err is_unfinished(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h, bool *unfinished)
{
    CK_BBOOL token = CK_FALSE;
    CK_ATTRIBUTE a = CW_P11_ATTR(CKA_TOKEN, &token, sizeof token);
    CK_RV rv = CW_P11_FN(ctx, C_GetAttributeValue)(ctx->session, h, &a, 1);

    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
        (rv == CKR_OK && a.ulValueLen != sizeof token)) {
        *unfinished = true;
        return CW_OK;
    }
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_GetAttributeValue", rv);
    }
    *unfinished = token != CK_TRUE;
    return CW_OK;
}

/* One pass over every object the session sees: up to cap unfinished ones into out (*n). */
static cw_err find_unfinished(cw_p11_ctx *ctx, CK_OBJECT_HANDLE *out, size_t cap, size_t *n)
{
    cw_err e = CW_OK;
    CK_RV rv = CW_P11_FN(ctx, C_FindObjectsInit)(ctx->session, NULL_PTR, 0);

    *n = 0;
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_FindObjectsInit", rv);
    }
    while (e == CW_OK && *n < cap) {
        CK_OBJECT_HANDLE h[FIND_CHUNK];
        CK_ULONG got = 0;
        rv = CW_P11_FN(ctx, C_FindObjects)(ctx->session, h, FIND_CHUNK, &got);
        if (rv != CKR_OK) {
            e = cw_p11__rv(ctx, "C_FindObjects", rv);
        }
        if (e != CW_OK || got == 0u) {
            break;
        }
        for (CK_ULONG i = 0; e == CW_OK && i < got && *n < cap; i++) {
            bool unfinished = false;
            e = is_unfinished(ctx, h[i], &unfinished);
            if (e == CW_OK && unfinished) {
                out[(*n)++] = h[i];
            }
        }
    }
    rv = CW_P11_FN(ctx, C_FindObjectsFinal)(ctx->session);
    if (e == CW_OK && rv != CKR_OK) {
        e = cw_p11__rv(ctx, "C_FindObjectsFinal", rv);
    }
    return e;
}

cw_err cw_p11_sweep_unfinished(cw_p11_ctx *ctx, size_t *removed)
{
    CK_OBJECT_HANDLE h[FIND_CHUNK];
    size_t n = 0;

    if (removed == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    *removed = 0;
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    /* Found during a search, removed after it (the standard leaves a search's view of objects
     * destroyed meanwhile undefined); a pass that finds a full chunk is followed by another. */
    do {
        cw_err e = find_unfinished(ctx, h, FIND_CHUNK, &n);
        if (e != CW_OK) {
            return e;
        }
        for (size_t i = 0; i < n; i++) {
            e = cw_p11_destroy(ctx, h[i]);
            if (e != CW_OK) {
                return e;
            }
            (*removed)++;
        }
    } while (n == FIND_CHUNK);
    return CW_OK;
}
