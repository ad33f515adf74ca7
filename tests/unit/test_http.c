/*
 * test_http.c: the HTTP/1.1 response parser (cw_http.h), table-driven.
 * Specification: RFC 9112 (message syntax, framing), RFC 9110 (status codes, fields), and the
 * choices in docs/network.md.
 *
 * Every case is fed whole, one byte at a time, and in 200 random splits (as TCP segments and pbuf
 * chains cut a response anywhere); the result must not depend on the split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/cw_arena.h"
#include "cw/cw_http.h"
#include "support/test_board.h"

#define NONE CW_HTTP_FRAMING_NONE
#define LEN CW_HTTP_FRAMING_LENGTH
#define CHUNKED CW_HTTP_FRAMING_CHUNKED
#define CLOSE CW_HTTP_FRAMING_CLOSE

typedef struct http_case {
    const char *name;
    const char *in;       /* the bytes from the server */
    size_t in_len;        /* 0: strlen(in) */
    size_t cap;           /* body buffer; 0 means 64 */
    bool head;            /* the request was HEAD */
    bool eof;             /* the server closes after sending `in` */
    cw_err err;           /* expected last_error (after eof when eof) */
    uint16_t status;      /* expected status, when err == CW_OK */
    cw_http_framing_t framing;
    bool keep_alive;
    const char *body;     /* expected body, when err == CW_OK */
    const char *ctype;    /* expected Content-Type, NULL: not checked */
    size_t leftover;      /* bytes push must leave unconsumed after the response */
} http_case;

