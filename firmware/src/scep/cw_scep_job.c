/*
 * cw_scep_job.c: SCEP as a job driver (cw_scep_job.h, cw_driver.h; docs/scep.md).
 */
#include "cw/scep/cw_scep_job.h"

#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/base/cw_clock.h"
#include "cw/base/cw_hex.h"
#include "cw/base/cw_wipe.h"
#include "cw/pki/cw_certs.h"
#include "hal_clock.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

static const char *cipher_text(cw_cms_cipher c)
{
    switch (c) {
    case CW_CMS_DES: return "DES-CBC";
    case CW_CMS_3DES: return "3DES-CBC";
    case CW_CMS_AES128: return "AES-128-CBC";
    case CW_CMS_AES192: return "AES-192-CBC";
    case CW_CMS_AES256: return "AES-256-CBC";
    }
    return "?";
}

static void report(cw_scep_job_ctx *j, const cw_job_report_t *r)
{
    if (j->report != NULL) {
        j->report(r, j->report_arg);
    }
}

static void report_text(cw_scep_job_ctx *j, cw_job_report_kind kind, const char *text, const char *text2,
                        const char *text3)
{
    cw_job_report_t r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.text = text;
    r.text2 = text2;
    r.text3 = text3;
    report(j, &r);
}

/* Reads the set's pending record into buf (a free buffer of CW_PENDING_RECORD_MAX or more): pend
 * gets its fields, and its csr points into buf. */
CW_NOINLINE static cw_err load_pending(cw_scep_job_ctx *j, uint8_t *buf, size_t cap)
{
    return cw_pending_load(j->p.token, j->p.set, buf, cap, &j->pend);
}

CW_NOINLINE bool cw_scep_pending_is_held(const cw_pending_t *p)
{
    return p->online && p->held;
}

static bool is_poll(const cw_scep_job_ctx *j)
{
    return j->have_pend && cw_scep_pending_is_held(&j->pend);
}

static cw_err start_op(cw_scep_job_ctx *j, cw_scep_op op, const uint8_t *m, size_t m_len)
{
    bool post = (j->caps & (CW_SCEP_CAP_POST | CW_SCEP_CAP_STANDARD)) != 0;
    j->step = op == CW_SCEP_OP_CAPS ? CW_SCEP_CAPS : op == CW_SCEP_OP_CACERT ? CW_SCEP_CACERT : CW_SCEP_PKI;
    return cw_scep_http_start(&j->xfer, j->p.url, op, post, m, m_len, j->exch->resp, sizeof j->exch->resp);
}

/* ---- the CA certificate --------------------------------------------------------------------------- */

/* An RA certificate must be valid now by the device's clock. */
static cw_err check_ra_dates(const cw_der_t *ra)
{
    int64_t now = cw_clock_utc();
    cw_cert_summary_t s;

    if (cw_import_summary(ra, &s) != CW_OK) {
        return CW_ERR_SCEP_CACERT;
    }
    if (now <= 0) {
        return CW_ERR_TIME_UNKNOWN;
    }
    if (now < s.not_before) {
        return CW_ERR_IMPORT_NOT_YET_VALID;
    }
    return now > s.not_after ? CW_ERR_IMPORT_EXPIRED : CW_OK;
}

