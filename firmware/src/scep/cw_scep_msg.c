/*
 * cw_scep_msg.c: SCEP messages (RFC 8894) on the CMS pieces of cw_cms.c (cw_scep_msg.h).
 *
 * RFC 8894 3.2.1.2: a pkiMessage is a SignedData over (for requests, and SUCCESS replies) an
 * EnvelopedData, with these signed attributes:
 *
 *   transactionID   2.16.840.1.113733.1.9.7  PrintableString
 *   messageType     2.16.840.1.113733.1.9.2  PrintableString (decimal)
 *   pkiStatus       2.16.840.1.113733.1.9.3  PrintableString (replies)
 *   failInfo        2.16.840.1.113733.1.9.4  PrintableString (FAILURE replies)
 *   senderNonce     2.16.840.1.113733.1.9.5  OCTET STRING (16)
 *   recipientNonce  2.16.840.1.113733.1.9.6  OCTET STRING (16, replies: our senderNonce)
 */
#include "cw/scep/cw_scep_msg.h"
#include "cw/base/cw_der.h"

#include <string.h>

#include "cw/codec/cw_csr.h"
#include "cw/base/cw_time.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#define OID_LEN(o) (sizeof(o) - 1u)

/* id-VeriSign pki attributes: 2.16.840.1.113733.1.9 */
#define OID_SCEP "\x60\x86\x48\x01\x86\xF8\x45\x01\x09"
static const char oid_message_type[] = OID_SCEP "\x02";
static const char oid_pki_status[] = OID_SCEP "\x03";
static const char oid_fail_info[] = OID_SCEP "\x04";
static const char oid_sender_nonce[] = OID_SCEP "\x05";
static const char oid_recipient_nonce[] = OID_SCEP "\x06";
static const char oid_transaction_id[] = OID_SCEP "\x07";


/* ---- GetCACaps (RFC 8894 3.5.2) ------------------------------------------------------------- */

