/*
 * cw_aes_small.c: small AES block functions for mbedTLS, for boards where flash is tight.
 *
 * mbedTLS's AES works on 32-bit words through lookup tables that merge SubBytes, ShiftRows and
 * MixColumns: with MBEDTLS_AES_ROM_TABLES and MBEDTLS_AES_FEWER_TABLES still 2.6 KB of tables,
 * and its round macros expanded in place (aes.o 5.1 KB on Cortex-M4). A board that defines the
 * four switches MBEDTLS_AES_SETKEY_ENC_ALT, MBEDTLS_AES_SETKEY_DEC_ALT, MBEDTLS_AES_ENCRYPT_ALT
 * and MBEDTLS_AES_DECRYPT_ALT in its mbedtls_config.h gets these instead: the cipher as FIPS-197
 * describes it, one byte of the state at a time, with the S-box as the one table and a loop over
 * the rounds (1.1 KB; 7 to 12 times slower, docs/decisions.md 21). The modes (ECB, CBC), the
 * context and its init/free stay mbedTLS's. Without the switches this file compiles to nothing.
 *
 * The round keys are FIPS-197's w[] as bytes (w[i] = rk[4i .. 4i+3]); decryption is the
 * straightforward inverse cipher of section 5.3 over the same schedule, so both setkey functions
 * store the same thing. Written from FIPS-197 (November 2001); the on-target suite `aes+des`
 * checks it against the standard's appendix C and NIST SP 800-38A's CBC examples.
 *
 * Timing: every table index depends on secret data, as in mbedTLS's own table-based code; on a
 * Cortex-M4 without a data cache a load takes the same time whatever its address.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/build_info.h"

#if defined(MBEDTLS_AES_C) && defined(MBEDTLS_AES_SETKEY_ENC_ALT)

#if !defined(MBEDTLS_AES_SETKEY_DEC_ALT) || !defined(MBEDTLS_AES_ENCRYPT_ALT) || !defined(MBEDTLS_AES_DECRYPT_ALT)
#error "cw_aes_small.c: the key schedule is its own, so all four AES _ALT switches go together"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mbedtls/aes.h"
#include "mbedtls/platform_util.h"

#define AES_BLOCK 16u      /* bytes in the state and in one round key (Nb = 4 words) */
#define AES_ROUNDS_MAX 14u /* Nr for a 256-bit key */

/* The round keys live in the context's word buffer, read as bytes: (Nr + 1) round keys. */
_Static_assert(sizeof(((mbedtls_aes_context *)0)->buf) >= (AES_ROUNDS_MAX + 1u) * AES_BLOCK,
               "mbedtls_aes_context.buf holds an AES-256 key schedule");

