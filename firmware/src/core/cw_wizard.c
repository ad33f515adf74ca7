/*
 * cw_wizard.c: topology, requests, import and role assignment on the console (cw_wizard.h).
 *
 * Objects in the token, as other PKCS#11 tools see them:
 *   key pair of a set       CKA_LABEL = set name, CKA_ID = SHA-1 of the public key
 *   certificate of a set    CKA_LABEL = set name, same CKA_ID, category 1 (token user)
 *   CA certificate          CKA_LABEL = "ca:" + CA profile name, category 2 (authority)
 *   records                 cw_store.h (topology, roles, pending.<set>)
 *
 * The console runs one command at a time, so a paste's and a request's large buffers and the
 * wizard's workspace live in the command scratch (cw_scratch.h); nothing of it survives a command.
 * Online enrolment (cw_enrol.c) uses the helpers of cw_wizard_int.h.
 */
#include "cw/core/cw_wizard.h"
#include "cw/core/cw_scratch.h"
#include "core/cw_wizard_int.h"

#include <stdio.h>
#include <string.h>

#include "cw/codec/cw_csr.h"
#include "cw/scep/cw_enrol.h"
#include "cw/base/cw_fault.h"
#include "cw/pki/cw_import.h"
#include "cw/base/cw_opts.h"
#include "cw/codec/cw_pem.h"
#include "cw/pki/cw_store.h"
#include "cw/base/cw_time.h"
#include "cw/core/cw_token.h"
#include "cw/codec/cw_topology.h"
#include "cw/base/cw_wipe.h"
#include "hal_clock.h"
#include "mbedtls/oid.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509.h"

#if CW_CSR_SAN_MAX < CW_TOPO_DERIVED_SANS_MAX
#error "CW_CSR_SAN_MAX must hold every SAN a topology set can derive (CW_TOPO_DERIVED_SANS_MAX)"
#endif
#if CW_STORE_NAME_MAX < CW_TOPO_NAME_MAX || CW_STORE_ROLES_MAX < CW_TOPO_ROLES_MAX
#error "the role table must hold every role and name of a topology (CW_STORE_* >= CW_TOPO_*)"
#endif

#define TOPOLOGY_PEM_LABEL "CERTWIZ TOPOLOGY"
#define CA_LABEL_PREFIX "ca:"
#define CA_LABEL_MAX (3u + CW_TOPO_NAME_MAX)
/* Most objects of one kind looked at for one set or profile (certificates, keys). */
#define SET_OBJECTS_MAX 8u

/* ---- state ------------------------------------------------------------------------------------- */

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
} roles;

/* The workspace of this file's commands (a pending record, the trusted CA certificates, one
 * certificate read back, the names a CSR asked for): part a of the command scratch, which a
 * command (or the boot) owns while it runs; cw_scratch.h says when an enrolment lets the wizard
 * use it. */
static cw_wizard_ws_t *const ws = &cw_scratch.a.ws;
/* A role table being made (assign, an import's roles) or checked (boot) before it replaces
 * roles.t; one at a time, never nested; in the workspace, over the pending record once its CSR
 * has been read (cw_scratch.h). */
static cw_role_table_t *const roles_next = &cw_scratch.a.ws.roles_next;

/* The set a command works on; an online enrolment's job (cw_enrol.c) shares it. */
cw_topology_derived cw_wizard_derived;
static cw_topology_derived *const derived = &cw_wizard_derived;

/* What a paste in progress is for. */
typedef cw_err (*paste_done_fn)(cw_console_ctx *con);

static struct {
    paste_done_fn done;
    char target[CW_TOPO_NAME_MAX + 1];  /* the set or profile named on the command line */
    bool one_block;                     /* ends at the first END line (topology load) */
} paste;

/* ---- small helpers ----------------------------------------------------------------------------- */

static cw_err need_topology(void)
{
    return topo.loaded ? CW_OK : CW_ERR_NO_TOPOLOGY;
}

cw_err cw_wizard_find_set(const char *name, size_t *index)
{
    cw_err e = need_topology();
    if (e == CW_OK && cw_topology_find_set(&topo.t, name, strlen(name), index) != CW_OK) {
        e = CW_ERR_UNKNOWN_SET;
    }
    return e;
}

void cw_wizard_view_str(cw_topo_view_t v, char *out, size_t cap)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    memcpy(out, cw_topo_chars(&topo.t, v), n);
    out[n] = '\0';
}

void cw_wizard_hex(const uint8_t *v, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[v[i] >> 4];
        out[2 * i + 1] = digits[v[i] & 15u];
    }
    out[2 * n] = '\0';
}

void cw_wizard_print_fingerprint(cw_console_ctx *con, const char *what, const uint8_t sha256[32])
{
    char h[65];
    cw_wizard_hex(sha256, 32, h);
    cw_console_printf(con, "%s SHA-256: %s", what, h);
}

/* Prints der as a PEM block, line by line: no buffer for the whole text. */
static void print_pem(cw_console_ctx *con, const char *label, const uint8_t *der, size_t len)
{
    char line[65];
    cw_console_printf(con, "-----BEGIN %s-----", label);
    for (size_t i = 0; i < len; i += CW_PEM_LINE_BYTES) {
        (void)cw_pem_encode_line(der + i, len - i < CW_PEM_LINE_BYTES ? len - i : CW_PEM_LINE_BYTES, line);
        cw_console_printf(con, "%s", line);
    }
    cw_console_printf(con, "-----END %s-----", label);
}

void cw_wizard_time_text(char *out, size_t cap, int64_t t)
{
    if (t <= 0) {
        (void)snprintf(out, cap, "unknown");
    } else {
        cw_time_format(t, out, cap);
    }
}

/* Handles of the certificates labelled label with CKA_CERTIFICATE_CATEGORY category. */
static cw_err find_certs(const char *label, unsigned long category, CK_OBJECT_HANDLE *h, size_t cap, size_t *n)
{
    cw_p11_ctx *p11 = cw_token_session();
    CK_OBJECT_HANDLE all[SET_OBJECTS_MAX];
    size_t total = 0;
    cw_p11_match_t m;
    cw_err e;

    *n = 0;
    if (p11 == NULL) {
        return cw_token_error();
    }
    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_CERTIFICATE;
    m.label = label;
    e = cw_p11_find(p11, &m, all, SET_OBJECTS_MAX, &total);
    if (e == CW_ERR_BUFFER_SMALL) {
        e = CW_ERR_TOO_LARGE;
    }
    if (e != CW_OK) {
        return e;
    }
    for (size_t i = 0; i < total; i++) {
        CK_ULONG cat = 0;
        size_t len = 0;
        if (cw_p11_read_attr(p11, all[i], CKA_CERTIFICATE_CATEGORY, (uint8_t *)&cat, sizeof cat, &len) == CW_OK &&
            len == sizeof cat && cat == category && *n < cap) {
            h[(*n)++] = all[i];
        }
    }
    return CW_OK;
}

/* Reads a certificate's value and ID. */
static cw_err read_cert(CK_OBJECT_HANDLE h, uint8_t *buf, size_t cap, size_t *len, uint8_t *id, size_t *id_len)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_err e = cw_p11_read_attr(p11, h, CKA_VALUE, buf, cap, len);
    if (e == CW_OK && id != NULL) {
        e = cw_p11_read_attr(p11, h, CKA_ID, id, CW_P11_KEY_ID_LEN, id_len);
    }
    return e;
}

/* The CA certificates stored for a profile, collected into list (values in ws->trust.der). */
cw_err cw_wizard_load_trust(const char *profile, cw_cert_list_t *list)
{
    char label[CA_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h[SET_OBJECTS_MAX];
    size_t n = 0;
    size_t used = 0;
    cw_err e;

    memset(list, 0, sizeof *list);
    (void)snprintf(label, sizeof label, CA_LABEL_PREFIX "%s", profile);
    e = find_certs(label, CW_P11_CERT_CATEGORY_AUTHORITY, h, SET_OBJECTS_MAX, &n);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        size_t len = 0;
        e = read_cert(h[i], ws->trust.der + used, sizeof ws->trust.der - used, &len, NULL, NULL);
        if (e == CW_ERR_BUFFER_SMALL) {
            e = CW_ERR_TOO_LARGE;
        }
        if (e == CW_OK) {
            e = cw_import_collect(ws->trust.der + used, len, list);
            used += len;
        }
    }
    return e;
}

