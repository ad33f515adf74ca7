/*
 * cw_life.c: each set's life, looked after from the main loop (cw_life.h; docs/lifecycle.md).
 *
 * What a set is comes from the token (cw_model_set_facts), read again only when something
 * changed it: at boot, after a login, after a topology load, after an event about one of its
 * roles. In between, judging the schedule costs no token call: notAfter, the renewal time and
 * the retry time are in RAM, and the wall clock is cw_clock's.
 */
#include "cw/core/cw_life.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cw/base/cw_clock.h"
#include "cw/base/cw_opts.h"
#include "cw/base/cw_time.h"
#include "cw/base/cw_wipe.h"
#include "cw/core/cw_job.h"
#include "cw/core/cw_scratch.h"
#include "cw/core/cw_token.h"
#include "hal_clock.h"
#include "hal_net.h"
#include "lwip/netif.h"

#define DAY_S 86400u

/* Expiry alerts: days before notAfter (the last, 0, is the expiry itself). */
static const uint8_t alert_days[] = {60, 30, 7, 1, 0};
#define ALERTS (sizeof alert_days / sizeof alert_days[0])

/* What a set's schedule needs, kept small (one per set of CW_TOPO_SETS_MAX): the facts read from
 * the token reduced to what judging needs. */
typedef struct set_life_t {
    int64_t not_after;      /* of the certificate the roles use (has_cert) */
    int64_t renew_at;       /* when its renewal starts, with the jitter */
    int64_t next_try;       /* a failed renewal's next try (UTC); 0: at renew_at */
    uint32_t seed;          /* FNV-1a of the certificate's CKA_ID: the jitter's, and who it is */
    cw_err last_err;
    uint8_t fails;          /* failed tries in a row (stops counting at 255) */
    uint8_t early;          /* certificates in a row already due when they arrived: the next
                               renewal is held back (next_try), backed off like a failure */
    uint8_t alerts_told;    /* bit k: alert_days[k] told (or not due) for this certificate */
    bool known : 1;         /* facts read since the last change */
    bool stale : 1;         /* read them again */
    bool online : 1;        /* the profile enrols over SCEP */
    bool running : 1;       /* the schedule's background job for this set runs */
    bool has_cert : 1;
    bool pending : 1;       /* the set has a pending request ... */
    bool pending_online : 1;
    bool pending_held : 1;  /* ... held by the CA */
} set_life_t;

static struct {
    cw_life_notice_fn notice;
    void *arg;
    cw_listener_t listener;
    uint32_t epoch;
    bool logged_in;
    bool link_up;
    uint32_t last_judged_ms;
    size_t nsets;
} life;

static set_life_t sets[CW_TOPO_SETS_MAX];

/* ---- small helpers -------------------------------------------------------------------------------- */

/* "set <set>: " and the rest, to the notice hook. */
static void notice(const char *set, const char *fmt, ...)
{
    char line[CW_CONSOLE_NOTICE_MAX];
    va_list ap;
    int n;

    if (life.notice == NULL) {
        return;
    }
    n = snprintf(line, sizeof line, "set %s: ", set);
    if (n < 0 || (size_t)n >= sizeof line) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    life.notice(line, life.arg);
}

/* FNV-1a over the set's certificate ID: the device's own key decides its place in the window, so a
 * fleet with one topology spreads out, and a device picks the same place after a restart. */
static uint32_t id_seed(const cw_set_facts_t *f)
{
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < f->cert_id_len; k++) {
        h = (h ^ f->cert_id[k]) * 16777619u;
    }
    return h;
}

/* When the set's renewal starts: renewPercent of the lifetime, plus the jitter. */
static int64_t renewal_time(const cw_set_facts_t *f, uint32_t seed, unsigned percent)
{
    uint32_t before = cw_time_life_share(f->not_before, f->not_after, percent);
    uint32_t window = (cw_time_life_share(f->not_before, f->not_after, 100u) - before) / 100u * CW_LIFE_JITTER_PERCENT;
    if (window == 0u) {
        return f->not_before + before;
    }
    return f->not_before + before + (int64_t)(seed % (window + 1u));
}

