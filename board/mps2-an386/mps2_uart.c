/*
 * mps2_uart.c: the console on UART0, an Arm CMSDK APB UART, polled (no interrupts).
 *
 * The CMSDK UART has a one-byte buffer in each direction: STATE says whether the transmit
 * buffer is full and whether a received byte waits. QEMU holds further input back until DATA
 * has been read, so a polled reader loses nothing there; on the real FPGA the main loop must
 * come round within one character time (87 us at 115200 baud).
 */
#include "hal_uart.h"
#include "mps2_board.h"

#define UART0_BASE 0x40004000u
#define UART_DATA MPS2_REG(UART0_BASE + 0x00u)
#define UART_STATE MPS2_REG(UART0_BASE + 0x04u)
#define UART_CTRL MPS2_REG(UART0_BASE + 0x08u)
#define UART_BAUDDIV MPS2_REG(UART0_BASE + 0x10u)

#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)

#define UART_BAUD 115200u

void board_uart_init(void)
{
    UART_BAUDDIV = MPS2_SYSCLK_HZ / UART_BAUD; /* 217; the UART requires at least 16 */
    UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN;
}

static void put_byte(uint8_t c)
{
    while ((UART_STATE & UART_STATE_TX_FULL) != 0u) {
    }
    UART_DATA = c;
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && (UART_STATE & UART_STATE_RX_FULL) != 0u) {
        buf[n++] = (uint8_t)UART_DATA;
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