/* ---- the set's current certificate ----------------------------------------------------------- */

typedef struct set_cert_t {
    bool found;
    uint8_t id[CW_P11_KEY_ID_LEN];
    size_t id_len;
    cw_cert_summary_t sum;
} set_cert_t;

/* The certificate a role assigned to set points to (by ID), or, with id NULL, the set's newest
 * certificate (latest notBefore). Uses ws->cert. */
static cw_err set_certificate(const char *set, const uint8_t *id, size_t id_len, set_cert_t *out)
{
    CK_OBJECT_HANDLE h[SET_OBJECTS_MAX];
    size_t n = 0;
    cw_err e = find_certs(set, CW_P11_CERT_CATEGORY_USER, h, SET_OBJECTS_MAX, &n);

    memset(out, 0, sizeof *out);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        uint8_t cid[CW_P11_KEY_ID_LEN];
        size_t cid_len = 0;
        size_t len = 0;
        cw_cert_summary_t s;
        if (read_cert(h[i], ws->cert, sizeof ws->cert, &len, cid, &cid_len) != CW_OK) {
            continue;
        }
        if (id != NULL && (cid_len != id_len || memcmp(cid, id, id_len) != 0)) {
            continue;
        }
        cw_der_t d = {ws->cert, len};
        if (cw_import_summary(&d, &s) != CW_OK) {
            continue;
        }
        if (!out->found || s.not_before > out->sum.not_before) {
            out->found = true;
            memcpy(out->id, cid, cid_len);
            out->id_len = cid_len;
            out->sum = s;
        }
    }
    return e;
}

const cw_topology *cw_wizard_topology(void)
{
    return topo.loaded ? &topo.t : NULL;
}

bool cw_wizard_set_has_valid_cert(const char *set, int64_t now)
{
    set_cert_t c;
    return set_certificate(set, NULL, 0, &c) == CW_OK && c.found && now > 0 && now >= c.sum.not_before &&
           now <= c.sum.not_after;
}

cw_err cw_wizard_set_cert_der(const char *set, uint8_t *buf, size_t cap, size_t *len, uint8_t *id, size_t *id_len)
{
    const cw_topology *t = cw_wizard_topology();
    const cw_role_assignment_t *a = NULL;
    CK_OBJECT_HANDLE h[SET_OBJECTS_MAX];
    size_t n = 0;
    cw_err e;

    /* the certificate the set's roles use */
    for (size_t i = 0; t != NULL && i < roles.t.n && a == NULL; i++) {
        if (strcmp(roles.t.a[i].set, set) == 0) {
            a = &roles.t.a[i];
        }
    }
    if (a == NULL) {
        return CW_ERR_NO_CERTIFICATE;
    }
    e = find_certs(set, CW_P11_CERT_CATEGORY_USER, h, SET_OBJECTS_MAX, &n);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        e = read_cert(h[i], buf, cap, len, id, id_len);
        if (e == CW_OK && *id_len == a->cert_id_len && memcmp(id, a->cert_id, *id_len) == 0) {
            return CW_OK;
        }
    }
    return e != CW_OK ? e : CW_ERR_NO_CERTIFICATE;
}

