/*
 * cw_net.h: the network on the console: `net` (the board's interface, addresses, link, DHCP, pool
 * use) and the `http get` / `http post` diagnostics that test the path to a CA
 * (docs/console.md, docs/network.md).
 *
 * The board brings up the netif (hal_net.h); this module only reads it and runs HTTP requests
 * on it with the client of cw_http.h.
 */
#ifndef CW_NET_H
#define CW_NET_H

#include "cw/console/cw_console.h"

/* Advances a running `http` diagnostic (progress lines, timeouts, the final line). Call from
 * cw_poll; never blocks. */
void cw_net_poll(void);

/* The commands net and http. */
extern const cw_cmd_group_t cw_net_commands;

#endif /* CW_NET_H */
