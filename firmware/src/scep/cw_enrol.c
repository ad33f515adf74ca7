/*
 * cw_enrol.c: online enrolment over SCEP (cw_enrol.h; docs/scep.md has the design notes).
 *
 * One job runs at a time: a console command (ca auth, request ... online, renew) or a background
 * poll of a request the CA holds. A job is a short chain of HTTP exchanges with the CA profile's
 * server, driven from cw_poll:
 *
 *   GetCACaps -> GetCACert -> (token work: key, CSR, pkiMessage) -> PKIOperation -> reply
 *
 * `request all online` runs that chain once per set. Token operations (key generation,
 * signing, decryption) are synchronous calls between two exchanges. A background poll has no
 * console (job.con NULL), and cw_console_printf prints nothing for it.
 *
 * Ordering for power cuts (docs/store.md): the pending record (without the challenge) is stored
 * before a PKCSReq or RenewalReq leaves; the CA's certificate is stored through the same steps
 * as a pasted one (cw_wizard_accept). A record whose request got no answer is sent again (same
 * key, same transactionID, RFC 8894 3.3.3); one the CA answered PENDING is polled (CertPoll).
 *
 * The challenge password lives in job.challenge from its prompt until the request that carries
 * it is built (a whole `request all online` run), and in the CSR scratch until the pkiMessage
 * holds it encrypted; both are wiped then. It is never printed or stored.
 */
#include "cw/scep/cw_enrol.h"
#include "cw/core/cw_scratch.h"
#include "core/cw_wizard_int.h"

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/pki/cw_import.h"
#include "cw/base/cw_opts.h"
#include "cw/scep/cw_scep.h"
#include "cw/scep/cw_scep_msg.h"
#include "cw/pki/cw_store.h"
#include "cw/core/cw_token.h"
#include "cw/base/cw_wipe.h"
#include "hal_clock.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

/* Longest challenge password: what fits on a console line. */
#define CHALLENGE_MAX CW_CONSOLE_LINE_MAX
/* Back-off: each PENDING answer doubles the wait, up to this many times the profile's interval. */
#define POLL_BACKOFF_MAX 8u
/* A background poll a console command interrupted is tried again this much later. */
#define POLL_RETRY_MS 2000u

/* ---- buffers (docs/scep.md: sizes) ------------------------------------------------------------ */

/* The large buffers are in the command scratch (cw_scratch.h): the exchange's response and
 * pkiMessage in part a (the wizard's workspace takes it over when an answer is accepted), the
 * HTTP transfer, CA certificates and sequence buffer (CSR and signer certificate, a GET's query,
 * the opened reply) in part b. */
static struct cw_scratch_exch_t *const exch = &cw_scratch.a.exch;
static struct cw_scratch_scep_t *const scep = &cw_scratch.b.scep;
/* The set's pending record (docs/store.md) is read into whichever scratch buffer is free at that
 * moment, when its CSR is needed: the response buffer when a job starts and before a CertPoll is
 * made, the sequence buffer when a PENDING answer is recorded; job.pend keeps its fields, and
 * its csr is NULL between those moments. A record being stored is encoded in the response buffer
 * (free then: GetCACert's answer has been copied out, or the reply has been read). */
#if CW_SCEP_REPLY_MAX < CW_PENDING_RECORD_MAX
#error "CW_SCEP_REPLY_MAX must hold a pending record (CW_PENDING_RECORD_MAX): read or encoded there"
#endif
static cw_scep_ca_t ca;
static cw_cert_list_t issued;
static cw_topology_derived *const derived = &cw_wizard_derived; /* the job's set */

/* ---- the job ---------------------------------------------------------------------------------- */

typedef enum job_kind {
    JOB_IDLE = 0,
    JOB_AUTH,   /* ca auth */
    JOB_ENROL,  /* request ... online (a new request, a resend, or a poll) */
    JOB_RENEW   /* renew */
} job_kind;

typedef enum job_step {
    STEP_CAPS,
    STEP_CACERT,
    STEP_PKI
} job_step;

static struct {
    job_kind kind;
    job_step step;
    bool exchanging;            /* an HTTP exchange runs (not: waiting for the operator) */
    cw_console_ctx *con;        /* NULL: a background poll (prints nothing) */
    bool all;                   /* request all online */
    size_t next_set;            /* request all: the next set to look at */
    size_t set_index;
    char set[CW_TOPO_NAME_MAX + 1];
    size_t profile_index;
    char profile[CW_TOPO_NAME_MAX + 1];
    char url[CW_TOPO_URL_MAX + 1];
    unsigned caps;
    cw_cms_cipher cipher;
    cw_hash_alg digest;
    cw_scep_msg_type sent;      /* what the PKIOperation carries */
    uint8_t nonce[CW_SCEP_NONCE_LEN];
    cw_pending_t pend;          /* the set's pending record (csr: NULL, or see load_pending) */
    bool have_pend;
    cw_p11_key reply_key;       /* signs the request and decrypts the reply */
    char challenge[CHALLENGE_MAX + 1];
    size_t challenge_len;
    uint32_t t_set;
    unsigned n_done, n_pending, n_failed;
    cw_err first_error;
} job;

/* Background polls of requests the CA holds, per set of the topology. */
static struct {
    bool armed;
    uint32_t due_ms;
    uint32_t wait_s;            /* the current interval (grows by back-off) */
    cw_err last;                /* the last poll's result */
} polls[CW_TOPO_SETS_MAX];

