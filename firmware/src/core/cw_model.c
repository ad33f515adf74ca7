/*
 * cw_model.c: the role model (cw_model.h).
 *
 * Objects in the token, as other PKCS#11 tools see them (docs/store.md):
 *   key pair of a set       CKA_LABEL = set name, CKA_ID = SHA-1 of the public key
 *   certificate of a set    CKA_LABEL = set name, same CKA_ID, category 1 (token user)
 *   CA certificate          CKA_LABEL = "ca:" + CA profile name, category 2 (authority)
 *   records                 cw_store.h (topology, roles, pending.<set>)
 *
 * What must outlive a command lives here, in RAM: the topology (its DER and the decoded views),
 * the role table, each role's generation. Everything a call needs only while it runs is in the
 * model's workspace, part A of the command scratch, claimed on entry and released on return.
 */
#include "cw/core/cw_model.h"

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_clock.h"
#include "cw/base/cw_fault.h"
#include "cw/base/cw_opts.h"
#include "cw/base/cw_time.h"
#include "cw/base/cw_wipe.h"
#include "cw/core/cw_events.h"
#include "cw/core/cw_scratch.h"
#include "cw/core/cw_token.h"
#include "hal_clock.h"
#include "mbedtls/asn1.h"
#include "mbedtls/x509.h"

#if CW_CSR_SAN_MAX < CW_TOPO_DERIVED_SANS_MAX
#error "CW_CSR_SAN_MAX must hold every SAN a topology set can derive (CW_TOPO_DERIVED_SANS_MAX)"
#endif
#if CW_STORE_NAME_MAX < CW_TOPO_NAME_MAX || CW_STORE_ROLES_MAX < CW_TOPO_ROLES_MAX
#error "the role table must hold every role and name of a topology (CW_STORE_* >= CW_TOPO_*)"
#endif

/* The encoded role table: each assignment's two names and ID with their tags and lengths. */
#define ROLES_DER_MAX (CW_STORE_ROLES_MAX * (2u * CW_STORE_NAME_MAX + 32u) + 8u)

/* ---- state --------------------------------------------------------------------------------------- */

static struct {
    uint8_t der[CW_TOPO_DER_MAX];
    size_t len;
    cw_topology t;
    bool loaded;
    uint32_t seq;
} topo;

static struct {
    cw_role_table_t t;
    uint32_t seq;
    uint32_t generation[CW_TOPO_ROLES_MAX]; /* per role of the topology, by index */
} roles;

/* Objects a power cut left half-made, removed at the first login after boot (cw_p11.h says why
 * only then). */
static struct {
    bool done;
    size_t removed;
} sweep;

/* ---- the workspace ------------------------------------------------------------------------------ */

/* NULL (the caller answers CW_ERR_BUSY) while a job exchanges with a CA in part A: the model is
 * also called from the integrator's API, between two steps of a background job. */
/* Counts topology loads (the boot's and each `topology load`): cw_model_epoch. */
static uint32_t topo_epoch;

uint32_t cw_model_epoch(void)
{
    return topo_epoch;
}

static cw_model_ws_t *claim(void)
{
    return cw_scratch_try_claim(CW_SCRATCH_A, CW_SCRATCH_MODEL);
}

static void release(void)
{
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_MODEL);
}

/* ---- small helpers ------------------------------------------------------------------------------ */

/* The records may be private and unread: none was seen before the login, and the token refuses
 * public ones (or a probe says it may). Cleared by the boot after the login. */
static bool records_locked;

cw_err cw_model_need_topology(void)
{
    if (topo.loaded) {
        return CW_OK;
    }
    if (cw_token_session() == NULL) {
        return cw_token_error(); /* no token: its reason, not "no topology" */
    }
    return records_locked ? CW_ERR_RECORDS_LOCKED : CW_ERR_NO_TOPOLOGY;
}

const cw_topology *cw_model_topology(void)
{
    return topo.loaded ? &topo.t : NULL;
}

void cw_model_view_str(cw_topo_view_t v, char *out, size_t cap)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    memcpy(out, cw_topo_chars(&topo.t, v), n);
    out[n] = '\0';
}

cw_err cw_model_find_set(const char *name, size_t *index)
{
    cw_err e = cw_model_need_topology();
    if (e == CW_OK && cw_topology_find_set(&topo.t, name, strlen(name), index) != CW_OK) {
        e = CW_ERR_UNKNOWN_SET;
    }
    return e;
}

cw_err cw_model_derive(size_t set_index, cw_topology_derived *d)
{
    cw_err e = cw_model_need_topology();
    return e != CW_OK ? e : cw_topology_derive(&topo.t, set_index, d);
}

CW_NOINLINE void cw_model_set_name(size_t set_index, char *out, size_t cap)
{
    cw_model_view_str(topo.t.sets[set_index].name, out, cap);
}

CW_NOINLINE void cw_model_profile_name(size_t profile_index, char *out, size_t cap)
{
    cw_model_view_str(topo.t.profiles[profile_index].name, out, cap);
}

