/*
 * cw_scep_msg.h: SCEP messages (RFC 8894) on the CMS pieces of cw_cms.h.
 *
 * This layer builds and reads messages; it does no networking (cw_scep.h drives the exchange
 * over HTTP). Every reader is bounded and works on views into the caller's buffer; nothing
 * allocates outside the mbedTLS arena, and every arena use is released before return.
 *
 *   caps      GetCACaps text -> CW_SCEP_CAP_* bits -> the cipher and digest to use
 *   cacert    GetCACert body (a DER certificate, or a certs-only PKCS#7 with RA certificates)
 *             -> the CA, the certificate that signs replies, the one requests are encrypted to
 *   signer    a transient self-signed certificate for a token key (PKCSReq/CertPoll signer)
 *   request   PKCSReq, RenewalReq, CertPoll: pkiMessage = SignedData over EnvelopedData
 *   reply     CertRep: signature, messageType, transactionID, recipientNonce, pkiStatus,
 *             failInfo; SUCCESS opens the envelope with the token key (a certs-only PKCS#7)
 */
#ifndef CW_SCEP_MSG_H
#define CW_SCEP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/codec/cw_cms.h"
#include "cw/base/cw_err.h"
#include "cw/pki/cw_import.h"
#include "cw/base/cw_types.h"
#include "cw_p11.h"

#define CW_SCEP_NONCE_LEN 16u
/* transactionID: the hex SHA-256 of the request key's SubjectPublicKeyInfo (RFC 8894 3.2.1.1
 * lets it be any printable string; a hash of the key makes it stable across a reboot). */
#define CW_SCEP_TXID_MAX 64u

typedef enum cw_scep_msg_type {
    CW_SCEP_CERTREP = 3,
    CW_SCEP_RENEWALREQ = 17,
    CW_SCEP_PKCSREQ = 19,
    CW_SCEP_CERTPOLL = 20
} cw_scep_msg_type;

typedef enum cw_scep_status {
    CW_SCEP_SUCCESS = 0,
    CW_SCEP_FAILURE = 2,
    CW_SCEP_PENDING = 3
} cw_scep_status;

typedef enum cw_scep_fail_info {
    CW_SCEP_BAD_ALG = 0,
    CW_SCEP_BAD_MESSAGE_CHECK = 1,
    CW_SCEP_BAD_REQUEST = 2,
    CW_SCEP_BAD_TIME = 3,
    CW_SCEP_BAD_CERT_ID = 4
} cw_scep_fail_info;

/* ---- GetCACaps -------------------------------------------------------------------------------- */

#define CW_SCEP_CAP_POST 0x001u          /* POSTPKIOperation */
#define CW_SCEP_CAP_RENEWAL 0x002u       /* Renewal */
#define CW_SCEP_CAP_SHA1 0x004u          /* SHA-1 */
#define CW_SCEP_CAP_SHA256 0x008u        /* SHA-256 */
#define CW_SCEP_CAP_SHA512 0x010u        /* SHA-512 (noted; certwiz signs with SHA-256 at most) */
#define CW_SCEP_CAP_AES 0x020u           /* AES */
#define CW_SCEP_CAP_DES3 0x040u          /* DES3 */
#define CW_SCEP_CAP_STANDARD 0x080u      /* SCEPStandard: implies AES, POST, SHA-256 */
#define CW_SCEP_CAP_GETNEXTCACERT 0x100u /* GetNextCACert */

/* Reads the GetCACaps body: keywords one per line (LF or CR LF), case-insensitive; unknown
 * keywords are ignored. Never fails: an empty body means no capabilities. */
unsigned cw_scep_caps_parse(const char *text, size_t len);

/* The strongest cipher and digest the caps allow: AES-128-CBC if AES or SCEPStandard (RFC 8894
 * 3.5.2 names AES-128-CBC for "AES"), else 3DES if DES3, else DES; SHA-256 if SHA-256 or
 * SCEPStandard, else SHA-1. */
void cw_scep_choose(unsigned caps, cw_cms_cipher *cipher, cw_hash_alg *digest);

/* ---- GetCACert -------------------------------------------------------------------------------- */

typedef struct cw_scep_ca_t {
    cw_cert_list_t all;   /* every certificate of the answer, views into the body */
    cw_der_t ca;          /* the CA: the one CA certificate (basicConstraints cA) */
    cw_der_t signer;      /* verifies CertRep: the RA certificate with digitalSignature, or ca */
    cw_der_t recipient;   /* requests are encrypted to it: the RA certificate with
                             keyEncipherment, or ca */
    bool has_ra;          /* signer/recipient are RA certificates */
} cw_scep_ca_t;

/* Reads a GetCACert body: one DER certificate (application/x-x509-ca-cert) or a degenerate
 * certs-only SignedData (application/x-x509-ca-ra-cert) with the CA and RA certificates.
 * Picks the RA certificates by keyUsage (a single RA certificate with both usages serves both).
 * Errors: CW_ERR_SCEP_CACERT (no CA certificate, two CA certificates and no way to tell, an RA
 * certificate without a usable key usage), CW_ERR_CMS_FORMAT, CW_ERR_TOO_LARGE (more than
 * CW_IMPORT_CERTS_MAX certificates). Only RSA keys can receive requests (key transport). */
