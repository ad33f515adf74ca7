/*
 * cw_import.c: collecting the certificates of a CA's answer and checking them (cw_import.h).
 */
#include "cw/pki/cw_import.h"

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/base/cw_time.h"
#include "mbedtls/asn1.h"
#include "mbedtls/oid.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

static int parse(mbedtls_x509_crt *chain, const cw_der_t *d);

/* ---- collecting ---------------------------------------------------------------------------- */

static cw_err from_asn1(int r)
{
    return r == MBEDTLS_ERR_ASN1_OUT_OF_DATA ? CW_ERR_TRUNCATED : CW_ERR_MALFORMED;
}

static cw_err add_cert(cw_cert_list_t *out, const uint8_t *p, size_t len)
{
    if (out->n == CW_IMPORT_CERTS_MAX) {
        return CW_ERR_TOO_LARGE;
    }
    out->cert[out->n].p = p;
    out->cert[out->n].len = len;
    out->n++;
    return CW_OK;
}

/*
 * RFC 5652 5.1:
 *   ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER (id-signedData),
 *                              content [0] EXPLICIT SignedData }
 *   SignedData ::= SEQUENCE { version CMSVersion, digestAlgorithms SET OF ...,
 *                             encapContentInfo EncapsulatedContentInfo,
 *                             certificates [0] IMPLICIT CertificateSet OPTIONAL,
 *                             crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
 *                             signerInfos SET OF SignerInfo }
 * "certs-only" bundles have no content and no signers; we only read the certificates.
 */
static cw_err collect_pkcs7(unsigned char *p, const unsigned char *end, cw_cert_list_t *out)
{
    static const char oid_signed_data[] = MBEDTLS_OID_PKCS7 "\x02";
    size_t len;
    size_t before = out->n;
    int r;

    if ((r = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OID)) != 0) {
        return from_asn1(r);
    }
    if (len != sizeof oid_signed_data - 1 || memcmp(p, oid_signed_data, len) != 0) {
        return CW_ERR_IMPORT_FORMAT;
    }
    p += len;
    if ((r = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) != 0 ||
        (r = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) != 0) {
        return from_asn1(r);
    }
    end = p + len;
    /* version, digestAlgorithms, encapContentInfo */
    {
        int version;
        if ((r = mbedtls_asn1_get_int(&p, end, &version)) != 0 ||
            (r = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET)) != 0) {
            return from_asn1(r);
        }
        p += len;
        if ((r = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) != 0) {
            return from_asn1(r);
        }
        p += len;
    }
    if (p == end || *p != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        return CW_ERR_IMPORT_NO_CERT;
    }
    if ((r = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) != 0) {
        return from_asn1(r);
    }
    {
        const unsigned char *set_end = p + len;
        while (p < set_end) {
            unsigned char *cert = p;
            cw_err e;
            /* CertificateChoices: only Certificate (a SEQUENCE); other choices are skipped */
            if (*p != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) {
                p++; /* the choice's tag */
                if ((r = mbedtls_asn1_get_len(&p, set_end, &len)) != 0) {
                    return from_asn1(r);
                }
                p += len;
                continue;
            }
            if ((r = mbedtls_asn1_get_tag(&p, set_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) != 0) {
                return from_asn1(r);
            }
            p += len;
            e = add_cert(out, cert, (size_t)(p - cert));
            if (e != CW_OK) {
                return e;
            }
        }
    }
    return out->n > before ? CW_OK : CW_ERR_IMPORT_NO_CERT;
}