CW_NOINLINE static void role_name(size_t r, char *out, size_t cap)
{
    cw_model_view_str(topo.t.roles[r].name, out, cap);
}

/* The pin of the set's CA profile, or NULL. */
static const uint8_t *profile_pin(size_t profile_index)
{
    const cw_topo_profile_t *p = &topo.t.profiles[profile_index];
    return p->fingerprint.len == 32 ? cw_topo_bytes(&topo.t, p->fingerprint) : NULL;
}

static bool id_in_roles(const uint8_t *id, size_t id_len)
{
    for (size_t i = 0; i < roles.t.n; i++) {
        if (roles.t.a[i].cert_id_len == id_len && memcmp(roles.t.a[i].cert_id, id, id_len) == 0) {
            return true;
        }
    }
    return false;
}

static bool set_in_roles(const char *set)
{
    for (size_t i = 0; i < roles.t.n; i++) {
        if (strcmp(roles.t.a[i].set, set) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- events ------------------------------------------------------------------------------------- */

/* Tells the listeners about one role. */
static void tell(cw_event_type type, size_t role, const char *set, uint32_t old_gen, cw_err err)
{
    char name[CW_TOPO_NAME_MAX + 1];
    cw_event_t ev;

    role_name(role, name, sizeof name);
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.role = name;
    ev.set = set;
    ev.old_generation = old_gen;
    ev.new_generation = roles.generation[role];
    ev.err = err;
    cw_events_emit(&ev);
}

/* Tells the listeners about every role of a set. */
static void tell_set(cw_event_type type, const char *set, cw_err err)
{
    size_t si;
    if (cw_model_find_set(set, &si) != CW_OK) {
        return;
    }
    const cw_topo_set_t *s = &topo.t.sets[si];
    for (size_t r = s->first_role; r < (size_t)s->first_role + s->role_count; r++) {
        tell(type, r, set, roles.generation[r], err);
    }
}

void cw_model_tell_set(const char *set, cw_event_type type, cw_err err)
{
    tell_set(type, set, err);
}

/* ---- role table ------------------------------------------------------------------------------ */

static cw_err roles_valid(const uint8_t *v, size_t len, void *arg)
{
    cw_role_table_t *t = arg;
    return cw_role_table_decode(t, v, len);
}

/* Writes the role table t as the new generation (atomic, cw_store.h), adopts it, and tells the
 * listeners of each role whose certificate changed. */
static cw_err roles_commit(const cw_role_table_t *t)
{
    size_t len = 0;
    uint8_t der[ROLES_DER_MAX];
    cw_role_table_t before = roles.t;
    cw_err e = cw_role_table_encode(t, der, sizeof der, &len);

    if (e == CW_OK) {
        e = cw_store_seq_write(cw_token_session(), "roles", der, len, &roles.seq);
    }
    if (e != CW_OK) {
        return e;
    }
    roles.t = *t;
    for (size_t r = 0; r < cw_topology_role_count(&topo.t); r++) {
        char name[CW_TOPO_NAME_MAX + 1];
        const cw_role_assignment_t *was;
        const cw_role_assignment_t *now;
        role_name(r, name, sizeof name);
        was = cw_role_table_find(&before, name);
        now = cw_role_table_find(&roles.t, name);
        if (now == NULL || (was != NULL && was->cert_id_len == now->cert_id_len &&
                            memcmp(was->cert_id, now->cert_id, now->cert_id_len) == 0 &&
                            strcmp(was->set, now->set) == 0)) {
            continue;
        }
        uint32_t old_gen = roles.generation[r];
        roles.generation[r]++;
        tell(was != NULL && strcmp(was->set, now->set) == 0 ? CW_EVENT_RENEWED : CW_EVENT_ASSIGNED, r, now->set,
             old_gen, CW_OK);
    }
    return CW_OK;
}

/* Points every role of set (by the topology) at certificate id, in one new role table. */
static cw_err assign_set_roles(cw_model_ws_t *ws, size_t set_index, const char *set, const uint8_t *id, size_t id_len)
{
    const cw_topo_set_t *s = &topo.t.sets[set_index];
    ws->w.one.roles_next = roles.t;
    for (size_t r = s->first_role; r < (size_t)s->first_role + s->role_count; r++) {
        char role[CW_TOPO_NAME_MAX + 1];
        role_name(r, role, sizeof role);
        cw_err e = cw_role_table_assign(&ws->w.one.roles_next, role, set, id, id_len);
        if (e != CW_OK) {
            return e;
        }
    }
    return roles_commit(&ws->w.one.roles_next);
}

/* ---- pruning: what a set no longer needs -------------------------------------------------------- */

/* Removes the set's certificates and key pairs that no role uses, that are not the pending
 * request's, and that are not the set's newest certificate. Keys need the login; without it only
 * certificates are looked at. */
static void prune(cw_model_ws_t *ws, const char *set)
{
    cw_p11_ctx *p11 = cw_token_session();
    CK_OBJECT_HANDLE h[CW_CERTS_PER_LABEL_MAX];
    cw_set_cert_t newest;
    cw_pending_t pend;
    bool pending = cw_pending_load(p11, set, ws->w.one.record, sizeof ws->w.one.record, &pend) == CW_OK;
    bool used = set_in_roles(set);
    size_t n = 0;

    (void)cw_certs_of_set(p11, set, NULL, 0, ws->w.one.cert, sizeof ws->w.one.cert, &newest);
    if (cw_certs_find(p11, set, CW_P11_CERT_CATEGORY_USER, h, CW_CERTS_PER_LABEL_MAX, &n) == CW_OK) {
        for (size_t i = 0; i < n; i++) {
            uint8_t id[CW_P11_KEY_ID_LEN];
            size_t id_len = 0;
            if (cw_p11_read_attr(p11, h[i], CKA_ID, id, sizeof id, &id_len) != CW_OK) {
                continue;
            }
            /* the newest is kept for a set no role uses yet ("issued"); once roles use one of
             * the set's certificates, the others go (a renewal's old one, even when both have
             * the same notBefore second) */
            bool keep = id_in_roles(id, id_len) ||
                        (!used && newest.found && newest.id_len == id_len && memcmp(newest.id, id, id_len) == 0);
            if (!keep) {
                (void)cw_p11_destroy(p11, h[i]);
            }
        }
    }
    if (!cw_p11_logged_in(p11)) {
        return;
    }
    /* Each half on its own: a cut between generating a pair and naming it (CKA_ID), or between
     * removing one half and the other, leaves a half that has no partner or no ID. */
    for (size_t half = 0; half < 2; half++) {
        cw_p11_match_t m;
        memset(&m, 0, sizeof m);
        m.has_class = true;
        m.cls = half == 0 ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
        m.label = set;
        n = 0;
        if (cw_p11_find(p11, &m, h, CW_CERTS_PER_LABEL_MAX, &n) != CW_OK) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t id[CW_P11_KEY_ID_LEN];
            size_t id_len = 0;
            cw_set_cert_t c;
            if (cw_p11_read_attr(p11, h[i], CKA_ID, id, sizeof id, &id_len) != CW_OK) {
                id_len = 0; /* no ID certwiz could have given it: never named, so never used */
            }
            if (id_len > 0 && pending && pend.key_id_len == id_len && memcmp(pend.key_id, id, id_len) == 0) {
                continue; /* the pending request's key */
            }
            if (id_len > 0 && cw_certs_of_set(p11, set, id, id_len, ws->w.one.cert, sizeof ws->w.one.cert, &c) == CW_OK &&
                c.found) {
                continue; /* its certificate is kept, so is the key */
            }
            (void)cw_p11_destroy(p11, h[i]);
        }
    }
}

void cw_model_prune(const char *set)
{
    cw_model_ws_t *ws = claim();
    if (ws != NULL) {
        prune(ws, set);
        release();
    }
}

void cw_model_after_login(void)
{
    cw_model_ws_t *ws;

    if (CW_PRIVATE_RECORDS && records_locked) {
        (void)cw_model_boot(); /* the private records, before anything is written */
    }
    if (!sweep.done) {
        size_t removed = 0;
        if (cw_p11_sweep_unfinished(cw_token_session(), &removed) == CW_OK) {
            sweep.done = true;
        }
        sweep.removed += removed;
    }
    if (!topo.loaded || (ws = claim()) == NULL) {
        return;
    }
    for (size_t i = 0; i < cw_topology_set_count(&topo.t); i++) {
        char set[CW_TOPO_NAME_MAX + 1];
        cw_model_set_name(i, set, sizeof set);
        prune(ws, set);
    }
    release();
}

/* ---- boot --------------------------------------------------------------------------------------- */

static cw_err topology_valid(const uint8_t *v, size_t len, void *arg)
{
    return cw_topology_decode(arg, v, len);
}

/* A certificate stored for a pending request whose roles were not switched (a cut during
 * import): finish the import. */
static void roll_forward(cw_model_ws_t *ws)
{
    cw_p11_ctx *p11 = cw_token_session();
    for (size_t i = 0; i < cw_topology_set_count(&topo.t); i++) {
        char set[CW_TOPO_NAME_MAX + 1];
        cw_pending_t pend;
        cw_set_cert_t c;
        cw_model_set_name(i, set, sizeof set);
        if (cw_pending_load(p11, set, ws->w.one.record, sizeof ws->w.one.record, &pend) != CW_OK) {
            continue;
        }
        if (cw_certs_of_set(p11, set, pend.key_id, pend.key_id_len, ws->w.one.cert, sizeof ws->w.one.cert, &c) != CW_OK ||
            !c.found) {
            continue; /* still waiting for the CA */
        }
        if (assign_set_roles(ws, i, set, c.id, c.id_len) == CW_OK) {
            (void)cw_pending_remove(p11, set);
            prune(ws, set);
        }
    }
}

cw_err cw_model_boot(void)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_model_ws_t *ws;
    cw_err e;

    memset(&topo, 0, sizeof topo);
    memset(&roles, 0, sizeof roles);
    memset(&sweep, 0, sizeof sweep);
    if (p11 == NULL) {
        return cw_token_error();
    }
    ws = claim();
    if (ws == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_store_seq_read(p11, "topology", topology_valid, &ws->candidate, topo.der, sizeof topo.der, &topo.len,
                          &topo.seq);
    if (e == CW_OK && cw_topology_decode(&topo.t, topo.der, topo.len) == CW_OK) {
        topo.loaded = true;
    }
    topo_epoch++;
    {
        uint8_t der[ROLES_DER_MAX];
        size_t len = 0;
        if (cw_store_seq_read(p11, "roles", roles_valid, &ws->w.one.roles_next, der, sizeof der, &len, &roles.seq) ==
            CW_OK) {
            (void)cw_role_table_decode(&roles.t, der, len);
        }
    }
    /* Nothing seen before a login: on a token that refuses public records (known from a refused
     * create, or a logged-out session that may not make even a public session object) they may be
     * private and unseen; nothing is written until the boot after the login has read them. */
    records_locked = false;
    if (e == CW_ERR_NOT_FOUND && !cw_p11_logged_in(p11)) {
        bool allowed = false;
        records_locked = cw_store_records_private() || cw_p11_public_data_allowed(p11, &allowed) != CW_OK || !allowed;
    }
    if (topo.loaded) {
        /* every role that has a certificate starts at generation 1 */
        for (size_t r = 0; r < cw_topology_role_count(&topo.t); r++) {
            char name[CW_TOPO_NAME_MAX + 1];
            role_name(r, name, sizeof name);
            roles.generation[r] = cw_role_table_find(&roles.t, name) != NULL ? 1u : 0u;
        }
        roll_forward(ws);
    }
    release();
    return e;
}

void cw_model_status(cw_model_status_t *out)
{
    memset(out, 0, sizeof *out);
    out->swept = sweep.removed;
    out->loaded = topo.loaded;
    out->locked = records_locked;
    if (!topo.loaded) {
        return;
    }
    cw_model_view_str(topo.t.host, out->host, sizeof out->host);
    out->sets = cw_topology_set_count(&topo.t);
    out->roles = cw_topology_role_count(&topo.t);
    out->profiles = cw_topology_profile_count(&topo.t);
    out->assigned = roles.t.n;
}

/* ---- topology load ------------------------------------------------------------------------------ */

/* The name of set i of t into r->set (why a topology was refused). */
static void refused_set(const cw_topology *t, size_t i, cw_model_load_t *r)
{
    size_t sn = t->sets[i].name.len < sizeof r->set - 1 ? t->sets[i].name.len : sizeof r->set - 1;
    memcpy(r->set, cw_topo_chars(t, t->sets[i].name), sn);
    r->set[sn] = '\0';
}

/* Every set's tokenUri must name the board's token: keys, certificates and records of all sets
 * live there (docs/decisions.md 23). */
static cw_err check_token_uris(const cw_topology *t, cw_model_load_t *r)
{
    for (size_t i = 0; i < cw_topology_set_count(t); i++) {
        const cw_topo_view_t v = t->sets[i].token_uri;
        cw_p11_uri_t uri;
        bool same = false;
        cw_err e;
        if (v.len == 0) {
            continue;
        }
        e = cw_p11_uri_parse(cw_topo_chars(t, v), v.len, &uri);
        if (e == CW_OK) {
            e = cw_p11_is_this_token(cw_token_session(), &uri, &same);
        }
        if (e == CW_OK && !same) {
            size_t n = v.len < sizeof r->token_uri - 1 ? v.len : sizeof r->token_uri - 1;
            refused_set(t, i, r);
            memcpy(r->token_uri, cw_topo_chars(t, v), n);
            r->token_uri[n] = '\0';
            e = CW_ERR_TOKEN_ELSEWHERE;
        }
        if (e != CW_OK) {
            return e;
        }
    }
    return CW_OK;
}

/* The set's key type in t, and whether the token makes it (cw_p11_key_size_check). */
static cw_err key_fits(const cw_topology *t, size_t i, cw_key_type *type, cw_p11_key_range_t *range)
{
    cw_topo_policy_t p;
    cw_err e = cw_topology_policy(t, i, &p);
    *type = p.key_type;
    return e != CW_OK ? e : cw_p11_key_size_check(cw_token_session(), p.key_type, range);
}

cw_err cw_model_key_check(size_t set_index, cw_key_type *type, cw_p11_key_range_t *range)
{
    cw_err e = cw_model_need_topology();
    return e != CW_OK ? e : key_fits(&topo.t, set_index, type, range);
}

/* Every set's key type must be one the token makes: refused at load, not at the first request. */
static cw_err check_key_types(const cw_topology *t, cw_model_load_t *r)
{
    cw_err e = CW_OK;
    for (size_t i = 0; e == CW_OK && i < cw_topology_set_count(t); i++) {
        e = key_fits(t, i, &r->key_type, &r->range);
        if (e != CW_OK) {
            refused_set(t, i, r);
        }
    }
    return e;
}

CW_NOINLINE cw_err cw_model_load_topology(const uint8_t *der, size_t len, cw_model_load_t *r)
{
    cw_model_ws_t *ws;
    cw_err e;

    memset(r, 0, sizeof *r);
    if (len > sizeof topo.der) {
        return CW_ERR_TOO_LARGE;
    }
    ws = claim();
    if (ws == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_topology_decode(&ws->candidate, der, len);
    if (e != CW_OK) {
        r->refused = true;
        (void)snprintf(r->where, sizeof r->where, "%s", cw_topology_error_path(&ws->candidate));
    }
    if (e == CW_OK) {
        e = cw_token_need_login();
    }
    if (e == CW_OK && records_locked) {
        e = CW_ERR_RECORDS_LOCKED; /* the stored records are unread: never a second topology.1 */
    }
    if (e == CW_OK) {
        e = check_token_uris(&ws->candidate, r);
    }
    if (e == CW_OK) {
        e = check_key_types(&ws->candidate, r);
    }
    release();
    if (e == CW_OK) {
        e = cw_store_seq_write(cw_token_session(), "topology", der, len, &topo.seq);
    }
    if (e != CW_OK) {
        return e;
    }
    memcpy(topo.der, der, len);
    topo.len = len;
    topo.loaded = cw_topology_decode(&topo.t, topo.der, topo.len) == CW_OK;
    topo_epoch++;
    return topo.loaded ? CW_OK : CW_ERR_INTERNAL;
}

/* ---- requests ---------------------------------------------------------------------------------- */

/* The topology's EKU bits as the import checks spell them. */
static unsigned eku_bits(unsigned topo_eku)
{
    return ((topo_eku & CW_TOPO_EKU_SERVER_AUTH) ? CW_EKU_SERVER_AUTH : 0u) |
           ((topo_eku & CW_TOPO_EKU_CLIENT_AUTH) ? CW_EKU_CLIENT_AUTH : 0u);
}

cw_err cw_model_pending(const char *set, uint8_t *buf, size_t cap, cw_pending_t *p)
{
    cw_p11_ctx *p11 = cw_token_session();
    return p11 == NULL ? cw_token_error() : cw_pending_load(p11, set, buf, cap, p);
}

cw_err cw_model_request(const cw_topology_derived *derived, const char *challenge, size_t challenge_len, uint8_t *csr,
                        size_t cap, cw_model_request_t *out)
{
    cw_p11_ctx *p11 = cw_token_session();
    char set[CW_TOPO_NAME_MAX + 1];
    cw_model_ws_t *ws;
    cw_csr_req_t r;
    cw_pending_t pend;
    uint32_t t0;
    cw_err e = cw_token_need_login();

    memset(out, 0, sizeof *out);
    if (e == CW_OK) {
        e = cw_model_need_topology();
    }
    if (e != CW_OK) {
        return e;
    }
    if ((ws = claim()) == NULL) {
        return CW_ERR_BUSY;
    }
    cw_model_set_name(derived->set, set, sizeof set);
    if (cw_pending_load(p11, set, ws->w.one.record, sizeof ws->w.one.record, &pend) == CW_OK) {
        release();
        return CW_ERR_EXISTS; /* never a second key for the same pending request */
    }
    cw_csr_request_from(derived, &r);
    r.challenge = challenge;
    r.challenge_len = challenge_len;
    t0 = hal_clock_ms();
    e = cw_p11_keygen(p11, derived->key_type, set, derived->protocol == CW_TOPO_SCEP, &out->key);
    out->keygen_ms = hal_clock_ms() - t0;
    if (e == CW_OK) {
        e = cw_csr_encode(p11, &out->key, &r, csr, cap, &out->csr_len);
        if (e == CW_OK) {
            memset(&pend, 0, sizeof pend);
            memcpy(pend.key_id, out->key.id, out->key.id_len);
            pend.key_id_len = out->key.id_len;
            pend.created = cw_clock_utc();
            pend.csr = csr;
            pend.csr_len = out->csr_len;
            e = cw_pending_store(p11, set, &pend, ws->w.one.record, sizeof ws->w.one.record);
        }
        if (e != CW_OK) {
            /* no pending record: the key would be abandoned; remove it now */
            (void)cw_p11_key_destroy(p11, &out->key);
        }
    }
    cw_wipe(&r, sizeof r);
    release();
    if (e == CW_OK) {
        tell_set(CW_EVENT_PENDING, set, CW_OK);
    }
    return e;
}

/* ---- accept ----------------------------------------------------------------------------------- */

/* What the stored CSR asked for: its CN and SANs, into ws->w.asked. */
static cw_err read_csr_names(cw_model_ws_t *ws, const uint8_t *csr_der, size_t len)
{
    cw_csr_parts_t parts;
    const uint8_t *v;
    size_t n;
    uint8_t tag;
    size_t pos = 0;
    cw_err e;

    memset(&ws->w.asked, 0, sizeof ws->w.asked);
    if (cw_csr_parts(csr_der, len, &parts) != CW_OK) {
        return CW_ERR_MALFORMED;
    }
    e = cw_csr_cn(&parts, &v, &n);
    if (e == CW_OK && n <= CW_TOPO_CN_MAX) {
        memcpy(ws->w.asked.cn, v, n);
        ws->w.asked.cn[n] = '\0';
    } else if (e == CW_ERR_MALFORMED) {
        return e;
    }
    while ((e = cw_csr_next_san(&parts, &pos, &tag, &v, &n)) == CW_OK) {
        cw_san_t *out = &ws->w.asked.san[ws->w.asked.nsan];
        if (ws->w.asked.nsan == CW_CSR_SAN_MAX) {
            return CW_ERR_TOO_LARGE;
        }
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME) && n <= CW_TOPO_DNS_NAME_MAX) {
            memcpy(ws->w.asked.dns[ws->w.asked.nsan], v, n);
            ws->w.asked.dns[ws->w.asked.nsan][n] = '\0';
            out->kind = CW_SAN_DNS;
            out->dns = ws->w.asked.dns[ws->w.asked.nsan];
            ws->w.asked.nsan++;
        } else if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) && (n == 4 || n == 16)) {
            out->kind = CW_SAN_IP;
            memcpy(out->ip, v, n);
            out->ip_len = (uint8_t)n;
            ws->w.asked.nsan++;
        }
    }
    return e == CW_ERR_NOT_FOUND ? CW_OK : e;
}

