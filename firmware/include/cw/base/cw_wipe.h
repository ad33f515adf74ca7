/*
 * cw_wipe.h: erase secrets so that the compiler cannot drop the erasure as a dead store.
 */
#ifndef CW_WIPE_H
#define CW_WIPE_H

#include <stddef.h>

/* Sets n bytes at p to zero through a volatile pointer (PINs, challenge passwords, scratch
 * that held key material or plaintext). */
void cw_wipe(void *p, size_t n);

#endif /* CW_WIPE_H */
