/*
 * target_libc.c: the C library functions a board defines itself in place of its C library's
 * (board/mps2-an386: snprintf and vsnprintf in mps2_printf.c, strcmp, strlen, memcpy, memset and
 * the other string functions in mps2_string.c) against C's meaning.
 *
 * snprintf:
 * Every expected string below was produced by glibc 2.36's snprintf on an x86-64 Debian 12 host
 * from the same format and arguments (values of long and size_t written as the 32-bit target has
 * them), then copied here by hand. The few cases C leaves to the implementation follow glibc too
 * (a null %s); the group of conversions the board does not implement is the board's own
 * documented behaviour (mps2_printf.c): the rest of the format is shown as it stands. Each case
 * is formatted into every buffer size from 0 to its length + 1: the return value must always be
 * the full length, the buffer must hold the text cut at cap - 1 with a NUL, and no byte past cap
 * may change.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "target_check.h"

#define CASE_MAX 64u   /* the longest expected text below is 50 bytes */
#define GUARD 8u       /* bytes past cap that must stay untouched */

/* Formats `fmt` into every cap from 0 to len + 1 and compares each result with `expect`. */
static void check_v(const char *expect, size_t len, const char *fmt, va_list ap)
{
    char buf[CASE_MAX + GUARD];
    bool cut_ok = true;
    bool full_ok = false;

    if (len + 1u + GUARD > sizeof buf) {
        CHECK_IN(fmt, len + 1u + GUARD <= sizeof buf); /* the case is too long for this test */
        return;
    }
    for (size_t cap = 0; cap <= len + 1u; cap++) {
        size_t kept = cap == 0u ? 0u : (cap - 1u < len ? cap - 1u : len);
        va_list aq;
        int n;

        memset(buf, 0x5a, sizeof buf);
        va_copy(aq, ap);
        n = vsnprintf(buf, cap, fmt, aq);
        va_end(aq);
        cut_ok = cut_ok && n >= 0 && (size_t)n == len && memcmp(buf, expect, kept) == 0;
        if (cap > 0u) {
            cut_ok = cut_ok && buf[kept] == '\0';
        }
        for (size_t i = cap; i < cap + GUARD; i++) {
            cut_ok = cut_ok && buf[i] == 0x5a;
        }
        if (cap == len + 1u) {
            full_ok = n >= 0 && (size_t)n == len && memcmp(buf, expect, len + 1u) == 0;
        }
    }
    CHECK_IN(fmt, full_ok);
    CHECK_IN(fmt, cut_ok);
}

