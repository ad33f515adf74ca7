/*
 * mps2_uart.c: the console on UART0 and the token link on UART1, Arm CMSDK APB UARTs, polled (no
 * interrupts).
 *
 * The CMSDK UART has a one-byte buffer in each direction: STATE says whether the transmit
 * buffer is full and whether a received byte waits. QEMU holds further input back until DATA
 * has been read, so a polled reader loses nothing there; on the real FPGA the main loop must
 * come round within one character time (87 us at 115200 baud), and the token link's reader
 * does, as it only reads while it waits for a reply.
 */
#include "hal_clock.h"
#include "hal_uart.h"
#include "mps2_board.h"

#define UART0_BASE 0x40004000u
#define UART1_BASE 0x40005000u
#define UART_DATA(b) MPS2_REG((b) + 0x00u)
#define UART_STATE(b) MPS2_REG((b) + 0x04u)
#define UART_CTRL(b) MPS2_REG((b) + 0x08u)
#define UART_BAUDDIV(b) MPS2_REG((b) + 0x10u)

#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)

#define UART_BAUD 115200u

static void uart_init(uint32_t base)
{
    UART_BAUDDIV(base) = MPS2_SYSCLK_HZ / UART_BAUD; /* 217; the UART requires at least 16 */
    UART_CTRL(base) = UART_CTRL_TX_EN | UART_CTRL_RX_EN;
}

void board_uart_init(void)
{
    uart_init(UART0_BASE);
}

static void put_byte(uint8_t c)
{
    while ((UART_STATE(UART0_BASE) & UART_STATE_TX_FULL) != 0u) {
    }
    UART_DATA(UART0_BASE) = c;
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && (UART_STATE(UART0_BASE) & UART_STATE_RX_FULL) != 0u) {
        buf[n++] = (uint8_t)UART_DATA(UART0_BASE);
    }
    return n;
}

void hal_uart_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        put_byte(buf[i]);
    }
}

void board_uart_puts(const char *s)
{
    while (*s != '\0') {
        put_byte((uint8_t)*s++);
    }
}

/* ---- UART1: the token link ------------------------------------------------------------------- */

void board_uart1_init(void)
{
    uart_init(UART1_BASE);
}

/* The waits spin on STATE and the SysTick clock: a wfi would wait a whole tick per byte. */
bool board_uart1_send(const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    uint32_t t0 = hal_clock_ms();
    for (size_t i = 0; i < len; i++) {
        while ((UART_STATE(UART1_BASE) & UART_STATE_TX_FULL) != 0u) {
            if (hal_clock_ms() - t0 > timeout_ms) {
                return false; /* nobody reads: the PC side stopped */
            }
        }
        UART_DATA(UART1_BASE) = buf[i];
    }
    return true;
}

size_t board_uart1_recv(uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    uint32_t t0 = hal_clock_ms();
    size_t n = 0;
    while (n < len) {
        if ((UART_STATE(UART1_BASE) & UART_STATE_RX_FULL) != 0u) {
            buf[n++] = (uint8_t)UART_DATA(UART1_BASE);
        } else if (hal_clock_ms() - t0 >= timeout_ms) {
            break;
        }
    }
    return n;
}
