/*
 * host_tap.c: the host board's TAP wire: an existing TAP interface (made beforehand with
 * `ip tuntap add dev NAME mode tap`, by root or for the user running certwiz), opened through
 * /dev/net/tun with IFF_TAP | IFF_NO_PI, so every read and write is one plain Ethernet frame.
 *
 * The netif's link follows the interface: up while it is administratively up and running
 * (IFF_UP and IFF_RUNNING, the carrier), checked twice a second.
 */
#include "host_board.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "hal_clock.h"

#include "lwip/netif.h"

#define LINK_CHECK_MS 500u
#define READS_PER_TURN 64 /* frames taken per main-loop turn, so the console is never starved */

static int tap_fd = -1;
static int ctl_fd = -1;
static int tap_idx = -1;
static char ifname[HOST_NET_IFNAME_MAX + 1];
static char text[64];
static struct netif *tap_netif;
static uint32_t last_check;
static bool checked_once;

static bool iface_running(void)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(ctl_fd, SIOCGIFFLAGS, &ifr) < 0) {
        return false;
    }
    return (ifr.ifr_flags & IFF_UP) != 0 && (ifr.ifr_flags & IFF_RUNNING) != 0;
}

static void tap_output(const uint8_t *frame, size_t len)
{
    /* EIO while the interface is down; a lost frame, as on an unplugged cable */
    (void)write(tap_fd, frame, len);
}

static void tap_fill(int *timeout_ms)
{
    (void)timeout_ms;
    tap_idx = host_net_add_pollfd(tap_fd, POLLIN);
}

static void tap_dispatch(bool poll_failed)
{
    uint8_t frame[2048];

    if (poll_failed || (host_net_revents(tap_idx) & POLLIN) == 0) {
        return;
    }
    for (int i = 0; i < READS_PER_TURN; i++) {
        ssize_t n = read(tap_fd, frame, sizeof frame);
        if (n <= 0) {
            break; /* EAGAIN: nothing more this turn */
        }
        host_net_receive(frame, (size_t)n);
    }
}

static void tap_poll(void)
{
    uint32_t now = hal_clock_ms();
    if (checked_once && now - last_check < LINK_CHECK_MS) {
        return;
    }
    checked_once = true;
    last_check = now;
    bool up = iface_running();
    if (up && !netif_is_link_up(tap_netif)) {
        netif_set_link_up(tap_netif);
    } else if (!up && netif_is_link_up(tap_netif)) {
        netif_set_link_down(tap_netif);
    }
}

static const char *tap_describe(void)
{
    (void)snprintf(text, sizeof text, "tap:%s", ifname);
    return text;
}

static void tap_close(void)
{
    if (tap_fd >= 0) {
        close(tap_fd);
        tap_fd = -1;
    }
    if (ctl_fd >= 0) {
        close(ctl_fd);
        ctl_fd = -1;
    }
}

static const host_wire_t tap_wire = {
    .output = tap_output,
    .fill = tap_fill,
    .dispatch = tap_dispatch,
    .poll = tap_poll,
    .describe = tap_describe,
    .close = tap_close,
};

const host_wire_t *host_tap_open(const host_net_opts_t *o, struct netif *nif)
{
    struct ifreq ifr;

    strcpy(ifname, o->tap_ifname);
    /* TUNSETIFF would create a missing interface (as root): certwiz only opens existing ones */
    if (if_nametoindex(ifname) == 0) {
        fprintf(stderr, "certwiz: --net tap:%s: no such interface (make it with: ip tuntap add dev %s mode tap)\n",
                ifname, ifname);
        return NULL;
    }
    tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tap_fd < 0) {
        fprintf(stderr, "certwiz: --net tap:%s: cannot open /dev/net/tun: %s\n", ifname, strerror(errno));
        return NULL;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "certwiz: --net tap:%s: cannot attach (is it a TAP interface this user may use?): %s\n",
                ifname, strerror(errno));
        tap_close();
        return NULL;
    }
    ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl_fd < 0) {
        fprintf(stderr, "certwiz: --net tap:%s: no socket for interface flags: %s\n", ifname, strerror(errno));
        tap_close();
        return NULL;
    }
    tap_netif = nif;
    checked_once = false;
    return &tap_wire;
}
