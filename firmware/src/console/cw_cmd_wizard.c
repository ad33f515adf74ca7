/*
 * cw_cmd_wizard.c: the wizard's words: topology load|show, request, csr, import, ca, assign, roles
 * (docs/console.md). Each asks the role model (cw_model.h) and prints its answer; the online words
 * go to cw_cmd_enrol.c.
 *
 * A paste (import, ca import, topology load) is read into part B of the command scratch, claimed
 * when the paste begins and released when the command ends, whichever way.
 */
#include "cw/console/cw_cmd.h"

#define CW_SAY_FILE cw_cmd_wizard /* cw_console_say's rows (cw_console.h) */

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_clock.h"
#include "cw/base/cw_hex.h"
#include "cw/base/cw_wipe.h"
#include "cw/core/cw_model.h"
#include "cw/core/cw_scratch.h"
#include "cw/core/cw_token.h"
#include "cw/pki/cw_certs.h"
#include "hal_clock.h"
#include "mbedtls/sha256.h"

#define TOPOLOGY_PEM_LABEL "CERTWIZ TOPOLOGY"
#define NEW_ROOT_PROMPT "Trust this root CA for profile %s? (yes/no): "

/* ---- part B ---------------------------------------------------------------------------------------- */

static void *claim_b(void)
{
    return cw_scratch_claim(CW_SCRATCH_B, CW_SCRATCH_CONSOLE);
}

static void release_b(void)
{
    cw_scratch_release(CW_SCRATCH_B, CW_SCRATCH_CONSOLE);
}

/* ---- pastes --------------------------------------------------------------------------------------- */

typedef cw_err (*paste_done_fn)(cw_console_ctx *con);

static struct {
    cw_cmd_paste_ctx *ctx;              /* part B while the paste and its command run */
    paste_done_fn done;
    char target[CW_TOPO_NAME_MAX + 1];  /* the set or profile named on the command line */
    bool one_block;                     /* ends at the first END line (topology load) */
} paste;

/* The command that pasted ends: part B goes back. */
static cw_err paste_end(cw_err e)
{
    if (paste.ctx != NULL && e != CW_ERR_IN_PROGRESS) {
        release_b();
        paste.ctx = NULL;
    }
    return e;
}

/* Lines of a paste. It ends on `quit`, on an empty line after a complete block, or (topology)
 * on the END line; an empty line inside a block (BEGIN read, END not yet) ends it too, as
 * refused (docs/console.md: a blank line ends a paste). Errors of the PEM reader stick and are
 * reported when the paste ends, so that the rest of a bad paste is never taken for commands. */
static cw_err paste_line(cw_console_ctx *con, char *line, void *arg)
{
    cw_pem_reader_ctx *r = &paste.ctx->pem;
    size_t n;
    (void)arg;

    if (line == NULL) {
        return paste_end(CW_ERR_CANCELLED);
    }
    n = strlen(line);
    if (strcmp(line, "quit") == 0 || (n == 0 && r->state == CW_PEM_OUTSIDE && r->nblocks > 0)) {
        return paste_end(paste.done(con));
    }
    if (n == 0 && r->state == CW_PEM_OUTSIDE) {
        return CW_ERR_IN_PROGRESS; /* blank lines before the paste */
    }
    if (n == 0 && r->state == CW_PEM_INSIDE) {
        return paste_end(CW_ERR_PASTE_OPEN_BLOCK); /* ended before the block's END line */
    }
    if (n == 0) {
        return paste_end(paste.done(con)); /* a paste the reader refused: its error, now */
    }
    size_t blocks = r->nblocks;
    (void)cw_pem_reader_push_line(r, line, n);
    if (r->nblocks > blocks) {
        if (paste.one_block) {
            return paste_end(paste.done(con));
        }
        /* A block is complete; a bundle may go on. One prompt per block also lets cwctl send a
         * file block by block, each answer paced by the device. */
        cw_console_prompt(con, CW_SAY_LINE("Another PEM block, or a blank line or quit to finish: "));
    }
    return CW_ERR_IN_PROGRESS;
}

