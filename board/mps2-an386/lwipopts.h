/*
 * lwipopts.h for the MPS2 AN386 board (Cortex-M4, LAN9118): the host board's settings, which
 * were sized for an MCU (see board/host/lwipopts.h for the derivation of each pool), with the
 * differences of a real MCU noted where they apply: a 536-byte MSS with receive buffers of that
 * size, a smaller heap, no IP reassembly, one interface.
 *
 * NO_SYS=1 (one thread, raw/altcp API, no sockets or netconn), every buffer from static pools,
 * no libc allocation. The host board measures what an MCU build will need, so the pools are
 * sized as for an MCU: `mem` on the console shows each pool's high-water mark after real use.
 */
#ifndef CW_MPS2_LWIPOPTS_H
#define CW_MPS2_LWIPOPTS_H

/* ---- system --------------------------------------------------------------------------------- */
#define NO_SYS 1                 /* one thread; the board's poll loop drives lwIP */
#define LWIP_TIMERS 1            /* lwIP's own timeout list, run from sys_check_timeouts() */
#define SYS_LIGHTWEIGHT_PROT 0   /* the LAN9118 driver is polled: no interrupt touches lwIP */
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
#define MEM_ALIGNMENT 4          /* Cortex-M4: word alignment */
/* lwIP's heap holds PBUF_RAM pbufs only: the 54-byte header pbuf of every outgoing TCP segment
 * (the HTTP client writes its request without copying, so payload stays in the caller's memory),
 * empty ACKs, ARP, DNS queries (at most 12 + 255 + 4 bytes of payload) and DHCP messages. With
 * lwIP's overhead a segment header takes 80 bytes; TCP_SND_QUEUELEN allows 8 queued segments:
 * 640 bytes. With a DHCP message (measured: 464 bytes, the high-water after the system tests), a
 * DNS query (about 340) and an empty ACK in flight at the same time: about 1.5 KiB. 2 KiB keeps a
 * third over that worst case; an allocation that fails is retried by TCP's, DHCP's and DNS's own
 * timers, and `mem` shows the high-water and the errors. (4 KiB before: -2 KiB of RAM.) */
#define MEM_SIZE (2 * 1024)
/* Received frames: the board copies each Ethernet frame into a chain of pbufs of this pool
 * (pbuf_alloc(PBUF_POOL) chains buffers when a frame is longer than one, mps2_lan9118.c) and hands
 * it to lwIP at once, and the HTTP client copies each segment out in its receive callback, so
 * in-order traffic holds one frame at a time. Each buffer holds one TCP segment of TCP_MSS with
 * its Ethernet, IP and TCP headers (lwIP's default size for the MSS), so a peer that keeps to our
 * MSS takes one buffer per frame; a full 1514-byte frame takes three. QEMU's slirp is such a peer
 * that does not: it sends 1440-byte segments whatever we announce (measured through it: high-water
 * 3 buffers and no frame dropped after DHCP, a 2 KiB POST and keep-alive GETs of 6 x 4000 bytes).
 * Nothing else waits here: out-of-order segments are not queued (TCP_QUEUE_OOSEQ below), and ARP,
 * DHCP and DNS answers are read in their callbacks. One full frame (3) and a spare: 4, which is
 * also what lwIP requires to hold TCP_WND. When the pool is empty the board drops the frame
 * (`net` counts it) and TCP sends it again; the LAN9118 keeps later frames in its own FIFO.
 * (Before: 5 buffers of a full frame, 7.6 KiB; then 6 small ones, 3.6 KiB, while out-of-order
 * segments were queued; now 2.4 KiB.) */
#define PBUF_POOL_SIZE 4
#define PBUF_POOL_BUFSIZE LWIP_MEM_ALIGN_SIZE(TCP_MSS + PBUF_IP_HLEN + PBUF_TRANSPORT_HLEN + \
                                              PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)
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
 * default, against spoofed answers): DNS_MAX_SOURCE_PORTS = DNS_TABLE_SIZE = 1. SNTP: 1. */
