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

#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

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

/*
 * Gets an RSA public key ready to verify or encrypt with a lower arena high-water: computes
 * R^2 mod N (Montgomery's constant for N) now, while little else is allocated. mbedTLS computes
 * it lazily inside the key's first public operation, after it has allocated that operation's
 * buffers and working memory, and with a long division whose temporaries are 11 times the size
 * of N: at 4096 bits that put the arena's peak at 11.8 KiB, and 7.0 KiB with this done first.
 * The result is the very value mbedTLS would compute (R^2 mod N, R = 2^(limbs of N * limb
 * bits)), reached by doubling modulo N, which needs one number the size of N.
 *
 * Keys that are not RSA, and keys already prepared, are left as they are. When the arena has no
 * room, the key is left as it was and mbedTLS computes the value itself, as without this call.
 */
void cw_arena_prepare_key(mbedtls_pk_context *pk);

/* cw_arena_prepare_key for every certificate of a parsed list from its from-th on (0: all). */
void cw_arena_prepare_certs(mbedtls_x509_crt *list, size_t from);

#endif /* CW_ARENA_H */