static cw_err paste_begin(cw_console_ctx *con, const char *target, bool one_block, paste_done_fn done,
                          unsigned prompt)
{
    if (target != NULL && strlen(target) > CW_TOPO_NAME_MAX) {
        return CW_ERR_TOO_LARGE;
    }
    memset(&paste, 0, sizeof paste);
    paste.done = done;
    paste.one_block = one_block;
    if (target != NULL) {
        strcpy(paste.target, target);
    }
    paste.ctx = claim_b();
    if (paste.ctx == NULL) {
        return CW_ERR_BUSY;
    }
    cw_pem_reader_init(&paste.ctx->pem, paste.ctx->der, sizeof paste.ctx->der);
    cw_console_ask(con, prompt, false, paste_line, NULL);
    return CW_ERR_IN_PROGRESS;
}

/* The certificates of the finished paste, in paste.ctx->certs. */
static cw_err paste_certificates(void)
{
    cw_pem_reader_ctx *r = &paste.ctx->pem;
    cw_err e = cw_pem_reader_finish(r);

    memset(&paste.ctx->certs, 0, sizeof paste.ctx->certs);
    if (e == CW_ERR_NOT_FOUND) {
        return CW_ERR_IMPORT_NO_CERT;
    }
    for (size_t i = 0; e == CW_OK && i < r->nblocks; i++) {
        const cw_pem_block_t *b = &r->blocks[i];
        if (strcmp(b->label, "CERTIFICATE") != 0 && strcmp(b->label, "X509 CERTIFICATE") != 0 &&
            strcmp(b->label, "PKCS7") != 0 && strcmp(b->label, "CMS") != 0) {
            return CW_ERR_PASTE_LABEL;
        }
        e = cw_import_collect(paste.ctx->der + b->off, b->len, &paste.ctx->certs);
    }
    return e;
}

/* Prints der as a PEM block, line by line: no buffer for the whole text. */
static void print_pem(cw_console_ctx *con, const char *label, const uint8_t *der, size_t len)
{
    char line[65];
    cw_console_say(con, "-----BEGIN %s-----", label);
    for (size_t i = 0; i < len; i += CW_PEM_LINE_BYTES) {
        (void)cw_pem_encode_line(der + i, len - i < CW_PEM_LINE_BYTES ? len - i : CW_PEM_LINE_BYTES, line);
        cw_console_say(con, "%s", line);
    }
    cw_console_say(con, "-----END %s-----", label);
}

/* ---- topology load | show ------------------------------------------------------------------------ */

