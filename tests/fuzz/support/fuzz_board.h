/*
 * fuzz_board.h: the board under the fuzz targets: UART input from the fuzzer's bytes, output
 * discarded (but counted, so a target can check the console always answers).
 */
#ifndef FUZZ_BOARD_H
#define FUZZ_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* The next hal_uart_read() calls hand out data[0..len) in pieces. */
void fuzz_uart_feed(const uint8_t *data, size_t len);

/* Bytes the firmware wrote since the last feed. */
size_t fuzz_uart_written(void);

#endif /* FUZZ_BOARD_H */
