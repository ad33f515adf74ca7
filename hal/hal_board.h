/*
 * hal_board.h: facts and services of the board as a whole.
 */
#ifndef HAL_BOARD_H
#define HAL_BOARD_H

#include <stddef.h>

/* One line describing the board's build (compiler, target), for `version`. */
const char *hal_board_describe(void);

/* The main stack's size and the most of it ever used, in bytes (a painted stack, scanned on
 * call); returns 0, or -1 when the board cannot tell (a process on an OS). For `mem`. */
int hal_board_stack_usage(size_t *size, size_t *high_water);

/* Reached by a broken internal invariant (CW_ASSERT in cw_assert.h); does not return. */
void hal_board_assert_failed(const char *file, int line, const char *expr);

/* Reached at the named steps of multi-step token updates (cw_fault.h lists them). A board may
 * stop the device there to test what a power cut at that instant leaves behind (the host
 * board's --crash-at NAME raises SIGKILL); every other board does nothing. */
void hal_board_fault_point(const char *name);

#endif /* HAL_BOARD_H */
