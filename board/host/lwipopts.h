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
#define MEM_LIBC_MALLOC 0        /* lwIP's heap is a static array, not libc */
#define MEMP_MEM_MALLOC 0        /* pools are static arrays, not carved from the heap */
#define MEM_ALIGNMENT 8
/* lwIP's heap holds PBUF_RAM payloads: outgoing TCP segments (an HTTP request with a SCEP body of
 * up to ~8 KiB is queued as segments of TCP_MSS) and DHCP/DNS messages. 16 KiB keeps a full send
 * window of 4 MSS plus control traffic. */
#define MEM_SIZE (16 * 1024)
/* Received frames: one pbuf per Ethernet frame; 16 cover a TCP window of 4 MSS in flight with
 * room for ARP and DHCP. */
#define PBUF_POOL_SIZE 16
#define PBUF_POOL_BUFSIZE 1536   /* one full Ethernet frame each */
/* pbufs referencing ROM/static data (headers sent from constant strings). */
#define MEMP_NUM_PBUF 16
/* certwiz holds one connection to its CA at a time; one more lets a keep-alive connection close
 * while the next opens, and two cover TIME_WAIT. */
#define MEMP_NUM_TCP_PCB 4
#define MEMP_NUM_TCP_PCB_LISTEN 1
/* Queued outgoing segments: 2 x TCP_SND_QUEUELEN. */
#define MEMP_NUM_TCP_SEG 16
/* DHCP and DNS each use one UDP pcb. */
#define MEMP_NUM_UDP_PCB 4
#define MEMP_NUM_RAW_PCB 1
/* lwIP timeouts: TCP, ARP, DHCP (2), DNS, ACD, IP reassembly, plus two for certwiz's own. */
#define MEMP_NUM_SYS_TIMEOUT 10
#define MEMP_NUM_ARP_QUEUE 4
#define ARP_TABLE_SIZE 4

/* ---- protocols ------------------------------------------------------------------------------ */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_ACD 0               /* address conflict detection: not needed behind slirp */
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_DNS 1
#define DNS_TABLE_SIZE 2
#define DNS_MAX_NAME_LENGTH 128
#define LWIP_ALTCP 1             /* HTTP runs on altcp so that TLS can slot in for ACME */
#define LWIP_ALTCP_TLS 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_REASS_MAX_PBUFS 8

/* ---- TCP -------------------------------------------------------------------------------------- */
#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_SND_QUEUELEN 8
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

#endif /* CW_HOST_LWIPOPTS_H */
