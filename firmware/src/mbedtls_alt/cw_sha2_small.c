/*
 * cw_sha2_small.c: small SHA-256 and SHA-512 block functions for mbedTLS, for boards where flash
 * is tight.
 *
 * mbedTLS's block functions, even with MBEDTLS_SHA256_SMALLER and MBEDTLS_SHA512_SMALLER, expand
 * every rotation inline (a 64-bit one is several Cortex-M instructions) and keep a table of round
 * constants each: SHA-256's 64 words are the high halves of SHA-512's first 64 (FIPS 180-4,
 * 4.2.2 and 4.2.3: the first 32 and the first 64 bits of the fractional parts of the cube roots of
 * the first primes). A board that defines both MBEDTLS_SHA256_PROCESS_ALT and
 * MBEDTLS_SHA512_PROCESS_ALT gets these instead: one table of SHA-512's 80 constants (computed
 * from the cube roots, checked against the standard's first and last), the rounds of FIPS 180-4
 * 6.2.2 and 6.4.2 as loops with the message schedule in a ring of 16 words; SHA-256's sigmas
 * written out (a 32-bit rotation is one instruction), SHA-512's four in one small function. Padding,
 * lengths and contexts stay mbedTLS's. Without the switches this file compiles to nothing.
 *
 * Speed, per MiB in QEMU with -icount shift=5 (32 ns an instruction), against mbedTLS's SMALLER
 * functions: SHA-256 3.3 s against 1.9 s, SHA-384 and SHA-512 9.6 s against 3.1 s. certwiz hashes
 * a few KiB per request or certificate; `http get` hashes what it fetches (docs/decisions.md 44).
 *
 * certwiz hashes with SHA-256 and SHA-384 (a SHA-512 with other initial values) for its requests,
 * fingerprints and signature checks; the on-target suite `sha2` checks the FIPS 180 examples.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/build_info.h"

#if defined(MBEDTLS_SHA256_PROCESS_ALT) != defined(MBEDTLS_SHA512_PROCESS_ALT)
#error "cw_sha2_small.c: SHA-256's constants are SHA-512's: set both PROCESS_ALT switches or neither"
#endif

#if defined(MBEDTLS_SHA256_C) && defined(MBEDTLS_SHA512_C) && defined(MBEDTLS_SHA256_PROCESS_ALT)

#include <stdint.h>

#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"

/* FIPS 180-4 4.2.3: K0..K79 of SHA-512; SHA-256's Kt (4.2.2) is the high half of the first 64. */
static const uint64_t k512[80] = {
    0x428A2F98D728AE22ULL, 0x7137449123EF65CDULL, 0xB5C0FBCFEC4D3B2FULL,
    0xE9B5DBA58189DBBCULL, 0x3956C25BF348B538ULL, 0x59F111F1B605D019ULL,
    0x923F82A4AF194F9BULL, 0xAB1C5ED5DA6D8118ULL, 0xD807AA98A3030242ULL,
    0x12835B0145706FBEULL, 0x243185BE4EE4B28CULL, 0x550C7DC3D5FFB4E2ULL,
    0x72BE5D74F27B896FULL, 0x80DEB1FE3B1696B1ULL, 0x9BDC06A725C71235ULL,
    0xC19BF174CF692694ULL, 0xE49B69C19EF14AD2ULL, 0xEFBE4786384F25E3ULL,
    0x0FC19DC68B8CD5B5ULL, 0x240CA1CC77AC9C65ULL, 0x2DE92C6F592B0275ULL,
    0x4A7484AA6EA6E483ULL, 0x5CB0A9DCBD41FBD4ULL, 0x76F988DA831153B5ULL,
    0x983E5152EE66DFABULL, 0xA831C66D2DB43210ULL, 0xB00327C898FB213FULL,
    0xBF597FC7BEEF0EE4ULL, 0xC6E00BF33DA88FC2ULL, 0xD5A79147930AA725ULL,
    0x06CA6351E003826FULL, 0x142929670A0E6E70ULL, 0x27B70A8546D22FFCULL,
    0x2E1B21385C26C926ULL, 0x4D2C6DFC5AC42AEDULL, 0x53380D139D95B3DFULL,
    0x650A73548BAF63DEULL, 0x766A0ABB3C77B2A8ULL, 0x81C2C92E47EDAEE6ULL,
    0x92722C851482353BULL, 0xA2BFE8A14CF10364ULL, 0xA81A664BBC423001ULL,
    0xC24B8B70D0F89791ULL, 0xC76C51A30654BE30ULL, 0xD192E819D6EF5218ULL,
    0xD69906245565A910ULL, 0xF40E35855771202AULL, 0x106AA07032BBD1B8ULL,
    0x19A4C116B8D2D0C8ULL, 0x1E376C085141AB53ULL, 0x2748774CDF8EEB99ULL,
    0x34B0BCB5E19B48A8ULL, 0x391C0CB3C5C95A63ULL, 0x4ED8AA4AE3418ACBULL,
    0x5B9CCA4F7763E373ULL, 0x682E6FF3D6B2B8A3ULL, 0x748F82EE5DEFB2FCULL,
    0x78A5636F43172F60ULL, 0x84C87814A1F0AB72ULL, 0x8CC702081A6439ECULL,
    0x90BEFFFA23631E28ULL, 0xA4506CEBDE82BDE9ULL, 0xBEF9A3F7B2C67915ULL,
    0xC67178F2E372532BULL, 0xCA273ECEEA26619CULL, 0xD186B8C721C0C207ULL,
    0xEADA7DD6CDE0EB1EULL, 0xF57D4F7FEE6ED178ULL, 0x06F067AA72176FBAULL,
    0x0A637DC5A2C898A6ULL, 0x113F9804BEF90DAEULL, 0x1B710B35131C471BULL,
    0x28DB77F523047D84ULL, 0x32CAAB7B40C72493ULL, 0x3C9EBE0A15C9BEBCULL,
    0x431D67C49C100D4CULL, 0x4CC5D4BECB3E42B6ULL, 0x597F299CFC657E2AULL,
    0x5FCB6FAB3AD6FAECULL, 0x6C44198C4A475817ULL,
};

