/*
 * fuzz_console.c: arbitrary bytes on the serial line, through the real command table.
 * Properties: no crash, no sanitizer report, the arena is empty afterwards, and a garbled line
 * never stops the console from answering the next good command.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw/cw.h"
#include "cw/base/cw_arena.h"
#include "lwip/init.h"
#include "support/fuzz_board.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int lwip_ready;
    static const uint8_t probe[] = "\x03\rversion\r";
    cw_arena_stats_t s;

    if (!lwip_ready) {
        lwip_init();
        lwip_ready = 1;
    }
    cw_init(NULL);
    fuzz_uart_feed(data, size);
    cw_poll();

    /* After Ctrl-C and a fresh line, `version` must answer. */
    fuzz_uart_feed(probe, sizeof probe - 1);
    cw_poll();
    if (fuzz_uart_written() < 40) {
        abort();
    }
    cw_arena_stats(&s);
    if (s.used != 0) {
        abort();
    }
    return 0;
}