#define MEMP_NUM_UDP_PCB 3
/* lwIP's own timeouts (TCP, ARP, DHCP x2, DNS): LWIP_NUM_SYS_TIMEOUT_INTERNAL.
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
#define LWIP_SINGLE_NETIF 1      /* the LAN9118 is the only interface (no loopback): -0.3 KB */
#define LWIP_ICMP 1              /* answer pings: a technician's first check of the device */
#define LWIP_RAW 0               /* no raw sockets: certwiz sends no ping itself */
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_ACD 0               /* address conflict detection: not needed behind slirp */
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_DNS 1
/* Names cached and resolved at once: the CA's host. certwiz talks to one server at a time (one
 * command, one connection), and a name that left the table is looked up again. An ACME client
 * with a second host would want 2 (+ 0.3 KiB). */
#define DNS_TABLE_SIZE 1
/* Longest name lwIP's resolver takes, with its NUL: a full 253-byte DNS name (CW_URL_HOST_MAX). */
#define DNS_MAX_NAME_LENGTH 256
/* No altcp layer: this board has no TLS yet, and without LWIP_ALTCP lwIP's altcp.h maps the HTTP
 * client's altcp_ calls to plain tcp_ ones (flash -2.1 KB, RAM -0.2 KiB). https:// URLs are refused
 * as on any board without a TLS allocator. Set it to 1 again when altcp_tls arrives (ACME). */
#define LWIP_ALTCP 0
#define LWIP_ALTCP_TLS 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1    /* DHCP tells the server our name, "certwiz" */
/* Fragments: none is expected in either direction, so none is sent (IP_FRAG) nor reassembled
 * (a fragment that arrives is dropped: -1.4 KB of flash, -0.1 KB of RAM). certwiz's own
 * datagrams fit the MTU. TCP: certwiz announces an MSS of 536 in its SYN, so a peer's segments
 * make 576-byte datagrams (IPv4's default size, RFC 1122 3.3.3), which only a link with an MTU
 * under 576 would split, and peers send TCP with DF set (path MTU discovery): a router on such a
 * path answers "fragmentation needed" and the peer sends smaller segments. UDP: lwIP's resolver
 * sends no EDNS0 option, so a DNS answer over UDP is at most 512 bytes (RFC 1035 4.2.1; a longer
 * one comes truncated); a DHCP server answers within the message size lwIP announces, the
 * interface's MTU. */
#define IP_REASSEMBLY 0
#define IP_FRAG 0

/* ---- TCP -------------------------------------------------------------------------------------- */
/* 536: IPv4's default MSS (RFC 1122 4.2.2.6; 576-byte datagrams), announced in our SYN, so that
 * each received segment fits one small PBUF_POOL buffer (above) instead of a full Ethernet frame
 * (a peer that ignores it, as QEMU's slirp does, still works: its frames take three). Answers of
 * a few KiB (6 KiB at most, CW_SCEP_REPLY_MAX) and requests of 4 KiB take a few more segments;
 * on a LAN that costs round trips of well under a millisecond. (1460, the Ethernet MTU's,
 * before.) */
#define TCP_MSS 536
/* Receive window: 4 segments, 2144 bytes (2920 before). A SCEP or ACME answer is a few KiB; a
 * larger window would only need more PBUF_POOL for data the client copies out at once anyway. */
#define TCP_WND (4 * TCP_MSS)
/* Send buffer: 4 segments; a POST body larger than that is written as the server acknowledges.
 * It allocates nothing (the HTTP client writes without copying): it bounds the queue. */
#define TCP_SND_BUF (4 * TCP_MSS)
/* pbufs queued for sending: with no-copy writes each segment takes two (header, payload), so
 * 4 x TCP_SND_BUF / TCP_MSS = 16 (lwIP's own default formula) lets the whole TCP_SND_BUF queue. */
#define TCP_SND_QUEUELEN 16
#define LWIP_TCP_KEEPALIVE 0
/* The HTTP client never writes with TCP_WRITE_FLAG_COPY (cw_http.c), so the spare room lwIP would
 * keep at the end of copied segments for the next write is never used: -0.4 KB. */
#define TCP_OVERSIZE 0

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
/* A segment that arrives out of order (after a lost one) is dropped, not queued until the gap is
 * filled: the peer sends it again with the lost one. One CA connection at a time, on a LAN or
 * through NAT, rarely sees that; queueing it cost 1.0 KB of code and pool buffers to hold a
 * window's worth of segments. */
#define TCP_QUEUE_OOSEQ 0

/* SNTP: what certwiz asks of lwIP's apps/sntp (one server, checked answers; cw_sntp.h). */
#include "cw/net/cw_sntp_opts.h"

#endif /* CW_MPS2_LWIPOPTS_H */
