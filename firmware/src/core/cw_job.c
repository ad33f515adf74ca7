/*
 * cw_job.c: the core's one job slot (cw_job.h; docs/architecture.md).
 */
#include "cw/core/cw_job.h"

#include <string.h>

#include "cw/base/cw_clock.h"
#include "cw/base/cw_wipe.h"
#include "cw/core/cw_life.h"
#include "cw/core/cw_scratch.h"
#include "cw/core/cw_token.h"
#include "hal_clock.h"
#include "mbedtls/sha256.h"

/* Back-off: each PENDING answer doubles the wait, up to this many times the profile's interval. */
#define POLL_BACKOFF_MAX 8u
/* A background poll a command interrupted is tried again this much later. */
#define POLL_RETRY_MS 2000u

static struct {
    cw_job_phase phase;
    cw_job_kind kind;
    bool background;
    bool all;                         /* request all online */
    bool told_in_progress;            /* the caller was answered CW_ERR_IN_PROGRESS: FINISHED ends it */
    bool driver_open;                 /* the driver ran in this job: end() is due at the exit */
    bool driver_ran;                  /* the driver ran for this set: its result is this set's */
    size_t next_set;                  /* request all: the next set to look at */
    size_t set_index;
    char set[CW_TOPO_NAME_MAX + 1];
    size_t profile_index;
    char profile[CW_TOPO_NAME_MAX + 1];
    cw_topo_policy_t policy;          /* the set's */
    bool held;                        /* the set's request is held by the CA: a poll */
    bool scheduled;                   /* started by the lifecycle schedule (cw_life.c) */
    bool have_pend;
    bool pend_offline;
    const cw_driver_t *driver;
    cw_job_client_fn client;
    void *arg;
    uint32_t t_start, t_set;
    unsigned n_done, n_pending, n_failed;
    cw_err first_error;
    cw_job_ctx_t *ctx;                /* part B, while claimed */
    cw_job_exchange_t *ex;            /* part A, while claimed */
} slot;

/* Background polls of requests the CA holds, per set of the topology. */
static struct {
    bool armed;
    uint32_t due_ms;
    uint32_t wait_s;                  /* the current interval (grows by back-off) */
    cw_err last;                      /* the last poll's result */
} polls[CW_TOPO_SETS_MAX];

/* ---- telling the client -------------------------------------------------------------------------- */

static void tell_ev(cw_job_event_t *ev)
{
    if (slot.background || slot.client == NULL) {
        return;
    }
    ev->job = slot.kind;
    if (ev->set == NULL) {
        ev->set = slot.set;
    }
    if (ev->profile == NULL) {
        ev->profile = slot.profile;
    }
    slot.client(ev, slot.arg);
}

static void tell(cw_job_event_kind kind, cw_err err)
{
    cw_job_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.err = err;
    tell_ev(&ev);
}

static void on_report(const cw_job_report_t *r, void *arg)
{
    cw_job_event_t ev;
    (void)arg;
    memset(&ev, 0, sizeof ev);
    ev.kind = CW_JOB_EV_REPORT;
    ev.report = r;
    tell_ev(&ev);
}

/* ---- the scratch ---------------------------------------------------------------------------------- */

static cw_err claim_ctx(void)
{
    slot.ctx = slot.background ? cw_scratch_try_claim(CW_SCRATCH_B, CW_SCRATCH_JOB)
                               : cw_scratch_claim(CW_SCRATCH_B, CW_SCRATCH_JOB);
    if (slot.ctx == NULL) {
        return CW_ERR_BUSY;
    }
    memset(slot.ctx, 0, sizeof *slot.ctx);
    return CW_OK;
}

static cw_err claim_exchange(void)
{
    if (slot.ex == NULL) {
        slot.ex = cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_JOB);
    }
    return slot.ex != NULL ? CW_OK : CW_ERR_BUSY;
}

static void release_exchange(void)
{
    if (slot.ex != NULL) {
        cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_JOB);
        slot.ex = NULL;
    }
}

/* ---- polls --------------------------------------------------------------------------------------- */

