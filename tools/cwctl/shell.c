/*
 * shell.c: `cwctl --port <tty> shell`, an interactive pass-through to the device console.
 *
 * With a terminal on standard input, the terminal goes raw (the device does the echo and the line
 * editing, as in picocom) until Ctrl-] is typed. Without one (a script piping commands), standard
 * input is copied to its end, and the device's answers are shown for CWCTL_SHELL_TAIL_MS more;
 * a script whose input never ends is stopped at --max-time (exit 4, after Ctrl-C to the device).
 * With a terminal there is no limit: the person at it ends the session.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cwctl.h"
#include "serial.h"

#define CWCTL_SHELL_QUIT 0x1d      /* Ctrl-], as in telnet */
#define CWCTL_SHELL_CTRL_C 0x03    /* sent to the device when --max-time runs out */
#define CWCTL_SHELL_TAIL_MS 500

/* Writes the device's bytes to stdout without NULs (line noise, see reply.c). */
static int cwctl_shell_show(const unsigned char *buf, size_t len)
{
    size_t start = 0;
    size_t i;

    for (i = 0; i <= len; i++) {
        if (i == len || buf[i] == '\0') {
            if (i > start && cwctl_write_all(STDOUT_FILENO, buf + start, i - start) != 0) {
                return -1;
            }
            start = i + 1;
        }
    }
    return 0;
}

/* --max-time has run out on a shell without a terminal. */
static int cwctl_shell_give_up(const cwctl_opts_t *opts, int port_fd,
                               unsigned long long bytes_received)
{
    static const unsigned char ctrl_c = CWCTL_SHELL_CTRL_C;

    if (cwctl_write_all(port_fd, &ctrl_c, 1) != 0 || cwctl_drain(port_fd) != 0) {
        /* giving up already; the message below says why */
    }
    cwctl_warn("shell: standard input had not ended after %g s (--max-time); the device sent "
               "%llu bytes", opts->max_time_s, bytes_received);
    return CWCTL_EXIT_MAX_TIME;
}

/* The copy loop; the caller owns the terminal state. */
static int cwctl_shell_loop(const cwctl_opts_t *opts, int port_fd, int tty)
{
    long long tail_end = -1; /* set once standard input has ended */
    cwctl_deadline_ctx deadline;
    unsigned long long bytes_received = 0;

    cwctl_deadline_start(&deadline, opts->max_time_s);
    for (;;) {
        struct pollfd fds[2];
        nfds_t nfds = 1;
        unsigned char buf[512];
        int wait = -1;
        ssize_t n;

        if (cwctl_signal_pending()) {
            cwctl_warn("interrupted");
            return CWCTL_EXIT_USAGE;
        }
        if (tail_end >= 0) {
            long long left = tail_end - cwctl_now_ms();

            if (left <= 0) {
                return CWCTL_EXIT_OK;
            }
            wait = (int)left;
        }
        if (!tty && tail_end < 0) {
            /* every pass: a device that never stops sending never lets poll() time out (the
             * tail after the end of input is short and bounded by itself) */
            long long left = cwctl_deadline_left_ms(&deadline);

            if (left <= 0) {
                return cwctl_shell_give_up(opts, port_fd, bytes_received);
            }
            if (wait < 0 || left < wait) {
                wait = left > INT_MAX ? INT_MAX : (int)left;
            }
        }
        fds[0].fd = port_fd;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        if (tail_end < 0) {
            fds[1].fd = STDIN_FILENO;
            fds[1].events = POLLIN;
            fds[1].revents = 0;
            nfds = 2;
        }
        if (poll(fds, nfds, wait) < 0) {
            if (errno == EINTR) {
                continue;
            }
            cwctl_warn("poll: %s", strerror(errno));
            return CWCTL_EXIT_USAGE;
        }
        if (fds[0].revents != 0) {
            n = cwctl_read(port_fd, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno == EIO)) {
                /* a pty whose other end closed, or a USB adapter unplugged */
                cwctl_warn("%s: the device closed the line", opts->port);
                return CWCTL_EXIT_OK;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                cwctl_warn("%s: %s", opts->port, strerror(errno));
                return CWCTL_EXIT_USAGE;
            }
            if (n > 0) {
                bytes_received += (unsigned long long)n;
            }
            if (n > 0 && cwctl_shell_show(buf, (size_t)n) != 0) {
                cwctl_warn("standard output: %s", strerror(errno));
                return CWCTL_EXIT_USAGE;
            }
        }
        if (nfds == 2 && fds[1].revents != 0) {
            const unsigned char *quit;
            size_t len;

            n = cwctl_read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    continue;
                }
                cwctl_warn("standard input: %s", strerror(errno));
                return CWCTL_EXIT_USAGE;
            }
            if (n == 0) {
                if (tty) {
                    return CWCTL_EXIT_OK;
                }
                tail_end = cwctl_now_ms() + CWCTL_SHELL_TAIL_MS;
                continue;
            }
            len = (size_t)n;
            quit = tty ? memchr(buf, CWCTL_SHELL_QUIT, len) : NULL;
            if (quit != NULL) {
                len = (size_t)(quit - buf);
            }
            /* drain per chunk: a piped script must not outrun a slow UART */
            if (len > 0 &&
                (cwctl_write_all(port_fd, buf, len) != 0 || cwctl_drain(port_fd) != 0)) {
                cwctl_warn("%s: %s", opts->port, strerror(errno));
                return CWCTL_EXIT_USAGE;
            }
            if (quit != NULL) {
                return CWCTL_EXIT_OK;
            }
        }
    }
}

int cwctl_shell_run(const cwctl_opts_t *opts)
{
    cwctl_port_ctx port;
    struct termios saved;
    int tty = isatty(STDIN_FILENO);
    int rc;

    if (cwctl_port_open(&port, opts->port, cwctl_serial_speed(opts->speed)) != 0) {
        if (errno == EBUSY) {
            cwctl_warn("%s: in use by another program", opts->port);
        } else {
            cwctl_warn("%s: %s", opts->port, strerror(errno));
        }
        return CWCTL_EXIT_USAGE;
    }
    if (tty) {
        if (cwctl_term_raw(STDIN_FILENO, &saved) != 0) {
            cwctl_warn("standard input: %s", strerror(errno));
            cwctl_port_close(&port);
            return CWCTL_EXIT_USAGE;
        }
        /* raw mode: the terminal no longer turns LF into CR LF */
        cwctl_warn("connected to %s; Ctrl-] quits\r", opts->port);
    }
    rc = cwctl_shell_loop(opts, port.fd, tty);
    if (tty) {
        if (cwctl_term_restore(STDIN_FILENO, &saved) != 0) {
            cwctl_warn("standard input: cannot restore the terminal (try `stty sane`): %s",
                       strerror(errno));
            rc = CWCTL_EXIT_USAGE;
        }
        (void)cwctl_write_all(STDERR_FILENO, "\n", 1); /* leave the shell prompt on a new line */
    }
    cwctl_port_close(&port);
    return rc;
}