cw_err cw_wizard_store_ca(const char *profile, const cw_der_t *cert)
{
    char label[CA_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h;
    (void)snprintf(label, sizeof label, CA_LABEL_PREFIX "%s", profile);
    return cw_p11_cert_create(cw_token_session(), cert->p, cert->len, label, NULL, 0, CW_P11_CERT_CATEGORY_AUTHORITY,
                              &h);
}

/* ---- role table ------------------------------------------------------------------------------ */

static cw_err roles_valid(const uint8_t *v, size_t len, void *arg)
{
    cw_role_table_t *t = arg;
    return cw_role_table_decode(t, v, len);
}

/* Writes the role table t as the new generation (atomic, cw_store.h) and adopts it. */
static cw_err roles_commit(const cw_role_table_t *t)
{
    size_t len = 0;
    uint8_t der[CW_STORE_ROLES_MAX * (2u * CW_STORE_NAME_MAX + 32u) + 8u];
    cw_err e = cw_role_table_encode(t, der, sizeof der, &len);
    if (e == CW_OK) {
        e = cw_store_seq_write(cw_token_session(), "roles", der, len, &roles.seq);
    }
    if (e == CW_OK) {
        roles.t = *t;
    }
    return e;
}

/* Points every role of set (by the topology) at certificate id, in one new role table. */
static cw_err assign_set_roles(size_t set_index, const char *set, const uint8_t *id, size_t id_len)
{
    const cw_topo_set_t *s = &topo.t.sets[set_index];
    *roles_next = roles.t;
    for (size_t r = s->first_role; r < (size_t)s->first_role + s->role_count; r++) {
        char role[CW_TOPO_NAME_MAX + 1];
        cw_wizard_view_str(topo.t.roles[r].name, role, sizeof role);
        cw_err e = cw_role_table_assign(roles_next, role, set, id, id_len);
        if (e != CW_OK) {
            return e;
        }
    }
    return roles_commit(roles_next);
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

/* ---- pruning: what a set no longer needs -------------------------------------------------------- */

/* Removes the set's certificates and key pairs that no role uses, that are not the pending
 * request's, and that are not the set's newest certificate. Keys need the login; without it only
 * certificates are looked at. */
void cw_wizard_prune(const char *set)
{
    cw_p11_ctx *p11 = cw_token_session();
    CK_OBJECT_HANDLE h[SET_OBJECTS_MAX];
    set_cert_t newest;
    cw_pending_t pend;
    bool pending = cw_pending_load(p11, set, ws->record, sizeof ws->record, &pend) == CW_OK;
    size_t n = 0;

    bool set_in_roles = false;

    for (size_t i = 0; i < roles.t.n; i++) {
        set_in_roles = set_in_roles || strcmp(roles.t.a[i].set, set) == 0;
    }
    (void)set_certificate(set, NULL, 0, &newest);
    if (find_certs(set, CW_P11_CERT_CATEGORY_USER, h, SET_OBJECTS_MAX, &n) == CW_OK) {
        for (size_t i = 0; i < n; i++) {
            uint8_t id[CW_P11_KEY_ID_LEN];
            size_t id_len = 0;
            if (cw_p11_read_attr(p11, h[i], CKA_ID, id, sizeof id, &id_len) != CW_OK) {
                continue;
            }
            /* the newest is kept for a set no role uses yet ("issued"); once roles use one of
             * the set's certificates, the others go (a renewal's old one, even when both have
             * the same notBefore second) */
            bool keep = id_in_roles(id, id_len) || (!set_in_roles && newest.found && newest.id_len == id_len &&
                                                    memcmp(newest.id, id, id_len) == 0);
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
        if (cw_p11_find(p11, &m, h, SET_OBJECTS_MAX, &n) != CW_OK) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t id[CW_P11_KEY_ID_LEN];
            size_t id_len = 0;
            set_cert_t c;
            if (cw_p11_read_attr(p11, h[i], CKA_ID, id, sizeof id, &id_len) != CW_OK) {
                id_len = 0; /* no ID certwiz could have given it: never named, so never used */
            }
            if (id_len > 0 && pending && pend.key_id_len == id_len && memcmp(pend.key_id, id, id_len) == 0) {
                continue; /* the pending request's key */
            }
            if (id_len > 0 && set_certificate(set, id, id_len, &c) == CW_OK && c.found) {
                continue; /* its certificate is kept, so is the key */
            }
            (void)cw_p11_destroy(p11, h[i]);
        }
    }
}

/* Objects a power cut left half-made, removed at the first login after boot (cw_p11.h says why
 * only then); `status` reports how many. */
static struct {
    bool done;
    size_t removed;
} sweep;

void cw_wizard_after_login(void)
{
    if (!sweep.done) {
        size_t removed = 0;
        if (cw_p11_sweep_unfinished(cw_token_session(), &removed) == CW_OK) {
            sweep.done = true;
        }
        sweep.removed += removed;
    }
    if (!topo.loaded) {
        return;
    }
    for (size_t i = 0; i < cw_topology_set_count(&topo.t); i++) {
        char set[CW_TOPO_NAME_MAX + 1];
        cw_wizard_view_str(topo.t.sets[i].name, set, sizeof set);
        cw_wizard_prune(set);
    }
}

/* ---- boot ------------------------------------------------------------------------------------- */

static cw_err topology_valid(const uint8_t *v, size_t len, void *arg)
{
    (void)arg;
    return cw_topology_decode(&cw_scratch.a.candidate, v, len);
}

/* A certificate stored for a pending request whose roles were not switched (a cut during
 * import): finish the import. */
static void roll_forward(void)
{
    cw_p11_ctx *p11 = cw_token_session();
    for (size_t i = 0; i < cw_topology_set_count(&topo.t); i++) {
        char set[CW_TOPO_NAME_MAX + 1];
        cw_pending_t pend;
        set_cert_t c;
        cw_wizard_view_str(topo.t.sets[i].name, set, sizeof set);
        if (cw_pending_load(p11, set, ws->record, sizeof ws->record, &pend) != CW_OK) {
            continue;
        }
        if (set_certificate(set, pend.key_id, pend.key_id_len, &c) != CW_OK || !c.found) {
            continue; /* still waiting for the CA */
        }
        if (assign_set_roles(i, set, c.id, c.id_len) == CW_OK) {
            (void)cw_pending_remove(p11, set);
            cw_wizard_prune(set);
        }
    }
}

cw_err cw_wizard_boot(void)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_err e;

    memset(&topo, 0, sizeof topo);
    memset(&roles, 0, sizeof roles);
    memset(&sweep, 0, sizeof sweep);
    if (p11 == NULL) {
        return cw_token_error();
    }
    e = cw_store_seq_read(p11, "topology", topology_valid, NULL, topo.der, sizeof topo.der, &topo.len, &topo.seq);
    if (e == CW_OK && cw_topology_decode(&topo.t, topo.der, topo.len) == CW_OK) {
        topo.loaded = true;
    }
    {
        uint8_t der[CW_STORE_ROLES_MAX * (2u * CW_STORE_NAME_MAX + 32u) + 8u];
        size_t len = 0;
        if (cw_store_seq_read(p11, "roles", roles_valid, roles_next, der, sizeof der, &len, &roles.seq) == CW_OK) {
            (void)cw_role_table_decode(&roles.t, der, len);
        }
    }
    if (topo.loaded) {
        roll_forward();
    }
    return e;
}

void cw_wizard_status_line(cw_console_ctx *con)
{
    if (sweep.removed > 0) {
        cw_console_printf(con, "recovery: %lu half-made object(s) removed at login", (unsigned long)sweep.removed);
    }
    if (!topo.loaded) {
        cw_console_printf(con, "topology: none loaded");
        return;
    }
    char host[CW_TOPO_DNS_NAME_MAX + 1];
    cw_wizard_view_str(topo.t.host, host, sizeof host);
    cw_console_printf(con, "topology: %s, %lu sets, %lu roles (%lu assigned)", host,
                      (unsigned long)cw_topology_set_count(&topo.t), (unsigned long)cw_topology_role_count(&topo.t),
                      (unsigned long)roles.t.n);
}

/* ---- pastes ------------------------------------------------------------------------------------ */

#define PASTE_MORE_PROMPT "Another PEM block, or a blank line or quit to finish: "

/* Lines of a paste. It ends on `quit`, on an empty line after a complete block, or (topology)
 * on the END line; an empty line inside a block (BEGIN read, END not yet) ends it too, as
 * refused (docs/console.md: a blank line ends a paste). Errors of the PEM reader stick and are
 * reported when the paste ends, so that the rest of a bad paste is never taken for commands. */
static cw_err paste_line(cw_console_ctx *con, char *line, void *arg)
{
    cw_pem_reader_ctx *r = &cw_scratch.b.paste.pem;
    size_t n;
    (void)arg;

    if (line == NULL) {
        return CW_ERR_CANCELLED;
    }
    n = strlen(line);
    if (strcmp(line, "quit") == 0 || (n == 0 && r->state == CW_PEM_OUTSIDE && r->nblocks > 0)) {
        return paste.done(con);
    }
    if (n == 0 && r->state == CW_PEM_OUTSIDE) {
        return CW_ERR_IN_PROGRESS; /* blank lines before the paste */
    }
    if (n == 0 && r->state == CW_PEM_INSIDE) {
        return CW_ERR_PASTE_OPEN_BLOCK; /* the operator ended it before the block's END line */
    }
    if (n == 0) {
        return paste.done(con); /* a paste the reader refused: its error, now */
    }
    size_t blocks = r->nblocks;
    (void)cw_pem_reader_push_line(r, line, n);
    if (r->nblocks > blocks) {
        if (paste.one_block) {
            return paste.done(con);
        }
        /* A block is complete; a bundle may go on. One prompt per block also lets cwctl send a
         * file block by block, each answer paced by the device. */
        cw_console_write(con, PASTE_MORE_PROMPT, sizeof PASTE_MORE_PROMPT - 1);
    }
    return CW_ERR_IN_PROGRESS;
}

static cw_err paste_begin(cw_console_ctx *con, const char *target, bool one_block, paste_done_fn done,
                          const char *prompt)
{
    memset(&paste, 0, sizeof paste);
    paste.done = done;
    paste.one_block = one_block;
    if (target != NULL) {
        if (strlen(target) > CW_TOPO_NAME_MAX) {
            return CW_ERR_TOO_LARGE;
        }
        strcpy(paste.target, target);
    }
    cw_pem_reader_init(&cw_scratch.b.paste.pem, cw_scratch.b.paste.der, sizeof cw_scratch.b.paste.der);
    cw_console_expect(con, prompt, false, paste_line, NULL);
    return CW_ERR_IN_PROGRESS;
}

/* The certificates of the finished paste, in cw_scratch.b.paste.certs. */
static cw_err paste_certificates(void)
{
    cw_pem_reader_ctx *r = &cw_scratch.b.paste.pem;
    cw_err e = cw_pem_reader_finish(r);

    memset(&cw_scratch.b.paste.certs, 0, sizeof cw_scratch.b.paste.certs);
    if (e == CW_ERR_NOT_FOUND) {
        return CW_ERR_IMPORT_NO_CERT;
    }
    for (size_t i = 0; e == CW_OK && i < r->nblocks; i++) {
        const cw_pem_block_t *b = &r->blocks[i];
        if (strcmp(b->label, "CERTIFICATE") != 0 && strcmp(b->label, "X509 CERTIFICATE") != 0 &&
            strcmp(b->label, "PKCS7") != 0 && strcmp(b->label, "CMS") != 0) {
            return CW_ERR_PASTE_LABEL;
        }
        e = cw_import_collect(cw_scratch.b.paste.der + b->off, b->len, &cw_scratch.b.paste.certs);
    }
    return e;
}

/* ---- topology load | show --------------------------------------------------------------------- */

/* Every set's tokenUri must name the board's token: keys, certificates and records of all sets
 * live there (docs/decisions.md). A set that names another token is refused at load, by name,
 * rather than having its key made in a token it did not ask for. */
static cw_err check_token_uris(cw_console_ctx *con, const cw_topology *t)
{
    for (size_t i = 0; i < cw_topology_set_count(t); i++) {
        const cw_topo_view_t v = t->sets[i].token_uri;
        cw_p11_uri_t uri;
        bool same = false;
        cw_err e;
        if (v.len == 0) {
            continue;
        }
        e = cw_p11_uri_parse((const char *)cw_topo_chars(t, v), v.len, &uri);
        if (e == CW_OK) {
            e = cw_p11_is_this_token(cw_token_session(), &uri, &same);
        }
        if (e == CW_OK && !same) {
            char set[CW_TOPO_NAME_MAX + 1];
            size_t n = v.len < CW_TOPO_URL_MAX ? v.len : CW_TOPO_URL_MAX;
            size_t sn = t->sets[i].name.len < CW_TOPO_NAME_MAX ? t->sets[i].name.len : CW_TOPO_NAME_MAX;
            memcpy(set, cw_topo_chars(t, t->sets[i].name), sn);
            set[sn] = '\0';
            cw_console_printf(con, "set %s names the token %.*s, not this board's", set, (int)n,
                              (const char *)cw_topo_chars(t, v));
            e = CW_ERR_TOKEN_ELSEWHERE;
        }
        if (e != CW_OK) {
            return e;
        }
    }
    return CW_OK;
}

static cw_err topology_loaded(cw_console_ctx *con)
{
    cw_pem_reader_ctx *r = &cw_scratch.b.paste.pem;
    const cw_pem_block_t *b = &r->blocks[0];
    cw_err e = cw_pem_reader_finish(r);

    if (e != CW_OK) {
        return e;
    }
    if (strcmp(b->label, TOPOLOGY_PEM_LABEL) != 0) {
        return CW_ERR_PASTE_LABEL;
    }
    if (b->len > sizeof topo.der) {
        return CW_ERR_TOO_LARGE;
    }
    e = cw_topology_decode(&cw_scratch.a.candidate, cw_scratch.b.paste.der + b->off, b->len);
    if (e != CW_OK) {
        const char *where = cw_topology_error_path(&cw_scratch.a.candidate);
        cw_console_printf(con, "topology refused at %s; the stored one is unchanged", where[0] ? where : "(whole blob)");
        return e;
    }
    e = cw_token_need_login();
    if (e == CW_OK) {
        e = check_token_uris(con, &cw_scratch.a.candidate);
    }
    if (e == CW_OK) {
        e = cw_store_seq_write(cw_token_session(), "topology", cw_scratch.b.paste.der + b->off, b->len, &topo.seq);
    }
    if (e != CW_OK) {
        return e;
    }
    memcpy(topo.der, cw_scratch.b.paste.der + b->off, b->len);
    topo.len = b->len;
    topo.loaded = cw_topology_decode(&topo.t, topo.der, topo.len) == CW_OK;
    cw_console_printf(con, "topology stored: %lu CA profiles, %lu sets, %lu roles",
                      (unsigned long)cw_topology_profile_count(&topo.t), (unsigned long)cw_topology_set_count(&topo.t),
                      (unsigned long)cw_topology_role_count(&topo.t));
    return topo.loaded ? CW_OK : CW_ERR_INTERNAL;
}

static const char *eku_text(unsigned eku)
{
    switch (eku & (CW_TOPO_EKU_SERVER_AUTH | CW_TOPO_EKU_CLIENT_AUTH)) {
    case CW_TOPO_EKU_SERVER_AUTH: return "serverAuth";
    case CW_TOPO_EKU_CLIENT_AUTH: return "clientAuth";
    default: return "serverAuth, clientAuth";
    }
}

/* "a, b, c" of the derived SAN list, cut to fit one console line. */
static void san_text(const cw_topology_derived *d, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < d->san_count; i++) {
        char ip[48];
        const char *name = cw_topology_san_dns(d, i);
        size_t len = 0;
        if (name == NULL) {
            if (cw_topology_format_ip(d->san[i].ip, d->san[i].len, ip, sizeof ip, &len) != CW_OK) {
                continue;
            }
            name = ip;
        }
        int w = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", name);
        if (w < 0 || (size_t)w >= cap - o) {
            return;
        }
        o += (size_t)w;
    }
}

