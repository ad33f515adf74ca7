/*
 * cw_import.h: what a CA sends back, checked before anything is stored.
 *
 * An answer arrives as DER blocks (from PEM, or from a SCEP reply): X.509 certificates, or
 * PKCS#7 SignedData "certs-only" bundles (.p7b). cw_import_collect() lists the certificates
 * they hold, as views into the caller's buffer. cw_import_check() then decides whether the
 * answer is acceptable for a pending request, in this order, each failure its own error:
 *
 *   1. one certificate carries the pending key      (else CW_ERR_IMPORT_KEY_MISMATCH)
 *   2. it is an end entity: no basicConstraints cA, no keyCertSign or cRLSign
 *                                                   (CW_ERR_IMPORT_NOT_END_ENTITY)
 *   3. it names the CN and every SAN requested      (CW_ERR_IMPORT_NAME_MISSING)
 *   4. it is valid now by the device clock          (CW_ERR_TIME_UNKNOWN, _NOT_YET_VALID,
 *                                                     _EXPIRED; also for the chain above it)
 *   5. its keyUsage, when present, allows digitalSignature (CW_ERR_IMPORT_KEY_USAGE), and its
 *      extended key usage allows the set's use      (CW_ERR_IMPORT_EKU)
 *   6. it chains to a root: the chain comes in the answer or was imported before, the root is
 *      self-signed, every signature checks          (CW_ERR_IMPORT_UNTRUSTED)
 *   7. the root may be trusted (cw_import_trust_root): the pinned one (CW_ERR_IMPORT_PIN_MISMATCH),
 *      else the one the profile trusts already (CW_ERR_IMPORT_ROOT_CHANGED), else one the
 *      operator has confirmed                       (CW_ERR_IMPORT_ROOT_UNCONFIRMED)
 *
 * A certificate with a critical extension certwiz does not process is refused wherever it
 * stands (CW_ERR_IMPORT_CRITICAL_EXTENSION, RFC 5280 4.2).
 *
 * Parsing and verification use mbedTLS on the arena (a few KiB per certificate; all freed
 * before return). Nothing is copied: views point into the caller's buffers.
 */
#ifndef CW_IMPORT_H
#define CW_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/codec/cw_csr.h"
#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw/base/cw_types.h"

/* Appends the certificates of one DER blob: a Certificate, or a ContentInfo holding a
 * SignedData (RFC 5652 5.1, definite lengths) whose certificates field lists them. Errors:
 * CW_ERR_IMPORT_FORMAT (neither), CW_ERR_IMPORT_CRITICAL_EXTENSION (a certificate with a critical
 * extension certwiz does not process), CW_ERR_IMPORT_NO_CERT (a bundle without certificates),
 * CW_ERR_TOO_LARGE (more than CW_IMPORT_CERTS_MAX in all), CW_ERR_MALFORMED / _TRUNCATED. */
cw_err cw_import_collect(const uint8_t *der, size_t len, cw_cert_list_t *out);

/* What the answer is checked against. Pointers are read only during cw_import_check. */
typedef struct cw_import_expect_t {
    const uint8_t *spki;           /* the pending key's SubjectPublicKeyInfo DER */
    size_t spki_len;
    const char *cn;                /* the requested common name, or NULL */
    const cw_san_t *san;           /* the requested SANs */
    size_t nsan;
    unsigned eku;                  /* CW_EKU_* the set is for */
    int64_t now;                   /* the device clock, UTC seconds; 0 = not set */
    const uint8_t *pin;            /* SHA-256 of the root the profile pins, or NULL */
    const cw_cert_list_t *trusted; /* CA certificates the profile trusts already (may be NULL) */
    const uint8_t *confirmed_root; /* SHA-256 of a new root the operator has accepted, or NULL */
} cw_import_expect_t;

typedef struct cw_import_result_t {
    size_t leaf;                        /* index of the certificate for the pending key */
    bool store_as_ca[CW_IMPORT_CERTS_MAX]; /* CA certificates of the answer on the leaf's path */
    uint8_t root_sha256[32];            /* fingerprint of the root the chain ended in */
    size_t root_index;                  /* that root among the answer's certificates, or SIZE_MAX
                                         * (a root of trusted); set from step 6 on */
    int64_t not_before;                 /* the leaf's validity, UTC seconds */
    int64_t not_after;
} cw_import_result_t;

/* Checks certs against x (see the list at the top). On CW_OK, res says which certificate to
 * store as the set's and which as authorities. On CW_ERR_IMPORT_ROOT_UNCONFIRMED everything else
 * was right: res says which root to show the operator; check again with x->confirmed_root set to
 * its fingerprint once they have accepted it. */
cw_err cw_import_check(const cw_cert_list_t *certs, const cw_import_expect_t *x, cw_import_result_t *res);

/* Whether a chain's root (its SHA-256) may be trusted for a CA profile: with a pin, only the
 * pinned root (CW_ERR_IMPORT_PIN_MISMATCH); else a root the profile stores already (stored, its
 * CA certificates) is trusted, another one is refused while the profile trusts one
 * (CW_ERR_IMPORT_ROOT_CHANGED: the operator removes the old trust first), and a first root is
 * trusted only once the operator has confirmed it (confirmed, else CW_ERR_IMPORT_ROOT_UNCONFIRMED).
 * A root is never trusted silently. */
cw_err cw_import_trust_root(const cw_cert_list_t *stored, const uint8_t *pin, const uint8_t *confirmed,
                            const uint8_t root_sha256[32]);

/* For `ca import` and `ca auth`: cert must be a CA certificate (basicConstraints cA), currently
 * valid by now, self-signed or issued by one of trusted; when pin is set, the root of its chain
 * (itself, if self-signed) must have that SHA-256. Returns the root's fingerprint in root_sha256;
 * whether that root may be trusted is cw_import_trust_root's to say. */
cw_err cw_import_check_ca(const cw_der_t *cert, int64_t now, const uint8_t *pin, const cw_cert_list_t *trusted,
                          uint8_t root_sha256[32]);

/* Subject, issuer, serial and validity of a certificate, as text for `roles` and `ca show`. */
typedef struct cw_cert_summary_t {
    char subject[CW_CERT_TEXT_MAX];
    char issuer[CW_CERT_TEXT_MAX];
    char serial[CW_CERT_TEXT_MAX];
    int64_t not_before;
    int64_t not_after;
    uint8_t sha256[32];
} cw_cert_summary_t;

cw_err cw_import_summary(const cw_der_t *cert, cw_cert_summary_t *out);

#endif /* CW_IMPORT_H */
