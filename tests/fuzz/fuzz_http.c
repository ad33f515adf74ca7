/*
 * fuzz_http.c: the HTTP/1.1 response parser (cw_http.h) on arbitrary server bytes.
 *
 * Input: byte 0 picks the body buffer size (0..255 bytes, or 16 KiB), byte 1 seeds how the rest
 * is cut into pieces (as TCP segments and pbuf chains cut it), byte 2 bit 0 says whether the
 * server closes at the end; the rest is what the server sent.
 * Properties: no crash, no sanitizer report, never a byte written outside the body buffer or read
 * past a piece; push consumes at most what it is given and nothing after the end or an error;
 * and the outcome (error, completion, status, framing, body) is the same whether the bytes come
 * whole or in pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw/cw_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUARD 16u

static uint8_t whole_body[16384 + GUARD];
static uint8_t split_body[16384 + GUARD];

typedef struct outcome_t {
    cw_err err;
    bool done;
    size_t used;
} outcome_t;

static outcome_t run(cw_http_parser_ctx *p, uint8_t *body, size_t cap, const uint8_t *in, size_t len,
                     uint32_t seed, bool eof)
{
    outcome_t o;
    size_t off = 0;

    memset(body, 0x5A, cap + GUARD);
    cw_http_parser_init(p, body, cap, false);
    while (off < len) {
        size_t n = len - off;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            size_t piece = (size_t)((seed >> 16) % 97u) + 1u;
            n = piece < n ? piece : n;
        }
        size_t used = cw_http_parser_push(p, in + off, n);
        if (used > n) {
            abort();
        }
        off += used;
        if (used < n) {
            if (!cw_http_parser_done(p) && cw_http_parser_last_error(p) == CW_OK) {
                abort(); /* stopped early without a reason */
            }
            if (cw_http_parser_push(p, in + off, len - off) != 0) {
                abort(); /* took more after the end or an error */
            }
            break;
        }
    }
    for (size_t i = 0; i < GUARD; i++) {
        if (body[cap + i] != 0x5A) {
            abort(); /* wrote past the buffer */
        }
    }
    if (p->resp.body_len > cap) {
        abort();
    }
    o.used = off;
    o.err = eof ? cw_http_parser_eof(p) : cw_http_parser_last_error(p);
    o.done = cw_http_parser_done(p);
    if (o.done && o.err != CW_OK) {
        abort();
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cw_http_parser_ctx whole;
    static cw_http_parser_ctx split;

    if (size < 3) {
        return 0;
    }
    size_t cap = data[0] == 255 ? 16384u : data[0];
    uint32_t seed = (uint32_t)data[1] * 2654435761u + 1u;
    bool eof = (data[2] & 1u) != 0;
    const uint8_t *in = data + 3;
    size_t len = size - 3;

    outcome_t a = run(&whole, whole_body, cap, in, len, 0, eof);
    outcome_t b = run(&split, split_body, cap, in, len, seed, eof);

    /* The split must not change the outcome. (How many bytes an error consumed may differ: the
     * parser judges a line at its end, wherever the piece ends.) */
    if (a.err != b.err || a.done != b.done) {
        abort();
    }
    if (a.err == CW_OK) {
        if (a.used != b.used || whole.resp.status != split.resp.status ||
            whole.resp.framing != split.resp.framing || whole.resp.keep_alive != split.resp.keep_alive ||
            whole.resp.body_len != split.resp.body_len ||
            memcmp(whole_body, split_body, whole.resp.body_len) != 0 ||
            strcmp(whole.resp.content_type, split.resp.content_type) != 0 ||
            strcmp(whole.resp.reason, split.resp.reason) != 0) {
            abort();
        }
    }
    return 0;
}