static void arm_poll(size_t set_index, bool backoff)
{
    uint32_t base = slot.policy.poll_seconds > 0 ? slot.policy.poll_seconds : CW_TOPO_DEFAULT_POLL_SECONDS;
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

static void disarm_poll(size_t set_index)
{
    if (set_index < CW_TOPO_SETS_MAX) {
        polls[set_index].armed = false;
    }
}

bool cw_job_held(size_t set_index, int32_t *next_s, cw_err *last)
{
    if (set_index >= CW_TOPO_SETS_MAX || !polls[set_index].armed) {
        return false;
    }
    int32_t left = (int32_t)(polls[set_index].due_ms - hal_clock_ms());
    *next_s = left > 0 ? left / 1000 : 0;
    *last = polls[set_index].last;
    return true;
}

/* ---- one set ----------------------------------------------------------------------------------- */

/* Prepares the slot for set i: names, profile, URL, driver. */
static cw_err load_set(size_t i)
{
    const cw_topology *t = cw_model_topology();
    cw_err e;

    if (t == NULL) {
        return CW_ERR_NO_TOPOLOGY;
    }
    e = cw_topology_policy(t, i, &slot.policy);
    if (e != CW_OK) {
        return e;
    }
    slot.set_index = i;
    cw_model_set_name(i, slot.set, sizeof slot.set);
    slot.profile_index = slot.policy.profile;
    cw_model_profile_name(slot.profile_index, slot.profile, sizeof slot.profile);
    cw_model_view_str(t->profiles[slot.profile_index].url, slot.ctx->url, sizeof slot.ctx->url);
    slot.have_pend = false;
    slot.held = false;
    slot.pend_offline = false;
    if (slot.policy.protocol != CW_TOPO_SCEP) {
        return CW_ERR_SCEP_NOT_SCEP;
    }
    slot.driver = &cw_scep_driver;
    return CW_OK;
}

/* Before any token or network work: the profile's CA must be trusted (its fingerprints go to the
 * driver), and the set's pending record says what the job is. Part A is the slot's afterwards. */
static cw_err check_set(void)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_pending_t pend;
    cw_err e = claim_exchange();

    if (e == CW_OK) {
        e = cw_trust_load(p11, slot.profile, &slot.ex->trust);
    }
    if (e == CW_OK) {
        slot.ctx->ntrusted = 0;
        for (size_t i = 0; i < slot.ex->trust.list.n && i < CW_DRIVER_TRUSTED_MAX; i++) {
            (void)mbedtls_sha256(slot.ex->trust.list.cert[i].p, slot.ex->trust.list.cert[i].len,
                                 slot.ctx->trusted[slot.ctx->ntrusted++], 0);
        }
        if (slot.ctx->ntrusted == 0) {
            e = CW_ERR_SCEP_NOT_AUTHENTICATED;
        }
    }
    if (e == CW_OK && cw_pending_load(p11, slot.set, slot.ex->scep.resp, sizeof slot.ex->scep.resp, &pend) == CW_OK) {
        slot.have_pend = true;
        slot.held = cw_scep_pending_is_held(&pend);
        slot.pend_offline = !pend.online;
    }
    if (e == CW_OK && slot.pend_offline) {
        tell(CW_JOB_EV_OFFLINE_PENDING, CW_ERR_EXISTS);
        e = CW_ERR_EXISTS;
    }
    return e;
}

/* Starts the driver on the set loaded in the slot. */
static cw_err after_driver(void);

