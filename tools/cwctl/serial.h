/*
 * serial.h: the serial port and local terminal plumbing of cwctl.
 *
 * Thin wrappers over POSIX termios and file descriptors. The caller owns every context. Functions
 * returning int give 0 on success and -1 with errno set; they retry after EINTR unless a
 * terminating signal is pending (then they fail with EINTR so the caller can clean up).
 */
#ifndef CWCTL_SERIAL_H
#define CWCTL_SERIAL_H

#include <stddef.h>
#include <sys/types.h>
#include <termios.h>

/* An open serial port and the settings it had before cwctl changed them. */
typedef struct cwctl_port_ctx {
    int fd;                /* -1 when closed */
    struct termios saved;  /* restored by cwctl_port_close() */
    int saved_valid;
} cwctl_port_ctx;

/* The termios speed for bps, or 0 (B0) when termios has no such speed. */
speed_t cwctl_serial_speed(unsigned long bps);

/* Opens path (O_RDWR | O_NOCTTY), takes an exclusive flock() so two cwctl cannot interleave on one
 * port (EBUSY when another holds it), sets the line raw 8N1 at speed without flow control, and
 * discards input that was waiting. Reads block until at least one byte; use poll() first. */
int cwctl_port_open(cwctl_port_ctx *port, const char *path, speed_t speed);

/* Restores the saved settings and closes. Safe on a closed port. Failures are not reported: the
 * port is being abandoned, and a device that was unplugged cannot take its settings back. */
void cwctl_port_close(cwctl_port_ctx *port);

/* Writes all len bytes to fd, waiting with poll() if fd is non-blocking. */
int cwctl_write_all(int fd, const void *buf, size_t len);

/* One read() into buf. Returns the byte count, 0 at end of file, -1 with errno (EAGAIN when a
 * non-blocking fd has nothing, EINTR when a terminating signal is pending). */
ssize_t cwctl_read(int fd, void *buf, size_t cap);

/* Waits until everything written to the tty fd has been transmitted (tcdrain). */
int cwctl_drain(int fd);

/* Puts the terminal fd in raw mode, storing its settings in saved for cwctl_term_restore(). */
int cwctl_term_raw(int fd, struct termios *saved);

/* Puts back the settings cwctl_term_raw() saved. */
int cwctl_term_restore(int fd, const struct termios *saved);

#endif /* CWCTL_SERIAL_H */
