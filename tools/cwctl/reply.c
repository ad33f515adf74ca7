/*
 * reply.c: splits the byte stream of a certwiz console into lines (see reply.h).
 */
#include "reply.h"

#include <string.h>

void cwctl_reply_init(cwctl_reply_ctx *ctx)
{
    ctx->line[0] = '\0';
    ctx->len = 0;
    ctx->continued = 0;
    ctx->reported = CWCTL_REPLY_NONE;
}

/* Forgets the line the last event reported, so the next bytes start a new one. */
static void cwctl_reply_take(cwctl_reply_ctx *ctx)
{
    if (ctx->reported == CWCTL_REPLY_NONE) {
        return;
    }
    ctx->continued = (ctx->reported == CWCTL_REPLY_PIECE);
    ctx->reported = CWCTL_REPLY_NONE;
    ctx->len = 0;
    ctx->line[0] = '\0';
}

size_t cwctl_reply_push(cwctl_reply_ctx *ctx, const unsigned char *buf, size_t len,
                        cwctl_reply_event *ev)
{
    size_t i;

    cwctl_reply_take(ctx);
    *ev = CWCTL_REPLY_NONE;
    for (i = 0; i < len; i++) {
        unsigned char c = buf[i];

        /* The wire ends lines with CR LF; LF alone is enough to end one, and a CR anywhere else
         * carries nothing for a line-oriented reader. NUL is line noise (a UART at power-up). */
        if (c == '\0' || c == '\r') {
            continue;
        }
        if (c == '\n') {
            *ev = ctx->reported = CWCTL_REPLY_LINE;
            return i + 1;
        }
        if (ctx->len == CWCTL_LINE_MAX) {
            /* full, and the line goes on: hand out what we have, keep c for the next piece */
            *ev = ctx->reported = CWCTL_REPLY_PIECE;
            return i;
        }
        ctx->line[ctx->len++] = (char)c;
        ctx->line[ctx->len] = '\0';
    }
    return len;
}

void cwctl_reply_clear(cwctl_reply_ctx *ctx)
{
    ctx->len = 0;
    ctx->line[0] = '\0';
    ctx->continued = 0;
    ctx->reported = CWCTL_REPLY_NONE;
}

int cwctl_reply_is_prompt(const cwctl_reply_ctx *ctx)
{
    return ctx->reported == CWCTL_REPLY_NONE && !ctx->continued && ctx->len >= 2 &&
           ctx->line[ctx->len - 2] == ':' && ctx->line[ctx->len - 1] == ' ';
}

cwctl_final cwctl_reply_final(const cwctl_reply_ctx *ctx)
{
    /* A piece of a long line is never final: the final line is short by definition. */
    if (ctx->reported != CWCTL_REPLY_LINE || ctx->continued) {
        return CWCTL_FINAL_NONE;
    }
    if (strcmp(ctx->line, "OK") == 0) {
        return CWCTL_FINAL_OK;
    }
    if (strncmp(ctx->line, "ERR ", 4) == 0) {
        return CWCTL_FINAL_ERR;
    }
    return CWCTL_FINAL_NONE;
}