/* The alerts a certificate shorter than their days never gets (they would only say "new"). */
static uint8_t alerts_not_due(const cw_set_facts_t *f)
{
    uint8_t told = 0;
    for (size_t k = 0; k < ALERTS; k++) {
        if (alert_days[k] != 0 && f->not_after - (int64_t)alert_days[k] * DAY_S <= f->not_before) {
            told |= (uint8_t)(1u << k);
        }
    }
    return told;
}

static bool set_name(size_t i, char *out, size_t cap)
{
    if (cw_model_topology() == NULL || i >= life.nsets) {
        return false;
    }
    cw_model_set_name(i, out, cap);
    return true;
}

/* The next try after the count-th failure (or certificate due on arrival) in a row:
 * CW_LIFE_RETRY_MIN_S doubled each time, up to CW_LIFE_RETRY_MAX_S, the last quarter of it random
 * (from the same seed and the count), and never later than half the remaining lifetime. */
static int64_t backoff_time(const set_life_t *s, size_t i, int64_t now, unsigned count)
{
    uint32_t wait = CW_LIFE_RETRY_MIN_S;
    for (unsigned k = 1; k < count && wait < CW_LIFE_RETRY_MAX_S; k++) {
        wait *= 2u;
    }
    if (wait > CW_LIFE_RETRY_MAX_S) {
        wait = CW_LIFE_RETRY_MAX_S;
    }
    wait -= ((s->seed ^ (uint32_t)i) * 2654435761u + count) % (wait / 4u + 1u);
    if (s->has_cert && s->not_after > now && (int64_t)wait > (s->not_after - now) / 2) {
        wait = (uint32_t)((s->not_after - now) / 2);
    }
    return now + (wait > 1u ? wait : 1u);
}

static int64_t retry_time(const set_life_t *s, size_t i, int64_t now)
{
    return backoff_time(s, i, now, s->fails);
}

/* A renewed certificate already past its renewal time when it arrives (the CA's lifetime is short
 * for the profile's renewPercent, or this clock runs ahead of the CA's) would be renewed at once,
 * and again: a renewal storm against the CA. Its renewal is held back instead, longer each time
 * in a row, and said once. */
static void hold_if_due_on_arrival(set_life_t *s, size_t i)
{
    char set[CW_TOPO_NAME_MAX + 1];
    int64_t now = cw_clock_utc();

    if (now <= 0 || s->renew_at == 0 || now < s->renew_at) {
        s->early = 0;
        return;
    }
    if (s->early < UINT8_MAX) {
        s->early++;
    }
    s->next_try = backoff_time(s, i, now, s->early);
    if (set_name(i, set, sizeof set)) {
        notice(set, "its new certificate was due for renewal on arrival (a short lifetime, or this clock ahead "
                    "of the CA's); next renewal in %ld s", (long)(s->next_try - now));
    }
}

/* ---- the facts ------------------------------------------------------------------------------------ */

static void on_event(const cw_event_t *ev, void *arg)
{
    size_t i;
    (void)arg;
    if (ev->type != CW_EVENT_EXPIRING && cw_model_find_set(ev->set, &i) == CW_OK) {
        cw_life_stale(i);
    }
}

void cw_life_stale(size_t set_index)
{
    for (size_t i = 0; i < CW_TOPO_SETS_MAX; i++) {
        if (set_index == SIZE_MAX || i == set_index) {
            sets[i].stale = true;
        }
    }
}