static const char *cipher_text(cw_cms_cipher c)
{
    switch (c) {
    case CW_CMS_DES:
        return "DES-CBC";
    case CW_CMS_3DES:
        return "3DES-CBC";
    case CW_CMS_AES128:
        return "AES-128-CBC";
    case CW_CMS_AES192:
        return "AES-192-CBC";
    case CW_CMS_AES256:
        return "AES-256-CBC";
    }
    return "?";
}

static void forget_challenge(void)
{
    cw_wipe(job.challenge, sizeof job.challenge);
    job.challenge_len = 0;
}

/* Reads the job's pending record into buf (a free scratch buffer of CW_PENDING_RECORD_MAX or more):
 * job.pend gets its fields, and its csr points into buf. */
static cw_err load_pending(uint8_t *buf, size_t cap)
{
    return cw_pending_load(cw_token_session(), job.set, buf, cap, &job.pend);
}

/* Prepares the job for set i of the topology: names, profile, URL. */
static cw_err job_load_set(size_t i)
{
    const cw_topology *t = cw_wizard_topology();
    const cw_topo_profile_t *p;
    cw_err e;

    if (t == NULL) {
        return CW_ERR_NO_TOPOLOGY;
    }
    e = cw_topology_derive(t, i, derived);
    if (e != CW_OK) {
        return e;
    }
    p = &t->profiles[derived->profile];
    job.set_index = i;
    cw_wizard_view_str(t->sets[i].name, job.set, sizeof job.set);
    job.profile_index = derived->profile;
    cw_wizard_view_str(p->name, job.profile, sizeof job.profile);
    cw_wizard_view_str(p->url, job.url, sizeof job.url);
    if (derived->protocol != CW_TOPO_SCEP) {
        return CW_ERR_SCEP_NOT_SCEP;
    }
    job.have_pend = load_pending(exch->resp, sizeof exch->resp) == CW_OK;
    job.pend.csr = NULL;
    job.pend.csr_len = 0;
    return CW_OK;
}

/* The set's record says the CA holds its request: poll it, no challenge needed. */
static bool job_is_poll(void)
{
    return job.have_pend && job.pend.online && job.pend.held;
}

/* ---- starting exchanges ----------------------------------------------------------------------- */

static cw_err start_op(cw_scep_op op, const uint8_t *m, size_t m_len)
{
    bool post = (job.caps & (CW_SCEP_CAP_POST | CW_SCEP_CAP_STANDARD)) != 0;
    cw_err e;

    job.step = op == CW_SCEP_OP_CAPS ? STEP_CAPS : op == CW_SCEP_OP_CACERT ? STEP_CACERT : STEP_PKI;
    e = cw_scep_http_start(&scep->xfer, job.url, op, post, m, m_len, exch->resp, sizeof exch->resp);
    job.exchanging = e == CW_ERR_IN_PROGRESS;
    return e;
}

/* Starts the chain for the set loaded in job. */
static cw_err begin_set(void)
{
    job.t_set = hal_clock_ms();
    job.caps = 0;
    if (job.con != NULL) {
        cw_console_printf(job.con, "set %s: %s at %s", job.set,
                          job.kind == JOB_RENEW ? "renewing"
                          : job_is_poll()       ? "polling the request the CA holds"
                          : job.have_pend       ? "sending the unanswered request again"
                                                : "enrolling",
                          job.url);
    }
    return start_op(CW_SCEP_OP_CAPS, NULL, 0);
}

/* ---- CA certificate --------------------------------------------------------------------------- */

/* An RA certificate must be valid now by the device's clock. */
static cw_err check_ra_dates(const cw_der_t *ra)
{
    int64_t now = hal_clock_utc();
    cw_cert_summary_t s;

    if (cw_import_summary(ra, &s) != CW_OK) {
        return CW_ERR_SCEP_CACERT;
    }
    if (now <= 0) {
        return CW_ERR_IMPORT_CLOCK_UNSET;
    }
    if (now < s.not_before) {
        return CW_ERR_IMPORT_NOT_YET_VALID;
    }
    return now > s.not_after ? CW_ERR_IMPORT_EXPIRED : CW_OK;
}

/* The RA certificates of the answer must be issued by its CA (RFC 8894 2.2) and valid now. */
static cw_err check_ra(void)
{
    mbedtls_x509_crt cacrt;
    mbedtls_x509_crt ra;
    const cw_der_t *ras[2] = {&ca.signer, &ca.recipient};
    cw_err e = CW_OK;

    if (!ca.has_ra) {
        return CW_OK;
    }
    mbedtls_x509_crt_init(&cacrt);
    if (mbedtls_x509_crt_parse_der_nocopy(&cacrt, ca.ca.p, ca.ca.len) != 0) {
        mbedtls_x509_crt_free(&cacrt);
        return CW_ERR_SCEP_CACERT;
    }
    cw_arena_prepare_key(&cacrt.pk); /* it checks the RA certificates' signatures (cw_arena.h) */
    for (size_t i = 0; i < 2 && e == CW_OK; i++) {
        uint32_t flags = 0;
        mbedtls_x509_crt_init(&ra);
        if (mbedtls_x509_crt_parse_der_nocopy(&ra, ras[i]->p, ras[i]->len) != 0 ||
            mbedtls_x509_crt_verify(&ra, &cacrt, NULL, NULL, &flags, NULL, NULL) != 0) {
            /* mbedTLS would judge the dates by its own clock (none on these boards): only the
             * signature chain is its to check; the dates are the device clock's, below */
            if ((flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) != 0 || flags == 0) {
                e = CW_ERR_IMPORT_UNTRUSTED;
            }
        }
        mbedtls_x509_crt_free(&ra);
        if (e == CW_OK) {
            e = check_ra_dates(ras[i]);
        }
    }
    mbedtls_x509_crt_free(&cacrt);
    return e;
}

