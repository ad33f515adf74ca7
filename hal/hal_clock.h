/*
 * hal_clock.h: time, as the core needs it from a board.
 */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

/* Milliseconds since boot, monotonic; wraps after 49.7 days (compare with unsigned subtraction). */
uint32_t hal_clock_ms(void);

/* The board's real-time clock: UTC in seconds since 1970-01-01, or 0 when the board has none or
 * it holds no time. Non-zero means the board vouches for it (battery-backed, or kept by the OS):
 * certwiz trusts it (cw_clock.h) and reads it once a second to notice jumps. */
int64_t hal_clock_utc(void);

#endif /* HAL_CLOCK_H */