cw_err cw_import_collect(const uint8_t *der, size_t len, cw_cert_list_t *out)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der; /* mbedTLS's reader takes non-const; it does not write */
    const unsigned char *end = der + len;
    mbedtls_x509_crt probe;
    size_t seq_len;
    int r;

    if ((r = mbedtls_asn1_get_tag(&p, end, &seq_len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) != 0) {
        return r == MBEDTLS_ERR_ASN1_OUT_OF_DATA ? CW_ERR_TRUNCATED : CW_ERR_IMPORT_FORMAT;
    }
    if (p + seq_len != end) {
        return CW_ERR_MALFORMED; /* trailing bytes after the outer SEQUENCE */
    }
    /* A ContentInfo opens with its contentType OID; a Certificate with the TBSCertificate. */
    if (p < end && *p == MBEDTLS_ASN1_OID) {
        return collect_pkcs7(p, end, out);
    }
    /* Whatever else it is (a key, a CSR), it is a certificate only if it parses as one. */
    mbedtls_x509_crt_init(&probe);
    {
        cw_der_t d = {der, len};
        r = parse(&probe, &d);
    }
    mbedtls_x509_crt_free(&probe);
    if (r == MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE) {
        return CW_ERR_IMPORT_CRITICAL_EXTENSION; /* a certificate, but one certwiz must refuse */
    }
    return r == 0 ? add_cert(out, der, len) : CW_ERR_IMPORT_FORMAT;
}

/* ---- checking ------------------------------------------------------------------------------ */

static int64_t x509_time_utc(const mbedtls_x509_time *t)
{
    cw_tm_t tm = {
        .year = t->year,
        .month = (uint8_t)t->mon,
        .day = (uint8_t)t->day,
        .hour = (uint8_t)t->hour,
        .min = (uint8_t)t->min,
        .sec = (uint8_t)t->sec,
    };
    return cw_time_join(&tm);
}

static bool is_ca(const mbedtls_x509_crt *c)
{
    /* basicConstraints cA; mbedTLS keeps it private but documents reading it this way */
    return c->MBEDTLS_PRIVATE(ca_istrue) != 0;
}

static bool self_signed(const mbedtls_x509_crt *c)
{
    return c->subject_raw.len == c->issuer_raw.len &&
           memcmp(c->subject_raw.p, c->issuer_raw.p, c->subject_raw.len) == 0;
}

static bool ascii_iequal(const unsigned char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen) {
        return false;
    }
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = a[i];
        unsigned char y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') {
            x = (unsigned char)(x + 32);
        }
        if (y >= 'A' && y <= 'Z') {
            y = (unsigned char)(y + 32);
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

static bool has_dns(const mbedtls_x509_crt *c, const char *name)
{
    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s != NULL && s->buf.p != NULL; s = s->next) {
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME) &&
            ascii_iequal(s->buf.p, s->buf.len, name)) {
            return true;
        }
    }
    return false;
}

static bool has_ip(const mbedtls_x509_crt *c, const uint8_t *ip, size_t len)
{
    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s != NULL && s->buf.p != NULL; s = s->next) {
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) && s->buf.len == len &&
            memcmp(s->buf.p, ip, len) == 0) {
            return true;
        }
    }
    return false;
}

static bool has_cn(const mbedtls_x509_crt *c, const char *cn)
{
    for (const mbedtls_x509_name *n = &c->subject; n != NULL; n = n->next) {
        if (n->oid.len == sizeof MBEDTLS_OID_AT_CN - 1 &&
            memcmp(n->oid.p, MBEDTLS_OID_AT_CN, n->oid.len) == 0 && ascii_iequal(n->val.p, n->val.len, cn)) {
            return true;
        }
    }
    /* A CA may move the CN into the SAN list only; the name is still covered. */
    return has_dns(c, cn);
}

static cw_err check_validity(const mbedtls_x509_crt *c, int64_t now)
{
    if (now <= 0) {
        return CW_ERR_TIME_UNKNOWN;
    }
    if (now < x509_time_utc(&c->valid_from)) {
        return CW_ERR_IMPORT_NOT_YET_VALID;
    }
    if (now > x509_time_utc(&c->valid_to)) {
        return CW_ERR_IMPORT_EXPIRED;
    }
    return CW_OK;
}

/* State for the verification callback: the chain's validity, its top and the certificates on
 * the path mbedTLS found (by where their bytes are: every certificate is parsed in place). */
