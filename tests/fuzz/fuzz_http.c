/*
 * fuzz_http.c: the HTTP/1.1 response parser (cw_http.h) on arbitrary server bytes.
 *
 * Input: byte 0 picks the body buffer size (0..254 bytes, or 16 KiB at 255), byte 1 seeds how the
 * rest is cut into pieces (as TCP segments and pbuf chains cut it), byte 2 bit 0 says whether the
 * server closes at the end, bit 1 sends the body to a sink instead of the buffer, bit 2 makes that
 * sink refuse a call that would take it past byte 0's count; the rest is what the server sent.
 * Properties: no crash, no sanitizer report, never a byte written outside the body buffer or read
 * past a piece; push consumes at most what it is given and nothing after the end or an error;
 * the outcome (error, completion, status, framing, body) is the same whether the bytes come
 * whole or in pieces. A sink is never handed 0 bytes and gets exactly body_len bytes; unless it
 * refuses, it ends as a buffer big enough for any body would (the bytes too), and where even that
 * buffer is too small (a declared length past the input) it never completes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw/net/cw_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUARD 16u

static uint8_t whole_body[16384 + GUARD];
static uint8_t split_body[16384 + GUARD];
#define REF_MAX (1u << 20)
static uint8_t ref_body[REF_MAX + GUARD]; /* the reference: room for the body of any input up to this size */

/* What a sink was handed: how many bytes, and their FNV-1a hash. */
typedef struct sink_t {
    size_t len;
    uint64_t hash;
    size_t refuse_at; /* SIZE_MAX: never */
} sink_t;

static uint64_t fnv1a(uint64_t h, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3u;
    }
    return h;
}

static cw_err fuzz_sink(const uint8_t *bytes, size_t len, void *arg)
{
    sink_t *s = (sink_t *)arg;
    if (len == 0) {
        abort();
    }
    if (len > s->refuse_at - s->len) {
        return CW_ERR_CANCELLED;
    }
    s->hash = fnv1a(s->hash, bytes, len);
    s->len += len;
    return CW_OK;
}

typedef struct outcome_t {
    cw_err err;
    bool done;
    size_t used;
} outcome_t;

/* Feeds in[0..len) into body[0..cap), or into sink when it is not NULL (body untouched). */
static outcome_t run(cw_http_parser_ctx *p, uint8_t *body, size_t cap, sink_t *sink, const uint8_t *in,
                     size_t len, uint32_t seed, bool eof)
{
    outcome_t o;
    size_t off = 0;

    memset(body, 0x5A, cap + GUARD);
    if (sink != NULL) {
        sink->len = 0;
        sink->hash = 0xcbf29ce484222325u;
        cw_http_parser_init_sink(p, fuzz_sink, sink, false);
    } else {
        cw_http_parser_init(p, body, cap, false);
    }
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
    for (size_t i = sink != NULL ? 0 : cap; i < cap + GUARD; i++) {
        if (body[i] != 0x5A) {
            abort(); /* wrote past the buffer, or into it with a sink */
        }
    }
    if (sink != NULL ? sink->len != p->resp.body_len : p->resp.body_len > cap) {
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
    static cw_http_parser_ctx ref;

    if (size < 3) {
        return 0;
    }
    size_t cap = data[0] == 255 ? 16384u : data[0];
    uint32_t seed = (uint32_t)data[1] * 2654435761u + 1u;
    bool eof = (data[2] & 1u) != 0;
    bool to_sink = (data[2] & 2u) != 0;
    const uint8_t *in = data + 3;
    size_t len = size - 3;
    sink_t whole_sink = {0, 0, (data[2] & 4u) != 0 ? data[0] : SIZE_MAX};
    sink_t split_sink = whole_sink;

    outcome_t a = run(&whole, whole_body, cap, to_sink ? &whole_sink : NULL, in, len, 0, eof);
    outcome_t b = run(&split, split_body, cap, to_sink ? &split_sink : NULL, in, len, seed, eof);

    /* The split must not change the outcome. (How many bytes an error consumed may differ: the
     * parser judges a line at its end, wherever the piece ends.) */
    if (a.err != b.err || a.done != b.done) {
        abort();
    }
    if (a.err == CW_OK) {
        if (a.used != b.used || whole.resp.status != split.resp.status ||
            whole.resp.framing != split.resp.framing || whole.resp.keep_alive != split.resp.keep_alive ||
            whole.resp.body_len != split.resp.body_len ||
            (!to_sink && memcmp(whole_body, split_body, whole.resp.body_len) != 0) ||
            strcmp(whole.resp.content_type, split.resp.content_type) != 0 ||
            strcmp(whole.resp.reason, split.resp.reason) != 0) {
            abort();
        }
        if (to_sink && (whole_sink.len != split_sink.len || whole_sink.hash != split_sink.hash)) {
            abort();
        }
    }
    if (to_sink && whole_sink.refuse_at == SIZE_MAX && len <= REF_MAX) {
        /* against a buffer that holds any body this input can carry */
        outcome_t r = run(&ref, ref_body, len, NULL, in, len, 0, eof);
        if (r.err == CW_ERR_HTTP_TOO_LARGE) {
            if (a.done) {
                abort(); /* a declared length past the input cannot have been read */
            }
        } else if (r.err != a.err || r.done != a.done ||
                   (r.err == CW_OK && (r.used != a.used || ref.resp.body_len != whole_sink.len ||
                                       fnv1a(0xcbf29ce484222325u, ref_body, ref.resp.body_len) != whole_sink.hash))) {
            abort();
        }
    }
    return 0;
}