static bool word_is(const char *w, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    if (n != k) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char a = w[i];
        char b = kw[i];
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a + 32);
        }
        if (b >= 'A' && b <= 'Z') {
            b = (char)(b + 32);
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

static unsigned cap_bit(const char *w, size_t n)
{
    static const struct {
        const char *kw;
        unsigned bit;
    } caps[] = {
        {"POSTPKIOperation", CW_SCEP_CAP_POST}, {"Renewal", CW_SCEP_CAP_RENEWAL},
        {"SHA-1", CW_SCEP_CAP_SHA1},            {"SHA-256", CW_SCEP_CAP_SHA256},
        {"SHA-512", CW_SCEP_CAP_SHA512},        {"AES", CW_SCEP_CAP_AES},
        {"DES3", CW_SCEP_CAP_DES3},             {"SCEPStandard", CW_SCEP_CAP_STANDARD},
        {"GetNextCACert", CW_SCEP_CAP_GETNEXTCACERT},
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        if (word_is(w, n, caps[i].kw)) {
            return caps[i].bit;
        }
    }
    return 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

unsigned cw_scep_caps_parse(const char *text, size_t len)
{
    unsigned caps = 0;
    size_t i = 0;

    while (text != NULL && i < len) {
        size_t s = i;
        size_t e;
        while (i < len && text[i] != '\n') {
            i++;
        }
        e = i++;
        while (s < e && blank(text[s])) {
            s++;
        }
        while (e > s && blank(text[e - 1])) {
            e--;
        }
        caps |= cap_bit(text + s, e - s);
    }
    return caps;
}

void cw_scep_choose(unsigned caps, cw_cms_cipher *cipher, cw_hash_alg *digest)
{
    bool standard = (caps & CW_SCEP_CAP_STANDARD) != 0;
    if (standard || (caps & CW_SCEP_CAP_AES)) {
        *cipher = CW_CMS_AES128;
    } else if (caps & CW_SCEP_CAP_DES3) {
        *cipher = CW_CMS_3DES;
    } else {
        *cipher = CW_CMS_DES; /* RFC 8894 3.5.2: what a CA without caps is assumed to take */
    }
    *digest = (standard || (caps & CW_SCEP_CAP_SHA256)) ? CW_HASH_SHA256 : CW_HASH_SHA1;
}

/* ---- GetCACert (RFC 8894 4.2) --------------------------------------------------------------- */

/* What picking the certificates needs to know about one of them. */
typedef struct cert_facts {
    bool ca;
    bool sign;     /* keyUsage allows digitalSignature (or has no keyUsage) */
    bool encrypt;  /* keyUsage allows keyEncipherment (or none) and the key is RSA */
    bool rsa;
} cert_facts;

static cw_err facts_of(const cw_der_t *d, cert_facts *f)
{
    mbedtls_x509_crt c;
    int r;
    mbedtls_x509_crt_init(&c);
    r = mbedtls_x509_crt_parse_der_nocopy(&c, d->p, d->len);
    if (r == 0) {
        f->ca = mbedtls_x509_crt_get_ca_istrue(&c) == 1;
        f->rsa = mbedtls_pk_get_type(&c.pk) == MBEDTLS_PK_RSA;
        f->sign = mbedtls_x509_crt_check_key_usage(&c, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) == 0;
        f->encrypt = mbedtls_x509_crt_check_key_usage(&c, MBEDTLS_X509_KU_KEY_ENCIPHERMENT) == 0 && f->rsa;
    }
    mbedtls_x509_crt_free(&c);
    if (r == MBEDTLS_ERR_X509_ALLOC_FAILED) {
        return CW_ERR_NO_MEMORY;
    }
    return r == 0 ? CW_OK : CW_ERR_SCEP_CACERT;
}

/* The list of certificates: a DER certificate or a DER certs-only PKCS#7 (cw_import), else a
 * BER one (cw_cms). */
static cw_err collect(const uint8_t *body, size_t len, cw_cert_list_t *all)
{
    cw_cms_signed_t sd;
    cw_err e;

    memset(all, 0, sizeof *all);
    e = cw_import_collect(body, len, all);
    if (e == CW_OK || e == CW_ERR_TOO_LARGE) {
        return e;
    }
    memset(all, 0, sizeof *all);
    if (cw_cms_signed_parse(body, len, NULL, 0, &sd) != CW_OK) {
        return e == CW_ERR_IMPORT_NO_CERT ? CW_ERR_SCEP_CACERT : CW_ERR_CMS_FORMAT;
    }
    CW_TRY(cw_cms_signed_certs(&sd, all));
    return all->n > 0 ? CW_OK : CW_ERR_SCEP_CACERT;
}

CW_NOINLINE cw_err cw_scep_parse_cacert(const uint8_t *body, size_t len, cw_scep_ca_t *out)
{
    cert_facts f[CW_IMPORT_CERTS_MAX];
    size_t ca = SIZE_MAX;
    size_t signer = SIZE_MAX;
    size_t recipient = SIZE_MAX;
    size_t nca = 0;
    size_t nra = 0;

    memset(out, 0, sizeof *out);
    CW_TRY(collect(body, len, &out->all));
    for (size_t i = 0; i < out->all.n; i++) {
        memset(&f[i], 0, sizeof f[i]);
        CW_TRY(facts_of(&out->all.cert[i], &f[i]));
        if (f[i].ca) {
            ca = i;
            nca++;
            continue;
        }
        nra++;
        /* RFC 8894 4.2.1.2: the RA's signing and encryption certificates, told apart by keyUsage;
         * one with both usages (or none stated) serves both. */
        if (f[i].sign && signer == SIZE_MAX) {
            signer = i;
        }
        if (f[i].encrypt && recipient == SIZE_MAX) {
            recipient = i;
        }
    }
    if (nca != 1) {
        return CW_ERR_SCEP_CACERT; /* none, or a chain with no way to tell the issuing CA */
    }
    out->ca = out->all.cert[ca];
    if (nra == 0) {
        /* A CA that serves without an RA: its keyUsage usually says keyCertSign only, yet SCEP
         * CAs (micromdm) take requests encrypted to it and sign replies with it. */
        if (!f[ca].rsa) {
            return CW_ERR_SCEP_CACERT;
        }
        out->signer = out->ca;
        out->recipient = out->ca;
        return CW_OK;
    }
    if (signer == SIZE_MAX || recipient == SIZE_MAX) {
        return CW_ERR_SCEP_CACERT;
    }
    out->signer = out->all.cert[signer];
    out->recipient = out->all.cert[recipient];
    out->has_ra = true;
    return CW_OK;
}

/* ---- signer certificate --------------------------------------------------------------------- */

/* Seconds from 1970 of 2000-01-01 and 2049-12-31T23:59:59: the validity of a clockless signer. */
#define NO_CLOCK_FROM 946684800
#define NO_CLOCK_TO 2524607999
#define YEAR_SECONDS (365 * 86400)

static int write_time(unsigned char **p, unsigned char *start, int64_t t, size_t *total)
{
    char text[16];
    uint8_t tag;
    size_t n = cw_cms_time(t, &tag, text);
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, (const unsigned char *)text, n));
    CW_DER_W(mbedtls_asn1_write_len(p, start, n));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, tag));
    return 0;
}

/* Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String cn } } } */
static int write_cn(unsigned char **p, unsigned char *start, const char *cn, size_t *total)
{
    size_t before = *total;
    CW_DER_W(mbedtls_asn1_write_utf8_string(p, start, cn, strlen(cn)));
    CW_DER_W(mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_AT_CN, OID_LEN(MBEDTLS_OID_AT_CN)));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

/* [3] EXPLICIT Extensions: keyUsage digitalSignature + keyEncipherment (critical; the CA may
 * encrypt its reply to this key), basicConstraints cA FALSE (critical), as scepclient writes. */
static int write_extensions(unsigned char **p, unsigned char *start, size_t *total)
{
    static const unsigned char ext[] = {
        0x30, 0x0E, 0x06, 0x03, 0x55, 0x1D, 0x0F, 0x01, 0x01, 0xFF, 0x04, 0x04, 0x03, 0x02, 0x05, 0xA0,
        0x30, 0x0C, 0x06, 0x03, 0x55, 0x1D, 0x13, 0x01, 0x01, 0xFF, 0x04, 0x02, 0x30, 0x00,
    };
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, ext, sizeof ext));
    CW_DER_W(mbedtls_asn1_write_len(p, start, sizeof ext));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3));
    return 0;
}

static void sig_oid(cw_hash_alg digest, const char **oid, size_t *len)
{
    if (digest == CW_HASH_SHA1) {
        *oid = MBEDTLS_OID_PKCS1_SHA1;
        *len = OID_LEN(MBEDTLS_OID_PKCS1_SHA1);
    } else if (digest == CW_HASH_SHA384) {
        *oid = MBEDTLS_OID_PKCS1_SHA384;
        *len = OID_LEN(MBEDTLS_OID_PKCS1_SHA384);
    } else {
        *oid = MBEDTLS_OID_PKCS1_SHA256;
        *len = OID_LEN(MBEDTLS_OID_PKCS1_SHA256);
    }
}

/*
 * RFC 5280 4.1:
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT v3, serialNumber, signature, issuer,
 *                                 validity, subject, subjectPublicKeyInfo, extensions [3] }
 */
