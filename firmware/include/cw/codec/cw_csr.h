/*
 * cw_csr.h: PKCS#10 certification requests (RFC 2986) signed by a key in the token.
 *
 * mbedTLS 3.6 can only sign a CSR with a key it holds, so certwiz builds the
 * CertificationRequestInfo itself with mbedTLS's ASN.1 writer and has the token sign it:
 * subject, the key's SubjectPublicKeyInfo (read from the token), and an extensionRequest with
 * subjectAltName (DNS names, IP addresses), keyUsage (RSA: digitalSignature + keyEncipherment;
 * EC: digitalSignature) and extendedKeyUsage; optionally a challengePassword attribute.
 * Signature: SHA-256 with RSA PKCS#1 v1.5 or ECDSA; SHA-384 for P-384 keys.
 */
#ifndef CW_CSR_H
#define CW_CSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw/codec/cw_topology.h"
#include "cw_p11.h"

/* Subject attributes, in the order they appear in the Name (most significant first). */
typedef enum cw_dn_attr {
    CW_DN_C = 0, /* countryName, PrintableString SIZE(2) */
    CW_DN_ST,    /* stateOrProvinceName */
    CW_DN_L,     /* localityName */
    CW_DN_O,     /* organizationName */
    CW_DN_OU,    /* organizationalUnitName */
    CW_DN_CN,    /* commonName */
    CW_DN_COUNT
} cw_dn_attr;

/* Longest value of one subject attribute: X.520's ub-common-name is 64 characters. */
#define CW_CSR_DN_VALUE_MAX 64u

typedef enum cw_san_kind {
    CW_SAN_DNS = 1,
    CW_SAN_IP
} cw_san_kind;

typedef struct cw_san_t {
    cw_san_kind kind;
    const char *dns;     /* CW_SAN_DNS: a DNS name, NUL-terminated, linked not copied */
    uint8_t ip[16];      /* CW_SAN_IP: 4 (IPv4) or 16 (IPv6) bytes */
    uint8_t ip_len;
} cw_san_t;

#define CW_EKU_SERVER_AUTH 0x1u
#define CW_EKU_CLIENT_AUTH 0x2u

/* What to request. Every pointer is linked, not copied, and must stay valid through encode. */
typedef struct cw_csr_req_t {
    const char *dn[CW_DN_COUNT];   /* NULL or "" = absent; UTF-8 */
    cw_san_t san[CW_CSR_SAN_MAX];
    size_t nsan;
    unsigned eku;                  /* CW_EKU_* bits; 0 = no extendedKeyUsage extension */
    const char *challenge;         /* challengePassword, or NULL; the caller wipes it */
    size_t challenge_len;
} cw_csr_req_t;

/* Largest CSR: an RSA-4096 SPKI (556), a signature of 512 bytes, a subject of 6 x 64 characters,
 * extensions and attributes (2048 in all), and CW_CSR_NAMES_TEXT_MAX bytes of names in
 * CW_CSR_SAN_MAX GeneralNames of up to 8 bytes of tags and lengths each. */
#define CW_CSR_DER_MAX (2048u + CW_CSR_NAMES_TEXT_MAX + CW_CSR_SAN_MAX * 8u)

/* The request a topology set derives (names, SANs, EKU; no challenge). The strings stay d's. */
void cw_csr_request_from(const cw_topology_derived *d, cw_csr_req_t *r);

/* Builds and signs the request for key (a key pair in the token; signing needs the login).
 * Writes the DER into out[0..cap) and its length into *len. The whole of out is used as
 * scratch. With out NULL, or a cap too small for this request, returns CW_ERR_BUFFER_SMALL with
 * CW_CSR_DER_MAX in *len (the exact length is known only after an ECDSA signature). Errors:
 * CW_ERR_INVALID_ARG (no subject and no SAN, a DN value over CW_CSR_DN_VALUE_MAX or a country
 * that is not two letters, an empty or over-long DNS name, an IP of another length), the
 * token's errors from reading the public key and signing. Uses up to ~3 KiB of the arena. */
cw_err cw_csr_encode(cw_p11_ctx *p11, const cw_p11_key *key, const cw_csr_req_t *req, uint8_t *out,
                     size_t cap, size_t *len);

/* ---- reading a request back ------------------------------------------------------------------
 * What certwiz needs from a request it made (a pending record's CSR): its subject and the names
 * it asked for. The structure is checked as far as these parts are read (RFC 2986 4.1: the
 * request, its version 0, the subject Name, a public key, the attributes and, in an
 * extensionRequest, the subjectAltName); the signature is not (the request is certwiz's own,
 * read back from the token). Everything is a view into the DER. */
typedef struct cw_csr_parts_t {
    const uint8_t *subject; /* the subject Name, whole: tag, length and contents */
    size_t subject_len;
    const uint8_t *san;     /* the subjectAltName's GeneralNames, contents only; NULL when none */
    size_t san_len;
} cw_csr_parts_t;

/* Splits der[0..len) into its parts. CW_ERR_MALFORMED when it is not a CertificationRequest. */
cw_err cw_csr_parts(const uint8_t *der, size_t len, cw_csr_parts_t *out);

/* The value of the subject's last commonName (any string type), or CW_ERR_NOT_FOUND;
 * CW_ERR_MALFORMED when the Name is not well-formed. */
cw_err cw_csr_cn(const cw_csr_parts_t *parts, const uint8_t **value, size_t *len);

/* One GeneralName of parts->san at a time: start with *pos = 0; each call gives the next name's
 * tag byte (0x82 dNSName, 0x87 iPAddress, ...) and contents and advances *pos. CW_ERR_NOT_FOUND
 * after the last; CW_ERR_MALFORMED for a name that does not fit. */
cw_err cw_csr_next_san(const cw_csr_parts_t *parts, size_t *pos, uint8_t *tag, const uint8_t **value,
                       size_t *len);

#endif /* CW_CSR_H */
