/*
 * host_clock.c: hal_clock on the OS clocks, and lwIP's sys_now().
 */
#include "hal_clock.h"
#include "host_board.h"

#include <time.h>

#include "lwip/sys.h"

static struct timespec boot;

void host_clock_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &boot);
}

uint32_t hal_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(now.tv_sec - boot.tv_sec) * 1000 + (now.tv_nsec - boot.tv_nsec) / 1000000;
    return (uint32_t)ms; /* wraps, as a 32-bit tick counter does */
}

int64_t hal_clock_utc(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec;
}

u32_t sys_now(void)
{
    return hal_clock_ms();
}
