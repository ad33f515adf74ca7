/*
 * cw_csr.c: PKCS#10 requests signed in the token.
 *
 * RFC 2986, section 4:
 *
 *   CertificationRequest ::= SEQUENCE {
 *       certificationRequestInfo CertificationRequestInfo,
 *       signatureAlgorithm       AlgorithmIdentifier,
 *       signature                BIT STRING }
 *
 *   CertificationRequestInfo ::= SEQUENCE {
 *       version       INTEGER { v1(0) },
 *       subject       Name,
 *       subjectPKInfo SubjectPublicKeyInfo,
 *       attributes    [0] IMPLICIT SET OF Attribute }
 *
 * mbedTLS's writer works backwards from the end of a buffer, so the CertificationRequestInfo is
 * written at the end of the caller's buffer, signed there by the token, then moved to the front
 * and followed by the algorithm and the signature.
 */
#include "cw/codec/cw_csr.h"
#include "cw/base/cw_der.h"

#include <string.h>

#include "cw/base/cw_wipe.h"
#include "mbedtls/asn1.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/oid.h"

/* challengePassword ATTRIBUTE ::= { WITH SYNTAX DirectoryString {ub-challenge-password}
 *                                   ID pkcs-9-at-challengePassword }  -- {pkcs-9 7} */
#define OID_PKCS9_CHALLENGE_PASSWORD MBEDTLS_OID_PKCS9 "\x07"
/* ub-challenge-password (RFC 2985) */
#define CHALLENGE_MAX 255u

#define OID_LEN(o) (sizeof(o) - 1u)

static const struct {
    const char *oid;
    size_t oid_len;
} dn_oids[CW_DN_COUNT] = {
    [CW_DN_C] = {MBEDTLS_OID_AT_COUNTRY, OID_LEN(MBEDTLS_OID_AT_COUNTRY)},
    [CW_DN_ST] = {MBEDTLS_OID_AT_STATE, OID_LEN(MBEDTLS_OID_AT_STATE)},
    [CW_DN_L] = {MBEDTLS_OID_AT_LOCALITY, OID_LEN(MBEDTLS_OID_AT_LOCALITY)},
    [CW_DN_O] = {MBEDTLS_OID_AT_ORGANIZATION, OID_LEN(MBEDTLS_OID_AT_ORGANIZATION)},
    [CW_DN_OU] = {MBEDTLS_OID_AT_ORG_UNIT, OID_LEN(MBEDTLS_OID_AT_ORG_UNIT)},
    [CW_DN_CN] = {MBEDTLS_OID_AT_CN, OID_LEN(MBEDTLS_OID_AT_CN)},
};

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* X.680 PrintableString: A-Z a-z 0-9 space ' ( ) + , - . / : = ? */
static bool printable_string(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr(" '()+,-./:=?", c) != NULL) || c == '\0') {
            return false;
        }
    }
    return true;
}

