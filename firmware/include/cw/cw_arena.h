/*
 * cw_arena.h: the one static arena, with used and high-water accounting.
 *
 * The arena is CW_ARENA_SIZE bytes of static storage handed to mbedTLS's buffer allocator
 * (MBEDTLS_MEMORY_BUFFER_ALLOC_C): every mbedtls_calloc() comes from here, and so does
 * certwiz's own short-lived scratch through cw_arena_alloc(). Nothing calls libc malloc.
 *
 * Figures count the bytes callers asked for (not the allocator's block headers) and the number
 * of live blocks; "high water" is the most ever in use at once since init or the last reset.
 */
#ifndef CW_ARENA_H
#define CW_ARENA_H

#include <stddef.h>

typedef struct cw_arena_stats_t {
    size_t size;            /* total bytes of the arena */
    size_t used;            /* bytes in live blocks now */
    size_t blocks;          /* live blocks now */
    size_t high_water;      /* most bytes in use at once */
    size_t high_blocks;     /* most blocks live at once */
} cw_arena_stats_t;

/* Hands the static arena to mbedTLS. Call once at start-up, before any mbedTLS call. */
void cw_arena_init(void);

/* Zeroed block of n bytes from the arena, or NULL when it has no room. */
void *cw_arena_alloc(size_t n);

/* Returns a block from cw_arena_alloc() (NULL is accepted). */
void cw_arena_free(void *p);

/* Current figures. */
void cw_arena_stats(cw_arena_stats_t *out);

/* Starts a new high-water measurement at the current use. */
void cw_arena_reset_high_water(void);

#endif /* CW_ARENA_H */
