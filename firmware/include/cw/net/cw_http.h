/*
 * cw_http.h: a bounded HTTP/1.1 client on lwIP's altcp API, and its response parser.
 *
 * Two layers, each with a caller-owned context (docs/network.md has the design notes):
 *
 * 1. The response parser (cw_http_parser_*): push-based, in BearSSL's shape: init, then push
 *    bytes as they arrive in any pieces (one pbuf of a chain at a time), then read the result or
 *    last_error(). It knows nothing of lwIP, so unit tests and the fuzz target drive it directly.
 *    It reads the status line, the headers certwiz needs (Content-Length, Transfer-Encoding,
 *    Connection, Content-Type) and a body framed by Content-Length, chunked transfer coding or
 *    the end of the connection (RFC 9112 section 6). The body goes to one of two places, chosen
 *    at init: a caller buffer, where a body larger than the buffer is an error
 *    (CW_ERR_HTTP_TOO_LARGE), never cut; or a caller's sink, a function that is handed every body
 *    byte once, in order, as it arrives, and nothing is kept (a body of any size, streamed: to
 *    count and hash it, or later to write it elsewhere). Every other input is bounded (cw_opts.h:
 *    CW_HTTP_LINE_MAX, CW_HTTP_HEADER_MAX).
 *
 * 2. The client (cw_http_*): a non-blocking state machine for one request at a time on one
 *    connection: name resolution (lwIP's dns_gethostbyname), connect, send the request, receive
 *    and parse the response. GET and POST; the POST body is sent from the caller's memory. After a
 *    response that allows it, the connection stays open and the next request to the same scheme,
 *    host and port goes out on it (Connection: keep-alive). Connect and idle timeouts come from
 *    hal_clock_ms(). The caller drives it with cw_http_poll() from its own poll.
 *
 * TLS slots in through lwIP's altcp allocators: a context configured with a TLS allocator (later:
 * altcp_tls with mbedTLS, for ACME) will fetch https:// URLs; without one, https:// is refused
 * with CW_ERR_HTTP_NO_TLS.
 *
 * Nothing here allocates. Contexts are large (the parser keeps one CW_HTTP_LINE_MAX line buffer,
 * the client its request head): declare them static, not on the stack.
 */
#ifndef CW_HTTP_H
#define CW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw/codec/cw_url.h"

/* ---- response parser ------------------------------------------------------------------------- */

/* How the response body is delimited (RFC 9112 section 6.3). */
typedef enum cw_http_framing_t {
    CW_HTTP_FRAMING_NONE,    /* no body: a response to HEAD, or status 204 or 304 */
    CW_HTTP_FRAMING_LENGTH,  /* Content-Length bytes */
    CW_HTTP_FRAMING_CHUNKED, /* Transfer-Encoding: chunked */
    CW_HTTP_FRAMING_CLOSE    /* no length given: the body ends when the server closes */
} cw_http_framing_t;

/* What the parser learnt; readable by the caller at any time (fields fill in as bytes arrive). */
typedef struct cw_http_response_t {
    uint16_t status;                             /* 200..599 of the final response; 0 until seen */
    uint8_t minor_version;                       /* the x of HTTP/1.x */
    uint8_t interim;                             /* 1xx responses skipped before the final one */
    char reason[CW_HTTP_REASON_MAX + 1];         /* reason phrase, NUL-terminated, maybe cut */
    char content_type[CW_HTTP_CTYPE_MAX + 1];    /* Content-Type value, "" when absent */
    cw_http_framing_t framing;                   /* known once the headers are complete */
    size_t content_length;                       /* with CW_HTTP_FRAMING_LENGTH */
    size_t body_len;                             /* body bytes written to the caller buffer,
                                                    or handed to the sink */
    bool keep_alive;                             /* the connection may carry another request */
} cw_http_response_t;

/* A body sink: takes body[0..len) (len > 0), the next bytes of the body, which stay valid only
 * during the call. CW_OK to go on; any other code ends the response with that error. */
typedef cw_err (*cw_http_sink_fn)(const uint8_t *body, size_t len, void *arg);

/* The most body bytes a sink can be handed, and counted in resp.body_len (SIZE_MAX stands for a
 * Content-Length too large for a size_t): about 4 GiB on a 32-bit board. More is
 * CW_ERR_HTTP_TOO_LARGE. */
#define CW_HTTP_SINK_MAX (SIZE_MAX - 1u)

