/*
 * test_board.c: hal_uart and hal_board for unit tests (see test_board.h).
 */
#include "test_board.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "hal_board.h"
#include "hal_net.h"
#include "hal_token.h"
#include "hal_uart.h"

/* Large enough for the longest reply a unit test provokes; overflowing it fails the test. */
#define TEST_UART_CAP (64u * 1024u)

static char out[TEST_UART_CAP + 1];
static size_t out_len;

const char *test_uart_output(void)
{
    out[out_len] = '\0';
    return out;
}

void test_uart_reset(void)
{
    out_len = 0;
    out[0] = '\0';
}

static char in[4096];
static size_t in_len;
static size_t in_pos;

void test_uart_feed(const char *s)
{
    size_t n = strlen(s);
    assert_true(in_len + n <= sizeof in);
    memcpy(in + in_len, s, n);
    in_len += n;
}

/* Hands out input in pieces of at most 7 bytes, as a UART FIFO does, to exercise reassembly. */
size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    size_t n = in_len - in_pos;
    if (n > cap) {
        n = cap;
    }
    if (n > 7) {
        n = 7;
    }
    memcpy(buf, in + in_pos, n);
    in_pos += n;
    if (in_pos == in_len) {
        in_pos = in_len = 0;
    }
    return n;
}

void hal_uart_write(const uint8_t *buf, size_t len)
{
    assert_true(out_len + len <= TEST_UART_CAP);
    memcpy(out + out_len, buf, len);
    out_len += len;
}

const char *hal_board_describe(void)
{
    return "unit-test board";
}

void hal_board_assert_failed(const char *file, int line, const char *expr)
{
    fprintf(stderr, "assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}

unsigned int board_lwip_rand(void)
{
    return (unsigned int)rand();
}

void test_assert_arena_empty(void)
{
    cw_arena_stats_t s;
    cw_arena_stats(&s);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.blocks, 0);
}

static hal_token_t token;
static bool have_token;

void test_board_set_token(const struct hal_token_t *t)
{
    have_token = t != NULL;
    if (t != NULL) {
        token = *t;
    }
}

cw_err hal_token_get(hal_token_t *t)
{
    if (!have_token) {
        return CW_ERR_NO_TOKEN;
    }
    *t = token;
    return CW_OK;
}

static const char *cut_at;
static jmp_buf *cut_env;

void test_board_cut_at(const char *name, jmp_buf *env)
{
    cut_at = name;
    cut_env = env;
}

/* A power cut at the named step: nothing after it runs (the test longjmps back, as a restart
 * would find the token). */
void hal_board_fault_point(const char *name)
{
    if (cut_at != NULL && cut_env != NULL && strcmp(name, cut_at) == 0) {
        jmp_buf *env = cut_env;
        cut_at = NULL;
        cut_env = NULL;
        longjmp(*env, 1);
    }
}

/* No network on the unit-test board: `net` and `http` answer NET_NO_INTERFACE. The HTTP response
 * parser and the URL parser are tested directly, without lwIP traffic. */
struct netif *hal_net_netif(void)
{
    return NULL;
}

const char *hal_net_describe(void)
{
    return "unit-test board: no network";
}

void hal_net_poll(void)
{
}

int hal_board_stack_usage(size_t *size, size_t *high_water)
{
    (void)size;
    (void)high_water;
    return -1; /* a process: the OS owns the stack */
}