/* The CA of the answer is one the profile trusts (ca auth or ca import stored it). */
static cw_err check_authenticated(void)
{
    cw_cert_list_t trusted;
    cw_err e = cw_wizard_load_trust(job.profile, &trusted);

    if (e != CW_OK) {
        return e;
    }
    if (trusted.n == 0) {
        return CW_ERR_SCEP_NOT_AUTHENTICATED;
    }
    for (size_t i = 0; i < trusted.n; i++) {
        if (trusted.cert[i].len == ca.ca.len && memcmp(trusted.cert[i].p, ca.ca.p, ca.ca.len) == 0) {
            return check_ra();
        }
    }
    return CW_ERR_SCEP_CA_CHANGED;
}

static void print_ca(void)
{
    cw_cert_summary_t s;
    uint8_t sha1[20];
    char h[41];

    if (cw_import_summary(&ca.ca, &s) != CW_OK) {
        return;
    }
    (void)mbedtls_sha1(ca.ca.p, ca.ca.len, sha1);
    cw_wizard_hex(sha1, sizeof sha1, h);
    cw_console_printf(job.con, "CA certificate of profile %s:", job.profile);
    cw_console_printf(job.con, "  subject: %s", s.subject);
    cw_console_printf(job.con, "  issuer: %s", s.issuer);
    cw_wizard_print_fingerprint(job.con, " ", s.sha256);
    cw_console_printf(job.con, "   SHA-1: %s", h);
    if (ca.has_ra) {
        cw_cert_summary_t r;
        if (cw_import_summary(&ca.signer, &r) == CW_OK) {
            cw_console_printf(job.con, "  RA (signs replies): %s", r.subject);
        }
        if (cw_import_summary(&ca.recipient, &r) == CW_OK) {
            cw_console_printf(job.con, "  RA (receives requests): %s", r.subject);
        }
    }
}

static cw_err auth_confirmed(cw_console_ctx *con, char *line, void *arg)
{
    cw_err e;
    (void)arg;
    if (line == NULL || strcmp(line, "yes") != 0) {
        cw_scep_http_close(&scep->xfer);
        job.kind = JOB_IDLE;
        return CW_ERR_CANCELLED; /* nothing stored */
    }
    e = check_ra();
    if (e == CW_OK) {
        e = cw_wizard_store_ca(job.profile, &ca.ca);
    }
    if (e == CW_OK) {
        cw_console_printf(con, "CA certificate stored and trusted for profile %s", job.profile);
    }
    cw_scep_http_close(&scep->xfer);
    job.kind = JOB_IDLE;
    return e;
}

/* ca auth: GetCACert is in; pinned -> checked and stored; else the operator decides. */
static cw_err auth_answer(void)
{
    const cw_topology *t = cw_wizard_topology();
    const cw_topo_profile_t *p = &t->profiles[job.profile_index];
    const uint8_t *pin = p->fingerprint.len == 32 ? cw_topo_bytes(t, p->fingerprint) : NULL;
    cw_cert_list_t trusted;
    uint8_t root[32];
    cw_err e;

    print_ca();
    e = cw_wizard_load_trust(job.profile, &trusted);
    if (e == CW_OK) {
        e = cw_import_check_ca(&ca.ca, hal_clock_utc(), pin, &trusted, root);
    }
    if (e != CW_OK) {
        return e; /* not a CA, expired, untrusted, or not the pinned one: nothing stored */
    }
    for (size_t i = 0; i < trusted.n; i++) {
        if (trusted.cert[i].len == ca.ca.len && memcmp(trusted.cert[i].p, ca.ca.p, ca.ca.len) == 0) {
            cw_console_printf(job.con, "this CA certificate is authenticated already");
            return check_ra();
        }
    }
    /* the same rule as every other way in: pinned, under the root the profile trusts, or a first
     * root the operator accepts (a second root needs ca forget first) */
    e = cw_import_trust_root(&trusted, pin, NULL, root);
    if (e == CW_OK) {
        cw_console_printf(job.con, pin != NULL ? "the CA matches the fingerprint the topology pins"
                                               : "the CA is issued by the root the profile trusts");
        e = check_ra();
        if (e == CW_OK) {
            e = cw_wizard_store_ca(job.profile, &ca.ca);
        }
        if (e == CW_OK) {
            cw_console_printf(job.con, "CA certificate stored and trusted for profile %s", job.profile);
        }
        return e;
    }
    if (e != CW_ERR_IMPORT_ROOT_UNCONFIRMED) {
        return e; /* another root than the one the profile trusts */
    }
    cw_console_printf(job.con, "the topology pins no fingerprint: compare it with the one the CA's operator gives you");
    cw_console_expect(job.con, "Accept this CA certificate? (yes/no): ", false, auth_confirmed, NULL);
    return CW_ERR_IN_PROGRESS;
}

/* ---- building the request ---------------------------------------------------------------------- */

static void hex_upper(const uint8_t *v, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[v[i] >> 4];
        out[2 * i + 1] = digits[v[i] & 15u];
    }
    out[2 * n] = '\0';
}

/* transactionID: hex SHA-256 of the request key's SubjectPublicKeyInfo. */
static cw_err make_txid(cw_p11_ctx *p11, const cw_p11_key *key, char *out)
{
    uint8_t spki[CW_P11_SPKI_MAX];
    uint8_t h[32];
    size_t len = 0;
    cw_err e = cw_p11_pubkey_spki(p11, key, spki, sizeof spki, &len);
    if (e == CW_OK) {
        (void)mbedtls_sha256(spki, len, h, 0);
        hex_upper(h, sizeof h, out);
    }
    return e;
}

