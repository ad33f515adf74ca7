/*
 * cw_clock.c: the wall clock certwiz trusts (cw_clock.h).
 *
 * An RTC is read whenever the time is asked. SNTP's time is kept as "utc at tick": the UTC the
 * server gave and the tick (hal_clock_ms) when it came; reading adds the ticks since, counted in
 * 64 bits across the tick's 49.7-day wrap by cw_clock_poll, which the main loop calls far more
 * often than that. The RTC is compared with the tick once a second in the same way, to notice
 * when it jumps.
 */
#include "cw/base/cw_clock.h"

#include "hal_clock.h"

static struct {
    cw_clock_source source;
    int64_t base_utc;          /* the source's UTC ... */
    uint64_t base_ms;          /* ... at this tick (64-bit) */
    uint64_t ms;               /* the tick, 64-bit, as of the last read */
    uint32_t last_tick;
    uint64_t last_rtc_check_ms;
    bool jumped;
    int64_t jump_s, jump_at;
    uint32_t syncs;
} clk;

/* The tick in 64 bits: each call adds what the 32-bit tick moved since the last. */
static uint64_t tick64(void)
{
    uint32_t now = hal_clock_ms();
    clk.ms += (uint32_t)(now - clk.last_tick);
    clk.last_tick = now;
    return clk.ms;
}

/* What certwiz counted: the source's UTC plus the whole seconds since. The base moves forward a
 * whole second at a time, so that the division stays in 32 bits (no 64-bit division on a small
 * board) however long the device runs between two answers. */
static int64_t counted(uint64_t ms)
{
    while (ms - clk.base_ms >= 0x40000000u) {
        clk.base_ms += 1000000u;
        clk.base_utc += 1000;
    }
    return clk.base_utc + (int64_t)((uint32_t)(ms - clk.base_ms) / 1000u);
}

/* A source says utc now: taken, and a jump noted when it differs from what was counted. */
static bool take(cw_clock_source src, int64_t utc, uint64_t ms)
{
    bool jump = false;
    if (clk.source != CW_CLOCK_UNKNOWN) {
        int64_t d = utc - counted(ms);
        if (d > CW_CLOCK_JUMP_S || d < -CW_CLOCK_JUMP_S) {
            clk.jumped = true;
            clk.jump_s = d;
            clk.jump_at = utc;
            jump = true;
        }
    }
    clk.source = src;
    clk.base_utc = utc;
    clk.base_ms = ms;
    return jump;
}

void cw_clock_init(void)
{
    int64_t rtc = hal_clock_utc();
    clk.source = CW_CLOCK_UNKNOWN;
    clk.jumped = false;
    clk.syncs = 0;
    clk.ms = 0;
    clk.last_tick = hal_clock_ms();
    clk.last_rtc_check_ms = 0;
    if (rtc > 0) {
        (void)take(CW_CLOCK_RTC, rtc, tick64());
    }
}

int64_t cw_clock_utc(void)
{
    if (clk.source == CW_CLOCK_UNKNOWN) {
        return 0;
    }
    if (clk.source == CW_CLOCK_RTC) {
        int64_t rtc = hal_clock_utc(); /* the RTC's own second, never behind it */
        if (rtc > 0) {
            return rtc;
        }
    }
    return counted(tick64());
}

static bool pending_jump;

void cw_clock_set_sntp(int64_t utc, uint32_t us)
{
    uint64_t ms = tick64();
    uint32_t into = us / 1000u;

    if (utc <= 0) {
        return;
    }
    clk.syncs++;
    /* the second began `into` ms ago: count from there, so the time is never behind the server's */
    if (take(CW_CLOCK_SNTP, utc, ms >= into ? ms - into : 0)) {
        pending_jump = true;
    }
}

bool cw_clock_poll(void)
{
    uint64_t ms = tick64();
    bool jump = pending_jump;

    pending_jump = false;
    if (ms - clk.last_rtc_check_ms >= 1000u) {
        /* The RTC is read once a second: while it is the source, a jump is the RTC moving
         * differently from the tick; a board whose RTC only now holds a time makes it known. */
        int64_t rtc;
        clk.last_rtc_check_ms = ms;
        if (clk.source == CW_CLOCK_RTC || clk.source == CW_CLOCK_UNKNOWN) {
            rtc = hal_clock_utc();
            if (rtc > 0) {
                jump = take(CW_CLOCK_RTC, rtc, ms) || jump;
            }
        }
    }
    return jump;
}

void cw_clock_status(cw_clock_status_t *out)
{
    uint64_t ms = tick64();
    out->source = clk.source;
    out->since_ms = (uint32_t)(ms - clk.base_ms);
    out->jumped = clk.jumped;
    out->jump_s = clk.jump_s;
    out->jump_at = clk.jump_at;
    out->syncs = clk.syncs;
}

const char *cw_clock_source_name(cw_clock_source s)
{
    switch (s) {
    case CW_CLOCK_RTC: return "rtc";
    case CW_CLOCK_SNTP: return "sntp";
    case CW_CLOCK_UNKNOWN: break;
    }
    return "unknown";
}