static cw_err topology_loaded(cw_console_ctx *con)
{
    cw_pem_reader_ctx *r = &paste.ctx->pem;
    const cw_pem_block_t *b = &r->blocks[0];
    const cw_topology *t;
    cw_model_load_t why;
    cw_err e = cw_pem_reader_finish(r);

    if (e != CW_OK) {
        return e;
    }
    if (strcmp(b->label, TOPOLOGY_PEM_LABEL) != 0) {
        return CW_ERR_PASTE_LABEL;
    }
    e = cw_model_load_topology(paste.ctx->der + b->off, b->len, &why);
    if (why.refused) {
        cw_console_say(con, "topology refused at %s; the stored one is unchanged",
                       why.where[0] ? why.where : "(whole blob)");
    } else if (e == CW_ERR_TOKEN_ELSEWHERE) {
        cw_console_say(con, "set %s names the token %s, not this board's", why.set, why.token_uri);
    } else if (e == CW_ERR_KEY_SIZE) {
        cw_cmd_key_refused(con, why.set, why.key_type, &why.range, "; topology refused, the stored one is unchanged");
    }
    if (e != CW_OK) {
        return e;
    }
    t = cw_model_topology();
    cw_console_say(con, "topology stored: %lu CA profiles, %lu sets, %lu roles",
                   (unsigned long)cw_topology_profile_count(t), (unsigned long)cw_topology_set_count(t),
                   (unsigned long)cw_topology_role_count(t));
    return CW_OK;
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

static void show_set(cw_console_ctx *con, const cw_topology *t, size_t s, const cw_topology_derived *d)
{
    char name[CW_TOPO_NAME_MAX + 1];
    char profile[CW_TOPO_NAME_MAX + 1];
    char subject[CW_CONSOLE_OUT_MAX];
    char sans[CW_CONSOLE_OUT_MAX - 10];
    char rl[CW_CONSOLE_OUT_MAX - 10];
    size_t len = 0;
    size_t o = 0;
    const cw_topo_set_t *set = &t->sets[s];

    cw_model_set_name(s, name, sizeof name);
    cw_model_profile_name(d->profile, profile, sizeof profile);
    if (cw_topology_subject_format(d, subject, sizeof subject, &len) != CW_OK) {
        strcpy(subject, "(too long to show)");
    }
    san_text(d, sans, sizeof sans);
    rl[0] = '\0';
    for (size_t r = set->first_role; r < (size_t)set->first_role + set->role_count; r++) {
        char role[CW_TOPO_NAME_MAX + 1];
        cw_model_view_str(t->roles[r].name, role, sizeof role);
        int w = snprintf(rl + o, sizeof rl - o, "%s%s", o ? ", " : "", role);
        if (w > 0 && (size_t)w < sizeof rl - o) {
            o += (size_t)w;
        }
    }
    cw_console_say(con, "set %s", name);
    cw_console_say(con, "  roles: %s", rl);
    cw_console_say(con, "  CA profile: %s (%s), key %s, EKU %s", profile, cw_topology_protocol_name(d->protocol),
                   cw_topology_key_type_name(d->key_type), eku_text(d->eku));
    cw_console_say(con, "  subject: %s", subject);
    cw_console_say(con, "  SANs: %s", sans);
}

static cw_err topology_show(cw_console_ctx *con)
{
    const cw_topology *t = cw_model_topology();
    char host[CW_TOPO_DNS_NAME_MAX + 1];
    char site[CW_TOPO_TEXT_MAX + 1];
    cw_cmd_view_ctx *v;
    cw_err e = CW_OK;

    if (t == NULL) {
        return cw_model_need_topology();
    }
    cw_model_view_str(t->host, host, sizeof host);
    cw_model_view_str(t->site, site, sizeof site);
    cw_console_say(con, "appliance %s, site %s", host, site);
    for (size_t p = 0; p < cw_topology_profile_count(t); p++) {
        const cw_topo_profile_t *pr = &t->profiles[p];
        char name[CW_TOPO_NAME_MAX + 1];
        char url[CW_TOPO_URL_MAX + 1];
        cw_model_view_str(pr->name, name, sizeof name);
        cw_model_view_str(pr->url, url, sizeof url);
        cw_console_say(con, "CA profile %s: %s%s%s%s", name, cw_topology_protocol_name((cw_topo_protocol)pr->protocol),
                       url[0] ? " " : "", url, pr->fingerprint.len ? ", CA fingerprint pinned" : "");
    }
    if ((v = claim_b()) == NULL) {
        return CW_ERR_BUSY;
    }
    for (size_t s = 0; e == CW_OK && s < cw_topology_set_count(t); s++) {
        e = cw_model_derive(s, &v->derived) == CW_OK ? CW_OK : CW_ERR_INTERNAL;
        if (e == CW_OK) {
            show_set(con, t, s, &v->derived);
        }
    }
    release_b();
    return e;
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
        /* the label is TOPOLOGY_PEM_LABEL's (a stored line is one literal) */
        return paste_begin(con, NULL, true, topology_loaded,
                           CW_SAY_LINE("Paste the CERTWIZ TOPOLOGY block, it ends with its END line: "));
    }
    return CW_ERR_USAGE;
}

/* ---- request, csr ----------------------------------------------------------------------------------- */

static struct {
    size_t set_index;
    char set[CW_TOPO_NAME_MAX + 1];
} req;