/* The CSR for key, with the challenge if asked, into out (the CSR buffer is wiped after the
 * message is built). */
static cw_err build_csr(cw_p11_ctx *p11, const cw_p11_key *key, bool with_challenge, uint8_t *out, size_t cap,
                        size_t *len)
{
    cw_csr_req_t r;
    cw_wizard_csr_request(derived, &r);
    if (with_challenge && job.challenge_len > 0) {
        r.challenge = job.challenge;
        r.challenge_len = job.challenge_len;
    }
    return cw_csr_encode(p11, key, &r, out, cap, len);
}

/* A new key and a new pending record: PKCSReq, or RenewalReq signed by the current key. */
static cw_err new_request(cw_p11_ctx *p11, const uint8_t *signer_id, size_t signer_id_len, cw_p11_key *key)
{
    size_t len = 0;
    uint32_t t0 = hal_clock_ms();
    char id[2 * CW_P11_KEY_ID_LEN + 1];
    cw_err e;

    if (job.con != NULL) {
        cw_console_printf(job.con, "set %s: generating a %s key pair in the token ...", job.set,
                          cw_token_key_type_text(derived->key_type));
    }
    e = cw_p11_keygen(p11, derived->key_type, job.set, true, key);
    if (e != CW_OK) {
        return e;
    }
    cw_wizard_hex(key->id, key->id_len, id);
    if (job.con != NULL) {
        cw_console_printf(job.con, "set %s: key pair generated in %lu ms, id %s", job.set,
                          (unsigned long)(hal_clock_ms() - t0), id);
    }
    /* The record keeps a CSR without the challenge: the names for the import checks. */
    memset(&job.pend, 0, sizeof job.pend);
    e = build_csr(p11, key, false, scep->seq.build.csr, sizeof scep->seq.build.csr, &len);
    if (e == CW_OK) {
        memcpy(job.pend.key_id, key->id, key->id_len);
        job.pend.key_id_len = key->id_len;
        job.pend.created = hal_clock_utc();
        job.pend.csr = scep->seq.build.csr;
        job.pend.csr_len = len;
        job.pend.online = true;
        job.pend.msg_type = signer_id_len > 0 ? CW_SCEP_RENEWALREQ : CW_SCEP_PKCSREQ;
        if (signer_id_len > 0) {
            memcpy(job.pend.signer_id, signer_id, signer_id_len);
        }
        job.pend.signer_id_len = signer_id_len;
        e = make_txid(p11, key, job.pend.txid);
    }
    if (e == CW_OK) {
        e = cw_pending_store(p11, job.set, &job.pend, exch->resp, sizeof exch->resp);
        job.pend.csr = NULL; /* the CSR buffer is needed for the request with the challenge */
        job.pend.csr_len = 0;
    }
    if (e != CW_OK) {
        (void)cw_pending_remove(p11, job.set);
        (void)cw_p11_destroy(p11, key->priv);
        (void)cw_p11_destroy(p11, key->pub);
        return e;
    }
    job.have_pend = true;
    return CW_OK;
}

/* The pkiMessage for the job's set into the message buffer: a new request, the same one again,
 * or a poll. */
static cw_err build_message(size_t *msg_len)
{
    cw_p11_ctx *p11 = cw_token_session();
    uint8_t *const signer = scep->seq.build.signer;
    cw_scep_req_t r;
    cw_p11_key key;
    const uint8_t *payload;
    size_t payload_len = 0;
    size_t signer_len = 0;
    bool renewal;
    cw_err e = CW_OK;

    memset(&r, 0, sizeof r);
    if (job.kind == JOB_RENEW && !job.have_pend) {
        uint8_t cur_id[CW_P11_KEY_ID_LEN];
        size_t cur_id_len = 0;
        if ((job.caps & CW_SCEP_CAP_RENEWAL) == 0) {
            return CW_ERR_SCEP_NO_RENEWAL;
        }
        e = cw_wizard_set_cert_der(job.set, signer, sizeof scep->seq.build.signer, &signer_len, cur_id, &cur_id_len);
        if (e == CW_OK) {
            e = new_request(p11, cur_id, cur_id_len, &key);
        }
    } else if (!job.have_pend) {
        e = new_request(p11, NULL, 0, &key);
    } else if (!job.pend.online) {
        return CW_ERR_EXISTS; /* checked before; an offline request is finished by import */
    } else {
        e = cw_p11_key_find_by_id(p11, job.pend.key_id, job.pend.key_id_len, &key);
    }
    if (e != CW_OK) {
        return e;
    }
    renewal = job.pend.signer_id_len > 0;
    /* Who signs (and receives the reply): a renewal's current key, else the request's own. */
    if (renewal) {
        uint8_t cur_id[CW_P11_KEY_ID_LEN];
        size_t cur_id_len = 0;
        e = cw_p11_key_find_by_id(p11, job.pend.signer_id, job.pend.signer_id_len, &job.reply_key);
        if (e == CW_OK && signer_len == 0) {
            e = cw_wizard_set_cert_der(job.set, signer, sizeof scep->seq.build.signer, &signer_len, cur_id,
                                       &cur_id_len);
        }
    } else {
        job.reply_key = key;
        e = cw_scep_signer_cert(p11, &key, derived->cn, hal_clock_utc(), job.digest, signer,
                                sizeof scep->seq.build.signer, &signer_len);
    }
    if (e != CW_OK) {
        return e;
    }
    /* A poll carries IssuerAndSubject; a request (new or again) the CSR with the challenge. */
    if (job_is_poll()) {
        r.type = CW_SCEP_CERTPOLL;
        e = load_pending(exch->resp, sizeof exch->resp); /* GetCACert's answer was copied out */
        if (e == CW_OK) {
            e = cw_scep_issuer_and_subject(&ca.ca, job.pend.csr, job.pend.csr_len, scep->seq.build.csr,
                                           sizeof scep->seq.build.csr, &payload_len);
        }
        job.pend.csr = NULL;
        job.pend.csr_len = 0;
    } else {
        r.type = renewal ? CW_SCEP_RENEWALREQ : CW_SCEP_PKCSREQ;
        e = build_csr(p11, &key, true, scep->seq.build.csr, sizeof scep->seq.build.csr, &payload_len);
    }
    payload = scep->seq.build.csr;
    if (e == CW_OK) {
        e = cw_p11_random(p11, job.nonce, sizeof job.nonce);
    }
    if (e == CW_OK) {
        r.transaction_id = job.pend.txid;
        memcpy(r.sender_nonce, job.nonce, sizeof job.nonce);
        r.message = payload;
        r.message_len = payload_len;
        r.signer_cert = signer;
        r.signer_cert_len = signer_len;
        r.signer_key = &job.reply_key;
        r.digest = job.digest;
        r.recipient = &ca.recipient;
        r.cipher = job.cipher;
        r.signing_time = hal_clock_utc();
        e = cw_scep_request_encode(p11, &r, exch->msg, sizeof exch->msg, msg_len);
    }
    cw_wipe(scep->seq.build.csr, sizeof scep->seq.build.csr); /* it held the challenge */
    if (!job.all) {
        forget_challenge(); /* a run of request all keeps it for the next set */
    }
    job.sent = r.type;
    return e;
}

