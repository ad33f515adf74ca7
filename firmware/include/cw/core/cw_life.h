/*
 * cw_life.h: each set's life, looked after from the main loop (docs/lifecycle.md).
 *
 * A set goes: no certificate -> requested (key made, CSR out or request sent) -> pending (the CA
 * holds it) -> issued and assigned -> renewal due -> renewing -> assigned (new) -> the old key and
 * certificate removed. Everything that says where a set is lives in the token already (the role
 * table, the set's certificates, its pending record: docs/store.md), so the state survives any
 * restart; this module keeps in RAM only what it derives from them (read again after each change,
 * never while idle: an idle device makes no token calls) and the retry schedule.
 *
 * With trusted time (cw_clock.h) and the token user logged in, each set is renewed on its own
 * when it passes its CA profile's renewPercent of the certificate's lifetime, plus a jitter
 * derived from the set's own key (a fleet spreads out; the same device always picks the same):
 *   - online (SCEP): a background renewal with key rollover, as `renew` does, without a challenge
 *     (the request is signed with the current key; a CA that wants a challenge for renewals
 *     refuses, and the set is marked stuck until an operator runs `renew`);
 *   - offline: a new key and CSR, the EXPIRING event and a console notice; the old certificate
 *     stays until `import` brings the new one.
 * A failed try is retried with capped exponential back-off and jitter (CW_LIFE_RETRY_MIN_S up to
 * CW_LIFE_RETRY_MAX_S), never later than half the remaining lifetime, and at once when the network
 * link comes back. Expiry alerts (EXPIRING events and console notices) at 60, 30, 7 and 1 days
 * before notAfter, and at expiry.
 */
#ifndef CW_LIFE_H
#define CW_LIFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/codec/cw_topology.h"
#include "cw/core/cw_model.h"

/* First retry after a failed renewal, and the cap of the back-off. */
#define CW_LIFE_RETRY_MIN_S 300
#define CW_LIFE_RETRY_MAX_S 86400
/* This many failed tries in a row mark a set stuck (status says so until a try succeeds). */
#define CW_LIFE_STUCK_AFTER 3u
/* The jitter window: up to this share (in percent) of the time between the renewal threshold and
 * notAfter. */
#define CW_LIFE_JITTER_PERCENT 25u
/* After a restart, a renewal that was under way is tried again within this many seconds. */
#define CW_LIFE_RESUME_S 120

/* The offline renewal's buffers (part B of the command scratch, owner CW_SCRATCH_LIFE). */
typedef struct cw_life_ctx_t {
    cw_topology_derived derived;
    uint8_t csr[CW_CSR_DER_MAX];
} cw_life_ctx_t;

/* A notice for the console (one line, no newline): a renewal due, made, done or failed; an
 * expiry alert. The console prints it when no command runs. */
typedef void (*cw_life_notice_fn)(const char *line, void *arg);

/* After the model's and the job's boot: forgets the schedule, reads the sets again at the next
 * poll. notice may be NULL. */
void cw_life_boot(cw_life_notice_fn notice, void *arg);

/* One step from the main loop: reads a stale set's facts (one set per call), judges the time, and
 * starts what is due when the job slot is free. clock_jumped: cw_clock_poll() saw a jump. */
void cw_life_poll(bool clock_jumped);

/* The set's facts changed (an event, a login, a topology load): read again. SIZE_MAX: all. */
void cw_life_stale(size_t set_index);

/* A background job the schedule started has ended with e (from the job slot). */
void cw_life_job_ended(size_t set_index, cw_err e);

/* Set number i (0 .. sets - 1): false past the last. cw_life_info_t is in cw_roles.h. */
bool cw_life_info(size_t i, cw_life_info_t *out);

#endif /* CW_LIFE_H */
