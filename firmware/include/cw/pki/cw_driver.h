/*
 * cw_driver.h: what an enrolment protocol offers the core: a job driver.
 *
 * The core owns the one job slot (core/cw_job.h): it decides what runs (a command, a background
 * poll), asks the operator what must be asked (the challenge, whether to trust a CA), and keeps
 * the role model up to date with what a job brings back. A driver does one protocol's exchanges
 * for one set (or fetches a CA's certificates), and nothing else: it never prints, never touches
 * the role table, never asks the operator. TinyUSB's device core drives its class drivers the same
 * way. SCEP is the first driver (scep/cw_scep_job.h); docs/architecture.md says how to add one.
 *
 * A driver's context is the caller's, with the driver's own buffers in it; the exchange buffers a
 * job needs only while it exchanges are lent by the core at start (part A of the command scratch)
 * and given back when the job no longer needs them: after that the driver never touches them, and
 * the core uses that memory to accept the answer.
 *
 * The driver's interface (function pointers in cw_driver_t; ctx is its own context):
 *   start(ctx, params, exchange, report, arg)  begin; CW_ERR_IN_PROGRESS, or an error at once
 *   poll(ctx)        advance; CW_ERR_IN_PROGRESS while running, CW_OK when result() is ready
 *   abort(ctx)       stop now (a command takes the slot, the operator pressed Ctrl-C)
 *   end(ctx)         the result has been used: wipe, close the connection
 *   step(ctx)        the observable state, as a short name ("GetCACaps", "PKIOperation")
 *   result(ctx)      what the job brought back (valid from poll's CW_OK until end)
 *
 * The exchange buffers are the driver's from start until poll answers CW_OK (or abort).
 */
#ifndef CW_DRIVER_H
#define CW_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_types.h"
#include "cw/codec/cw_topology.h"
#include "cw/pki/cw_import.h"
#include "cw_p11.h"

/* Most CA certificates of a profile whose fingerprints a job compares. */
#define CW_DRIVER_TRUSTED_MAX CW_IMPORT_CERTS_MAX

typedef enum cw_job_kind {
    CW_JOB_NONE = 0,
    CW_JOB_AUTH,    /* fetch the CA's certificates (ca auth) */
    CW_JOB_ENROL,   /* a request for a set: new, sent again, or polled (the pending record says) */
    CW_JOB_RENEW,   /* a renewal with a new key, signed by the key the roles use */
    CW_JOB_POLL     /* ask the CA about a request it holds (background) */
} cw_job_kind;

/* What a job is for. Pointers must stay valid while the job runs. */
typedef struct cw_job_params_t {
    cw_job_kind kind;
    cw_p11_ctx *token;                        /* the session: keys, records, signing */
    const char *set;                          /* the set's name ("" for AUTH) */
    const char *url;                          /* the CA profile's URL */
    const cw_topology *topo;                  /* the loaded topology, and ... */
    size_t set_index;                         /* ... the set's index in it (not for AUTH): the
                                                 driver derives the set's request when it needs
                                                 it (cw_topology_derive) */
    cw_topo_policy_t policy;                  /* the set's policy (key type, ...) */
    const uint8_t (*trusted)[32];             /* SHA-256 of the CA certificates the profile trusts */
    size_t ntrusted;
    const uint8_t *renew_id;                  /* RENEW: CKA_ID of the certificate the roles use */
    size_t renew_id_len;
    const char *challenge;                    /* for a new request; NULL when none is needed */
    size_t challenge_len;
} cw_job_params_t;

/* What a job says while it runs, for whoever watches (the console prints it). */
typedef enum cw_job_report_kind {
    CW_REPORT_BEGIN,          /* text: "enrolling", "renewing", "polling the request the CA holds",
                                 "sending the unanswered request again"; text2: the URL */
    CW_REPORT_FETCH_CA,       /* text: the URL (AUTH) */
    CW_REPORT_NEGOTIATED,     /* text, text2, text3: cipher, digest, method */
    CW_REPORT_KEYGEN,         /* key_type: a key pair is being generated */
    CW_REPORT_KEY_MADE,       /* ms, id, id_len */
    CW_REPORT_SENT,           /* text: the message's name; bytes; text2: its transaction */
    CW_REPORT_REPLY,          /* text: the reply's status ("SUCCESS") */
    CW_REPORT_STEP            /* text: any other step, in words a reader understands as they
                                 are ("order created", "authorization valid"): a new driver
                                 says what it does without a change to the console */
} cw_job_report_kind;

typedef struct cw_job_report_t {
    cw_job_report_kind kind;
    const char *text, *text2, *text3;
    cw_key_type key_type;
    uint32_t ms;
    size_t bytes;
    const uint8_t *id;
    size_t id_len;
} cw_job_report_t;

typedef void (*cw_job_report_fn)(const cw_job_report_t *r, void *arg);

/* What a job brought back. */
typedef enum cw_job_outcome {
    CW_OUTCOME_NONE = 0,
    CW_OUTCOME_ISSUED,        /* certs: the CA's answer, for the core to accept */
    CW_OUTCOME_CA,            /* certs: the CA's certificates (AUTH); ca: the CA among them */
    CW_OUTCOME_REFUSED,       /* the CA refused (err names why): the request is dead */
    CW_OUTCOME_HELD,          /* the CA holds the request (PENDING): it is recorded as held */
    CW_OUTCOME_FAILED         /* err: the request (if any) was kept for another try */
} cw_job_outcome;

typedef struct cw_job_result_t {
    cw_job_outcome outcome;
    cw_err err;
    cw_cert_list_t certs;                     /* views into the driver's context */
    cw_der_t ca;                              /* CA: the CA certificate; ra_* its RA, if any */
    cw_der_t ra_signer, ra_recipient;
    bool has_ra;
    cw_err ca_err;                            /* CA: what is wrong with the answer beside the CA
                                                 (RA certificates not issued by it, or not valid
                                                 now): reported after the CA is shown */
    bool request_kept;                        /* FAILED: a pending request stays (send again) */
    bool reply_not_authentic;                 /* FAILED: a reply failed authentication */
} cw_job_result_t;

typedef struct cw_driver_t {
    const char *protocol;                     /* "scep" */
    cw_err (*start)(void *ctx, const cw_job_params_t *p, void *exchange, cw_job_report_fn report, void *arg);
    cw_err (*poll)(void *ctx);
    void (*abort)(void *ctx);
    void (*end)(void *ctx);
    const char *(*step)(const void *ctx);
    const cw_job_result_t *(*result)(const void *ctx);
} cw_driver_t;

#endif /* CW_DRIVER_H */
