/*
 * cw_roles.h: what the appliance's own services ask certwiz, and what certwiz tells them.
 *
 * A role is what a service needs a certificate for ("EdgeExternal", "WebServicesInternal"); the
 * topology maps each role to a certificate set, whose key lives in the token. A service reads its
 * role (cw_role_get), opens its own session on the token with the role's pkcs11: URIs to use the
 * key, and listens for events (cw_roles_listen) to reload when the certificate changes.
 *
 * Everything here runs in certwiz's one thread: call from the main loop (or a listener), never
 * from another thread. Strings in results are copies; pointers in events are valid during the
 * callback only.
 */
#ifndef CW_ROLES_H
#define CW_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw/pki/cw_driver.h"
#include "cw_p11.h"

/* Longest pkcs11: URI of a role's key or certificate: the token label (32 bytes, each possibly
 * percent-encoded), the object label (a set name), the ID (20 bytes, percent-encoded), the type. */
#define CW_ROLE_URI_MAX (7u + 6u + 3u * 32u + 8u + 3u * CW_TOPO_NAME_MAX + 4u + 3u * CW_P11_KEY_ID_LEN + 13u)

typedef enum cw_role_state {
    CW_ROLE_NONE = 0,   /* no certificate, no request */
    CW_ROLE_PENDING,    /* the set's request waits for the CA's answer */
    CW_ROLE_ISSUED,     /* the set has a certificate, the role is not assigned to it */
    CW_ROLE_ASSIGNED,   /* the role uses a certificate of the set, valid now */
    CW_ROLE_EXPIRING,   /* ... past its CA profile's renewal threshold */
    CW_ROLE_EXPIRED,    /* ... past notAfter */
    CW_ROLE_TIME_UNKNOWN /* ... but the time is not trusted yet (cw_clock.h): not judged */
} cw_role_state;

typedef struct cw_role_info_t {
    char role[CW_TOPO_NAME_MAX + 1];
    char set[CW_TOPO_NAME_MAX + 1];
    cw_role_state state;
    /* the certificate the role uses (state ASSIGNED, EXPIRING, EXPIRED) */
    bool has_cert;
    uint8_t cert_id[CW_P11_KEY_ID_LEN];        /* CKA_ID of the certificate and of its key */
    size_t cert_id_len;
    int64_t not_before, not_after;             /* UTC seconds */
    char subject[CW_CERT_TEXT_MAX];
    char issuer[CW_CERT_TEXT_MAX];
    /* Changes with every new certificate of the role; 1 for a role that has one at boot, 0 for
     * none. Compare for equality: it starts again at every boot. */
    uint32_t generation;
    char key_uri[CW_ROLE_URI_MAX + 1];         /* pkcs11:token=...;object=<set>;id=...;type=private */
    char cert_uri[CW_ROLE_URI_MAX + 1];        /* ... type=cert */
} cw_role_info_t;

/* How many roles the loaded topology has (0 without one). */
size_t cw_role_count(void);

/* Role number i (0 .. cw_role_count() - 1), or the role named name. CW_ERR_NO_TOPOLOGY,
 * CW_ERR_UNKNOWN_ROLE, the token's error, or CW_ERR_BUSY while a job exchanges with a CA (its
 * buffers are the ones the role is read with): ask again after the next cw_poll. */
cw_err cw_role_at(size_t i, cw_role_info_t *out);
cw_err cw_role_get(const char *name, cw_role_info_t *out);

/* The certificate the role uses, DER into buf: CW_ERR_NO_CERTIFICATE when it has none,
 * CW_ERR_BUFFER_SMALL (*len says how much) when buf is short. */
cw_err cw_role_certificate(const char *name, uint8_t *buf, size_t cap, size_t *len);

/* ---- enrolment without the console ------------------------------------------------------------ */

/* The appliance's own way to do what an operator does at the console (docs/console.md): each needs
 * the token user's login (cw.h's login policy) and runs to its end before it returns; none may be
 * called while a job runs (CW_ERR_BUSY). */

/* topology load: der is a whole topology blob (cwctl topology compile's output). */
cw_err cw_roles_load_topology(const uint8_t *der, size_t len);

/* request <set> offline: a new key pair in the token and its PKCS#10 request (DER) into csr;
 * *csr_len its length. CW_ERR_EXISTS when the set has a pending request already. */
cw_err cw_roles_request_offline(const char *set, uint8_t *csr, size_t cap, size_t *csr_len);

