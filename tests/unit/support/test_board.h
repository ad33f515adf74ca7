/*
 * test_board.h: the board under the unit tests. The host board's clock is linked as it is; the
 * UART is a capture buffer the tests read, and bytes the tests "type" go through cw_console_push.
 */
#ifndef TEST_BOARD_H
#define TEST_BOARD_H

#include <stddef.h>

/* Everything the firmware wrote to the UART since the last reset, NUL-terminated. */
const char *test_uart_output(void);

/* Queue bytes for hal_uart_read(), as if typed at the terminal; cw_poll() consumes them. */
void test_uart_feed(const char *s);

/* Forget the captured output. */
void test_uart_reset(void);

/* What hal_token_get() hands to cw_init(): NULL (the default) means "no token on this board". */
struct hal_token_t;
void test_board_set_token(const struct hal_token_t *t);

/* Fails the test (cmocka) unless the arena holds no live block: every test ends with this. */
void test_assert_arena_empty(void);

#endif /* TEST_BOARD_H */