typedef struct verify_state {
    int64_t now;
    cw_err validity;
    int top_depth;
    uint8_t top_sha256[32];
    const unsigned char *top;
    const unsigned char *path[CW_IMPORT_CERTS_MAX + 1];
    size_t path_len;
} verify_state;

static int on_verify(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    verify_state *v = arg;
    cw_err e = check_validity(crt, v->now);
    (void)flags;
    if (e != CW_OK && v->validity == CW_OK) {
        v->validity = e;
    }
    if (depth >= v->top_depth) {
        v->top_depth = depth;
        v->top = crt->raw.p;
        (void)mbedtls_sha256(crt->raw.p, crt->raw.len, v->top_sha256, 0);
    }
    if (v->path_len < sizeof v->path / sizeof v->path[0]) {
        v->path[v->path_len++] = crt->raw.p;
    }
    return 0;
}

/* on_unknown_extension: mbedTLS calls it for every extension it has no parser for. RFC 5280
 * 4.2: a certificate with a critical extension the reader does not process must be refused;
 * this gives that refusal a code of its own instead of mbedTLS's "invalid extensions", which also
 * means malformed. */
static int on_unknown_extension(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid, int critical,
                                const unsigned char *p, const unsigned char *end)
{
    (void)ctx;
    (void)crt;
    (void)oid;
    (void)p;
    (void)end;
    return critical ? MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE : 0;
}

/* Parses cert into a fresh chain head (or appends when chain is already in use). */
static int parse(mbedtls_x509_crt *chain, const cw_der_t *d)
{
    return mbedtls_x509_crt_parse_der_with_ext_cb(chain, d->p, d->len, 0, on_unknown_extension, NULL);
}

/* What a failed parse() means to the operator. mbedTLS answers "feature unavailable" for a
 * critical extension it does not process, whether it knows the OID (policy constraints, name
 * constraints) or not (the callback above). */
static cw_err parse_error(int r)
{
    return r == MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE ? CW_ERR_IMPORT_CRITICAL_EXTENSION
                                                     : CW_ERR_FROM_MBEDTLS(MBEDTLS_ERR_X509_INVALID_FORMAT);
}

/* What kind of certificate d is: not a CA (0), a CA certificate (1), a self-signed one (2); or
 * mbedTLS's parse error (negative). Its own frame, kept out of line: the parsed certificate is
 * gone from the stack before mbedTLS verifies the path, the deepest the board's stack goes. */
__attribute__((noinline)) static int classify(const cw_der_t *d)
{
    mbedtls_x509_crt c;
    int r;
    mbedtls_x509_crt_init(&c);
    r = parse(&c, d);
    if (r == 0) {
        r = !is_ca(&c) ? 0 : self_signed(&c) ? 2 : 1;
    }
    mbedtls_x509_crt_free(&c);
    return r;
}

/*
 * Builds the chain to verify (target first, then every CA certificate that is not self-signed,
 * from extra and trusted) and the trust anchors (the self-signed CA certificates of both), then
 * lets mbedTLS find and check the path. Signatures are checked by mbedTLS; validity times by us
 * (mbedTLS is built without a clock). On CW_OK, on_path[i] says which certificates of extra the
 * path went through (only those are worth storing as authorities), and *root_in_extra which of
 * them is its root (SIZE_MAX: a root of trusted).
 */