static cw_err topology_show(cw_console_ctx *con)
{
    char host[CW_TOPO_DNS_NAME_MAX + 1];
    char site[CW_TOPO_TEXT_MAX + 1];
    cw_err e = need_topology();

    if (e != CW_OK) {
        return e;
    }
    cw_wizard_view_str(topo.t.host, host, sizeof host);
    cw_wizard_view_str(topo.t.site, site, sizeof site);
    cw_console_printf(con, "appliance %s, site %s", host, site);
    for (size_t p = 0; p < cw_topology_profile_count(&topo.t); p++) {
        const cw_topo_profile_t *pr = &topo.t.profiles[p];
        char name[CW_TOPO_NAME_MAX + 1];
        char url[CW_TOPO_URL_MAX + 1];
        cw_wizard_view_str(pr->name, name, sizeof name);
        cw_wizard_view_str(pr->url, url, sizeof url);
        cw_console_printf(con, "CA profile %s: %s%s%s%s", name, cw_topology_protocol_name((cw_topo_protocol)pr->protocol),
                          url[0] ? " " : "", url, pr->fingerprint.len ? ", CA fingerprint pinned" : "");
    }
    for (size_t s = 0; s < cw_topology_set_count(&topo.t); s++) {
        char name[CW_TOPO_NAME_MAX + 1];
        char profile[CW_TOPO_NAME_MAX + 1];
        char subject[CW_CONSOLE_OUT_MAX];
        char sans[CW_CONSOLE_OUT_MAX - 10];
        char rl[CW_CONSOLE_OUT_MAX - 10];
        size_t len = 0;
        size_t o = 0;
        const cw_topo_set_t *set = &topo.t.sets[s];

        if (cw_topology_derive(&topo.t, s, derived) != CW_OK) {
            return CW_ERR_INTERNAL;
        }
        cw_wizard_view_str(set->name, name, sizeof name);
        cw_wizard_view_str(topo.t.profiles[derived->profile].name, profile, sizeof profile);
        if (cw_topology_subject_format(derived, subject, sizeof subject, &len) != CW_OK) {
            strcpy(subject, "(too long to show)");
        }
        san_text(derived, sans, sizeof sans);
        rl[0] = '\0';
        for (size_t r = set->first_role; r < (size_t)set->first_role + set->role_count; r++) {
            char role[CW_TOPO_NAME_MAX + 1];
            cw_wizard_view_str(topo.t.roles[r].name, role, sizeof role);
            int w = snprintf(rl + o, sizeof rl - o, "%s%s", o ? ", " : "", role);
            if (w > 0 && (size_t)w < sizeof rl - o) {
                o += (size_t)w;
            }
        }
        cw_console_printf(con, "set %s", name);
        cw_console_printf(con, "  roles: %s", rl);
        cw_console_printf(con, "  CA profile: %s (%s), key %s, EKU %s", profile,
                          cw_topology_protocol_name(derived->protocol), cw_topology_key_type_name(derived->key_type),
                          eku_text(derived->eku));
        cw_console_printf(con, "  subject: %s", subject);
        cw_console_printf(con, "  SANs: %s", sans);
    }
    return CW_OK;
}

static cw_err cmd_topology(cw_console_ctx *con, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "show") == 0) {
        return topology_show(con);
    }
    if (argc == 2 && strcmp(argv[1], "load") == 0) {
        cw_err e = cw_token_need_login();
        if (e != CW_OK) {
            return e;
        }
        return paste_begin(con, NULL, true, topology_loaded,
                           "Paste the " TOPOLOGY_PEM_LABEL " block, it ends with its END line: ");
    }
    return CW_ERR_USAGE;
}

/* ---- request, csr ---------------------------------------------------------------------------- */

static struct {
    size_t set_index;
    char set[CW_TOPO_NAME_MAX + 1];
} req;

/* The topology's EKU bits as the CSR and import modules spell them. */
static unsigned eku_bits(unsigned topo_eku)
{
    return ((topo_eku & CW_TOPO_EKU_SERVER_AUTH) ? CW_EKU_SERVER_AUTH : 0u) |
           ((topo_eku & CW_TOPO_EKU_CLIENT_AUTH) ? CW_EKU_CLIENT_AUTH : 0u);
}

