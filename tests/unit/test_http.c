/*
 * test_http.c: the HTTP/1.1 response parser (cw_http.h), table-driven.
 * Specification: RFC 9112 (message syntax, framing), RFC 9110 (status codes, fields), and the
 * choices in docs/network.md.
 *
 * Every case is fed whole, one byte at a time, and in 200 random splits (as TCP segments and pbuf
 * chains cut a response anywhere); the result must not depend on the split. The cases whose outcome
 * does not depend on the body buffer's size are fed into a body sink too, which must see exactly
 * the body; bodies larger than any buffer stream through a sink in every framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/net/cw_http.h"
#include "mbedtls/sha256.h"
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

/* ---- a body sink ---------------------------------------------------------------------------- */

/* What the test sink was handed. */
typedef struct sink_t {
    size_t len;        /* bytes in all */
    size_t calls;
    bool pattern;      /* check each byte against pattern_byte(offset) instead of keeping it */
    bool bad;          /* a byte was not the pattern's */
    size_t refuse_at;  /* refuse a call that would take the total past this; SIZE_MAX: never */
} sink_t;

static uint8_t kept[64 * 1024]; /* the bytes, unless sink_t.pattern */

/* The bodies larger than any buffer: no period that lines up with chunk or piece sizes. */
static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static void sink_start(sink_t *s, bool pattern)
{
    memset(s, 0, sizeof *s);
    s->pattern = pattern;
    s->refuse_at = SIZE_MAX;
}

static cw_err test_sink(const uint8_t *bytes, size_t len, void *arg)
{
    sink_t *s = (sink_t *)arg;

    if (len == 0) {
        fail_msg("the sink was handed 0 bytes");
    }
    if (len > s->refuse_at - s->len) {
        return CW_ERR_CANCELLED;
    }
    if (s->pattern) {
        for (size_t i = 0; i < len; i++) {
            s->bad = s->bad || bytes[i] != pattern_byte(s->len + i);
        }
    } else {
        assert_true(len <= sizeof kept - s->len);
        memcpy(kept + s->len, bytes, len);
    }
    s->len += len;
    s->calls++;
    return CW_OK;
}

static sink_t sink;

/* ---- the table ------------------------------------------------------------------------------ */

/* Runs one case; into the test sink when to_sink, else into `body`. */
static void run_case(const http_case *c, split_t split, bool to_sink)
{
    cw_http_parser_ctx p;
    size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
    size_t cap = c->cap == 0 ? 64 : (c->cap == SIZE_MAX ? 0 : c->cap);
    const uint8_t *got = to_sink ? kept : body;
    cw_err e;

    memset(body, 0xEE, sizeof body);
    if (to_sink) {
        sink_start(&sink, false);
        cw_http_parser_init_sink(&p, test_sink, &sink, c->head);
    } else {
        cw_http_parser_init(&p, c->cap == SIZE_MAX ? NULL : body, cap, c->head);
    }
    size_t used = feed(&p, (const uint8_t *)c->in, len, split);
    e = c->eof ? cw_http_parser_eof(&p) : cw_http_parser_last_error(&p);
    if (e != c->err) {
        fail_msg("case \"%s\" (split %d): %s, expected %s", c->name, (int)split, cw_err_name(e), cw_err_name(c->err));
    }
    assert_int_equal(cw_http_parser_last_error(&p), c->err); /* the error stays */
    if (to_sink) {
        assert_int_equal(body[0], 0xEE); /* no buffer is written */
        assert_int_equal(sink.len, p.resp.body_len); /* the sink saw what was counted, once */
    }
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
    assert_memory_equal(got, c->body, r->body_len);
    if (to_sink) {
        assert_true(r->body_len > 0 || sink.calls == 0);
    } else {
        assert_int_equal(body[r->body_len], 0xEE); /* nothing written past the body */
    }
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
        run_case(&cases[i], WHOLE, false);
    }
    test_assert_arena_empty();
}

static void test_cases_byte_by_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], BYTES, false);
    }
    test_assert_arena_empty();
}

static void test_cases_in_random_pieces(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rng_state = 0x9E3779B9u ^ (uint32_t)(i * 7919u);
        for (int k = 0; k < 200; k++) {
            run_case(&cases[i], RANDOM, false);
        }
    }
    test_assert_arena_empty();
}