static cw_err begin_set(void)
{
    cw_job_params_t p;
    cw_err e = claim_exchange();

    if (e != CW_OK) {
        return e;
    }
    memset(&p, 0, sizeof p);
    p.kind = slot.kind == CW_JOB_POLL ? CW_JOB_ENROL : slot.kind;
    p.token = cw_token_session();
    p.set = slot.set;
    p.url = slot.ctx->url;
    p.topo = cw_model_topology();
    p.set_index = slot.set_index;
    p.policy = slot.policy;
    p.trusted = (const uint8_t(*)[32])slot.ctx->trusted;
    p.ntrusted = slot.ctx->ntrusted;
    if (slot.kind == CW_JOB_RENEW &&
        cw_model_set_cert_id(slot.set, slot.ctx->renew_id, &slot.ctx->renew_id_len) == CW_OK) {
        p.renew_id = slot.ctx->renew_id;
        p.renew_id_len = slot.ctx->renew_id_len;
    }
    if (slot.ctx->challenge_len > 0) {
        p.challenge = slot.ctx->challenge;
        p.challenge_len = slot.ctx->challenge_len;
    }
    slot.t_set = hal_clock_ms();
    slot.phase = CW_JOB_RUNNING;
    slot.driver_open = true;
    slot.driver_ran = true;
    e = slot.driver->start(&slot.ctx->driver, &p, &slot.ex->scep, on_report, NULL);
    return e == CW_ERR_IN_PROGRESS ? e : after_driver();
}

/* The driver is done: the exchange buffers are the slot's again; the role model learns what came
 * back. Returns the set's result. */
static cw_err auth_decide(const cw_job_result_t *r);

static cw_err after_driver(void)
{
    const cw_job_result_t *r = slot.driver->result(&slot.ctx->driver);
    cw_job_event_t ev;
    cw_err e = r->err;

    release_exchange();
    if (slot.kind == CW_JOB_AUTH) {
        return e != CW_OK ? e : auth_decide(r);
    }
    switch (r->outcome) {
    case CW_OUTCOME_ISSUED: {
        cw_model_accepted_t acc;
        e = cw_model_accept(slot.set, &r->certs, NULL, &acc);
        memset(&ev, 0, sizeof ev);
        ev.kind = CW_JOB_EV_ACCEPTED;
        ev.accepted = &acc;
        ev.err = e;
        tell_ev(&ev);
        if (e == CW_OK) {
            disarm_poll(slot.set_index);
        }
        return e;
    }
    case CW_OUTCOME_REFUSED:
        tell(CW_JOB_EV_REFUSED, e);
        cw_model_refused(slot.set, e);
        disarm_poll(slot.set_index);
        return e;
    case CW_OUTCOME_HELD:
        arm_poll(slot.set_index, slot.held);
        memset(&ev, 0, sizeof ev);
        ev.kind = CW_JOB_EV_HELD;
        ev.wait_s = slot.set_index < CW_TOPO_SETS_MAX ? polls[slot.set_index].wait_s : 0u;
        tell_ev(&ev);
        cw_model_request_waits(slot.set, CW_ERR_SCEP_PENDING);
        return CW_ERR_SCEP_PENDING;
    case CW_OUTCOME_FAILED:
        cw_model_request_waits(slot.set, e);
        return e;
    case CW_OUTCOME_CA:
    case CW_OUTCOME_NONE:
        break;
    }
    return e != CW_OK ? e : CW_ERR_INTERNAL;
}

/* What is said when a set's turn ends with e; background polls keep their schedule. */
static void set_end(cw_err e)
{
    const cw_job_result_t *r = slot.driver_ran ? slot.driver->result(&slot.ctx->driver) : NULL;
    cw_job_event_t ev;

    if (slot.kind == CW_JOB_AUTH) {
        return;
    }
    memset(&ev, 0, sizeof ev);
    ev.err = e;
    if (e == CW_OK) {
        ev.kind = CW_JOB_EV_SET_DONE;
        ev.ms = hal_clock_ms() - slot.t_set;
        tell_ev(&ev);
    } else if (e != CW_ERR_SCEP_PENDING) {
        ev.kind = CW_JOB_EV_SET_FAILED;
        ev.not_authentic = r != NULL && r->outcome == CW_OUTCOME_FAILED && r->reply_not_authentic;
        /* the request stays: unanswered, answered by no one, or answered with a certificate the
         * checks refused (the CA may still send a good one) */
        ev.kept = r != NULL && ((r->outcome == CW_OUTCOME_FAILED && r->request_kept) || r->outcome == CW_OUTCOME_ISSUED);
        tell_ev(&ev);
    }
    if (slot.background && slot.set_index < CW_TOPO_SETS_MAX) {
        polls[slot.set_index].last = e;
        if (e != CW_OK && e != CW_ERR_SCEP_PENDING && polls[slot.set_index].armed) {
            arm_poll(slot.set_index, true); /* a network error: try again later */
        }
    }
}