static int write_tbs(unsigned char **p, unsigned char *start, const cw_p11_key *key, const char *cn, int64_t now,
                     cw_hash_alg digest, const uint8_t *spki, size_t spki_len, size_t *total)
{
    unsigned char serial[CW_P11_KEY_ID_LEN];
    const char *oid;
    size_t oid_len;
    size_t before;
    int r;

    if ((r = write_extensions(p, start, total)) < 0) {
        return r;
    }
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, spki, spki_len));
    if ((r = write_cn(p, start, cn, total)) < 0) {
        return r;
    }
    before = *total;
    if ((r = write_time(p, start, now == 0 ? NO_CLOCK_TO : now + YEAR_SECONDS, total)) < 0 ||
        (r = write_time(p, start, now == 0 ? NO_CLOCK_FROM : now - 3600, total)) < 0) {
        return r;
    }
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total - before));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    if ((r = write_cn(p, start, cn, total)) < 0) {
        return r;
    }
    sig_oid(digest, &oid, &oid_len);
    CW_DER_W(mbedtls_asn1_write_algorithm_identifier(p, start, oid, oid_len, 0));
    /* serial: the key ID, made positive with its top byte in 0x40..0x7F (so 20 octets, minimal) */
    memcpy(serial, key->id, key->id_len);
    serial[0] = (unsigned char)((serial[0] & 0x3Fu) | 0x40u);
    CW_DER_W(mbedtls_asn1_write_raw_buffer(p, start, serial, key->id_len));
    CW_DER_W(mbedtls_asn1_write_len(p, start, key->id_len));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_INTEGER));
    CW_DER_W(mbedtls_asn1_write_int(p, start, 2));
    CW_DER_W(mbedtls_asn1_write_len(p, start, 3));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
    CW_DER_W(mbedtls_asn1_write_len(p, start, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

static cw_err from_writer(int r)
{
    return r == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? CW_ERR_BUFFER_SMALL : CW_ERR_FROM_MBEDTLS(r);
}

/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING },
 * around the TBS at out[tbs_at..tbs_at+tbs_len): moved to the front, the rest behind it. */
static cw_err finish_cert(uint8_t *out, size_t cap, size_t tbs_at, size_t tbs_len, cw_hash_alg digest,
                          const uint8_t *sig, size_t sig_len, size_t *len)
{
    unsigned char tail[CW_P11_SIG_MAX + 32u];
    unsigned char *t = tail + sizeof tail;
    size_t tail_len = 0;
    size_t *total = &tail_len;
    const char *oid;
    size_t oid_len;
    size_t body;
    size_t hdr;
    unsigned char *p;
    int r;

    sig_oid(digest, &oid, &oid_len);
    if ((r = mbedtls_asn1_write_bitstring(&t, tail, sig, sig_len * 8u)) < 0) {
        return from_writer(r);
    }
    *total += (size_t)r;
    if ((r = mbedtls_asn1_write_algorithm_identifier(&t, tail, oid, oid_len, 0)) < 0) {
        return from_writer(r);
    }
    *total += (size_t)r;
    body = tbs_len + tail_len;
    hdr = 1u + (body < 0x80u ? 1u : body < 0x100u ? 2u : body < 0x10000u ? 3u : 4u);
    if (hdr + body > cap) {
        return CW_ERR_BUFFER_SMALL;
    }
    memmove(out + hdr, out + tbs_at, tbs_len);
    memcpy(out + hdr + tbs_len, t, tail_len);
    p = out + hdr;
    if (mbedtls_asn1_write_len(&p, out, body) < 0 ||
        mbedtls_asn1_write_tag(&p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) < 0 || p != out) {
        return CW_ERR_INTERNAL;
    }
    *len = hdr + body;
    return CW_OK;
}

cw_err cw_scep_signer_cert(cw_p11_ctx *p11, const cw_p11_key *key, const char *cn, int64_t now,
                           cw_hash_alg digest, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t spki[CW_P11_SPKI_MAX];
    uint8_t sig[CW_P11_SIG_MAX];
    size_t spki_len = 0;
    size_t sig_len = 0;
    size_t tbs_len = 0;
    unsigned char *p;
    int r;

    /* TBS (RSA-4096 SPKI 556, names, times, extensions ~ 250) + signature 512 + headers */
    *len = CW_P11_SPKI_MAX + 2u * 64u + CW_P11_SIG_MAX + 320u;
    if (key == NULL || cn == NULL || cn[0] == '\0' || strlen(cn) > 64u || key->id_len == 0 ||
        (digest != CW_HASH_SHA1 && digest != CW_HASH_SHA256 && digest != CW_HASH_SHA384)) {
        return CW_ERR_INVALID_ARG;
    }
    if (key->type != CW_KEY_RSA2048 && key->type != CW_KEY_RSA3072 && key->type != CW_KEY_RSA4096) {
        return CW_ERR_NOT_SUPPORTED; /* SCEP key transport and micromdm: RSA only */
    }
    if (out == NULL) {
        return CW_ERR_BUFFER_SMALL;
    }
    CW_TRY(cw_p11_pubkey_spki(p11, key, spki, sizeof spki, &spki_len));
    p = out + cap;
    r = write_tbs(&p, out, key, cn, now, digest, spki, spki_len, &tbs_len);
    if (r < 0) {
        return from_writer(r);
    }
    CW_TRY(cw_p11_sign(p11, key, digest, p, tbs_len, sig, sizeof sig, &sig_len));
    return finish_cert(out, cap, (size_t)(p - out), tbs_len, digest, sig, sig_len, len);
}

/* ---- requests (RFC 8894 3.3) ---------------------------------------------------------------- */

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (c != '\0' && strchr(" '()+,-./:=?", c) != NULL))) {
            return false;
        }
    }
    return true;
}