/* Generates the key, builds and signs the CSR, stores the pending record, prints the CSR. */
static cw_err make_request(cw_console_ctx *con, const char *challenge, size_t challenge_len)
{
    cw_cmd_request_ctx *rc = claim_b();
    cw_model_request_t out;
    char id[2 * CW_P11_KEY_ID_LEN + 1];
    cw_err e;

    if (rc == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_model_derive(req.set_index, &rc->derived);
    if (e == CW_OK) {
        cw_console_say(con, "generating a %s key pair in the token for set %s ...",
                       cw_cmd_key_type_text(rc->derived.key_type), req.set);
        e = cw_model_request(&rc->derived, challenge, challenge_len, rc->csr, sizeof rc->csr, &out);
    }
    if (e == CW_OK) {
        cw_hex_encode(out.key.id, out.key.id_len, id, false);
        cw_console_say(con, "key pair generated in %lu ms, id %s", (unsigned long)out.keygen_ms, id);
        cw_console_say(con, "request stored as pending for set %s; send this CSR to the CA:", req.set);
        print_pem(con, "CERTIFICATE REQUEST", rc->csr, out.csr_len);
    }
    cw_wipe(rc, sizeof *rc); /* the CSR may carry the challenge */
    release_b();
    return e;
}

static cw_err take_challenge(cw_console_ctx *con, char *line, void *arg)
{
    (void)arg;
    if (line == NULL) {
        return CW_ERR_CANCELLED;
    }
    return make_request(con, line, strlen(line)); /* the console wipes its line buffer */
}

static cw_err print_pending(cw_console_ctx *con, const char *set)
{
    cw_cmd_paste_ctx *buf = claim_b(); /* a free buffer of the paste's size holds the record */
    cw_pending_t pend;
    char id[2 * CW_P11_KEY_ID_LEN + 1];
    char when[24];
    cw_err e;

    if (buf == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_model_pending(set, buf->der, sizeof buf->der, &pend);
    if (e == CW_OK) {
        cw_hex_encode(pend.key_id, pend.key_id_len, id, false);
        cw_cmd_time_text(when, sizeof when, pend.created);
        cw_console_say(con, "pending request for set %s, key id %s, made %s:", set, id, when);
        print_pem(con, "CERTIFICATE REQUEST", pend.csr, pend.csr_len);
    }
    release_b();
    return e;
}

/* The token must make the set's key type: said before any key is generated. */
static cw_err key_made_here(cw_console_ctx *con, const char *set)
{
    cw_key_type t;
    cw_p11_key_range_t range;
    size_t i;
    cw_err e = cw_model_find_set(set, &i);
    if (e == CW_OK) {
        e = cw_model_key_check(i, &t, &range);
        if (e == CW_ERR_KEY_SIZE) {
            cw_cmd_key_refused(con, set, t, &range, "");
        }
    }
    return e;
}

static cw_err cmd_request(cw_console_ctx *con, int argc, char **argv)
{
    cw_err e;

    if (argc == 3 && strcmp(argv[2], "online") == 0) {
        /* `all` is no set: every set's key type was checked when the topology was loaded */
        e = strcmp(argv[1], "all") == 0 ? CW_OK : key_made_here(con, argv[1]);
        return e != CW_OK ? e : cw_cmd_request_online(con, argv[1]);
    }
    if (argc < 3 || argc > 4 || strcmp(argv[2], "offline") != 0 ||
        (argc == 4 && strcmp(argv[3], "challenge") != 0)) {
        return CW_ERR_USAGE;
    }
    e = cw_token_need_login();
    if (e == CW_OK) {
        e = cw_model_find_set(argv[1], &req.set_index);
    }
    if (e == CW_OK) {
        e = key_made_here(con, argv[1]);
    }
    if (e != CW_OK) {
        return e;
    }
    strcpy(req.set, argv[1]);
    {
        cw_cmd_paste_ctx *buf = claim_b();
        cw_pending_t pend;
        bool pending = buf != NULL && cw_model_pending(req.set, buf->der, sizeof buf->der, &pend) == CW_OK;
        if (buf != NULL) {
            release_b();
        }
        if (pending) {
            /* never a second key for the same pending request */
            cw_console_say(con, "set %s already has a pending request; its CSR again (no new key):", req.set);
            return print_pending(con, req.set);
        }
    }
    if (argc == 4) {
        cw_console_ask(con, CW_SAY_LINE("Challenge password (hidden): "), true, take_challenge, NULL);
        return CW_ERR_IN_PROGRESS;
    }
    return make_request(con, NULL, 0);
}

static cw_err cmd_csr(cw_console_ctx *con, int argc, char **argv)
{
    size_t i;
    cw_err e;
    if (argc != 2) {
        return CW_ERR_USAGE;
    }
    e = cw_model_find_set(argv[1], &i);
    return e != CW_OK ? e : print_pending(con, argv[1]);
}

/* ---- what an accepted answer prints ------------------------------------------------------------- */

void cw_cmd_print_accepted(cw_console_ctx *con, const char *set, const cw_model_accepted_t *acc, cw_err e)
{
    const cw_topology *t = cw_model_topology();
    char when[24];

    if (!acc->checked) {
        return;
    }
    cw_console_say(con, "certificate checked: key, end entity, names, validity, key usage, EKU and chain are right");
    cw_cmd_fingerprint(con, "root CA", acc->root_sha256);
    if (e != CW_OK) {
        return;
    }
    cw_cmd_time_text(when, sizeof when, acc->leaf.not_after);
    cw_console_say(con, "stored for set %s: %s, valid until %s", set, acc->leaf.subject, when);
    {
        const cw_topo_set_t *s = &t->sets[acc->set_index];
        for (size_t r = s->first_role; r < (size_t)s->first_role + s->role_count; r++) {
            char role[CW_TOPO_NAME_MAX + 1];
            cw_model_view_str(t->roles[r].name, role, sizeof role);
            cw_console_say(con, "role %s assigned to set %s", role, set);
        }
    }
}

/* ---- trusting a new root: the operator decides ------------------------------------------------------ */

static struct {
    uint8_t sha256[32];                 /* the root shown to the operator */
    paste_done_fn accepted;             /* what to finish once they say yes */
} new_root;

static cw_err root_answered(cw_console_ctx *con, char *line, void *arg)
{
    (void)arg;
    if (line == NULL || strcmp(line, "yes") != 0) {
        return paste_end(CW_ERR_CANCELLED); /* nothing stored */
    }
    return paste_end(new_root.accepted(con));
}

/* Shows a root that is neither pinned nor trusted for the profile yet, as `ca auth` shows a CA,
 * and asks the operator; on yes, accepted() finishes the command with the root confirmed. */
static cw_err ask_new_root(cw_console_ctx *con, const char *profile, const cw_der_t *root, paste_done_fn accepted)
{
    static char prompt[sizeof NEW_ROOT_PROMPT + CW_TOPO_NAME_MAX];

    (void)mbedtls_sha256(root->p, root->len, new_root.sha256, 0);
    new_root.accepted = accepted;
    cw_console_say(con, "root CA of the answer, not trusted for profile %s yet:", profile);
    cw_cmd_show_cert(con, root, false);
    cw_console_say(con, "the topology pins no fingerprint: compare it with the one the CA's operator gives you");
    (void)snprintf(prompt, sizeof prompt, NEW_ROOT_PROMPT, profile);
    cw_console_expect(con, prompt, false, root_answered, NULL);
    return CW_ERR_IN_PROGRESS;
}

/* ---- import ------------------------------------------------------------------------------------------ */

static cw_err import_confirmed(cw_console_ctx *con)
{
    cw_model_accepted_t acc;
    cw_err e = cw_model_accept(paste.target, &paste.ctx->certs, new_root.sha256, &acc);
    cw_cmd_print_accepted(con, paste.target, &acc, e);
    return e;
}

static cw_err import_done(cw_console_ctx *con)
{
    cw_model_accepted_t acc;
    char profile[CW_TOPO_NAME_MAX + 1];
    cw_err e = paste_certificates();

    if (e != CW_OK) {
        return e;
    }
    e = cw_model_accept(paste.target, &paste.ctx->certs, NULL, &acc);
    cw_cmd_print_accepted(con, paste.target, &acc, e);
    if (e != CW_ERR_IMPORT_ROOT_UNCONFIRMED || acc.root_index >= paste.ctx->certs.n) {
        return e;
    }
    cw_model_profile_name(cw_model_topology()->sets[acc.set_index].profile, profile, sizeof profile);
    return ask_new_root(con, profile, &paste.ctx->certs.cert[acc.root_index], import_confirmed);
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
        e = cw_model_find_set(argv[1], &i);
    }
    if (e != CW_OK) {
        return e;
    }
    return paste_begin(con, argv[1], false, import_done,
                       CW_SAY_LINE("Paste the certificate (PEM, a bundle or PKCS#7); end with a blank line or quit: "));
}

/* ---- ca import ------------------------------------------------------------------------------------ */

static cw_err ca_import_confirmed(cw_console_ctx *con);

/* ca import: checks every pasted certificate before storing any, then stores the new ones.
 * confirmed is the root the operator accepted, or NULL (then a new root asks them first).
 * The profile's stored CA certificates are read into part A (the model's workspace type). */
static cw_err ca_import_check_and_store(cw_console_ctx *con, const uint8_t *confirmed)
{
    const char *profile = paste.target;
    const cw_cert_list_t *pasted = &paste.ctx->certs;
    const cw_topology *t = cw_model_topology();
    const uint8_t *pin = NULL;
    cw_trust_t *trust;
    size_t pi;
    size_t stored = 0;
    size_t first_new;
    uint8_t unknown_root[32]; /* a pasted root the profile does not trust yet */
    bool have_unknown_root = false;
    cw_err e = cw_token_need_login();

    if (e == CW_OK && (t == NULL || cw_topology_find_profile(t, profile, strlen(profile), &pi) != CW_OK)) {
        e = CW_ERR_UNKNOWN_PROFILE;
    }
    if (e != CW_OK) {
        return e;
    }
    if (t->profiles[pi].fingerprint.len == 32) {
        pin = cw_topo_bytes(t, t->profiles[pi].fingerprint);
    }
    trust = cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_CONSOLE);
    if (trust == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_trust_load(cw_token_session(), profile, trust);
    first_new = trust->list.n;
    /* A root first, then what it issued, in whatever order they were pasted (each pass trusts
     * what the previous ones accepted); every root must be one the profile may trust. */
    if (e == CW_OK) {
        bool done[CW_IMPORT_CERTS_MAX] = {false};
        bool progress = true;
        while (e == CW_OK && progress) {
            progress = false;
            for (size_t i = 0; e == CW_OK && i < pasted->n; i++) {
                const cw_der_t *c = &pasted->cert[i];
                uint8_t fp[32];
                if (done[i]) {
                    continue;
                }
                for (size_t j = 0; j < trust->list.n && !done[i]; j++) {
                    done[i] = trust->list.cert[j].len == c->len && memcmp(trust->list.cert[j].p, c->p, c->len) == 0;
                }
                if (done[i] || cw_import_check_ca(c, cw_clock_utc(), pin, &trust->list, fp) != CW_OK) {
                    continue;
                }
                /* the profile's stored certificates decide about the root, not what this paste
                 * added in an earlier pass */
                {
                    cw_cert_list_t before = trust->list;
                    before.n = first_new;
                    e = cw_import_trust_root(&before, pin, confirmed, fp);
                }
                if (e == CW_ERR_IMPORT_ROOT_UNCONFIRMED) {
                    if (have_unknown_root && memcmp(unknown_root, fp, 32) != 0) {
                        e = CW_ERR_IMPORT_ROOT_CHANGED; /* two new roots: one profile, one root */
                        break;
                    }
                    memcpy(unknown_root, fp, 32);
                    have_unknown_root = true;
                    e = CW_OK;
                }
                if (e == CW_OK && trust->list.n == CW_IMPORT_CERTS_MAX) {
                    e = CW_ERR_TOO_LARGE;
                }
                if (e == CW_OK) {
                    trust->list.cert[trust->list.n++] = *c;
                    done[i] = true;
                    progress = true;
                }
            }
        }
        for (size_t i = 0; e == CW_OK && i < pasted->n; i++) {
            uint8_t fp[32];
            if (!done[i]) {
                /* the reason this one is refused: not a CA, expired, untrusted, pin mismatch */
                e = cw_import_check_ca(&pasted->cert[i], cw_clock_utc(), pin, &trust->list, fp);
                if (e == CW_OK) {
                    e = CW_ERR_IMPORT_UNTRUSTED;
                }
            }
        }
        stored = trust->list.n - first_new;
    }
    if (e == CW_OK && stored == 0) {
        cw_console_say(con, "these CA certificates are stored already");
    } else if (e == CW_OK && have_unknown_root) {
        for (size_t i = 0; i < pasted->n; i++) {
            uint8_t fp[32];
            (void)mbedtls_sha256(pasted->cert[i].p, pasted->cert[i].len, fp, 0);
            if (memcmp(fp, unknown_root, 32) == 0) {
                cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_CONSOLE);
                return ask_new_root(con, profile, &pasted->cert[i], ca_import_confirmed);
            }
        }
        e = CW_ERR_INTERNAL; /* a root not stored came from the paste */
    } else {
        for (size_t i = first_new; e == CW_OK && i < trust->list.n; i++) {
            cw_cert_summary_t s;
            const cw_der_t *c = &trust->list.cert[i];
            e = cw_trust_add(cw_token_session(), profile, c);
            if (e == CW_OK) {
                (void)cw_import_summary(c, &s);
                cw_console_say(con, "stored CA certificate for profile %s: %s", profile, s.subject);
                cw_cmd_fingerprint(con, "  ", s.sha256);
            }
        }
    }
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_CONSOLE);
    return e;
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

