/*
 * cw_time.c: days <-> civil date, by the well-known era arithmetic on 400-year cycles
 * (146097 days each), which is exact for the proleptic Gregorian calendar.
 */
#include "cw/cw_time.h"

#include <stdio.h>

#define SECS_PER_DAY 86400

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void cw_time_split(int64_t utc, cw_tm_t *out)
{
    int64_t days = floor_div(utc, SECS_PER_DAY);
    int64_t secs = utc - days * SECS_PER_DAY;

    /* Shift the epoch to 0000-03-01 so that leap days fall at the end of each year. */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                     /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11], March = 0 */
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

    out->year = (int32_t)year;
    out->month = (uint8_t)month;
    out->day = (uint8_t)day;
    out->hour = (uint8_t)(secs / 3600);
    out->min = (uint8_t)((secs / 60) % 60);
    out->sec = (uint8_t)(secs % 60);
}

int64_t cw_time_join(const cw_tm_t *tm)
{
    int64_t y = (int64_t)tm->year - (tm->month <= 2 ? 1 : 0);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t m = tm->month;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)tm->day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;

    return days * SECS_PER_DAY + (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec;
}

void cw_time_format(int64_t utc, char *out, size_t cap)
{
    cw_tm_t tm;
    cw_time_split(utc, &tm);
    (void)snprintf(out, cap, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)tm.year, (unsigned)tm.month,
                   (unsigned)tm.day, (unsigned)tm.hour, (unsigned)tm.min, (unsigned)tm.sec);
}