static const http_case cases[] = {
    /* ---- status line ---- */
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 0, false, false, CW_OK, 200, LEN,
     true, "hello", "", 0},
    {"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0, 0, false, false, CW_OK, 200, LEN,
     false, "hi", NULL, 0},
    {"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi", 0, 0,
     false, false, CW_OK, 200, LEN, true, "hi", NULL, 0},
    {"HTTP/1.9 reads as 1.1", "HTTP/1.9 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, false, false, CW_OK, 200,
     LEN, true, "", NULL, 0},
    {"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, 0, false, false, CW_OK, 200, LEN, true,
     "", NULL, 0},
    {"empty reason phrase", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 0, 0, false, false, CW_OK, 200, LEN,
     true, "", NULL, 0},
    {"404 is a response", "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop", 0, 0, false, false, CW_OK,
     404, LEN, true, "nop", NULL, 0},
    {"599 is a status", "HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n", 0, 0, false, false, CW_OK, 599, LEN,
     true, "", NULL, 0},
    {"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 0, 0, false, false, CW_OK, 200, LEN, true,
     "ok", NULL, 0},
    {"empty lines before the status line", "\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0, false,
     false, CW_OK, 200, LEN, true, "ok", NULL, 0},
    {"HTTP/2", "HTTP/2 200\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"HTTP/1.10", "HTTP/1.10 200 OK\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL,
     NULL, 0},
    {"lower-case version", "http/1.1 200 OK\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false,
     NULL, NULL, 0},
    {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false,
     NULL, NULL, 0},
    {"status 099", "HTTP/1.1 099 Low\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL,
     NULL, 0},
    {"status 600", "HTTP/1.1 600 High\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL,
     NULL, 0},
    {"two spaces", "HTTP/1.1  200 OK\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL,
     NULL, 0},
    {"no space after status", "HTTP/1.1 200OK\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE,
     false, NULL, NULL, 0},
    {"control character in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0,
     NONE, false, NULL, NULL, 0},
    {"CR not followed by LF", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"101 is never asked for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"not HTTP at all", "SSH-2.0-OpenSSH_9.2\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL,
     NULL, 0},

    /* ---- header fields ---- */
    {"content-type trimmed", "HTTP/1.1 200 OK\r\nContent-Type: \t text/plain; charset=utf-8 \t\r\n"
     "Content-Length: 0\r\n\r\n", 0, 0, false, false, CW_OK, 200, LEN, true, "", "text/plain; charset=utf-8", 0},
    {"field names are case-insensitive", "HTTP/1.1 200 OK\r\ncOnTeNt-TyPe: a/b\r\ncontent-LENGTH: 1\r\n\r\nx", 0, 0,
     false, false, CW_OK, 200, LEN, true, "x", "a/b", 0},
    {"obs-text in a value is kept", "HTTP/1.1 200 OK\r\nX-Note: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n", 0, 0,
     false, false, CW_OK, 200, LEN, true, "", NULL, 0},
    {"empty value", "HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n", 0, 0, false, false, CW_OK, 200,
     LEN, true, "", NULL, 0},
    {"folded header refused", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"folded with a tab refused", "HTTP/1.1 200 OK\r\nX-A: b\r\n\tc\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"whitespace before the first field", "HTTP/1.1 200 OK\r\n X-A: b\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"no colon", "HTTP/1.1 200 OK\r\nGarbage\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false,
     NULL, NULL, 0},
    {"empty field name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE,
     false, NULL, NULL, 0},
    {"DEL in a value", "HTTP/1.1 200 OK\r\nX-A: a\x7f\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE,
     false, NULL, NULL, 0},
    {"NUL in a value", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", 29, 0, false, false, CW_ERR_HTTP_MALFORMED, 0, NONE,
     false, NULL, NULL, 0},
    {"Connection: close in a list", "HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 0\r\n\r\n", 0,
     0, false, false, CW_OK, 200, LEN, false, "", NULL, 0},

    /* ---- Content-Length ---- */
    {"length not a number", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED,
     0, NONE, false, NULL, NULL, 0},
    {"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", 0, 0, false, false, CW_ERR_HTTP_MALFORMED,
     0, NONE, false, NULL, NULL, 0},
    {"empty length", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0, 0, false, false, CW_ERR_HTTP_MALFORMED, 0,
     NONE, false, NULL, NULL, 0},
    {"length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"same length twice", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 0, 0, false,
     false, CW_OK, 200, LEN, true, "hello", NULL, 0},
    {"two different lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 0, 0,
     false, false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"length over the buffer", "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_TOO_LARGE, 0, NONE, false, NULL, NULL, 0},
    {"length overflows", "HTTP/1.1 200 OK\r\nContent-Length: 123456789012345678901234567890\r\n\r\n", 0, 0, false,
     false, CW_ERR_HTTP_TOO_LARGE, 0, NONE, false, NULL, NULL, 0},
    {"length exactly the buffer", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfull", 0, 4, false, false, CW_OK,
     200, LEN, true, "full", NULL, 0},
    {"leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 0004\r\n\r\nfull", 0, 0, false, false, CW_OK, 200, LEN,
     true, "full", NULL, 0},
    {"bytes after the body are left", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 0, 0, false, false,
     CW_OK, 200, LEN, true, "ok", NULL, 5},
    {"body cut by close", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, 0, false, true,
     CW_ERR_HTTP_CLOSED, 0, NONE, false, NULL, NULL, 0},
    {"headers cut by close", "HTTP/1.1 200 OK\r\nContent-Len", 0, 0, false, true, CW_ERR_HTTP_CLOSED, 0, NONE,
     false, NULL, NULL, 0},
    {"nothing then close", "", 0, 0, false, true, CW_ERR_HTTP_CLOSED, 0, NONE, false, NULL, NULL, 0},

    /* ---- chunked ---- */
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, 0,
     false, false, CW_OK, 200, CHUNKED, true, "hello world", NULL, 0},
    {"chunked, upper-case hex and name", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n"
     "0\r\n\r\n", 0, 0, false, false, CW_OK, 200, CHUNKED, true, "0123456789", NULL, 0},
    {"chunk extensions", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n"
     "1 ; a=\"b;c\" ;d\r\n!\r\n0;last\r\n\r\n", 0, 0, false, false, CW_OK, 200, CHUNKED, true, "hello!", NULL, 0},
    {"trailers are read and ignored", "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nTransfer-Encoding: chunked\r\n\r\n"
     "2\r\nok\r\n0\r\nContent-Type: evil/x\r\nX-Sum: 1\r\n\r\n", 0, 0, false, false, CW_OK, 200, CHUNKED, true, "ok",
     "a/b", 0},
    {"folded trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 0, 0, false,
     false, CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"leading zeros in a chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0002\r\nok\r\n"
     "000\r\n\r\n", 0, 0, false, false, CW_OK, 200, CHUNKED, true, "ok", NULL, 0},
    {"trailing whitespace after a size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 \t\r\nok\r\n"
     "0\r\n\r\n", 0, 0, false, false, CW_OK, 200, CHUNKED, true, "ok", NULL, 0},
    {"bytes after the last chunk are left", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1",
     0, 0, false, false, CW_OK, 200, CHUNKED, true, "", NULL, 8},
    {"empty chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n", 0, 0, false,
     false, CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"negative chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 0, 0, false, false,
     CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"0x in a chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", 0, 0, false,
     false, CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n", 0, 0, false, false,
     CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"two sizes", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 6\r\nhello\r\n", 0, 0, false, false,
     CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"space before a size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n", 0, 0, false,
     false, CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"control character in an extension", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\x01\r\n", 0,
     0, false, false, CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"CR alone in a size line", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n", 0, 0, false,
     false, CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"chunk longer than its size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
     0, 0, false, false, CW_ERR_HTTP_BAD_CHUNK, 0, NONE, false, NULL, NULL, 0},
    {"huge chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n", 0, 0, false,
     false, CW_ERR_HTTP_TOO_LARGE, 0, NONE, false, NULL, NULL, 0},
    {"chunks over the buffer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n", 0, 4,
     false, false, CW_ERR_HTTP_TOO_LARGE, 0, NONE, false, NULL, NULL, 0},
    {"chunks exactly the buffer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n"
     "0\r\n\r\n", 0, 4, false, false, CW_OK, 200, CHUNKED, true, "abcd", NULL, 0},
    {"close before the last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 0, 0,
     false, true, CW_ERR_HTTP_CLOSED, 0, NONE, false, NULL, NULL, 0},
    {"close in the trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", 0, 0, false,
     true, CW_ERR_HTTP_CLOSED, 0, NONE, false, NULL, NULL, 0},
    {"gzip is not read", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_TRANSFER_CODING, 0, NONE, false, NULL, NULL, 0},
    {"gzip, chunked is not read", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, 0, false,
     false, CW_ERR_HTTP_TRANSFER_CODING, 0, NONE, false, NULL, NULL, 0},
    {"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0,
     false, false, CW_ERR_HTTP_TRANSFER_CODING, 0, NONE, false, NULL, NULL, 0},
    {"empty transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_TRANSFER_CODING, 0, NONE, false, NULL, NULL, 0},
    {"chunked in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 0, false, false,
     CW_ERR_HTTP_MALFORMED, 0, NONE, false, NULL, NULL, 0},
    {"chunked wins over Content-Length, no reuse", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
     "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 0, 0, false, false, CW_OK, 200, CHUNKED, false, "ok",
     NULL, 0},
    {"Content-Length after chunked, no reuse", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
     "Content-Length: 1\r\n\r\n2\r\nok\r\n0\r\n\r\n", 0, 0, false, false, CW_OK, 200, CHUNKED, false, "ok", NULL, 0},

    /* ---- close-delimited ---- */
    {"close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: t/p\r\n\r\nuntil the end", 0, 0, false, true, CW_OK, 200,
     CLOSE, false, "until the end", "t/p", 0},
    {"close-delimited, empty", "HTTP/1.1 200 OK\r\n\r\n", 0, 0, false, true, CW_OK, 200, CLOSE, false, "", NULL, 0},
    {"close-delimited over the buffer", "HTTP/1.1 200 OK\r\n\r\n12345", 0, 4, false, true, CW_ERR_HTTP_TOO_LARGE, 0,
     NONE, false, NULL, NULL, 0},

    /* ---- responses without a body ---- */
    {"204 ignores Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", 0, 0, false, false,
     CW_OK, 204, NONE, true, "", NULL, 5},
    {"304 ignores chunked", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0, false, false,
     CW_OK, 304, NONE, true, "", NULL, 0},
    {"204 without length", "HTTP/1.1 204 No Content\r\n\r\n", 0, 0, false, false, CW_OK, 204, NONE, true, "", NULL,
     0},
    {"HEAD has no body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0, 0, true, false, CW_OK, 200, NONE, true,
     "", NULL, 0},
    {"100 Continue is skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0,
     false, false, CW_OK, 200, LEN, true, "ok", NULL, 0},
    {"1xx headers do not count", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nContent-Type: x/early\r\n"
     "Content-Length: 99\r\nConnection: close\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0, false, false, CW_OK, 200, LEN, true, "ok", "", 0},
    {"body bytes with no buffer", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, SIZE_MAX, false, false,
     CW_ERR_HTTP_TOO_LARGE, 0, NONE, false, NULL, NULL, 0},
};

/* ---- feeding ---------------------------------------------------------------------------------- */

static uint8_t body[64 * 1024];
static uint32_t rng_state;

static uint32_t rng(void)
{
    /* xorshift32: the splits are reproducible from the case index */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

typedef enum split_t { WHOLE, BYTES, RANDOM } split_t;

/* Feeds in[0..len) in pieces; returns the bytes consumed in all. */
static size_t feed(cw_http_parser_ctx *p, const uint8_t *in, size_t len, split_t split)
{
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        if (split == BYTES) {
            n = 1;
        } else if (split == RANDOM) {
            size_t r = (size_t)(rng() % 40u) + 1u;
            if ((rng() & 7u) == 0) {
                r = (size_t)(rng() % 2000u) + 1u; /* now and then a whole segment */
            }
            n = r < n ? r : n;
        }
        size_t used = cw_http_parser_push(p, in + off, n);
        assert_true(used <= n);
        off += used;
        if (used < n) {
            /* stopped: the response is complete or broken; more input changes nothing */
            assert_true(cw_http_parser_done(p) || cw_http_parser_last_error(p) != CW_OK);
            assert_int_equal(cw_http_parser_push(p, in + off, len - off), 0);
            break;
        }
    }
    return off;
}

static void run_case(const http_case *c, split_t split)
{
    cw_http_parser_ctx p;
    size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
    size_t cap = c->cap == 0 ? 64 : (c->cap == SIZE_MAX ? 0 : c->cap);
    cw_err e;

    memset(body, 0xEE, sizeof body);
    cw_http_parser_init(&p, c->cap == SIZE_MAX ? NULL : body, cap, c->head);
    size_t used = feed(&p, (const uint8_t *)c->in, len, split);
    e = c->eof ? cw_http_parser_eof(&p) : cw_http_parser_last_error(&p);
    if (e != c->err) {
        fail_msg("case \"%s\" (split %d): %s, expected %s", c->name, (int)split, cw_err_name(e), cw_err_name(c->err));
    }
    assert_int_equal(cw_http_parser_last_error(&p), c->err); /* the error stays */
    if (c->err != CW_OK) {
        assert_false(cw_http_parser_done(&p));
        return;
    }
    if (!cw_http_parser_done(&p)) {
        fail_msg("case \"%s\" (split %d): not complete", c->name, (int)split);
    }
    const cw_http_response_t *r = &p.resp;
    assert_true(cw_http_parser_headers_done(&p));
    assert_int_equal(r->status, c->status);
    assert_int_equal(r->framing, c->framing);
    if (r->keep_alive != c->keep_alive) {
        fail_msg("case \"%s\": keep_alive %d", c->name, r->keep_alive);
    }
    assert_int_equal(r->body_len, strlen(c->body));
    assert_memory_equal(body, c->body, r->body_len);
    assert_int_equal(body[r->body_len], 0xEE); /* nothing written past the body */
    if (c->ctype != NULL) {
        assert_string_equal(r->content_type, c->ctype);
    }
    if (len - used != c->leftover) {
        fail_msg("case \"%s\" (split %d): %zu bytes left, expected %zu", c->name, (int)split, len - used,
                 c->leftover);
    }
    assert_int_equal(cw_http_parser_eof(&p), CW_OK); /* a close after the end is fine */
}

static void test_cases_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], WHOLE);
    }
    test_assert_arena_empty();
}

