/*
 * target_http.c: the HTTP/1.1 response parser (cw_http.h) on the target, table-driven.
 * Specification: RFC 9112 section 6 (framing) and docs/network.md; the host's full table is
 * tests/unit/test_http.c. Here: one case per framing and per error class, each fed whole and one
 * byte at a time (as pbufs may cut a response anywhere); the result must not depend on the split.
 */
#include <stdio.h>
#include <string.h>

#include "cw/cw_http.h"
#include "target_check.h"

#define BODY_CAP 64u
#define NONE CW_HTTP_FRAMING_NONE
#define LEN CW_HTTP_FRAMING_LENGTH
#define CHUNKED CW_HTTP_FRAMING_CHUNKED
#define CLOSE CW_HTTP_FRAMING_CLOSE

typedef struct http_case {
    const char *name;
    const char *in;       /* the bytes from the server */
    size_t cap;           /* body buffer; 0: BODY_CAP */
    bool eof;             /* the server closes after sending `in` */
    cw_err err;           /* last_error at the end (after the close when eof) */
    uint16_t status;      /* when err == CW_OK: */
    cw_http_framing_t framing;
    bool keep_alive;
    const char *body;
    size_t leftover;      /* bytes push leaves unconsumed after the response */
} http_case;

static const http_case cases[] = {
    {"content-length, next response left over",
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1", 0, false, CW_OK,
     200, LEN, true, "hello", 8},
    {"chunked, with an extension and a trailer",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;n=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n",
     0, false, CW_OK, 200, CHUNKED, true, "hello world", 0},
    {"close-delimited", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 0, true, CW_OK, 200,
     CLOSE, false, "until the end", 0},
    {"100 Continue, then 404 with a body",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop", 0, false, CW_OK, 404,
     LEN, true, "nop", 0},
    {"204 has no body", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 0, false, CW_OK, 204, NONE, false,
     "", 0},

    {"HTTP/2 status line", "HTTP/2 200\r\n\r\n", 0, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, 0},
    {"length over the buffer", "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", 0, false, CW_ERR_HTTP_TOO_LARGE,
     0, NONE, false, NULL, 0},
    {"close inside a length-framed body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, true,
     CW_ERR_HTTP_CLOSED, 0, NONE, false, NULL, 0},
    {"0x in a chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", 0, false,
     CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, 0},
    {"close before the last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 0,
     true, CW_ERR_HTTP_CLOSED, 0, NONE, false, NULL, 0},
    {"gzip transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, false,
     CW_ERR_HTTP_TRANSFER_CODING, 0, NONE, false, NULL, 0},
    {"close-delimited over the buffer", "HTTP/1.1 200 OK\r\n\r\n12345", 4, true, CW_ERR_HTTP_TOO_LARGE, 0, NONE,
     false, NULL, 0},
};

/* Large contexts are static (cw_http.h): the parser holds a CW_HTTP_LINE_MAX line. */
static cw_http_parser_ctx parser;
static uint8_t body[BODY_CAP + 1];

/* Feeds in[0..len) whole or one byte at a time; returns the bytes consumed in all. One check for
 * the whole feed, not one per byte. */
static size_t feed(const char *name, const uint8_t *in, size_t len, bool bytewise)
{
    size_t off = 0;
    bool ok = true;
    while (off < len) {
        size_t n = bytewise ? 1u : len - off;
        size_t used = cw_http_parser_push(&parser, in + off, n);
        ok = ok && used <= n;
        off += used;
        if (used < n) {
            /* stopped: complete or broken, and more input changes nothing */
            ok = ok && (cw_http_parser_done(&parser) || cw_http_parser_last_error(&parser) != CW_OK);
            ok = ok && cw_http_parser_push(&parser, in + off, len - off) == 0u;
            break;
        }
    }
    CHECK_IN(name, ok);
    return off;
}

static void run_case(const http_case *c, bool bytewise)
{
    size_t len = strlen(c->in);
    size_t cap = c->cap != 0u ? c->cap : BODY_CAP;
    const cw_http_response_t *r = &parser.resp;
    size_t used;
    cw_err e;
    char where[80]; /* the case and the split, for a failure */

    (void)snprintf(where, sizeof where, "%s, %s", c->name, bytewise ? "byte by byte" : "whole");
    memset(body, 0xEE, sizeof body);
    cw_http_parser_init(&parser, body, cap, false);
    used = feed(where, (const uint8_t *)c->in, len, bytewise);
    e = c->eof ? cw_http_parser_eof(&parser) : cw_http_parser_last_error(&parser);
    CHECK_IN(where, e == c->err);
    CHECK_IN(where, cw_http_parser_last_error(&parser) == c->err); /* the error stays */
    if (c->err != CW_OK) {
        CHECK_IN(where, !cw_http_parser_done(&parser));
        return;
    }
    CHECK_IN(where, cw_http_parser_done(&parser) && cw_http_parser_headers_done(&parser));
    CHECK_IN(where, r->status == c->status && r->framing == c->framing && r->keep_alive == c->keep_alive);
    CHECK_IN(where, r->body_len == strlen(c->body) && memcmp(body, c->body, r->body_len) == 0);
    CHECK_IN(where, body[r->body_len] == 0xEE); /* nothing written past the body */
    CHECK_IN(where, len - used == c->leftover);
    CHECK_IN(where, cw_http_parser_eof(&parser) == CW_OK); /* a close after the end is fine */
}

void target_test_http(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], false);
        run_case(&cases[i], true);
    }
    /* the parsed fields of one response, beyond the table's */
    cw_http_parser_init(&parser, body, BODY_CAP, false);
    (void)feed("fields", (const uint8_t *)cases[0].in, strlen(cases[0].in), false);
    CHECK(strcmp(parser.resp.reason, "OK") == 0 && strcmp(parser.resp.content_type, "text/plain") == 0);
    CHECK(parser.resp.minor_version == 1 && parser.resp.content_length == 5u);
    /* a HEAD response has no body, whatever its Content-Length says */
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    cw_http_parser_init(&parser, body, BODY_CAP, true);
    CHECK(feed("HEAD", (const uint8_t *)head, strlen(head), false) == strlen(head));
    CHECK(cw_http_parser_done(&parser) && parser.resp.framing == NONE && parser.resp.body_len == 0u);
}
