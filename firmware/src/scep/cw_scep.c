/*
 * cw_scep.c: SCEP's HTTP transport (cw_scep.h).
 */
#include "cw/scep/cw_scep.h"

#include <stdio.h>
#include <string.h>

#include "cw/codec/cw_pem.h"

/* Content types each operation may answer with (RFC 8894 4.2, 4.3). */
static bool content_type_ok(cw_scep_op op, const char *ct)
{
    char base[CW_HTTP_CTYPE_MAX + 1];
    size_t n = strcspn(ct, ";");

    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        char c = ct[i];
        base[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    base[n] = '\0';
    switch (op) {
    case CW_SCEP_OP_CAPS:
        return true; /* plain text; servers differ in what they call it */
    case CW_SCEP_OP_CACERT:
        return strcmp(base, "application/x-x509-ca-cert") == 0 || strcmp(base, "application/x-x509-ca-ra-cert") == 0;
    case CW_SCEP_OP_PKI:
        return strcmp(base, "application/x-pki-message") == 0;
    }
    return false;
}

void cw_scep_http_init(cw_scep_http_t *s, char *tail, size_t tail_cap)
{
    memset(s, 0, sizeof *s);
    cw_http_init(&s->http, NULL);
    s->tail = tail;
    s->tail_cap = tail_cap;
}

cw_err cw_scep_query_encode(const uint8_t *msg, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t w = 0;

    /* 48 message bytes at a time: 64 base64 characters (the PEM encoder's, so that the image has
     * one base64 encoder), each written as is or as %XX */
    for (size_t i = 0; i < len; i += CW_PEM_LINE_BYTES) {
        char b64[65];
        size_t n = cw_pem_encode_line(msg + i, len - i, b64);
        for (size_t k = 0; k < n; k++) {
            char c = b64[k];
            bool escape = c == '+' || c == '/' || c == '=';
            if (w + (escape ? 3u : 1u) > cap) {
                return CW_ERR_HTTP_REQUEST_TOO_LARGE;
            }
            if (escape) {
                w += (size_t)snprintf(out + w, 4, "%%%02X", (unsigned)(unsigned char)c);
            } else {
                out[w++] = c;
            }
        }
    }
    *out_len = w;
    return CW_OK;
}

cw_err cw_scep_http_start(cw_scep_http_t *s, const char *url, cw_scep_op op, bool post, const uint8_t *msg,
                          size_t msg_len, uint8_t *resp, size_t resp_cap)
{
    static const char *const query[] = {"operation=GetCACaps", "operation=GetCACert&message=CA",
                                        "operation=PKIOperation"};
    cw_http_request_t req;
    cw_url_t u;
    char target[CW_URL_PATH_MAX + 48]; /* path and the fixed part of the query */
    size_t tail_len = 0;
    cw_err e = cw_url_parse(url, strlen(url), &u);
    int n;

    if (e != CW_OK) {
        return e;
    }
    s->op = op;
    n = snprintf(target, sizeof target, "%s%c%s%s", u.path, strchr(u.path, '?') ? '&' : '?', query[op],
                 op == CW_SCEP_OP_PKI && !post ? "&message=" : "");
    if (n < 0 || (size_t)n >= sizeof target) {
        return CW_ERR_HTTP_REQUEST_TOO_LARGE;
    }
    memset(&req, 0, sizeof req);
    req.url = &u;
    req.target = target;
    req.method = CW_HTTP_GET;
    if (op == CW_SCEP_OP_PKI && post) {
        req.method = CW_HTTP_POST;
        req.content_type = "application/x-pki-message";
        req.body = msg;
        req.body_len = msg_len;
    } else if (op == CW_SCEP_OP_PKI) {
        e = cw_scep_query_encode(msg, msg_len, s->tail, s->tail_cap, &tail_len);
        if (e != CW_OK) {
            return e;
        }
        req.target_tail = s->tail;
        req.target_tail_len = tail_len;
    }
    return cw_http_request(&s->http, &req, resp, resp_cap);
}

cw_err cw_scep_http_poll(cw_scep_http_t *s, size_t *len)
{
    const cw_http_response_t *r;
    cw_err e = cw_http_poll(&s->http);

    if (e != CW_OK) {
        return e;
    }
    r = cw_http_response(&s->http);
    *len = r->body_len;
    if (r->status != 200) {
        return CW_ERR_HTTP_STATUS;
    }
    return content_type_ok(s->op, r->content_type) ? CW_OK : CW_ERR_SCEP_CONTENT_TYPE;
}

void cw_scep_http_abort(cw_scep_http_t *s)
{
    cw_http_abort(&s->http);
}

void cw_scep_http_close(cw_scep_http_t *s)
{
    cw_http_close(&s->http);
    cw_http_abort(&s->http);
}
