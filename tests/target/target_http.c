/*
 * target_http.c: the HTTP/1.1 response parser (cw_http.h) on the target, table-driven.
 * Specification: RFC 9112 section 6 (framing) and docs/network.md; the host's full table is
 * tests/unit/test_http.c. Here: one case per framing and per error class, each fed whole and one
 * byte at a time (as pbufs may cut a response anywhere); the result must not depend on the split.
 * The same cases (those that do not end in CW_ERR_HTTP_TOO_LARGE) through a body sink; a sink's
 * bound on this 32-bit board; and what `http get` does with a body: a million 'a' in chunks,
 * hashed as it streams past, gives the SHA-256 of FIPS 180-2 appendix B.3.
 */
#include <stdio.h>
#include <string.h>

#include "cw/net/cw_http.h"
#include "mbedtls/sha256.h"
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

/* The test sink keeps what it is handed in sunk[] (BODY_CAP at most: the cases are small). */
static uint8_t sunk[BODY_CAP];
static size_t sunk_len;
static bool sink_ok; /* never 0 bytes, never past sunk[] */

static cw_err keep_sink(const uint8_t *bytes, size_t len, void *arg)
{
    (void)arg;
    if (len == 0u || len > sizeof sunk - sunk_len) {
        sink_ok = false;
        return CW_ERR_INTERNAL;
    }
    memcpy(sunk + sunk_len, bytes, len);
    sunk_len += len;
    return CW_OK;
}

static void run_case(const http_case *c, bool bytewise, bool to_sink)
{
    size_t len = strlen(c->in);
    size_t cap = c->cap != 0u ? c->cap : BODY_CAP;
    const cw_http_response_t *r = &parser.resp;
    const uint8_t *got = to_sink ? sunk : body;
    size_t used;
    cw_err e;
    char where[88]; /* the case and the split, for a failure */

    (void)snprintf(where, sizeof where, "%s, %s%s", c->name, bytewise ? "byte by byte" : "whole",
                   to_sink ? ", sink" : "");
    memset(body, 0xEE, sizeof body);
    if (to_sink) {
        sunk_len = 0;
        sink_ok = true;
        cw_http_parser_init_sink(&parser, keep_sink, NULL, false);
    } else {
        cw_http_parser_init(&parser, body, cap, false);
    }
    used = feed(where, (const uint8_t *)c->in, len, bytewise);
    e = c->eof ? cw_http_parser_eof(&parser) : cw_http_parser_last_error(&parser);
    CHECK_IN(where, e == c->err);
    CHECK_IN(where, cw_http_parser_last_error(&parser) == c->err); /* the error stays */
    if (to_sink) {
        CHECK_IN(where, sink_ok && sunk_len == r->body_len && body[0] == 0xEE);
    }
    if (c->err != CW_OK) {
        CHECK_IN(where, !cw_http_parser_done(&parser));
        return;
    }
    CHECK_IN(where, cw_http_parser_done(&parser) && cw_http_parser_headers_done(&parser));
    CHECK_IN(where, r->status == c->status && r->framing == c->framing && r->keep_alive == c->keep_alive);
    CHECK_IN(where, r->body_len == strlen(c->body) && memcmp(got, c->body, r->body_len) == 0);
    CHECK_IN(where, body[to_sink ? 0u : r->body_len] == 0xEE); /* nothing written past the body */
    CHECK_IN(where, len - used == c->leftover);
    CHECK_IN(where, cw_http_parser_eof(&parser) == CW_OK); /* a close after the end is fine */
}

static cw_err sha256_sink(const uint8_t *bytes, size_t len, void *arg)
{
    return mbedtls_sha256_update((mbedtls_sha256_context *)arg, bytes, len) == 0 ? CW_OK : CW_ERR_INTERNAL;
}

static size_t push_text(const char *s)
{
    return cw_http_parser_push(&parser, (const uint8_t *)s, strlen(s));
}

/* Content-Length up to CW_HTTP_SINK_MAX (2^32 - 2 here) goes to a sink; more is too large. */
static void sink_bounds(void)
{
    static const struct {
        const char *length;
        cw_err err;
    } lengths[] = {{"4294967294", CW_OK}, {"4294967295", CW_ERR_HTTP_TOO_LARGE},
                   {"4294967296", CW_ERR_HTTP_TOO_LARGE}, {"99999999999999999999", CW_ERR_HTTP_TOO_LARGE}};
    char in[80];

    CHECK(CW_HTTP_SINK_MAX == 0xFFFFFFFEu);
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        (void)snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nab", lengths[i].length);
        sunk_len = 0;
        sink_ok = true;
        cw_http_parser_init_sink(&parser, keep_sink, NULL, false);
        (void)push_text(in);
        CHECK_IN(lengths[i].length, cw_http_parser_last_error(&parser) == lengths[i].err);
        CHECK_IN(lengths[i].length, sunk_len == (lengths[i].err == CW_OK ? 2u : 0u) && !cw_http_parser_done(&parser));
    }
}

/* A million 'a' (FIPS 180-2 B.3) as 1000 chunks of 1000, pushed in pieces of 536 bytes (the
 * board's MSS), hashed by the sink as they pass. */
static void sink_hashes_a_million_a(void)
{
    static const uint8_t expected[32] = {
        0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
        0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    static uint8_t chunk[5 + 1000 + 2]; /* "3e8\r\n", 1000 'a', "\r\n" */
    mbedtls_sha256_context sha;
    uint8_t digest[32];
    bool all_taken = true;

    memcpy(chunk, "3e8\r\n", 5);
    memset(chunk + 5, 'a', 1000);
    memcpy(chunk + 1005, "\r\n", 2);
    mbedtls_sha256_init(&sha);
    CHECK(mbedtls_sha256_starts(&sha, 0) == 0);
    cw_http_parser_init_sink(&parser, sha256_sink, &sha, false);
    (void)push_text("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 1000; i++) {
        for (size_t off = 0; off < sizeof chunk; off += 536u) {
            size_t n = sizeof chunk - off < 536u ? sizeof chunk - off : 536u;
            all_taken = all_taken && cw_http_parser_push(&parser, chunk + off, n) == n;
        }
    }
    (void)push_text("0\r\n\r\n");
    CHECK(all_taken && cw_http_parser_done(&parser) && parser.resp.body_len == 1000000u);
    CHECK(mbedtls_sha256_finish(&sha, digest) == 0 && memcmp(digest, expected, sizeof digest) == 0);
    mbedtls_sha256_free(&sha);
}

void target_test_http(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], false, false);
        run_case(&cases[i], true, false);
        if (cases[i].err != CW_ERR_HTTP_TOO_LARGE) {
            run_case(&cases[i], false, true);
            run_case(&cases[i], true, true);
        }
    }
    sink_bounds();
    sink_hashes_a_million_a();
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
