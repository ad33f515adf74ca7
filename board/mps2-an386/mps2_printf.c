/*
 * mps2_printf.c: snprintf and vsnprintf for this board, in place of newlib-nano's.
 *
 * certwiz formats text only into buffers (console lines, HTTP request heads, error names), and
 * mbedTLS does the same (mbedtls_x509_dn_gets, mbedtls_x509_serial_gets; its allocator's
 * diagnostics through board_mbedtls_printf). newlib-nano's formatter is built for FILE streams:
 * snprintf reaches it through a fake FILE, a reentrancy structure and a flush callback, and it
 * brings its stream buffer code along: 2.6 KB of flash and 100 bytes of RAM (measured). This one
 * writes straight into the caller's buffer (1.4 KB, no RAM), and being defined here, newlib's
 * snprintf, vsnprintf and their formatter are never linked (make size: flash -1,172 bytes).
 *
 * What it implements, with C11's meaning (7.21.6.1):
 *   flags       - + space # 0
 *   width       digits or *  (a negative * width means '-' and its magnitude)
 *   precision   . digits or .*  (a negative * precision means none was given)
 *   length      hh h l ll j z t
 *   conversions d i u o x X c s p %
 * %p prints the address as 0x and lower-case hex digits (a null pointer as 0x0, where glibc
 * writes "(nil)"); %s of a null pointer prints "(null)" as glibc does (C leaves both to the
 * implementation).
 * Floating point (f F e E g G a A), %n, wide characters (%lc, %ls) and L are not implemented:
 * certwiz has no use for them, and %n writes memory. Rather than guess, such a conversion ends
 * the formatting visibly: the rest of the format, from its '%' on, is copied as it stands and no
 * further argument is read (an argument of a type we do not know cannot be skipped safely).
 * tests/target/target_libc.c checks every piece against values from glibc.
 *
 * The return value is C's: the length the whole text has, whatever cap is; at most cap - 1
 * bytes and a NUL are written, nothing at all when cap is 0.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* %z and %t read size_t and ptrdiff_t and use each as the other's counterpart, as C allows only
 * when the two have the same width (they do on every Arm EABI target). */
_Static_assert(sizeof(size_t) == sizeof(ptrdiff_t), "size_t and ptrdiff_t differ in width");

/* The output: the caller's buffer, its size, and how long the text is so far (which may pass
 * cap; only what fits is stored). */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} pf_out_t;

static void put(pf_out_t *o, char c)
{
    if (o->len + 1u < o->cap) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void put_n(pf_out_t *o, char c, size_t n)
{
    while (n-- > 0u) {
        put(o, c);
    }
}

static void put_s(pf_out_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put(o, s[i]);
    }
}

/* Flags of one conversion. */
enum {
    F_LEFT = 1u,  /* '-' */
    F_PLUS = 2u,  /* '+' */
    F_SPACE = 4u, /* ' ' */
    F_ALT = 8u,   /* '#' */
    F_ZERO = 16u  /* '0' */
};

/* One conversion's field: `prefix` (sign or 0x), then `zeros` zeros, then `body`, padded with
 * spaces to `width` on the left, or on the right with '-'. */
static void put_field(pf_out_t *o, unsigned flags, size_t width, const char *prefix, size_t prefix_len,
                      size_t zeros, const char *body, size_t body_len)
{
    size_t used = prefix_len + zeros + body_len;
    size_t pad = width > used ? width - used : 0u;

    if ((flags & F_LEFT) == 0u) {
        put_n(o, ' ', pad);
    }
    put_s(o, prefix, prefix_len);
    put_n(o, '0', zeros);
    put_s(o, body, body_len);
    if ((flags & F_LEFT) != 0u) {
        put_n(o, ' ', pad);
    }
}

/* mag / base, the remainder in *rem, for a base of 8, 10 or 16: three 32-bit divisions (one
 * instruction each on this core) instead of the C library's 64-bit division routine (0.9 KB).
 * Each step divides a number below base * 2^16, so every quotient fits its place. */
