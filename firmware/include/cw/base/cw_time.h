/*
 * cw_time.h: calendar arithmetic on UTC seconds, without libc's time zone machinery.
 */
#ifndef CW_TIME_H
#define CW_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef struct cw_tm_t {
    int32_t year;   /* e.g. 2026 */
    uint8_t month;  /* 1..12 */
    uint8_t day;    /* 1..31 */
    uint8_t hour;   /* 0..23 */
    uint8_t min;    /* 0..59 */
    uint8_t sec;    /* 0..59 */
} cw_tm_t;

/* Splits seconds since 1970-01-01T00:00:00Z into a proleptic Gregorian date and time. Years 0
 * to 9999 (X.509's): a time before or after them gives their first or last second. */
void cw_time_split(int64_t utc, cw_tm_t *out);

/* Seconds since the epoch for a date and time; fields must be in range. */
int64_t cw_time_join(const cw_tm_t *tm);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL) into out; cap must be at least 21. */
void cw_time_format(int64_t utc, char *out, size_t cap);

/* percent (0..100) of a certificate's lifetime from not_before to not_after, in seconds: where
 * its renewal starts. In 32 bits (a lifetime up to 136 years; longer counts as that; none as 0):
 * no 64-bit division on a small board. */
uint32_t cw_time_life_share(int64_t not_before, int64_t not_after, unsigned percent);

#endif /* CW_TIME_H */
