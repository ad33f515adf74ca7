/*
 * fuzz_board.c: hal_uart and hal_board for fuzz targets (see fuzz_board.h).
 */
#include "fuzz_board.h"

#include <stdio.h>
#include <stdlib.h>

#include "hal_board.h"
#include "hal_net.h"
#include "hal_token.h"
#include "hal_uart.h"

static const uint8_t *in;
static size_t in_len;
static size_t written;

void fuzz_uart_feed(const uint8_t *data, size_t len)
{
    in = data;
    in_len = len;
    written = 0;
}

size_t fuzz_uart_written(void)
{
    return written;
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    /* Pieces of up to 13 bytes: lines split across reads, as from a real UART FIFO. */
    size_t n = in_len < cap ? in_len : cap;
    if (n > 13) {
        n = 13;
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = in[i];
    }
    in += n;
    in_len -= n;
    return n;
}

void hal_uart_write(const uint8_t *buf, size_t len)
{
    (void)buf;
    written += len;
}

const char *hal_board_describe(void)
{
    return "fuzz board";
}

void hal_board_assert_failed(const char *file, int line, const char *expr)
{
    fprintf(stderr, "assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}

unsigned int board_lwip_rand(void)
{
    return 4; /* deterministic runs */
}

cw_err hal_token_get(hal_token_t *out)
{
    (void)out;
    return CW_ERR_NO_TOKEN; /* the console fuzz target runs without a token */
}

void hal_board_fault_point(const char *name)
{
    (void)name;
}

/* No network on the fuzz board: `net` and `http` answer at once, so console input never starts
 * a request that would wait for traffic. */
struct netif *hal_net_netif(void)
{
    return NULL;
}

const char *hal_net_describe(void)
{
    return "fuzz board: no network";
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
