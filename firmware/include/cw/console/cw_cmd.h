/*
 * cw_cmd.h: the console's words (docs/console.md), in groups, and what they hold in part B of the
 * command scratch while they run (cw_scratch.h).
 *
 * The console is one client of the core: every word asks the core (the role model cw_model.h, the
 * job slot cw_job.h, the token session cw_token.h) and prints what comes back. Nothing here
 * decides anything about certificates.
 */
#ifndef CW_CMD_H
#define CW_CMD_H

#include <stdint.h>

#include "cw/base/cw_opts.h"
#include "cw/codec/cw_csr.h"
#include "cw/codec/cw_pem.h"
#include "cw/codec/cw_topology.h"
#include "cw/codec/cw_url.h"
#include "cw/console/cw_console.h"
#include "cw/net/cw_http.h"
#include "cw/pki/cw_import.h"
#include "mbedtls/sha256.h"

/* ---- part B while a console word runs ------------------------------------------------------------ */

/* A paste: import, ca import, topology load. */
typedef struct cw_cmd_paste_ctx {
    cw_pem_reader_ctx pem;
    uint8_t der[CW_PASTE_DER_MAX];
    cw_cert_list_t certs;
} cw_cmd_paste_ctx;

/* request <set> offline: the set's request and the CSR made for it. */
typedef struct cw_cmd_request_ctx {
    cw_topology_derived derived;
    uint8_t csr[CW_CSR_DER_MAX];
} cw_cmd_request_ctx;

/* topology show, roles: one set derived at a time. */
typedef struct cw_cmd_view_ctx {
    cw_topology_derived derived;
} cw_cmd_view_ctx;

/* http get | post: the client, the body's hash (get), the POST body and response (post), the URL
 * words and the one being fetched. */
typedef struct cw_cmd_net_ctx {
    cw_http_ctx http;
    mbedtls_sha256_context sha;
    uint8_t body[CW_NET_DIAG_BODY_MAX];
    char urls[CW_CONSOLE_LINE_MAX + 1];
    cw_url_t url;
} cw_cmd_net_ctx;

/* ---- the words ---------------------------------------------------------------------------------- */

/* help, version, status, mem (cw_cmd_sys.c). */
extern const cw_cmd_group_t cw_cmd_sys;
/* login, logout, token, keys (cw_cmd_token.c). */
extern const cw_cmd_group_t cw_cmd_token;
/* topology, request, csr, import, ca, assign, roles (cw_cmd_wizard.c). */
extern const cw_cmd_group_t cw_cmd_wizard;
/* renew (cw_cmd_enrol.c; `request ... online` and `ca auth` come through cw_cmd_wizard's words). */
extern const cw_cmd_group_t cw_cmd_enrol;
/* net, http (cw_cmd_net.c). */
extern const cw_cmd_group_t cw_cmd_net;

/* The online words the wizard's `request` and `ca` dispatch to (cw_cmd_enrol.c). */
cw_err cw_cmd_request_online(cw_console_ctx *con, const char *set);
cw_err cw_cmd_ca_auth(cw_console_ctx *con, const char *profile);

/* Advances a running `http` diagnostic (progress lines, the final line). From cw_poll. */
void cw_cmd_net_poll(void);

/* Helpers the words share (cw_cmd_sys.c). */
void cw_cmd_fingerprint(cw_console_ctx *con, const char *what, const uint8_t sha256[32]);
/* A certificate as the operator compares it: subject, issuer (when asked), SHA-256, SHA-1. */
void cw_cmd_show_cert(cw_console_ctx *con, const cw_der_t *der, bool issuer);
void cw_cmd_time_text(char *out, size_t cap, int64_t t);
const char *cw_cmd_key_type_text(cw_key_type t);

/* Why the token cannot make a set's keys (CW_ERR_KEY_SIZE): the set, the key and the sizes the
 * token makes, then `then` on the same line. */
void cw_cmd_key_refused(cw_console_ctx *con, const char *set, cw_key_type t, const cw_p11_key_range_t *range,
                        const char *then);
/* "<prefix><name>: <state>; next: <what> at <when> (in N s); last error: ...; STUCK" for a set. */
void cw_cmd_life_line(cw_console_ctx *con, size_t set_index, const char *prefix, const char *name, int64_t now);
/* "<prefix>: background renewal of set web runs (scep: PKIOperation), 420 ms" when a job runs. */
void cw_cmd_job_line(cw_console_ctx *con, const char *prefix);

#endif /* CW_CMD_H */