void cw_wizard_csr_request(const cw_topology_derived *d, cw_csr_req_t *r)
{
    memset(r, 0, sizeof *r);
    r->dn[CW_DN_C] = d->country;
    r->dn[CW_DN_ST] = d->state;
    r->dn[CW_DN_L] = d->locality;
    r->dn[CW_DN_O] = d->organization;
    r->dn[CW_DN_OU] = d->organizational_unit;
    r->dn[CW_DN_CN] = d->cn;
    for (size_t i = 0; i < d->san_count && i < CW_CSR_SAN_MAX; i++) {
        const char *dns = cw_topology_san_dns(d, i);
        if (dns != NULL) {
            r->san[r->nsan].kind = CW_SAN_DNS;
            r->san[r->nsan].dns = dns;
        } else {
            r->san[r->nsan].kind = CW_SAN_IP;
            memcpy(r->san[r->nsan].ip, d->san[i].ip, d->san[i].len);
            r->san[r->nsan].ip_len = d->san[i].len;
        }
        r->nsan++;
    }
    r->eku = eku_bits(d->eku);
}

/* Generates the key, builds and signs the CSR, stores the pending record, prints the CSR. The
 * challenge, if any, is wiped by the caller. */
static cw_err make_request(cw_console_ctx *con, const char *challenge, size_t challenge_len)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_csr_req_t r;
    cw_p11_key key;
    cw_pending_t pend;
    size_t csr_len = 0;
    uint32_t t0;
    char id[2 * CW_P11_KEY_ID_LEN + 1];
    cw_err e;

    cw_wizard_csr_request(derived, &r);
    r.challenge = challenge;
    r.challenge_len = challenge_len;

    cw_console_printf(con, "generating a %s key pair in the token for set %s ...", cw_token_key_type_text(derived->key_type), req.set);
    t0 = hal_clock_ms();
    e = cw_p11_keygen(p11, derived->key_type, req.set, derived->protocol == CW_TOPO_SCEP, &key);
    if (e != CW_OK) {
        return e;
    }
    cw_wizard_hex(key.id, key.id_len, id);
    cw_console_printf(con, "key pair generated in %lu ms, id %s", (unsigned long)(hal_clock_ms() - t0), id);

    e = cw_csr_encode(p11, &key, &r, cw_scratch.b.req.csr, sizeof cw_scratch.b.req.csr, &csr_len);
    if (e == CW_OK) {
        memset(&pend, 0, sizeof pend);
        memcpy(pend.key_id, key.id, key.id_len);
        pend.key_id_len = key.id_len;
        pend.created = hal_clock_utc();
        pend.csr = cw_scratch.b.req.csr;
        pend.csr_len = csr_len;
        e = cw_pending_store(p11, req.set, &pend, ws->record, sizeof ws->record);
    }
    if (e != CW_OK) {
        /* no pending record: the key would be abandoned; remove it now */
        (void)cw_p11_destroy(p11, key.priv);
        (void)cw_p11_destroy(p11, key.pub);
        return e;
    }
    cw_console_printf(con, "request stored as pending for set %s; send this CSR to the CA:", req.set);
    print_pem(con, "CERTIFICATE REQUEST", cw_scratch.b.req.csr, csr_len);
    return CW_OK;
}

static cw_err take_challenge(cw_console_ctx *con, char *line, void *arg)
{
    cw_err e;
    (void)arg;
    if (line == NULL) {
        return CW_ERR_CANCELLED;
    }
    e = make_request(con, line, strlen(line));
    /* the console wipes its line buffer; the CSR scratch held it too */
    cw_wipe(&cw_scratch.b.req, sizeof cw_scratch.b.req);
    return e;
}

static cw_err print_pending(cw_console_ctx *con, const char *set)
{
    cw_pending_t pend;
    char id[2 * CW_P11_KEY_ID_LEN + 1];
    char when[24];
    cw_p11_ctx *p11 = cw_token_session();
    cw_err e;

    if (p11 == NULL) {
        return cw_token_error();
    }
    e = cw_pending_load(p11, set, ws->record, sizeof ws->record, &pend);
    if (e != CW_OK) {
        return e;
    }
    cw_wizard_hex(pend.key_id, pend.key_id_len, id);
    cw_wizard_time_text(when, sizeof when, pend.created);
    cw_console_printf(con, "pending request for set %s, key id %s, made %s:", set, id, when);
    print_pem(con, "CERTIFICATE REQUEST", pend.csr, pend.csr_len);
    return CW_OK;
}

static cw_err cmd_request(cw_console_ctx *con, int argc, char **argv)
{
    cw_pending_t pend;
    cw_err e;

    if (argc == 3 && strcmp(argv[2], "online") == 0) {
        return cw_enrol_cmd_request(con, argv[1]);
    }
    if (argc < 3 || argc > 4 || strcmp(argv[2], "offline") != 0 ||
        (argc == 4 && strcmp(argv[3], "challenge") != 0)) {
        return CW_ERR_USAGE;
    }
    e = cw_token_need_login();
    if (e == CW_OK) {
        e = cw_wizard_find_set(argv[1], &req.set_index);
    }
    if (e != CW_OK) {
        return e;
    }
    strcpy(req.set, argv[1]);
    if (cw_pending_load(cw_token_session(), req.set, ws->record, sizeof ws->record, &pend) == CW_OK) {
        /* never a second key for the same pending request */
        cw_console_printf(con, "set %s already has a pending request; its CSR again (no new key):", req.set);
        return print_pending(con, req.set);
    }
    e = cw_topology_derive(&topo.t, req.set_index, derived);
    if (e != CW_OK) {
        return e;
    }
    if (argc == 4) {
        cw_console_expect(con, "Challenge password (hidden): ", true, take_challenge, NULL);
        return CW_ERR_IN_PROGRESS;
    }
    e = make_request(con, NULL, 0);
    return e;
}

static cw_err cmd_csr(cw_console_ctx *con, int argc, char **argv)
{
    size_t i;
    cw_err e;
    if (argc != 2) {
        return CW_ERR_USAGE;
    }
    e = cw_wizard_find_set(argv[1], &i);
    return e != CW_OK ? e : print_pending(con, argv[1]);
}

/* ---- import --------------------------------------------------------------------------------- */

static cw_err read_csr_names(const uint8_t *csr_der, size_t len)
{
    cw_csr_parts_t parts;
    const uint8_t *v;
    size_t n;
    uint8_t tag;
    size_t pos = 0;
    cw_err e;

    memset(&ws->asked, 0, sizeof ws->asked);
    if (cw_csr_parts(csr_der, len, &parts) != CW_OK) {
        return CW_ERR_MALFORMED;
    }
    e = cw_csr_cn(&parts, &v, &n);
    if (e == CW_OK && n <= CW_TOPO_CN_MAX) {
        memcpy(ws->asked.cn, v, n);
        ws->asked.cn[n] = '\0';
    } else if (e == CW_ERR_MALFORMED) {
        return e;
    }
    while ((e = cw_csr_next_san(&parts, &pos, &tag, &v, &n)) == CW_OK) {
        cw_san_t *out = &ws->asked.san[ws->asked.nsan];
        if (ws->asked.nsan == CW_CSR_SAN_MAX) {
            return CW_ERR_TOO_LARGE;
        }
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME) && n <= CW_TOPO_DNS_NAME_MAX) {
            memcpy(ws->asked.dns[ws->asked.nsan], v, n);
            ws->asked.dns[ws->asked.nsan][n] = '\0';
            out->kind = CW_SAN_DNS;
            out->dns = ws->asked.dns[ws->asked.nsan];
            ws->asked.nsan++;
        } else if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) && (n == 4 || n == 16)) {
            out->kind = CW_SAN_IP;
            memcpy(out->ip, v, n);
            out->ip_len = (uint8_t)n;
            ws->asked.nsan++;
        }
    }
    return e == CW_ERR_NOT_FOUND ? CW_OK : e;
}

