/*
 * cw_clock.h: the wall clock certwiz trusts, and how it knows it (docs/lifecycle.md).
 *
 * Certificates are judged by UTC, and a wrong UTC turns a good certificate into an "expired"
 * one. certwiz therefore keeps its own view of the time: unknown until a source it trusts has
 * spoken (the board's battery-backed RTC, or an SNTP answer), and from then on the monotonic
 * tick since that moment. Until then cw_clock_utc() answers 0, every validity judgement says
 * CW_ERR_TIME_UNKNOWN, and nothing is scheduled by the wall clock.
 *
 * A source that moves differently from the tick (an RTC set by hand, an SNTP answer far from
 * what certwiz counted) is a jump: the new time is taken (the source is trusted), the jump is
 * remembered for `status`, and whatever is scheduled by the wall clock is judged again.
 */
#ifndef CW_CLOCK_H
#define CW_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef enum cw_clock_source {
    CW_CLOCK_UNKNOWN = 0, /* nothing trusted has said the time yet */
    CW_CLOCK_RTC,         /* the board's clock, which it says keeps time across power cuts */
    CW_CLOCK_SNTP         /* an SNTP server's answer, counted on with the tick */
} cw_clock_source;

/* A difference between a source and the tick above this many seconds is a jump. */
#define CW_CLOCK_JUMP_S 120

/* Reads the board: with an RTC that holds a time (hal_clock_rtc), the time is known from boot. */
void cw_clock_init(void);

/* Trusted UTC seconds, or 0 when the time is unknown. */
int64_t cw_clock_utc(void);

/* An SNTP answer (lwIP's sntp app calls it through SNTP_SET_SYSTEM_TIME_US): utc seconds and
 * the microseconds into that second. */
void cw_clock_set_sntp(int64_t utc, uint32_t us);

/* From the main loop: compares the RTC with the tick (once a second) to notice a jump. Returns
 * true once after each jump, so that the caller judges its schedule again. */
bool cw_clock_poll(void);

typedef struct cw_clock_status_t {
    cw_clock_source source;
    uint32_t since_ms;        /* ms since the source last set or confirmed the time */
    bool jumped;              /* a jump was seen since boot ... */
    int64_t jump_s;           /* ... by this many seconds (negative: backwards) ... */
    int64_t jump_at;          /* ... at this (new) UTC */
    uint32_t syncs;           /* SNTP answers taken */
} cw_clock_status_t;

void cw_clock_status(cw_clock_status_t *out);

/* "unknown", "rtc", "sntp". */
const char *cw_clock_source_name(cw_clock_source s);

#endif /* CW_CLOCK_H */
