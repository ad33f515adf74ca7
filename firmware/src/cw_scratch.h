/*
 * cw_scratch.h: the one command scratch the console's commands share (private to firmware/src).
 *
 * The console runs one command at a time, and its large buffers are never needed by two commands
 * at once, so they overlap in one static union: a paste (wizard), an offline request (wizard), an
 * online enrolment (cw_enrol.c) or an `http get|post` diagnostic (cw_net.c).
 *
 * The rule that keeps it sound: the scratch belongs to the command the console runs. A
 * background task (a SCEP poll of a request the CA holds) may use it only while the console is
 * idle, and gives it up before any command starts (cw_enrol_yield, the console's on_command
 * hook), so a command never finds its buffers changing under it and lwIP holds no reference
 * into the scratch once the command has it.
 *
 * What must outlive a command, or is used beside another member, stays outside: the wizard's
 * trusted CA certificates (read during an online enrolment's import), the pending record, the
 * topology and the role table.
 */
#ifndef CW_SCRATCH_H
#define CW_SCRATCH_H

#include <stdint.h>

#include "cw/cw_csr.h"
#include "cw/cw_import.h"
#include "cw/cw_opts.h"
#include "cw/cw_pem.h"

typedef union cw_scratch_t {
    struct {                                  /* wizard: import, ca import, topology load */
        cw_pem_reader_ctx pem;
        uint8_t der[CW_PASTE_DER_MAX];
        cw_cert_list_t certs;
    } paste;
    struct {                                  /* wizard: request <set> offline */
        uint8_t csr[CW_CSR_DER_MAX];
    } req;
    struct cw_scratch_scep_t {                /* cw_enrol.c: one SCEP job */
        uint8_t resp[CW_SCEP_REPLY_MAX];      /* the response body being received */
        uint8_t cacert[CW_SCEP_CACERT_MAX];   /* GetCACert's answer; the CA views point here */
        uint8_t msg[CW_SCEP_MESSAGE_MAX];     /* the pkiMessage; the reply's scratch once sent */
        /* one after the other in a job, never two at once: the CSR is wiped once the
         * pkiMessage holds it; a GET's query is sent before the reply arrives; the reply is
         * opened into the last */
        union {
            uint8_t csr[CW_CSR_DER_MAX];
            char query[CW_SCEP_QUERY_MAX];
            uint8_t opened[CW_SCEP_REPLY_MAX];
        } seq;
    } scep;
    struct {                                  /* cw_net.c: http get|post */
        uint8_t body[CW_NET_DIAG_BODY_MAX];
    } diag;
} cw_scratch_t;

extern cw_scratch_t cw_scratch;

#endif /* CW_SCRATCH_H */