/* Stores the CA certificates on the answer's path under the profile, skipping those stored
 * already (same DER). */
static cw_err store_cas(cw_model_ws_t *ws, const cw_cert_list_t *certs, const cw_import_result_t *res,
                        const char *profile)
{
    for (size_t i = 0; i < certs->n; i++) {
        const cw_der_t *c = &certs->cert[i];
        bool known = false;
        if (!res->store_as_ca[i]) {
            continue;
        }
        for (size_t j = 0; j < ws->w.trust.list.n; j++) {
            const cw_der_t *t = &ws->w.trust.list.cert[j];
            known = known || (t->len == c->len && memcmp(t->p, c->p, c->len) == 0);
        }
        if (!known) {
            cw_err e = cw_trust_add(cw_token_session(), profile, c);
            if (e != CW_OK) {
                return e;
            }
        }
    }
    return CW_OK;
}

static cw_err accept(cw_model_ws_t *ws, const char *set, const cw_cert_list_t *certs, const uint8_t *confirmed_root,
                     cw_model_accepted_t *out)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_pending_t pend;
    cw_p11_key key;
    uint8_t spki[CW_P11_SPKI_MAX];
    size_t spki_len = 0;
    cw_import_expect_t x;
    cw_import_result_t res;
    char profile[CW_TOPO_NAME_MAX + 1];
    cw_err e;

    const cw_topo_set_t *st;
    e = cw_token_need_login();
    if (e == CW_OK) {
        e = cw_model_find_set(set, &out->set_index);
    }
    if (e != CW_OK) {
        return e;
    }
    st = &topo.t.sets[out->set_index];
    e = cw_pending_load(p11, set, ws->w.one.record, sizeof ws->w.one.record, &pend);
    if (e == CW_OK) {
        e = read_csr_names(ws, pend.csr, pend.csr_len);
    }
    if (e == CW_OK) {
        e = cw_p11_key_find_by_id(p11, pend.key_id, pend.key_id_len, &key);
    }
    if (e == CW_OK) {
        e = cw_p11_pubkey_spki(p11, &key, spki, sizeof spki, &spki_len);
    }
    cw_model_profile_name(st->profile, profile, sizeof profile);
    if (e == CW_OK) {
        e = cw_trust_load(p11, profile, &ws->w.trust);
    }
    if (e != CW_OK) {
        return e;
    }
    memset(&x, 0, sizeof x);
    x.spki = spki;
    x.spki_len = spki_len;
    x.cn = ws->w.asked.cn;
    x.san = ws->w.asked.san;
    x.nsan = ws->w.asked.nsan;
    x.eku = eku_bits(st->eku);
    x.now = cw_clock_utc();
    x.pin = profile_pin(st->profile);
    x.trusted = &ws->w.trust.list;
    x.confirmed_root = confirmed_root;
    e = cw_import_check(certs, &x, &res);
    out->root_index = res.root_index;
    memcpy(out->root_sha256, res.root_sha256, sizeof out->root_sha256);
    if (e != CW_OK) {
        return e; /* nothing stored */
    }
    out->checked = true;

    /* Store: CA certificates, the set's certificate, then the roles in one step. */
    e = store_cas(ws, certs, &res, profile);
    cw_fault_point("import:cas-stored");
    if (e == CW_OK) {
        e = cw_certs_store(p11, set, &certs->cert[res.leaf], pend.key_id, pend.key_id_len);
    }
    if (e != CW_OK) {
        return e;
    }
    cw_fault_point("import:cert-stored");
    e = assign_set_roles(ws, out->set_index, set, pend.key_id, pend.key_id_len);
    if (e != CW_OK) {
        return e; /* the next boot rolls the import forward */
    }
    cw_fault_point("import:assigned");
    (void)cw_pending_remove(p11, set);
    (void)cw_import_summary(&certs->cert[res.leaf], &out->leaf);
    prune(ws, set);
    return CW_OK;
}