/* A SHA-512 sigma function: the rotations right by the low three bytes of r, the last one a shift
 * instead when bit 31 is set (the message schedule's small sigmas). A 64-bit rotation takes
 * several instructions, so the four share this one function. */
/* SHA-256's rotations are single Cortex-M instructions: its sigmas are written out. */
#define ROR32(x, n) (((x) >> (n)) | ((x) << (32u - (n))))
#define SIGMA32(x, a, b, c) (ROR32(x, a) ^ ROR32(x, b) ^ ROR32(x, c))
#define SMALL_SIGMA32(x, a, b, c) (ROR32(x, a) ^ ROR32(x, b) ^ ((x) >> (c)))

static uint64_t sigma64(uint64_t x, uint32_t r)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 3u; i++, r >>= 8) {
        unsigned n = r & 0x3Fu;
        v ^= i == 2u && (r & 0x8000u) != 0u ? x >> n : (x >> n) | (x << (64u - n));
    }
    return v;
}

/* Big-endian words of a block. */
__attribute__((noinline)) static uint64_t load_be(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

#define ROT3(a, b, c) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16)
#define ROT2_SHR(a, b, c) (ROT3(a, b, c) | 0x80000000u)

/* The working variables move down one place a round in a loop, not through memmove (which GCC
 * would call for it, and which on this board moves a byte at a time). */
#define NO_MEMMOVE __attribute__((optimize("no-tree-loop-distribute-patterns")))

/* FIPS 180-4 6.2.2: one 64-byte block. */
NO_MEMMOVE int mbedtls_internal_sha256_process(mbedtls_sha256_context *ctx, const unsigned char data[64])
{
    uint32_t w[16];
    uint32_t v[8];

    for (unsigned i = 0; i < 8u; i++) {
        v[i] = ctx->state[i];
    }
    for (unsigned t = 0; t < 64u; t++) {
        uint32_t x;
        uint32_t t1;
        uint32_t t2;
        if (t < 16u) {
            x = (uint32_t)load_be(data + 4u * t, 4);
        } else {
            uint32_t w1 = w[(t + 1u) & 15u];
            uint32_t w14 = w[(t + 14u) & 15u];
            x = w[t & 15u] + SMALL_SIGMA32(w1, 7u, 18u, 3u) + w[(t + 9u) & 15u] + SMALL_SIGMA32(w14, 17u, 19u, 10u);
        }
        w[t & 15u] = x;
        t1 = v[7] + SIGMA32(v[4], 6u, 11u, 25u) + (v[6] ^ (v[4] & (v[5] ^ v[6]))) +
             (uint32_t)(k512[t] >> 32) + x;
        t2 = SIGMA32(v[0], 2u, 13u, 22u) + ((v[0] & v[1]) | (v[2] & (v[0] | v[1])));
        for (unsigned i = 7; i > 0u; i--) {
            v[i] = v[i - 1u];
        }
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (unsigned i = 0; i < 8u; i++) {
        ctx->state[i] += v[i];
    }
    mbedtls_platform_zeroize(w, sizeof w);
    mbedtls_platform_zeroize(v, sizeof v);
    return 0;
}

/* FIPS 180-4 6.4.2: one 128-byte block (SHA-384 too: only its initial values differ). */
NO_MEMMOVE int mbedtls_internal_sha512_process(mbedtls_sha512_context *ctx, const unsigned char data[128])
{
    uint64_t w[16];
    uint64_t v[8];

    for (unsigned i = 0; i < 8u; i++) {
        v[i] = ctx->state[i];
    }
    for (unsigned t = 0; t < 80u; t++) {
        uint64_t x;
        uint64_t t1;
        uint64_t t2;
        if (t < 16u) {
            x = load_be(data + 8u * t, 8);
        } else {
            x = w[t & 15u] + sigma64(w[(t + 1u) & 15u], ROT2_SHR(1, 8, 7)) + w[(t + 9u) & 15u] +
                sigma64(w[(t + 14u) & 15u], ROT2_SHR(19, 61, 6));
        }
        w[t & 15u] = x;
        t1 = v[7] + sigma64(v[4], ROT3(14, 18, 41)) + (v[6] ^ (v[4] & (v[5] ^ v[6]))) + k512[t] + x;
        t2 = sigma64(v[0], ROT3(28, 34, 39)) + ((v[0] & v[1]) | (v[2] & (v[0] | v[1])));
        for (unsigned i = 7; i > 0u; i--) {
            v[i] = v[i - 1u];
        }
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (unsigned i = 0; i < 8u; i++) {
        ctx->state[i] += v[i];
    }
    mbedtls_platform_zeroize(w, sizeof w);
    mbedtls_platform_zeroize(v, sizeof v);
    return 0;
}

#endif /* MBEDTLS_SHA256_C && MBEDTLS_SHA512_C && MBEDTLS_SHA256_PROCESS_ALT */