/* ---- the reply -------------------------------------------------------------------------------- */

static void arm_poll(size_t set_index, bool backoff)
{
    uint32_t base = derived->poll_seconds > 0 ? derived->poll_seconds : CW_TOPO_DEFAULT_POLL_SECONDS;
    if (set_index >= CW_TOPO_SETS_MAX) {
        return;
    }
    if (!polls[set_index].armed || !backoff) {
        polls[set_index].wait_s = base;
    } else if (polls[set_index].wait_s < base * POLL_BACKOFF_MAX) {
        polls[set_index].wait_s *= 2u;
    }
    polls[set_index].armed = true;
    polls[set_index].due_ms = hal_clock_ms() + polls[set_index].wait_s * 1000u;
}

static cw_err check_set(void);

static cw_err handle_reply(size_t len)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_scep_reply_t rep;
    size_t olen = 0;
    cw_err e;

    e = cw_scep_reply_parse(exch->resp, len, &ca.signer, job.pend.txid, job.nonce, exch->msg, sizeof exch->msg,
                            &rep);
    if (e != CW_OK) {
        return e; /* the request stays as it is: sent again, or polled, next time */
    }
    switch (rep.status) {
    case CW_SCEP_SUCCESS:
        cw_console_printf(job.con, "set %s: reply verified: SUCCESS", job.set);
        e = cw_scep_reply_open(p11, &job.reply_key, &rep, scep->seq.opened, sizeof scep->seq.opened, &olen);
        if (e == CW_OK) {
            memset(&issued, 0, sizeof issued);
            e = cw_import_collect(scep->seq.opened, olen, &issued);
        }
        if (e == CW_OK) {
            e = cw_wizard_accept(job.con, job.set, &issued, NULL, NULL);
        }
        if (e == CW_OK && job.set_index < CW_TOPO_SETS_MAX) {
            polls[job.set_index].armed = false;
        }
        return e;
    case CW_SCEP_FAILURE:
        e = cw_scep_fail_error(&rep);
        cw_console_printf(job.con, "set %s: the CA refused the request (%s); its key is removed", job.set,
                          cw_err_name(e));
        (void)cw_pending_remove(p11, job.set);
        if (job.set_index < CW_TOPO_SETS_MAX) {
            polls[job.set_index].armed = false;
        }
        cw_wizard_prune(job.set);
        return e;
    case CW_SCEP_PENDING:
        if (!job.pend.held) {
            /* the record again, now with held set; the sequence buffer is free (no content) */
            e = load_pending(scep->seq.opened, sizeof scep->seq.opened);
            job.pend.held = true;
            if (e == CW_OK) {
                e = cw_pending_store(p11, job.set, &job.pend, exch->resp, sizeof exch->resp);
            }
            job.pend.csr = NULL;
            job.pend.csr_len = 0;
            if (e != CW_OK) {
                return e;
            }
        }
        arm_poll(job.set_index, job.sent == CW_SCEP_CERTPOLL);
        if (job.con != NULL) {
            cw_console_printf(job.con, "set %s: the CA holds the request for approval (PENDING); certwiz polls it every %lu s",
                              job.set, (unsigned long)polls[job.set_index].wait_s);
        }
        return CW_ERR_SCEP_PENDING;
    }
    return CW_ERR_SCEP_STATUS;
}

/* ---- the chain -------------------------------------------------------------------------------- */

/* request all: one set's outcome. */
static void count_result(cw_err e)
{
    if (e == CW_OK) {
        job.n_done++;
    } else if (e == CW_ERR_SCEP_PENDING) {
        job.n_pending++;
    } else {
        job.n_failed++;
        if (job.first_error == CW_OK) {
            job.first_error = e;
        }
    }
}

/* Errors that say a CertRep did not come from the CA for this request: its signature, its
 * envelope or its binding to the request (transactionID, nonce, type) is wrong. Unlike a network
 * error or a refusal, such a reply is no answer at all. */