/* Reads one stale set's facts; true when one was read (or tried). */
static bool refresh_one(void)
{
    const cw_topology *t = cw_model_topology();
    for (size_t i = 0; t != NULL && i < life.nsets; i++) {
        set_life_t *s = &sets[i];
        cw_topo_policy_t pol;
        cw_set_facts_t f;
        if (!s->stale) {
            continue;
        }
        if (cw_model_set_facts(i, &f) != CW_OK) {
            return true; /* busy or no token: tried again at the next poll */
        }
        s->stale = false;
        uint32_t seed = id_seed(&f);
        bool first = !s->known;
        /* another certificate: a new key's (its ID, the seed) or a new expiry (a renewal within the
         * same second as the request before it has the same notAfter) */
        bool renewed = s->has_cert && f.has_cert && (seed != s->seed || f.not_after != s->not_after);
        if (first || seed != s->seed || f.has_cert != s->has_cert) {
            s->alerts_told = alerts_not_due(&f); /* a new certificate: its own alerts */
        }
        if (renewed) {
            s->fails = 0;
            s->next_try = 0;
            s->last_err = CW_OK;
        }
        s->seed = seed;
        s->not_after = f.not_after;
        s->has_cert = f.has_cert;
        s->pending = f.pending;
        s->pending_online = f.pending_online;
        s->pending_held = f.pending_held;
        s->known = true;
        if (first && f.has_cert && f.pending_online && !f.pending_held) {
            /* a renewal a restart interrupted: sent again soon, each device at its own moment */
            int64_t now = cw_clock_utc();
            s->next_try = now > 0 ? now + (int64_t)((seed ^ (uint32_t)i) % CW_LIFE_RESUME_S) : 0;
        }
        s->online = false;
        s->renew_at = 0;
        if (cw_topology_policy(t, i, &pol) == CW_OK) {
            s->online = pol.protocol == CW_TOPO_SCEP;
            if (f.has_cert) {
                s->renew_at = renewal_time(&f, seed ^ (uint32_t)i, pol.renew_percent);
            }
        }
        if (renewed) {
            hold_if_due_on_arrival(s, i);
        }
        return true;
    }
    return false;
}

/* ---- judging ------------------------------------------------------------------------------------- */

static cw_life_state state_of(const set_life_t *s, int64_t now)
{
    if (!s->known) {
        return CW_LIFE_UNKNOWN;
    }
    if (!s->has_cert) {
        if (!s->pending) {
            return CW_LIFE_NONE;
        }
        return s->pending_held ? CW_LIFE_PENDING : CW_LIFE_REQUESTED;
    }
    if (now <= 0) {
        return CW_LIFE_TIME_UNKNOWN;
    }
    if (s->pending || s->running) {
        return CW_LIFE_RENEWING;
    }
    if (now > s->not_after) {
        return CW_LIFE_EXPIRED;
    }
    return now >= s->renew_at ? CW_LIFE_DUE : CW_LIFE_VALID;
}

/* The expiry alert now due for the set's certificate, told once. */
static void alerts(set_life_t *s, size_t i, int64_t now)
{
    char set[CW_TOPO_NAME_MAX + 1];
    size_t band = ALERTS;

    for (size_t k = 0; k < ALERTS; k++) {
        if (now >= s->not_after - (int64_t)alert_days[k] * DAY_S + (alert_days[k] == 0 ? 1 : 0)) {
            band = k;
        }
    }
    if (band == ALERTS || (s->alerts_told & (1u << band)) != 0 || !set_name(i, set, sizeof set)) {
        return; /* none due, told already, or one this certificate is too short for */
    }
    s->alerts_told |= (uint8_t)((2u << band) - 1u); /* this one and every earlier one */
    cw_model_tell_set(set, CW_EVENT_EXPIRING, alert_days[band] == 0 ? CW_ERR_NO_CERTIFICATE : CW_OK);
    if (alert_days[band] == 0) {
        char when[24];
        cw_time_format(s->not_after, when, sizeof when);
        notice(set, "expiry alert: its certificate expired at %s", when);
    } else {
        /* 32 bits: at most 60 days here */
        long left = (long)(((uint32_t)(s->not_after - now) + DAY_S - 1u) / DAY_S);
        notice(set, "expiry alert: its certificate expires in %ld day%s (the %u-day alert)", left,
               left == 1 ? "" : "s", (unsigned)alert_days[band]);
    }
}

