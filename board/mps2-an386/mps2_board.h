/*
 * mps2_board.h: the MPS2 AN386 board's own interfaces between its files (not a hal/ header).
 *
 * Addresses and register layouts are those of Arm's MPS2 AN386 application note and the
 * peripheral datasheets (CMSDK APB UART, SMSC LAN9118, Armv7-M SysTick), as QEMU emulates them.
 */
#ifndef MPS2_BOARD_H
#define MPS2_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The FPGA's main clock: the UART's baud divider and SysTick count this (QEMU: 25 MHz). */
#define MPS2_SYSCLK_HZ 25000000u

#define MPS2_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* ---- mps2_startup.c ------------------------------------------------------------------------ */

/* Bytes of the main stack and the most of it ever used (painted at reset, scanned on call). */
void board_stack_usage(size_t *size, size_t *high_water);

/* ---- mps2_clock.c ---------------------------------------------------------------------------- */

/* Starts SysTick at 1 kHz; hal_clock_ms() counts from here. */
void board_clock_init(void);

/* Waits for the next interrupt (the SysTick at the latest): the main loop's idle. */
void board_idle(void);

/* ---- mps2_uart.c ----------------------------------------------------------------------------- */

/* Enables UART0 at 115200 baud, 8N1, polled. */
void board_uart_init(void);

/* Writes a NUL-terminated string to the console (board messages before and beside the core). */
void board_uart_puts(const char *s);

/* UART1, the token link (mps2_token.c): 115200 baud, 8N1, polled. send gives up when the UART
 * has not taken a byte within timeout_ms of the call (nothing reads on the other side); recv
 * returns what arrived within timeout_ms of the call (0: only what is already there). */
void board_uart1_init(void);
bool board_uart1_send(const uint8_t *buf, size_t len, uint32_t timeout_ms);
size_t board_uart1_recv(uint8_t *buf, size_t len, uint32_t timeout_ms);

/* ---- mps2_lan9118.c -------------------------------------------------------------------------- */

/* Resets the LAN9118, adds it to lwIP as the default netif and starts DHCP; call after
 * lwip_init(). Returns 0, or -1 (with a console message) when the chip does not answer. */
int board_net_init(void);

/* ---- mps2_semihost.c ------------------------------------------------------------------------- */

/* Ends the emulation with this exit status (Arm semihosting SYS_EXIT_EXTENDED); a board
 * without a debugger attached would lock up, so only tests and fatal errors call it. */
void board_semihost_exit(int status);

/* The program's command line as the emulator gives it (QEMU: the -kernel file, then -append's
 * text), NUL-terminated in buf[0..cap); "" when it gives none. */
void board_semihost_cmdline(char *buf, size_t cap);

#endif /* MPS2_BOARD_H */
