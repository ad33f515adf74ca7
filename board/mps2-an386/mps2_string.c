/*
 * mps2_string.c: the string functions certwiz, lwIP and mbedTLS call on short strings, for this
 * board, in place of newlib-nano's.
 *
 * newlib-nano is built for size, but for Armv7-M it still takes strcmp and strlen from its
 * hand-written assembly, which is unrolled for speed: strcmp-armv7.S is 732 bytes, strlen-armv7.S
 * 220; its strchr, strcpy, strncmp, strcspn and memchr work a word at a time (756 bytes
 * together). certwiz compares, measures and searches short strings (console words, header names,
 * OID names, role names), where that speed is worth nothing; these loops are a few dozen bytes
 * each. Being defined here, newlib's are never linked (make size: flash -928 bytes for the first
 * two, -0.6 KB for the next five). memcmp and memmove follow (-0.26 KB): certwiz compares
 * fingerprints and OIDs and moves DER within a buffer, a few hundred bytes at a time. memcpy and
 * memset last (-0.4 KB, decision 44): newlib's are unrolled assembly (308 and 162 bytes); these
 * move a word at a time when both addresses allow it, which is what bignum, hashing and the
 * ciphers hand them (blocks of words), and a byte at a time otherwise.
 * tests/target/target_libc.c checks every function here.
 *
 * GCC can recognise a loop like strlen's and replace it with a call to strlen (loop distribution's
 * library-call patterns), which here would call itself. GCC 12.2 does not for these two loops
 * (checked at -Os, -O2 and -O3); the attribute keeps a later compiler from doing it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NO_LIBCALL_RECOGNITION __attribute__((optimize("no-tree-loop-distribute-patterns")))

/* A word that may alias any object, for memcpy's and memset's word loops. */
typedef uint32_t __attribute__((may_alias)) any_word_t;

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

/* C11 7.24.5.2: the first c (converted to char) in s, the terminating NUL included, or NULL. */
NO_LIBCALL_RECOGNITION char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c) {
            return (char *)(uintptr_t)s;
        }
        if (*s == '\0') {
            return NULL;
        }
    }
}

/* C11 7.24.2.3 */
NO_LIBCALL_RECOGNITION char *strcpy(char *restrict dst, const char *restrict src)
{
    char *d = dst;
    while ((*d++ = *src++) != '\0') {
    }
    return dst;
}

/* C11 7.24.4.4: as strcmp, over at most n characters. */
NO_LIBCALL_RECOGNITION int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    for (; n > 0u; n--, p++, q++) {
        if (*p != *q || *p == 0u) {
            return (int)*p - (int)*q;
        }
    }
    return 0;
}

/* C11 7.24.5.3: the length of s's first part made of characters not in reject. */
NO_LIBCALL_RECOGNITION size_t strcspn(const char *s, const char *reject)
{
    size_t n = 0;
    while (s[n] != '\0' && strchr(reject, s[n]) == NULL) {
        n++;
    }
    return n;
}

/* C11 7.24.5.1: the first c (as unsigned char) in s[0..n), or NULL. */
NO_LIBCALL_RECOGNITION void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (; n > 0u; n--, p++) {
        if (*p == (unsigned char)c) {
            return (void *)(uintptr_t)p;
        }
    }
    return NULL;
}

/* C11 7.24.4.1: the sign of the first difference, the bytes read as unsigned char. (Not for
 * secrets: mbedTLS compares those with its constant-time functions.) */
NO_LIBCALL_RECOGNITION int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a;
    const unsigned char *q = b;

    for (; n > 0u; n--, p++, q++) {
        if (*p != *q) {
            return (int)*p - (int)*q;
        }
    }
    return 0;
}

/* C11 7.24.2.2: copies as if through a temporary: forwards when the destination is below the
 * source, backwards otherwise, so that overlapping bytes are read before they are written. */
NO_LIBCALL_RECOGNITION void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if ((uintptr_t)d < (uintptr_t)s) {
        for (size_t i = 0; i < n; i++) {
            d[i] = s[i];
        }
    } else {
        while (n > 0u) {
            n--;
            d[n] = s[n];
        }
    }
    return dst;
}

/* C11 7.24.2.1: n bytes from src to dst (which do not overlap): a word at a time while both are
 * word-aligned, then the bytes left. */
NO_LIBCALL_RECOGNITION void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0u) {
        for (; n >= 4u; n -= 4u, d += 4, s += 4) {
            *(any_word_t *)(void *)d = *(const any_word_t *)(const void *)s;
        }
    }
    for (; n > 0u; n--) {
        *d++ = *s++;
    }
    return dst;
}

/* C11 7.24.6.1: c (as unsigned char) into n bytes of s, a word at a time where s is aligned. */
NO_LIBCALL_RECOGNITION void *memset(void *s, int c, size_t n)
{
    unsigned char *d = s;
    uint32_t w = (unsigned char)c * 0x01010101u;

    for (; ((uintptr_t)d & 3u) != 0u && n > 0u; n--) {
        *d++ = (unsigned char)c;
    }
    for (; n >= 4u; n -= 4u, d += 4) {
        *(any_word_t *)(void *)d = w;
    }
    for (; n > 0u; n--) {
        *d++ = (unsigned char)c;
    }
    return s;
}