static cw_err check_request(const cw_scep_req_t *req)
{
    size_t n;
    if (req->transaction_id == NULL || req->message == NULL || req->message_len == 0 || req->signer_cert == NULL ||
        req->signer_key == NULL || req->recipient == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    n = strlen(req->transaction_id);
    if (n == 0 || n > CW_SCEP_TXID_MAX || !printable(req->transaction_id, n)) {
        return CW_ERR_INVALID_ARG;
    }
    if (req->type != CW_SCEP_PKCSREQ && req->type != CW_SCEP_RENEWALREQ && req->type != CW_SCEP_CERTPOLL) {
        return CW_ERR_INVALID_ARG;
    }
    return req->digest == CW_HASH_SHA1 || req->digest == CW_HASH_SHA256 ? CW_OK : CW_ERR_INVALID_ARG;
}

cw_err cw_scep_request_encode(cw_p11_ctx *p11, const cw_scep_req_t *req, uint8_t *out, size_t cap, size_t *len)
{
    char type[4];
    size_t env_len = 0;
    cw_cms_attr_t attrs[3];
    cw_cms_signer_t s;
    cw_err e;

    *len = 0;
    CW_TRY(check_request(req));
    /* Without out: the size, as the envelope's bound and the SignedData's around it. With out,
     * each step checks its own room (the envelope its bound before any work, the SignedData the
     * exact size), so a buffer the sum of the bounds would refuse takes every message that fits. */
    e = cw_cms_enveloped_encode(p11, req->recipient, req->cipher, req->message, req->message_len, out, cap,
                                &env_len);
    if (e == CW_ERR_BUFFER_SMALL) {
        *len = env_len + req->signer_cert_len + CW_CMS_SIGNED_ATTRS_MAX + cw_p11_sig_max(req->signer_key->type) +
               128u;
    }
    CW_TRY(e);

    /* messageType is the decimal number as PrintableString ("19") */
    {
        unsigned t = (unsigned)req->type;
        size_t n = 0;
        if (t >= 10u) {
            type[n++] = (char)('0' + t / 10u);
        }
        type[n++] = (char)('0' + t % 10u);
        type[n] = '\0';
    }
    attrs[0] = (cw_cms_attr_t){oid_transaction_id, OID_LEN(oid_transaction_id), CW_DER_PRINTABLE,
                               (const uint8_t *)req->transaction_id, strlen(req->transaction_id)};
    attrs[1] = (cw_cms_attr_t){oid_message_type, OID_LEN(oid_message_type), CW_DER_PRINTABLE, (const uint8_t *)type,
                               strlen(type)};
    attrs[2] = (cw_cms_attr_t){oid_sender_nonce, OID_LEN(oid_sender_nonce), CW_DER_OCTETS, req->sender_nonce,
                               CW_SCEP_NONCE_LEN};
    memset(&s, 0, sizeof s);
    s.cert = req->signer_cert;
    s.cert_len = req->signer_cert_len;
    s.key = req->signer_key;
    s.digest = req->digest;
    s.attrs = attrs;
    s.nattrs = 3;
    s.signing_time = req->signing_time;
    /* the envelope is at out[0..env_len): the SignedData is built around it in place */
    e = cw_cms_signed_encode(p11, &s, out, env_len, out, cap, len);
    return e;
}

cw_err cw_scep_issuer_and_subject(const cw_der_t *ca, const uint8_t *csr, size_t csr_len, uint8_t *out, size_t cap,
                                  size_t *len)
{
    mbedtls_x509_crt c;
    cw_csr_parts_t r;
    cw_err e = CW_OK;
    size_t body;
    size_t hdr;

    mbedtls_x509_crt_init(&c);
    if (mbedtls_x509_crt_parse_der_nocopy(&c, ca->p, ca->len) != 0 || cw_csr_parts(csr, csr_len, &r) != CW_OK) {
        e = CW_ERR_INVALID_ARG;
        goto out;
    }
    /* IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name } (RFC 8894 3.3.3) */
    body = c.subject_raw.len + r.subject_len;
    hdr = 1u + (body < 0x80u ? 1u : body < 0x100u ? 2u : body < 0x10000u ? 3u : 4u);
    *len = hdr + body;
    if (out == NULL || cap < *len) {
        e = CW_ERR_BUFFER_SMALL;
        goto out;
    }
    {
        unsigned char *p = out + hdr;
        if (mbedtls_asn1_write_len(&p, out, body) < 0 ||
            mbedtls_asn1_write_tag(&p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) < 0 || p != out) {
            e = CW_ERR_INTERNAL;
            goto out;
        }
    }
    memcpy(out + hdr, c.subject_raw.p, c.subject_raw.len);
    memcpy(out + hdr + c.subject_raw.len, r.subject, r.subject_len);
out:
    mbedtls_x509_crt_free(&c);
    return e;
}

/* ---- replies (RFC 8894 3.3.2) --------------------------------------------------------------- */

/* A PrintableString attribute holding one small decimal number; -1 when it is not one. */
static int decimal_attr(const cw_cms_signed_t *sd, const char *oid, size_t oid_len, cw_err *err)
{
    cw_der_t v;
    int n = 0;
    *err = cw_cms_attr_get(sd, oid, oid_len, CW_DER_PRINTABLE, &v);
    if (*err != CW_OK || v.len == 0 || v.len > 2) {
        return -1;
    }
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') {
            return -1;
        }
        n = n * 10 + (v.p[i] - '0');
    }
    return n;
}

