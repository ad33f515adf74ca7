/*
 * host_board.h: glue between the host board's files (not a hal/ interface).
 */
#ifndef HOST_BOARD_H
#define HOST_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the console reaches a person or a tool. */
typedef enum host_uart_mode_t {
    HOST_UART_STDIO, /* stdin/stdout; a terminal is switched to raw input for the session */
    HOST_UART_PTY    /* a new pseudo-terminal whose path is printed, as qemu -serial pty does */
} host_uart_mode_t;

/* Opens the console. With a pty and link != NULL, also makes link a symlink to the pty.
 * Prints the pty path on stdout. Returns 0, or -1 with a message on stderr. */
int host_uart_open(host_uart_mode_t mode, const char *link);

/* The file descriptor the main loop polls for console input. */
int host_uart_poll_fd(void);

/* True when stdin reached end of file (stdio mode): the person or the pipe is gone. */
bool host_uart_eof(void);

/* Restores the terminal and removes the link. Safe to call more than once. */
void host_uart_close(void);

/* Starts the board's clocks. */
void host_clock_init(void);
/* --no-rtc (rtc false: hal_clock_utc says 0) and --clock-offset (seconds, or file: a path whose
 * number of seconds is read at each RTC read). */
void host_clock_configure(bool rtc, long long offset, const char *file);

/* Loads the PKCS#11 module at path (NULL: p11-kit's configured softhsm2 module) for
 * hal_token_get(), with the token URI and idle logout to hand over. Returns 0, or -1 with a
 * message on stderr (certwiz then runs without a token). */
int host_token_load(const char *path, const char *uri, uint32_t idle_logout_ms);

/* Releases the module; call after cw_shutdown(). */
void host_token_release(void);

/* ---- network (host_net.c and its wires host_slirp.c, host_tap.c; docs/network.md) ---------- */

struct netif;
struct pollfd;

typedef enum host_net_kind_t {
    HOST_NET_NONE,  /* no netif: hal_net_netif() is NULL */
    HOST_NET_SLIRP, /* libslirp: user-mode network, the PC's loopback at 10.0.2.2 */
    HOST_NET_TAP    /* an existing TAP interface */
} host_net_kind_t;

#define HOST_NET_HOSTFWD_MAX 8
#define HOST_NET_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

/* What the command line asked for. Addresses in network byte order. */
typedef struct host_net_opts_t {
    host_net_kind_t kind;
    char tap_ifname[HOST_NET_IFNAME_MAX + 1];
    bool is_static;                 /* --ip given: no DHCP */
    uint32_t ip, mask, gw, dns;     /* gw, dns: 0 when not given */
    const char *hostfwd[HOST_NET_HOSTFWD_MAX]; /* --hostfwd rules (slirp), as written */
    size_t nhostfwd;
} host_net_opts_t;

/* Option parsers: each returns 0, or -1 with a message on stderr. */
int host_net_parse_net(const char *arg, host_net_opts_t *o);        /* slirp | tap:IFNAME | none */
int host_net_parse_ip(const char *arg, host_net_opts_t *o);         /* A.B.C.D/NN */
int host_net_parse_addr(const char *opt, const char *arg, uint32_t *out); /* A.B.C.D */

/* Opens the wire and adds the one netif to lwIP (call after lwip_init): DHCP, or the static
 * address, gateway and DNS server. Returns 0, or -1 with a message on stderr. */
int host_net_open(const host_net_opts_t *o);

/* The main loop's poll set: the console's fd first, then the wire's. Lowers *timeout_ms when the
 * wire has a timer due sooner. The array stays valid until the next call. */
struct pollfd *host_net_pollfds(int uart_fd, size_t *n, int *timeout_ms);

/* After poll() on that set: hands the results to the wire (poll_failed: poll() itself failed). */
void host_net_poll_done(bool poll_failed);

/* Closes the wire; lwIP must not send after this. */
void host_net_close(void);

/* For the wires: add an fd to the poll set being built (returns its index, -1 when out of memory),
 * read back what poll() reported for an index, and queue one received Ethernet frame for lwIP
 * (copied into the receive ring, which hal_net_poll() drains into PBUF_POOL pbufs). */
int host_net_add_pollfd(int fd, short events);
short host_net_revents(int idx);
void host_net_receive(const uint8_t *frame, size_t len);

/* A wire: the frames' way in and out of the host. */
typedef struct host_wire_t {
    void (*output)(const uint8_t *frame, size_t len); /* one Ethernet frame out */
    void (*fill)(int *timeout_ms);                    /* add fds with host_net_add_pollfd */
    void (*dispatch)(bool poll_failed);               /* after poll(): read, write, accept */
    void (*poll)(void);                               /* timers, link state */
    const char *(*describe)(void);
    void (*close)(void);
} host_wire_t;

/* Each returns its wire, or NULL with a message on stderr. guest is the device's address (for
 * slirp's port forwards). */
const host_wire_t *host_slirp_open(const host_net_opts_t *o, uint32_t guest);
const host_wire_t *host_tap_open(const host_net_opts_t *o, struct netif *nif);

#endif /* HOST_BOARD_H */