/* ---- the exit ----------------------------------------------------------------------------------- */

/* The one exit: wipes the challenge, ends the driver (closing the connection), gives the scratch
 * back, and tells the client the end when it was told the job goes on. */
static void job_exit(cw_err e)
{
    bool tell_end = slot.told_in_progress && !slot.background;
    cw_job_client_fn client = slot.client;
    void *arg = slot.arg;
    cw_job_kind kind = slot.kind;
    bool scheduled = slot.scheduled;
    size_t set_index = slot.set_index;

    if (slot.ctx != NULL) {
        if (slot.driver_open) {
            slot.driver->end(&slot.ctx->driver);
        }
        cw_wipe(slot.ctx->challenge, sizeof slot.ctx->challenge);
        slot.ctx->challenge_len = 0;
        cw_scratch_release(CW_SCRATCH_B, CW_SCRATCH_JOB);
        slot.ctx = NULL;
    }
    release_exchange();
    memset(&slot, 0, sizeof slot);
    if (scheduled) {
        cw_life_job_ended(set_index, e);
    }
    if (tell_end && client != NULL) {
        cw_job_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = CW_JOB_EV_FINISHED;
        ev.job = kind;
        ev.err = e;
        client(&ev, arg);
    }
}

/* Returns e to the caller of a cw_job_* function: CW_ERR_IN_PROGRESS goes on; anything else ends
 * the job here. */
static cw_err answer(cw_err e)
{
    if (e == CW_ERR_IN_PROGRESS) {
        slot.told_in_progress = true;
        return e;
    }
    slot.told_in_progress = false;
    job_exit(e);
    return e;
}

/* ---- request all --------------------------------------------------------------------------------- */

static void count_result(cw_err e)
{
    if (e == CW_OK) {
        slot.n_done++;
    } else if (e == CW_ERR_SCEP_PENDING) {
        slot.n_pending++;
    } else {
        slot.n_failed++;
        if (slot.first_error == CW_OK) {
            slot.first_error = e;
        }
    }
}

/* Starts the next set that needs a certificate, or tells the summary and returns the run's result
 * (the first failure, else PENDING if a set waits, else OK). */
static cw_err next_of_all(void)
{
    const cw_topology *t = cw_model_topology();
    int64_t now = cw_clock_utc();
    cw_job_event_t ev;

    slot.phase = CW_JOB_NEXT_SET;
    while (t != NULL && slot.next_set < cw_topology_set_count(t)) {
        cw_err e = load_set(slot.next_set++);
        if (e == CW_ERR_SCEP_NOT_SCEP) {
            tell(CW_JOB_EV_SKIPPED, e);
            continue;
        }
        if (e == CW_OK) {
            e = check_set();
        }
        if (e == CW_OK && !slot.have_pend) {
            release_exchange(); /* the model reads the set's certificate in part A */
            if (cw_model_set_has_valid_cert(slot.set, now)) {
                tell(CW_JOB_EV_SKIPPED, CW_ERR_EXISTS);
                continue;
            }
        }
        slot.driver_ran = false;
        if (e == CW_OK) {
            e = begin_set();
        }
        if (e == CW_ERR_IN_PROGRESS) {
            return e;
        }
        set_end(e);
        count_result(e);
    }
    release_exchange();
    memset(&ev, 0, sizeof ev);
    ev.kind = CW_JOB_EV_SUMMARY;
    ev.set = "";
    ev.n_done = slot.n_done;
    ev.n_pending = slot.n_pending;
    ev.n_failed = slot.n_failed;
    tell_ev(&ev);
    if (slot.first_error != CW_OK) {
        return slot.first_error;
    }
    return slot.n_pending > 0 ? CW_ERR_SCEP_PENDING : CW_OK;
}