static cw_err check_request(const cw_csr_req_t *req)
{
    bool any_dn = false;

    for (int a = 0; a < CW_DN_COUNT; a++) {
        if (!present(req->dn[a])) {
            continue;
        }
        any_dn = true;
        if (strlen(req->dn[a]) > CW_CSR_DN_VALUE_MAX) {
            return CW_ERR_INVALID_ARG;
        }
    }
    if (present(req->dn[CW_DN_C]) && (strlen(req->dn[CW_DN_C]) != 2 || !printable_string(req->dn[CW_DN_C], 2))) {
        return CW_ERR_INVALID_ARG;
    }
    if (req->nsan > CW_CSR_SAN_MAX || (!any_dn && req->nsan == 0)) {
        return CW_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < req->nsan; i++) {
        const cw_san_t *s = &req->san[i];
        if (s->kind == CW_SAN_DNS) {
            if (!present(s->dns) || strlen(s->dns) > 253u) {
                return CW_ERR_INVALID_ARG;
            }
        } else if (s->kind != CW_SAN_IP || (s->ip_len != 4 && s->ip_len != 16)) {
            return CW_ERR_INVALID_ARG;
        }
    }
    if (req->challenge != NULL && (req->challenge_len == 0 || req->challenge_len > CHALLENGE_MAX)) {
        return CW_ERR_INVALID_ARG;
    }
    return CW_OK;
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName, one AttributeTypeAndValue per RDN. */
static int write_name(unsigned char **p, unsigned char *start, const cw_csr_req_t *req, size_t *total)
{
    size_t before = *total;
    for (int a = CW_DN_COUNT - 1; a >= 0; a--) {
        size_t rdn = *total;
        const char *v = req->dn[a];
        if (!present(v)) {
            continue;
        }
        if (a == CW_DN_C) {
            CW_DER_W(mbedtls_asn1_write_printable_string(p, start, v, strlen(v)));
        } else {
            CW_DER_W(mbedtls_asn1_write_utf8_string(p, start, v, strlen(v)));
        }
        CW_DER_W(mbedtls_asn1_write_oid(p, start, dn_oids[a].oid, dn_oids[a].oid_len));
        CW_DER_W(mbedtls_asn1_write_len(p, start, *total - rdn));
        CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
        CW_DER_W(mbedtls_asn1_write_len(p, start, *total - rdn));
        CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET));
    }
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING },
 * around a value already written (value_len bytes just after *p). */
static int wrap_extension(unsigned char **p, unsigned char *start, const char *oid, size_t oid_len,
                          bool critical, size_t value_len, size_t *total)
{
    size_t before = *total - value_len;
    CW_DER_W(mbedtls_asn1_write_len(p, start, value_len));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_OCTET_STRING));
    if (critical) {
        CW_DER_W(mbedtls_asn1_write_bool(p, start, 1));
    }
    CW_DER_W(mbedtls_asn1_write_oid(p, start, oid, oid_len));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

/* Extensions ::= SEQUENCE OF Extension: subjectAltName, keyUsage, extendedKeyUsage. */
static int write_extensions(unsigned char **p, unsigned char *start, const cw_csr_req_t *req, cw_key_type type,
                            size_t *total)
{
    size_t all = *total;
    size_t v;

    if (req->eku != 0) {
        /* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
        v = *total;
        if (req->eku & CW_EKU_CLIENT_AUTH) {
            CW_DER_W(mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_CLIENT_AUTH, OID_LEN(MBEDTLS_OID_CLIENT_AUTH)));
        }
        if (req->eku & CW_EKU_SERVER_AUTH) {
            CW_DER_W(mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_SERVER_AUTH, OID_LEN(MBEDTLS_OID_SERVER_AUTH)));
        }
        CW_DER_W(mbedtls_asn1_write_len(p, start, *total - v));
        CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
        {
            int r = wrap_extension(p, start, MBEDTLS_OID_EXTENDED_KEY_USAGE, OID_LEN(MBEDTLS_OID_EXTENDED_KEY_USAGE),
                                   false, *total - v, total);
            if (r < 0) {
                return r;
            }
        }
    }

    /* KeyUsage ::= BIT STRING { digitalSignature (0), ..., keyEncipherment (2), ... }, critical.
     * RSA keys also carry keys for the server (TLS RSA key transport, SCEP envelopes); EC keys
     * only sign. */
    {
        unsigned char ku = (type == CW_KEY_EC_P256 || type == CW_KEY_EC_P384) ? 0x80u : 0xA0u;
        v = *total;
        CW_DER_W(mbedtls_asn1_write_named_bitstring(p, start, &ku, 8));
        int r = wrap_extension(p, start, MBEDTLS_OID_KEY_USAGE, OID_LEN(MBEDTLS_OID_KEY_USAGE), true, *total - v,
                               total);
        if (r < 0) {
            return r;
        }
    }

    if (req->nsan > 0) {
        /* GeneralNames ::= SEQUENCE OF GeneralName; dNSName [2] IA5String, iPAddress [7] OCTET STRING */
        v = *total;
        for (size_t i = req->nsan; i-- > 0;) {
            const cw_san_t *s = &req->san[i];
            if (s->kind == CW_SAN_DNS) {
                CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, (const unsigned char *)s->dns, strlen(s->dns)));
                CW_DER_W(mbedtls_asn1_write_len(p, start, strlen(s->dns)));
                CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
            } else {
                CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, s->ip, s->ip_len));
                CW_DER_W(mbedtls_asn1_write_len(p, start, s->ip_len));
                CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
            }
        }
        CW_DER_W(mbedtls_asn1_write_len(p, start, *total - v));
        CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
        int r = wrap_extension(p, start, MBEDTLS_OID_SUBJECT_ALT_NAME, OID_LEN(MBEDTLS_OID_SUBJECT_ALT_NAME), false,
                               *total - v, total);
        if (r < 0) {
            return r;
        }
    }

    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - all));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

/* Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE(1..MAX) OF ANY }, around
 * the one value already written. */
static int wrap_attribute(unsigned char **p, unsigned char *start, const char *oid, size_t oid_len,
                          size_t value_len, size_t *total)
{
    size_t before = *total - value_len;
    CW_DER_W(mbedtls_asn1_write_len(p, start, value_len));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET));
    CW_DER_W(mbedtls_asn1_write_oid(p, start, oid, oid_len));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

/* X.690 11.6: the elements of a SET OF appear in ascending order of their encodings, the
 * shorter padded with zero octets. a and b are adjacent: a at *p, then b. Swaps them in place
 * when out of order, using scratch (at least la bytes). */
static void sort_pair(unsigned char *a, size_t la, size_t lb, unsigned char *scratch)
{
    unsigned char *b = a + la;
    size_t n = la < lb ? la : lb;
    int c = memcmp(a, b, n);
    if (c < 0 || (c == 0 && la <= lb)) {
        return;
    }
    memcpy(scratch, a, la);
    memmove(a, b, lb);
    memcpy(a + lb, scratch, la);
}

static int write_attributes(unsigned char **p, unsigned char *start, const cw_csr_req_t *req, cw_key_type type,
                            size_t *total)
{
    size_t all = *total;
    size_t ext_len;
    size_t v;

    v = *total;
    {
        int r = write_extensions(p, start, req, type, total);
        if (r < 0) {
            return r;
        }
        r = wrap_attribute(p, start, MBEDTLS_OID_PKCS9_CSR_EXT_REQ, OID_LEN(MBEDTLS_OID_PKCS9_CSR_EXT_REQ),
                           *total - v, total);
        if (r < 0) {
            return r;
        }
    }
    ext_len = *total - v;

    if (req->challenge != NULL) {
        /* DirectoryString: PrintableString when the password allows it, else UTF8String. */
        unsigned char scratch[CHALLENGE_MAX + 32u];
        size_t ch;
        v = *total;
        if (printable_string(req->challenge, req->challenge_len)) {
            CW_DER_W(mbedtls_asn1_write_printable_string(p, start, req->challenge, req->challenge_len));
        } else {
            CW_DER_W(mbedtls_asn1_write_utf8_string(p, start, req->challenge, req->challenge_len));
        }
        int r = wrap_attribute(p, start, OID_PKCS9_CHALLENGE_PASSWORD, OID_LEN(OID_PKCS9_CHALLENGE_PASSWORD),
                               *total - v, total);
        if (r < 0) {
            return r;
        }
        ch = *total - v;
        sort_pair(*p, ch, ext_len, scratch);
        cw_wipe(scratch, sizeof scratch);
    }
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - all));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
    return 0;
}

static int write_request_info(unsigned char **p, unsigned char *start, const cw_csr_req_t *req, cw_key_type type,
                              const uint8_t *spki, size_t spki_len, size_t *total)
{
    int r = write_attributes(p, start, req, type, total);
    if (r < 0) {
        return r;
    }
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, spki, spki_len));
    r = write_name(p, start, req, total);
    if (r < 0) {
        return r;
    }
    CW_DER_W(mbedtls_asn1_write_int(p, start, 0));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

