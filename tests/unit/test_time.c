/*
 * test_time.c: calendar arithmetic, checked against dates whose epoch seconds are well known
 * (and against libc's gmtime_r over a sweep, on the host only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cw/base/cw_time.h"

static const struct {
    int64_t utc;
    const char *iso;
} known[] = {
    {0, "1970-01-01T00:00:00Z"},
    {951782400, "2000-02-29T00:00:00Z"},     /* leap day of a /400 year */
    {1709164800, "2024-02-29T00:00:00Z"},
    {2147483647, "2038-01-19T03:14:07Z"},    /* 32-bit time_t limit */
    {2147483648, "2038-01-19T03:14:08Z"},
    {4107542400, "2100-03-01T00:00:00Z"},    /* 2100 is not a leap year */
    {253402300799, "9999-12-31T23:59:59Z"},  /* X.509 GeneralizedTime's "no expiry" */
    {-1, "1969-12-31T23:59:59Z"},
    {-2208988800, "1900-01-01T00:00:00Z"},
};

static void test_known_dates(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char buf[24];
        cw_tm_t tm;
        cw_time_format(known[i].utc, buf, sizeof buf);
        assert_string_equal(buf, known[i].iso);
        cw_time_split(known[i].utc, &tm);
        assert_true(cw_time_join(&tm) == known[i].utc);
    }
}

static void test_sweep_against_gmtime(void **state)
{
    (void)state;
    /* every 7 hours 13 minutes from 1950 to 2200 */
    for (int64_t t = -631152000; t < 7258118400; t += 7 * 3600 + 13 * 60) {
        time_t tt = (time_t)t;
        struct tm ref;
        cw_tm_t tm;
        gmtime_r(&tt, &ref);
        cw_time_split(t, &tm);
        assert_int_equal(tm.year, ref.tm_year + 1900);
        assert_int_equal(tm.month, ref.tm_mon + 1);
        assert_int_equal(tm.day, ref.tm_mday);
        assert_int_equal(tm.hour, ref.tm_hour);
        assert_int_equal(tm.min, ref.tm_min);
        assert_int_equal(tm.sec, ref.tm_sec);
        assert_true(cw_time_join(&tm) == t);
    }
}

/* Outside years 0 to 9999 (no X.509 time is), the first or last second of that range. */
static void test_split_keeps_to_four_digit_years(void **state)
{
    (void)state;
    static const struct {
        int64_t utc;
        const char *iso;
    } edges[] = {
        {-62167219200, "0000-01-01T00:00:00Z"},
        {-62162035201, "0000-02-29T23:59:59Z"},  /* year 0 is a leap year */
        {-62162035200, "0000-03-01T00:00:00Z"},
        {-62167219201, "0000-01-01T00:00:00Z"},  /* one second before: held at the edge */
        {INT64_MIN, "0000-01-01T00:00:00Z"},
        {253402300800, "9999-12-31T23:59:59Z"},
        {INT64_MAX, "9999-12-31T23:59:59Z"},
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        char buf[24];
        cw_time_format(edges[i].utc, buf, sizeof buf);
        assert_string_equal(buf, edges[i].iso);
    }
    cw_tm_t tm = {.year = -1, .month = 12, .day = 31, .hour = 23, .min = 59, .sec = 59};
    assert_true(cw_time_join(&tm) == -62167219201); /* join takes any year */
}

/* The share of a lifetime where renewal starts: exact against 64-bit arithmetic for lifetimes a
 * certificate has, no wrap for one beyond 32 bits, nothing for an empty or inverted one. */
static void test_life_share(void **state)
{
    (void)state;
    static const int64_t lives[] = {1, 99, 100, 86400, 90 * 86400, 397 * 86400, 10LL * 365 * 86400, 4000000000LL};
    for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++) {
        int64_t l = lives[i] > (int64_t)UINT32_MAX ? (int64_t)UINT32_MAX : lives[i];
        for (unsigned p = 0; p <= 100u; p += 5u) {
            assert_int_equal(cw_time_life_share(1000, 1000 + lives[i], p), (uint32_t)(l * p / 100));
        }
    }
    assert_int_equal(cw_time_life_share(1000, 1000, 80), 0);
    assert_int_equal(cw_time_life_share(2000, 1000, 80), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_dates),
        cmocka_unit_test(test_sweep_against_gmtime),
        cmocka_unit_test(test_split_keeps_to_four_digit_years),
        cmocka_unit_test(test_life_share),
    };
    return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}
