/*
 * host_uart.c: the console's UART as stdio or as a pseudo-terminal.
 *
 * With a pty the board keeps the slave side open itself, so that reading the master never fails
 * while no serial tool is attached; bytes written while nobody reads pile up in the pty until it
 * is full, and are then dropped, as on a UART with no cable (a tool attaching flushes them).
 */
#include "hal_uart.h"
#include "host_board.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int fd_in = -1;
static int fd_out = -1;
static int fd_slave = -1;
static bool at_eof;
static bool stalled;        /* the last write found the pty full: drop until it drains */
static bool restore_tty;
static struct termios saved_tty;
static char link_path[256];

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) ? -1 : 0;
}

static int open_pty(const char *link)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    const char *name;
    struct termios t;

    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || (name = ptsname(m)) == NULL) {
        fprintf(stderr, "certwiz: cannot create a pty: %s\n", strerror(errno));
        return -1;
    }
    fd_slave = open(name, O_RDWR | O_NOCTTY);
    if (fd_slave < 0 || tcgetattr(fd_slave, &t) < 0) {
        fprintf(stderr, "certwiz: cannot open %s: %s\n", name, strerror(errno));
        return -1;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    tcsetattr(fd_slave, TCSANOW, &t);
    if (set_nonblock(m) < 0) {
        return -1;
    }
    fd_in = fd_out = m;
    if (link != NULL) {
        if (strlen(link) >= sizeof link_path) {
            fprintf(stderr, "certwiz: --pty-link path too long\n");
            return -1;
        }
        unlink(link);
        if (symlink(name, link) < 0) {
            fprintf(stderr, "certwiz: cannot link %s to %s: %s\n", link, name, strerror(errno));
            return -1;
        }
        strcpy(link_path, link);
    }
    printf("certwiz: console on %s\n", name);
    fflush(stdout);
    return 0;
}

static int open_stdio(void)
{
    fd_in = STDIN_FILENO;
    fd_out = STDOUT_FILENO;
    if (isatty(fd_in) && tcgetattr(fd_in, &saved_tty) == 0) {
        /* Character at a time, no local echo (the console echoes), CR stays CR; ISIG stays on so
         * that Ctrl-C stops the process, as the operator expects of a program in a terminal. */
        struct termios t = saved_tty;
        t.c_lflag &= (tcflag_t) ~(ICANON | ECHO | ECHONL | IEXTEN);
        t.c_iflag &= (tcflag_t) ~(ICRNL | INLCR | IXON);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (tcsetattr(fd_in, TCSANOW, &t) == 0) {
            restore_tty = true;
        }
    }
    return set_nonblock(fd_in);
}

int host_uart_open(host_uart_mode_t mode, const char *link)
{
    return mode == HOST_UART_PTY ? open_pty(link) : open_stdio();
}

int host_uart_poll_fd(void)
{
    return fd_in;
}

bool host_uart_eof(void)
{
    return at_eof;
}

void host_uart_close(void)
{
    if (restore_tty) {
        tcsetattr(fd_in, TCSANOW, &saved_tty);
        restore_tty = false;
    }
    if (link_path[0] != '\0') {
        unlink(link_path);
        link_path[0] = '\0';
    }
    if (fd_slave >= 0) {
        close(fd_slave);
        close(fd_in);
        fd_slave = fd_in = fd_out = -1;
    }
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    ssize_t n;

    if (fd_in < 0 || at_eof) {
        return 0;
    }
    do {
        n = read(fd_in, buf, cap);
    } while (n < 0 && errno == EINTR);
    if (n == 0 && fd_slave < 0) {
        at_eof = true; /* stdin closed */
    }
    return n > 0 ? (size_t)n : 0;
}

void hal_uart_write(const uint8_t *buf, size_t len)
{
    while (len > 0 && fd_out >= 0) {
        ssize_t n = write(fd_out, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            stalled = false;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && !stalled) {
            /* Give a slow reader 100 ms before deciding nobody listens. */
            struct pollfd p = {.fd = fd_out, .events = POLLOUT};
            if (poll(&p, 1, 100) > 0) {
                continue;
            }
        }
        stalled = true;
        return; /* nobody reads: the bytes are lost, as on an unconnected UART */
    }
}
