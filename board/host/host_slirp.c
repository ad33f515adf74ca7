/*
 * host_slirp.c: the host board's default wire, libslirp (Debian libslirp-dev), the user-mode
 * network QEMU uses. No privileges: the device's TCP connections become the process's own
 * sockets. Its network is QEMU's default one:
 *
 *   10.0.2.0/24   10.0.2.2 the host (connections to it reach the PC's 127.0.0.1)
 *                 10.0.2.3 DNS (forwarded to the PC's resolver)
 *                 10.0.2.15 the first (and only) DHCP address, the device
 *
 * libslirp is driven from the board's one loop, without threads or glib: its fds join the main
 * poll() through slirp_pollfds_fill()/slirp_pollfds_poll(), its timers run on the monotonic
 * clock from hal_net_poll(), frames from lwIP go in through slirp_input() and frames for lwIP
 * arrive in the send_packet callback, which queues them in the board's receive ring.
 */
#include "host_board.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <slirp/libslirp.h>

typedef struct slirp_timer_t {
    struct slirp_timer_t *next;
    SlirpTimerCb cb;           /* timer_new style, or NULL */
    SlirpTimerId id;           /* timer_new_opaque style */
    void *cb_opaque;
    int64_t expire_ms;         /* -1: not armed */
} slirp_timer_t;

static Slirp *slirp;
static slirp_timer_t *timers;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + (int64_t)t.tv_nsec;
}

/* ---- callbacks from libslirp -------------------------------------------------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    (void)opaque;
    host_net_receive((const uint8_t *)buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "certwiz: slirp: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return mono_ns();
}

static slirp_timer_t *timer_add(void)
{
    slirp_timer_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        fprintf(stderr, "certwiz: slirp: out of memory for a timer\n");
        abort(); /* libslirp cannot take a NULL timer */
    }
    t->expire_ms = -1;
    t->next = timers;
    timers = t;
    return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    (void)opaque;
    slirp_timer_t *t = timer_add();
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    (void)opaque;
    slirp_timer_t *t = timer_add();
    t->id = id;
    t->cb_opaque = cb_opaque;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    (void)opaque;
    for (slirp_timer_t **p = &timers; *p != NULL; p = &(*p)->next) {
        if (*p == timer) {
            *p = ((slirp_timer_t *)timer)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    ((slirp_timer_t *)timer)->expire_ms = expire_ms;
}

/* fds are collected afresh for every poll() through slirp_pollfds_fill(); nothing to keep. */
static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

/* The main loop polls slirp every turn (at most 10 ms apart): no wake-up needed. */
static void cb_notify(void *opaque)
{
    (void)opaque;
}

static void cb_init_completed(Slirp *s, void *opaque)
{
    (void)s;
    (void)opaque;
}

static const SlirpCb callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .init_completed = cb_init_completed,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* ---- poll set ------------------------------------------------------------------------------ */

static int cb_add_poll(int fd, int events, void *opaque)
{
    short ev = 0;
    (void)opaque;
    if (events & SLIRP_POLL_IN) {
        ev |= POLLIN;
    }
    if (events & SLIRP_POLL_OUT) {
        ev |= POLLOUT;
    }
    if (events & SLIRP_POLL_PRI) {
        ev |= POLLPRI;
    }
    return host_net_add_pollfd(fd, ev); /* -1 (no memory): slirp skips that socket this turn */
}

static int cb_get_revents(int idx, void *opaque)
{
    short r = host_net_revents(idx);
    int ev = 0;
    (void)opaque;
    if (r & POLLIN) {
        ev |= SLIRP_POLL_IN;
    }
    if (r & POLLOUT) {
        ev |= SLIRP_POLL_OUT;
    }
    if (r & POLLPRI) {
        ev |= SLIRP_POLL_PRI;
    }
    if (r & POLLERR) {
        ev |= SLIRP_POLL_ERR;
    }
    if (r & POLLHUP) {
        ev |= SLIRP_POLL_HUP;
    }
    return ev;
}

static void slirp_fill(int *timeout_ms)
{
    uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    int64_t now = mono_ns() / 1000000;

    slirp_pollfds_fill(slirp, &t, cb_add_poll, NULL);
    for (const slirp_timer_t *tm = timers; tm != NULL; tm = tm->next) {
        if (tm->expire_ms >= 0) {
            int64_t left = tm->expire_ms > now ? tm->expire_ms - now : 0;
            if (left < (int64_t)t) {
                t = (uint32_t)left;
            }
        }
    }
    if (t < (uint32_t)INT32_MAX && (*timeout_ms < 0 || (int)t < *timeout_ms)) {
        *timeout_ms = (int)t;
    }
}

static void slirp_dispatch(bool poll_failed)
{
    slirp_pollfds_poll(slirp, poll_failed ? 1 : 0, cb_get_revents, NULL);
}

/* Runs the expired timers. A timer callback may re-arm or free timers, so start over after each. */
static void slirp_run_timers(void)
{
    bool again = true;
    while (again) {
        int64_t now = mono_ns() / 1000000;
        again = false;
        for (slirp_timer_t *t = timers; t != NULL; t = t->next) {
            if (t->expire_ms >= 0 && t->expire_ms <= now) {
                t->expire_ms = -1;
                if (t->cb != NULL) {
                    t->cb(t->cb_opaque);
                } else {
                    slirp_handle_timer(slirp, t->id, t->cb_opaque);
                }
                again = true;
                break;
            }
        }
    }
}

static void slirp_output(const uint8_t *frame, size_t len)
{
    slirp_input(slirp, frame, (int)len);
}

static const char *slirp_describe(void)
{
    return "slirp 10.0.2.0/24, host 10.0.2.2, DNS 10.0.2.3";
}

static void slirp_close(void)
{
    if (slirp != NULL) {
        slirp_cleanup(slirp); /* frees its timers through cb_timer_free */
        slirp = NULL;
    }
    while (timers != NULL) {
        slirp_timer_t *t = timers;
        timers = t->next;
        free(t);
    }
}

static const host_wire_t slirp_wire = {
    .output = slirp_output,
    .fill = slirp_fill,
    .dispatch = slirp_dispatch,
    .poll = slirp_run_timers,
    .describe = slirp_describe,
    .close = slirp_close,
};

/* ---- port forwards -------------------------------------------------------------------------- */

static int parse_port(const char *s, size_t n, int *port)
{
    int v = 0;
    if (n == 0 || n > 5) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535) {
        return -1;
    }
    *port = v;
    return 0;
}

