/*
 * hal_uart.h: the console's serial port, as the core needs it from a board.
 */
#ifndef HAL_UART_H
#define HAL_UART_H

#include <stddef.h>
#include <stdint.h>

/* Copies up to cap received bytes into buf without waiting; returns how many (0: none yet). */
size_t hal_uart_read(uint8_t *buf, size_t cap);

/* Sends len bytes; may block until the UART has taken them. Bytes nobody listens to may be lost,
 * as on a real UART with no cable attached. */
void hal_uart_write(const uint8_t *buf, size_t len);

#endif /* HAL_UART_H */