/* ---- ca show | forget ---------------------------------------------------------------------------- */

static struct {
    char profile[CW_TOPO_NAME_MAX + 1];
} forget;

/* Lists the profile's CA certificates; *n gets how many. */
static cw_err list_cas(cw_console_ctx *con, const char *profile, size_t *n)
{
    cw_trust_t *trust = cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_CONSOLE);
    cw_err e;

    if (trust == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_trust_load(cw_token_session(), profile, trust);
    *n = trust->list.n;
    for (size_t i = 0; e == CW_OK && i < trust->list.n; i++) {
        cw_cert_summary_t s;
        char until[24];
        if (cw_import_summary(&trust->list.cert[i], &s) != CW_OK) {
            cw_console_say(con, "CA certificate %lu: unreadable", (unsigned long)i + 1);
            continue;
        }
        cw_cmd_time_text(until, sizeof until, s.not_after);
        cw_console_say(con, "CA certificate %lu: %s (issuer %s), valid until %s", (unsigned long)i + 1, s.subject,
                       s.issuer, until);
        cw_cmd_fingerprint(con, " ", s.sha256);
    }
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_CONSOLE);
    return e;
}

static cw_err forget_answered(cw_console_ctx *con, char *line, void *arg)
{
    size_t n = 0;
    cw_err e;
    (void)arg;

    if (line == NULL || strcmp(line, "yes") != 0) {
        return CW_ERR_CANCELLED;
    }
    e = cw_trust_forget(cw_token_session(), forget.profile, &n);
    if (e == CW_OK) {
        cw_console_say(con, "profile %s trusts no CA certificate now; roles keep theirs", forget.profile);
    }
    return e;
}

