/*
 * cw_scratch.h: the one command scratch the console's commands share (private to firmware/src).
 *
 * The console runs one command at a time, and its large buffers are never needed by two commands
 * at once, so they overlap in static memory: a paste (wizard), an offline request (wizard), an
 * online enrolment (cw_enrol.c) or an `http get|post` diagnostic (cw_net.c).
 *
 * The rule that keeps it sound: the scratch belongs to the command the console runs (or to the
 * boot, before the console starts). A background task (a SCEP poll of a request the CA holds)
 * may use it only while the console is idle, and gives it up before any command starts
 * (cw_enrol_yield, the console's on_command hook), so a command never finds its buffers changing
 * under it and lwIP holds no reference into the scratch once the command has it. Nothing in it
 * survives a command.
 *
 * It has two parts side by side, so that one command can use a member of each at once:
 *
 *   part a: the wizard's workspace (the trusted CA certificates; the names a CSR asked for; a
 *           pending record, one certificate read back or a role table being made, one at a
 *           time) or a topology being checked before it is stored (both used one after the
 *           other), or SCEP's exchange buffers (response, pkiMessage), which are dead whenever
 *           the wizard's workspace is used within an enrolment:
 *             - the trusted CAs are loaded (cw_wizard_load_trust) after GetCACert's answer has
 *               been copied out of the response and before the pkiMessage is made; the
 *               workspace puts `trust` first, inside the response's bytes;
 *             - an answer is accepted or refused (cw_wizard_accept, cw_wizard_prune) after the
 *               reply has been opened into part b; the response and message are not read again;
 *             - `request all` looks at the next set's certificate between two sets.
 *   part b: a paste, an offline request's CSR, SCEP's CA certificates, sequence buffer (the CSR
 *           and signer certificate, then a GET's query, then the opened reply) and HTTP
 *           transfer (live from the first exchange to the end of the job), or the diagnostic's
 *           HTTP client, body hash, POST buffer and URLs (its flags stay in cw_net.c).
 *
 * What must outlive a command stays outside: the topology, the role table, a background poll's
 * schedule, the pending record of the set an enrolment works on (cw_enrol.c).
 */
#ifndef CW_SCRATCH_H
#define CW_SCRATCH_H

#include <stdint.h>

#include "cw/codec/cw_csr.h"
#include "cw/net/cw_http.h"
#include "cw/pki/cw_import.h"
#include "cw/base/cw_opts.h"
#include "cw/codec/cw_pem.h"
#include "cw/scep/cw_scep.h"
#include "cw/pki/cw_store.h"
#include "cw/codec/cw_topology.h"
#include "mbedtls/sha256.h"

/* The wizard's workspace (cw_wizard.c). */
typedef struct cw_wizard_ws_t {
    struct {                                  /* a profile's CA certificates (load_trust) */
        uint8_t der[CW_TRUST_DER_MAX];
        cw_cert_list_t list;
    } trust;
    /* One at a time: a record's CSR is read (its names copied into `asked`; the key's ID is in
     * the caller's cw_pending_t) before a certificate is read back or a role table made. */
    union {
        uint8_t record[CW_PENDING_RECORD_MAX]; /* a pending record; its CSR is a view into it */
        uint8_t cert[CW_CERT_DER_MAX];        /* one certificate read back from the token */
        /* a role table being made (an import's roles, `roles assign`) or checked (boot) before
         * it replaces the current one; never nested */
        cw_role_table_t roles_next;
    };
    struct {                                  /* what a stored CSR asked for (import) */
        char cn[CW_TOPO_CN_MAX + 1];
        cw_san_t san[CW_CSR_SAN_MAX];
        char dns[CW_CSR_SAN_MAX][CW_TOPO_DNS_NAME_MAX + 1];
        size_t nsan;
    } asked;
} cw_wizard_ws_t;

typedef struct cw_scratch_t {
    union {
        cw_wizard_ws_t ws;
        struct cw_scratch_exch_t {            /* cw_enrol.c: one SCEP exchange */
            uint8_t resp[CW_SCEP_REPLY_MAX];  /* the response body being received */
            uint8_t msg[CW_SCEP_MESSAGE_MAX]; /* the pkiMessage; the reply's scratch once sent */
        } exch;
        cw_topology candidate;                /* wizard: a topology checked before it is stored */
    } a;
    union {
        struct {                              /* wizard: import, ca import, topology load */
            cw_pem_reader_ctx pem;
            uint8_t der[CW_PASTE_DER_MAX];
            cw_cert_list_t certs;
        } paste;
        struct {                              /* wizard: request <set> offline */
            uint8_t csr[CW_CSR_DER_MAX];
        } req;
        struct cw_scratch_scep_t {            /* cw_enrol.c: one SCEP job */
            cw_scep_http_t xfer;              /* the HTTP exchange in progress */
            uint8_t cacert[CW_SCEP_CACERT_MAX]; /* GetCACert's answer; the CA views point here */
            /* one after the other in a job, never two at once: the CSR (or a poll's
             * IssuerAndSubject) and the signer certificate are dead once the pkiMessage holds
             * them (the CSR is wiped then); a GET's query is sent before the reply arrives; the
             * reply is opened into the last */
            union {
                struct {
                    uint8_t csr[CW_CSR_DER_MAX];
                    uint8_t signer[CW_CERT_DER_MAX]; /* the pkiMessage's signer certificate */
                } build;
                char query[CW_SCEP_QUERY_MAX];
                uint8_t opened[CW_SCEP_REPLY_MAX];
            } seq;
        } scep;
        struct {                              /* cw_net.c: http get|post */
            cw_http_ctx http;
            mbedtls_sha256_context sha;       /* get: the hash of the body streaming past */
            uint8_t body[CW_NET_DIAG_BODY_MAX]; /* post: the request body, then the response */
            char urls[CW_CONSOLE_LINE_MAX + 1]; /* the URL words, each NUL-terminated */
            cw_url_t url;                     /* the one being fetched */
        } diag;
    } b;
} cw_scratch_t;

extern cw_scratch_t cw_scratch;

#endif /* CW_SCRATCH_H */
