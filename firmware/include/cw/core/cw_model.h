/*
 * cw_model.h: the role model: the topology in RAM, the role table, each set's certificate and
 * pending request, and the rules that change them (accept an answer, assign a role, prune what a
 * set no longer needs, finish at boot what a power cut interrupted). docs/store.md describes the
 * records it keeps in the token; docs/architecture.md where it stands.
 *
 * The model never prints. It answers with results the caller shows (the console is one caller,
 * the integrator API cw_roles.h another), and tells listeners of every change of a role through
 * events (cw_roles.h). It works on the token session of cw_token.h and on its workspace in part A
 * of the command scratch (cw_scratch.h), which each call below claims and releases: a caller that
 * holds part A itself gets CW_ERR_BUSY.
 */
#ifndef CW_MODEL_H
#define CW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/codec/cw_csr.h"
#include "cw/codec/cw_topology.h"
#include "cw/pki/cw_certs.h"
#include "cw/pki/cw_import.h"
#include "cw/pki/cw_store.h"
#include "cw/cw_roles.h"

/* The model's workspace (part A of the command scratch): one phase at a time. */
typedef union cw_model_ws_t {
    struct {
        cw_trust_t trust;                     /* a profile's CA certificates */
        /* One at a time: a record's CSR is read (its names copied into `asked`; the key's ID is in
         * the caller's cw_pending_t) before a certificate is read back or a role table made. */
        union {
            uint8_t record[CW_PENDING_RECORD_MAX]; /* a pending record; its CSR is a view into it */
            uint8_t cert[CW_CERT_DER_MAX];    /* one certificate read back from the token */
            cw_role_table_t roles_next;       /* a role table being made or checked */
        } one;
        struct {                              /* what a stored CSR asked for (accept) */
            char cn[CW_TOPO_CN_MAX + 1];
            cw_san_t san[CW_CSR_SAN_MAX];
            char dns[CW_CSR_SAN_MAX][CW_TOPO_DNS_NAME_MAX + 1];
            size_t nsan;
        } asked;
    } w;
    cw_topology candidate;                    /* a topology checked before it is stored */
} cw_model_ws_t;

/* ---- life -------------------------------------------------------------------------------------- */

/* Reads the topology and the role table from the token (if there is one) and rolls interrupted
 * imports forward. Call once the token is open (cw_token_init's opened hook). */
cw_err cw_model_boot(void);

/* After every successful login: the first after boot removes what a power cut left half-made
 * (cw_p11_sweep_unfinished); every one prunes each set (cw_model_prune). */
void cw_model_after_login(void);

typedef struct cw_model_status_t {
    bool loaded;                              /* a topology is loaded */
    bool locked;                              /* none is, and the records may be private: log in */
    char host[CW_TOPO_DNS_NAME_MAX + 1];
    size_t sets, roles, profiles, assigned;
    size_t swept;                             /* half-made objects removed at login since boot */
} cw_model_status_t;

void cw_model_status(cw_model_status_t *out);

/* ---- the topology ------------------------------------------------------------------------------ */

/* Changes with every topology load (at boot and by `topology load`): sets may have changed. */
uint32_t cw_model_epoch(void);

/* CW_OK when a topology is loaded; else CW_ERR_RECORDS_LOCKED when the token may keep the records
 * private and no login has read them yet (docs/store.md), else CW_ERR_NO_TOPOLOGY. */
cw_err cw_model_need_topology(void);

/* The loaded topology, or NULL. Valid until the next load. */
const cw_topology *cw_model_topology(void);

/* A topology text view as a NUL-terminated string (cut to cap - 1). */
void cw_model_view_str(cw_topo_view_t v, char *out, size_t cap);

/* The index of the set named name: CW_ERR_NO_TOPOLOGY, CW_ERR_UNKNOWN_SET. */
cw_err cw_model_find_set(const char *name, size_t *index);

/* The set's derived request (names, key type, profile...), into d. */
cw_err cw_model_derive(size_t set_index, cw_topology_derived *d);

/* The set's name (NUL-terminated) and its CA profile's name. */
void cw_model_set_name(size_t set_index, char *out, size_t cap);
void cw_model_profile_name(size_t profile_index, char *out, size_t cap);

/* Why a topology was refused (CW_ERR_TOPO_*, a set in another token, a key the token cannot make). */
typedef struct cw_model_load_t {
    bool refused;                             /* the blob itself was refused (a CW_ERR_TOPO_*) ... */
    char where[CW_TOPO_ERR_PATH_MAX];         /* ... at this field, "" for the whole blob */
    char set[CW_TOPO_NAME_MAX + 1];           /* CW_ERR_TOKEN_ELSEWHERE, CW_ERR_KEY_SIZE: the set ... */
    char token_uri[CW_TOPO_URL_MAX + 1];      /* ... and the token it names */
    cw_key_type key_type;                     /* CW_ERR_KEY_SIZE: the set's key ... */
    cw_p11_key_range_t range;                 /* ... and the sizes the token makes */
} cw_model_load_t;