/* A case whose format GCC checks against its arguments (-Wformat). */
static void check_fmt(const char *expect, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_fmt(const char *expect, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_v(expect, len, fmt, ap);
    va_end(ap);
}

/* A case that -Wformat would question (a flag C says is ignored, a conversion the board does not
 * implement): the same check without the attribute. */
static void check_unchecked(const char *expect, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_v(expect, len, fmt, ap);
    va_end(ap);
}

/* `expect` is a string literal: its length may include a NUL the text contains. */
#define FMT(expect, ...) check_fmt((expect), sizeof(expect) - 1u, __VA_ARGS__)
#define FMT_UNCHECKED(expect, ...) check_unchecked((expect), sizeof(expect) - 1u, __VA_ARGS__)

static void test_printf(void)
{
    /* From glibc (see the top of the file). */
    FMT("abc", "%s", "abc");
    FMT("[]", "[%s]", "");
    FMT("[   abc]", "[%6s]", "abc");
    FMT("[abc   ]", "[%-6s]", "abc");
    FMT("[cw-key                  ]", "[%-24s]", "cw-key");
    FMT("[abcdef]", "[%2s]", "abcdef");
    FMT("[ab]", "[%.2s]", "abcdef");
    FMT("[]", "[%.0s]", "abcdef");
    FMT("[     abc]", "[%8.3s]", "abcdef");
    FMT("[abc     ]", "[%-8.3s]", "abcdef");
    FMT("[abc]", "[%.*s]", 3, "abcdef");
    FMT("[abcdef]", "[%.*s]", -1, "abcdef");
    FMT("[   ab]", "[%*s]", 5, "ab");
    FMT("[ab   ]", "[%*s]", -5, "ab");
    FMT("[ab   ]", "[%-*s]", 5, "ab");
    FMT("key=value", "%s=%s", "key", "value");
    FMT("0", "%d", 0);
    FMT("42", "%d", 42);
    FMT("-42", "%d", -42);
    FMT("2147483647", "%d", INT_MAX);
    FMT("-2147483648", "%d", INT_MIN);
    FMT("-7", "%i", -7);
    FMT("2026", "%04d", 2026);
    FMT("-007", "%04d", -7);
    FMT("123456", "%04d", 123456);
    FMT("[+5]", "[%+d]", 5);
    FMT("[-5]", "[%+d]", -5);
    FMT("[ 5]", "[% d]", 5);
    FMT("[-5]", "[% d]", -5);
    FMT_UNCHECKED("[+5]", "[%+ d]", 5);
    FMT("[42   ]", "[%-5d]", 42);
    FMT_UNCHECKED("[42   ]", "[%-05d]", 42);
    FMT("[-0042]", "[%05d]", -42);
    FMT("[+0042]", "[%+05d]", 42);
    FMT("[007]", "[%.3d]", 7);
    FMT("[-007]", "[%.3d]", -7);
    FMT_UNCHECKED("[     007]", "[%08.3d]", 7);
    FMT("[]", "[%.0d]", 0);
    FMT("[     ]", "[%5.0d]", 0);
    FMT("[+]", "[%+.0d]", 0);
    FMT("[+9    ]", "[%-+6d]", 9);
    FMT("[    42]", "[%*d]", 6, 42);
    FMT("[42    ]", "[%*d]", -6, 42);
    FMT("[-00042]", "[%0*d]", 6, -42);
    FMT("[0042]", "[%.*d]", 4, 42);
    FMT("[42]", "[%.*d]", -4, 42);
    FMT("0", "%u", 0u);
    FMT("4294967295", "%u", UINT_MAX);
    FMT("05", "%02u", 5u);
    FMT("123", "%02u", 123u);
    FMT("192.168.0.1", "%u.%u.%u.%u", 192u, 168u, 0u, 1u);
    FMT_UNCHECKED("[5]", "[%+u]", 5u);
    FMT("0", "%lu", 0UL);
    FMT("4294967295", "%lu", 4294967295UL);
    FMT("[  1234]", "[%6lu]", 1234UL);
    FMT("007", "%03lu", 7UL);
    FMT("-2147483648", "%ld", -2147483647L - 1);
    FMT("2147483647", "%ld", 2147483647L);
    FMT("0xDEADBEEF", "0x%lX", 0xDEADBEEFUL);
    FMT("00001234", "%08lx", 0x1234UL);
    FMT("18446744073709551615", "%llu", ULLONG_MAX);
    FMT("10000000000", "%llu", 10000000000ULL);
    FMT("-9223372036854775808", "%lld", LLONG_MIN);
    FMT("-1234567890123", "%lld", -1234567890123LL);
    FMT("123456789abcdef", "%llx", 0x0123456789abcdefULL);
    FMT("1777777777777777777777", "%llo", ULLONG_MAX);
    FMT("-9223372036854775808", "%jd", INTMAX_MIN);
    FMT("18446744073709551615", "%ju", UINTMAX_MAX);
    FMT("4294967295", "%zu", (size_t)4294967295u);
    FMT("0", "%zu", (size_t)0);
    FMT("[      4096]", "[%10zu]", (size_t)4096);
    FMT("beef", "%zx", (size_t)0xbeef);
    FMT("-3", "%td", (ptrdiff_t)-3);
    FMT("44", "%hhu", 300);
    FMT("-56", "%hhd", 200);
    FMT("ff", "%hhx", 0x1ff);
    FMT("4464", "%hu", 70000);
    FMT("-25536", "%hd", 40000);
    FMT("2345", "%hx", 0x12345);
    FMT("0", "%x", 0u);
    FMT("ff", "%x", 255u);
    FMT("FF", "%X", 255u);
    FMT("ffffffff", "%x", UINT_MAX);
    FMT("05", "%02x", 5u);
    FMT("ab", "%02x", 0xabu);
    FMT("AB", "%02X", 0xabu);
    FMT("00000ABC", "%08X", 0xabcu);
    FMT("0xff", "%#x", 255u);
    FMT("0XFF", "%#X", 255u);
    FMT("0", "%#x", 0u);
    FMT("[    0xff]", "[%#8x]", 255u);
    FMT("[0xff    ]", "[%-#8x]", 255u);
    FMT("0x0000ff", "%#08x", 255u);
    FMT("0x00ff", "%#.4x", 255u);
    FMT("[]", "[%.0x]", 0u);
    FMT("[]", "[%#.0x]", 0u);
    FMT("10", "%o", 8u);
    FMT("0", "%o", 0u);
    FMT("010", "%#o", 8u);
    FMT("0", "%#o", 0u);
    FMT("[0]", "[%#.0o]", 0u);
    FMT("[]", "[%.0o]", 0u);
    FMT("0010", "%#.4o", 8u);
    FMT("  010", "%#5o", 8u);
    FMT("00010", "%#05o", 8u);
    FMT("A", "%c", 'A');
    FMT("[  A]", "[%3c]", 'A');
    FMT("[A  ]", "[%-3c]", 'A');
    FMT("abc", "%c%c%c", 'a', 'b', 'c');
    FMT("%", "%%");
    FMT("100%", "100%%");
    FMT("50%", "%d%%", 50);
    FMT("[%2F]", "[%%%02X]", 0x2fu);
    FMT("0x1234", "%p", (void *)0x1234);
    FMT("[  0x20000000]", "[%12p]", (void *)0x20000000);
    FMT("[0x20000000  ]", "[%-12p]", (void *)0x20000000);
    FMT("PIN length: 4 to 255, has RNG", "PIN length: %lu to %lu%s%s%s", 4UL, 255UL, ", ", "has RNG", "");
    FMT("(no label)               RSA-2048  0a1b", "%-24s %-9s %s", "(no label)", "RSA-2048", "0a1b");
    FMT("time: connect 12 ms, first byte 40 ms, total 41 ms",
        "time: connect %lu ms, first byte %lu ms, total %lu ms", 12UL, 40UL, 41UL);
    FMT("2038-01-19T03:14:08Z", "%04d-%02u-%02uT%02u:%02u:%02uZ", 2038, 1u, 19u, 3u, 14u, 8u);
    FMT("/scep?operation=GetCACert", "%s%c%s%s", "/scep", '?', "operation=", "GetCACert");
    FMT("interface: en0 (LAN9118)", "interface: %c%c%u (%s)", 'e', 'n', 0u, "LAN9118");

    /* A NUL from %c is part of the text (and counts). */
    FMT("a\0b", "a%cb", 0);
    /* A precision bounds what %s reads: the array has no NUL. */
    {
        static const char id[4] = {'c', 'w', '-', '1'};
        FMT("[cw-1]", "[%.4s]", id);
        FMT("[cw]", "[%.2s]", id);
    }
    /* glibc's text for a null %s (C leaves it undefined). */
    FMT_UNCHECKED("[(null)]", "[%s]", (const char *)NULL);
    FMT_UNCHECKED("", "");

    /* Not implemented on the board (mps2_printf.c): the rest of the format from that '%' on, as
     * it stands, and no further argument read. */
    {
        int count = 7;
        FMT_UNCHECKED("a=1 %f %d", "a=%d %f %d", 1, 2.5, 3);
        FMT_UNCHECKED("%e", "%e", 2.5);
        FMT_UNCHECKED("%Lf", "%Lf", 2.5L);
        FMT_UNCHECKED("ab%n", "ab%n", &count);
        CHECK(count == 7); /* %n wrote nothing */
        FMT_UNCHECKED("%ls", "%ls", "wide");
        FMT_UNCHECKED("%lc", "%lc", 'w');
        FMT_UNCHECKED("x%-08.3hq rest %d", "x%-08.3hq rest %d", 1);
        FMT_UNCHECKED("[%5%]", "[%5%]");
        FMT_UNCHECKED("50%", "50%");
    }

    /* snprintf itself; a NULL buffer with cap 0 measures. Called through a volatile pointer, as
     * GCC would otherwise check these deliberate truncations when it compiles
     * (-Wformat-truncation) and put in the return values it works out itself. */
    {
        int (*volatile sn)(char *restrict, size_t, const char *restrict, ...) = snprintf;
        char buf[64];
        CHECK(sn(NULL, 0, "%d-%s", 12345, "x") == 7);
        CHECK(sn(buf, 1, "abc") == 3 && buf[0] == '\0');
        /* Longer than the buffer: C's return value is the whole length. */
        memset(buf, 0x5a, sizeof buf);
        CHECK(sn(buf, sizeof buf, "%300d", 1) == 300);
        CHECK(buf[0] == ' ' && buf[62] == ' ' && buf[63] == '\0');
        CHECK(sn(buf, sizeof buf, "%s %02x", "ok", 10u) == 5 && strcmp(buf, "ok 0a") == 0);
    }
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void test_string(void)
{
    static const struct {
        const char *a;
        const char *b;
        int sign; /* of strcmp(a, b) */
    } cmp[] = {
        {"", "", 0},
        {"abc", "abc", 0},
        {"abc", "abd", -1},
        {"abd", "abc", 1},
        {"ab", "abc", -1},
        {"abc", "ab", 1},
        {"", "a", -1},
        {"a", "", 1},
        {"a\x80", "a\x7f", 1}, /* compared as unsigned char (C11 7.24.4p1) */
        {"\x01", "\xff", -1},
        {"Content-Length", "Content-Type", -1},
    };
    static const char *const len[] = {"", "a", "certwiz", "0123456789abcdef0123456789abcdef"};

    /* The strings go through volatile pointers, so that GCC cannot work the answers out when it
     * compiles (it knows what strcmp and strlen mean). */
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++) {
        const char *volatile a = cmp[i].a;
        const char *volatile b = cmp[i].b;
        CHECK_IN(cmp[i].a, sign(strcmp(a, b)) == cmp[i].sign);
    }
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) {
        const char *volatile s = len[i];
        size_t n = 0;
        while (len[i][n] != '\0') {
            n++;
        }
        CHECK_IN(len[i], strlen(s) == n);
        /* every alignment of the start: a word-wise version would differ here */
        for (size_t off = 0; off < n; off++) {
            const char *volatile t = len[i] + off;
            CHECK_IN(len[i], strlen(t) == n - off);
        }
    }
}