static cw_err ca_show_or_forget(cw_console_ctx *con, const char *what, const char *profile)
{
    const cw_topology *t = cw_model_topology();
    size_t pi;
    size_t n = 0;
    cw_err e = strcmp(what, "forget") == 0 ? cw_token_need_login() : CW_OK;

    if (e == CW_OK && t == NULL) {
        e = CW_ERR_NO_TOPOLOGY;
    }
    if (e == CW_OK && cw_topology_find_profile(t, profile, strlen(profile), &pi) != CW_OK) {
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
        cw_console_say(con, "profile %s trusts no CA certificate", profile);
        return CW_OK;
    }
    if (strcmp(what, "show") == 0) {
        return CW_OK;
    }
    (void)snprintf(forget.profile, sizeof forget.profile, "%s", profile);
    cw_console_say(con, "profile %s then needs a CA trusted again", profile);
    cw_console_ask(con, CW_SAY_LINE("Forget these CA certificates? (yes/no): "), false, forget_answered, NULL);
    return CW_ERR_IN_PROGRESS;
}

static cw_err cmd_ca(cw_console_ctx *con, int argc, char **argv)
{
    const cw_topology *t = cw_model_topology();
    size_t pi;
    cw_err e;

    if (argc == 3 && strcmp(argv[1], "auth") == 0) {
        return cw_cmd_ca_auth(con, argv[2]);
    }
    if (argc == 3 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "forget") == 0)) {
        return ca_show_or_forget(con, argv[1], argv[2]);
    }
    if (argc != 3 || strcmp(argv[1], "import") != 0) {
        return CW_ERR_USAGE;
    }
    e = cw_token_need_login();
    if (e == CW_OK && t == NULL) {
        e = CW_ERR_NO_TOPOLOGY;
    }
    if (e == CW_OK && cw_topology_find_profile(t, argv[2], strlen(argv[2]), &pi) != CW_OK) {
        e = CW_ERR_UNKNOWN_PROFILE;
    }
    if (e != CW_OK) {
        return e;
    }
    return paste_begin(con, argv[2], false, ca_import_done,
                       CW_SAY_LINE("Paste the CA certificate(s) (PEM or PKCS#7); end with a blank line or quit: "));
}