/* request all: does any set need a new request (not just a poll)? One challenge serves the run. */
static bool all_needs_challenge(void)
{
    const cw_topology *t = cw_model_topology();
    int64_t now = cw_clock_utc();
    bool need = false;

    for (size_t i = 0; t != NULL && i < cw_topology_set_count(t) && !need; i++) {
        bool ok = load_set(i) == CW_OK;
        if (ok) {
            cw_job_client_fn client = slot.client;
            slot.client = NULL; /* a look ahead: nothing is told */
            ok = check_set() == CW_OK;
            slot.client = client;
        }
        release_exchange();
        if (ok && !slot.held) {
            need = slot.have_pend || !cw_model_set_has_valid_cert(slot.set, now);
        }
    }
    return need;
}

/* ---- starting -------------------------------------------------------------------------------------- */

/* Takes the slot for a command (a background job gives way). */
static cw_err take(cw_job_kind kind, cw_job_client_fn client, void *arg)
{
    cw_job_yield();
    if (slot.phase != CW_JOB_IDLE) {
        return CW_ERR_BUSY;
    }
    memset(&slot, 0, sizeof slot);
    slot.kind = kind;
    slot.client = client;
    slot.arg = arg;
    slot.t_start = hal_clock_ms();
    return claim_ctx();
}

/* A command's set is ready and checked: a held request is polled at once; anything else waits for
 * the challenge first. */
static cw_err start_or_ask(void)
{
    if (slot.held) {
        return begin_set();
    }
    release_exchange(); /* while the operator types, the model may need part A */
    slot.phase = CW_JOB_WAIT_SECRET;
    tell(CW_JOB_EV_NEED_SECRET, CW_OK);
    return CW_ERR_IN_PROGRESS;
}

static cw_err set_job(cw_job_kind kind, const char *set, cw_job_client_fn client, void *arg)
{
    size_t i = 0;
    cw_err e = cw_token_need_login();

    if (e == CW_OK) {
        e = cw_model_find_set(set, &i);
    }
    if (e == CW_OK) {
        e = take(kind, client, arg);
    }
    if (e != CW_OK) {
        return e;
    }
    e = load_set(i);
    if (e == CW_OK) {
        e = check_set();
    }
    if (e == CW_OK && kind == CW_JOB_RENEW && !slot.have_pend) {
        uint8_t id[CW_P11_KEY_ID_LEN];
        size_t id_len = 0;
        e = cw_model_set_cert_id(slot.set, id, &id_len); /* renewal needs the certificate the roles use */
    }
    if (e == CW_OK) {
        e = start_or_ask();
    }
    return answer(e); /* an error at once is the command's answer; nothing more is said */
}

cw_err cw_job_enrol(const char *set, cw_job_client_fn client, void *arg)
{
    cw_err e = cw_token_need_login();

    if (e == CW_OK && cw_model_topology() == NULL) {
        e = CW_ERR_NO_TOPOLOGY;
    }
    if (e != CW_OK) {
        return e;
    }
    if (strcmp(set, "all") != 0) {
        return set_job(CW_JOB_ENROL, set, client, arg);
    }
    e = take(CW_JOB_ENROL, client, arg);
    if (e != CW_OK) {
        return e;
    }
    slot.all = true;
    if (all_needs_challenge()) {
        slot.phase = CW_JOB_WAIT_SECRET;
        tell(CW_JOB_EV_NEED_SECRET, CW_OK);
        return answer(CW_ERR_IN_PROGRESS);
    }
    return answer(next_of_all());
}

cw_err cw_job_renew(const char *set, cw_job_client_fn client, void *arg)
{
    return set_job(CW_JOB_RENEW, set, client, arg);
}

cw_err cw_job_auth(const char *profile, cw_job_client_fn client, void *arg)
{
    const cw_topology *t = cw_model_topology();
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
    if (e == CW_OK) {
        e = take(CW_JOB_AUTH, client, arg);
    }
    if (e != CW_OK) {
        return e;
    }
    slot.profile_index = pi;
    cw_model_profile_name(pi, slot.profile, sizeof slot.profile);
    cw_model_view_str(t->profiles[pi].url, slot.ctx->url, sizeof slot.ctx->url);
    slot.driver = &cw_scep_driver;
    return answer(begin_set());
}