static void test_cases_byte_by_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], BYTES);
    }
    test_assert_arena_empty();
}

static void test_cases_in_random_pieces(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rng_state = 0x9E3779B9u ^ (uint32_t)(i * 7919u);
        for (int k = 0; k < 200; k++) {
            run_case(&cases[i], RANDOM);
        }
    }
    test_assert_arena_empty();
}

/* ---- bounds ------------------------------------------------------------------------------------ */

static size_t put(char *buf, size_t off, const char *s)
{
    memcpy(buf + off, s, strlen(s));
    return off + strlen(s);
}

/* A response whose one header line has a value making the line exactly line_len bytes. */
static size_t response_with_line(char *buf, size_t line_len)
{
    size_t o = put(buf, 0, "HTTP/1.1 200 OK\r\nX-Long: ");
    size_t fill = line_len - strlen("X-Long: ");
    memset(buf + o, 'v', fill);
    o += fill;
    return put(buf, o, "\r\nContent-Length: 2\r\n\r\nok");
}

static cw_err parse_all(const char *buf, size_t len, split_t split, cw_http_parser_ctx *p)
{
    cw_http_parser_init(p, body, sizeof body, false);
    (void)feed(p, (const uint8_t *)buf, len, split);
    return cw_http_parser_last_error(p);
}