static bool reply_not_authentic(cw_err e)
{
    switch (e) {
    case CW_ERR_CMS_FORMAT:
    case CW_ERR_CMS_ALGORITHM:
    case CW_ERR_CMS_SIGNATURE:
    case CW_ERR_CMS_DECRYPT:
    case CW_ERR_CMS_NO_RECIPIENT:
    case CW_ERR_SCEP_MESSAGE_TYPE:
    case CW_ERR_SCEP_TRANSACTION:
    case CW_ERR_SCEP_NONCE:
    case CW_ERR_SCEP_STATUS:
        return true;
    default:
        return false;
    }
}

/* What the console says when a set's chain ends with e. */
static void report_set(cw_err e)
{
    if (job.con == NULL || job.kind == JOB_AUTH) {
        return;
    }
    if (e == CW_OK) {
        cw_console_printf(job.con, "set %s: done in %lu ms", job.set, (unsigned long)(hal_clock_ms() - job.t_set));
    } else if (e != CW_ERR_SCEP_PENDING) {
        bool refused = e >= CW_ERR_SCEP_BAD_ALG && e <= CW_ERR_SCEP_FAILURE;
        const char *again = job.kind == JOB_RENEW ? "renew" : "request";
        cw_console_printf(job.con, "set %s: failed: %s", job.set, cw_err_name(e));
        if (reply_not_authentic(e)) {
            /* docs/decisions.md: a reply that is not the CA's proves nothing about the request */
            cw_console_printf(job.con, "set %s: the reply failed authentication: not the CA's answer (forged, replayed "
                                       "or damaged); nothing taken from it", job.set);
        }
        if (job.have_pend && job.pend.online && !refused) {
            cw_console_printf(job.con, "set %s: the request stays pending with its key; %s %s%s sends or polls it again",
                              job.set, again, job.set, job.kind == JOB_RENEW ? "" : " online");
        }
    }
}

/* request all: starts the next set that needs a certificate, or prints the summary and returns
 * the run's result (the first failure, else PENDING if a set waits, else OK). */
static cw_err next_of_all(void)
{
    const cw_topology *t = cw_wizard_topology();
    int64_t now = hal_clock_utc();

    while (t != NULL && job.next_set < cw_topology_set_count(t)) {
        cw_err e = job_load_set(job.next_set++);
        if (e == CW_ERR_SCEP_NOT_SCEP) {
            cw_console_printf(job.con, "set %s: profile %s is not SCEP; skipped (offline or ACME)", job.set, job.profile);
            continue;
        }
        if (e == CW_OK && !job.have_pend && cw_wizard_set_has_valid_cert(job.set, now)) {
            cw_console_printf(job.con, "set %s: has a valid certificate; skipped", job.set);
            continue;
        }
        if (e == CW_OK) {
            e = check_set();
        }
        if (e == CW_OK) {
            e = begin_set();
        }
        if (e == CW_ERR_IN_PROGRESS) {
            return e;
        }
        report_set(e);
        count_result(e);
    }
    forget_challenge();
    cw_console_printf(job.con, "summary: %u enrolled, %u pending, %u failed", job.n_done, job.n_pending, job.n_failed);
    if (job.first_error != CW_OK) {
        return job.first_error;
    }
    return job.n_pending > 0 ? CW_ERR_SCEP_PENDING : CW_OK;
}

/* The set's chain ended with e. A single job finishes; request all goes on with the next set. */
static void job_end(cw_err e)
{
    cw_console_ctx *con = job.con;

    cw_wipe(scep->seq.build.csr, sizeof scep->seq.build.csr);
    report_set(e);
    if (con == NULL && job.set_index < CW_TOPO_SETS_MAX) {
        polls[job.set_index].last = e;
        if (e != CW_OK && e != CW_ERR_SCEP_PENDING && polls[job.set_index].armed) {
            arm_poll(job.set_index, true); /* a network error: try again later */
        }
    }
    if (job.all) {
        count_result(e);
        e = next_of_all();
        if (e == CW_ERR_IN_PROGRESS) {
            return;
        }
    }
    forget_challenge();
    cw_scep_http_close(&scep->xfer);
    job.kind = JOB_IDLE;
    job.all = false;
    if (con != NULL) {
        cw_console_finish(con, e);
    }
}

/* An exchange finished with e (CW_OK: len bytes in the response buffer): the next step of the
 * chain. */
static cw_err step_done(cw_err e, size_t len)
{
    size_t msg_len = 0;

    if (e != CW_OK) {
        return e;
    }
    switch (job.step) {
    case STEP_CAPS:
        job.caps = cw_scep_caps_parse((const char *)exch->resp, len);
        cw_scep_choose(job.caps, &job.cipher, &job.digest);
        if (job.con != NULL) {
            cw_console_printf(job.con, "set %s: CA capabilities read; using %s, %s, %s", job.set, cipher_text(job.cipher),
                              job.digest == CW_HASH_SHA256 ? "SHA-256" : "SHA-1",
                              (job.caps & (CW_SCEP_CAP_POST | CW_SCEP_CAP_STANDARD)) ? "POST" : "GET");
        }
        return start_op(CW_SCEP_OP_CACERT, NULL, 0);
    case STEP_CACERT:
        if (len > sizeof scep->cacert) {
            return CW_ERR_TOO_LARGE;
        }
        memcpy(scep->cacert, exch->resp, len);
        e = cw_scep_parse_cacert(scep->cacert, len, &ca);
        if (e != CW_OK) {
            return e;
        }
        if (job.kind == JOB_AUTH) {
            return auth_answer();
        }
        e = check_authenticated();
        if (e == CW_OK) {
            e = build_message(&msg_len);
        }
        if (e != CW_OK) {
            return e;
        }
        if (job.con != NULL) {
            cw_console_printf(job.con, "set %s: %s sent (%lu bytes, transaction %.16s...)", job.set,
                              job.sent == CW_SCEP_CERTPOLL    ? "CertPoll"
                              : job.sent == CW_SCEP_RENEWALREQ ? "RenewalReq"
                                                              : "PKCSReq",
                              (unsigned long)msg_len, job.pend.txid);
        }
        return start_op(CW_SCEP_OP_PKI, exch->msg, msg_len);
    case STEP_PKI:
        return handle_reply(len);
    }
    return CW_ERR_INTERNAL;
}

