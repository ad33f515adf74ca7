/*
 * hal_clock.h: time, as the core needs it from a board.
 */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

/* Milliseconds since boot, monotonic; wraps after 49.7 days (compare with unsigned subtraction). */
uint32_t hal_clock_ms(void);

/* Wall-clock UTC in seconds since 1970-01-01, or 0 when the board does not know the time yet
 * (certificate validity checks refuse to run then). */
int64_t hal_clock_utc(void);

#endif /* HAL_CLOCK_H */
