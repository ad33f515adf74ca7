/*
 * cw_job.h: the core's one job slot: what runs over the network (docs/architecture.md).
 *
 * A job is one protocol driver's work for one set (cw_driver.h), or a run of them: a command
 * (`request <set>|all online`, `renew <set>`, `ca auth <profile>`) or a background poll of a
 * request the CA holds. The slot decides what runs, asks its client what must be asked (the
 * challenge; whether to trust a CA the topology does not pin), lends the driver the exchange
 * buffers, and once the driver is done keeps the role model up to date (accept the answer, remove
 * a refused request, record a held one) and tells its client what happened. It never prints: the
 * client (the console) turns events into text; a background job has no client.
 *
 * The slot's observable state is one enum (cw_job_phase), the driver's step another; cw_job_state()
 * (cw_roles.h) shows both. One exit (job_exit) wipes the challenge, ends the driver (closing the
 * connection), gives the scratch back and tells the client.
 */
#ifndef CW_JOB_H
#define CW_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw/core/cw_model.h"
#include "cw/pki/cw_certs.h"
#include "cw/pki/cw_driver.h"
#include "cw/scep/cw_scep_job.h"

/* Longest challenge password: what fits on a console line. */
#define CW_JOB_SECRET_MAX CW_CONSOLE_LINE_MAX

/* The slot's context while a job or a run goes on: part B of the command scratch. */
typedef struct cw_job_ctx_t {
    uint8_t trusted[CW_DRIVER_TRUSTED_MAX][32];   /* SHA-256 of the profile's CA certificates */
    size_t ntrusted;
    char url[CW_TOPO_URL_MAX + 1];
    uint8_t renew_id[CW_P11_KEY_ID_LEN];          /* RENEW: the certificate the roles use */
    size_t renew_id_len;
    char challenge[CW_JOB_SECRET_MAX + 1];        /* from the client's answer to the end of the run */
    size_t challenge_len;
    union {
        cw_scep_job_ctx scep;
    } driver;
} cw_job_ctx_t;

/* Part A of the command scratch while a job runs: the exchange buffers lent to the driver, or the
 * profile's CA certificates the slot reads before and after the driver's turn. */
typedef union cw_job_exchange_t {
    cw_scep_exchange_t scep;
    cw_trust_t trust;
} cw_job_exchange_t;

typedef enum cw_job_phase {
    CW_JOB_IDLE = 0,
    CW_JOB_WAIT_SECRET,     /* the client is asked for the challenge */
    CW_JOB_RUNNING,         /* the driver exchanges with the CA */
    CW_JOB_WAIT_CONFIRM,    /* the client is asked whether to trust a CA */
    CW_JOB_NEXT_SET         /* request all: between two sets */
} cw_job_phase;

/* What the slot tells its client. */
typedef enum cw_job_event_kind {
    CW_JOB_EV_REPORT,        /* the driver says what it does: report */
    CW_JOB_EV_NEED_SECRET,   /* ask the challenge (hidden), answer with cw_job_secret() */
    CW_JOB_EV_CA,            /* AUTH: the CA's certificates are in: result (ca, RA) */
    CW_JOB_EV_CA_KNOWN,      /* AUTH: it is authenticated already */
    CW_JOB_EV_CA_PINNED,     /* AUTH: it matches the pin (pinned) or the trusted root (not) */
    CW_JOB_EV_NEED_CONFIRM,  /* AUTH: nothing pins or trusts it: ask, answer with cw_job_confirm() */
    CW_JOB_EV_CA_STORED,     /* AUTH: stored and trusted */
    CW_JOB_EV_ACCEPTED,      /* the answer was checked (accepted->checked) and stored (err CW_OK) */
    CW_JOB_EV_REFUSED,       /* the CA refused (err); the request and its key are removed */
    CW_JOB_EV_HELD,          /* the CA holds the request: polled every wait_s */
    CW_JOB_EV_SET_DONE,      /* the set is done, in ms */
    CW_JOB_EV_SET_FAILED,    /* the set failed with err (kept: the request stays; not_authentic) */
    CW_JOB_EV_SKIPPED,       /* request all: the set is skipped (err CW_ERR_SCEP_NOT_SCEP, or
                                CW_ERR_EXISTS: it has a valid certificate) */
    CW_JOB_EV_OFFLINE_PENDING, /* the set has a pending offline request: import finishes it */
    CW_JOB_EV_SUMMARY,       /* request all: n_done, n_pending, n_failed */
    CW_JOB_EV_FINISHED       /* the job is over with err (only after cw_job_* answered IN_PROGRESS) */
} cw_job_event_kind;

typedef struct cw_job_event_t {
    cw_job_event_kind kind;
    cw_job_kind job;
    const char *set;
    const char *profile;
    const char *url;
    cw_err err;
    const cw_job_report_t *report;
    const cw_job_result_t *result;
    const cw_model_accepted_t *accepted;
    bool pinned;
    bool kept;
    bool not_authentic;
    uint32_t ms;
    uint32_t wait_s;
    unsigned n_done, n_pending, n_failed;
} cw_job_event_t;

typedef void (*cw_job_client_fn)(const cw_job_event_t *ev, void *arg);

/* After the model's boot: arms the background polls of the requests the CA holds. */
void cw_job_boot(void);

/* One step of the running job, or of the background polls' schedule. From cw_poll. */
void cw_job_poll(void);

/* Starts a command's job for client (which gets every event, synchronously while the call runs
 * and from cw_job_poll later). Returns CW_ERR_IN_PROGRESS when it goes on (FINISHED will tell the
 * end), else the command's result at once (no FINISHED). A background job in the slot gives way.
 *   set: a set's name, or "all" (every set of a SCEP profile that lacks a valid certificate). */
cw_err cw_job_enrol(const char *set, cw_job_client_fn client, void *arg);
cw_err cw_job_renew(const char *set, cw_job_client_fn client, void *arg);
cw_err cw_job_auth(const char *profile, cw_job_client_fn client, void *arg);

/* The client's answers; each returns like cw_job_enrol. secret NULL: cancelled. */
cw_err cw_job_secret(const char *secret, size_t len);
cw_err cw_job_confirm(bool yes);

/* The operator cancels the command's job (Ctrl-C): everything stops, nothing is told. */
void cw_job_cancel(void);

/* A command is about to run: a background job gives the scratch up at once (it is tried again
 * soon after). */
void cw_job_yield(void);

/* A job runs (or waits for its client). */
bool cw_job_busy(void);

/* The lifecycle schedule (cw_life.c) renews set_index in the background: RenewalReq with a new
 * key, or the set's unanswered renewal request sent again; no challenge. CW_ERR_BUSY when the
 * slot or the scratch is taken (nothing started); CW_ERR_IN_PROGRESS while it runs; anything
 * else is the end. The end, now or later, goes to cw_life_job_ended. A command never interrupts
 * it: one that needs the slot answers BUSY until it ends. */
cw_err cw_job_background_renew(size_t set_index);

/* A set whose request the CA holds: polled in seconds, and the last poll's error. Returns false
 * past the last set. For `status`. */
bool cw_job_held(size_t set_index, int32_t *next_s, cw_err *last);

#endif /* CW_JOB_H */