/* strchr, strcpy, strncmp, strcspn and memchr, each at every starting alignment of its string
 * (a word-wise version would differ there), through volatile pointers as above. */
static void test_string_search(void)
{
    static const char text[] = "GET /scep?operation=GetCACaps HTTP/1.1";
    const size_t n = sizeof text - 1u;

    for (size_t off = 0; off < 8u; off++) {
        const char *volatile t = text + off;
        char copy[sizeof text];
        char *volatile dst = copy;
        CHECK(strchr(t, '?') == text + 9);
        CHECK(strchr(t, 'Z') == NULL);
        CHECK(strchr(t, '\0') == text + n); /* the terminator is part of the string */
        CHECK(strchr(t, 'G' | 0x100) == (off == 0u ? text : text + 20)); /* c converted to char */
        CHECK(memchr(t, ' ', n - off) == (off <= 3u ? text + 3 : text + 29));
        CHECK(memchr(t, 'H', 29u - off) == NULL); /* "HTTP" starts at 30: outside the count */
        CHECK(memchr(t, '\0', n + 1u - off) == text + n);
        CHECK(memchr(t, 0x100 + 'G', 1) == (off == 0u ? text : NULL)); /* as unsigned char */
        CHECK(strcpy(dst, t) == copy && memcmp(copy, text + off, n + 1u - off) == 0);
        CHECK(strcspn(t, "?=") == 9u - off);
        CHECK(strcspn(t, "") == n - off);
        CHECK(strcspn(t, "xyz") == n - off);
    }
    static const struct {
        const char *a;
        const char *b;
        size_t n;
        int sign; /* of strncmp(a, b, n) */
    } cmp[] = {
        {"abc", "abd", 2, 0},   {"abc", "abd", 3, -1}, {"abd", "abc", 9, 1},  {"ab", "abc", 3, -1},
        {"ab", "abc", 2, 0},    {"", "", 5, 0},        {"a", "b", 0, 0},      {"a\x80", "a\x7f", 2, 1},
        {"x\0y", "x\0z", 3, 0}, /* nothing is compared after a NUL */
    };
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++) {
        const char *volatile a = cmp[i].a;
        const char *volatile b = cmp[i].b;
        CHECK_IN(cmp[i].a, sign(strncmp(a, b, cmp[i].n)) == cmp[i].sign);
    }
}