typedef struct cw_http_parser_ctx {
    cw_http_response_t resp; /* public, read-only for the caller */
    /* private */
    uint8_t state;
    bool to_sink;            /* the body goes to out.sink, else to out.buf */
    cw_err err;
    bool head_request;
    bool pending_cr;
    bool have_length;
    bool have_te;
    bool conn_close;
    bool conn_keep_alive;
    bool headers_done;
    bool skip_field;         /* in a long field line the client does not read: its rest is dropped */
    union {                  /* where the body goes (to_sink says which) */
        struct {
            uint8_t *p;
            size_t cap;
        } buf;
        struct {
            cw_http_sink_fn fn;
            void *arg;
        } sink;
    } out;
    size_t remaining;
    size_t header_bytes;
    size_t line_len;
    char line[CW_HTTP_LINE_MAX];
} cw_http_parser_ctx;

/* Prepares p for one response. The body goes to body[0..body_cap) (not copied elsewhere; body may
 * be NULL when body_cap is 0). head_request: the request was HEAD, so the response has no body. */
void cw_http_parser_init(cw_http_parser_ctx *p, uint8_t *body, size_t body_cap, bool head_request);

/* The same, with the body handed to sink(bytes, len, arg) as it arrives, from inside
 * cw_http_parser_push, whatever its length (up to CW_HTTP_SINK_MAX); p keeps none of it. The sink
 * sees only the body: no header, chunk-size or trailer bytes, and nothing after an error. */
void cw_http_parser_init_sink(cw_http_parser_ctx *p, cw_http_sink_fn sink, void *arg, bool head_request);

/* Prepares p for another response with the body destination and HEAD flag of its last init
 * (a request sent again). A buffer is written again from its start. */
void cw_http_parser_reset(cw_http_parser_ctx *p);

/* Feeds buf[0..len). Returns how many bytes were consumed: all of them, unless the response ended
 * (the rest belongs to whatever follows it) or an error was found. Never reads past len. */
size_t cw_http_parser_push(cw_http_parser_ctx *p, const uint8_t *buf, size_t len);

/* The server closed the connection: ends a close-delimited body (CW_OK); anywhere else before
 * the end of the response it is CW_ERR_HTTP_CLOSED. Returns the parser's final error state. */
cw_err cw_http_parser_eof(cw_http_parser_ctx *p);

/* CW_OK, or the first error found; it stays until the next init or reset. Errors:
 * CW_ERR_HTTP_MALFORMED, _HEADER_TOO_LONG, _TOO_LARGE, _BAD_CHUNK, _TRANSFER_CODING, _CLOSED,
 * or the sink's own. */
cw_err cw_http_parser_last_error(const cw_http_parser_ctx *p);

/* The status line and headers of the final response have been read (resp.status, content_type,
 * framing and keep_alive are known). */
bool cw_http_parser_headers_done(const cw_http_parser_ctx *p);

/* The whole response has been read, without error. */
bool cw_http_parser_done(const cw_http_parser_ctx *p);

/* ---- client ---------------------------------------------------------------------------------- */

typedef enum cw_http_method_t {
    CW_HTTP_GET,
    CW_HTTP_POST
} cw_http_method_t;

struct altcp_allocator_s;

typedef struct cw_http_config_t {
    uint32_t connect_timeout_ms;          /* 0: CW_HTTP_CONNECT_TIMEOUT_MS */
    uint32_t idle_timeout_ms;             /* 0: CW_HTTP_IDLE_TIMEOUT_MS */
    struct altcp_allocator_s *tls;        /* makes https:// connections; NULL: none (refused) */
} cw_http_config_t;

typedef struct cw_http_request_t {
    cw_http_method_t method;
    const cw_url_t *url;          /* scheme, host, port, and the target unless target is set;
                                     read only during cw_http_request() */
    const char *target;           /* request target ("/scep?operation=GetCACaps") or NULL for
                                     url->path; read only during cw_http_request() */
    const char *content_type;     /* POST: the body's media type (NULL: none sent) */
    const uint8_t *body;          /* POST: sent from here, NOT copied: must stay unchanged until
                                     cw_http_poll() has returned the request's result */
    size_t body_len;              /* at most CW_HTTP_REQUEST_BODY_MAX */
    const char *target_tail;      /* GET: more of the target, sent right after it from here, NOT
                                     copied (same lifetime as body): a SCEP GET's
                                     percent-encoded message; visible ASCII only */
    size_t target_tail_len;       /* at most CW_HTTP_TARGET_TAIL_MAX; 0: none */
    cw_http_sink_fn body_sink;    /* NULL: the response body goes to the buffer passed to
                                     cw_http_request(), bounded by it. Else the body is streamed
                                     to body_sink(bytes, len, body_sink_arg), any length, nothing
                                     kept (pass NULL, 0 as the buffer). It is called from lwIP's
                                     receive callback, never after cw_http_poll() has returned the
                                     result or after cw_http_abort(), and must not call the client */
    void *body_sink_arg;
} cw_http_request_t;

