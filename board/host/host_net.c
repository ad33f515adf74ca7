/*
 * host_net.c: the host board's netif (hal_net.h): one lwIP Ethernet interface whose frames go to
 * and come from a wire, libslirp (host_slirp.c) or a TAP device (host_tap.c), and its part of the
 * main loop's poll set. The options that configure it are read in host_net_opts.c.
 *
 * Received frames are copied into a fixed receive ring, as an MCU's Ethernet DMA ring would hold
 * them, and hal_net_poll() moves them into PBUF_POOL pbufs for lwIP. The ring also keeps lwIP from
 * being re-entered: slirp answers some frames (ARP, DHCP) from inside slirp_input(), which runs
 * inside lwIP's linkoutput; those answers wait in the ring until lwIP has returned.
 */
#include "hal_net.h"
#include "host_board.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

/* Frames up to a VLAN-tagged 1500-byte MTU frame (1518 bytes without FCS); larger are dropped. */
#define FRAME_MAX 1536u
/* Frames the ring holds between two main-loop turns: slirp hands over at most a TCP window
 * (4 x MSS, lwipopts.h) per turn plus ARP/DHCP/DNS; 32 is twice that. */
#define RX_SLOTS 32u

/* QEMU's default MAC for its first NIC; locally administered would be 02:..., but tools that
 * know slirp expect this one. */
static const uint8_t host_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static struct netif host_netif;
static bool have_netif;
static const host_wire_t *wire;

typedef struct rx_frame_t {
    size_t len;
    uint8_t data[FRAME_MAX];
} rx_frame_t;

static rx_frame_t rx_ring[RX_SLOTS];
static size_t rx_head;
static size_t rx_count;
static unsigned long frames_in;
static unsigned long frames_out;
static unsigned long frames_dropped;

static struct pollfd *pfds;
static size_t npfds;
static size_t cap_pfds;

/* ---- receive ring ------------------------------------------------------------------------- */

void host_net_receive(const uint8_t *frame, size_t len)
{
    if (len > FRAME_MAX || rx_count == RX_SLOTS) {
        frames_dropped++; /* as a full DMA ring drops; TCP sends it again */
        return;
    }
    rx_frame_t *f = &rx_ring[(rx_head + rx_count) % RX_SLOTS];
    memcpy(f->data, frame, len);
    f->len = len;
    rx_count++;
}

static void drain_rx(void)
{
    while (rx_count > 0) {
        rx_frame_t *f = &rx_ring[rx_head];
        rx_head = (rx_head + 1) % RX_SLOTS;
        rx_count--;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)f->len, PBUF_POOL);
        if (p == NULL) {
            frames_dropped++; /* PBUF_POOL is empty: lwIP counts the error, `mem` shows it */
            continue;
        }
        (void)pbuf_take(p, f->data, (u16_t)f->len);
        frames_in++;
        if (host_netif.input(p, &host_netif) != ERR_OK) {
            pbuf_free(p);
        }
    }
}

/* ---- netif ----------------------------------------------------------------------------------- */

static err_t host_linkoutput(struct netif *nif, struct pbuf *p)
{
    static uint8_t frame[FRAME_MAX];
    (void)nif;

    if (wire == NULL || p->tot_len > sizeof frame) {
        frames_dropped++;
        return ERR_IF;
    }
    (void)pbuf_copy_partial(p, frame, p->tot_len, 0);
    frames_out++;
    wire->output(frame, p->tot_len);
    return ERR_OK;
}

static err_t host_netif_init(struct netif *nif)
{
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->output = etharp_output;
    nif->linkoutput = host_linkoutput;
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    memcpy(nif->hwaddr, host_mac, sizeof host_mac);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif_set_hostname(nif, "certwiz");
    return ERR_OK;
}

