/*
 * target_board.h: what a cross board provides to the on-target unit tests (tests/target/), beside
 * the hal/ interfaces. The MPS2 AN386 board implements these in board/mps2-an386/.
 */
#ifndef TARGET_BOARD_H
#define TARGET_BOARD_H

#include <stddef.h>

/* Enables the console UART for output. */
void board_uart_init(void);

/* Writes a NUL-terminated string to the console. */
void board_uart_puts(const char *s);

/* Bytes of the main stack and the most of it ever used (painted at reset, scanned on call). */
void board_stack_usage(size_t *size, size_t *high_water);

/* Ends the run with this exit status (the emulator's exit status). */
void board_semihost_exit(int status);

/* The emulator's command line for this program, NUL-terminated in buf[0..cap); "" when none. */
void board_semihost_cmdline(char *buf, size_t cap);

#endif /* TARGET_BOARD_H */
