/*
 * cw_hex.h: bytes as hexadecimal text (key IDs, fingerprints, SCEP transactionIDs).
 */
#ifndef CW_HEX_H
#define CW_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* v[0..n) as 2n hex digits (upper case when upper) and a NUL into out (2n + 1 bytes). */
void cw_hex_encode(const uint8_t *v, size_t n, char *out, bool upper);

#endif /* CW_HEX_H */
