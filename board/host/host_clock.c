/*
 * host_clock.c: hal_clock on the OS clocks, and lwIP's sys_now().
 *
 * The PC's clock stands for a battery-backed RTC (the PC keeps it with NTP), unless --no-rtc says
 * the board has none. Tests move it with --clock-offset: a fixed number of seconds, or @FILE whose
 * content (seconds) is read again whenever certwiz reads the RTC, so that a test can make the
 * clock jump while the device runs.
 */
#include "hal_clock.h"
#include "host_board.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lwip/sys.h"

static struct timespec boot;
static bool have_rtc = true;
static long long offset_s;
static const char *offset_file;

void host_clock_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &boot);
}

void host_clock_configure(bool rtc, long long offset, const char *file)
{
    have_rtc = rtc;
    offset_s = offset;
    offset_file = file;
}

uint32_t hal_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(now.tv_sec - boot.tv_sec) * 1000 + (now.tv_nsec - boot.tv_nsec) / 1000000;
    return (uint32_t)ms; /* wraps, as a 32-bit tick counter does */
}

/* --clock-offset @FILE: its number, or the last one read when it holds none. */
static long long file_offset(void)
{
    FILE *f = fopen(offset_file, "r");
    long long v;
    if (f == NULL) {
        return offset_s;
    }
    if (fscanf(f, "%lld", &v) == 1) {
        offset_s = v;
    }
    fclose(f);
    return offset_s;
}

int64_t hal_clock_utc(void)
{
    struct timespec now;
    if (!have_rtc) {
        return 0;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec + (offset_file != NULL ? file_offset() : offset_s);
}

u32_t sys_now(void)
{
    return hal_clock_ms();
}
