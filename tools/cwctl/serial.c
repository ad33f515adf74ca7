/*
 * serial.c: the serial port and local terminal plumbing of cwctl (see serial.h).
 */
#include "serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <unistd.h>

#include "cwctl.h"

speed_t cwctl_serial_speed(unsigned long bps)
{
    /* termios speaks in B constants, not numbers; list what POSIX has plus the common fast ones. */
    static const struct {
        unsigned long bps;
        speed_t code;
    } table[] = {
        {1200, B1200},     {2400, B2400},     {4800, B4800},     {9600, B9600},
        {19200, B19200},   {38400, B38400},
#ifdef B57600
        {57600, B57600},
#endif
#ifdef B115200
        {115200, B115200},
#endif
#ifdef B230400
        {230400, B230400},
#endif
#ifdef B460800
        {460800, B460800},
#endif
#ifdef B921600
        {921600, B921600},
#endif
#ifdef B1000000
        {1000000, B1000000},
#endif
#ifdef B2000000
        {2000000, B2000000},
#endif
#ifdef B3000000
        {3000000, B3000000},
#endif
    };
    size_t i;

    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].bps == bps) {
            return table[i].code;
        }
    }
    return B0;
}

int cwctl_port_open(cwctl_port_ctx *port, const char *path, speed_t speed)
{
    struct termios t;
    int fd;
    int flags;
    int saved_errno;

    port->fd = -1;
    port->saved_valid = 0;

    /* O_NONBLOCK so that open() does not wait for carrier on a modem line; cleared below once
     * CLOCAL is set. */
    for (;;) {
        fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 || errno != EINTR || cwctl_signal_pending()) {
            break;
        }
    }
    if (fd < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        saved_errno = (errno == EWOULDBLOCK) ? EBUSY : errno;
        goto fail;
    }
    if (tcgetattr(fd, &port->saved) != 0) {
        saved_errno = errno;
        goto fail;
    }
    port->saved_valid = 1;
    port->fd = fd;

    t = port->saved;
    cfmakeraw(&t);
    /* cfmakeraw() leaves stop bits, flow control and modem-line handling as they were. The
     * console has no flow control: a stale CRTSCTS would stall every write on a 3-wire cable. */
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= (tcflag_t)~CSTOPB;
#ifdef CRTSCTS
    t.c_cflag &= (tcflag_t)~CRTSCTS;
#endif
    t.c_iflag &= (tcflag_t)~(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0 ||
        tcsetattr(fd, TCSANOW, &t) != 0) {
        saved_errno = errno;
        cwctl_port_close(port);
        errno = saved_errno;
        return -1;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || tcflush(fd, TCIFLUSH) != 0) {
        saved_errno = errno;
        cwctl_port_close(port);
        errno = saved_errno;
        return -1;
    }
    return 0;

fail:
    (void)close(fd); /* already failing; the first error is the one to report */
    errno = saved_errno;
    return -1;
}

void cwctl_port_close(cwctl_port_ctx *port)
{
    if (port->fd < 0) {
        return;
    }
    if (port->saved_valid) {
        (void)tcsetattr(port->fd, TCSANOW, &port->saved);
    }
    (void)close(port->fd);
    port->fd = -1;
    port->saved_valid = 0;
}

int cwctl_write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR && !cwctl_signal_pending()) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* stdout may have been handed to us non-blocking */
                struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};

                if (poll(&pfd, 1, -1) < 0 && (errno != EINTR || cwctl_signal_pending())) {
                    return -1;
                }
                continue;
            }
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t cwctl_read(int fd, void *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);

        if (n >= 0 || errno != EINTR || cwctl_signal_pending()) {
            return n;
        }
    }
}

int cwctl_drain(int fd)
{
    for (;;) {
        if (tcdrain(fd) == 0) {
            return 0;
        }
        if (errno != EINTR || cwctl_signal_pending()) {
            return -1;
        }
    }
}

int cwctl_term_raw(int fd, struct termios *saved)
{
    struct termios t;

    if (tcgetattr(fd, saved) != 0) {
        return -1;
    }
    t = *saved;
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    return tcsetattr(fd, TCSANOW, &t);
}

int cwctl_term_restore(int fd, const struct termios *saved)
{
    for (;;) {
        if (tcsetattr(fd, TCSANOW, saved) == 0) {
            return 0;
        }
        /* keep trying through signals: a terminal left raw is worse than a late exit */
        if (errno != EINTR) {
            return -1;
        }
    }
}