/* memcmp's sign over unsigned bytes, and memmove over overlaps in both directions, at every
 * start alignment. */
static void test_memory(void)
{
    static const char text[] = "0123456789abcdefghij";
    for (size_t off = 0; off < 8u; off++) {
        for (size_t shift = 1; shift < 5u; shift++) {
            char buf[sizeof text + 8];
            char *volatile b = buf;
            memcpy(buf, text, sizeof text);
            CHECK(memmove(b + off + shift, b + off, 10) == buf + off + shift); /* up: from the end */
            CHECK(memcmp(buf + off + shift, text + off, 10) == 0);
            memcpy(buf, text, sizeof text);
            CHECK(memmove(b + off, b + off + shift, 10) == buf + off); /* down: from the start */
            CHECK(memcmp(buf + off, text + off + shift, 10) == 0);
        }
    }
    const char *volatile a = "ab\x80";
    const char *volatile z = "ab\x7f";
    CHECK(memcmp(a, z, 3) > 0 && memcmp(z, a, 3) < 0); /* as unsigned char (C11 7.24.4p1) */
    CHECK(memcmp(a, z, 2) == 0 && memcmp(a, z, 0) == 0);
}

/* memcpy and memset (word loops where the addresses allow them) at every alignment of source
 * and destination and every length up to 20: the bytes asked for change, and no byte around them. */
