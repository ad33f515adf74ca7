/*
 * reply.h: splits the byte stream of a certwiz console into lines.
 *
 * docs/console.md: the device ends lines with CR LF, ends every command with exactly one final
 * line "OK" or "ERR <NAME>: <sentence>", and prompts for input with a partial line ending ": ".
 * This splitter drops NUL and CR bytes, ends a line at LF, and hands out lines longer than
 * CWCTL_LINE_MAX in pieces. It never allocates; the caller owns the context.
 *
 * Use: cwctl_reply_init(); then for each chunk received, call cwctl_reply_push() until it has
 * consumed the chunk, acting on each event it reports. The reported text stays in ctx->line
 * (NUL-terminated, ctx->len bytes) until the next push.
 */
#ifndef CWCTL_REPLY_H
#define CWCTL_REPLY_H

#include <stddef.h>

/* Longest line handed out whole; longer lines come as pieces. 16 times the host board's console
 * line (255), so every line a well-behaved device sends fits. */
#define CWCTL_LINE_MAX 4096

typedef enum cwctl_reply_event {
    CWCTL_REPLY_NONE = 0, /* the bytes were taken; ctx->line holds the partial line so far */
    CWCTL_REPLY_LINE,     /* ctx->line is a complete line (its last piece if ctx->continued) */
    CWCTL_REPLY_PIECE     /* ctx->line is CWCTL_LINE_MAX bytes of a longer line; more follows */
} cwctl_reply_event;

typedef enum cwctl_final {
    CWCTL_FINAL_NONE = 0,
    CWCTL_FINAL_OK,
    CWCTL_FINAL_ERR
} cwctl_final;

typedef struct cwctl_reply_ctx {
    char line[CWCTL_LINE_MAX + 1]; /* + NUL, so the line can be searched as a string */
    size_t len;
    int continued;                 /* earlier pieces of the current line were reported */
    cwctl_reply_event reported;    /* the last event, cleared by the next push */
} cwctl_reply_ctx;

/* Starts with an empty line. */
void cwctl_reply_init(cwctl_reply_ctx *ctx);

/* Takes bytes from buf until it has an event to report or buf is used up. Returns the number of
 * bytes taken and stores the event in *ev. Call again with the rest of buf after acting on it. */
size_t cwctl_reply_push(cwctl_reply_ctx *ctx, const unsigned char *buf, size_t len,
                        cwctl_reply_event *ev);

/* Drops the partial line (a prompt that has been answered). */
void cwctl_reply_clear(cwctl_reply_ctx *ctx);

/* Does the partial line look like an input prompt: text ending in ": " and no line end yet? The
 * caller decides by also waiting for the device to go quiet. */
int cwctl_reply_is_prompt(const cwctl_reply_ctx *ctx);

/* Is the line just reported with CWCTL_REPLY_LINE the final line of a command? */
cwctl_final cwctl_reply_final(const cwctl_reply_ctx *ctx);

#endif /* CWCTL_REPLY_H */
