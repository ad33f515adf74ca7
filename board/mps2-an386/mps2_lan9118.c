/*
 * mps2_lan9118.c: the MPS2's SMSC LAN9118 Ethernet controller as certwiz's lwIP netif
 * (hal_net.h), polled.
 *
 * The LAN9118 keeps received frames in its own RX FIFO with one status word each; hal_net_poll()
 * moves every waiting frame, word by word, into a chain of PBUF_POOL pbufs and hands it to lwIP
 * (no frame-sized buffer of its own). Sending writes two command words and the frame's words,
 * straight from its pbufs, to the TX FIFO; the chip's TX status words are read and dropped. MAC
 * registers (MAC_CR, the address, MII) are reached indirectly through MAC_CSR_CMD/MAC_CSR_DATA.
 * Register offsets and bits are from the LAN9118 datasheet.
 *
 * The link state comes from the internal PHY's basic status register (IEEE 802.3 clause 22,
 * register 1, bit 2), read over the MAC's MII_ACC/MII_DATA every LINK_POLL_MS from
 * hal_net_poll(); changes go to lwIP (netif_set_link_up/down: DHCP renews its lease after a link
 * comes back). QEMU's model keeps that bit (and auto-negotiation complete) in step with the
 * NIC's link, which the monitor's `set_link` command switches; its MII access completes at once.
 */
#include "hal_clock.h"
#include "hal_net.h"
#include "mps2_board.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

#define LAN_BASE 0x40200000u
#define LAN(off) MPS2_REG(LAN_BASE + (off))

/* System control and status registers (direct). */
#define RX_DATA_FIFO LAN(0x00u)
#define TX_DATA_FIFO LAN(0x20u)
#define RX_STATUS_FIFO LAN(0x40u)
#define TX_STATUS_FIFO LAN(0x48u)
#define ID_REV LAN(0x50u)
#define INT_EN LAN(0x5Cu)
#define BYTE_TEST LAN(0x64u)
#define TX_CFG LAN(0x70u)
#define HW_CFG LAN(0x74u)
#define RX_FIFO_INF LAN(0x7Cu)
#define TX_FIFO_INF LAN(0x80u)
#define PMT_CTRL LAN(0x84u)
#define MAC_CSR_CMD LAN(0xA4u)
#define MAC_CSR_DATA LAN(0xA8u)

#define BYTE_TEST_VALUE 0x87654321u
#define HW_CFG_SRST (1u << 0)
#define PMT_CTRL_READY (1u << 0)
#define TX_CFG_TX_ON (1u << 1)
#define CSR_BUSY (1u << 31)
#define CSR_READ (1u << 30)

/* MAC CSRs (indirect). */
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_MII_ACC 6u
#define MAC_MII_DATA 7u
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_RXEN (1u << 2)
#define MAC_CR_FDPX (1u << 20)

/* MII_ACC: PHY address (15:11), PHY register (10:6), write (1), busy (0: set to start an access,
 * reads 1 until the PHY has answered). */
#define MII_ACC_PHY(a) ((uint32_t)(a) << 11)
#define MII_ACC_REG(r) ((uint32_t)(r) << 6)
#define MII_ACC_BUSY (1u << 0)
#define PHY_ADDR 1u          /* the LAN9118's internal PHY */
#define PHY_BMSR 1u          /* basic status register */
#define BMSR_LINK (1u << 2)  /* link status; latches low on a drop until read */

/* How often the PHY is asked about the link: a cable pulled shows in `net` within half a second,
 * for a handful of MAC CSR accesses twice a second. */
#define LINK_POLL_MS 500u

/* RX status word: frame length (with the 4-byte FCS) and the error summary. */
#define RXS_LEN(s) (((s) >> 16) & 0x3FFFu)
#define RXS_ERROR (1u << 15)
#define RX_FIFO_INF_STATUS_USED(v) (((v) >> 16) & 0xFFu)
#define TX_FIFO_INF_STATUS_USED(v) (((v) >> 16) & 0xFFu)
#define TX_FIFO_INF_DATA_FREE(v) ((v) & 0xFFFFu)

/* TX command A: first and last segment, buffer size; command B: tag and frame length. */
#define TXA_FIRST (1u << 13)
#define TXA_LAST (1u << 12)

#define FRAME_MAX 1518u      /* a VLAN-tagged 1500-byte MTU frame without FCS */
#define SPIN_LIMIT 100000u   /* register waits; the chip answers in microseconds */

/* QEMU's default MAC for the first NIC, used when the chip reports none. */
static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static struct netif lan_netif;
static bool have_netif;
static const char *why_none = "no network: the LAN9118 has not been initialised";
static uint32_t frames_in;
static uint32_t frames_out;
static uint32_t frames_dropped;
static uint32_t link_changes;
static uint32_t link_polled_ms;