/* Progress events, collected as bitmask until cw_http_take_events() (docs/network.md). */
#define CW_HTTP_EV_RESOLVING  0x01u /* looking up the host name */
#define CW_HTTP_EV_CONNECTING 0x02u /* opening a new connection (cw_http_peer says to whom) */
#define CW_HTTP_EV_REUSED     0x04u /* the request goes out on the kept-alive connection */
#define CW_HTTP_EV_CONNECTED  0x08u /* the new connection is established */
#define CW_HTTP_EV_SENT       0x10u /* the whole request is handed to TCP */
#define CW_HTTP_EV_HEADERS    0x20u /* status and headers of the final response are in */
#define CW_HTTP_EV_RETRY      0x40u /* the kept-alive connection was closed under the request:
                                       a GET is sent once more on a new connection */

typedef struct cw_http_timing_t {
    uint32_t connect_ms;     /* start to established; 0 on a reused connection */
    uint32_t first_byte_ms;  /* start to the first response byte */
    uint32_t total_ms;       /* start to the end of the response (or the error) */
} cw_http_timing_t;

typedef struct cw_http_ctx {
    cw_http_parser_ctx parser; /* the response; cw_http_response() gives its public part */
    /* private */
    cw_http_config_t cfg;
    void *pcb; /* lwIP's struct altcp_pcb (struct tcp_pcb where lwipopts.h sets LWIP_ALTCP 0) */
    uint8_t state;
    cw_http_method_t method;
    bool https;
    bool conn_reusable;
    bool reused;
    bool retried;
    bool extra_data;
    int dns_slot;
    uint16_t port;
    uint32_t addr;                          /* IPv4, network byte order */
    char host[CW_URL_HOST_MAX + 1];
    const uint8_t *body;
    size_t body_len;
    const char *tail;                       /* the caller's target tail (GET), or NULL */
    size_t tail_len;
    size_t head_split;                      /* head bytes before the tail goes out */
    size_t head_len;
    size_t queued;                          /* request bytes handed to TCP */
    size_t acked;                           /* request bytes the server acknowledged */
    size_t rx_bytes;                        /* response bytes received */
    uint32_t events;
    cw_err result;
    uint32_t t_start, t_connected, t_first_byte, t_done, t_activity;
    char head[CW_HTTP_REQUEST_HEAD_MAX];    /* request line and headers, sent from here */
} cw_http_ctx;

/* Prepares an idle client; cfg is copied (NULL: defaults, no TLS). */
void cw_http_init(cw_http_ctx *c, const cw_http_config_t *cfg);

/* Starts a request; the response body will go to body[0..body_cap), or to req->body_sink (then
 * body must be NULL and body_cap 0). Returns CW_ERR_IN_PROGRESS
 * (then call cw_http_poll() until it returns something else), or an error at once:
 * CW_ERR_BUSY (a request runs), CW_ERR_HTTP_NO_TLS, CW_ERR_HTTP_REQUEST_TOO_LARGE,
 * CW_ERR_INVALID_ARG, CW_ERR_DNS_FAILED (no DNS server set, lookup table full). Reuses the open
 * connection when scheme, host and port match. */
cw_err cw_http_request(cw_http_ctx *c, const cw_http_request_t *req, uint8_t *body, size_t body_cap);

/* Advances the request (timeouts, connecting after a name lookup). Returns CW_ERR_IN_PROGRESS,
 * or once the request's result: CW_OK with a complete response of any status (cw_http_response),
 * or an error (CW_ERR_DNS_FAILED, CW_ERR_HTTP_*, a wrapped lwIP error, the body sink's). After the
 * result, lwIP holds no reference to the request body or the response buffer, and the body sink
 * is not called again. */
cw_err cw_http_poll(cw_http_ctx *c);

/* The response of the current or last request. */
const cw_http_response_t *cw_http_response(const cw_http_ctx *c);

/* Events since the last call (CW_HTTP_EV_*), then cleared. */
uint32_t cw_http_take_events(cw_http_ctx *c);

/* "10.0.2.2:8080": the address and port of the connection's peer, once resolved. */
void cw_http_peer(const cw_http_ctx *c, char *out, size_t cap);

/* Bytes of the current request (head and body). */
size_t cw_http_request_size(const cw_http_ctx *c);

/* Times of the current or last request. */
void cw_http_timing(const cw_http_ctx *c, cw_http_timing_t *t);

/* Closes a kept-alive connection (gracefully). Call when no further request will follow soon. */
void cw_http_close(cw_http_ctx *c);

/* Stops the running request, if any, and resets the connection. The context is idle afterwards
 * and lwIP holds no reference to the caller's buffers. */
void cw_http_abort(cw_http_ctx *c);

#endif /* CW_HTTP_H */
