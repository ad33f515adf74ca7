/*
 * input.h: what cwctl sends when the device prompts for it.
 *
 * Secrets (a PIN, a challenge password) come from the first line of a file or from the terminal
 * with echo off; they are read with read(2) into the caller's buffer only, never through stdio,
 * so that cwctl_wipe() on that buffer leaves no copy in cwctl's memory. Text (a PEM paste) comes
 * line by line from a file or standard input through a cwctl_linein_ctx.
 */
#ifndef CWCTL_INPUT_H
#define CWCTL_INPUT_H

#include <stddef.h>

#include "reply.h"

/* Longest secret accepted. The device's own line limit is lower (255 on the host board); this
 * only bounds cwctl's buffer. */
#define CWCTL_SECRET_MAX 256

/* Reads the first line of the file at path into buf (at most cap bytes, line end removed, not
 * NUL-terminated) and stores its length in *len. Fails with EMSGSIZE when the line is longer
 * than cap. buf may hold more of the file afterwards: wipe all of it. */
int cwctl_secret_from_file(const char *path, char *buf, size_t cap, size_t *len);

/* Writes prompt (prompt_len bytes) to stderr and reads one line from /dev/tty with echo off into
 * buf, as cwctl_secret_from_file() does. The terminal's settings are restored before returning,
 * also when a signal interrupts the read (then errno is EINTR). */
int cwctl_secret_from_tty(const char *prompt, size_t prompt_len, char *buf, size_t cap,
                          size_t *len);

/* A source of text lines: a file, a pipe or a terminal. */
typedef struct cwctl_linein_ctx {
    int fd;
    int eof;                        /* read() returned 0; a terminal may give more later */
    char buf[CWCTL_LINE_MAX + 2];   /* + the CR LF that ends a line of CWCTL_LINE_MAX bytes */
    size_t len;
} cwctl_linein_ctx;

typedef enum cwctl_linein_result {
    CWCTL_LINEIN_LINE = 0, /* a line was stored */
    CWCTL_LINEIN_EOF,      /* the source has ended and every line was given out */
    CWCTL_LINEIN_AGAIN,    /* no complete line buffered; call cwctl_linein_fill() when readable */
    CWCTL_LINEIN_ERROR     /* errno says why; EMSGSIZE for a line longer than CWCTL_LINE_MAX */
} cwctl_linein_result;

/* Starts reading lines from fd (not owned: the caller closes it). */
void cwctl_linein_init(cwctl_linein_ctx *ctx, int fd);

/* Reads once from the source into the buffer. Returns 0 or -1 with errno. */
int cwctl_linein_fill(cwctl_linein_ctx *ctx);

/* Is a complete line (or the end of the source) waiting, so cwctl_linein_next() will not wait? */
int cwctl_linein_ready(const cwctl_linein_ctx *ctx);

/* Gives the next line, without its LF or CR LF (and a last line without a line end as a line),
 * into line (cap >= CWCTL_LINE_MAX bytes, not NUL-terminated), its length in *len. With block set
 * it reads the source as needed; otherwise it returns CWCTL_LINEIN_AGAIN instead of reading. A
 * terminal's end (Ctrl-D) is given out once, then the terminal may be read again. */
cwctl_linein_result cwctl_linein_next(cwctl_linein_ctx *ctx, int block, char *line, size_t cap,
                                      size_t *len);

#endif /* CWCTL_INPUT_H */