/* Stores the CA certificates of the answer under the profile's label, skipping those stored
 * already (same DER). */
static cw_err store_cas(const cw_cert_list_t *certs, const cw_import_result_t *res, const char *profile)
{
    cw_p11_ctx *p11 = cw_token_session();
    char label[CA_LABEL_MAX + 1];

    (void)snprintf(label, sizeof label, CA_LABEL_PREFIX "%s", profile);
    for (size_t i = 0; i < certs->n; i++) {
        const cw_der_t *c = &certs->cert[i];
        bool known = false;
        CK_OBJECT_HANDLE h;
        if (!res->store_as_ca[i]) {
            continue;
        }
        for (size_t j = 0; j < ws->trust.list.n; j++) {
            const cw_der_t *t = &ws->trust.list.cert[j];
            known = known || (t->len == c->len && memcmp(t->p, c->p, c->len) == 0);
        }
        if (!known) {
            cw_err e = cw_p11_cert_create(p11, c->p, c->len, label, NULL, 0, CW_P11_CERT_CATEGORY_AUTHORITY, &h);
            if (e != CW_OK) {
                return e;
            }
        }
    }
    return CW_OK;
}

cw_err cw_wizard_accept(cw_console_ctx *con, const char *set, const cw_cert_list_t *certs, const uint8_t *confirmed_root,
                        size_t *root_index)
{
    cw_p11_ctx *p11 = cw_token_session();
    size_t set_index;
    cw_pending_t pend;
    cw_p11_key key;
    uint8_t spki[CW_P11_SPKI_MAX];
    size_t spki_len = 0;
    cw_import_expect_t x;
    cw_import_result_t res;
    char profile[CW_TOPO_NAME_MAX + 1];
    cw_cert_summary_t sum;
    char when[24];
    CK_OBJECT_HANDLE h;
    cw_err e;

    e = cw_token_need_login();
    if (e == CW_OK) {
        e = cw_wizard_find_set(set, &set_index);
    }
    if (e == CW_OK) {
        e = cw_topology_derive(&topo.t, set_index, derived);
    }
    if (e != CW_OK) {
        return e;
    }
    /* The pending record goes into the workspace (scratch part a), beside the paste (part b). */
    e = cw_pending_load(p11, set, ws->record, sizeof ws->record, &pend);
    if (e == CW_OK) {
        e = read_csr_names(pend.csr, pend.csr_len);
    }
    if (e == CW_OK) {
        e = cw_p11_key_find_by_id(p11, pend.key_id, pend.key_id_len, &key);
    }
    if (e == CW_OK) {
        e = cw_p11_pubkey_spki(p11, &key, spki, sizeof spki, &spki_len);
    }
    cw_wizard_view_str(topo.t.profiles[derived->profile].name, profile, sizeof profile);
    if (e == CW_OK) {
        e = cw_wizard_load_trust(profile, &ws->trust.list);
    }
    if (e != CW_OK) {
        return e;
    }
    memset(&x, 0, sizeof x);
    x.spki = spki;
    x.spki_len = spki_len;
    x.cn = ws->asked.cn;
    x.san = ws->asked.san;
    x.nsan = ws->asked.nsan;
    x.eku = eku_bits(derived->eku);
    x.now = hal_clock_utc();
    x.pin = topo.t.profiles[derived->profile].fingerprint.len == 32
                ? cw_topo_bytes(&topo.t, topo.t.profiles[derived->profile].fingerprint)
                : NULL;
    x.trusted = &ws->trust.list;
    x.confirmed_root = confirmed_root;
    e = cw_import_check(certs, &x, &res);
    if (root_index != NULL) {
        *root_index = res.root_index;
    }
    if (e != CW_OK) {
        return e; /* nothing stored */
    }
    cw_console_printf(con, "certificate checked: key, end entity, names, validity, key usage, EKU and chain are right");
    cw_wizard_print_fingerprint(con, "root CA", res.root_sha256);

    /* Store: CA certificates, the set's certificate, then the roles in one step. */
    e = store_cas(certs, &res, profile);
    cw_fault_point("import:cas-stored");
    if (e == CW_OK) {
        const cw_der_t *leaf = &certs->cert[res.leaf];
        e = cw_p11_cert_create(p11, leaf->p, leaf->len, set, pend.key_id, pend.key_id_len,
                               CW_P11_CERT_CATEGORY_USER, &h);
    }
    if (e != CW_OK) {
        return e;
    }
    cw_fault_point("import:cert-stored");
    e = assign_set_roles(set_index, set, pend.key_id, pend.key_id_len);
    if (e != CW_OK) {
        return e; /* the next boot rolls the import forward */
    }
    cw_fault_point("import:assigned");
    (void)cw_pending_remove(p11, set);
    (void)cw_import_summary(&certs->cert[res.leaf], &sum);
    cw_wizard_time_text(when, sizeof when, sum.not_after);
    cw_console_printf(con, "stored for set %s: %s, valid until %s", set, sum.subject, when);
    {
        const cw_topo_set_t *s = &topo.t.sets[set_index];
        for (size_t r = s->first_role; r < (size_t)s->first_role + s->role_count; r++) {
            char role[CW_TOPO_NAME_MAX + 1];
            cw_wizard_view_str(topo.t.roles[r].name, role, sizeof role);
            cw_console_printf(con, "role %s assigned to set %s", role, set);
        }
    }
    cw_wizard_prune(set);
    return CW_OK;
}

/* ---- trusting a new root: the operator decides ------------------------------------------------ */

static struct {
    uint8_t sha256[32];                 /* the root shown to the operator */
    char profile[CW_TOPO_NAME_MAX + 1];
    paste_done_fn accepted;             /* what to finish once they say yes */
} new_root;

#define NEW_ROOT_PROMPT "Trust this root CA for profile %s? (yes/no): "

static cw_err root_answered(cw_console_ctx *con, char *line, void *arg)
{
    (void)arg;
    if (line == NULL || strcmp(line, "yes") != 0) {
        return CW_ERR_CANCELLED; /* nothing stored */
    }
    return new_root.accepted(con);
}

/* Shows a root that is neither pinned nor trusted for the profile yet, as `ca auth` shows a CA,
 * and asks the operator; on yes, accepted() finishes the command with the root confirmed. */
static cw_err ask_new_root(cw_console_ctx *con, const char *profile, const cw_der_t *root, paste_done_fn accepted)
{
    static char prompt[sizeof NEW_ROOT_PROMPT + CW_TOPO_NAME_MAX];
    cw_cert_summary_t s;
    uint8_t sha1[20];
    char h[41];

    if (cw_import_summary(root, &s) != CW_OK) {
        return CW_ERR_INTERNAL; /* it was parsed and verified moments ago */
    }
    memcpy(new_root.sha256, s.sha256, sizeof new_root.sha256);
    (void)snprintf(new_root.profile, sizeof new_root.profile, "%s", profile);
    new_root.accepted = accepted;
    (void)mbedtls_sha1(root->p, root->len, sha1);
    cw_wizard_hex(sha1, sizeof sha1, h);
    cw_console_printf(con, "root CA of the answer, not trusted for profile %s yet:", profile);
    cw_console_printf(con, "  subject: %s", s.subject);
    cw_wizard_print_fingerprint(con, " ", s.sha256);
    cw_console_printf(con, "   SHA-1: %s", h);
    cw_console_printf(con, "the topology pins no fingerprint: compare it with the one the CA's operator gives you");
    (void)snprintf(prompt, sizeof prompt, NEW_ROOT_PROMPT, profile);
    cw_console_expect(con, prompt, false, root_answered, NULL);
    return CW_ERR_IN_PROGRESS;
}

static cw_err import_confirmed(cw_console_ctx *con)
{
    return cw_wizard_accept(con, paste.target, &cw_scratch.b.paste.certs, new_root.sha256, NULL);
}