/* ---- the client's answers -------------------------------------------------------------------------- */

cw_err cw_job_secret(const char *secret, size_t len)
{
    cw_err e;

    if (slot.phase != CW_JOB_WAIT_SECRET) {
        return CW_ERR_INTERNAL;
    }
    if (secret == NULL) {
        return answer(CW_ERR_CANCELLED);
    }
    if (len > CW_JOB_SECRET_MAX) {
        return answer(CW_ERR_TOO_LARGE);
    }
    memcpy(slot.ctx->challenge, secret, len);
    slot.ctx->challenge[len] = '\0';
    slot.ctx->challenge_len = len;
    if (slot.all) {
        return answer(next_of_all());
    }
    e = begin_set(); /* the trusted fingerprints are in the context already */
    return answer(e);
}

/* AUTH: the CA certificate the driver fetched is trusted now: stored under the profile, unless
 * something beside it is wrong (r->ca_err). */
static cw_err store_ca(const cw_job_result_t *r)
{
    cw_err e = r->ca_err;
    if (e == CW_OK) {
        e = cw_trust_add(cw_token_session(), slot.profile, &r->ca);
    }
    if (e == CW_OK) {
        tell(CW_JOB_EV_CA_STORED, CW_OK);
    }
    return e;
}

/* AUTH: the CA's certificate is in (r->ca, views into the driver's buffer): trusted already,
 * pinned, under the profile's root, or the operator decides (docs/decisions.md 25). */
static cw_err auth_decide(const cw_job_result_t *r)
{
    const cw_topology *t = cw_model_topology();
    const cw_topo_profile_t *pr = &t->profiles[slot.profile_index];
    const uint8_t *pin = pr->fingerprint.len == 32 ? cw_topo_bytes(t, pr->fingerprint) : NULL;
    uint8_t root[32];
    cw_job_event_t ev;
    cw_err e;

    memset(&ev, 0, sizeof ev);
    ev.kind = CW_JOB_EV_CA;
    ev.result = r;
    tell_ev(&ev);
    e = claim_exchange();
    if (e == CW_OK) {
        e = cw_trust_load(cw_token_session(), slot.profile, &slot.ex->trust);
    }
    if (e == CW_OK) {
        e = cw_import_check_ca(&r->ca, cw_clock_utc(), pin, &slot.ex->trust.list, root);
    }
    for (size_t i = 0; e == CW_OK && i < slot.ex->trust.list.n; i++) {
        const cw_der_t *c = &slot.ex->trust.list.cert[i];
        if (c->len == r->ca.len && memcmp(c->p, r->ca.p, c->len) == 0) {
            release_exchange();
            tell(CW_JOB_EV_CA_KNOWN, CW_OK);
            return r->ca_err;
        }
    }
    if (e == CW_OK) {
        /* the same rule as every other way in: pinned, under the root the profile trusts, or a
         * first root the operator accepts (a second root needs ca forget first) */
        e = cw_import_trust_root(&slot.ex->trust.list, pin, NULL, root);
    }
    release_exchange();
    if (e == CW_OK) {
        memset(&ev, 0, sizeof ev);
        ev.kind = CW_JOB_EV_CA_PINNED;
        ev.pinned = pin != NULL;
        tell_ev(&ev);
        return store_ca(r);
    }
    if (e != CW_ERR_IMPORT_ROOT_UNCONFIRMED) {
        return e; /* not a CA, expired, untrusted, another root than the profile's, or not the pinned one */
    }
    slot.phase = CW_JOB_WAIT_CONFIRM;
    tell(CW_JOB_EV_NEED_CONFIRM, CW_OK);
    return CW_ERR_IN_PROGRESS;
}

