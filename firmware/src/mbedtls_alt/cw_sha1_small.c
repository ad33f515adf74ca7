/*
 * cw_sha1_small.c: a small SHA-1 block function for mbedTLS, for boards where flash is tight.
 *
 * mbedTLS's own mbedtls_internal_sha1_process unrolls the 80 rounds (3.7 KB of Cortex-M code);
 * SHA-256 and SHA-512 have a MBEDTLS_SHAxxx_SMALLER switch, SHA-1 has none. A board that defines
 * MBEDTLS_SHA1_PROCESS_ALT in its mbedtls_config.h gets this one instead: the same function as a
 * loop over the rounds (FIPS 180-4, section 6.1.2), with the message schedule kept in a ring of
 * 16 words. Everything else of SHA-1 (padding, lengths, the context) stays mbedTLS's. Without
 * the switch this file compiles to nothing.
 *
 * certwiz uses SHA-1 for CA fingerprints (`ca auth`), SCEP's SHA-1 digests, and certificates a
 * CA still signs with it; the on-target tests check it against the FIPS 180 examples.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/build_info.h"

#if defined(MBEDTLS_SHA1_C) && defined(MBEDTLS_SHA1_PROCESS_ALT)

#include <stdint.h>

#include "mbedtls/platform_util.h"
#include "mbedtls/sha1.h"

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32u - n));
}

int mbedtls_internal_sha1_process(mbedtls_sha1_context *ctx, const unsigned char data[64])
{
    uint32_t w[16];
    uint32_t a = ctx->state[0];
    uint32_t b = ctx->state[1];
    uint32_t c = ctx->state[2];
    uint32_t d = ctx->state[3];
    uint32_t e = ctx->state[4];

    for (unsigned t = 0; t < 80; t++) {
        uint32_t f;
        uint32_t k;
        uint32_t tmp;
        if (t < 16) {
            w[t] = (uint32_t)data[4 * t] << 24 | (uint32_t)data[4 * t + 1] << 16 | (uint32_t)data[4 * t + 2] << 8 |
                   (uint32_t)data[4 * t + 3];
        } else {
            /* W[t] = ROTL1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]); the ring holds the last 16 */
            w[t & 15u] = rotl(w[(t - 3u) & 15u] ^ w[(t - 8u) & 15u] ^ w[(t - 14u) & 15u] ^ w[t & 15u], 1);
        }
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        tmp = rotl(a, 5) + f + e + k + w[t & 15u];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = tmp;
    }
    ctx->state[0] += a;
    ctx->state[1] += b;
    ctx->state[2] += c;
    ctx->state[3] += d;
    ctx->state[4] += e;
    mbedtls_platform_zeroize(w, sizeof w); /* the schedule is derived from the message */
    return 0;
}

#endif /* MBEDTLS_SHA1_C && MBEDTLS_SHA1_PROCESS_ALT */