cw_err cw_scep_parse_cacert(const uint8_t *body, size_t len, cw_scep_ca_t *out);

/* ---- signer certificate ----------------------------------------------------------------------- */

/* A self-signed X.509 v3 certificate for key (RSA, in the token), subject and issuer CN=cn,
 * serial from the key ID, valid from now - 1 hour to now + 1 year (now 0: 2000-01-01 to
 * 2049-12-31, for a device without a clock), signed in the token with digest. Deterministic for
 * the same (key, cn, now, digest). Writes DER to out[0..cap). */
cw_err cw_scep_signer_cert(cw_p11_ctx *p11, const cw_p11_key *key, const char *cn, int64_t now,
                           cw_hash_alg digest, uint8_t *out, size_t cap, size_t *len);

/* ---- requests --------------------------------------------------------------------------------- */

typedef struct cw_scep_req_t {
    cw_scep_msg_type type;                  /* PKCSReq, RenewalReq or CertPoll */
    const char *transaction_id;             /* printable, at most CW_SCEP_TXID_MAX */
    uint8_t sender_nonce[CW_SCEP_NONCE_LEN];
    const uint8_t *message;                 /* PKCSReq/RenewalReq: the PKCS#10; CertPoll: the
                                               IssuerAndSubject (cw_scep_issuer_and_subject) */
    size_t message_len;
    const uint8_t *signer_cert;             /* the self-signed signer, or for RenewalReq the
                                               certificate being renewed */
    size_t signer_cert_len;
    const cw_p11_key *signer_key;           /* its key, in the token */
    cw_hash_alg digest;                     /* SHA-1 or SHA-256 */
    const cw_der_t *recipient;              /* cw_scep_ca_t.recipient */
    cw_cms_cipher cipher;
    int64_t signing_time;                   /* UTC seconds; 0: no signingTime attribute */
} cw_scep_req_t;

/* Builds the pkiMessage: ContentInfo(SignedData(eContent = ContentInfo(EnvelopedData(message))))
 * with the signer certificate in certificates and the signed attributes transactionID,
 * messageType, senderNonce, contentType, messageDigest (and signingTime). Content key and IV
 * come from the token's random generator. Writes DER to out[0..cap). */
cw_err cw_scep_request_encode(cw_p11_ctx *p11, const cw_scep_req_t *req, uint8_t *out, size_t cap,
                              size_t *len);

/* CertPoll's messageData: IssuerAndSubject ::= SEQUENCE { issuer Name (the CA's subject),
 * subject Name (the CSR's subject) }. */
cw_err cw_scep_issuer_and_subject(const cw_der_t *ca, const uint8_t *csr, size_t csr_len, uint8_t *out,
                                  size_t cap, size_t *len);

/* ---- replies ---------------------------------------------------------------------------------- */

typedef struct cw_scep_reply_t {
    cw_scep_status status;
    bool has_fail_info;
    cw_scep_fail_info fail_info;
    char transaction_id[CW_SCEP_TXID_MAX + 1];
    uint8_t recipient_nonce[CW_SCEP_NONCE_LEN];
    const uint8_t *envelope;   /* SUCCESS: the EnvelopedData (ContentInfo) inside; a view into
                                  the reply or into scratch */
    size_t envelope_len;
} cw_scep_reply_t;

/* Reads a CertRep and checks it: signature by signer (cw_scep_ca_t.signer; signed attributes
 * with messageDigest), messageType CertRep, transactionID equal to txid, recipientNonce equal to
 * nonce, pkiStatus known, failInfo with FAILURE, an envelope with SUCCESS. scratch (at least the
 * size of the reply) holds a BER eContent put together from its pieces. Errors: CW_ERR_CMS_*,
 * CW_ERR_SCEP_MESSAGE_TYPE, _TRANSACTION, _NONCE, _STATUS. A FAILURE reply is returned as CW_OK
 * with status FAILURE: cw_scep_fail_error() names it. */
cw_err cw_scep_reply_parse(const uint8_t *der, size_t len, const cw_der_t *signer, const char *txid,
                           const uint8_t nonce[CW_SCEP_NONCE_LEN], uint8_t *scratch, size_t scap,
                           cw_scep_reply_t *out);

/* SUCCESS: decrypts the envelope with key (RSA, by handle in the token) and writes the
 * certs-only PKCS#7 it holds to out[0..cap) (cw_import_collect reads it). Errors:
 * CW_ERR_CMS_NO_RECIPIENT, CW_ERR_CMS_DECRYPT, CW_ERR_CMS_ALGORITHM, CW_ERR_CMS_FORMAT. */
cw_err cw_scep_reply_open(cw_p11_ctx *p11, const cw_p11_key *key, const cw_scep_reply_t *rep, uint8_t *out,
                          size_t cap, size_t *len);

/* The error a FAILURE reply stands for: CW_ERR_SCEP_BAD_ALG .. _BAD_CERT_ID, or
 * CW_ERR_SCEP_FAILURE without (or with an unknown) failInfo. */
cw_err cw_scep_fail_error(const cw_scep_reply_t *rep);

#endif /* CW_SCEP_MSG_H */