static cw_err verify_path(const cw_der_t *target, const cw_cert_list_t *extra, size_t skip,
                          const cw_cert_list_t *trusted, int64_t now, uint8_t root_sha256[32], bool *on_path,
                          size_t *root_in_extra)
{
    mbedtls_x509_crt chain;
    mbedtls_x509_crt anchors;
    const cw_cert_list_t *lists[2] = {extra, trusted};
    verify_state v = {.now = now, .validity = CW_OK, .top_depth = -1};
    uint32_t flags = 0;
    bool any_anchor = false;
    cw_err e = CW_OK;
    int r;

    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&anchors);
    r = parse(&chain, target);
    if (r != 0) {
        return parse_error(r);
    }
    for (size_t l = 0; l < 2; l++) {
        if (lists[l] == NULL) {
            continue;
        }
        for (size_t i = 0; i < lists[l]->n; i++) {
            const cw_der_t *d = &lists[l]->cert[i];
            if (l == 0 && i == skip) {
                continue;
            }
            r = classify(d);
            if (r < 0) {
                e = parse_error(r);
                goto out;
            }
            if (r == 2) {
                r = parse(&anchors, d);
                any_anchor = true;
            } else if (r == 1) {
                r = parse(&chain, d);
            }
            if (r != 0) {
                e = parse_error(r);
                goto out;
            }
        }
    }
    if (self_signed(&chain) && is_ca(&chain)) {
        /* The target is itself a root (ca import of a root): it is its own anchor, and the
         * caller's trust decision (pin, stored root, operator) says whether it is the right one. */
        r = parse(&anchors, target);
        any_anchor = r == 0;
        if (r != 0) {
            e = parse_error(r);
            goto out;
        }
    }
    if (!any_anchor) {
        e = CW_ERR_IMPORT_UNTRUSTED;
        goto out;
    }
    /* the keys that check a signature: every anchor's and every chain certificate's but the
     * target's, each before mbedTLS allocates for its check (cw_arena.h) */
    cw_arena_prepare_certs(&anchors, 0);
    cw_arena_prepare_certs(&chain, 1);
    r = mbedtls_x509_crt_verify(&chain, &anchors, NULL, NULL, &flags, on_verify, &v);
    if (r != 0 || flags != 0) {
        e = CW_ERR_IMPORT_UNTRUSTED;
        goto out;
    }
    if (v.validity != CW_OK) {
        e = v.validity;
        goto out;
    }
    memcpy(root_sha256, v.top_sha256, 32);
    if (root_in_extra != NULL) {
        *root_in_extra = SIZE_MAX;
    }
    for (size_t i = 0; extra != NULL && i < extra->n; i++) {
        for (size_t k = 0; k < v.path_len; k++) {
            if (i != skip && v.path[k] == extra->cert[i].p) {
                if (on_path != NULL) {
                    on_path[i] = true;
                }
                if (root_in_extra != NULL && v.path[k] == v.top) {
                    *root_in_extra = i;
                }
            }
        }
    }
out:
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&anchors);
    return e;
}

static bool eku_allows(const mbedtls_x509_crt *c, unsigned eku)
{
    /* No extendedKeyUsage extension, or anyExtendedKeyUsage, allows every purpose (RFC 5280
     * 4.2.1.12); mbedTLS's check implements exactly that. */
    if ((eku & CW_EKU_SERVER_AUTH) &&
        mbedtls_x509_crt_check_extended_key_usage(c, MBEDTLS_OID_SERVER_AUTH, sizeof MBEDTLS_OID_SERVER_AUTH - 1) != 0) {
        return false;
    }
    if ((eku & CW_EKU_CLIENT_AUTH) &&
        mbedtls_x509_crt_check_extended_key_usage(c, MBEDTLS_OID_CLIENT_AUTH, sizeof MBEDTLS_OID_CLIENT_AUTH - 1) != 0) {
        return false;
    }
    return true;
}

/* An end entity: basicConstraints without cA (RFC 5280 4.2.1.9), and a key that may not sign
 * certificates or CRLs (4.2.1.3: keyCertSign only with cA). */
static bool is_end_entity(const mbedtls_x509_crt *c)
{
    bool has_ku = mbedtls_x509_crt_has_ext_type(c, MBEDTLS_X509_EXT_KEY_USAGE) != 0;
    return !is_ca(c) && !(has_ku && (mbedtls_x509_crt_check_key_usage(c, MBEDTLS_X509_KU_KEY_CERT_SIGN) == 0 ||
                                     mbedtls_x509_crt_check_key_usage(c, MBEDTLS_X509_KU_CRL_SIGN) == 0));
}