/* FIPS-197 5.1.1, Figure 7: SubBytes' S-box, indexed by the byte (row: high nibble). */
static const uint8_t sbox[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

/* FIPS-197 4.2.1: multiplication by x ({02}) modulo m(x) = x^8 + x^4 + x^3 + x + 1 ({11b}),
 * without a branch on the byte. */
static uint8_t xtime(uint8_t b)
{
    return (uint8_t)(((unsigned)b << 1) ^ (0x1bu & (0u - ((unsigned)b >> 7))));
}

/* FIPS-197 5.1.4 AddRoundKey: the state XOR one round key. */
static void add_round_key(uint8_t s[AES_BLOCK], const uint8_t *rk)
{
    for (unsigned i = 0; i < AES_BLOCK; i++) {
        s[i] ^= rk[i];
    }
}

/*
 * SubBytes and ShiftRows (5.1.1, 5.1.2) in one pass, or their inverses (5.3.2, 5.3.1) with the
 * inverse S-box: byte s[4c + r] is row r, column c of the state (3.4), and row r is rotated left
 * by r columns, s'(r, c) = s(r, (c + r) mod 4), or right by r to undo it, s'(r, c) =
 * s(r, (c + 3r) mod 4). In bytes: s'[i] = s[(i + 4r) mod 16], or s[(i + 12r) mod 16], with
 * r = i mod 4; col_step is 4 or 12. The two steps commute: one is per byte, one only moves bytes.
 */
static void sub_shift(uint8_t s[AES_BLOCK], const uint8_t box[256], unsigned col_step)
{
    uint8_t t[AES_BLOCK];
    memcpy(t, s, sizeof t);
    for (unsigned i = 0; i < AES_BLOCK; i++) {
        s[i] = box[t[(i + col_step * (i & 3u)) & 15u]];
    }
}

/*
 * MixColumns (5.1.3): each column times a(x) = {03}x^3 + {01}x^2 + {01}x + {02} modulo x^4 + 1,
 * s'0 = {02}s0 ^ {03}s1 ^ s2 ^ s3 and its rotations. With t = s0 ^ s1 ^ s2 ^ s3 that is
 * s'0 = s0 ^ t ^ {02}(s0 ^ s1): one xtime per byte.
 */
static void mix_columns(uint8_t s[AES_BLOCK])
{
    for (uint8_t *col = s; col < s + AES_BLOCK; col += 4) {
        uint8_t a0 = col[0];
        uint8_t a1 = col[1];
        uint8_t a2 = col[2];
        uint8_t a3 = col[3];
        uint8_t t = (uint8_t)(a0 ^ a1 ^ a2 ^ a3);
        col[0] = (uint8_t)(a0 ^ t ^ xtime((uint8_t)(a0 ^ a1)));
        col[1] = (uint8_t)(a1 ^ t ^ xtime((uint8_t)(a1 ^ a2)));
        col[2] = (uint8_t)(a2 ^ t ^ xtime((uint8_t)(a2 ^ a3)));
        col[3] = (uint8_t)(a3 ^ t ^ xtime((uint8_t)(a3 ^ a0)));
    }
}

/*
 * InvMixColumns (5.3.3): each column times a^-1(x) = {0b}x^3 + {0d}x^2 + {09}x + {0e}. That
 * polynomial is a(x) * ({04}x^2 + {05}) modulo x^4 + 1 (multiply out: {02}{05} ^ {01}{04} = {0e},
 * and so on), so the column is first multiplied by {04}x^2 + {05}, s'0 = {05}s0 ^ {04}s2 =
 * s0 ^ {04}(s0 ^ s2), s'1 = s1 ^ {04}(s1 ^ s3), and likewise s'2, s'3; then MixColumns.
 */
static void inv_mix_columns(uint8_t s[AES_BLOCK])
{
    for (unsigned c = 0; c < AES_BLOCK; c += 4) {
        uint8_t even = xtime(xtime((uint8_t)(s[c] ^ s[c + 2])));
        uint8_t odd = xtime(xtime((uint8_t)(s[c + 1] ^ s[c + 3])));
        s[c] ^= even;
        s[c + 1] ^= odd;
        s[c + 2] ^= even;
        s[c + 3] ^= odd;
    }
    mix_columns(s);
}

/*
 * The cipher (5.1, Figure 5) or the inverse cipher (5.3, Figure 12) over the key schedule w[]:
 * encryption adds round key 0, then runs rounds 1 .. Nr, the last without MixColumns; decryption
 * adds round key Nr, then undoes the rounds in the opposite order.
 */
static void aes_block(const mbedtls_aes_context *ctx, bool inverse, const uint8_t box[256],
                      const unsigned char input[AES_BLOCK], unsigned char output[AES_BLOCK])
{
    const uint8_t *w = (const uint8_t *)(ctx->buf + ctx->rk_offset);
    unsigned nr = (unsigned)ctx->nr;
    uint8_t s[AES_BLOCK];

    memcpy(s, input, sizeof s); /* copied first: input and output may be the same block */
    add_round_key(s, w + (inverse ? nr : 0u) * AES_BLOCK);
    for (unsigned round = 1; round <= nr; round++) {
        sub_shift(s, box, inverse ? 12u : 4u);
        if (!inverse && round < nr) {
            mix_columns(s);
        }
        add_round_key(s, w + (inverse ? nr - round : round) * AES_BLOCK);
        if (inverse && round < nr) {
            inv_mix_columns(s);
        }
    }
    memcpy(output, s, sizeof s);
    mbedtls_platform_zeroize(s, sizeof s);
}

/*
 * KeyExpansion (5.2, Figure 11): Nk key words, then w[i] = w[i - Nk] ^ temp, where temp is
 * w[i - 1], passed through RotWord, SubWord and XORed with Rcon at the start of each key length,
 * and through SubWord alone halfway through it for a 256-bit key.
 */
int mbedtls_aes_setkey_enc(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits)
{
    uint8_t *w;
    uint8_t temp[4];
    uint8_t rcon = 0x01; /* Rcon[i / Nk] = x^(i / Nk - 1): doubled after each use */
    unsigned nk;

    if (keybits != 128 && keybits != 192 && keybits != 256) {
        return MBEDTLS_ERR_AES_INVALID_KEY_LENGTH;
    }
    nk = keybits / 32;
    ctx->nr = (int)nk + 6;
    ctx->rk_offset = 0;
    w = (uint8_t *)ctx->buf;

    for (unsigned i = 0; i < 4 * nk; i++) {
        w[i] = key[i];
    }
    for (unsigned i = nk; i < 4 * ((unsigned)ctx->nr + 1); i++) {
        for (unsigned j = 0; j < 4; j++) {
            temp[j] = w[4 * (i - 1) + j];
        }
        if (i % nk == 0) {
            uint8_t first = temp[0];
            temp[0] = (uint8_t)(sbox[temp[1]] ^ rcon);
            temp[1] = sbox[temp[2]];
            temp[2] = sbox[temp[3]];
            temp[3] = sbox[first];
            rcon = xtime(rcon);
        } else if (nk > 6 && i % nk == 4) {
            for (unsigned j = 0; j < 4; j++) {
                temp[j] = sbox[temp[j]];
            }
        }
        for (unsigned j = 0; j < 4; j++) {
            w[4 * i + j] = (uint8_t)(w[4 * (i - nk) + j] ^ temp[j]);
        }
    }
    mbedtls_platform_zeroize(temp, sizeof temp);
    return 0;
}

/* The inverse cipher of 5.3 uses the encryption schedule as it is. */
int mbedtls_aes_setkey_dec(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits)
{
    return mbedtls_aes_setkey_enc(ctx, key, keybits);
}

int mbedtls_internal_aes_encrypt(mbedtls_aes_context *ctx, const unsigned char input[16], unsigned char output[16])
{
    aes_block(ctx, false, sbox, input, output);
    return 0;
}

int mbedtls_internal_aes_decrypt(mbedtls_aes_context *ctx, const unsigned char input[16], unsigned char output[16])
{
    /* InvSubBytes' table (5.3.2) is the S-box read backwards: built here, on the stack, rather
     * than kept as a second table in flash (measured: 240 bytes more flash that way; this way
     * 256 bytes of stack and about 1 300 instructions a block). */
    uint8_t inv_sbox[256];
    for (unsigned i = 0; i < 256; i++) {
        inv_sbox[sbox[i]] = (uint8_t)i;
    }
    aes_block(ctx, true, inv_sbox, input, output);
    return 0;
}

#endif /* MBEDTLS_AES_C && MBEDTLS_AES_SETKEY_ENC_ALT */
