/*
 * mps2_syscalls.c: the little of newlib-nano's system layer this board needs.
 *
 * certwiz allocates nothing (DESIGN.md, memory model): there is no heap. newlib-nano's
 * snprintf shares its formatter with asprintf, so it references newlib's allocator even though
 * formatting into a caller's buffer never allocates. These definitions stand in for that
 * allocator (newlib's nano-mallocr.o and sbrk are then never linked) and always fail, so that
 * if anything ever did ask for memory it would get NULL, not memory above .bss.
 * `make size` lists every libc object in the image.
 */
#include <errno.h>
#include <reent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "mbedtls_config.h"
#include "mps2_board.h"

void *_malloc_r(struct _reent *r, size_t n);
void *_realloc_r(struct _reent *r, void *p, size_t n);
void _free_r(struct _reent *r, void *p);

/* `used`: with link-time optimisation (board.mk) only newlib's formatter refers to these, and
 * newlib is not in GCC's intermediate form: the optimiser would drop them as unreferenced and the
 * link would then fail on newlib's references. */
__attribute__((used)) void *_malloc_r(struct _reent *r, size_t n)
{
    (void)n;
    r->_errno = ENOMEM;
    return NULL;
}

__attribute__((used)) void *_realloc_r(struct _reent *r, void *p, size_t n)
{
    (void)p;
    (void)n;
    r->_errno = ENOMEM;
    return NULL;
}

__attribute__((used)) void _free_r(struct _reent *r, void *p)
{
    (void)r;
    (void)p; /* nothing was ever handed out */
}

/* mbedTLS's diagnostics (mbedtls_config.h): to the console, as one line at most. */
int board_mbedtls_printf(const char *fmt, ...)
{
    char line[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    board_uart_puts(line);
    return n;
}

void board_mbedtls_exit(int status)
{
    board_uart_puts("\r\nmps2-an386: mbedTLS stopped the board\r\n");
    board_semihost_exit(status == 0 ? 70 : status);
}
