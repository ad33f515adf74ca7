/*
 * hal_board.h: facts and services of the board as a whole.
 */
#ifndef HAL_BOARD_H
#define HAL_BOARD_H

/* One line describing the board's build (compiler, target), for `version`. */
const char *hal_board_describe(void);

/* Reached by a broken internal invariant (CW_ASSERT in cw_assert.h); does not return. */
void hal_board_assert_failed(const char *file, int line, const char *expr);

#endif /* HAL_BOARD_H */
