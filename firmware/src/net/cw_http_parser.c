/*
 * cw_http_parser.c: the HTTP/1.1 response parser (cw_http.h), push-based and bounded.
 *
 * RFC 9112 section 2.1:  HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
 *             4:         status-line = HTTP-version SP status-code SP [ reason-phrase ]
 *             5:         field-line  = field-name ":" OWS field-value OWS
 *             7.1:       chunked-body = *chunk last-chunk trailer-section CRLF
 *                        chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *
 * Strict where it matters for framing (a response that two readers could split differently is
 * refused), lenient where real servers differ harmlessly: a bare LF ends a line (2.2), empty lines
 * before the status line are skipped, the reason phrase may be missing, trailing whitespace after
 * a chunk size is ignored. Deliberate deviation: obsolete line folding (5.2) is refused rather
 * than replaced with a space; no server certwiz talks to folds, and a fold is a known smuggling
 * vector.
 *
 * Only the fields the client reads must fit the line buffer (CW_HTTP_LINE_MAX). A longer field
 * line that names another field (a long Set-Cookie or Content-Security-Policy) is checked as far as
 * the buffer holds it (name, colon, value characters) and its rest only for field characters; the
 * header section as a whole stays bounded by CW_HTTP_HEADER_MAX.
 */
#include "cw/net/cw_http.h"

#include <string.h>

enum {
    P_STATUS,      /* status line (or empty lines before it) */
    P_HEADER,      /* header lines up to the empty line */
    P_BODY_LENGTH, /* Content-Length body */
    P_BODY_CLOSE,  /* body up to the end of the connection */
    P_CHUNK_SIZE,  /* chunk-size [ chunk-ext ] CRLF */
    P_CHUNK_DATA,  /* chunk-data */
    P_CHUNK_END,   /* the CRLF after chunk-data */
    P_TRAILER,     /* trailer fields up to the empty line */
    P_DONE,
    P_ERROR
};

static void fail(cw_http_parser_ctx *p, cw_err e)
{
    if (p->state != P_ERROR) {
        p->err = e;
        p->state = P_ERROR;
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
 *                         / "`" / "|" / "~" / DIGIT / ALPHA */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 9110 5.5: field-value characters: VCHAR, obs-text, SP, HTAB (no other controls). */
static bool is_field_char(char c)
{
    unsigned char u = (unsigned char)c;
    return u == '\t' || (u >= 0x20u && u != 0x7fu);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool equals_nocase(const char *a, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(a[i]) != lit[i]) {
            return false;
        }
    }
    return true;
}

/* Calls fn on each element of a comma-separated list (RFC 9110 5.6.1), OWS trimmed, empty
 * elements skipped. */
typedef void (*list_fn)(cw_http_parser_ctx *p, const char *item, size_t n);

static void for_each_item(cw_http_parser_ctx *p, const char *v, size_t n, list_fn fn)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && v[i] != ',') {
            i++;
        }
        size_t a = start;
        size_t b = i;
        while (a < b && is_ows(v[a])) {
            a++;
        }
        while (b > a && is_ows(v[b - 1])) {
            b--;
        }
        if (b > a) {
            fn(p, v + a, b - a);
        }
        i++; /* past the comma */
    }
}

static void connection_item(cw_http_parser_ctx *p, const char *item, size_t n)
{
    if (equals_nocase(item, n, "close")) {
        p->conn_close = true;
    } else if (equals_nocase(item, n, "keep-alive")) {
        p->conn_keep_alive = true;
    }
}

/* RFC 9112 6.1: the only coding certwiz reads is chunked, once, as the final coding. We never
 * send TE, so a server has no reason for any other (gzip here would be bytes we cannot use). */
static void te_item(cw_http_parser_ctx *p, const char *item, size_t n)
{
    if (p->have_te || !equals_nocase(item, n, "chunked")) {
        fail(p, CW_ERR_HTTP_TRANSFER_CODING);
        return;
    }
    p->have_te = true;
}

/* ---- lines ----------------------------------------------------------------------------------- */