static void test_copy_and_fill(void)
{
    for (size_t doff = 0; doff < 4u; doff++) {
        for (size_t soff = 0; soff < 4u; soff++) {
            bool ok = true; /* one check per pair of alignments, over every length */
            for (size_t n = 0; n <= 20u; n++) {
                uint32_t dwords[8];
                uint32_t swords[8];
                unsigned char *d = (unsigned char *)dwords;
                unsigned char *s = (unsigned char *)swords;
                unsigned char *volatile vd = d + doff;
                size_t volatile vn = n;
                for (size_t i = 0; i < sizeof dwords; i++) {
                    d[i] = 0xEE;
                    s[i] = (unsigned char)(i * 7u + 1u);
                }
                ok = ok && memcpy(vd, s + soff, vn) == d + doff;
                for (size_t i = 0; i < sizeof dwords; i++) {
                    bool inside = i >= doff && i < doff + n;
                    ok = ok && d[i] == (inside ? s[i - doff + soff] : 0xEE);
                }
                ok = ok && memset(vd, 0x80 + (int)soff, vn) == d + doff;
                for (size_t i = 0; i < sizeof dwords; i++) {
                    bool inside = i >= doff && i < doff + n;
                    ok = ok && d[i] == (inside ? 0x80u + soff : 0xEEu);
                }
            }
            CHECK(ok);
        }
    }
}

void target_test_libc(void)
{
    test_printf();
    test_string();
    test_string_search();
    test_memory();
    test_copy_and_fill();
}