int host_net_open(const host_net_opts_t *o)
{
    ip4_addr_t ip;
    ip4_addr_t mask;
    ip4_addr_t gw;
    /* slirp's DHCP hands out its first address, 10.0.2.15; port forwards go there */
    uint32_t guest = o->is_static ? o->ip : PP_HTONL(LWIP_MAKEU32(10, 0, 2, 15));

    if (o->kind == HOST_NET_NONE) {
        return 0;
    }
    ip4_addr_set_u32(&ip, o->is_static ? o->ip : 0);
    ip4_addr_set_u32(&mask, o->is_static ? o->mask : 0);
    ip4_addr_set_u32(&gw, o->is_static ? o->gw : 0);
    if (netif_add(&host_netif, &ip, &mask, &gw, NULL, host_netif_init, netif_input) == NULL) {
        fprintf(stderr, "certwiz: lwIP refused the network interface\n");
        return -1;
    }
    have_netif = true;
    if (o->kind == HOST_NET_SLIRP) {
        wire = host_slirp_open(o, guest);
    } else {
        wire = host_tap_open(o, &host_netif);
    }
    if (wire == NULL) {
        netif_remove(&host_netif);
        have_netif = false;
        return -1;
    }
    netif_set_default(&host_netif);
    netif_set_up(&host_netif);
    if (o->kind == HOST_NET_SLIRP) {
        netif_set_link_up(&host_netif); /* slirp's wire is always plugged in */
    }
    if (o->is_static) {
        if (o->dns != 0) {
            ip_addr_t d;
            ip_addr_set_ip4_u32_val(d, o->dns);
            dns_setserver(0, &d);
        }
    } else if (dhcp_start(&host_netif) != ERR_OK) {
        fprintf(stderr, "certwiz: DHCP could not start\n");
        host_net_close();
        netif_remove(&host_netif);
        have_netif = false;
        return -1;
    }
    return 0;
}

void host_net_close(void)
{
    if (wire != NULL) {
        wire->close();
        wire = NULL;
    }
    free(pfds);
    pfds = NULL;
    npfds = cap_pfds = 0;
}

/* ---- poll set ------------------------------------------------------------------------------- */

int host_net_add_pollfd(int fd, short events)
{
    if (npfds == cap_pfds) {
        size_t cap = cap_pfds == 0 ? 16 : cap_pfds * 2;
        struct pollfd *n = realloc(pfds, cap * sizeof *n);
        if (n == NULL) {
            return -1;
        }
        pfds = n;
        cap_pfds = cap;
    }
    pfds[npfds].fd = fd;
    pfds[npfds].events = events;
    pfds[npfds].revents = 0;
    return (int)npfds++;
}

short host_net_revents(int idx)
{
    if (idx < 0 || (size_t)idx >= npfds) {
        return 0;
    }
    return pfds[idx].revents;
}

struct pollfd *host_net_pollfds(int uart_fd, size_t *n, int *timeout_ms)
{
    static struct pollfd only_uart;

    npfds = 0;
    if (host_net_add_pollfd(uart_fd, POLLIN) < 0) {
        only_uart.fd = uart_fd;
        only_uart.events = POLLIN;
        *n = 1;
        return &only_uart;
    }
    if (wire != NULL) {
        wire->fill(timeout_ms);
    }
    *n = npfds;
    return pfds;
}

void host_net_poll_done(bool poll_failed)
{
    if (wire != NULL) {
        wire->dispatch(poll_failed);
    }
}

/* ---- hal_net ---------------------------------------------------------------------------------- */

struct netif *hal_net_netif(void)
{
    return have_netif ? &host_netif : NULL;
}

const char *hal_net_describe(void)
{
    static char text[160];
    if (wire == NULL) {
        return "no network: certwiz was started with --net none";
    }
    (void)snprintf(text, sizeof text, "%s; frames in %lu, out %lu, dropped %lu", wire->describe(), frames_in,
                   frames_out, frames_dropped);
    return text;
}

void hal_net_poll(void)
{
    if (wire != NULL) {
        wire->poll();
    }
    if (have_netif) {
        drain_rx();
    }
}