static void on_status_line(cw_http_parser_ctx *p, const char *s, size_t n)
{
    if (n == 0) {
        return; /* empty lines before the status line are skipped (bounded by header_bytes) */
    }
    /* "HTTP/1.x NNN" then SP and the reason, or nothing */
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]) || s[8] != ' ' || !is_digit(s[9]) ||
        !is_digit(s[10]) || !is_digit(s[11]) || (n > 12 && s[12] != ' ')) {
        fail(p, CW_ERR_HTTP_MALFORMED);
        return;
    }
    unsigned status = (unsigned)(s[9] - '0') * 100u + (unsigned)(s[10] - '0') * 10u + (unsigned)(s[11] - '0');
    if (status < 100u || status > 599u || status == 101u) {
        /* 101 Switching Protocols answers an Upgrade certwiz never asks for */
        fail(p, CW_ERR_HTTP_MALFORMED);
        return;
    }
    size_t rn = n > 13 ? n - 13 : 0;
    for (size_t i = 0; i < rn; i++) {
        if (!is_field_char(s[13 + i])) {
            fail(p, CW_ERR_HTTP_MALFORMED);
            return;
        }
    }
    p->resp.status = (uint16_t)status;
    p->resp.minor_version = (uint8_t)(s[7] - '0');
    if (rn > CW_HTTP_REASON_MAX) {
        rn = CW_HTTP_REASON_MAX; /* display text only: RFC 9112 4 says a client ignores it */
    }
    memcpy(p->resp.reason, s + 13, rn);
    p->resp.reason[rn] = '\0';
    p->resp.content_type[0] = '\0';
    p->have_length = false;
    p->have_te = false;
    p->conn_close = false;
    p->conn_keep_alive = false;
    p->resp.content_length = 0;
    p->state = P_HEADER;
}

/* Splits "name: value" and checks both; returns false (error set) when the line is not a field. */
static bool split_field(cw_http_parser_ctx *p, const char *s, size_t n, size_t *name_len, const char **value,
                        size_t *value_len)
{
    size_t colon = 0;
    if (is_ows(s[0])) {
        fail(p, CW_ERR_HTTP_MALFORMED); /* obs-fold (RFC 9112 5.2), refused: see the top */
        return false;
    }
    while (colon < n && s[colon] != ':') {
        if (!is_tchar(s[colon])) {
            fail(p, CW_ERR_HTTP_MALFORMED); /* includes whitespace before the colon (5.1) */
            return false;
        }
        colon++;
    }
    if (colon == 0 || colon == n) {
        fail(p, CW_ERR_HTTP_MALFORMED);
        return false;
    }
    size_t a = colon + 1;
    size_t b = n;
    while (a < b && is_ows(s[a])) {
        a++;
    }
    while (b > a && is_ows(s[b - 1])) {
        b--;
    }
    for (size_t i = a; i < b; i++) {
        if (!is_field_char(s[i])) {
            fail(p, CW_ERR_HTTP_MALFORMED);
            return false;
        }
    }
    *name_len = colon;
    *value = s + a;
    *value_len = b - a;
    return true;
}

static void on_content_length(cw_http_parser_ctx *p, const char *v, size_t n)
{
    size_t len = 0;
    bool huge = false;

    if (n == 0) {
        fail(p, CW_ERR_HTTP_MALFORMED);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(v[i])) {
            fail(p, CW_ERR_HTTP_MALFORMED); /* also a list "5, 5": refused, not merged */
            return;
        }
        size_t d = (size_t)(v[i] - '0');
        if (len > (SIZE_MAX - d) / 10u) {
            huge = true; /* len * 10 + d would not fit */
        } else {
            len = len * 10u + d;
        }
    }
    if (huge) {
        len = SIZE_MAX; /* larger than any buffer: reported as too large once the headers end */
    }
    if (p->have_length && len != p->resp.content_length) {
        fail(p, CW_ERR_HTTP_MALFORMED); /* RFC 9112 6.3 (5): differing lengths */
        return;
    }
    p->have_length = true;
    p->resp.content_length = len;
}

