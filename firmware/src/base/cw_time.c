/*
 * cw_time.c: days <-> civil date, by the well-known era arithmetic on 400-year cycles
 * (146097 days each), which is exact for the proleptic Gregorian calendar.
 *
 * Every division is on 32-bit numbers: a Cortex-M4 divides those in one instruction, while a
 * 64-bit division is a library routine (0.9 KB of flash with its helpers). Only the seconds
 * themselves, and days times seconds, need 64 bits.
 */
#include "cw/base/cw_time.h"

#include <stdio.h>

#define SECS_PER_DAY 86400

/* The seconds of 0000-01-01T00:00:00Z and of 9999-12-31T23:59:59Z: the years X.509's times can
 * hold (GeneralizedTime has four digits), and those cw_time_split gives. */
#define UTC_YEAR_0 (-62167219200LL)
#define UTC_YEAR_9999_END 253402300799LL
/* Days from 0000-01-01 to 0000-03-01 (year 0 is a leap year): the era arithmetic counts from a
 * March 1st, so that a leap day is the last day of its year. */
#define DAYS_JAN_FEB_YEAR_0 60u
#define DAYS_PER_ERA 146097u

static int32_t floor_div(int32_t a, int32_t b) /* b > 0 */
{
    int32_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

void cw_time_split(int64_t utc, cw_tm_t *out)
{
    if (utc < UTC_YEAR_0) {
        utc = UTC_YEAR_0;
    } else if (utc > UTC_YEAR_9999_END) {
        utc = UTC_YEAR_9999_END;
    }
    /* Whole days since 0000-01-01 and the second of the day. u < 2^39, so u / 128 fits 32 bits,
     * and 86400 = 128 * 675: floor(floor(u / 128) / 675) = floor(u / 86400). */
    uint64_t u = (uint64_t)(utc - UTC_YEAR_0);
    uint32_t days = (uint32_t)(u >> 7) / 675u;
    uint32_t secs = (uint32_t)(u - (uint64_t)days * SECS_PER_DAY);

    /* Days since -0400-03-01, one era before year 0's March 1st, so that nothing is negative. */
    uint32_t z = days + DAYS_PER_ERA - DAYS_JAN_FEB_YEAR_0;
    uint32_t era = z / DAYS_PER_ERA;
    uint32_t doe = z - era * DAYS_PER_ERA;                                 /* [0, 146096] */
    uint32_t yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u; /* [0, 399] */
    uint32_t doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);             /* [0, 365] */
    uint32_t mp = (5u * doy + 2u) / 153u;                                  /* [0, 11], March = 0 */
    uint32_t day = doy - (153u * mp + 2u) / 5u + 1u;
    uint32_t month = mp < 10u ? mp + 3u : mp - 9u;

    out->year = (int32_t)(yoe + era * 400u) - 400 + (month <= 2u ? 1 : 0);
    out->month = (uint8_t)month;
    out->day = (uint8_t)day;
    out->hour = (uint8_t)(secs / 3600u);
    out->min = (uint8_t)((secs / 60u) % 60u);
    out->sec = (uint8_t)(secs % 60u);
}

int64_t cw_time_join(const cw_tm_t *tm)
{
    int32_t y = tm->year - (tm->month <= 2 ? 1 : 0);
    int32_t era = floor_div(y, 400);
    uint32_t yoe = (uint32_t)(y - era * 400); /* [0, 399] */
    uint32_t m = tm->month;
    uint32_t doy = (153u * (m > 2u ? m - 3u : m + 9u) + 2u) / 5u + tm->day - 1u;
    uint32_t doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    int64_t days = (int64_t)era * DAYS_PER_ERA + doe - 719468; /* 719468: 0000-03-01 to 1970-01-01 */

    return days * SECS_PER_DAY + (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec;
}

void cw_time_format(int64_t utc, char *out, size_t cap)
{
    cw_tm_t tm;
    cw_time_split(utc, &tm);
    (void)snprintf(out, cap, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)tm.year, (unsigned)tm.month,
                   (unsigned)tm.day, (unsigned)tm.hour, (unsigned)tm.min, (unsigned)tm.sec);
}

uint32_t cw_time_life_share(int64_t not_before, int64_t not_after, unsigned percent)
{
    int64_t span = not_after - not_before;
    uint32_t life = span <= 0 ? 0u : span > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)span;
    return life / 100u * percent + life % 100u * percent / 100u;
}