static cw_err import_done(cw_console_ctx *con)
{
    size_t root = SIZE_MAX;
    size_t set_index;
    char profile[CW_TOPO_NAME_MAX + 1];
    cw_err e = paste_certificates();

    if (e == CW_OK) {
        e = cw_wizard_accept(con, paste.target, &cw_scratch.b.paste.certs, NULL, &root);
    }
    if (e != CW_ERR_IMPORT_ROOT_UNCONFIRMED || root >= cw_scratch.b.paste.certs.n ||
        cw_wizard_find_set(paste.target, &set_index) != CW_OK) {
        return e;
    }
    cw_wizard_view_str(topo.t.profiles[topo.t.sets[set_index].profile].name, profile, sizeof profile);
    return ask_new_root(con, profile, &cw_scratch.b.paste.certs.cert[root], import_confirmed);
}

static cw_err cmd_import(cw_console_ctx *con, int argc, char **argv)
{
    size_t i;
    cw_err e;
    if (argc != 2) {
        return CW_ERR_USAGE;
    }
    e = cw_token_need_login();
    if (e == CW_OK) {
        e = cw_wizard_find_set(argv[1], &i);
    }
    if (e != CW_OK) {
        return e;
    }
    return paste_begin(con, argv[1], false, import_done,
                       "Paste the certificate (PEM, a bundle or PKCS#7); end with a blank line or quit: ");
}

/* ---- ca import ------------------------------------------------------------------------------ */

static cw_err ca_import_confirmed(cw_console_ctx *con);

/* ca import: checks every pasted certificate before storing any, then stores the new ones.
 * confirmed is the root the operator accepted, or NULL (then a new root asks them first). */
static cw_err ca_import_check_and_store(cw_console_ctx *con, const uint8_t *confirmed)
{
    const char *profile = paste.target;
    const cw_cert_list_t *pasted = &cw_scratch.b.paste.certs;
    size_t pi;
    const uint8_t *pin = NULL;
    size_t stored = 0;
    size_t first_new;
    uint8_t unknown_root[32];   /* a pasted root the profile does not trust yet */
    bool have_unknown_root = false;
    cw_err e = cw_token_need_login();

    if (e == CW_OK && cw_topology_find_profile(&topo.t, profile, strlen(profile), &pi) != CW_OK) {
        e = CW_ERR_UNKNOWN_PROFILE;
    }
    if (e == CW_OK) {
        e = cw_wizard_load_trust(profile, &ws->trust.list);
    }
    if (e != CW_OK) {
        return e;
    }
    if (topo.t.profiles[pi].fingerprint.len == 32) {
        pin = cw_topo_bytes(&topo.t, topo.t.profiles[pi].fingerprint);
    }
    first_new = ws->trust.list.n;
    /* A root first, then what it issued, in whatever order they were pasted (each pass trusts
     * what the previous ones accepted); every root must be one the profile may trust. */
    {
        bool done[CW_IMPORT_CERTS_MAX] = {false};
        bool progress = true;
        while (progress) {
            progress = false;
            for (size_t i = 0; i < pasted->n; i++) {
                const cw_der_t *c = &pasted->cert[i];
                uint8_t fp[32];
                if (done[i]) {
                    continue;
                }
                for (size_t j = 0; j < ws->trust.list.n && !done[i]; j++) {
                    done[i] = ws->trust.list.cert[j].len == c->len &&
                              memcmp(ws->trust.list.cert[j].p, c->p, c->len) == 0;
                }
                if (done[i] || cw_import_check_ca(c, hal_clock_utc(), pin, &ws->trust.list, fp) != CW_OK) {
                    continue;
                }
                /* the profile's stored certificates decide about the root, not what this paste
                 * added in an earlier pass */
                {
                    cw_cert_list_t before = ws->trust.list;
                    before.n = first_new;
                    e = cw_import_trust_root(&before, pin, confirmed, fp);
                }
                if (e == CW_ERR_IMPORT_ROOT_UNCONFIRMED) {
                    if (have_unknown_root && memcmp(unknown_root, fp, 32) != 0) {
                        return CW_ERR_IMPORT_ROOT_CHANGED; /* two new roots: one profile, one root */
                    }
                    memcpy(unknown_root, fp, 32);
                    have_unknown_root = true;
                    e = CW_OK;
                }
                if (e != CW_OK) {
                    return e; /* pinned elsewhere, or another root than the trusted one */
                }
                if (ws->trust.list.n == CW_IMPORT_CERTS_MAX) {
                    return CW_ERR_TOO_LARGE;
                }
                ws->trust.list.cert[ws->trust.list.n++] = *c;
                done[i] = true;
                progress = true;
            }
        }
        for (size_t i = 0; i < pasted->n; i++) {
            uint8_t fp[32];
            if (!done[i]) {
                /* the reason this one is refused: not a CA, expired, untrusted, pin mismatch */
                e = cw_import_check_ca(&pasted->cert[i], hal_clock_utc(), pin, &ws->trust.list, fp);
                return e != CW_OK ? e : CW_ERR_IMPORT_UNTRUSTED;
            }
        }
        stored = ws->trust.list.n - first_new;
    }
    if (stored == 0) {
        cw_console_printf(con, "these CA certificates are stored already");
        return CW_OK;
    }
    if (have_unknown_root) {
        for (size_t i = 0; i < pasted->n; i++) {
            uint8_t fp[32];
            (void)mbedtls_sha256(pasted->cert[i].p, pasted->cert[i].len, fp, 0);
            if (memcmp(fp, unknown_root, 32) == 0) {
                return ask_new_root(con, profile, &pasted->cert[i], ca_import_confirmed);
            }
        }
        return CW_ERR_INTERNAL; /* a root not stored came from the paste */
    }
    for (size_t i = first_new; i < ws->trust.list.n; i++) {
        cw_cert_summary_t s;
        const cw_der_t *c = &ws->trust.list.cert[i];
        e = cw_wizard_store_ca(profile, c);
        if (e != CW_OK) {
            return e;
        }
        (void)cw_import_summary(c, &s);
        cw_console_printf(con, "stored CA certificate for profile %s: %s", profile, s.subject);
        cw_wizard_print_fingerprint(con, "  ", s.sha256);
    }
    return CW_OK;
}

static cw_err ca_import_confirmed(cw_console_ctx *con)
{
    return ca_import_check_and_store(con, new_root.sha256);
}

static cw_err ca_import_done(cw_console_ctx *con)
{
    cw_err e = paste_certificates();
    return e != CW_OK ? e : ca_import_check_and_store(con, NULL);
}

/* ca show | forget: the CA certificates a profile trusts, listed; forget removes them once the
 * operator confirms, so that another root can be trusted (docs/console.md). */
static struct {
    char profile[CW_TOPO_NAME_MAX + 1];
} forget;

/* Lists the profile's CA certificates; *n gets how many. */
static cw_err list_cas(cw_console_ctx *con, const char *profile, size_t *n)
{
    cw_err e = cw_wizard_load_trust(profile, &ws->trust.list);
    *n = ws->trust.list.n;
    for (size_t i = 0; e == CW_OK && i < ws->trust.list.n; i++) {
        cw_cert_summary_t s;
        char until[24];
        if (cw_import_summary(&ws->trust.list.cert[i], &s) != CW_OK) {
            cw_console_printf(con, "CA certificate %lu: unreadable", (unsigned long)i + 1);
            continue;
        }
        cw_wizard_time_text(until, sizeof until, s.not_after);
        cw_console_printf(con, "CA certificate %lu: %s (issuer %s), valid until %s", (unsigned long)i + 1, s.subject,
                          s.issuer, until);
        cw_wizard_print_fingerprint(con, " ", s.sha256);
    }
    return e;
}

static cw_err forget_answered(cw_console_ctx *con, char *line, void *arg)
{
    char label[CA_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h[SET_OBJECTS_MAX];
    size_t n = 0;
    cw_err e;
    (void)arg;

    if (line == NULL || strcmp(line, "yes") != 0) {
        return CW_ERR_CANCELLED;
    }
    (void)snprintf(label, sizeof label, CA_LABEL_PREFIX "%s", forget.profile);
    e = find_certs(label, CW_P11_CERT_CATEGORY_AUTHORITY, h, SET_OBJECTS_MAX, &n);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        e = cw_p11_destroy(cw_token_session(), h[i]);
    }
    if (e == CW_OK) {
        cw_console_printf(con, "profile %s trusts no CA certificate now; roles keep theirs", forget.profile);
    }
    return e;
}