/* The fields on_header_field reads; their lines must fit the line buffer. */
static bool is_read_field(const char *name, size_t nn)
{
    return equals_nocase(name, nn, "content-length") || equals_nocase(name, nn, "transfer-encoding") ||
           equals_nocase(name, nn, "connection") || equals_nocase(name, nn, "content-type");
}

/* The fields the client reads (is_read_field lists the same four). */
static void on_header_field(cw_http_parser_ctx *p, const char *name, size_t nn, const char *v, size_t vn)
{
    if (equals_nocase(name, nn, "content-length")) {
        on_content_length(p, v, vn);
    } else if (equals_nocase(name, nn, "transfer-encoding")) {
        for_each_item(p, v, vn, te_item);
        if (!p->have_te && p->state != P_ERROR) {
            fail(p, CW_ERR_HTTP_TRANSFER_CODING); /* an empty list */
        }
    } else if (equals_nocase(name, nn, "connection")) {
        for_each_item(p, v, vn, connection_item);
    } else if (equals_nocase(name, nn, "content-type")) {
        if (vn > CW_HTTP_CTYPE_MAX) {
            fail(p, CW_ERR_HTTP_HEADER_TOO_LONG);
            return;
        }
        memcpy(p->resp.content_type, v, vn);
        p->resp.content_type[vn] = '\0';
    }
}

/* How many more body bytes the buffer or the sink can take. */
CW_NOINLINE static size_t body_room(const cw_http_parser_ctx *p)
{
    return (p->to_sink ? CW_HTTP_SINK_MAX : p->out.buf.cap) - p->resp.body_len;
}

/* The empty line after the headers: decide how the body is framed (RFC 9112 6.3). */
static void on_headers_end(cw_http_parser_ctx *p)
{
    cw_http_response_t *r = &p->resp;

    if (r->status < 200u) {
        /* an interim response (100 Continue, 102, 103): its headers are not the final ones */
        r->interim++;
        r->status = 0;
        r->reason[0] = '\0';
        p->state = P_STATUS;
        return;
    }
    if (p->have_te && r->minor_version == 0) {
        fail(p, CW_ERR_HTTP_MALFORMED); /* 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing */
        return;
    }
    p->headers_done = true;
    /* 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive" */
    r->keep_alive = !p->conn_close && (r->minor_version >= 1 || p->conn_keep_alive);

    if (p->head_request || r->status == 204u || r->status == 304u) {
        r->framing = CW_HTTP_FRAMING_NONE; /* 6.3 (1) and (2): no body, whatever the headers say */
        p->state = P_DONE;
    } else if (p->have_te) {
        r->framing = CW_HTTP_FRAMING_CHUNKED;
        p->state = P_CHUNK_SIZE;
        if (p->have_length) {
            /* 6.3 (3): chunked overrides Content-Length, but the sender is suspect: do not reuse */
            r->keep_alive = false;
            r->content_length = 0;
        }
    } else if (p->have_length) {
        r->framing = CW_HTTP_FRAMING_LENGTH;
        if (r->content_length > body_room(p)) {
            fail(p, CW_ERR_HTTP_TOO_LARGE); /* known before a byte of it is read */
            return;
        }
        p->remaining = r->content_length;
        p->state = r->content_length == 0 ? P_DONE : P_BODY_LENGTH;
    } else {
        r->framing = CW_HTTP_FRAMING_CLOSE; /* 6.3 (8) */
        r->keep_alive = false;
        p->state = P_BODY_CLOSE;
    }
}

static void on_header_line(cw_http_parser_ctx *p, const char *s, size_t n)
{
    size_t nn;
    const char *v;
    size_t vn;

    if (n == 0) {
        if (p->state == P_TRAILER) {
            p->state = P_DONE;
        } else {
            on_headers_end(p);
        }
        return;
    }
    if (!split_field(p, s, n, &nn, &v, &vn)) {
        return;
    }
    if (p->state == P_HEADER) {
        on_header_field(p, s, nn, v, vn); /* trailer fields are checked, then ignored (6.5) */
    }
}

