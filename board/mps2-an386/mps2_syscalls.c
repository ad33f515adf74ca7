/*
 * mps2_syscalls.c: the little of newlib-nano's system layer this board needs.
 *
 * certwiz allocates nothing (DESIGN.md, memory model): there is no heap. newlib-nano's own
 * snprintf shared its formatter with asprintf and so referenced newlib's allocator; the board now
 * formats with its own snprintf (mps2_printf.c), which references none, and nothing else in the
 * image asks for memory. These definitions stay as a guard for any newlib function that ever
 * might: they stand in for newlib's allocator (its nano-mallocr.o and sbrk are then never
 * linked) and always fail, so that it would get NULL, not memory above .bss. While nothing refers
 * to them, --gc-sections leaves them out and they cost no flash.
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

/* `used`: with link-time optimisation (board.mk) only newlib's code could refer to these, and
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