static int mac_csr_wait(void)
{
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if ((MAC_CSR_CMD & CSR_BUSY) == 0u) {
            return 0;
        }
    }
    return -1;
}

static uint32_t mac_read(uint32_t reg)
{
    (void)mac_csr_wait();
    MAC_CSR_CMD = CSR_BUSY | CSR_READ | reg;
    (void)mac_csr_wait();
    return MAC_CSR_DATA;
}

static void mac_write(uint32_t reg, uint32_t value)
{
    (void)mac_csr_wait();
    MAC_CSR_DATA = value;
    MAC_CSR_CMD = CSR_BUSY | reg;
    (void)mac_csr_wait();
}

/* ---- PHY -------------------------------------------------------------------------------------- */

static bool mii_idle(void)
{
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if ((mac_read(MAC_MII_ACC) & MII_ACC_BUSY) == 0u) {
            return true;
        }
    }
    return false;
}

/* Reads PHY register reg into *value; false when the MII stays busy. */
static bool phy_read(uint32_t reg, uint32_t *value)
{
    if (!mii_idle()) {
        return false;
    }
    mac_write(MAC_MII_ACC, MII_ACC_PHY(PHY_ADDR) | MII_ACC_REG(reg) | MII_ACC_BUSY);
    if (!mii_idle()) {
        return false;
    }
    *value = mac_read(MAC_MII_DATA) & 0xFFFFu;
    return true;
}

/* Tells lwIP the PHY's link state when it differs from what lwIP has. A PHY that does not answer
 * changes nothing. */
static void link_poll(void)
{
    uint32_t bmsr;
    bool up;

    if (!phy_read(PHY_BMSR, &bmsr)) {
        return;
    }
    up = (bmsr & BMSR_LINK) != 0u;
    if (up == (netif_is_link_up(&lan_netif) != 0)) {
        return;
    }
    link_changes++;
    if (up) {
        netif_set_link_up(&lan_netif);
    } else {
        netif_set_link_down(&lan_netif);
    }
}

/* ---- receive ---------------------------------------------------------------------------------- */

static void drop_words(uint32_t words)
{
    while (words-- > 0u) {
        (void)RX_DATA_FIFO;
    }
}

static void receive_one(void)
{
    uint32_t status = RX_STATUS_FIFO;
    uint32_t len = RXS_LEN(status);
    uint32_t words = (len + 3u) / 4u;

    if ((status & RXS_ERROR) != 0u || len < 4u + 14u || len > FRAME_MAX + 4u) {
        drop_words(words); /* a bad or oversized frame: empty it out of the FIFO */
        frames_dropped++;
        return;
    }
    len -= 4u; /* the FCS, which is read out of the FIFO but not kept */
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (p == NULL) {
        drop_words(words);
        frames_dropped++; /* PBUF_POOL is empty: lwIP counts the error, `mem` shows it */
        return;
    }
    /* Straight from the FIFO into the pbuf chain, a word at a time (no frame-sized buffer):
     * bytes go out of each word in wire order (the FIFO is little-endian, first byte lowest). */
    struct pbuf *q = p;
    uint16_t at = 0;
    for (uint32_t i = 0; i < words; i++) {
        uint32_t w = RX_DATA_FIFO;
        for (unsigned b = 0; b < 4u && q != NULL; b++, w >>= 8) {
            ((uint8_t *)q->payload)[at++] = (uint8_t)w;
            if (at == q->len) {
                q = q->next;
                at = 0;
            }
        }
    }
    frames_in++;
    if (lan_netif.input(p, &lan_netif) != ERR_OK) {
        pbuf_free(p);
    }
}

/* ---- send ------------------------------------------------------------------------------------- */

static err_t lan_linkoutput(struct netif *nif, struct pbuf *p)
{
    uint32_t len = p->tot_len;
    (void)nif;

    if (len == 0u || len > FRAME_MAX) {
        frames_dropped++;
        return ERR_IF;
    }
    for (uint32_t i = 0; TX_FIFO_INF_DATA_FREE(TX_FIFO_INF) < len + 8u; i++) {
        if (i == SPIN_LIMIT) {
            frames_dropped++;
            return ERR_IF;
        }
    }
    TX_DATA_FIFO = TXA_FIRST | TXA_LAST | len;
    TX_DATA_FIFO = (frames_out << 16) | len;
    /* Straight from the pbuf chain into the FIFO, four bytes a word in wire order; the last word
     * is padded with zeros. */
    uint32_t w = 0;
    unsigned n = 0;
    for (const struct pbuf *q = p; q != NULL; q = q->next) {
        for (uint16_t i = 0; i < q->len; i++) {
            w |= (uint32_t)((const uint8_t *)q->payload)[i] << (8u * n);
            if (++n == 4u) {
                TX_DATA_FIFO = w;
                w = 0;
                n = 0;
            }
        }
    }
    if (n > 0u) {
        TX_DATA_FIFO = w;
    }
    frames_out++;
    return ERR_OK;
}