/* chunk-size = 1*HEXDIG; chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) */
static void on_chunk_size_line(cw_http_parser_ctx *p, const char *s, size_t n)
{
    size_t i = 0;
    size_t size = 0;
    bool huge = false;
    int h;

    while (i < n && (h = hex_value(s[i])) >= 0) {
        if (size > (SIZE_MAX >> 4)) {
            huge = true;
        } else {
            size = (size << 4) | (size_t)h;
        }
        i++;
    }
    if (i == 0) {
        fail(p, CW_ERR_HTTP_BAD_CHUNK); /* empty, "-1", " 5", "x" */
        return;
    }
    while (i < n && is_ows(s[i])) {
        i++;
    }
    if (i < n) {
        if (s[i] != ';') {
            fail(p, CW_ERR_HTTP_BAD_CHUNK); /* "0x10", "5 6" */
            return;
        }
        for (; i < n; i++) { /* extensions are ignored, but must be field text */
            if (!is_field_char(s[i])) {
                fail(p, CW_ERR_HTTP_BAD_CHUNK);
                return;
            }
        }
    }
    if (size == 0 && !huge) {
        p->state = P_TRAILER;
        return;
    }
    if (huge || size > body_room(p)) {
        fail(p, CW_ERR_HTTP_TOO_LARGE);
        return;
    }
    p->remaining = size;
    p->state = P_CHUNK_DATA;
}

static void on_line(cw_http_parser_ctx *p)
{
    const char *s = p->line;
    size_t n = p->line_len;

    p->line_len = 0;
    switch (p->state) {
    case P_STATUS:
        on_status_line(p, s, n);
        break;
    case P_HEADER:
    case P_TRAILER:
        on_header_line(p, s, n);
        break;
    case P_CHUNK_SIZE:
        on_chunk_size_line(p, s, n);
        break;
    case P_CHUNK_END:
        if (n != 0) {
            fail(p, CW_ERR_HTTP_BAD_CHUNK); /* chunk-data longer than its size said */
        } else {
            p->state = P_CHUNK_SIZE;
        }
        break;
    default:
        fail(p, CW_ERR_INTERNAL);
        break;
    }
}

static bool in_header_section(const cw_http_parser_ctx *p)
{
    return p->state == P_STATUS || p->state == P_HEADER || p->state == P_TRAILER;
}

/* The line buffer is full: a field line the client does not read goes on unkept (the rest of its
 * value is only checked, skip_field); anything else is too long. */
static bool skip_long_field(cw_http_parser_ctx *p)
{
    const char *colon = memchr(p->line, ':', p->line_len);
    size_t nn;
    const char *v;
    size_t vn;

    if ((p->state != P_HEADER && p->state != P_TRAILER) || colon == NULL ||
        (p->state == P_HEADER && is_read_field(p->line, (size_t)(colon - p->line)))) {
        fail(p, CW_ERR_HTTP_HEADER_TOO_LONG);
        return false;
    }
    if (!split_field(p, p->line, p->line_len, &nn, &v, &vn)) {
        return false; /* malformed already in the part that was kept */
    }
    p->skip_field = true;
    return true;
}

/* Takes bytes of a line-oriented state, up to and including one LF. Returns bytes consumed. */
static size_t take_line(cw_http_parser_ctx *p, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (in_header_section(p) && ++p->header_bytes > CW_HTTP_HEADER_MAX) {
            fail(p, CW_ERR_HTTP_HEADER_TOO_LONG);
            return i;
        }
        if (c == '\n') {
            p->pending_cr = false;
            if (p->skip_field) {
                p->skip_field = false; /* a field certwiz does not read: nothing more to do */
                p->line_len = 0;
            } else {
                on_line(p);
            }
            return i + 1;
        }
        if (p->pending_cr || c == '\0') {
            /* a CR not followed by LF, or a NUL: no reader agrees on what they mean */
            fail(p, p->state == P_CHUNK_SIZE || p->state == P_CHUNK_END ? CW_ERR_HTTP_BAD_CHUNK
                                                                         : CW_ERR_HTTP_MALFORMED);
            return i;
        }
        if (c == '\r') {
            p->pending_cr = true;
            continue;
        }
        if (!p->skip_field && p->line_len == sizeof p->line && !skip_long_field(p)) {
            return i;
        }
        if (p->skip_field) {
            if (!is_field_char(c)) {
                fail(p, CW_ERR_HTTP_MALFORMED);
                return i;
            }
            continue;
        }
        p->line[p->line_len++] = c;
    }
    return len;
}

