/*
 * mps2_main.c: the MPS2 AN386 board's main loop (the test image, tests/target/, has its own).
 */
#include "cw/cw.h"
#include "hal_net.h"
#include "mps2_board.h"

#include "lwip/init.h"
#include "lwip/timeouts.h"

/* The SNTP server: the board has no RTC, so its time comes from there (docs/lifecycle.md). The
 * board runs under QEMU's user network, where the PC is 10.0.2.2; `make BOARD=mps2-an386
 * MPS2_NTP=...` names another (an address or a name), MPS2_NTP= takes DHCP's NTP option. */
#ifndef MPS2_NTP_SERVER
#define MPS2_NTP_SERVER "10.0.2.2"
#endif

int main(void)
{
    cw_config_t cfg;

    board_clock_init();
    board_uart_init();
    lwip_init();
    (void)board_net_init(); /* the console works without a network; `net` says why */
    cw_config_default(&cfg);
    cfg.ntp_server = MPS2_NTP_SERVER[0] != '\0' ? MPS2_NTP_SERVER : NULL;
    if (cw_init(&cfg) != CW_OK) {
        board_semihost_exit(1);
    }
    for (;;) {
        hal_net_poll();
        sys_check_timeouts();
        cw_poll();
        board_idle();
    }
}