/* The RA certificates of the answer must be issued by its CA (RFC 8894 2.2) and valid now. */
static cw_err check_ra(const cw_scep_ca_t *ca)
{
    mbedtls_x509_crt cacrt;
    mbedtls_x509_crt ra;
    const cw_der_t *ras[2] = {&ca->signer, &ca->recipient};
    cw_err e = CW_OK;

    if (!ca->has_ra) {
        return CW_OK;
    }
    mbedtls_x509_crt_init(&cacrt);
    if (mbedtls_x509_crt_parse_der_nocopy(&cacrt, ca->ca.p, ca->ca.len) != 0) {
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

/* The CA of the answer is one the profile trusts (its fingerprint among the params'). */
static cw_err check_authenticated(const cw_scep_job_ctx *j)
{
    uint8_t h[32];

    if (j->p.ntrusted == 0) {
        return CW_ERR_SCEP_NOT_AUTHENTICATED;
    }
    (void)mbedtls_sha256(j->ca.ca.p, j->ca.ca.len, h, 0);
    for (size_t i = 0; i < j->p.ntrusted; i++) {
        if (memcmp(j->p.trusted[i], h, sizeof h) == 0) {
            return check_ra(&j->ca);
        }
    }
    return CW_ERR_SCEP_CA_CHANGED;
}

/* ---- building the request ------------------------------------------------------------------------- */

/* transactionID: hex SHA-256 of the request key's SubjectPublicKeyInfo. */
static cw_err make_txid(cw_p11_ctx *p11, const cw_p11_key *key, char *out)
{
    uint8_t spki[CW_P11_SPKI_MAX];
    uint8_t h[32];
    size_t len = 0;
    cw_err e = cw_p11_pubkey_spki(p11, key, spki, sizeof spki, &len);
    if (e == CW_OK) {
        (void)mbedtls_sha256(spki, len, h, 0);
        cw_hex_encode(h, sizeof h, out, true);
    }
    return e;
}

/* The CSR for key, with the challenge if asked, into out (the CSR buffer is wiped after the
 * message is built). */
static cw_err build_csr(cw_scep_job_ctx *j, cw_p11_ctx *p11, const cw_p11_key *key, bool with_challenge, uint8_t *out,
                        size_t cap, size_t *len)
{
    cw_csr_req_t r;
    cw_err e;
    cw_csr_request_from(&j->exch->m.derived, &r);
    if (with_challenge && j->p.challenge != NULL && j->p.challenge_len > 0) {
        r.challenge = j->p.challenge;
        r.challenge_len = j->p.challenge_len;
    }
    e = cw_csr_encode(p11, key, &r, out, cap, len);
    cw_wipe(&r, sizeof r);
    return e;
}

/* A new key and a new pending record: PKCSReq, or RenewalReq signed by the current key. */
static cw_err new_request(cw_scep_job_ctx *j, cw_p11_ctx *p11, const uint8_t *signer_id, size_t signer_id_len,
                          cw_p11_key *key)
{
    size_t len = 0;
    uint32_t t0 = hal_clock_ms();
    cw_job_report_t r;
    cw_err e;

    memset(&r, 0, sizeof r);
    r.kind = CW_REPORT_KEYGEN;
    r.key_type = j->p.policy.key_type;
    report(j, &r);
    e = cw_p11_keygen(p11, j->p.policy.key_type, j->p.set, true, key);
    if (e != CW_OK) {
        return e;
    }
    r.kind = CW_REPORT_KEY_MADE;
    r.ms = hal_clock_ms() - t0;
    r.id = key->id;
    r.id_len = key->id_len;
    report(j, &r);
    /* The record keeps a CSR without the challenge: the names for the import checks. */
    memset(&j->pend, 0, sizeof j->pend);
    e = build_csr(j, p11, key, false, j->seq.build.csr, sizeof j->seq.build.csr, &len);
    if (e == CW_OK) {
        memcpy(j->pend.key_id, key->id, key->id_len);
        j->pend.key_id_len = key->id_len;
        j->pend.created = cw_clock_utc();
        j->pend.csr = j->seq.build.csr;
        j->pend.csr_len = len;
        j->pend.online = true;
        j->pend.msg_type = signer_id_len > 0 ? CW_SCEP_RENEWALREQ : CW_SCEP_PKCSREQ;
        if (signer_id_len > 0) {
            memcpy(j->pend.signer_id, signer_id, signer_id_len);
        }
        j->pend.signer_id_len = signer_id_len;
        e = make_txid(p11, key, j->pend.txid);
    }
    if (e == CW_OK) {
        e = cw_pending_store(p11, j->p.set, &j->pend, j->exch->resp, sizeof j->exch->resp);
        j->pend.csr = NULL; /* the CSR buffer is needed for the request with the challenge */
        j->pend.csr_len = 0;
    }
    if (e != CW_OK) {
        (void)cw_pending_remove(p11, j->p.set);
        (void)cw_p11_key_destroy(p11, key);
        return e;
    }
    j->have_pend = true;
    return CW_OK;
}

/* The pkiMessage for the job's set into the message buffer: a new request, the same one again,
 * or a poll. */
static cw_err build_message(cw_scep_job_ctx *j, size_t *msg_len)
{
    cw_p11_ctx *p11 = j->p.token;
    uint8_t *const signer = j->seq.build.signer;
    cw_scep_req_t r;
    cw_p11_key key;
    size_t payload_len = 0;
    size_t signer_len = 0;
    bool renewal;
    cw_err e = CW_OK;

    memset(&r, 0, sizeof r);
    /* the set's names, until the message is written over them */
    e = cw_topology_derive(j->p.topo, j->p.set_index, &j->exch->m.derived);
    if (e != CW_OK) {
        return e;
    }
    if (j->p.kind == CW_JOB_RENEW && !j->have_pend) {
        if ((j->caps & CW_SCEP_CAP_RENEWAL) == 0) {
            return CW_ERR_SCEP_NO_RENEWAL;
        }
        e = cw_certs_read_by_id(p11, j->p.set, j->p.renew_id, j->p.renew_id_len, signer, sizeof j->seq.build.signer,
                                &signer_len);
        if (e == CW_OK) {
            e = new_request(j, p11, j->p.renew_id, j->p.renew_id_len, &key);
        }
    } else if (!j->have_pend) {
        e = new_request(j, p11, NULL, 0, &key);
    } else if (!j->pend.online) {
        return CW_ERR_EXISTS; /* an offline request is finished by import */
    } else {
        e = cw_p11_key_find_by_id(p11, j->pend.key_id, j->pend.key_id_len, &key);
    }
    if (e != CW_OK) {
        return e;
    }
    renewal = j->pend.signer_id_len > 0;
    /* Who signs (and receives the reply): a renewal's current key, else the request's own. */
    if (renewal) {
        e = cw_p11_key_find_by_id(p11, j->pend.signer_id, j->pend.signer_id_len, &j->reply_key);
        if (e == CW_OK && signer_len == 0) {
            e = cw_certs_read_by_id(p11, j->p.set, j->pend.signer_id, j->pend.signer_id_len, signer,
                                    sizeof j->seq.build.signer, &signer_len);
        }
    } else {
        j->reply_key = key;
        e = cw_scep_signer_cert(p11, &key, j->exch->m.derived.cn, cw_clock_utc(), j->digest, signer,
                                sizeof j->seq.build.signer, &signer_len);
    }
    if (e != CW_OK) {
        return e;
    }
    /* A poll carries IssuerAndSubject; a request (new or again) the CSR with the challenge. */
    if (is_poll(j)) {
        r.type = CW_SCEP_CERTPOLL;
        e = load_pending(j, j->exch->resp, sizeof j->exch->resp); /* GetCACert's answer was copied out */
        if (e == CW_OK) {
            e = cw_scep_issuer_and_subject(&j->ca.ca, j->pend.csr, j->pend.csr_len, j->seq.build.csr,
                                           sizeof j->seq.build.csr, &payload_len);
        }
        j->pend.csr = NULL;
        j->pend.csr_len = 0;
    } else {
        r.type = renewal ? CW_SCEP_RENEWALREQ : CW_SCEP_PKCSREQ;
        e = build_csr(j, p11, &key, true, j->seq.build.csr, sizeof j->seq.build.csr, &payload_len);
    }
    if (e == CW_OK) {
        e = cw_p11_random(p11, j->nonce, sizeof j->nonce);
    }
    if (e == CW_OK) {
        r.transaction_id = j->pend.txid;
        memcpy(r.sender_nonce, j->nonce, sizeof j->nonce);
        r.message = j->seq.build.csr;
        r.message_len = payload_len;
        r.signer_cert = signer;
        r.signer_cert_len = signer_len;
        r.signer_key = &j->reply_key;
        r.digest = j->digest;
        r.recipient = &j->ca.recipient;
        r.cipher = j->cipher;
        r.signing_time = cw_clock_utc();
        e = cw_scep_request_encode(p11, &r, j->exch->m.msg, sizeof j->exch->m.msg, msg_len);
    }
    cw_wipe(j->seq.build.csr, sizeof j->seq.build.csr); /* it held the challenge */
    j->sent = r.type;
    return e;
}

/* ---- the reply -------------------------------------------------------------------------------- */

static cw_err handle_reply(cw_scep_job_ctx *j, size_t len)
{
    cw_p11_ctx *p11 = j->p.token;
    cw_scep_reply_t rep;
    size_t olen = 0;
    cw_err e;

    e = cw_scep_reply_parse(j->exch->resp, len, &j->ca.signer, j->pend.txid, j->nonce, j->exch->m.msg,
                            sizeof j->exch->m.msg, &rep);
    if (e != CW_OK) {
        return e; /* the request stays as it is: sent again, or polled, next time */
    }
    switch (rep.status) {
    case CW_SCEP_SUCCESS:
        report_text(j, CW_REPORT_REPLY, "SUCCESS", NULL, NULL);
        e = cw_scep_reply_open(p11, &j->reply_key, &rep, j->seq.opened, sizeof j->seq.opened, &olen);
        if (e == CW_OK) {
            memset(&j->result.certs, 0, sizeof j->result.certs);
            e = cw_import_collect(j->seq.opened, olen, &j->result.certs);
        }
        if (e == CW_OK) {
            j->result.outcome = CW_OUTCOME_ISSUED;
        }
        return e;
    case CW_SCEP_FAILURE:
        j->result.outcome = CW_OUTCOME_REFUSED;
        return cw_scep_fail_error(&rep);
    case CW_SCEP_PENDING:
        if (!j->pend.held) {
            /* the record again, now with held set; the sequence buffer is free (no content) */
            e = load_pending(j, j->seq.opened, sizeof j->seq.opened);
            j->pend.held = true;
            if (e == CW_OK) {
                e = cw_pending_store(p11, j->p.set, &j->pend, j->exch->resp, sizeof j->exch->resp);
            }
            j->pend.csr = NULL;
            j->pend.csr_len = 0;
            if (e != CW_OK) {
                return e;
            }
        }
        j->result.outcome = CW_OUTCOME_HELD;
        return CW_ERR_SCEP_PENDING;
    }
    return CW_ERR_SCEP_STATUS;
}

/* ---- the transition function and the exit -------------------------------------------------------- */

/* Errors that say a CertRep did not come from the CA for this request: its signature, its
 * envelope or its binding to the request (transactionID, nonce, type) is wrong. Unlike a network
 * error or a refusal, such a reply is no answer at all (docs/decisions.md 27). */
static bool not_authentic(cw_err e)
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

/* The one exit of a set's job: the result is fixed and the exchange buffers are given back. The
 * challenge never outlives the message it went into (build_message wipes the CSR buffer, which
 * the opened reply then reuses); end() and abort() wipe the rest once the result is used. */
static void finish(cw_scep_job_ctx *j, cw_err e)
{
    j->result.err = e;
    if (e != CW_OK && e != CW_ERR_SCEP_PENDING && j->result.outcome != CW_OUTCOME_REFUSED) {
        j->result.outcome = CW_OUTCOME_FAILED;
        j->result.request_kept = j->have_pend && j->pend.online;
        j->result.reply_not_authentic = j->step == CW_SCEP_PKI && not_authentic(e);
    }
    j->exch = NULL;
    j->step = CW_SCEP_DONE;
}

/* An exchange finished with e (CW_OK: len bytes in the response buffer): the next step. */
static cw_err step_done(cw_scep_job_ctx *j, cw_err e, size_t len)
{
    size_t msg_len = 0;

    if (e != CW_OK) {
        return e;
    }
    switch (j->step) {
    case CW_SCEP_CAPS:
        j->caps = cw_scep_caps_parse((const char *)j->exch->resp, len);
        cw_scep_choose(j->caps, &j->cipher, &j->digest);
        report_text(j, CW_REPORT_NEGOTIATED, cipher_text(j->cipher), j->digest == CW_HASH_SHA256 ? "SHA-256" : "SHA-1",
                    (j->caps & (CW_SCEP_CAP_POST | CW_SCEP_CAP_STANDARD)) ? "POST" : "GET");
        return start_op(j, CW_SCEP_OP_CACERT, NULL, 0);
    case CW_SCEP_CACERT:
        if (len > sizeof j->cacert) {
            return CW_ERR_TOO_LARGE;
        }
        memcpy(j->cacert, j->exch->resp, len);
        e = cw_scep_parse_cacert(j->cacert, len, &j->ca);
        if (e != CW_OK) {
            return e;
        }
        if (j->p.kind == CW_JOB_AUTH) {
            j->result.outcome = CW_OUTCOME_CA;
            j->result.certs = j->ca.all;
            j->result.ca = j->ca.ca;
            j->result.ra_signer = j->ca.signer;
            j->result.ra_recipient = j->ca.recipient;
            j->result.has_ra = j->ca.has_ra;
            j->result.ca_err = check_ra(&j->ca);
            return CW_OK;
        }
        e = check_authenticated(j);
        if (e == CW_OK) {
            e = build_message(j, &msg_len);
        }
        if (e != CW_OK) {
            return e;
        }
        {
            cw_job_report_t r;
            memset(&r, 0, sizeof r);
            r.kind = CW_REPORT_SENT;
            r.text = j->sent == CW_SCEP_CERTPOLL ? "CertPoll" : j->sent == CW_SCEP_RENEWALREQ ? "RenewalReq" : "PKCSReq";
            r.bytes = msg_len;
            r.text2 = j->pend.txid;
            report(j, &r);
        }
        return start_op(j, CW_SCEP_OP_PKI, j->exch->m.msg, msg_len);
    case CW_SCEP_PKI:
        return handle_reply(j, len);
    case CW_SCEP_IDLE:
    case CW_SCEP_DONE:
        break;
    }
    return CW_ERR_INTERNAL;
}

/* ---- the driver's interface ---------------------------------------------------------------------- */

static cw_err job_start(void *ctx, const cw_job_params_t *p, void *exchange, cw_job_report_fn rep, void *arg)
{
    cw_scep_job_ctx *j = ctx;
    bool open = j->step != CW_SCEP_IDLE; /* a run of sets goes on on the same connection */
    cw_err e;

    if (!open) {
        /* the transfer lives in the command scratch: another command may have used its bytes */
        cw_scep_http_init(&j->xfer, j->seq.query, sizeof j->seq.query);
    }
    j->p = *p;
    j->exch = exchange;
    j->report = rep;
    j->report_arg = arg;
    j->caps = 0;
    j->have_pend = false;
    j->sent = CW_SCEP_PKCSREQ;
    memset(&j->pend, 0, sizeof j->pend);
    memset(&j->result, 0, sizeof j->result);
    memset(&j->ca, 0, sizeof j->ca);
    if (p->kind == CW_JOB_AUTH) {
        report_text(j, CW_REPORT_FETCH_CA, p->url, NULL, NULL);
        e = start_op(j, CW_SCEP_OP_CACERT, NULL, 0);
    } else {
        j->have_pend = load_pending(j, j->exch->resp, sizeof j->exch->resp) == CW_OK;
        j->pend.csr = NULL;
        j->pend.csr_len = 0;
        if (j->have_pend && !j->pend.online) {
            e = CW_ERR_EXISTS;
        } else {
            report_text(j, CW_REPORT_BEGIN,
                        p->kind == CW_JOB_RENEW ? "renewing"
                        : is_poll(j)            ? "polling the request the CA holds"
                        : j->have_pend          ? "sending the unanswered request again"
                                                : "enrolling",
                        p->url, NULL);
            e = start_op(j, CW_SCEP_OP_CAPS, NULL, 0);
        }
    }
    if (e != CW_ERR_IN_PROGRESS) {
        finish(j, e);
    }
    return e;
}

static cw_err job_poll(void *ctx)
{
    cw_scep_job_ctx *j = ctx;
    size_t len = 0;
    cw_err e;

    if (j->step == CW_SCEP_DONE) {
        return CW_OK;
    }
    e = cw_scep_http_poll(&j->xfer, &len);
    if (e == CW_ERR_IN_PROGRESS) {
        return e;
    }
    e = step_done(j, e, len);
    if (e == CW_ERR_IN_PROGRESS) {
        return e;
    }
    finish(j, e);
    return CW_OK;
}

static void job_abort(void *ctx)
{
    cw_scep_job_ctx *j = ctx;
    cw_scep_http_abort(&j->xfer);
    cw_wipe(j->seq.build.csr, sizeof j->seq.build.csr);
    j->exch = NULL;
    j->step = CW_SCEP_IDLE;
}

static void job_end(void *ctx)
{
    cw_scep_job_ctx *j = ctx;
    cw_scep_http_close(&j->xfer);
    cw_wipe(j->seq.build.csr, sizeof j->seq.build.csr);
    j->step = CW_SCEP_IDLE;
}

static const char *job_step(const void *ctx)
{
    const cw_scep_job_ctx *j = ctx;
    switch (j->step) {
    case CW_SCEP_CAPS: return "GetCACaps";
    case CW_SCEP_CACERT: return "GetCACert";
    case CW_SCEP_PKI: return "PKIOperation";
    case CW_SCEP_DONE: return "done";
    case CW_SCEP_IDLE: break;
    }
    return "idle";
}

static const cw_job_result_t *job_result(const void *ctx)
{
    const cw_scep_job_ctx *j = ctx;
    return &j->result;
}

const cw_driver_t cw_scep_driver = {
    "scep", job_start, job_poll, job_abort, job_end, job_step, job_result,
};
