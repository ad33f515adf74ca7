/*
 * mps2_main.c: the MPS2 AN386 board's main loop (the test image, tests/target/, has its own).
 */
#include "cw/cw.h"
#include "hal_net.h"
#include "mps2_board.h"

#include "lwip/init.h"
#include "lwip/timeouts.h"

int main(void)
{
    board_clock_init();
    board_uart_init();
    lwip_init();
    (void)board_net_init(); /* the console works without a network; `net` says why */
    board_uart_puts("\r\nmps2-an386: no PKCS#11 provider on this board (no secure element attached); "
                    "token commands answer NO_TOKEN\r\n");
    if (cw_init(NULL) != CW_OK) {
        board_semihost_exit(1);
    }
    for (;;) {
        hal_net_poll();
        sys_check_timeouts();
        cw_poll();
        board_idle();
    }
}