/* Every set's key signs, whatever its type and purpose: TLS (ECDHE for serverAuth and
 * clientAuth, both key types), SCEP's requests and polls, CSRs. A keyUsage extension, when
 * present, must allow digitalSignature; other bits (keyEncipherment for an RSA TLS server,
 * keyAgreement) are allowed, never required. Without the extension the key may do anything. */
static bool key_usage_allows(const mbedtls_x509_crt *c)
{
    return mbedtls_x509_crt_check_key_usage(c, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) == 0;
}

/* Steps 1 to 5 of cw_import_check: which certificate is the pending key's (res->leaf), what kind
 * it is, its names, validity and purposes. Out of line, so that its two parsed certificates are
 * off the stack before the path is verified. */
__attribute__((noinline)) static cw_err check_leaf(const cw_cert_list_t *certs, const cw_import_expect_t *x,
                                                   cw_import_result_t *res)
{
    mbedtls_x509_crt leaf;
    size_t found = SIZE_MAX;
    cw_err e = CW_OK;
    int r;

    memset(res, 0, sizeof *res);
    res->root_index = SIZE_MAX;
    if (certs->n == 0) {
        return CW_ERR_IMPORT_NO_CERT;
    }

    /* 1. the certificate for the pending key */
    for (size_t i = 0; i < certs->n && found == SIZE_MAX; i++) {
        mbedtls_x509_crt c;
        mbedtls_x509_crt_init(&c);
        r = parse(&c, &certs->cert[i]);
        if (r != 0) {
            mbedtls_x509_crt_free(&c);
            return parse_error(r);
        }
        if (c.pk_raw.len == x->spki_len && memcmp(c.pk_raw.p, x->spki, x->spki_len) == 0) {
            found = i;
        }
        mbedtls_x509_crt_free(&c);
    }
    if (found == SIZE_MAX) {
        return CW_ERR_IMPORT_KEY_MISMATCH;
    }
    res->leaf = found;

    mbedtls_x509_crt_init(&leaf);
    if (parse(&leaf, &certs->cert[found]) != 0) {
        return CW_ERR_INTERNAL;
    }
    /* 2. an end entity, not a CA */
    if (!is_end_entity(&leaf)) {
        e = CW_ERR_IMPORT_NOT_END_ENTITY;
    }
    /* 3. names */
    if (e == CW_OK && x->cn != NULL && x->cn[0] != '\0' && !has_cn(&leaf, x->cn)) {
        e = CW_ERR_IMPORT_NAME_MISSING;
    }
    for (size_t i = 0; e == CW_OK && i < x->nsan; i++) {
        const cw_san_t *s = &x->san[i];
        if ((s->kind == CW_SAN_DNS && !has_dns(&leaf, s->dns)) ||
            (s->kind == CW_SAN_IP && !has_ip(&leaf, s->ip, s->ip_len))) {
            e = CW_ERR_IMPORT_NAME_MISSING;
        }
    }
    /* 4. validity of the leaf (the chain's is checked with the path) */
    if (e == CW_OK) {
        e = check_validity(&leaf, x->now);
    }
    /* 5. purposes: the key's usage, then the extended key usage */
    if (e == CW_OK && !key_usage_allows(&leaf)) {
        e = CW_ERR_IMPORT_KEY_USAGE;
    }
    if (e == CW_OK && !eku_allows(&leaf, x->eku)) {
        e = CW_ERR_IMPORT_EKU;
    }
    res->not_before = x509_time_utc(&leaf.valid_from);
    res->not_after = x509_time_utc(&leaf.valid_to);
    mbedtls_x509_crt_free(&leaf);
    return e;
}

