/*
 * cw_sntp_opts.h: the lwIP SNTP options certwiz's clock needs, for a board's lwipopts.h to
 * include (both boards here do). lwIP's apps/sntp is the client; cw_sntp.h drives it.
 *
 * Each answer sets certwiz's trusted clock (docs/lifecycle.md). A server by address or by name,
 * or the ones DHCP's NTP option offers (one is kept). The request carries a random transmit stamp
 * the answer must echo (SNTP_CHECK_RESPONSE 2), and the answer must come from the server asked.
 * First poll at once; a lost answer is asked again after 5 s, then with doubling waits up to
 * 50 s; an answered one hourly.
 */
#ifndef CW_SNTP_OPTS_H
#define CW_SNTP_OPTS_H

#include <stdint.h>
void cw_clock_set_sntp(int64_t utc, uint32_t us);
#define SNTP_SET_SYSTEM_TIME_US(sec, us) cw_clock_set_sntp((int64_t)(sec), (uint32_t)(us))
#define SNTP_GET_SYSTEM_TIME(sec, us) \
    do { (sec) = LWIP_RAND(); (us) = LWIP_RAND() % 1000000u; } while (0)
#define SNTP_CHECK_RESPONSE 2
#define SNTP_SERVER_DNS 1
#define LWIP_DHCP_GET_NTP_SRV 1
#define LWIP_DHCP_MAX_NTP_SERVERS 1
#define SNTP_STARTUP_DELAY 0
#define SNTP_RECV_TIMEOUT 5000

#endif /* CW_SNTP_OPTS_H */
