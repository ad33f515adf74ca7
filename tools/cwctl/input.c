/*
 * input.c: secrets and text lines cwctl sends when the device prompts (see input.h).
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cwctl.h"
#include "serial.h"

/* open() that retries after EINTR unless a terminating signal is pending. */
static int cwctl_open(const char *path, int flags)
{
    for (;;) {
        int fd = open(path, flags | O_CLOEXEC);

        if (fd >= 0 || errno != EINTR || cwctl_signal_pending()) {
            return fd;
        }
    }
}

/* Closes fd while keeping the errno of an earlier failure (rc != 0). A read-only fd cannot lose
 * data on close, so only a close failure after success is worth reporting. */
static int cwctl_close_keep(int fd, int rc)
{
    int saved_errno = errno;

    if (close(fd) != 0 && rc == 0) {
        return -1;
    }
    errno = saved_errno;
    return rc;
}

int cwctl_secret_from_file(const char *path, char *buf, size_t cap, size_t *len)
{
    size_t have = 0;
    int fd = cwctl_open(path, O_RDONLY | O_NOCTTY);
    int rc = 0;

    if (fd < 0) {
        return -1;
    }
    for (;;) {
        const char *nl = memchr(buf, '\n', have);
        ssize_t n;

        if (nl != NULL) {
            have = (size_t)(nl - buf);
            break;
        }
        if (have == cap) {
            /* full: the line fits only if a line end or the end of the file comes next */
            char c = '\0';

            n = cwctl_read(fd, &c, 1);
            if (n < 0) {
                rc = -1;
            } else if (n == 1 && c != '\n' && c != '\r') {
                errno = EMSGSIZE;
                rc = -1;
            }
            cwctl_wipe(&c, sizeof c);
            break;
        }
        n = cwctl_read(fd, buf + have, cap - have);
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0) {
            break;
        }
        have += (size_t)n;
    }
    if (have > 0 && buf[have - 1] == '\r') {
        have--;
    }
    *len = have;
    return cwctl_close_keep(fd, rc);
}

int cwctl_secret_from_tty(const char *prompt, size_t prompt_len, char *buf, size_t cap,
                          size_t *len)
{
    struct termios saved;
    struct termios t;
    size_t have = 0;
    int too_long = 0;
    int rc = 0;
    int fd = cwctl_open("/dev/tty", O_RDWR | O_NOCTTY);

    if (fd < 0) {
        return -1;
    }
    if (tcgetattr(fd, &saved) != 0) {
        return cwctl_close_keep(fd, -1);
    }
    t = saved;
    /* canonical, so the operator can correct typos; no echo, but ECHONL so Enter still moves on */
    t.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK);
    t.c_lflag |= ICANON | ECHONL;
    if (cwctl_write_all(STDERR_FILENO, prompt, prompt_len) != 0 ||
        tcsetattr(fd, TCSAFLUSH, &t) != 0) {
        return cwctl_close_keep(fd, -1);
    }
    for (;;) {
        char c = '\0';
        ssize_t n = cwctl_read(fd, &c, 1);

        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0) {
            /* Ctrl-D: the operator gives up */
            errno = ECANCELED;
            rc = -1;
            break;
        }
        if (c == '\n') {
            break;
        }
        if (have < cap) {
            buf[have++] = c;
        } else {
            too_long = 1;
        }
        c = '\0';
        cwctl_wipe(&c, sizeof c);
    }
    if (have > 0 && buf[have - 1] == '\r') {
        have--;
    }
    if (rc == 0 && too_long) {
        errno = EMSGSIZE;
        rc = -1;
    }
    *len = have;
    if (cwctl_term_restore(fd, &saved) != 0 && rc == 0) {
        rc = -1;
    }
    if (rc != 0 && errno == EINTR) {
        /* ECHONL did not get its chance; keep the next message off the prompt's line */
        int saved_errno = errno;

        (void)cwctl_write_all(STDERR_FILENO, "\n", 1);
        errno = saved_errno;
    }
    return cwctl_close_keep(fd, rc);
}

void cwctl_linein_init(cwctl_linein_ctx *ctx, int fd)
{
    ctx->fd = fd;
    ctx->eof = 0;
    ctx->len = 0;
}

int cwctl_linein_fill(cwctl_linein_ctx *ctx)
{
    ssize_t n;

    if (ctx->len == sizeof ctx->buf) {
        return 0; /* full without a line end: cwctl_linein_next() reports it */
    }
    n = cwctl_read(ctx->fd, ctx->buf + ctx->len, sizeof ctx->buf - ctx->len);
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
    if (n == 0) {
        ctx->eof = 1;
    } else {
        ctx->len += (size_t)n;
    }
    return 0;
}

int cwctl_linein_ready(const cwctl_linein_ctx *ctx)
{
    return ctx->eof || ctx->len == sizeof ctx->buf || memchr(ctx->buf, '\n', ctx->len) != NULL;
}

/* Moves the first n bytes of the buffer out as a line, dropping a CR before the line end, and
 * removes them plus skip more bytes (the LF) from the buffer. */
static cwctl_linein_result cwctl_linein_take(cwctl_linein_ctx *ctx, size_t n, size_t skip,
                                             char *line, size_t cap, size_t *len)
{
    size_t keep = n;

    if (keep > 0 && ctx->buf[keep - 1] == '\r') {
        keep--;
    }
    if (keep > cap) {
        errno = EMSGSIZE;
        return CWCTL_LINEIN_ERROR;
    }
    memcpy(line, ctx->buf, keep);
    *len = keep;
    ctx->len -= n + skip;
    memmove(ctx->buf, ctx->buf + n + skip, ctx->len);
    return CWCTL_LINEIN_LINE;
}

/* Waits until the source is readable: standard input may have been handed over non-blocking. */
static int cwctl_linein_wait(const cwctl_linein_ctx *ctx)
{
    struct pollfd pfd = {.fd = ctx->fd, .events = POLLIN, .revents = 0};

    while (poll(&pfd, 1, -1) < 0) {
        if (errno != EINTR || cwctl_signal_pending()) {
            return -1;
        }
    }
    return 0;
}

cwctl_linein_result cwctl_linein_next(cwctl_linein_ctx *ctx, int block, char *line, size_t cap,
                                      size_t *len)
{
    for (;;) {
        const char *nl = memchr(ctx->buf, '\n', ctx->len);

        if (nl != NULL) {
            return cwctl_linein_take(ctx, (size_t)(nl - ctx->buf), 1, line, cap, len);
        }
        if (ctx->len == sizeof ctx->buf) {
            errno = EMSGSIZE;
            return CWCTL_LINEIN_ERROR;
        }
        if (ctx->eof) {
            if (ctx->len > 0) {
                return cwctl_linein_take(ctx, ctx->len, 0, line, cap, len);
            }
            ctx->eof = 0; /* a terminal can be read again after Ctrl-D; a file ends again */
            return CWCTL_LINEIN_EOF;
        }
        if (!block) {
            return CWCTL_LINEIN_AGAIN;
        }
        if (cwctl_linein_wait(ctx) != 0 || cwctl_linein_fill(ctx) != 0) {
            return CWCTL_LINEIN_ERROR;
        }
    }
}
