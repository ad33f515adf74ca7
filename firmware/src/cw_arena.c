/*
 * cw_arena.c: the static arena behind mbedTLS's buffer allocator.
 */
#include "cw/cw_arena.h"
#include "cw/cw_opts.h"

#include <stdint.h>

#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"

#if !defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C) || !defined(MBEDTLS_MEMORY_DEBUG)
#error "the board's mbedtls_config.h must enable MBEDTLS_MEMORY_BUFFER_ALLOC_C and MBEDTLS_MEMORY_DEBUG"
#endif

/* Aligned for any object mbedTLS places there. */
static union {
    unsigned char bytes[CW_ARENA_SIZE];
    uint64_t align_u64;
    void *align_ptr;
} arena;

void cw_arena_init(void)
{
    mbedtls_memory_buffer_alloc_init(arena.bytes, sizeof arena.bytes);
}

void *cw_arena_alloc(size_t n)
{
    return mbedtls_calloc(1, n);
}

void cw_arena_free(void *p)
{
    mbedtls_free(p);
}

void cw_arena_stats(cw_arena_stats_t *out)
{
    out->size = sizeof arena.bytes;
    mbedtls_memory_buffer_alloc_cur_get(&out->used, &out->blocks);
    mbedtls_memory_buffer_alloc_max_get(&out->high_water, &out->high_blocks);
}

void cw_arena_reset_high_water(void)
{
    mbedtls_memory_buffer_alloc_max_reset();
}