static cw_err check_ids(const cw_cms_signed_t *sd, const char *txid, const uint8_t nonce[CW_SCEP_NONCE_LEN],
                        cw_scep_reply_t *out)
{
    cw_der_t v;
    cw_err e;

    e = cw_cms_attr_get(sd, oid_transaction_id, OID_LEN(oid_transaction_id), CW_DER_PRINTABLE, &v);
    if (e != CW_OK || v.len > CW_SCEP_TXID_MAX || v.len != strlen(txid) || memcmp(v.p, txid, v.len) != 0) {
        return CW_ERR_SCEP_TRANSACTION;
    }
    memcpy(out->transaction_id, v.p, v.len);
    out->transaction_id[v.len] = '\0';
    e = cw_cms_attr_get(sd, oid_recipient_nonce, OID_LEN(oid_recipient_nonce), CW_DER_OCTETS, &v);
    if (e != CW_OK || v.len != CW_SCEP_NONCE_LEN || memcmp(v.p, nonce, CW_SCEP_NONCE_LEN) != 0) {
        return CW_ERR_SCEP_NONCE;
    }
    memcpy(out->recipient_nonce, v.p, CW_SCEP_NONCE_LEN);
    return CW_OK;
}

static cw_err read_status(const cw_cms_signed_t *sd, cw_scep_reply_t *out)
{
    cw_err e;
    int status = decimal_attr(sd, oid_pki_status, OID_LEN(oid_pki_status), &e);

    if (status != CW_SCEP_SUCCESS && status != CW_SCEP_FAILURE && status != CW_SCEP_PENDING) {
        return CW_ERR_SCEP_STATUS;
    }
    out->status = (cw_scep_status)status;
    if (status == CW_SCEP_FAILURE) {
        int fi = decimal_attr(sd, oid_fail_info, OID_LEN(oid_fail_info), &e);
        if (fi >= CW_SCEP_BAD_ALG && fi <= CW_SCEP_BAD_CERT_ID) {
            out->has_fail_info = true;
            out->fail_info = (cw_scep_fail_info)fi;
        }
    } else if (status == CW_SCEP_SUCCESS) {
        /* the degenerate certs-only PKCS#7 comes enveloped: a ContentInfo, never empty */
        if (!sd->has_content || sd->content.len < 2 || sd->content.p[0] != 0x30u) {
            return CW_ERR_CMS_FORMAT;
        }
        out->envelope = sd->content.p;
        out->envelope_len = sd->content.len;
    }
    return CW_OK;
}