/* signatureAlgorithm and signature, written backwards into [start, *p). */
static int write_signature(unsigned char **p, unsigned char *start, cw_key_type type, const uint8_t *sig,
                           size_t sig_len, size_t *total)
{
    CW_DER_W(mbedtls_asn1_write_bitstring(p, start, sig, sig_len * 8u));
    switch (type) {
    case CW_KEY_EC_P256:
        CW_DER_W(mbedtls_asn1_write_algorithm_identifier_ext(p, start, MBEDTLS_OID_ECDSA_SHA256,
                                                      OID_LEN(MBEDTLS_OID_ECDSA_SHA256), 0, 0));
        break;
    case CW_KEY_EC_P384:
        CW_DER_W(mbedtls_asn1_write_algorithm_identifier_ext(p, start, MBEDTLS_OID_ECDSA_SHA384,
                                                      OID_LEN(MBEDTLS_OID_ECDSA_SHA384), 0, 0));
        break;
    default:
        /* sha256WithRSAEncryption, parameters NULL (RFC 4055 section 5) */
        CW_DER_W(mbedtls_asn1_write_algorithm_identifier(p, start, MBEDTLS_OID_PKCS1_SHA256,
                                                  OID_LEN(MBEDTLS_OID_PKCS1_SHA256), 0));
        break;
    }
    return 0;
}

static cw_err from_writer(int r)
{
    return r == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? CW_ERR_BUFFER_SMALL : CW_ERR_FROM_MBEDTLS(r);
}

cw_err cw_csr_encode(cw_p11_ctx *p11, const cw_p11_key *key, const cw_csr_req_t *req, uint8_t *out,
                     size_t cap, size_t *len)
{
    uint8_t spki[CW_P11_SPKI_MAX];
    uint8_t sig[CW_P11_SIG_MAX];
    unsigned char tail[CW_P11_SIG_MAX + 32u];
    size_t spki_len = 0;
    size_t sig_len = 0;
    size_t cri_len = 0;
    size_t tail_len = 0;
    size_t hdr_len;
    unsigned char *p;
    cw_hash_alg hash = key->type == CW_KEY_EC_P384 ? CW_HASH_SHA384 : CW_HASH_SHA256;
    cw_err e;
    int r;

    *len = CW_CSR_DER_MAX;
    e = check_request(req);
    if (e != CW_OK) {
        return e;
    }
    if (out == NULL) {
        return CW_ERR_BUFFER_SMALL;
    }
    e = cw_p11_pubkey_spki(p11, key, spki, sizeof spki, &spki_len);
    if (e != CW_OK) {
        return e;
    }

    /* CertificationRequestInfo at the end of out; it may hold the challenge password. */
    p = out + cap;
    r = write_request_info(&p, out, req, key->type, spki, spki_len, &cri_len);
    if (r < 0) {
        cw_wipe(out, cap);
        return from_writer(r);
    }
    e = cw_p11_sign(p11, key, hash, p, cri_len, sig, sizeof sig, &sig_len);
    if (e != CW_OK) {
        cw_wipe(out, cap);
        return e;
    }

    /* signatureAlgorithm + signature, then the outer SEQUENCE around all three. */
    {
        unsigned char *t = tail + sizeof tail;
        r = write_signature(&t, tail, key->type, sig, sig_len, &tail_len);
        if (r < 0) {
            cw_wipe(out, cap);
            return from_writer(r);
        }
        size_t body = cri_len + tail_len;
        hdr_len = 1u + (body < 0x80u ? 1u : body < 0x100u ? 2u : body < 0x10000u ? 3u : 4u);
        if (hdr_len + cri_len + tail_len > cap) {
            cw_wipe(out, cap);
            return CW_ERR_BUFFER_SMALL;
        }
        memmove(out + hdr_len, p, cri_len);
        memcpy(out + hdr_len + cri_len, t, tail_len);
    }
    /* The outer SEQUENCE header fills exactly the hdr_len bytes left in front. */
    p = out + hdr_len;
    if (mbedtls_asn1_write_len(&p, out, cri_len + tail_len) < 0 ||
        mbedtls_asn1_write_tag(&p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) < 0 || p != out) {
        cw_wipe(out, cap);
        return CW_ERR_INTERNAL;
    }
    /* Whatever is left of the scratch area beyond the request held the challenge password. */
    cw_wipe(out + hdr_len + cri_len + tail_len, cap - (hdr_len + cri_len + tail_len));
    *len = hdr_len + cri_len + tail_len;
    return CW_OK;
}