/* ---- assign, roles ----------------------------------------------------------------------------------- */

static cw_err cmd_assign(cw_console_ctx *con, int argc, char **argv)
{
    cw_cert_summary_t s;
    cw_err e;

    if (argc != 3) {
        return CW_ERR_USAGE;
    }
    e = cw_model_assign(argv[1], argv[2], &s);
    if (e == CW_OK) {
        cw_console_say(con, "role %s assigned to set %s (%s)", argv[1], argv[2], s.subject);
    }
    return e;
}

static const char *state_text(cw_role_state s)
{
    switch (s) {
    case CW_ROLE_NONE: return "none";
    case CW_ROLE_PENDING: return "pending";
    case CW_ROLE_ISSUED: return "issued";
    case CW_ROLE_ASSIGNED: return "assigned";
    case CW_ROLE_EXPIRING: return "expiring";
    case CW_ROLE_EXPIRED: return "expired";
    case CW_ROLE_TIME_UNKNOWN: return "assigned, validity not judged (TIME_UNKNOWN: the time is not trusted yet)";
    }
    return "?";
}

static cw_err cmd_roles(cw_console_ctx *con, int argc, char **argv)
{
    const cw_topology *t = cw_model_topology();
    cw_role_info_t info;
    cw_err e = CW_OK;
    (void)argc;
    (void)argv;

    if (t == NULL) {
        return cw_model_need_topology();
    }
    if (cw_token_session() == NULL) {
        return cw_token_error();
    }
    for (size_t r = 0; e == CW_OK && r < cw_topology_role_count(t); r++) {
        char when[24];
        e = cw_model_role(r, &info);
        if (e != CW_OK) {
            break;
        }
        cw_console_say(con, "role %s: set %s, %s", info.role, info.set, state_text(info.state));
        {
            size_t si;
            if (cw_model_find_set(info.set, &si) == CW_OK) {
                cw_cmd_life_line(con, si, "  life of set ", info.set, cw_clock_utc());
            }
        }
        if (info.has_cert) {
            size_t si;
            cw_cmd_time_text(when, sizeof when, info.not_after);
            cw_console_say(con, "  subject: %s", info.subject);
            cw_console_say(con, "  issuer: %s", info.issuer);
            cw_console_say(con, "  notAfter: %s", when);
            if (cw_model_find_set(info.set, &si) == CW_OK) {
                cw_cmd_view_ctx *v = claim_b();
                if (v != NULL) {
                    if (cw_model_derive(si, &v->derived) == CW_OK) {
                        char sans[CW_CONSOLE_OUT_MAX - 10];
                        san_text(&v->derived, sans, sizeof sans);
                        cw_console_say(con, "  SANs: %s", sans);
                    }
                    release_b();
                }
            }
        }
    }
    return e;
}

