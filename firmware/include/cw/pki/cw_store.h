/*
 * cw_store.h: certwiz's records in the token, written so that a power cut at any instant leaves
 * either the old or the new record, never none and never half of one.
 *
 * Every record is a public CKO_DATA object (readable before a login, so that the device boots
 * with its topology and roles; certwiz writes them only after one) with CKA_APPLICATION
 * "certwiz" and a label that names it:
 *
 *   certwiz.topology.<seq>    the topology blob as loaded (DER)
 *   certwiz.roles.<seq>       every role's assignment: set and certificate ID (RoleTable, below)
 *   certwiz.pending.<set>     a request waiting for its certificate (PendingRequest, below)
 *
 * Sequenced records (topology, roles) are replaced by writing the new one under seq + 1 and
 * then deleting the old. At boot (cw_store_seq_read) the highest record whose value decodes
 * wins and the others are removed: a cut between the two steps leaves two records, the newer
 * wins; a cut during the write leaves a record that does not decode (or none), the older wins.
 * A record is created from one template, so once its label is there its value is whole; a cut
 * earlier leaves an object without label (docs/store.md), which the first login after boot
 * removes (cw_p11_sweep_unfinished). A value certwiz cannot decode is checked all the same.
 *
 * Record values are small DER documents (docs/store.asn1).
 */
#ifndef CW_STORE_H
#define CW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/codec/cw_csr.h"
#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw_p11.h"

#define CW_STORE_APPLICATION "certwiz"
/* "certwiz.pending." + a set name of up to CW_STORE_NAME_MAX */
#define CW_STORE_LABEL_MAX (16u + CW_STORE_NAME_MAX)

/* Longest SCEP transactionID kept in a pending record (hex SHA-256 of the key: 64). */
#define CW_PENDING_TXID_MAX 64u

/* Checks that a record's value is whole and meaningful; CW_OK if so. */
typedef cw_err (*cw_store_validate_fn)(const uint8_t *value, size_t len, void *arg);

/* Reads the newest valid record of a sequenced kind ("topology", "roles") into buf and removes
 * every other record of that kind. CW_ERR_NOT_FOUND when there is none (nothing is then
 * removed but invalid ones). *seq gets the winner's sequence number. */
cw_err cw_store_seq_read(cw_p11_ctx *p11, const char *kind, cw_store_validate_fn validate, void *arg,
                         uint8_t *buf, size_t cap, size_t *len, uint32_t *seq);

/* Records are created public where the token allows it (read before a login), else private (read
 * after it): the first refused public create (CKR_ATTRIBUTE_VALUE_INVALID or
 * CKR_TEMPLATE_INCONSISTENT) makes every later record private. True once that happened. */
bool cw_store_records_private(void);

/* Writes value as the record of kind after seq (under seq + 1), then removes every older one;
 * *seq is updated. Fault points: "<kind>:written" between the two steps. */
cw_err cw_store_seq_write(cw_p11_ctx *p11, const char *kind, const uint8_t *value, size_t len, uint32_t *seq);

/* ---- role assignments ------------------------------------------------------------------------ */

typedef struct cw_role_assignment_t {
    char role[CW_STORE_NAME_MAX + 1];
    char set[CW_STORE_NAME_MAX + 1];
    uint8_t cert_id[CW_P11_KEY_ID_LEN];  /* CKA_ID of the certificate (and of its key) */
    size_t cert_id_len;
} cw_role_assignment_t;

typedef struct cw_role_table_t {
    cw_role_assignment_t a[CW_STORE_ROLES_MAX];
    size_t n;
} cw_role_table_t;

/* RoleTable ::= SEQUENCE SIZE(0..CW_STORE_ROLES_MAX) OF SEQUENCE {
 *     role UTF8String, set UTF8String, certId OCTET STRING SIZE(1..20) } */
cw_err cw_role_table_encode(const cw_role_table_t *t, uint8_t *out, size_t cap, size_t *len);
cw_err cw_role_table_decode(cw_role_table_t *t, const uint8_t *der, size_t len);

/* The assignment of role, or NULL. */
const cw_role_assignment_t *cw_role_table_find(const cw_role_table_t *t, const char *role);

/* Points role at set's certificate, adding the role if new. CW_ERR_TOO_LARGE when full. */
cw_err cw_role_table_assign(cw_role_table_t *t, const char *role, const char *set, const uint8_t *id,
                            size_t id_len);

/* ---- pending requests ------------------------------------------------------------------------ */

typedef struct cw_pending_t {
    uint8_t key_id[CW_P11_KEY_ID_LEN];   /* CKA_ID of the key pair the request is for */
    size_t key_id_len;
    int64_t created;                     /* UTC seconds, 0 if the clock was not set */
    const uint8_t *csr;                  /* the PKCS#10 request as sent: a view into the record */
    size_t csr_len;
    /* An online (SCEP) request only; online false for an offline one. */
    bool online;
    uint8_t msg_type;                    /* what was sent: 19 PKCSReq or 17 RenewalReq */
    char txid[CW_PENDING_TXID_MAX + 1];  /* the SCEP transactionID, printable */
    uint8_t signer_id[CW_P11_KEY_ID_LEN];/* RenewalReq: the current certificate's key, which signs
                                            the request and its polls and receives the reply */
    size_t signer_id_len;                /* 0: the request's own key (PKCSReq) */
    bool held;                           /* the CA answered PENDING: poll with CertPoll (else the
                                            request may not have reached the CA: send it again) */
} cw_pending_t;

/* Largest encoded pending record: its CSR and, at most, 192 bytes of the other fields (the
 * SEQUENCE, version, key ID, time, message type, a 64-character transactionID, signer key ID,
 * held flag, with their tags and lengths: 140 bytes). */
#define CW_PENDING_RECORD_MAX (CW_CSR_DER_MAX + 192u)

/* PendingRequest ::= SEQUENCE { version INTEGER (1), keyId OCTET STRING SIZE(1..20),
 *     created INTEGER, csr OCTET STRING (a DER CertificationRequest) } */
cw_err cw_pending_encode(const cw_pending_t *p, uint8_t *out, size_t cap, size_t *len);
cw_err cw_pending_decode(cw_pending_t *p, const uint8_t *der, size_t len);

/* Reads set's pending record into buf and decodes it (p->csr points into buf).
 * CW_ERR_NO_PENDING when there is none. */
cw_err cw_pending_load(cw_p11_ctx *p11, const char *set, uint8_t *buf, size_t cap, cw_pending_t *p);

/* Writes set's pending record, replacing the one there is (a set has at most one): the new
 * record is created before the old one is removed. */
cw_err cw_pending_store(cw_p11_ctx *p11, const char *set, const cw_pending_t *p, uint8_t *scratch, size_t cap);

/* Removes set's pending record; CW_OK also when there was none. */
cw_err cw_pending_remove(cw_p11_ctx *p11, const char *set);

#endif /* CW_STORE_H */
