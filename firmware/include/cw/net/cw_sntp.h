/*
 * cw_sntp.h: trusted time from an SNTP server, through lwIP's own client (apps/sntp).
 *
 * lwIP's client polls the server (at once, then hourly; after a lost answer again with growing
 * waits) and hands each answer to cw_clock_set_sntp() through the board's lwipopts.h
 * (SNTP_SET_SYSTEM_TIME_US). Each answer must come from the server asked and echo the random
 * transmit stamp of the request (SNTP_CHECK_RESPONSE 2), so a forged answer from elsewhere on
 * the link is dropped.
 */
#ifndef CW_SNTP_H
#define CW_SNTP_H

#include <stdbool.h>

/* Longest server name kept (a DNS name or a dotted address). */
#define CW_SNTP_SERVER_MAX 63u

/* Starts the client: server is a dotted IPv4 address or a name (resolved by lwIP's DNS); NULL
 * takes the servers the DHCP server offers (its NTP option). Call once, after the board's netif
 * is up (cw_init does). */
void cw_sntp_start(const char *server);

typedef struct cw_sntp_status_t {
    bool running;
    bool from_dhcp;                       /* the server came from DHCP's NTP option */
    char server[CW_SNTP_SERVER_MAX + 1];  /* as given or as DHCP gave it; "" when none yet */
    bool reachable;                       /* one of the last eight polls was answered */
} cw_sntp_status_t;

void cw_sntp_status(cw_sntp_status_t *out);

#endif /* CW_SNTP_H */
