/*
 * cw.h: the entry points a board calls.
 *
 * One thread, no RTOS: the board's main loop calls board_poll() (network input, lwIP timers) and
 * cw_poll() (console input, one step of the running operation), forever.
 */
#ifndef CW_H
#define CW_H

#include "cw/base/cw_err.h"

/* Brings up the arena, opens the board's token (a missing token is reported by `status`, not
 * fatal) and the console, and prints the banner and the first prompt. Call once, after the
 * board's UART, clock and token provider work. */
cw_err cw_init(void);

/* Reads what the UART has received and runs what it completes. Never blocks. */
void cw_poll(void);

/* Releases what cw_init took from the board (the token session). The board calls it before it
 * powers down or exits; the console stops answering. */
void cw_shutdown(void);

#endif /* CW_H */
