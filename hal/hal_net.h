/*
 * hal_net.h: the network, as the core needs it from a board.
 *
 * A board with a network brings up exactly one lwIP netif before cw_init(): it calls lwip_init(),
 * netif_add() with its own driver (the host board: libslirp or a TAP device; an MCU board: its
 * Ethernet MAC), sets it as the default netif and up, and starts DHCP or sets a static address,
 * gateway and DNS server. The core then uses lwIP's raw/altcp API on that netif and only reads
 * its state (address, link, DHCP) for `net`.
 *
 * Link state lives in the netif itself: the board keeps netif_set_link_up()/netif_set_link_down()
 * current, and the core reads netif_is_link_up(). Everything here runs in the one thread
 * (NO_SYS=1): the board calls hal_net_poll() from its main loop, never from an interrupt.
 */
#ifndef HAL_NET_H
#define HAL_NET_H

struct netif;

/* The board's one netif, added to lwIP and set as default; NULL when the board has no network. */
struct netif *hal_net_netif(void);

/* One line naming the wire behind the netif, for `net` ("slirp 10.0.2.0/24", "tap:tap0"). */
const char *hal_net_describe(void);

/* Moves received frames into lwIP and runs the wire's own timers; never blocks. Called by the
 * board's main loop before sys_check_timeouts() and cw_poll(); the core never calls it. */
void hal_net_poll(void);

#endif /* HAL_NET_H */
