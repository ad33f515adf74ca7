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

/* The next hal_board_fault_point(name) longjmps to env instead of returning: a power cut at that
 * step, as far as the code under test can tell (nothing after it runs). NULL: none. */
#include <setjmp.h>
void test_board_cut_at(const char *name, jmp_buf *env);

/* Fails the test (cmocka) unless the arena holds no live block: every test ends with this. */
void test_assert_arena_empty(void);

#endif /* TEST_BOARD_H */