cw_err cw_model_accept(const char *set, const cw_cert_list_t *certs, const uint8_t *confirmed_root,
                       cw_model_accepted_t *out)
{
    cw_model_ws_t *ws;
    cw_err e;

    memset(out, 0, sizeof *out);
    out->root_index = SIZE_MAX;
    if ((ws = claim()) == NULL) {
        return CW_ERR_BUSY;
    }
    e = accept(ws, set, certs, confirmed_root, out);
    release();
    return e;
}

void cw_model_refused(const char *set, cw_err why)
{
    (void)cw_pending_remove(cw_token_session(), set);
    cw_model_prune(set);
    tell_set(CW_EVENT_FAILED, set, why);
}

void cw_model_request_waits(const char *set, cw_err why)
{
    tell_set(why == CW_ERR_SCEP_PENDING ? CW_EVENT_PENDING : CW_EVENT_FAILED, set, why);
}

/* ---- roles ---------------------------------------------------------------------------------------- */

bool cw_model_set_has_valid_cert(const char *set, int64_t now)
{
    cw_model_ws_t *ws = claim();
    cw_set_cert_t c;
    bool valid;

    if (ws == NULL) {
        return false;
    }
    valid = cw_certs_of_set(cw_token_session(), set, NULL, 0, ws->w.one.cert, sizeof ws->w.one.cert, &c) == CW_OK &&
            c.found && now > 0 && now >= c.sum.not_before && now <= c.sum.not_after;
    release();
    return valid;
}