/* ---- netif ------------------------------------------------------------------------------------ */

static err_t lan_netif_init(struct netif *nif)
{
    uint32_t lo = mac_read(MAC_ADDRL);
    uint32_t hi = mac_read(MAC_ADDRH);

    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->output = etharp_output;
    nif->linkoutput = lan_linkoutput;
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    /* no address in the chip (all zero), or a multicast one (first byte's low bit): our own */
    if ((lo | (hi & 0xFFFFu)) == 0u || (lo & 1u) != 0u) {
        memcpy(nif->hwaddr, default_mac, sizeof default_mac);
        mac_write(MAC_ADDRL, (uint32_t)default_mac[0] | (uint32_t)default_mac[1] << 8 |
                                 (uint32_t)default_mac[2] << 16 | (uint32_t)default_mac[3] << 24);
        mac_write(MAC_ADDRH, (uint32_t)default_mac[4] | (uint32_t)default_mac[5] << 8);
    } else {
        /* ADDRL holds the first four bytes (first on the wire in the low byte), ADDRH the last two */
        for (unsigned i = 0; i < 4u; i++) {
            nif->hwaddr[i] = (uint8_t)(lo >> (8u * i));
        }
        nif->hwaddr[4] = (uint8_t)hi;
        nif->hwaddr[5] = (uint8_t)(hi >> 8);
    }
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif_set_hostname(nif, "certwiz");
    return ERR_OK;
}

static int chip_reset(void)
{
    uint32_t i;

    if (BYTE_TEST != BYTE_TEST_VALUE) {
        why_none = "no network: no LAN9118 answers at 0x40200000 (BYTE_TEST)";
        return -1;
    }
    HW_CFG = HW_CFG_SRST;
    for (i = 0; i < SPIN_LIMIT && (HW_CFG & HW_CFG_SRST) != 0u; i++) {
    }
    for (; i < SPIN_LIMIT && (PMT_CTRL & PMT_CTRL_READY) == 0u; i++) {
    }
    if (i == SPIN_LIMIT) {
        why_none = "no network: the LAN9118 did not come out of reset";
        return -1;
    }
    INT_EN = 0; /* polled */
    TX_CFG = TX_CFG_TX_ON;
    mac_write(MAC_CR, mac_read(MAC_CR) | MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX);
    return 0;
}

int board_net_init(void)
{
    ip4_addr_t any;
    uint32_t bmsr;

    if (chip_reset() < 0) {
        board_uart_puts("\r\nmps2-an386: ");
        board_uart_puts(why_none);
        board_uart_puts("\r\n");
        return -1;
    }
    ip4_addr_set_zero(&any);
    if (netif_add(&lan_netif, &any, &any, &any, NULL, lan_netif_init, netif_input) == NULL) {
        why_none = "no network: lwIP refused the LAN9118 interface";
        return -1;
    }
    have_netif = true;
    netif_set_default(&lan_netif);
    netif_set_up(&lan_netif);
    /* The link as the PHY has it now: the first read may return a drop latched since reset. With
     * the link down, DHCP waits for netif_set_link_up(). */
    (void)phy_read(PHY_BMSR, &bmsr);
    link_poll();
    link_changes = 0;
    link_polled_ms = hal_clock_ms();
    if (dhcp_start(&lan_netif) != ERR_OK) {
        why_none = "no network: DHCP could not start";
        return -1;
    }
    return 0;
}

/* ---- hal_net ---------------------------------------------------------------------------------- */

struct netif *hal_net_netif(void)
{
    return have_netif ? &lan_netif : NULL;
}

const char *hal_net_describe(void)
{
    static char text[112]; /* the longest, every counter at 10 digits: 104 bytes and the NUL */
    if (!have_netif) {
        return why_none;
    }
    (void)snprintf(text, sizeof text,
                   "LAN9118 (id %08lx); frames in %lu, out %lu, dropped %lu; link changes %lu",
                   (unsigned long)ID_REV, (unsigned long)frames_in, (unsigned long)frames_out,
                   (unsigned long)frames_dropped, (unsigned long)link_changes);
    return text;
}

void hal_net_poll(void)
{
    if (!have_netif) {
        return;
    }
    if ((uint32_t)(hal_clock_ms() - link_polled_ms) >= LINK_POLL_MS) {
        link_polled_ms = hal_clock_ms();
        link_poll();
    }
    while (RX_FIFO_INF_STATUS_USED(RX_FIFO_INF) > 0u) {
        receive_one();
    }
    while (TX_FIFO_INF_STATUS_USED(TX_FIFO_INF) > 0u) {
        (void)TX_STATUS_FIFO; /* transmit results: lwIP's TCP resends what was lost */
    }
}