/* Ctrl-C cancels the job; other lines typed meanwhile are ignored. */
static cw_err job_line(cw_console_ctx *con, char *line, void *arg)
{
    (void)con;
    (void)arg;
    if (line == NULL) {
        cw_scep_http_abort(&scep->xfer);
        forget_challenge();
        cw_wipe(scep->seq.build.csr, sizeof scep->seq.build.csr);
        job.kind = JOB_IDLE;
        job.all = false;
        return CW_ERR_CANCELLED;
    }
    return CW_ERR_IN_PROGRESS;
}

/* Starts a console job; a background poll in flight gives way (a poll is safe to repeat). */
static void job_take(cw_console_ctx *con, job_kind kind)
{
    cw_enrol_yield();
    /* the transfer is in the command scratch: another command may have used its bytes since */
    cw_scep_http_init(&scep->xfer, scep->seq.query, sizeof scep->seq.query);
    memset(&job, 0, sizeof job);
    job.kind = kind;
    job.con = con;
}

static cw_err job_run(cw_console_ctx *con, cw_err e)
{
    if (e == CW_ERR_IN_PROGRESS && job.kind != JOB_IDLE) {
        cw_console_expect(con, NULL, false, job_line, NULL);
        return e;
    }
    forget_challenge();
    job.kind = JOB_IDLE;
    return e;
}

/* ---- background polls ------------------------------------------------------------------------- */

void cw_enrol_yield(void)
{
    if (job.kind != JOB_IDLE && job.con == NULL) {
        /* a command starts: the background poll gives up the command scratch at once (lwIP
         * keeps no reference into it after the abort), and is tried again soon after */
        cw_scep_http_abort(&scep->xfer);
        if (job.set_index < CW_TOPO_SETS_MAX && polls[job.set_index].armed) {
            polls[job.set_index].due_ms = hal_clock_ms() + POLL_RETRY_MS;
        }
        job.kind = JOB_IDLE;
    }
}

static void poll_background(const cw_console_ctx *con)
{
    const cw_topology *t = cw_wizard_topology();
    cw_p11_ctx *p11 = cw_token_session();
    uint32_t now = hal_clock_ms();

    if (t == NULL || con->busy || p11 == NULL || !cw_p11_logged_in(p11)) {
        return;
    }
    for (size_t i = 0; i < cw_topology_set_count(t) && i < CW_TOPO_SETS_MAX; i++) {
        if (!polls[i].armed || (int32_t)(now - polls[i].due_ms) < 0) {
            continue;
        }
        job_take(NULL, JOB_ENROL);
        if (job_load_set(i) != CW_OK || !job_is_poll()) {
            polls[i].armed = false;
            job.kind = JOB_IDLE;
            continue;
        }
        polls[i].due_ms = now + polls[i].wait_s * 1000u; /* until this poll answers */
        cw_err e = begin_set();
        if (e != CW_ERR_IN_PROGRESS) {
            job_end(e);
        }
        return;
    }
}

/* ---- entry points ------------------------------------------------------------------------------ */

void cw_enrol_boot(void)
{
    const cw_topology *t = cw_wizard_topology();
    cw_p11_ctx *p11 = cw_token_session();

    memset(polls, 0, sizeof polls);
    for (size_t i = 0; t != NULL && p11 != NULL && i < cw_topology_set_count(t) && i < CW_TOPO_SETS_MAX; i++) {
        char set[CW_TOPO_NAME_MAX + 1];
        cw_pending_t p;
        cw_wizard_view_str(t->sets[i].name, set, sizeof set);
        if (cw_pending_load(p11, set, exch->resp, sizeof exch->resp, &p) == CW_OK && p.online && p.held &&
            cw_topology_derive(t, i, derived) == CW_OK) {
            arm_poll(i, false);
        }
    }
}

void cw_enrol_poll(cw_console_ctx *con)
{
    size_t len = 0;
    cw_err e;

    if (job.kind == JOB_IDLE) {
        poll_background(con);
        return;
    }
    if (!job.exchanging) {
        return; /* waiting for the operator: a challenge, or yes or no */
    }
    if (job.con == NULL && con->busy) {
        cw_enrol_yield(); /* belt and braces: the console's on_command hook did it already */
        return;
    }
    e = cw_scep_http_poll(&scep->xfer, &len);
    if (e == CW_ERR_IN_PROGRESS) {
        return;
    }
    job.exchanging = false;
    e = step_done(e, len);
    if (e == CW_ERR_IN_PROGRESS) {
        return;
    }
    if (job.kind == JOB_AUTH) {
        cw_console_ctx *c = job.con;
        cw_scep_http_close(&scep->xfer);
        job.kind = JOB_IDLE;
        cw_console_finish(c, e);
        return;
    }
    job_end(e);
}

