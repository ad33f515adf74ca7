/*
 * lwipopts.h for the host board: lwIP as an MCU would run it.
 *
 * NO_SYS=1 (one thread, raw/altcp API, no sockets or netconn), every buffer from static pools,
 * no libc allocation. The host board measures what an MCU build will need, so the pools are
 * sized as for an MCU: `mem` on the console shows each pool's high-water mark after real use.
 */
#ifndef CW_HOST_LWIPOPTS_H
#define CW_HOST_LWIPOPTS_H

/* ---- system --------------------------------------------------------------------------------- */
#define NO_SYS 1                 /* one thread; the board's poll loop drives lwIP */
#define LWIP_TIMERS 1            /* lwIP's own timeout list, run from sys_check_timeouts() */
#define SYS_LIGHTWEIGHT_PROT 0   /* no interrupts touch lwIP on the host board */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

/* ---- memory: static only -------------------------------------------------------------------- */
/*
 * Every size below is derived from what certwiz does on the network: one HTTP client connection
 * at a time (a CA request, or the `http` diagnostic), DHCP, DNS. `mem` prints each pool's
 * high-water mark; docs/network.md records the marks measured after the system tests, and these
 * sizes keep a margin over them.
 */
#define MEM_LIBC_MALLOC 0        /* lwIP's heap is a static array, not libc */
#define MEMP_MEM_MALLOC 0        /* pools are static arrays, not carved from the heap */
#define MEM_ALIGNMENT 8
/* lwIP's heap holds PBUF_RAM pbufs only: the 54-byte header pbuf of every outgoing TCP segment
 * (the HTTP client writes its request without copying, so payload stays in the caller's memory),
 * empty ACKs, ARP, DNS queries (< 300 bytes) and DHCP messages (about 350 bytes). A full send
 * queue is 8 segment headers at about 100 bytes with lwIP's overhead; with a DHCP renewal and a
 * DNS query in flight at the same time that is about 1.6 KiB. Measured high-water after the
 * system tests: 464 bytes (a DHCP message). 4 KiB is 2.5 times the worst case. */
#define MEM_SIZE (4 * 1024)
/* Received frames: the board copies each Ethernet frame into pbufs of this pool and hands it to
 * lwIP at once, and the HTTP client copies each segment out in its receive callback, so in order
 * traffic holds one pbuf (measured high-water: 1). What can wait here: segments that arrive out
 * of order on a lossy network (TCP_QUEUE_OOSEQ), at most a receive window of TCP_WND / TCP_MSS =
 * 4, plus the frame being processed and an ARP, DHCP or DNS answer: 6. 8 keeps a margin; lwIP
 * checks that the pool can hold TCP_WND. */
#define PBUF_POOL_SIZE 8
#define PBUF_POOL_BUFSIZE 1536   /* one full Ethernet frame each (1514 bytes plus lwIP's offset) */
/* PBUF_REF/ROM pbufs: the HTTP client's request head and POST body are sent without copying, one
 * such pbuf per queued segment: at most TCP_SND_QUEUELEN / 2 = 8 at a time; 16 for a second
 * connection closing while the next one sends. */
#define MEMP_NUM_PBUF 16
/* certwiz holds one connection to its CA at a time. The client closes first, so its connections
 * end in TIME_WAIT for 2 x TCP_MSL; when the pool is full, lwIP takes the oldest TIME_WAIT pcb for
 * the new connection (and does not count that as a pool error). One open, one closing, two in
 * TIME_WAIT: 4. */
#define MEMP_NUM_TCP_PCB 4
/* No listening sockets: the device only makes outgoing connections (slirp's --hostfwd reaches it,
 * but nothing listens yet). lwIP needs at least one for LWIP_TCP. */
#define MEMP_NUM_TCP_PCB_LISTEN 1
/* Queued outgoing segments (unsent + unacknowledged): TCP_SND_QUEUELEN counts pbufs, two per
 * segment (header + payload reference), so one connection queues at most 8 segments; twice
 * that lets a closing connection keep its FIN queued while the next one sends. lwIP requires
 * MEMP_NUM_TCP_SEG >= TCP_SND_QUEUELEN. */
