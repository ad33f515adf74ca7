/*
 * cw_scep_job.h: SCEP (RFC 8894) as a job driver (cw_driver.h): one set's enrolment, renewal or
 * poll, or fetching a CA's certificates, against micromdm scepserver and any RFC 8894 CA.
 * docs/scep.md has the protocol notes; this file the driver's shape.
 *
 * One enum of observable steps and one transition function (step_done): each exchange's answer
 * moves the job on. Token work (key generation, signing, decryption) happens synchronously
 * between two exchanges. One exit (finish) wipes the challenge and the CSR buffer and fixes the
 * result; the core reads it, then calls end, which closes the connection.
 *
 *   GetCACaps -> GetCACert -> (token: key, CSR, pkiMessage) -> PKIOperation -> the reply
 *   AUTH:        GetCACert
 *
 * Power cuts (docs/store.md): the pending record (without the challenge) is stored before a
 * PKCSReq or RenewalReq leaves; a record whose request got no answer is sent again (same key, same
 * transactionID, RFC 8894 3.3.3); one the CA answered PENDING is polled (CertPoll). Accepting the
 * CA's answer is the core's (the role model's), after the job.
 */
#ifndef CW_SCEP_JOB_H
#define CW_SCEP_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/codec/cw_csr.h"
#include "cw/pki/cw_driver.h"
#include "cw/pki/cw_store.h"
#include "cw/scep/cw_scep.h"
#include "cw/scep/cw_scep_msg.h"

/* The buffers of SCEP's exchanges, lent by the core while the job exchanges (part A of the
 * command scratch). */
typedef struct cw_scep_exchange_t {
    uint8_t resp[CW_SCEP_REPLY_MAX];          /* the response body being received */
    union {
        uint8_t msg[CW_SCEP_MESSAGE_MAX];     /* the pkiMessage; the reply's scratch once sent */
        /* the set's request while a new request and the pkiMessage are built: dead once the
         * message is written over it (its names are in the CSR and the signer certificate) */
        cw_topology_derived derived;
    } m;
} cw_scep_exchange_t;

/* The set's request shares the pkiMessage's buffer: a larger one would grow part A. */
_Static_assert(sizeof(cw_topology_derived) <= CW_SCEP_MESSAGE_MAX,
               "CW_SCEP_MESSAGE_MAX must hold a derived set (cw_topology_derived) while the message is built");

#if CW_SCEP_REPLY_MAX < CW_PENDING_RECORD_MAX
#error "CW_SCEP_REPLY_MAX must hold a pending record (CW_PENDING_RECORD_MAX): read or encoded there"
#endif

typedef enum cw_scep_step {
    CW_SCEP_IDLE = 0,
    CW_SCEP_CAPS,             /* GetCACaps sent */
    CW_SCEP_CACERT,           /* GetCACert sent */
    CW_SCEP_PKI,              /* PKIOperation sent */
    CW_SCEP_DONE              /* the result is ready */
} cw_scep_step;

/* The job's context: its own buffers (part B of the command scratch) and state. */
typedef struct cw_scep_job_ctx {
    cw_scep_http_t xfer;                      /* the HTTP exchange in progress */
    uint8_t cacert[CW_SCEP_CACERT_MAX];       /* GetCACert's answer; the CA views point here */
    /* one after the other, never two at once: the CSR (or a poll's IssuerAndSubject) and the
     * signer certificate are dead once the pkiMessage holds them (the CSR is wiped then); a GET's
     * query is sent before the reply arrives; the reply is opened into the last */
    union {
        struct {
            uint8_t csr[CW_CSR_DER_MAX];
            uint8_t signer[CW_CERT_DER_MAX];  /* the pkiMessage's signer certificate */
        } build;
        char query[CW_SCEP_QUERY_MAX];
        uint8_t opened[CW_SCEP_REPLY_MAX];
    } seq;
    /* private */
    cw_scep_step step;
    cw_job_params_t p;
    cw_scep_exchange_t *exch;
    cw_job_report_fn report;
    void *report_arg;
    unsigned caps;
    cw_cms_cipher cipher;
    cw_hash_alg digest;
    cw_scep_msg_type sent;                    /* what the PKIOperation carries */
    uint8_t nonce[CW_SCEP_NONCE_LEN];
    cw_pending_t pend;                        /* the set's pending record (csr: NULL between uses) */
    bool have_pend;
    cw_p11_key reply_key;                     /* signs the request and decrypts the reply */
    cw_scep_ca_t ca;
    cw_job_result_t result;
} cw_scep_job_ctx;

extern const cw_driver_t cw_scep_driver;

/* The set's pending record says the CA holds its request: a job for it polls (no challenge). */
bool cw_scep_pending_is_held(const cw_pending_t *p);

#endif /* CW_SCEP_JOB_H */