void cw_enrol_status_line(cw_console_ctx *con)
{
    const cw_topology *t = cw_wizard_topology();
    uint32_t now = hal_clock_ms();

    for (size_t i = 0; t != NULL && i < cw_topology_set_count(t) && i < CW_TOPO_SETS_MAX; i++) {
        char set[CW_TOPO_NAME_MAX + 1];
        if (!polls[i].armed) {
            continue;
        }
        cw_wizard_view_str(t->sets[i].name, set, sizeof set);
        int32_t left = (int32_t)(polls[i].due_ms - now);
        cw_console_printf(con, "scep: set %s held by the CA; next poll in %ld s%s%s", set,
                          (long)(left > 0 ? left / 1000 : 0), polls[i].last != CW_OK ? ", last: " : "",
                          polls[i].last != CW_OK ? cw_err_name(polls[i].last) : "");
    }
}

/* Challenge typed: start. */
static cw_err take_challenge(cw_console_ctx *con, char *line, void *arg)
{
    size_t n;
    (void)arg;
    if (line == NULL) {
        job.kind = JOB_IDLE;
        return CW_ERR_CANCELLED;
    }
    n = strlen(line);
    memcpy(job.challenge, line, n + 1);
    job.challenge_len = n;
    return job_run(con, job.all ? next_of_all() : begin_set());
}

/* Before any token or network work: what a request or renewal for set i needs. */
static cw_err check_set(void)
{
    cw_cert_list_t trusted;
    cw_err e = cw_wizard_load_trust(job.profile, &trusted);
    if (e == CW_OK && trusted.n == 0) {
        e = CW_ERR_SCEP_NOT_AUTHENTICATED;
    }
    if (e == CW_OK && job.have_pend && !job.pend.online) {
        cw_console_printf(job.con, "set %s has a pending offline request; finish it with import %s", job.set, job.set);
        e = CW_ERR_EXISTS;
    }
    return e;
}

/* request all: does any set need a new request (not just a poll)? One challenge serves the run. */
static bool all_needs_challenge(void)
{
    const cw_topology *t = cw_wizard_topology();
    int64_t now = hal_clock_utc();
    bool need = false;

    for (size_t i = 0; t != NULL && i < cw_topology_set_count(t) && !need; i++) {
        if (job_load_set(i) == CW_OK && !job_is_poll() && !(job.have_pend && !job.pend.online) &&
            check_set() == CW_OK) {
            need = job.have_pend || !cw_wizard_set_has_valid_cert(job.set, now);
        }
    }
    return need;
}

static cw_err ask_challenge(cw_console_ctx *con)
{
    cw_console_expect(con, "Challenge password (hidden): ", true, take_challenge, NULL);
    return CW_ERR_IN_PROGRESS;
}

/* request <set> online, renew <set>: what the set needs checked first; then a request the CA
 * holds is polled at once, anything else waits for the challenge. */
static cw_err start_set_job(cw_console_ctx *con, job_kind kind, size_t i)
{
    uint8_t id[CW_P11_KEY_ID_LEN];
    size_t id_len = 0;
    size_t len = 0;
    cw_err e;

    job_take(con, kind);
    e = job_load_set(i);
    if (e == CW_OK) {
        e = check_set();
    }
    if (e == CW_OK && kind == JOB_RENEW && !job.have_pend) {
        /* renewal needs the certificate the roles use now */
        e = cw_wizard_set_cert_der(job.set, scep->seq.build.signer, sizeof scep->seq.build.signer, &len, id,
                                   &id_len);
    }
    if (e != CW_OK) {
        job.kind = JOB_IDLE;
        return e;
    }
    return job_is_poll() ? job_run(con, begin_set()) : ask_challenge(con);
}

cw_err cw_enrol_cmd_request(cw_console_ctx *con, const char *set)
{
    size_t i = 0;
    cw_err e = cw_token_need_login();

    if (e == CW_OK && cw_wizard_topology() == NULL) {
        e = CW_ERR_NO_TOPOLOGY;
    }
    if (e == CW_OK && strcmp(set, "all") != 0) {
        e = cw_wizard_find_set(set, &i);
    }
    if (e != CW_OK) {
        return e;
    }
    if (strcmp(set, "all") != 0) {
        return start_set_job(con, JOB_ENROL, i);
    }
    job_take(con, JOB_ENROL);
    job.all = true;
    return all_needs_challenge() ? ask_challenge(con) : job_run(con, next_of_all());
}

cw_err cw_enrol_cmd_ca_auth(cw_console_ctx *con, const char *profile)
{
    const cw_topology *t = cw_wizard_topology();
    size_t pi;
    cw_err e = cw_token_need_login();

    if (e == CW_OK && t == NULL) {
        e = CW_ERR_NO_TOPOLOGY;
    }
    if (e == CW_OK && cw_topology_find_profile(t, profile, strlen(profile), &pi) != CW_OK) {
        e = CW_ERR_UNKNOWN_PROFILE;
    }
    if (e == CW_OK && t->profiles[pi].protocol != CW_TOPO_SCEP) {
        e = CW_ERR_SCEP_NOT_SCEP;
    }
    if (e != CW_OK) {
        return e;
    }
    job_take(con, JOB_AUTH);
    job.profile_index = pi;
    cw_wizard_view_str(t->profiles[pi].name, job.profile, sizeof job.profile);
    cw_wizard_view_str(t->profiles[pi].url, job.url, sizeof job.url);
    cw_console_printf(con, "fetching the CA certificate from %s", job.url);
    return job_run(con, start_op(CW_SCEP_OP_CACERT, NULL, 0));
}

static cw_err cmd_renew(cw_console_ctx *con, int argc, char **argv)
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
    return e != CW_OK ? e : start_set_job(con, JOB_RENEW, i);
}

static const cw_cmd_t enrol_cmds[] = {
    {"renew", "<set>", "new key pair and certificate for the set now, over SCEP (needs login)", cmd_renew},
};

const cw_cmd_group_t cw_enrol_commands = {enrol_cmds, sizeof enrol_cmds / sizeof enrol_cmds[0]};
