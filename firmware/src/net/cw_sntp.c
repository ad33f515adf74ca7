/*
 * cw_sntp.c: lwIP's SNTP client, started and described for certwiz (cw_sntp.h).
 */
#include "cw/net/cw_sntp.h"

#include <stdio.h>
#include <string.h>

#include "lwip/apps/sntp.h"
#include "lwip/ip_addr.h"

static struct {
    bool running;
    bool from_dhcp;
    char server[CW_SNTP_SERVER_MAX + 1]; /* lwIP keeps a pointer to it */
} sntp;

void cw_sntp_start(const char *server)
{
    ip_addr_t addr;

    if (sntp.running) {
        sntp_stop();
    }
    memset(&sntp, 0, sizeof sntp);
    sntp_setoperatingmode(SNTP_OPMODE_POLL);
    if (server == NULL) {
        sntp.from_dhcp = true;
        sntp_servermode_dhcp(1);
    } else {
        sntp_servermode_dhcp(0);
        (void)snprintf(sntp.server, sizeof sntp.server, "%s", server);
        if (ipaddr_aton(sntp.server, &addr)) {
            sntp_setserver(0, &addr);
        } else {
            sntp_setservername(0, sntp.server);
        }
    }
    sntp_init();
    sntp.running = true;
}

void cw_sntp_status(cw_sntp_status_t *out)
{
    memset(out, 0, sizeof *out);
    out->running = sntp.running;
    out->from_dhcp = sntp.from_dhcp;
    if (!sntp.running) {
        return;
    }
    if (sntp.from_dhcp || sntp_getservername(0) == NULL) {
        const ip_addr_t *a = sntp_getserver(0);
        if (a != NULL && !ip_addr_isany(a)) {
            (void)snprintf(out->server, sizeof out->server, "%s", ipaddr_ntoa(a));
        }
    } else {
        (void)snprintf(out->server, sizeof out->server, "%s", sntp.server);
    }
    out->reachable = sntp_getreachability(0) != 0;
}
