/*
 * cw_scep.h: SCEP's HTTP transport (RFC 8894 section 4) on the client of cw_http.h.
 *
 * Three operations, each one HTTP request to the CA profile's URL:
 *   GetCACaps     GET  <path>?operation=GetCACaps                       text/plain
 *   GetCACert     GET  <path>?operation=GetCACert&message=CA            application/x-x509-ca-cert
 *                                                                       or .../x-x509-ca-ra-cert
 *   PKIOperation  POST <path>?operation=PKIOperation (body: pkiMessage)  application/x-pki-message
 *                 GET  <path>?operation=PKIOperation&message=<base64, percent-encoded>
 *
 * The response body is checked for status 200 and its content type; the message layer
 * (cw_scep_msg.h) reads it. Non-blocking: start, then poll from the caller's poll loop.
 */
#ifndef CW_SCEP_H
#define CW_SCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/net/cw_http.h"
#include "cw/codec/cw_url.h"

typedef enum cw_scep_op {
    CW_SCEP_OP_CAPS,
    CW_SCEP_OP_CACERT,
    CW_SCEP_OP_PKI
} cw_scep_op;

typedef struct cw_scep_http_t {
    cw_http_ctx http;
    /* private (the URL and target are the start's own: the HTTP client copies what it keeps) */
    cw_scep_op op;
    char *tail;                         /* GET PKIOperation: the encoded message (caller's) */
    size_t tail_cap;
} cw_scep_http_t;

/* Prepares the transport; tail[0..tail_cap) will hold a GET request's encoded message (4/3 of
 * the message, plus 2 bytes for each '+', '/' and '='). */
void cw_scep_http_init(cw_scep_http_t *s, char *tail, size_t tail_cap);

/* Starts op against url (the CA profile's URL, an http:// URL whose path is the SCEP path).
 * PKIOperation sends msg[0..msg_len) by POST when post is true, else by GET; msg must stay
 * unchanged until the result is in. The response body goes to resp[0..resp_cap). Returns
 * CW_ERR_IN_PROGRESS, or an error at once (CW_ERR_TOPO_URL-class URL errors, the HTTP client's,
 * CW_ERR_HTTP_REQUEST_TOO_LARGE when the encoded message does not fit tail). */
cw_err cw_scep_http_start(cw_scep_http_t *s, const char *url, cw_scep_op op, bool post, const uint8_t *msg,
                          size_t msg_len, uint8_t *resp, size_t resp_cap);

/* Advances the request. CW_ERR_IN_PROGRESS; or CW_OK with the body's length in *len (status
 * 200 and a content type the operation allows); or an error: the HTTP client's,
 * CW_ERR_HTTP_STATUS (another status), CW_ERR_SCEP_CONTENT_TYPE. */
cw_err cw_scep_http_poll(cw_scep_http_t *s, size_t *len);

/* Stops a running request; the context is idle afterwards. */
void cw_scep_http_abort(cw_scep_http_t *s);

/* Closes the kept-alive connection after the last request of a run. */
void cw_scep_http_close(cw_scep_http_t *s);

/* Writes the base64 of msg, percent-encoded for a query string, into out[0..cap). */
cw_err cw_scep_query_encode(const uint8_t *msg, size_t len, char *out, size_t cap, size_t *out_len);

#endif /* CW_SCEP_H */