/* Every case whose outcome does not depend on the size of the body buffer (all but those that end
 * in CW_ERR_HTTP_TOO_LARGE) ends the same way in a sink, and the sink sees exactly the body. */
static void test_cases_into_a_sink(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].err == CW_ERR_HTTP_TOO_LARGE) {
            continue; /* test_sink_bounds has the sink's own */
        }
        run_case(&cases[i], WHOLE, true);
        run_case(&cases[i], BYTES, true);
        rng_state = 0x7F4A7C15u ^ (uint32_t)(i * 7919u);
        for (int k = 0; k < 50; k++) {
            run_case(&cases[i], RANDOM, true);
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

/* ---- bodies through a sink ---------------------------------------------------------------------- */

#define BIG_BODY_MAX 1000000u
static char big[BIG_BODY_MAX + 64 * 1024]; /* a response: the body and its framing */

/* A 200 response whose body is n bytes, each fill or (fill < 0) pattern_byte(offset), framed as
 * framing: chunks of 1 byte to 300 000 (more than any buffer), some with an extension. Returns
 * its length. */
static size_t big_response(cw_http_framing_t framing, size_t n, int fill)
{
    static const size_t chunk_sizes[] = {1, 90000, 4096, 17, 65536, 1460, 300000};
    size_t o;
    size_t k = 0;

    assert_true(n <= BIG_BODY_MAX);
    if (framing == LEN) {
        o = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
    } else if (framing == CHUNKED) {
        o = put(big, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    } else {
        o = put(big, 0, "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
    }
    for (size_t i = 0; i < n;) {
        size_t take = n - i;
        if (framing == CHUNKED) {
            size_t c = chunk_sizes[k++ % (sizeof chunk_sizes / sizeof chunk_sizes[0])];
            take = c < take ? c : take;
            o += (size_t)snprintf(big + o, sizeof big - o, "%zx%s\r\n", take, k % 3 == 0 ? ";part=\"x\"" : "");
        }
        for (size_t j = 0; j < take; j++) {
            big[o + j] = (char)(fill < 0 ? pattern_byte(i + j) : (uint8_t)fill);
        }
        o += take;
        i += take;
        if (framing == CHUNKED) {
            o = put(big, o, "\r\n");
        }
    }
    if (framing == CHUNKED) {
        o = put(big, o, "0\r\n\r\n");
    }
    assert_true(o <= sizeof big);
    return o;
}

/* 200 KB and 1 MB bodies, framed by length, chunks and the close, go through a sink whole, in
 * random pieces and (200 KB) byte by byte; the bounded buffer still refuses them. */
static void test_sink_streams_bodies_larger_than_any_buffer(void **state)
{
    static cw_http_parser_ctx p;
    static const cw_http_framing_t framings[] = {LEN, CHUNKED, CLOSE};
    static const size_t sizes[] = {200000, BIG_BODY_MAX};
    static const split_t splits[] = {WHOLE, RANDOM, BYTES};
    (void)state;

    rng_state = 424242;
    for (size_t f = 0; f < sizeof framings / sizeof framings[0]; f++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t n = sizes[z];
            size_t len = big_response(framings[f], n, -1);
            for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
                if (splits[k] == BYTES && n > 200000) {
                    continue;
                }
                sink_start(&sink, true);
                cw_http_parser_init_sink(&p, test_sink, &sink, false);
                assert_int_equal(feed(&p, (const uint8_t *)big, len, splits[k]), len);
                cw_err e = framings[f] == CLOSE ? cw_http_parser_eof(&p) : cw_http_parser_last_error(&p);
                if (e != CW_OK || !cw_http_parser_done(&p)) {
                    fail_msg("framing %d, %zu bytes, split %d: %s", (int)framings[f], n, (int)splits[k],
                             cw_err_name(e));
                }
                assert_int_equal(p.resp.framing, framings[f]);
                assert_int_equal(p.resp.body_len, n);
                assert_int_equal(sink.len, n);
                assert_false(sink.bad); /* every byte, in order, once */
                if (framings[f] == LEN) {
                    assert_int_equal(p.resp.content_length, n);
                }
            }
            /* into a buffer, the same response is refused, as before */
            cw_http_parser_init(&p, body, sizeof body, false);
            (void)feed(&p, (const uint8_t *)big, len, RANDOM);
            cw_err e = framings[f] == CLOSE ? cw_http_parser_eof(&p) : cw_http_parser_last_error(&p);
            assert_int_equal(e, CW_ERR_HTTP_TOO_LARGE);
            if (framings[f] == LEN) {
                assert_int_equal(p.resp.body_len, 0); /* refused before a byte of it */
            }
        }
    }
    test_assert_arena_empty();
}

/* Feeds text whole into a fresh sink parser; returns the parser's error. */
static cw_err sink_parse(cw_http_parser_ctx *p, const char *text)
{
    sink_start(&sink, false);
    cw_http_parser_init_sink(p, test_sink, &sink, false);
    (void)cw_http_parser_push(p, (const uint8_t *)text, strlen(text));
    return cw_http_parser_last_error(p);
}

/* A sink takes lengths up to CW_HTTP_SINK_MAX, from Content-Length or chunk sizes; more is
 * CW_ERR_HTTP_TOO_LARGE before the sink sees a byte of it. */
static void test_sink_bounds(void **state)
{
    static cw_http_parser_ctx p;
    char in[256];
    (void)state;

    (void)snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\nabc", (size_t)CW_HTTP_SINK_MAX);
    assert_int_equal(sink_parse(&p, in), CW_OK);
    assert_true(cw_http_parser_headers_done(&p) && !cw_http_parser_done(&p));
    assert_true(p.resp.content_length == CW_HTTP_SINK_MAX && sink.len == 3 && p.resp.body_len == 3);
    (void)snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\nabc", (size_t)SIZE_MAX);
    assert_int_equal(sink_parse(&p, in), CW_ERR_HTTP_TOO_LARGE);
    assert_int_equal(sink.calls, 0);
    assert_int_equal(sink_parse(&p, "HTTP/1.1 200 OK\r\nContent-Length: 123456789012345678901234567890\r\n\r\nabc"),
                     CW_ERR_HTTP_TOO_LARGE);
    assert_int_equal(sink.calls, 0);

    (void)snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\nabc",
                   (size_t)CW_HTTP_SINK_MAX);
    assert_int_equal(sink_parse(&p, in), CW_OK);
    assert_true(!cw_http_parser_done(&p) && sink.len == 3);
    /* the running total counts: one byte, then a chunk of the most a sink can take */
    (void)snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n%zx\r\nabc",
                   (size_t)CW_HTTP_SINK_MAX);
    assert_int_equal(sink_parse(&p, in), CW_ERR_HTTP_TOO_LARGE);
    assert_int_equal(sink.len, 1);
    assert_int_equal(sink_parse(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n"),
                     CW_ERR_HTTP_TOO_LARGE);

    /* no sink function: a buffer of 0 bytes */
    cw_http_parser_init_sink(&p, NULL, NULL, false);
    (void)cw_http_parser_push(&p, (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 39);
    assert_int_equal(cw_http_parser_last_error(&p), CW_ERR_HTTP_TOO_LARGE);
    cw_http_parser_init_sink(&p, NULL, NULL, false);
    (void)cw_http_parser_push(&p, (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
    assert_true(cw_http_parser_done(&p));
    test_assert_arena_empty();
}

/* A sink that refuses ends the response with its error, which stays; it is not called again. */
static void test_sink_error_ends_the_response(void **state)
{
    static cw_http_parser_ctx p;
    static const char in[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n"
                             "2\r\n!!\r\n0\r\n\r\n";
    static const split_t splits[] = {WHOLE, BYTES, RANDOM};
    (void)state;

    rng_state = 99;
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        sink_start(&sink, false);
        sink.refuse_at = 8;
        cw_http_parser_init_sink(&p, test_sink, &sink, false);
        assert_true(feed(&p, (const uint8_t *)in, sizeof in - 1, splits[k]) < sizeof in - 1);
        assert_int_equal(cw_http_parser_last_error(&p), CW_ERR_CANCELLED);
        assert_false(cw_http_parser_done(&p));
        assert_true(sink.len >= 5 && sink.len <= 8 && sink.len == p.resp.body_len);
        assert_memory_equal(kept, "hello wo", sink.len);
        size_t calls = sink.calls;
        assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)"rld\r\n", 5), 0);
        assert_int_equal(cw_http_parser_eof(&p), CW_ERR_CANCELLED);
        assert_int_equal(sink.calls, calls);
    }
    test_assert_arena_empty();
}

