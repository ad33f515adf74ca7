/*
 * malloc_probe.c: deliberately breaks the memory model. tests/system/test_build.py compiles it
 * as if it were part of firmware/ (CW_EXTRA_SRCS) and expects the build to fail, naming this
 * object and the symbols. It is never part of a real build.
 */
#include <stdlib.h>

void *cw_probe_take(size_t n);
void cw_probe_give(void *p);

void *cw_probe_take(size_t n)
{
    return malloc(n);
}

void cw_probe_give(void *p)
{
    free(p);
}
