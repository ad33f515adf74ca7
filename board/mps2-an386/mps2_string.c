/*
 * mps2_string.c: strcmp and strlen for this board, in place of newlib-nano's.
 *
 * newlib-nano is built for size, but for Armv7-M it still takes these two from its hand-written
 * assembly, which is unrolled for speed: strcmp-armv7.S is 732 bytes, strlen-armv7.S 220. certwiz
 * compares and measures short strings (console words, header names, OID names, role names), where
 * that speed is worth nothing; these loops are a few dozen bytes. Being defined here, newlib's are
 * never linked (make size: flash -928 bytes). tests/target/target_libc.c checks them.
 *
 * GCC can recognise a loop like strlen's and replace it with a call to strlen (loop distribution's
 * library-call patterns), which here would call itself. GCC 12.2 does not for these two loops
 * (checked at -Os, -O2 and -O3); the attribute keeps a later compiler from doing it.
 */
#include <stddef.h>
#include <string.h>

#define NO_LIBCALL_RECOGNITION __attribute__((optimize("no-tree-loop-distribute-patterns")))

/* C11 7.24.4.2: the sign of the first difference, the characters read as unsigned char. */
NO_LIBCALL_RECOGNITION int strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    while (*p != 0u && *p == *q) {
        p++;
        q++;
    }
    return (int)*p - (int)*q;
}

/* C11 7.24.6.3: the number of characters before the terminating NUL. */
NO_LIBCALL_RECOGNITION size_t strlen(const char *s)
{
    const char *p = s;

    while (*p != '\0') {
        p++;
    }
    return (size_t)(p - s);
}