/* Reset (a request sent again) keeps the body's destination and the HEAD flag, and clears the
 * rest, an error included. */
static void test_reset_keeps_the_destination(void **state)
{
    static cw_http_parser_ctx p;
    static const char one[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none";
    static const char two[] = "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\ntwo";
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    (void)state;

    sink_start(&sink, false);
    cw_http_parser_init_sink(&p, test_sink, &sink, false);
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)one, sizeof one - 1), sizeof one - 1);
    assert_true(cw_http_parser_done(&p));
    cw_http_parser_reset(&p);
    assert_false(cw_http_parser_done(&p) || cw_http_parser_headers_done(&p));
    assert_true(p.resp.status == 0 && p.resp.body_len == 0);
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)two, sizeof two - 1), sizeof two - 1);
    assert_true(cw_http_parser_done(&p) && p.resp.status == 201 && p.resp.body_len == 3);
    assert_int_equal(sink.len, 6);
    assert_memory_equal(kept, "onetwo", 6);

    memset(body, 0xEE, sizeof body);
    cw_http_parser_init(&p, body, 3, false);
    (void)cw_http_parser_push(&p, (const uint8_t *)one, sizeof one - 1);
    cw_http_parser_reset(&p);
    (void)cw_http_parser_push(&p, (const uint8_t *)two, sizeof two - 1);
    assert_true(cw_http_parser_done(&p) && p.resp.body_len == 3);
    assert_memory_equal(body, "two", 3);
    assert_int_equal(body[3], 0xEE);

    cw_http_parser_init(&p, body, 3, true);
    (void)cw_http_parser_push(&p, (const uint8_t *)"XTTP/1.1 200 OK\r\n", 17);
    assert_int_equal(cw_http_parser_last_error(&p), CW_ERR_HTTP_MALFORMED);
    cw_http_parser_reset(&p);
    assert_int_equal(cw_http_parser_last_error(&p), CW_OK);
    assert_int_equal(cw_http_parser_push(&p, (const uint8_t *)head, sizeof head - 1), sizeof head - 1);
    assert_true(cw_http_parser_done(&p) && p.resp.framing == NONE); /* still a HEAD response */
    test_assert_arena_empty();
}