static uintmax_t div_by_base(uintmax_t mag, unsigned base, unsigned *rem)
{
    uint32_t hi = (uint32_t)(mag >> 32);
    uint32_t lo = (uint32_t)mag;
    uint32_t q_hi = hi / base;
    uint32_t mid = (hi % base) << 16 | lo >> 16;
    uint32_t q_mid = mid / base;
    uint32_t low = (mid % base) << 16 | (lo & 0xFFFFu);
    uint32_t q_lo = low / base;

    *rem = low % base;
    return (uintmax_t)q_hi << 32 | (uintmax_t)q_mid << 16 | q_lo;
}

/* An integer conversion (d i u o x X p). `neg` and `mag` are the value's sign and magnitude;
 * `prec` is SIZE_MAX when no precision was given. */
static void put_int(pf_out_t *o, char conv, unsigned flags, size_t width, size_t prec, bool neg,
                    uintmax_t mag)
{
    static const char lower[] = "0123456789abcdef";
    static const char upper[] = "0123456789ABCDEF";
    const char *digit = conv == 'X' ? upper : lower;
    unsigned base = conv == 'o' ? 8u : (conv == 'x' || conv == 'X' || conv == 'p') ? 16u : 10u;
    char text[24]; /* UINTMAX_MAX (64 bits) in octal: 22 digits */
    size_t n = 0;
    char prefix[2];
    size_t prefix_len = 0;
    size_t zeros = 0;
    bool zero = mag == 0u;

    /* Digits, last first. With a precision of 0 the value 0 has none (7.21.6.1p8). */
    while (mag != 0u) {
        unsigned r;
        mag = div_by_base(mag, base, &r);
        text[sizeof text - 1u - n++] = digit[r];
    }
    if (zero && prec != 0u) {
        text[sizeof text - 1u - n++] = '0';
    }

    if (neg) {
        prefix[prefix_len++] = '-';
    } else if (conv == 'd' || conv == 'i') {
        if ((flags & F_PLUS) != 0u) {
            prefix[prefix_len++] = '+';
        } else if ((flags & F_SPACE) != 0u) {
            prefix[prefix_len++] = ' ';
        }
    }
    /* '#': 0x or 0X before a nonzero hex value, and an octal number starts with a 0 (its
     * precision grows as far as needed: one zero unless the digits give one). %p always has 0x. */
    if (((flags & F_ALT) != 0u && (conv == 'x' || conv == 'X') && !zero) || conv == 'p') {
        prefix[prefix_len++] = '0';
        prefix[prefix_len++] = conv == 'X' ? 'X' : 'x';
    }
    if (conv == 'o' && (flags & F_ALT) != 0u && (!zero || n == 0u)) {
        zeros = 1u; /* the 0 of a zero value already is one, unless precision 0 removed it */
    }
    if (prec != SIZE_MAX) {
        if (prec > n + zeros) {
            zeros = prec - n;
        }
    } else if ((flags & (F_ZERO | F_LEFT)) == F_ZERO) {
        /* '0' without a precision and without '-': zeros, not spaces, fill the width. */
        size_t used = prefix_len + zeros + n;
        if (width > used) {
            zeros += width - used;
        }
    }
    put_field(o, flags, width, prefix, prefix_len, zeros, &text[sizeof text - n], n);
}

/* Reads an argument of the integer type the length modifier names. */
enum { L_NONE, L_HH, L_H, L_L, L_LL, L_J, L_Z, L_T };

static intmax_t arg_signed(va_list *ap, int len)
{
    switch (len) {
    case L_HH: return (signed char)va_arg(*ap, int);
    case L_H: return (short)va_arg(*ap, int);
    case L_L: return va_arg(*ap, long);
    case L_LL: return va_arg(*ap, long long);
    case L_J: return va_arg(*ap, intmax_t);
    case L_Z: /* the signed type of size_t's width */
    case L_T: return va_arg(*ap, ptrdiff_t);
    default: return va_arg(*ap, int);
    }
}