/* Takes body bytes into the caller's buffer or hands them to its sink. Returns bytes consumed. */
static size_t take_body(cw_http_parser_ctx *p, const uint8_t *buf, size_t len)
{
    size_t n = len;
    if (p->state != P_BODY_CLOSE && n > p->remaining) {
        n = p->remaining;
    }
    if (n > body_room(p)) {
        fail(p, CW_ERR_HTTP_TOO_LARGE); /* only a close-delimited body gets here */
        return 0;
    }
    if (p->to_sink) {
        cw_err e = p->out.sink.fn(buf, n, p->out.sink.arg);
        if (e != CW_OK) {
            fail(p, e);
            return 0;
        }
    } else {
        memcpy(p->out.buf.p + p->resp.body_len, buf, n);
    }
    p->resp.body_len += n;
    if (p->state != P_BODY_CLOSE) {
        p->remaining -= n;
        if (p->remaining == 0) {
            p->state = p->state == P_BODY_LENGTH ? P_DONE : P_CHUNK_END;
        }
    }
    return n;
}

void cw_http_parser_init(cw_http_parser_ctx *p, uint8_t *body, size_t body_cap, bool head_request)
{
    memset(p, 0, sizeof *p);
    p->state = P_STATUS;
    p->err = CW_OK;
    p->out.buf.p = body;
    p->out.buf.cap = body != NULL ? body_cap : 0;
    p->head_request = head_request;
    p->resp.framing = CW_HTTP_FRAMING_NONE;
}

void cw_http_parser_init_sink(cw_http_parser_ctx *p, cw_http_sink_fn sink, void *arg, bool head_request)
{
    cw_http_parser_init(p, NULL, 0, head_request);
    p->to_sink = sink != NULL; /* without one, as a buffer of 0 bytes */
    p->out.sink.fn = sink;
    p->out.sink.arg = arg;
}

void cw_http_parser_reset(cw_http_parser_ctx *p)
{
    if (p->to_sink) {
        cw_http_parser_init_sink(p, p->out.sink.fn, p->out.sink.arg, p->head_request);
    } else {
        cw_http_parser_init(p, p->out.buf.p, p->out.buf.cap, p->head_request);
    }
}

size_t cw_http_parser_push(cw_http_parser_ctx *p, const uint8_t *buf, size_t len)
{
    size_t i = 0;

    while (i < len && p->state != P_DONE && p->state != P_ERROR) {
        switch (p->state) {
        case P_BODY_LENGTH:
        case P_BODY_CLOSE:
        case P_CHUNK_DATA:
            i += take_body(p, buf + i, len - i);
            break;
        default:
            i += take_line(p, buf + i, len - i);
            break;
        }
    }
    return i;
}

cw_err cw_http_parser_eof(cw_http_parser_ctx *p)
{
    if (p->state == P_BODY_CLOSE) {
        p->state = P_DONE;
    } else if (p->state != P_DONE) {
        fail(p, CW_ERR_HTTP_CLOSED);
    }
    return p->state == P_ERROR ? p->err : CW_OK;
}

cw_err cw_http_parser_last_error(const cw_http_parser_ctx *p)
{
    return p->state == P_ERROR ? p->err : CW_OK;
}

bool cw_http_parser_headers_done(const cw_http_parser_ctx *p)
{
    return p->headers_done;
}

bool cw_http_parser_done(const cw_http_parser_ctx *p)
{
    return p->state == P_DONE;
}
