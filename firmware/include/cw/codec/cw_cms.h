/*
 * cw_cms.h: the pieces of CMS (RFC 5652) that SCEP needs.
 *
 *   SignedData     build (one signer, a token key, signed attributes, the signer certificate);
 *                  read (BER as real servers send it) and verify one signer with a given
 *                  certificate (RSA PKCS#1 v1.5 with SHA-1, SHA-256, SHA-384 or SHA-512)
 *   certs-only     the certificates of a degenerate SignedData
 *   EnvelopedData  build with one KeyTransRecipientInfo (rsaEncryption, issuerAndSerialNumber) to
 *                  a recipient certificate's RSA key; open with a token key (C_Decrypt by
 *                  handle), DES / 3DES / AES-CBC content with its PKCS#7 padding
 *
 * Readers take (buf, len), never read past len and keep no recursion: nesting is walked with a
 * counter bounded by CW_CMS_BER_DEPTH_MAX. They accept BER: indefinite lengths, and constructed
 * OCTET STRING / constructed [0] encryptedContent, whose pieces are put together in a buffer the
 * caller hands in. Only low tag numbers (< 31) occur in CMS; others are CW_ERR_CMS_FORMAT.
 *
 * Results are views (cw_der_t) into the caller's input or scratch buffer: they stay valid while
 * those buffers do. mbedTLS works on the arena; every arena block is freed before return. Content
 * keys live on the stack only for the call and are wiped (cw_wipe) before return.
 *
 * Errors: CW_ERR_CMS_FORMAT (malformed, truncated, or a form not read here), CW_ERR_CMS_ALGORITHM
 * (a digest, signature or content cipher not supported), CW_ERR_CMS_SIGNATURE, CW_ERR_CMS_DECRYPT,
 * CW_ERR_CMS_NO_RECIPIENT, CW_ERR_BUFFER_SMALL (needed length reported), CW_ERR_TOO_LARGE (a
 * bound below), the token's answers from cw_p11_*.
 */
#ifndef CW_CMS_H
#define CW_CMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_types.h"
#include "cw/base/cw_opts.h"
#include "cw_p11.h"

/* Content-encryption algorithms (all CBC with PKCS#7 padding). The values are stable. */
typedef enum cw_cms_cipher {
    CW_CMS_DES = 1,  /* desCBC 1.3.14.3.2.7: what micromdm encrypts its replies with */
    CW_CMS_3DES,     /* des-ede3-cbc 1.2.840.113549.3.7 */
    CW_CMS_AES128,   /* id-aes128-CBC 2.16.840.1.101.3.4.1.2 */
    CW_CMS_AES192,   /* id-aes192-CBC 2.16.840.1.101.3.4.1.22 */
    CW_CMS_AES256    /* id-aes256-CBC 2.16.840.1.101.3.4.1.42 */
} cw_cms_cipher;

/* Largest content-encryption key (AES-256) and IV (one AES block). */
#define CW_CMS_KEY_MAX 32u
#define CW_CMS_IV_MAX 16u

/* ---- reading SignedData ---------------------------------------------------------------------- */

/* One SignedData, as views. Only the first SignerInfo is kept (SCEP has exactly one). */
typedef struct cw_cms_signed_t {
    cw_der_t content_type;   /* eContentType: the OID's content octets */
    bool has_content;        /* eContent present (it may still be empty) */
    cw_der_t content;        /* eContent's octets: into the input, or into scratch when the
                                OCTET STRING came in pieces */
    cw_der_t certs;          /* certificates [0]: the encodings one after another (len 0: none) */
    size_t nsigners;         /* SignerInfos seen (0 for certs-only) */
    int digest_md;           /* the first signer's digestAlgorithm, as mbedtls_md_type_t */
    cw_der_t sid_issuer;     /* issuerAndSerialNumber: the issuer Name, whole TLV (len 0 when the
                                sid is a subjectKeyIdentifier) */
    cw_der_t sid_serial;     /* ... and the serialNumber's content octets */
    cw_der_t sid_ski;        /* subjectKeyIdentifier [0]: its octets (len 0 otherwise) */
    cw_der_t signed_attrs;   /* signedAttrs [0] IMPLICIT SET OF Attribute, whole TLV (DER);
                                len 0 when absent */
    cw_der_t signature;      /* the signature's octets */
} cw_cms_signed_t;

/* Reads a ContentInfo holding a SignedData (BER). scratch[0..scap) receives the eContent when
 * it arrives as a constructed OCTET STRING (scap >= len always suffices); it may be NULL with
 * scap 0 when the caller knows it will not. Checks structure, not signatures. Errors:
 * CW_ERR_CMS_FORMAT, CW_ERR_BUFFER_SMALL (scratch), CW_ERR_CMS_ALGORITHM (digest). */
cw_err cw_cms_signed_parse(const uint8_t *der, size_t len, uint8_t *scratch, size_t scap,
                           cw_cms_signed_t *out);

/* Verifies the first signer with cert (DER; RSA): the sid names cert, the signed attributes
 * are present and DER, contentType equals eContentType, messageDigest equals the digest of
 * eContent, and the signature over the attributes (re-tagged SET, 0x31) checks with cert's key.
 * Errors: CW_ERR_CMS_SIGNATURE for each of those, CW_ERR_CMS_ALGORITHM (not RSA),
 * CW_ERR_INVALID_ARG (cert does not parse), CW_ERR_NO_MEMORY (arena). */
