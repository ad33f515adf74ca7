/*
 * cw_hex.c: bytes as hexadecimal text (cw_hex.h).
 */
#include "cw/base/cw_hex.h"

void cw_hex_encode(const uint8_t *v, size_t n, char *out, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[v[i] >> 4];
        out[2 * i + 1] = digits[v[i] & 15u];
    }
    out[2 * n] = '\0';
}