/* ---- reading a request back ------------------------------------------------------------------ */


/* An OID at *p (then skipped) equal to oid[0..oid_len)? false also when there is none. */
static bool oid_is(unsigned char **p, const unsigned char *end, const char *oid, size_t oid_len, bool *ok)
{
    size_t n;
    *ok = mbedtls_asn1_get_tag(p, end, &n, MBEDTLS_ASN1_OID) == 0;
    if (!*ok) {
        return false;
    }
    bool same = n == oid_len && memcmp(*p, oid, n) == 0;
    *p += n;
    return same;
}

/* The subjectAltName in the Extensions of an extensionRequest attribute's values (a SET with
 * one Extensions SEQUENCE), p at the SET: parts->san when there is one. */
static bool read_extension_request(unsigned char *p, const unsigned char *end, cw_csr_parts_t *parts)
{
    size_t n;
    if (mbedtls_asn1_get_tag(&p, end, &n, CW_DER_SET) != 0 || mbedtls_asn1_get_tag(&p, end, &n, CW_DER_SEQ) != 0) {
        return false;
    }
    const unsigned char *exts_end = p + n;
    while (p < exts_end) {
        /* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
        bool ok;
        int critical;
        if (mbedtls_asn1_get_tag(&p, exts_end, &n, CW_DER_SEQ) != 0) {
            return false;
        }
        const unsigned char *ext_end = p + n;
        bool is_san = oid_is(&p, ext_end, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                             &ok);
        if (!ok) {
            return false;
        }
        if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, ext_end, &critical) != 0) {
            return false;
        }
        if (mbedtls_asn1_get_tag(&p, ext_end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0 || p + n != ext_end) {
            return false;
        }
        if (is_san) {
            if (mbedtls_asn1_get_tag(&p, ext_end, &n, CW_DER_SEQ) != 0 || p + n != ext_end) {
                return false;
            }
            parts->san = p;
            parts->san_len = n;
        }
        p = (unsigned char *)(uintptr_t)ext_end;
    }
    return true;
}

cw_err cw_csr_parts(const uint8_t *der, size_t len, cw_csr_parts_t *out)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + len;
    size_t n;
    int version;

    memset(out, 0, sizeof *out);
    /* CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
     * CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name,
     *     subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute } */
    if (der == NULL || mbedtls_asn1_get_tag(&p, end, &n, CW_DER_SEQ) != 0 || p + n != end ||
        mbedtls_asn1_get_tag(&p, end, &n, CW_DER_SEQ) != 0) {
        return CW_ERR_MALFORMED;
    }
    const unsigned char *info_end = p + n;
    if (mbedtls_asn1_get_int(&p, info_end, &version) != 0 || version != 0) {
        return CW_ERR_MALFORMED;
    }
    out->subject = p;
    if (mbedtls_asn1_get_tag(&p, info_end, &n, CW_DER_SEQ) != 0) {
        return CW_ERR_MALFORMED;
    }
    p += n;
    out->subject_len = (size_t)(p - out->subject);
    if (mbedtls_asn1_get_tag(&p, info_end, &n, CW_DER_SEQ) != 0) {
        return CW_ERR_MALFORMED;
    }
    p += n;
    if (mbedtls_asn1_get_tag(&p, info_end, &n, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED) != 0 ||
        p + n != info_end) {
        return CW_ERR_MALFORMED;
    }
    while (p < info_end) {
        /* Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET OF ANY } */
        bool ok;
        if (mbedtls_asn1_get_tag(&p, info_end, &n, CW_DER_SEQ) != 0) {
            return CW_ERR_MALFORMED;
        }
        const unsigned char *attr_end = p + n;
        if (oid_is(&p, attr_end, MBEDTLS_OID_PKCS9_CSR_EXT_REQ, MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS9_CSR_EXT_REQ), &ok) &&
            !read_extension_request(p, attr_end, out)) {
            return CW_ERR_MALFORMED;
        }
        if (!ok) {
            return CW_ERR_MALFORMED;
        }
        p = (unsigned char *)(uintptr_t)attr_end;
    }
    return CW_OK;
}