cw_err cw_scep_reply_parse(const uint8_t *der, size_t len, const cw_der_t *signer, const char *txid,
                           const uint8_t nonce[CW_SCEP_NONCE_LEN], uint8_t *scratch, size_t scap,
                           cw_scep_reply_t *out)
{
    cw_cms_signed_t sd;
    cw_err e;

    memset(out, 0, sizeof *out);
    if (signer == NULL || txid == NULL || nonce == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    CW_TRY(cw_cms_signed_parse(der, len, scratch, scap, &sd));
    if (sd.nsigners != 1) {
        return CW_ERR_CMS_FORMAT;
    }
    CW_TRY(cw_cms_signed_verify(&sd, signer));
    if (decimal_attr(&sd, oid_message_type, OID_LEN(oid_message_type), &e) != CW_SCEP_CERTREP) {
        return CW_ERR_SCEP_MESSAGE_TYPE;
    }
    CW_TRY(check_ids(&sd, txid, nonce, out));
    e = read_status(&sd, out);
    if (e != CW_OK) {
        memset(out, 0, sizeof *out);
    }
    return e;
}

cw_err cw_scep_reply_open(cw_p11_ctx *p11, const cw_p11_key *key, const cw_scep_reply_t *rep, uint8_t *out,
                          size_t cap, size_t *len)
{
    *len = 0;
    if (rep->status != CW_SCEP_SUCCESS || rep->envelope == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    return cw_cms_enveloped_open(p11, key, rep->envelope, rep->envelope_len, out, cap, len);
}

cw_err cw_scep_fail_error(const cw_scep_reply_t *rep)
{
    static const cw_err by_info[] = {
        [CW_SCEP_BAD_ALG] = CW_ERR_SCEP_BAD_ALG,
        [CW_SCEP_BAD_MESSAGE_CHECK] = CW_ERR_SCEP_BAD_MESSAGE_CHECK,
        [CW_SCEP_BAD_REQUEST] = CW_ERR_SCEP_BAD_REQUEST,
        [CW_SCEP_BAD_TIME] = CW_ERR_SCEP_BAD_TIME,
        [CW_SCEP_BAD_CERT_ID] = CW_ERR_SCEP_BAD_CERT_ID,
    };
    if (rep->status == CW_SCEP_SUCCESS) {
        return CW_OK;
    }
    if (rep->status == CW_SCEP_PENDING) {
        return CW_ERR_SCEP_PENDING;
    }
    if (rep->has_fail_info && (size_t)rep->fail_info < sizeof by_info / sizeof by_info[0]) {
        return by_info[rep->fail_info];
    }
    return CW_ERR_SCEP_FAILURE;
}