static const cw_cmd_t wizard_cmds[] = {
    {"topology", "load|show", CW_CMD_HELP("load the topology (PEM paste; needs login) or show the derived sets"),
     cmd_topology},
    {"request", "<set> offline [challenge] | <set>|all online",
     CW_CMD_HELP("new key pair in the token; a CSR to take to the CA, or enrolment over SCEP (needs login)"),
     cmd_request},
    {"csr", "<set>", CW_CMD_HELP("print the set's pending CSR again"), cmd_csr},
    {"import", "<set>", CW_CMD_HELP("paste the CA's answer for the set; checked, stored, roles assigned (needs login)"),
     cmd_import},
    {"ca", "import|auth|show|forget <profile>",
     CW_CMD_HELP("trust CA certificates (paste them, or fetch over SCEP), list them, or remove them "
                 "(needs login but show)"),
     cmd_ca},
    {"assign", "<role> <set>", CW_CMD_HELP("point a role at a set's valid certificate (needs login)"), cmd_assign},
    {"roles", "", CW_CMD_HELP("every role: set, state, subject, issuer, notAfter, SANs"), cmd_roles},
};

const cw_cmd_group_t cw_cmd_wizard = {wizard_cmds, sizeof wizard_cmds / sizeof wizard_cmds[0]};