/* A response with one line made exactly line_len bytes long: name, ": ", then fill bytes. */
static size_t response_with_field(char *buf, const char *name, char fill, size_t line_len)
{
    size_t o = put(buf, 0, "HTTP/1.1 200 OK\r\n");
    o = put(buf, o, name);
    o = put(buf, o, ": ");
    size_t n = line_len - strlen(name) - 2;
    memset(buf + o, fill, n);
    o += n;
    return put(buf, o, "\r\nContent-Length: 2\r\n\r\nok");
}

static void test_header_line_bound(void **state)
{
    static char buf[4096];
    static cw_http_parser_ctx p;
    static const split_t splits[] = {WHOLE, BYTES, RANDOM};
    (void)state;

    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        /* a field the client does not read may be longer than the line buffer: kept to its size,
         * the rest checked and dropped */
        size_t n = response_with_line(buf, CW_HTTP_LINE_MAX);
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_OK);
        n = response_with_line(buf, CW_HTTP_LINE_MAX + 1);
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_OK);
        assert_true(cw_http_parser_done(&p));
        assert_int_equal(p.resp.body_len, 2);
        n = response_with_field(buf, "Set-Cookie", 'c', 3000);
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_OK);
        assert_int_equal(p.resp.content_length, 2); /* the field after it was read */

        /* a field it reads must fit: a Connection list one byte over */
        n = response_with_field(buf, "Connection", ' ', CW_HTTP_LINE_MAX + 1);
        memcpy(buf + strlen("HTTP/1.1 200 OK\r\nConnection: "), "close", 5);
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_ERR_HTTP_HEADER_TOO_LONG);
        /* so must a name (its colon is beyond the buffer), and the status line */
        size_t o = put(buf, 0, "HTTP/1.1 200 OK\r\n");
        memset(buf + o, 'n', CW_HTTP_LINE_MAX + 8);
        n = put(buf, o + CW_HTTP_LINE_MAX + 8, ": v\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_ERR_HTTP_HEADER_TOO_LONG);
        o = put(buf, 0, "HTTP/1.1 200 ");
        memset(buf + o, 'r', CW_HTTP_LINE_MAX);
        n = put(buf, o + CW_HTTP_LINE_MAX, "\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_ERR_HTTP_HEADER_TOO_LONG);

        /* the dropped part is still checked: a control character in it, or a bad name before */
        n = response_with_field(buf, "Set-Cookie", 'c', CW_HTTP_LINE_MAX + 40);
        buf[strlen("HTTP/1.1 200 OK\r\n") + CW_HTTP_LINE_MAX + 20] = '\x01';
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_ERR_HTTP_MALFORMED);
        n = response_with_field(buf, "Set Cookie", 'c', CW_HTTP_LINE_MAX + 40);
        assert_int_equal(parse_all(buf, n, splits[k], &p), CW_ERR_HTTP_MALFORMED);
    }
    /* the CR of the line end does not count against the line */
    size_t n = response_with_line(buf, CW_HTTP_LINE_MAX);
    assert_int_equal(parse_all(buf, n, BYTES, &p), CW_OK);
    test_assert_arena_empty();
}