/* import <set>: answer holds one or more DER blocks one after the other (certificates, PKCS#7
 * certs-only bundles). A root the profile neither pins nor trusts yet is refused with
 * CW_ERR_IMPORT_ROOT_UNCONFIRMED and its SHA-256 in root_sha256 (when not NULL): show it to
 * whoever decides, and call again with confirmed_root set to it to trust it. */
cw_err cw_roles_import(const char *set, const uint8_t *answer, size_t len, const uint8_t *confirmed_root,
                       uint8_t root_sha256[32]);

/* ---- events ------------------------------------------------------------------------------------ */

typedef enum cw_event_type {
    CW_EVENT_ASSIGNED = 1, /* the role got a certificate it did not have (first one, or assign) */
    CW_EVENT_RENEWED,      /* the role's certificate was replaced by a new one of its set */
    CW_EVENT_PENDING,      /* the role's set has a request the CA holds */
    CW_EVENT_FAILED,       /* a request for the role's set failed (err says why) */
    CW_EVENT_EXPIRING      /* the role's certificate passed an expiry alert threshold */
} cw_event_type;

typedef struct cw_event_t {
    cw_event_type type;
    const char *role;
    const char *set;
    uint32_t old_generation, new_generation; /* equal when the certificate did not change */
    cw_err err;                              /* FAILED: why */
} cw_event_t;

typedef void (*cw_event_fn)(const cw_event_t *ev, void *arg);

/* A listener: the caller declares the node (static or in a long-lived struct) and keeps it until
 * cw_roles_unlisten; certwiz links it, never copies or frees it (lwIP's netif_add_ext_callback
 * shape). Any number of listeners; each gets every event, in the order they were added. */
typedef struct cw_listener_t {
    cw_event_fn fn;
    void *arg;
    struct cw_listener_t *next;
} cw_listener_t;

void cw_roles_listen(cw_listener_t *node, cw_event_fn fn, void *arg);
void cw_roles_unlisten(cw_listener_t *node);

/* ---- each set's life (docs/lifecycle.md) ------------------------------------------------------ */

typedef enum cw_life_state {
    CW_LIFE_UNKNOWN = 0,    /* not read from the token yet (no login, no topology) */
    CW_LIFE_NONE,           /* no certificate and no request: `request` starts it */
    CW_LIFE_REQUESTED,      /* key made, request out (offline: waiting for import) */
    CW_LIFE_PENDING,        /* the CA holds the request (polled) */
    CW_LIFE_VALID,          /* assigned, before the renewal time */
    CW_LIFE_DUE,            /* past the renewal time, the renewal not started yet */
    CW_LIFE_RENEWING,       /* a renewal request is out (online: sent or to be sent again;
                               offline: the new CSR waits for import) */
    CW_LIFE_EXPIRED,        /* past notAfter, no renewal came */
    CW_LIFE_TIME_UNKNOWN    /* has a certificate, but the time is not trusted: nothing judged */
} cw_life_state;

typedef struct cw_life_info_t {
    cw_life_state state;
    bool online;             /* the set's profile enrols online */
    bool has_cert;
    int64_t not_after;
    int64_t renew_at;        /* UTC when the renewal starts (with the jitter); 0: none */
    int64_t next_at;         /* UTC of the next action (a try, a retry); 0: none */
    const char *next;        /* what it is: "renewal", "retry", "expiry alert", ... */
    unsigned fails;          /* failed tries in a row */
    cw_err last_err;         /* the last try's error (CW_OK: none) */
    bool stuck;              /* CW_LIFE_STUCK_AFTER failures in a row */
} cw_life_info_t;

/* The life of the set named set: its state, the next action and when, the last error, stuck.
 * CW_ERR_NO_TOPOLOGY, CW_ERR_UNKNOWN_SET. */
cw_err cw_set_life(const char *set, cw_life_info_t *out);

/* "valid", "renewing", ... */
const char *cw_life_state_name(cw_life_state s);

/* ---- what runs ------------------------------------------------------------------------------------ */


typedef struct cw_job_info_t {
    cw_job_kind kind;                   /* CW_JOB_NONE: nothing runs */
    bool background;                    /* started by certwiz, not by a command */
    const char *protocol;               /* "scep" */
    const char *step;                   /* the protocol's step, e.g. "GetCACaps", "PKIOperation",
                                           "waiting for the challenge", "waiting for the operator" */
    char set[CW_TOPO_NAME_MAX + 1];     /* the set (or "" for AUTH) */
    char profile[CW_TOPO_NAME_MAX + 1];
    uint32_t running_ms;                /* since it started */
} cw_job_info_t;

/* What the one job slot runs now. */
void cw_job_state(cw_job_info_t *out);

#endif /* CW_ROLES_H */