/* Offline: a new key and CSR at the renewal time; the old certificate stays until import. */
static void renew_offline(set_life_t *s, size_t i)
{
    char set[CW_TOPO_NAME_MAX + 1];
    cw_model_request_t out;
    cw_life_ctx_t *ctx;
    cw_err e;

    if (!set_name(i, set, sizeof set) || cw_scratch_holder(CW_SCRATCH_A) != CW_SCRATCH_FREE) {
        return;
    }
    ctx = cw_scratch_try_claim(CW_SCRATCH_B, CW_SCRATCH_LIFE);
    if (ctx == NULL) {
        return;
    }
    e = cw_model_derive(i, &ctx->derived);
    if (e == CW_OK) {
        e = cw_model_request(&ctx->derived, NULL, 0, ctx->csr, sizeof ctx->csr, &out);
    }
    cw_wipe(ctx, sizeof *ctx);
    cw_scratch_release(CW_SCRATCH_B, CW_SCRATCH_LIFE);
    s->stale = true;
    if (e != CW_OK) {
        if (s->fails < UINT8_MAX) {
            s->fails++;
        }
        s->last_err = e;
        s->next_try = retry_time(s, i, cw_clock_utc());
        notice(set, "renewal due, but no new key and CSR: %s", cw_err_name(e));
        return;
    }
    s->fails = 0;
    s->last_err = CW_OK;
    cw_model_tell_set(set, CW_EVENT_EXPIRING, CW_OK);
    notice(set, "renewal due: new key and CSR made in the token; csr %s prints it, import %s takes the answer",
           set, set);
}

/* Online: the job slot renews in the background (RenewalReq signed with the current key). */
static void renew_online(set_life_t *s, size_t i)
{
    char set[CW_TOPO_NAME_MAX + 1];
    cw_err e;

    if (!set_name(i, set, sizeof set)) {
        return;
    }
    s->running = true;
    e = cw_job_background_renew(i);
    if (e == CW_ERR_BUSY) {
        s->running = false; /* the slot or the scratch is taken: tried again at the next poll */
        return;
    }
    if (e == CW_ERR_IN_PROGRESS) {
        notice(set, "renewal due: renewing in the background (SCEP, new key)");
    }
    /* any other answer came through cw_life_job_ended already */
}

void cw_life_job_ended(size_t set_index, cw_err e)
{
    char set[CW_TOPO_NAME_MAX + 1];
    set_life_t *s;
    int64_t now = cw_clock_utc();

    if (set_index >= CW_TOPO_SETS_MAX) {
        return;
    }
    s = &sets[set_index];
    s->running = false;
    s->stale = true;
    if (!set_name(set_index, set, sizeof set)) {
        return;
    }
    if (e == CW_OK) {
        s->fails = 0;
        s->next_try = 0;
        s->last_err = CW_OK;
        notice(set, "renewed in the background; its roles use the new certificate");
        return;
    }
    if (e == CW_ERR_SCEP_PENDING) {
        s->last_err = e;
        notice(set, "renewal held by the CA (PENDING); polled in the background");
        return;
    }
    if (s->fails < UINT8_MAX) {
        s->fails++;
    }
    s->last_err = e;
    s->next_try = retry_time(s, set_index, now);
    notice(set, "renewal failed (%s); try %u, next in %ld s%s", cw_err_name(e), s->fails, (long)(s->next_try - now),
           s->fails >= CW_LIFE_STUCK_AFTER ? "; stuck" : "");
}

/* The network came up (link and address): failed renewals are tried at once. */
static void watch_link(int64_t now)
{
    struct netif *n = hal_net_netif();
    bool up = n != NULL && netif_is_link_up(n) && netif_is_up(n) && !ip4_addr_isany_val(*netif_ip4_addr(n));
    if (up && !life.link_up) {
        for (size_t i = 0; i < life.nsets; i++) {
            if (sets[i].fails > 0 && sets[i].next_try > now) {
                sets[i].next_try = now;
            }
        }
    }
    life.link_up = up;
}

static void judge(int64_t now)
{
    for (size_t i = 0; i < life.nsets; i++) {
        set_life_t *s = &sets[i];
        if (!s->known || !s->has_cert) {
            continue;
        }
        alerts(s, i, now);
        if (!life.logged_in || s->running || now < s->renew_at || (s->next_try != 0 && now < s->next_try)) {
            continue;
        }
        if (s->online) {
            if (!s->pending_held) { /* a held renewal is the job slot's polls' */
                renew_online(s, i);
            }
        } else if (!s->pending) {
            renew_offline(s, i);
        }
        if (cw_job_busy()) {
            return; /* one background job at a time */
        }
    }
}