cw_err cw_job_confirm(bool yes)
{
    const cw_job_result_t *r;

    if (slot.phase != CW_JOB_WAIT_CONFIRM) {
        return CW_ERR_INTERNAL;
    }
    if (!yes) {
        return answer(CW_ERR_CANCELLED); /* nothing stored */
    }
    r = slot.driver->result(&slot.ctx->driver);
    return answer(store_ca(r));
}

void cw_job_cancel(void)
{
    if (slot.phase == CW_JOB_IDLE || slot.background) {
        return;
    }
    if (slot.phase == CW_JOB_RUNNING && slot.driver_open) {
        slot.driver->abort(&slot.ctx->driver);
        slot.driver_open = false;
    }
    slot.told_in_progress = false; /* the console says CANCELLED itself */
    job_exit(CW_ERR_CANCELLED);
}

void cw_job_yield(void)
{
    /* Only a poll gives way: a scheduled renewal runs to its end (a command that needs the slot
     * meanwhile answers BUSY, docs/lifecycle.md). */
    if (slot.phase != CW_JOB_IDLE && slot.background && !slot.scheduled) {
        /* the background poll gives up the scratch at once (lwIP keeps no reference into it after
         * the abort), and is tried again soon after */
        if (slot.driver_open) {
            slot.driver->abort(&slot.ctx->driver);
            slot.driver_open = false;
        }
        if (slot.set_index < CW_TOPO_SETS_MAX && polls[slot.set_index].armed) {
            polls[slot.set_index].due_ms = hal_clock_ms() + POLL_RETRY_MS;
        }
        job_exit(CW_ERR_CANCELLED);
    }
}

bool cw_job_busy(void)
{
    return slot.phase != CW_JOB_IDLE;
}

cw_err cw_job_background_renew(size_t set_index)
{
    cw_err e;

    if (slot.phase != CW_JOB_IDLE || cw_token_session() == NULL || !cw_p11_logged_in(cw_token_session()) ||
        cw_scratch_holder(CW_SCRATCH_A) != CW_SCRATCH_FREE || cw_scratch_holder(CW_SCRATCH_B) != CW_SCRATCH_FREE) {
        return CW_ERR_BUSY;
    }
    memset(&slot, 0, sizeof slot);
    slot.kind = CW_JOB_RENEW;
    slot.background = true;
    slot.t_start = hal_clock_ms();
    if (claim_ctx() != CW_OK) {
        return CW_ERR_BUSY;
    }
    slot.scheduled = true;
    e = load_set(set_index);
    if (e == CW_OK) {
        e = check_set();
    }
    if (e == CW_OK && slot.held) {
        e = CW_ERR_SCEP_PENDING; /* the polls look after a held request */
    }
    if (e == CW_OK && !slot.have_pend) {
        release_exchange();
        e = cw_model_set_cert_id(slot.set, slot.ctx->renew_id, &slot.ctx->renew_id_len);
    }
    if (e == CW_OK) {
        e = begin_set(); /* no challenge: the request is signed with the current key */
    }
    if (e != CW_ERR_IN_PROGRESS) {
        set_end(e);
        job_exit(e);
    }
    return e;
}

/* ---- running -------------------------------------------------------------------------------------- */

/* The model's epoch the polls were armed for (cw_model_epoch): records read after a login (a
 * token that keeps them private) or a new topology arm them again. */
static uint32_t polls_epoch;

/* Arms a poll for each set whose request the CA holds, from the pending records. Needs scratch
 * A: when a command holds it, nothing changes and the next idle pass tries again. */