cw_err cw_csr_cn(const cw_csr_parts_t *parts, const uint8_t **value, size_t *len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)parts->subject;
    const unsigned char *end = parts->subject + parts->subject_len;
    cw_err e = CW_ERR_NOT_FOUND;
    size_t n;

    /* Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue) */
    if (p == NULL || mbedtls_asn1_get_tag(&p, end, &n, CW_DER_SEQ) != 0) {
        return CW_ERR_MALFORMED;
    }
    while (p < end) {
        if (mbedtls_asn1_get_tag(&p, end, &n, CW_DER_SET) != 0) {
            return CW_ERR_MALFORMED;
        }
        const unsigned char *rdn_end = p + n;
        while (p < rdn_end) {
            /* AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value (a string) } */
            bool ok;
            if (mbedtls_asn1_get_tag(&p, rdn_end, &n, CW_DER_SEQ) != 0) {
                return CW_ERR_MALFORMED;
            }
            const unsigned char *atv_end = p + n;
            bool is_cn = oid_is(&p, atv_end, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), &ok);
            if (!ok || p >= atv_end) {
                return CW_ERR_MALFORMED;
            }
            p++; /* the string's tag: any string type */
            if (mbedtls_asn1_get_len(&p, atv_end, &n) != 0 || p + n != atv_end) {
                return CW_ERR_MALFORMED;
            }
            if (is_cn) {
                *value = p;
                *len = n;
                e = CW_OK;
            }
            p += n;
        }
    }
    return e;
}

cw_err cw_csr_next_san(const cw_csr_parts_t *parts, size_t *pos, uint8_t *tag, const uint8_t **value,
                       size_t *len)
{
    if (parts->san == NULL || *pos >= parts->san_len) {
        return CW_ERR_NOT_FOUND;
    }
    unsigned char *p = (unsigned char *)(uintptr_t)parts->san + *pos;
    const unsigned char *end = parts->san + parts->san_len;
    size_t n;

    *tag = *p++; /* GeneralName ::= CHOICE { ... [2] dNSName, ... [7] iPAddress, ... } */
    if (mbedtls_asn1_get_len(&p, end, &n) != 0) {
        return CW_ERR_MALFORMED;
    }
    *value = p;
    *len = n;
    *pos = (size_t)(p + n - parts->san);
    return CW_OK;
}

/* ---- from a topology set ------------------------------------------------------------------------- */

void cw_csr_request_from(const cw_topology_derived *d, cw_csr_req_t *r)
{
    memset(r, 0, sizeof *r);
    r->dn[CW_DN_C] = d->country;
    r->dn[CW_DN_ST] = d->state;
    r->dn[CW_DN_L] = d->locality;
    r->dn[CW_DN_O] = d->organization;
    r->dn[CW_DN_OU] = d->organizational_unit;
    r->dn[CW_DN_CN] = d->cn;
    for (size_t i = 0; i < d->san_count && i < CW_CSR_SAN_MAX; i++) {
        const char *dns = cw_topology_san_dns(d, i);
        if (dns != NULL) {
            r->san[r->nsan].kind = CW_SAN_DNS;
            r->san[r->nsan].dns = dns;
        } else {
            r->san[r->nsan].kind = CW_SAN_IP;
            memcpy(r->san[r->nsan].ip, d->san[i].ip, d->san[i].len);
            r->san[r->nsan].ip_len = d->san[i].len;
        }
        r->nsan++;
    }
    r->eku = ((d->eku & CW_TOPO_EKU_SERVER_AUTH) ? CW_EKU_SERVER_AUTH : 0u) |
             ((d->eku & CW_TOPO_EKU_CLIENT_AUTH) ? CW_EKU_CLIENT_AUTH : 0u);
}