/* Trailer fields are never read: a long one is dropped like any unread field. */
static void test_long_trailer_is_dropped(void **state)
{
    static char buf[4096];
    static cw_http_parser_ctx p;
    (void)state;

    size_t o = put(buf, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trace: ");
    memset(buf + o, 't', 2 * CW_HTTP_LINE_MAX);
    size_t n = put(buf, o + 2 * CW_HTTP_LINE_MAX, "\r\n\r\n");
    assert_int_equal(parse_all(buf, n, RANDOM, &p), CW_OK);
    assert_true(cw_http_parser_done(&p));
    assert_int_equal(p.resp.body_len, 2);
    test_assert_arena_empty();
}

static void test_header_section_bound(void **state)
{
    static char buf[CW_HTTP_HEADER_MAX + 256];
    static cw_http_parser_ctx p;
    (void)state;

    /* many short fields, each line well under the line bound */
    size_t o = put(buf, 0, "HTTP/1.1 200 OK\r\n");
    while (o + 20 < CW_HTTP_HEADER_MAX - 32) {
        o = put(buf, o, "X-Field: 0123456\r\n");
    }
    size_t ok_len = put(buf, o, "Content-Length: 0\r\n\r\n");
    assert_true(ok_len <= CW_HTTP_HEADER_MAX);
    assert_int_equal(parse_all(buf, ok_len, RANDOM, &p), CW_OK);
    o = put(buf, o, "X-Field: 0123456\r\nX-Field: 0123456\r\n");
    size_t over = put(buf, o, "Content-Length: 0\r\n\r\n");
    assert_true(over > CW_HTTP_HEADER_MAX);
    assert_int_equal(parse_all(buf, over, RANDOM, &p), CW_ERR_HTTP_HEADER_TOO_LONG);

    /* 1xx responses count towards the same bound: a server cannot stream them forever */
    o = 0;
    while (o < CW_HTTP_HEADER_MAX + 64) {
        o = put(buf, o, "HTTP/1.1 102 Processing\r\n\r\n");
    }
    assert_int_equal(parse_all(buf, o, WHOLE, &p), CW_ERR_HTTP_HEADER_TOO_LONG);
    test_assert_arena_empty();
}

static void test_content_type_bound(void **state)
{
    static char buf[1024];
    static cw_http_parser_ctx p;
    (void)state;

    size_t o = put(buf, 0, "HTTP/1.1 200 OK\r\nContent-Type: ");
    memset(buf + o, 't', CW_HTTP_CTYPE_MAX);
    size_t n = put(buf, o + CW_HTTP_CTYPE_MAX, "\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(parse_all(buf, n, WHOLE, &p), CW_OK);
    assert_int_equal(strlen(p.resp.content_type), CW_HTTP_CTYPE_MAX);
    memset(buf + o, 't', CW_HTTP_CTYPE_MAX + 1);
    n = put(buf, o + CW_HTTP_CTYPE_MAX + 1, "\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(parse_all(buf, n, WHOLE, &p), CW_ERR_HTTP_HEADER_TOO_LONG);
    test_assert_arena_empty();
}

static void test_long_reason_is_kept_shortened(void **state)
{
    static char buf[512];
    static cw_http_parser_ctx p;
    (void)state;

    size_t o = put(buf, 0, "HTTP/1.1 200 ");
    memset(buf + o, 'r', 200);
    size_t n = put(buf, o + 200, "\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(parse_all(buf, n, BYTES, &p), CW_OK);
    assert_int_equal(strlen(p.resp.reason), CW_HTTP_REASON_MAX);
    test_assert_arena_empty();
}

static void test_large_body_across_pieces(void **state)
{
    static char buf[40000];
    static cw_http_parser_ctx p;
    (void)state;

    /* a 30000-byte chunked body in chunks of 1000..4000 bytes, split at random */
    size_t o = put(buf, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t total = 0;
    for (size_t i = 0; total < 30000; i++) {
        size_t n = 1000 + (i * 977) % 3000;
        if (total + n > 30000) {
            n = 30000 - total;
        }
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%zx\r\n", n);
        for (size_t k = 0; k < n; k++) {
            buf[o + k] = (char)('A' + (total + k) % 23);
        }
        o = put(buf, o + n, "\r\n");
        total += n;
    }
    o = put(buf, o, "0\r\n\r\n");
    rng_state = 12345;
    for (int k = 0; k < 50; k++) {
        assert_int_equal(parse_all(buf, o, RANDOM, &p), CW_OK);
        assert_true(cw_http_parser_done(&p));
        assert_int_equal(p.resp.body_len, 30000);
        for (size_t i = 0; i < 30000; i++) {
            if (body[i] != (uint8_t)('A' + i % 23)) {
                fail_msg("byte %zu", i);
            }
        }
    }
    test_assert_arena_empty();
}

static void test_headers_done_and_progress(void **state)
{
    static cw_http_parser_ctx p;
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: x/y\r\nContent-Length: 4\r\n\r\n";
    (void)state;

    cw_http_parser_init(&p, body, sizeof body, false);
    assert_false(cw_http_parser_headers_done(&p));
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)head, sizeof head - 2), sizeof head - 2);
    assert_false(cw_http_parser_headers_done(&p)); /* the empty line is not complete yet */
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)"\n12", 3), 3);
    assert_true(cw_http_parser_headers_done(&p));
    assert_false(cw_http_parser_done(&p));
    assert_int_equal(p.resp.status, 200);
    assert_string_equal(p.resp.content_type, "x/y");
    assert_int_equal(p.resp.content_length, 4);
    assert_int_equal(p.resp.body_len, 2);
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)"34", 2), 2);
    assert_true(cw_http_parser_done(&p));
    /* an error found in a later push stays until init */
    cw_http_parser_init(&p, body, sizeof body, false);
    /* a line is judged at its end: the bytes up to its LF count as consumed */
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)"XTTP/1.1 200 OK\r\n", 17), 17);
    assert_int_equal(cw_http_parser_last_error(&p), CW_ERR_HTTP_MALFORMED);
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)"\r\n", 2), 0);
    assert_int_equal(cw_http_parser_eof(&p), CW_ERR_HTTP_MALFORMED);
    test_assert_arena_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_whole),
        cmocka_unit_test(test_cases_byte_by_byte),
        cmocka_unit_test(test_cases_in_random_pieces),
        cmocka_unit_test(test_header_line_bound),
        cmocka_unit_test(test_long_trailer_is_dropped),
        cmocka_unit_test(test_header_section_bound),
        cmocka_unit_test(test_content_type_bound),
        cmocka_unit_test(test_long_reason_is_kept_shortened),
        cmocka_unit_test(test_large_body_across_pieces),
        cmocka_unit_test(test_headers_done_and_progress),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("http parser", tests, NULL, NULL);
}