/* Checks der (a whole topology blob) completely, checks that every set's tokenUri names the
 * board's token and that the token makes every set's key type (cw_model_key_check), then stores
 * it in the token and makes it the loaded one. Needs the login. On error the stored one stays and
 * r says where. */
cw_err cw_model_load_topology(const uint8_t *der, size_t len, cw_model_load_t *r);

/* ---- requests ------------------------------------------------------------------------------------- */

typedef struct cw_model_request_t {
    cw_p11_key key;                           /* the new key pair */
    uint32_t keygen_ms;                       /* how long the token took */
    size_t csr_len;                           /* the CSR, in the caller's buffer */
} cw_model_request_t;

/* request <set> offline: a new key pair in the token, the CSR (with the challenge when not NULL)
 * into csr, and the pending record, in that order; nothing is left of it on error. derived is the
 * set's request (cw_model_derive, in the caller's memory). The caller wipes the challenge and the
 * CSR buffer. CW_ERR_EXISTS when the set has a pending request. */
cw_err cw_model_request(const cw_topology_derived *derived, const char *challenge, size_t challenge_len, uint8_t *csr,
                        size_t cap, cw_model_request_t *out);

/* Does the token make the set's key type? CW_ERR_KEY_SIZE (range says the size and the token's
 * range) or CW_ERR_MECHANISM; *type is the set's key type. */
cw_err cw_model_key_check(size_t set_index, cw_key_type *type, cw_p11_key_range_t *range);

/* The set's pending record into buf (its CSR a view into buf): CW_ERR_NO_PENDING when none. */
cw_err cw_model_pending(const char *set, uint8_t *buf, size_t cap, cw_pending_t *p);

/* ---- answers ---------------------------------------------------------------------------------------- */

typedef struct cw_model_accepted_t {
    size_t set_index;
    size_t root_index;                        /* CW_ERR_IMPORT_ROOT_UNCONFIRMED: the root among certs */
    uint8_t root_sha256[32];
    bool checked;                             /* every check passed (storing may still fail) */
    cw_cert_summary_t leaf;                   /* what was stored (on CW_OK) */
} cw_model_accepted_t;

/* The CA's answer for set's pending request: checked (cw_import_check: key, end entity, names,
 * clock, key usage, EKU, chain, and a root the profile may trust: confirmed_root is the one the
 * operator accepted, or NULL), then the CA certificates on the path, the certificate, the roles
 * in one step (ASSIGNED or RENEWED per role), the pending record removed, what the set no longer
 * needs pruned. Nothing is stored on error; on CW_ERR_IMPORT_ROOT_UNCONFIRMED out says which
 * root to show the operator. */
cw_err cw_model_accept(const char *set, const cw_cert_list_t *certs, const uint8_t *confirmed_root,
                       cw_model_accepted_t *out);

/* A CA's refusal (or an answer given up): the set's pending request and its key go; FAILED is
 * told for each of the set's roles, with why. */
void cw_model_refused(const char *set, cw_err why);

/* The set's request was sent and the CA holds it (PENDING for each role), or sending failed and
 * it waits to be sent again (FAILED for each role, with why; the request stays). */
void cw_model_request_waits(const char *set, cw_err why);

/* Removes the set's certificates and keys that nothing uses any more (docs/store.md). */
void cw_model_prune(const char *set);

/* ---- roles ----------------------------------------------------------------------------------------- */

/* Points role at the set's newest valid certificate (one atomic write of the role table). */
cw_err cw_model_assign(const char *role, const char *set, cw_cert_summary_t *out);

/* The set has a certificate valid at now (UTC seconds; 0: never). */
bool cw_model_set_has_valid_cert(const char *set, int64_t now);

/* The certificate the set's roles use: its CKA_ID. CW_ERR_NO_CERTIFICATE when no role uses one. */
cw_err cw_model_set_cert_id(const char *set, uint8_t *id, size_t *id_len);

/* What the token says about a set: the certificate its roles use and its pending request. */
typedef struct cw_set_facts_t {
    bool has_cert;                            /* a role uses a certificate of the set */
    int64_t not_before, not_after;
    uint8_t cert_id[CW_P11_KEY_ID_LEN];
    size_t cert_id_len;
    bool pending;                             /* the set has a pending request ... */
    bool pending_online;                      /* ... sent (or to be sent) over SCEP */
    bool pending_held;                        /* ... held by the CA */
} cw_set_facts_t;

/* The set's facts, read from the token (a few calls): CW_ERR_BUSY while part A is taken. */
cw_err cw_model_set_facts(size_t set_index, cw_set_facts_t *out);

/* Tells the listeners of every role of the set about type (EXPIRING: an expiry alert). */
void cw_model_tell_set(const char *set, cw_event_type type, cw_err err);

/* Everything about role number i of the topology (0 .. cw_topology_role_count - 1). */
cw_err cw_model_role(size_t i, cw_role_info_t *out);

/* The certificate of role number i, DER into buf. */
cw_err cw_model_role_cert(size_t i, uint8_t *buf, size_t cap, size_t *len);

#endif /* CW_MODEL_H */
