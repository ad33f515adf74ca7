/*
 * mps2_board.c: the MPS2 AN386 board's hal_board hooks and lwIP's random numbers.
 */
#include <stdint.h>

#include "cw_p11_rpc.h"
#include "hal_board.h"
#include "mps2_board.h"

const char *hal_board_describe(void)
{
    return "Arm MPS2 AN386, Cortex-M4, " CW_BOARD_COMPILER ", newlib-nano; token on UART1: " CW_P11_RPC_WIRE_NAME;
}

void hal_board_assert_failed(const char *file, int line, const char *expr)
{
    char num[12];
    size_t i = sizeof num - 1;
    unsigned int n = line < 0 ? 0u : (unsigned int)line;

    num[i] = '\0';
    do {
        num[--i] = (char)('0' + n % 10u);
        n /= 10u;
    } while (n != 0u && i > 0);
    board_uart_puts("\r\nmps2-an386: assertion failed at ");
    board_uart_puts(file);
    board_uart_puts(":");
    board_uart_puts(&num[i]);
    board_uart_puts(": ");
    board_uart_puts(expr);
    board_uart_puts("\r\n");
    board_semihost_exit(70);
}

void hal_board_fault_point(const char *name)
{
    (void)name; /* power-cut tests run on the host board */
}

/* xorshift32 for lwIP's ports, DHCP xid and DNS ids (not for keys), seeded from the clock. */
unsigned int board_lwip_rand(void)
{
    static uint32_t s;
    if (s == 0) {
        s = 0x9E3779B9u ^ MPS2_REG(0xE000E018u);
    }
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return (unsigned int)s;
}

int hal_board_stack_usage(size_t *size, size_t *high_water)
{
    board_stack_usage(size, high_water);
    return 0;
}