static void arm_held_polls(void)
{
    const cw_topology *t = cw_model_topology();
    cw_p11_ctx *p11 = cw_token_session();
    cw_job_exchange_t *ex = cw_scratch_claim(CW_SCRATCH_A, CW_SCRATCH_JOB);

    if (ex == NULL) {
        return;
    }
    memset(polls, 0, sizeof polls);
    for (size_t i = 0; t != NULL && p11 != NULL && i < cw_topology_set_count(t) && i < CW_TOPO_SETS_MAX; i++) {
        char set[CW_TOPO_NAME_MAX + 1];
        cw_pending_t p;
        cw_topo_policy_t pol;
        uint32_t base = CW_TOPO_DEFAULT_POLL_SECONDS;
        cw_model_set_name(i, set, sizeof set);
        if (cw_pending_load(p11, set, ex->scep.resp, sizeof ex->scep.resp, &p) != CW_OK ||
            !cw_scep_pending_is_held(&p)) {
            continue;
        }
        if (cw_topology_policy(t, i, &pol) == CW_OK && pol.poll_seconds > 0) {
            base = pol.poll_seconds;
        }
        polls[i].armed = true;
        polls[i].wait_s = base;
        polls[i].due_ms = hal_clock_ms() + base * 1000u;
    }
    cw_scratch_release(CW_SCRATCH_A, CW_SCRATCH_JOB);
    polls_epoch = cw_model_epoch();
}

void cw_job_boot(void)
{
    memset(&slot, 0, sizeof slot);
    arm_held_polls();
}

/* Starts the poll of a request the CA holds, when one is due and nothing else runs. */
static void poll_background(void)
{
    const cw_topology *t = cw_model_topology();
    cw_p11_ctx *p11 = cw_token_session();
    uint32_t now = hal_clock_ms();

    if (t == NULL || p11 == NULL || !cw_p11_logged_in(p11) || cw_scratch_holder(CW_SCRATCH_B) != CW_SCRATCH_FREE) {
        return;
    }
    for (size_t i = 0; i < cw_topology_set_count(t) && i < CW_TOPO_SETS_MAX; i++) {
        cw_err e;
        if (!polls[i].armed || (int32_t)(now - polls[i].due_ms) < 0) {
            continue;
        }
        memset(&slot, 0, sizeof slot);
        slot.kind = CW_JOB_POLL;
        slot.background = true;
        slot.t_start = now;
        if (claim_ctx() != CW_OK) {
            return;
        }
        e = load_set(i);
        if (e == CW_OK) {
            e = check_set();
        }
        if (e != CW_OK || !slot.held) {
            polls[i].armed = false;
            job_exit(CW_OK);
            continue;
        }
        polls[i].due_ms = now + polls[i].wait_s * 1000u; /* until this poll answers */
        e = begin_set();
        if (e != CW_ERR_IN_PROGRESS) {
            set_end(e);
            job_exit(e);
        }
        return;
    }
}

void cw_job_poll(void)
{
    cw_err e;

    if (slot.phase == CW_JOB_IDLE) {
        if (polls_epoch != cw_model_epoch()) {
            arm_held_polls();
        }
        poll_background();
        return;
    }
    if (slot.phase != CW_JOB_RUNNING) {
        return; /* waiting for the client */
    }
    e = slot.driver->poll(&slot.ctx->driver);
    if (e == CW_ERR_IN_PROGRESS) {
        return;
    }
    e = after_driver();
    if (e == CW_ERR_IN_PROGRESS) {
        return; /* AUTH: the operator decides */
    }
    set_end(e);
    if (slot.all) {
        count_result(e);
        e = next_of_all();
        if (e == CW_ERR_IN_PROGRESS) {
            return;
        }
    }
    job_exit(e);
}

/* ---- what runs ------------------------------------------------------------------------------------- */

void cw_job_state(cw_job_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->kind = slot.kind;
    if (slot.phase == CW_JOB_IDLE) {
        out->kind = CW_JOB_NONE;
        return;
    }
    out->background = slot.background;
    out->protocol = slot.driver != NULL ? slot.driver->protocol : "";
    switch (slot.phase) {
    case CW_JOB_WAIT_SECRET: out->step = "waiting for the challenge"; break;
    case CW_JOB_WAIT_CONFIRM: out->step = "waiting for the operator"; break;
    case CW_JOB_NEXT_SET: out->step = "next set"; break;
    case CW_JOB_RUNNING: out->step = slot.driver->step(&slot.ctx->driver); break;
    case CW_JOB_IDLE: break;
    }
    memcpy(out->set, slot.set, sizeof out->set);
    memcpy(out->profile, slot.profile, sizeof out->profile);
    out->running_ms = hal_clock_ms() - slot.t_start;
}