cw_err cw_cms_signed_verify(const cw_cms_signed_t *sd, const cw_der_t *cert);

/* The single value of the signed attribute oid[0..oid_len) (content octets of the OID), which
 * must have tag (e.g. 0x13 PrintableString, 0x04 OCTET STRING): its content octets in *value.
 * CW_ERR_NOT_FOUND when absent; CW_ERR_CMS_FORMAT for another tag or more than one value. */
cw_err cw_cms_attr_get(const cw_cms_signed_t *sd, const char *oid, size_t oid_len, uint8_t tag,
                       cw_der_t *value);

/* Appends the Certificates of sd's certificates field to out (other CertificateChoices are
 * skipped). CW_ERR_TOO_LARGE over CW_IMPORT_CERTS_MAX, CW_ERR_CMS_FORMAT. */
cw_err cw_cms_signed_certs(const cw_cms_signed_t *sd, cw_cert_list_t *out);

/* ---- building SignedData -------------------------------------------------------------------- */

/* One signed attribute with one value: type OID (content octets), value tag and content. */
typedef struct cw_cms_attr_t {
    const char *oid;
    size_t oid_len;
    uint8_t tag;
    const uint8_t *value;
    size_t len;
} cw_cms_attr_t;

/* Most attributes a caller adds (contentType, messageDigest, signingTime come on top), and the
 * most bytes all signed attributes take: SCEP's six are under 300 bytes (a 64-byte
 * transactionID, a 64-byte SHA-512 digest at most). */
#define CW_CMS_ATTRS_MAX 8u
#define CW_CMS_SIGNED_ATTRS_MAX 512u

typedef struct cw_cms_signer_t {
    const uint8_t *cert;          /* signer certificate DER: goes into certificates; its issuer
                                     and serial become the sid */
    size_t cert_len;
    const cw_p11_key *key;        /* its key in the token (RSA) */
    cw_hash_alg digest;           /* SHA-1, SHA-256 or SHA-384 */
    const cw_cms_attr_t *attrs;   /* added to contentType and messageDigest */
    size_t nattrs;
    int64_t signing_time;         /* UTC seconds; 0: no signingTime */
} cw_cms_signer_t;

/* ContentInfo(SignedData) over content (eContentType id-data) signed in the token, DER, into
 * out[0..cap). content may be out itself (content == out: the content is moved into place) or
 * lie outside out. out NULL or cap short: CW_ERR_BUFFER_SMALL with an upper bound in *len. */
cw_err cw_cms_signed_encode(cw_p11_ctx *p11, const cw_cms_signer_t *s, const uint8_t *content,
                            size_t content_len, uint8_t *out, size_t cap, size_t *len);

/* X.509 / CMS Time for utc: UTCTime (tag 0x17) for 1950..2049, else GeneralizedTime (0x18),
 * "YYMMDDHHMMSSZ" or "YYYYMMDDHHMMSSZ" into text (at least 16 bytes, not NUL-terminated).
 * Returns the text length; *tag gets the tag. */
size_t cw_cms_time(int64_t utc, uint8_t *tag, char text[16]);

/* ---- EnvelopedData -------------------------------------------------------------------------- */

/* ContentInfo(EnvelopedData) of content[0..len) for recipient (a DER certificate with an RSA
 * key): a random content key and IV from the token, the key encrypted with RSA PKCS#1 v1.5
 * (random padding from the token), DER into out[0..cap) (content must not overlap out). out NULL
 * or cap short: CW_ERR_BUFFER_SMALL with an upper bound in *outlen. CW_ERR_CMS_ALGORITHM when
 * the recipient key is not RSA; CW_ERR_INVALID_ARG when the certificate does not parse. */
cw_err cw_cms_enveloped_encode(cw_p11_ctx *p11, const cw_der_t *recipient, cw_cms_cipher cipher,
                               const uint8_t *content, size_t len, uint8_t *out, size_t cap,
                               size_t *outlen);

/* Opens a ContentInfo(EnvelopedData) (BER) with key: each KeyTransRecipientInfo with
 * rsaEncryption (at most CW_CMS_RECIPIENTS_MAX) is tried with cw_p11_decrypt until one gives a
 * key of the cipher's size; then the encryptedContent (pieces put together in out) is decrypted
 * in place and its padding checked. The plaintext is out[0..*outlen); cap must hold the whole
 * encryptedContent. Errors: CW_ERR_CMS_NO_RECIPIENT (no RSA key transport recipient),
 * CW_ERR_CMS_DECRYPT (no recipient decrypts, bad padding: one answer for both), CW_ERR_CMS_ALGORITHM,
 * CW_ERR_CMS_FORMAT, CW_ERR_BUFFER_SMALL. On error out holds nothing of the plaintext. */
cw_err cw_cms_enveloped_open(cw_p11_ctx *p11, const cw_p11_key *key, const uint8_t *der, size_t len,
                             uint8_t *out, size_t cap, size_t *outlen);

#endif /* CW_CMS_H */