static cw_err sha256_sink(const uint8_t *bytes, size_t len, void *arg)
{
    return mbedtls_sha256_update((mbedtls_sha256_context *)arg, bytes, len) == 0 ? CW_OK : CW_ERR_INTERNAL;
}

/* What `http get` does with a body: one million 'a' (FIPS 180-2 appendix B.3), chunked and cut
 * at random, hashed as it streams past, gives the known SHA-256. */
static void test_sink_hashes_a_streamed_body(void **state)
{
    static cw_http_parser_ctx p;
    static const uint8_t expected[32] = {
        0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
        0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    mbedtls_sha256_context sha;
    uint8_t digest[32];
    (void)state;

    size_t len = big_response(CHUNKED, 1000000, 'a');
    mbedtls_sha256_init(&sha);
    assert_int_equal(mbedtls_sha256_starts(&sha, 0), 0);
    cw_http_parser_init_sink(&p, sha256_sink, &sha, false);
    rng_state = 180;
    assert_int_equal(feed(&p, (const uint8_t *)big, len, RANDOM), len);
    assert_true(cw_http_parser_done(&p) && p.resp.body_len == 1000000);
    assert_int_equal(mbedtls_sha256_finish(&sha, digest), 0);
    mbedtls_sha256_free(&sha);
    assert_memory_equal(digest, expected, sizeof expected);
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
        cmocka_unit_test(test_cases_into_a_sink),
        cmocka_unit_test(test_sink_streams_bodies_larger_than_any_buffer),
        cmocka_unit_test(test_sink_bounds),
        cmocka_unit_test(test_sink_error_ends_the_response),
        cmocka_unit_test(test_reset_keeps_the_destination),
        cmocka_unit_test(test_sink_hashes_a_streamed_body),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("http parser", tests, NULL, NULL);
}