static cw_err ca_show_or_forget(cw_console_ctx *con, const char *what, const char *profile)
{
    size_t pi;
    size_t n = 0;
    cw_err e = strcmp(what, "forget") == 0 ? cw_token_need_login() : CW_OK;

    if (e == CW_OK) {
        e = need_topology();
    }
    if (e == CW_OK && cw_topology_find_profile(&topo.t, profile, strlen(profile), &pi) != CW_OK) {
        e = CW_ERR_UNKNOWN_PROFILE;
    }
    if (e == CW_OK && cw_token_session() == NULL) {
        e = cw_token_error();
    }
    if (e == CW_OK) {
        e = list_cas(con, profile, &n);
    }
    if (e != CW_OK) {
        return e;
    }
    if (n == 0) {
        cw_console_printf(con, "profile %s trusts no CA certificate", profile);
        return CW_OK;
    }
    if (strcmp(what, "show") == 0) {
        return CW_OK;
    }
    (void)snprintf(forget.profile, sizeof forget.profile, "%s", profile);
    cw_console_printf(con, "profile %s then needs a CA trusted again", profile);
    cw_console_expect(con, "Forget these CA certificates? (yes/no): ", false, forget_answered, NULL);
    return CW_ERR_IN_PROGRESS;
}

static cw_err cmd_ca(cw_console_ctx *con, int argc, char **argv)
{
    cw_err e;
    if (argc == 3 && strcmp(argv[1], "auth") == 0) {
        return cw_enrol_cmd_ca_auth(con, argv[2]);
    }
    if (argc == 3 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "forget") == 0)) {
        return ca_show_or_forget(con, argv[1], argv[2]);
    }
    if (argc != 3 || strcmp(argv[1], "import") != 0) {
        return CW_ERR_USAGE;
    }
    e = cw_token_need_login();
    if (e == CW_OK) {
        e = need_topology();
    }
    if (e == CW_OK) {
        size_t pi;
        if (cw_topology_find_profile(&topo.t, argv[2], strlen(argv[2]), &pi) != CW_OK) {
            e = CW_ERR_UNKNOWN_PROFILE;
        }
    }
    if (e != CW_OK) {
        return e;
    }
    return paste_begin(con, argv[2], false, ca_import_done,
                       "Paste the CA certificate(s) (PEM or PKCS#7); end with a blank line or quit: ");
}

/* ---- assign, roles ------------------------------------------------------------------------- */

static cw_err cmd_assign(cw_console_ctx *con, int argc, char **argv)
{
    size_t set_index;
    size_t role_set;
    set_cert_t c;
    int64_t now = hal_clock_utc();
    cw_err e;

    if (argc != 3) {
        return CW_ERR_USAGE;
    }
    e = cw_token_need_login();
    if (e == CW_OK) {
        e = cw_wizard_find_set(argv[2], &set_index);
    }
    if (e == CW_OK && cw_topology_set_for_role(&topo.t, argv[1], strlen(argv[1]), &role_set) != CW_OK) {
        e = CW_ERR_UNKNOWN_ROLE;
    }
    if (e == CW_OK) {
        e = set_certificate(argv[2], NULL, 0, &c);
    }
    if (e != CW_OK) {
        return e;
    }
    if (!c.found || now <= 0 || now < c.sum.not_before || now > c.sum.not_after) {
        return CW_ERR_NO_CERTIFICATE;
    }
    *roles_next = roles.t;
    e = cw_role_table_assign(roles_next, argv[1], argv[2], c.id, c.id_len);
    if (e == CW_OK) {
        e = roles_commit(roles_next);
    }
    if (e == CW_OK) {
        cw_console_printf(con, "role %s assigned to set %s (%s)", argv[1], argv[2], c.sum.subject);
    }
    return e;
}

static cw_err cmd_roles(cw_console_ctx *con, int argc, char **argv)
{
    cw_p11_ctx *p11 = cw_token_session();
    int64_t now = hal_clock_utc();
    cw_err e;
    (void)argv;

    if (argc != 1) {
        return CW_ERR_USAGE;
    }
    e = need_topology();
    if (e == CW_OK && p11 == NULL) {
        e = cw_token_error();
    }
    if (e != CW_OK) {
        return e;
    }
    for (size_t r = 0; r < cw_topology_role_count(&topo.t); r++) {
        char role[CW_TOPO_NAME_MAX + 1];
        char set[CW_TOPO_NAME_MAX + 1];
        const cw_role_assignment_t *a;
        const char *state;
        set_cert_t c;
        cw_pending_t pend;
        char when[24];
        bool have_derived = false;

        cw_wizard_view_str(topo.t.roles[r].name, role, sizeof role);
        a = cw_role_table_find(&roles.t, role);
        if (a != NULL) {
            strcpy(set, a->set);
        } else {
            cw_wizard_view_str(topo.t.sets[topo.t.roles[r].set].name, set, sizeof set);
        }
        memset(&c, 0, sizeof c);
        if (a != NULL) {
            (void)set_certificate(a->set, a->cert_id, a->cert_id_len, &c);
        }
        if (c.found) {
            size_t si;
            unsigned renew = CW_TOPO_DEFAULT_RENEW_PERCENT;
            have_derived = cw_topology_find_set(&topo.t, set, strlen(set), &si) == CW_OK &&
                           cw_topology_derive(&topo.t, si, derived) == CW_OK;
            if (have_derived) {
                renew = derived->renew_percent;
            }
            int64_t life = c.sum.not_after - c.sum.not_before;
            if (now > c.sum.not_after) {
                state = "expired";
            } else if (now > 0 && now >= c.sum.not_before + life / 100 * (int64_t)renew) {
                state = "expiring";
            } else {
                state = "assigned";
            }
        } else if (cw_pending_load(p11, set, ws->record, sizeof ws->record, &pend) == CW_OK) {
            state = "pending";
        } else if (set_certificate(set, NULL, 0, &c) == CW_OK && c.found) {
            state = "issued";
        } else {
            state = "none";
        }
        cw_console_printf(con, "role %s: set %s, %s", role, set, state);
        if (c.found) {
            cw_wizard_time_text(when, sizeof when, c.sum.not_after);
            cw_console_printf(con, "  subject: %s", c.sum.subject);
            cw_console_printf(con, "  issuer: %s", c.sum.issuer);
            cw_console_printf(con, "  notAfter: %s", when);
            if (have_derived) {
                char sans[CW_CONSOLE_OUT_MAX - 10];
                san_text(derived, sans, sizeof sans);
                cw_console_printf(con, "  SANs: %s", sans);
            }
        }
    }
    return CW_OK;
}

static const cw_cmd_t wizard_cmds[] = {
    {"topology", "load|show", "load the topology (PEM paste; needs login) or show the derived sets", cmd_topology},
    {"request", "<set> offline [challenge] | <set>|all online",
     "new key pair in the token; a CSR to take to the CA, or enrolment over SCEP (needs login)", cmd_request},
    {"csr", "<set>", "print the set's pending CSR again", cmd_csr},
    {"import", "<set>", "paste the CA's answer for the set; checked, stored, roles assigned (needs login)",
     cmd_import},
    {"ca", "import|auth|show|forget <profile>",
     "trust CA certificates (paste them, or fetch over SCEP), list them, or remove them (needs login but show)", cmd_ca},
    {"assign", "<role> <set>", "point a role at a set's valid certificate (needs login)", cmd_assign},
    {"roles", "", "every role: set, state, subject, issuer, notAfter, SANs", cmd_roles},
};

const cw_cmd_group_t cw_wizard_commands = {wizard_cmds, sizeof wizard_cmds / sizeof wizard_cmds[0]};