/* "ADDR:PORT" with ADDR possibly empty (then dflt). */
static int parse_endpoint(const char *s, size_t n, uint32_t dflt, struct in_addr *addr, int *port)
{
    char a[INET_ADDRSTRLEN];
    const char *colon = NULL;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':') {
            colon = s + i;
        }
    }
    if (colon == NULL || (size_t)(colon - s) >= sizeof a) {
        return -1;
    }
    if (colon == s) {
        addr->s_addr = dflt;
    } else {
        memcpy(a, s, (size_t)(colon - s));
        a[colon - s] = '\0';
        if (inet_pton(AF_INET, a, addr) != 1) {
            return -1;
        }
    }
    return parse_port(colon + 1, n - (size_t)(colon + 1 - s), port);
}

/* QEMU's syntax: tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT. An empty HOSTADDR is
 * 127.0.0.1 (QEMU binds every interface; certwiz keeps the device off the LAN unless asked). */
static int add_hostfwd(const char *rule, uint32_t guest)
{
    const char *p = rule;
    int is_udp;
    const char *dash;
    struct in_addr haddr;
    struct in_addr gaddr;
    int hport;
    int gport;

    if (strncmp(p, "tcp:", 4) == 0) {
        is_udp = 0;
    } else if (strncmp(p, "udp:", 4) == 0) {
        is_udp = 1;
    } else {
        goto bad;
    }
    p += 4;
    dash = strchr(p, '-');
    if (dash == NULL || parse_endpoint(p, (size_t)(dash - p), htonl(INADDR_LOOPBACK), &haddr, &hport) < 0 ||
        parse_endpoint(dash + 1, strlen(dash + 1), guest, &gaddr, &gport) < 0) {
        goto bad;
    }
    if (slirp_add_hostfwd(slirp, is_udp, haddr, hport, gaddr, gport) < 0) {
        fprintf(stderr, "certwiz: --hostfwd %s: cannot listen on the host port (%s)\n", rule, strerror(errno));
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "certwiz: --hostfwd takes tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, not '%s'\n", rule);
    return -1;
}

const host_wire_t *host_slirp_open(const host_net_opts_t *o, uint32_t guest)
{
    SlirpConfig cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.version = 4;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    cfg.vnetwork.s_addr = inet_addr("10.0.2.0");
    cfg.vnetmask.s_addr = inet_addr("255.255.255.0");
    cfg.vhost.s_addr = inet_addr("10.0.2.2");
    cfg.in6_enabled = false;
    cfg.vdhcp_start.s_addr = inet_addr("10.0.2.15");
    cfg.vnameserver.s_addr = inet_addr("10.0.2.3");
    cfg.if_mtu = 0; /* slirp's default, 1500, as the netif */
    cfg.if_mru = 0;
    cfg.disable_host_loopback = false; /* 10.0.2.2 must reach the PC's loopback */
    cfg.enable_emu = false;
    cfg.disable_dns = false;
    cfg.disable_dhcp = o->is_static;

    slirp = slirp_new(&cfg, &callbacks, NULL);
    if (slirp == NULL) {
        fprintf(stderr, "certwiz: libslirp %s did not start\n", slirp_version_string());
        return NULL;
    }
    for (size_t i = 0; i < o->nhostfwd; i++) {
        if (add_hostfwd(o->hostfwd[i], guest) < 0) {
            slirp_close();
            return NULL;
        }
    }
    return &slirp_wire;
}