static uintmax_t arg_unsigned(va_list *ap, int len)
{
    switch (len) {
    case L_HH: return (unsigned char)va_arg(*ap, unsigned);
    case L_H: return (unsigned short)va_arg(*ap, unsigned);
    case L_L: return va_arg(*ap, unsigned long);
    case L_LL: return va_arg(*ap, unsigned long long);
    case L_J: return va_arg(*ap, uintmax_t);
    case L_Z: /* the unsigned type of ptrdiff_t's width */
    case L_T: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned);
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A width or precision written as digits; more than INT_MAX is kept at INT_MAX, which already
 * makes the text too long to report (see vsnprintf's return). */
static size_t read_number(const char **p)
{
    size_t v = 0;
    while (is_digit(**p)) {
        v = v * 10u + (size_t)(**p - '0');
        if (v > (size_t)INT_MAX) {
            v = (size_t)INT_MAX;
        }
        (*p)++;
    }
    return v;
}

int vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt, va_list ap_in)
{
    pf_out_t o = {buf, cap, 0u};
    va_list ap;
    const char *p = fmt;

    va_copy(ap, ap_in);
    while (*p != '\0') {
        const char *start = p;
        unsigned flags = 0;
        size_t width = 0;
        size_t prec = SIZE_MAX;
        int len = L_NONE;

        if (*p != '%') {
            put(&o, *p++);
            continue;
        }
        p++;
        for (;; p++) {
            if (*p == '-') {
                flags |= F_LEFT;
            } else if (*p == '+') {
                flags |= F_PLUS;
            } else if (*p == ' ') {
                flags |= F_SPACE;
            } else if (*p == '#') {
                flags |= F_ALT;
            } else if (*p == '0') {
                flags |= F_ZERO;
            } else {
                break;
            }
        }
        if (*p == '*') {
            int w = va_arg(ap, int);
            p++;
            if (w < 0) {
                flags |= F_LEFT;
                width = (size_t)-(long long)w;
            } else {
                width = (size_t)w;
            }
        } else {
            width = read_number(&p);
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                int pr = va_arg(ap, int);
                p++;
                prec = pr < 0 ? SIZE_MAX : (size_t)pr;
            } else {
                prec = read_number(&p); /* "." alone is a precision of 0 */
            }
        }
        if (*p == 'h') {
            len = p[1] == 'h' ? L_HH : L_H;
            p += len == L_HH ? 2 : 1;
        } else if (*p == 'l') {
            len = p[1] == 'l' ? L_LL : L_L;
            p += len == L_LL ? 2 : 1;
        } else if (*p == 'j') {
            len = L_J;
            p++;
        } else if (*p == 'z') {
            len = L_Z;
            p++;
        } else if (*p == 't') {
            len = L_T;
            p++;
        }

        switch (*p) {
        case 'd':
        case 'i': {
            intmax_t v = arg_signed(&ap, len);
            uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
            put_int(&o, *p, flags, width, prec, v < 0, mag);
            break;
        }
        case 'u':
        case 'o':
        case 'x':
        case 'X':
            put_int(&o, *p, flags, width, prec, false, arg_unsigned(&ap, len));
            break;
        case 'p':
            if (len != L_NONE) {
                goto unsupported;
            }
            put_int(&o, 'p', flags & F_LEFT, width, SIZE_MAX, false,
                    (uintmax_t)(uintptr_t)va_arg(ap, void *));
            break;
        case 'c': {
            char c;
            if (len != L_NONE) {
                goto unsupported; /* %lc: a wide character */
            }
            c = (char)(unsigned char)va_arg(ap, int);
            put_field(&o, flags, width, "", 0u, 0u, &c, 1u);
            break;
        }
        case 's': {
            const char *s;
            size_t n = 0;
            if (len != L_NONE) {
                goto unsupported; /* %ls: a wide string */
            }
            s = va_arg(ap, const char *);
            if (s == NULL) {
                s = "(null)";
            }
            /* Never read past the precision: %.16s may name an array without a NUL. */
            while (n < prec && s[n] != '\0') {
                n++;
            }
            put_field(&o, flags, width, "", 0u, 0u, s, n);
            break;
        }
        case '%':
            if (p != start + 1) {
                goto unsupported; /* "%5%" and the like: C gives them no meaning */
            }
            put(&o, '%');
            break;
        default:
            goto unsupported;
        }
        p++;
        continue;

    unsupported:
        /* Shown, not guessed: the rest of the format as it stands, no argument read. */
        while (*start != '\0') {
            put(&o, *start++);
        }
        break;
    }
    va_end(ap);

    if (cap > 0u) {
        buf[o.len < cap ? o.len : cap - 1u] = '\0';
    }
    /* A text longer than INT_MAX cannot be reported; C leaves that case open, POSIX calls it
     * EOVERFLOW and returns a negative value, as here. */
    return o.len > (size_t)INT_MAX ? -1 : (int)o.len;
}

int snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}