#define MEMP_NUM_TCP_SEG 16
/* DHCP: 1. DNS: one pcb per outstanding query with random source ports (LWIP_DNS_SECURE's
 * default, against spoofed answers): DNS_MAX_SOURCE_PORTS = DNS_TABLE_SIZE = 2. SNTP: 1. */
#define MEMP_NUM_UDP_PCB 4
/* lwIP's own timeouts (TCP, ARP, DHCP x2, DNS, IP reassembly): LWIP_NUM_SYS_TIMEOUT_INTERNAL.
 * certwiz adds SNTP's one (lwIP's apps do not count themselves); its HTTP timeouts run from
 * cw_poll on hal_clock_ms(). */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 1)
/* The neighbours: the gateway (slirp's 10.0.2.2, which is also the PC's loopback), the DNS server
 * (10.0.2.3), and one on-link server (a TAP peer). */
#define ARP_TABLE_SIZE 4
#define ARP_QUEUEING 0           /* one packet waits per unresolved neighbour (the SYN), no pool */

/* ---- protocols ------------------------------------------------------------------------------ */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1              /* answer pings: a technician's first check of the device */
#define LWIP_RAW 0               /* no raw sockets: certwiz sends no ping itself */
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_ACD 0               /* address conflict detection: not needed behind slirp */
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_DNS 1
/* Names cached and resolved at once: the CA's host and one more (an ACME server's second host). */
#define DNS_TABLE_SIZE 2
/* Longest name lwIP's resolver takes, with its NUL: a full 253-byte DNS name (CW_URL_HOST_MAX). */
#define DNS_MAX_NAME_LENGTH 256
#define LWIP_ALTCP 1             /* HTTP runs on altcp so that TLS can slot in for ACME */
#define LWIP_ALTCP_TLS 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1    /* DHCP tells the server our name, "certwiz" */
/* Fragments: certwiz's TCP segments fit the MTU and its UDP (DNS, DHCP) is small, so it never
 * fragments; a DNS answer could arrive fragmented: reassemble up to 4 frames (a 5.8 KiB
 * datagram), never more than a quarter of PBUF_POOL, in at most 2 datagrams at once. */
#define IP_REASSEMBLY 1
#define IP_FRAG 0
#define IP_REASS_MAX_PBUFS 4
#define MEMP_NUM_REASSDATA 2

/* ---- TCP -------------------------------------------------------------------------------------- */
#define TCP_MSS 1460             /* Ethernet MTU 1500 - 40 bytes of IPv4 and TCP headers */
/* Receive window: 4 segments. A SCEP or ACME answer is a few KiB; a larger window would only
 * need more PBUF_POOL for data the client copies out at once anyway. */
#define TCP_WND (4 * TCP_MSS)
/* Send buffer: 4 segments; a POST body larger than that is written as the server acknowledges. */
#define TCP_SND_BUF (4 * TCP_MSS)
/* pbufs queued for sending: with no-copy writes each segment takes two (header, payload), so
 * 4 x TCP_SND_BUF / TCP_MSS = 16 (lwIP's own default formula) lets the whole TCP_SND_BUF queue. */
#define TCP_SND_QUEUELEN 16
#define LWIP_TCP_KEEPALIVE 0

/* ---- checks and statistics -------------------------------------------------------------------- */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 1     /* gives every pool its name, which `mem` prints */
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0
#define LINK_STATS 0
#define IP_STATS 0
#define ICMP_STATS 0
#define UDP_STATS 0
#define TCP_STATS 0
#define ETHARP_STATS 0
#define IPFRAG_STATS 0
#define MEMP_OVERFLOW_CHECK 0
#define LWIP_CHECKSUM_ON_COPY 0

/* SNTP: what certwiz asks of lwIP's apps/sntp (one server, checked answers; cw_sntp.h). */
#include "cw/net/cw_sntp_opts.h"

#endif /* CW_HOST_LWIPOPTS_H */