cw_err cw_model_set_cert_id(const char *set, uint8_t *id, size_t *id_len)
{
    for (size_t i = 0; topo.loaded && i < roles.t.n; i++) {
        if (strcmp(roles.t.a[i].set, set) == 0) {
            memcpy(id, roles.t.a[i].cert_id, roles.t.a[i].cert_id_len);
            *id_len = roles.t.a[i].cert_id_len;
            return CW_OK;
        }
    }
    return CW_ERR_NO_CERTIFICATE;
}

cw_err cw_model_assign(const char *role, const char *set, cw_cert_summary_t *out)
{
    size_t set_index;
    size_t role_set;
    cw_set_cert_t c;
    cw_model_ws_t *ws;
    int64_t now = cw_clock_utc();
    cw_err e = cw_token_need_login();

    if (e == CW_OK) {
        e = cw_model_find_set(set, &set_index);
    }
    if (e == CW_OK && cw_topology_set_for_role(&topo.t, role, strlen(role), &role_set) != CW_OK) {
        e = CW_ERR_UNKNOWN_ROLE;
    }
    if (e != CW_OK) {
        return e;
    }
    if ((ws = claim()) == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_certs_of_set(cw_token_session(), set, NULL, 0, ws->w.one.cert, sizeof ws->w.one.cert, &c);
    if (e == CW_OK && (!c.found || now <= 0 || now < c.sum.not_before || now > c.sum.not_after)) {
        e = CW_ERR_NO_CERTIFICATE;
    }
    if (e == CW_OK) {
        ws->w.one.roles_next = roles.t;
        e = cw_role_table_assign(&ws->w.one.roles_next, role, set, c.id, c.id_len);
    }
    if (e == CW_OK) {
        e = roles_commit(&ws->w.one.roles_next);
    }
    if (e == CW_OK) {
        *out = c.sum;
    }
    release();
    return e;
}

cw_err cw_model_set_facts(size_t set_index, cw_set_facts_t *out)
{
    cw_p11_ctx *p11 = cw_token_session();
    char set[CW_TOPO_NAME_MAX + 1];
    cw_model_ws_t *ws;
    cw_set_cert_t c;
    cw_pending_t pend;
    cw_err e = cw_model_need_topology();

    memset(out, 0, sizeof *out);
    if (e == CW_OK && set_index >= cw_topology_set_count(&topo.t)) {
        e = CW_ERR_UNKNOWN_SET;
    }
    if (e == CW_OK && p11 == NULL) {
        e = cw_token_error();
    }
    if (e != CW_OK) {
        return e;
    }
    if ((ws = claim()) == NULL) {
        return CW_ERR_BUSY;
    }
    cw_model_set_name(set_index, set, sizeof set);
    if (cw_model_set_cert_id(set, out->cert_id, &out->cert_id_len) == CW_OK) {
        memset(&c, 0, sizeof c);
        e = cw_certs_of_set(p11, set, out->cert_id, out->cert_id_len, ws->w.one.cert, sizeof ws->w.one.cert, &c);
        if (e == CW_OK && c.found) {
            out->has_cert = true;
            out->not_before = c.sum.not_before;
            out->not_after = c.sum.not_after;
        }
    }
    if (e == CW_OK) {
        cw_err pe = cw_pending_load(p11, set, ws->w.one.record, sizeof ws->w.one.record, &pend);
        if (pe == CW_OK) {
            out->pending = true;
            out->pending_online = pend.online;
            out->pending_held = pend.online && pend.held;
        } else if (pe != CW_ERR_NO_PENDING && pe != CW_ERR_NOT_FOUND) {
            e = pe;
        }
    }
    release();
    return e;
}

cw_err cw_model_role(size_t i, cw_role_info_t *out)
{
    cw_p11_ctx *p11 = cw_token_session();
    const cw_role_assignment_t *a;
    cw_model_ws_t *ws;
    cw_set_cert_t c;
    cw_pending_t pend;
    int64_t now = cw_clock_utc();
    cw_err e = cw_model_need_topology();

    memset(out, 0, sizeof *out);
    if (e == CW_OK && i >= cw_topology_role_count(&topo.t)) {
        e = CW_ERR_UNKNOWN_ROLE;
    }
    if (e == CW_OK && p11 == NULL) {
        e = cw_token_error();
    }
    if (e != CW_OK) {
        return e;
    }
    if ((ws = claim()) == NULL) {
        return CW_ERR_BUSY;
    }
    role_name(i, out->role, sizeof out->role);
    out->generation = roles.generation[i];
    a = cw_role_table_find(&roles.t, out->role);
    if (a != NULL) {
        (void)snprintf(out->set, sizeof out->set, "%s", a->set);
    } else {
        cw_model_set_name(topo.t.roles[i].set, out->set, sizeof out->set);
    }
    memset(&c, 0, sizeof c);
    if (a != NULL) {
        (void)cw_certs_of_set(p11, a->set, a->cert_id, a->cert_id_len, ws->w.one.cert, sizeof ws->w.one.cert, &c);
    }
    if (c.found) {
        size_t si;
        unsigned renew = CW_TOPO_DEFAULT_RENEW_PERCENT;
        if (cw_model_find_set(out->set, &si) == CW_OK) {
            unsigned p = topo.t.profiles[topo.t.sets[si].profile].renew_percent;
            renew = p != 0u ? p : CW_TOPO_DEFAULT_RENEW_PERCENT;
        }
        if (now <= 0) {
            out->state = CW_ROLE_TIME_UNKNOWN;
        } else if (now > c.sum.not_after) {
            out->state = CW_ROLE_EXPIRED;
        } else if (now >= c.sum.not_before + (int64_t)cw_time_life_share(c.sum.not_before, c.sum.not_after, renew)) {
            out->state = CW_ROLE_EXPIRING;
        } else {
            out->state = CW_ROLE_ASSIGNED;
        }
        out->has_cert = true;
        memcpy(out->cert_id, c.id, c.id_len);
        out->cert_id_len = c.id_len;
        out->not_before = c.sum.not_before;
        out->not_after = c.sum.not_after;
        memcpy(out->subject, c.sum.subject, sizeof out->subject);
        memcpy(out->issuer, c.sum.issuer, sizeof out->issuer);
    } else if (cw_pending_load(p11, out->set, ws->w.one.record, sizeof ws->w.one.record, &pend) == CW_OK) {
        out->state = CW_ROLE_PENDING;
    } else if (cw_certs_of_set(p11, out->set, NULL, 0, ws->w.one.cert, sizeof ws->w.one.cert, &c) == CW_OK && c.found) {
        out->state = CW_ROLE_ISSUED;
    } else {
        out->state = CW_ROLE_NONE;
    }
    release();
    return CW_OK;
}

cw_err cw_model_role_cert(size_t i, uint8_t *buf, size_t cap, size_t *len)
{
    char name[CW_TOPO_NAME_MAX + 1];
    const cw_role_assignment_t *a;
    cw_err e = cw_model_need_topology();

    if (e == CW_OK && i >= cw_topology_role_count(&topo.t)) {
        e = CW_ERR_UNKNOWN_ROLE;
    }
    if (e != CW_OK) {
        return e;
    }
    role_name(i, name, sizeof name);
    a = cw_role_table_find(&roles.t, name);
    if (a == NULL) {
        return CW_ERR_NO_CERTIFICATE;
    }
    return cw_certs_read_by_id(cw_token_session(), a->set, a->cert_id, a->cert_id_len, buf, cap, len);
}