/* ---- entry points ------------------------------------------------------------------------------- */

void cw_life_boot(cw_life_notice_fn fn, void *arg)
{
    const cw_topology *t = cw_model_topology();

    cw_roles_unlisten(&life.listener);
    memset(&life, 0, sizeof life);
    memset(sets, 0, sizeof sets);
    life.notice = fn;
    life.arg = arg;
    life.epoch = cw_model_epoch();
    life.nsets = t != NULL ? cw_topology_set_count(t) : 0u;
    cw_life_stale(SIZE_MAX);
    cw_roles_listen(&life.listener, on_event, NULL);
}

void cw_life_poll(bool clock_jumped)
{
    uint32_t ms = hal_clock_ms();
    cw_p11_ctx *p11 = cw_token_session();
    bool logged_in = p11 != NULL && cw_p11_logged_in(p11); /* as last known: no token call */
    int64_t now;

    if (cw_model_epoch() != life.epoch) {
        const cw_topology *t = cw_model_topology();
        memset(sets, 0, sizeof sets);
        life.epoch = cw_model_epoch();
        life.nsets = t != NULL ? cw_topology_set_count(t) : 0u;
        cw_life_stale(SIZE_MAX);
    }
    if (logged_in && !life.logged_in) {
        /* after a login: a restart's renewal under way is resumed soon, not all at once */
        for (size_t i = 0; i < life.nsets; i++) {
            sets[i].stale = true;
        }
    }
    life.logged_in = logged_in;
    if (cw_job_busy() || refresh_one()) {
        return; /* one token read or one job step per poll */
    }
    if (!clock_jumped && (uint32_t)(ms - life.last_judged_ms) < 1000u) {
        return;
    }
    life.last_judged_ms = ms;
    now = cw_clock_utc();
    watch_link(now);
    if (now > 0) {
        judge(now);
    }
}

bool cw_life_info(size_t i, cw_life_info_t *out)
{
    const set_life_t *s;
    int64_t now = cw_clock_utc();

    memset(out, 0, sizeof *out);
    if (i >= life.nsets || i >= CW_TOPO_SETS_MAX) {
        return false;
    }
    s = &sets[i];
    out->state = state_of(s, now);
    out->online = s->online;
    out->has_cert = s->has_cert;
    out->not_after = s->not_after;
    out->renew_at = s->renew_at;
    out->fails = s->fails;
    out->last_err = s->last_err;
    out->stuck = s->fails >= CW_LIFE_STUCK_AFTER;
    out->next = "";
    if (now <= 0 || !s->has_cert) {
        return true;
    }
    if (s->fails > 0 && s->next_try != 0) {
        out->next_at = s->next_try;
        out->next = "retry";
    } else if (out->state == CW_LIFE_DUE && s->early > 0 && s->next_try > now) {
        out->next_at = s->next_try;
        out->next = "renewal held back (due on arrival)";
    } else if (out->state == CW_LIFE_VALID || out->state == CW_LIFE_DUE) {
        out->next_at = s->renew_at;
        out->next = "renewal";
    } else if (out->state == CW_LIFE_RENEWING && !s->online) {
        out->next = "import of the new certificate";
    }
    return true;
}

const char *cw_life_state_name(cw_life_state st)
{
    switch (st) {
    case CW_LIFE_NONE: return "no certificate";
    case CW_LIFE_REQUESTED: return "requested";
    case CW_LIFE_PENDING: return "pending at the CA";
    case CW_LIFE_VALID: return "valid";
    case CW_LIFE_DUE: return "renewal due";
    case CW_LIFE_RENEWING: return "renewing";
    case CW_LIFE_EXPIRED: return "expired";
    case CW_LIFE_TIME_UNKNOWN: return "time unknown";
    case CW_LIFE_UNKNOWN: break;
    }
    return "not read yet";
}
