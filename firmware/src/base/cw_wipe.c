/*
 * cw_wipe.c: see cw_wipe.h.
 */
#include "cw/base/cw_wipe.h"

void cw_wipe(void *p, size_t n)
{
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n-- > 0) {
        *v++ = 0;
    }
}