cw_err cw_import_check(const cw_cert_list_t *certs, const cw_import_expect_t *x, cw_import_result_t *res)
{
    cw_err e = check_leaf(certs, x, res);
    if (e != CW_OK) {
        return e;
    }
    /* 6. the chain, 7. whether its root may be trusted */
    e = verify_path(&certs->cert[res->leaf], certs, res->leaf, x->trusted, x->now, res->root_sha256,
                    res->store_as_ca, &res->root_index);
    if (e == CW_OK) {
        e = cw_import_trust_root(x->trusted, x->pin, x->confirmed_root, res->root_sha256);
    }
    return e;
}

/* Does list hold a self-signed CA certificate (with this SHA-256, unless want is NULL)? */
static bool holds_root(const cw_cert_list_t *list, const uint8_t *want)
{
    for (size_t i = 0; list != NULL && i < list->n; i++) {
        uint8_t h[32];
        if (classify(&list->cert[i]) != 2) {
            continue;
        }
        if (want == NULL) {
            return true;
        }
        (void)mbedtls_sha256(list->cert[i].p, list->cert[i].len, h, 0);
        if (memcmp(h, want, 32) == 0) {
            return true;
        }
    }
    return false;
}

cw_err cw_import_trust_root(const cw_cert_list_t *stored, const uint8_t *pin, const uint8_t *confirmed,
                            const uint8_t root_sha256[32])
{
    if (pin != NULL) {
        return memcmp(pin, root_sha256, 32) == 0 ? CW_OK : CW_ERR_IMPORT_PIN_MISMATCH;
    }
    if (holds_root(stored, root_sha256)) {
        return CW_OK;
    }
    if (holds_root(stored, NULL)) {
        return CW_ERR_IMPORT_ROOT_CHANGED;
    }
    return confirmed != NULL && memcmp(confirmed, root_sha256, 32) == 0 ? CW_OK : CW_ERR_IMPORT_ROOT_UNCONFIRMED;
}

cw_err cw_import_check_ca(const cw_der_t *cert, int64_t now, const uint8_t *pin, const cw_cert_list_t *trusted,
                          uint8_t root_sha256[32])
{
    mbedtls_x509_crt c;
    cw_err e;
    int r;

    mbedtls_x509_crt_init(&c);
    r = parse(&c, cert);
    if (r != 0) {
        mbedtls_x509_crt_free(&c);
        return parse_error(r);
    }
    e = is_ca(&c) ? check_validity(&c, now) : CW_ERR_IMPORT_NOT_CA;
    mbedtls_x509_crt_free(&c);
    if (e != CW_OK) {
        return e;
    }
    e = verify_path(cert, NULL, SIZE_MAX, trusted, now, root_sha256, NULL, NULL);
    if (e == CW_OK && pin != NULL && memcmp(pin, root_sha256, 32) != 0) {
        e = CW_ERR_IMPORT_PIN_MISMATCH;
    }
    return e;
}

cw_err cw_import_summary(const cw_der_t *cert, cw_cert_summary_t *out)
{
    mbedtls_x509_crt c;
    cw_err e = CW_OK;

    memset(out, 0, sizeof *out);
    mbedtls_x509_crt_init(&c);
    if (parse(&c, cert) != 0) {
        e = CW_ERR_FROM_MBEDTLS(MBEDTLS_ERR_X509_INVALID_FORMAT);
    } else {
        if (mbedtls_x509_dn_gets(out->subject, sizeof out->subject, &c.subject) < 0) {
            strcpy(out->subject, "(too long to show)");
        }
        if (mbedtls_x509_dn_gets(out->issuer, sizeof out->issuer, &c.issuer) < 0) {
            strcpy(out->issuer, "(too long to show)");
        }
        if (mbedtls_x509_serial_gets(out->serial, sizeof out->serial, &c.serial) < 0) {
            strcpy(out->serial, "(too long to show)");
        }
        out->not_before = x509_time_utc(&c.valid_from);
        out->not_after = x509_time_utc(&c.valid_to);
        (void)mbedtls_sha256(cert->p, cert->len, out->sha256, 0);
    }
    mbedtls_x509_crt_free(&c);
    return e;
}
