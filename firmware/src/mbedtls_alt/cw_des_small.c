/*
 * cw_des_small.c: small DES and triple-DES block functions for mbedTLS, for boards where flash
 * is tight.
 *
 * mbedTLS computes DES with eight 256-byte tables that merge each S-box with the permutation P,
 * and its permutations and key schedule as unrolled shift-and-mask sequences (des.o 5.0 KB on
 * Cortex-M4). A board that defines MBEDTLS_DES_SETKEY_ALT,
 * MBEDTLS_DES_CRYPT_ECB_ALT and MBEDTLS_DES3_CRYPT_ECB_ALT in its mbedtls_config.h gets these
 * instead: the algorithm as FIPS 46-3 describes it, each permutation a loop over the standard's
 * own table (E, a regular pattern, as rotations), the S-boxes at four bits an entry (1.2 KB; 14
 * times slower, docs/decisions.md 21). The modes (CBC), the contexts, the two- and three-key
 * schedules (built from mbedtls_des_setkey) and the weak-key and parity helpers stay mbedTLS's.
 * Without the switches this file compiles to nothing.
 *
 * The subkey format is fixed by des.c, which makes the decryption and triple-DES schedules by
 * moving pairs of words: round n's subkey (n = 0 .. 15) is SK[2n], SK[2n + 1], and a schedule
 * read backwards pair by pair decrypts. Here SK[2n] holds the subkey's six-bit groups 1 to 4 and
 * SK[2n + 1] groups 5 to 8, one group a byte, first group in the most significant byte: each
 * group meets one S-box's input. Written from FIPS 46-3 (October 1999; the algorithm is also in
 * NIST SP 800-67); the on-target suite `aes+des` checks it against published and OpenSSL-made
 * known answers.
 *
 * Timing: the S-box lookups are indexed by secret data, as in mbedTLS's table-based code; on a
 * Cortex-M4 without a data cache a load takes the same time whatever its address. No branch
 * depends on the key or the data.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/build_info.h"

#if defined(MBEDTLS_DES_C) && defined(MBEDTLS_DES_SETKEY_ALT)

#if !defined(MBEDTLS_DES_CRYPT_ECB_ALT) || !defined(MBEDTLS_DES3_CRYPT_ECB_ALT)
#error "cw_des_small.c: its subkey format is its own, so all three DES _ALT switches go together"
#endif

#include <stdint.h>

#include "mbedtls/des.h"
#include "mbedtls/platform_util.h"

#define DES_ROUNDS 16u   /* rounds of one DES pass */
#define DES_SK_WORDS 32u /* words of one pass's subkeys: two a round */

/*
 * The permutations, as FIPS 46-3 prints them: output bit j (from 1, the most significant) is
 * input bit table[j - 1].
 */
static const uint8_t ip[64] = { /* IP, the initial permutation */
    58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
    62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
    57, 49, 41, 33, 25, 17, 9,  1, 59, 51, 43, 35, 27, 19, 11, 3,
    61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
};
static const uint8_t fp[64] = { /* IP^-1, the final permutation */
    40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
    38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
    36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
    34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9,  49, 17, 57, 25,
};
static const uint8_t p[32] = { /* P, applied to the S-boxes' output */
    16, 7, 20, 21, 29, 12, 28, 17, 1,  15, 23, 26, 5,  18, 31, 10,
    2,  8, 24, 14, 32, 27, 3,  9,  19, 13, 30, 6,  22, 11, 4,  25,
};
static const uint8_t pc1[56] = { /* Permuted Choice 1: the key's 56 bits without parity, C then D */
    57, 49, 41, 33, 25, 17, 9,  1,  58, 50, 42, 34, 26, 18,
    10, 2,  59, 51, 43, 35, 27, 19, 11, 3,  60, 52, 44, 36,
    63, 55, 47, 39, 31, 23, 15, 7,  62, 54, 46, 38, 30, 22,
    14, 6,  61, 53, 45, 37, 29, 21, 13, 5,  28, 20, 12, 4,
};
static const uint8_t pc2[48] = { /* Permuted Choice 2: a round's 48 key bits from C and D */
    14, 17, 11, 24, 1,  5,  3,  28, 15, 6,  21, 10,
    23, 19, 12, 4,  26, 8,  16, 7,  27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
    44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
};
/* Left shifts of C and D before each round's PC-2. */
static const uint8_t shifts[DES_ROUNDS] = {1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1};

/*
 * The selection functions S1 .. S8, four rows of sixteen four-bit entries each, as the standard
 * prints them (each ROWS below is two of its rows). A six-bit input b1 .. b6 picks row b1 b6 and
 * column b2 b3 b4 b5; stored with rows 0 and 1, then 2 and 3, interleaved column by column, two
 * entries a byte, the byte is the input's bits b1 .. b5 and the nibble its bit b6 (0: the high
 * one): 32 bytes a box.
 */
#define PAIR(hi, lo) (uint8_t)((hi) << 4 | (lo))
#define ROWS(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, b0, b1, b2, b3, b4, b5, \
             b6, b7, b8, b9, b10, b11, b12, b13, b14, b15)                                             \
    PAIR(a0, b0), PAIR(a1, b1), PAIR(a2, b2), PAIR(a3, b3), PAIR(a4, b4), PAIR(a5, b5), PAIR(a6, b6),  \
        PAIR(a7, b7), PAIR(a8, b8), PAIR(a9, b9), PAIR(a10, b10), PAIR(a11, b11), PAIR(a12, b12),      \
        PAIR(a13, b13), PAIR(a14, b14), PAIR(a15, b15)
static const uint8_t sbox[8][32] = {
    {ROWS(14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
          0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8),
     ROWS(4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
          15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13)},
    {ROWS(15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
          3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5),
     ROWS(0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
          13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9)},
    {ROWS(10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
          13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1),
     ROWS(13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
          1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12)},
    {ROWS(7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
          13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9),
     ROWS(10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
          3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14)},
    {ROWS(2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
          14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6),
     ROWS(4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
          11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3)},
    {ROWS(12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
          10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8),
     ROWS(9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
          4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13)},
    {ROWS(4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
          13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6),
     ROWS(1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
          6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12)},
    {ROWS(13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
          1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2),
     ROWS(7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
          2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11)},
};
#undef ROWS
#undef PAIR

static uint32_t rotr32(uint32_t x, unsigned n) /* n < 32 */
{
    return (x >> n) | (x << ((32u - n) & 31u));
}

/*
 * Applies n entries (at most 32) of a table above to a bit string of up to 64 bits held as two
 * words, bits 1 to 32 in x[0]; the result is right-aligned. Bit t lies (64 - t) mod 32 places
 * above the bottom of its word, so rotating the word right by that brings it down.
 */
static uint32_t permute(const uint32_t x[2], const uint8_t *table, unsigned n)
{
    uint32_t out = 0;
    for (unsigned j = 0; j < n; j++) {
        unsigned t = table[j];
        out = out << 1 | (rotr32(x[(t - 1u) / 32u], (64u - t) % 32u) & 1u);
    }
    return out;
}

/*
 * The cipher function f(R, K): E expands R to eight six-bit groups, each XORed with the subkey's
 * group and looked up in its S-box, and P permutes the 32 bits that come out. P's loop is most
 * of a block's time; unrolled it measured 176 bytes more for 1.6 times the speed, and flash is
 * what this file is for.
 */
static uint32_t f(uint32_t r, const uint32_t k[2])
{
    /* E's row g is bits 4g .. 4g + 5 of R (bit 0 being bit 32, bit 33 bit 1): rotated left by
     * 4g + 5 (right by 27 - 4g) they are the low six bits; e moves on four bits a group. */
    uint32_t e = rotr32(r, 27);
    uint32_t s = 0;
    uint32_t out = 0;
    for (unsigned g = 0; g < 8; g++) {
        unsigned b = (e ^ (k[g / 4] >> (24u - 8u * (g % 4)))) & 0x3fu;
        unsigned pair = sbox[g][b >> 1];
        s = s << 4 | ((pair >> (4u * (~b & 1u))) & 15u);
        e = rotr32(e, 28);
    }
    for (unsigned j = 0; j < 32; j++) { /* P: as permute(), on one word */
        out = out << 1 | (rotr32(s, 32u - p[j]) & 1u);
    }
    return out;
}

/* One pass of 16 rounds, L(n) = R(n-1), R(n) = L(n-1) ^ f(R(n-1), K(n)), ending with the
 * halves exchanged (R16 L16, the preoutput): three passes in a row are triple DES, as the
 * permutations between them, IP^-1 then IP, cancel. */
static void rounds(uint32_t lr[2], const uint32_t sk[DES_SK_WORDS])
{
    uint32_t l = lr[0];
    uint32_t r = lr[1];
    for (unsigned n = 0; n < DES_ROUNDS; n++) {
        uint32_t next = l ^ f(r, sk + 2 * n);
        l = r;
        r = next;
    }
    lr[0] = r;
    lr[1] = l;
}

static uint32_t get_be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* IP, one pass per 32 subkey words, IP^-1. */
static void des_passes(const uint32_t *sk, unsigned passes, const unsigned char input[8], unsigned char output[8])
{
    uint32_t in[2] = {get_be32(input), get_be32(input + 4)};
    uint32_t x[2] = {permute(in, ip, 32), permute(in, ip + 32, 32)};
    for (unsigned i = 0; i < passes; i++) {
        rounds(x, sk + DES_SK_WORDS * i);
    }
    in[0] = permute(x, fp, 32);
    in[1] = permute(x, fp + 32, 32);
    for (unsigned i = 0; i < 8; i++) {
        output[i] = (unsigned char)(in[i / 4] >> (24u - 8u * (i % 4)));
    }
}

static uint32_t rotl28(uint32_t x, unsigned n) /* C and D: 28-bit registers */
{
    return ((x << n) | (x >> (28u - n))) & 0x0fffffffu;
}

/* Four six-bit groups (24 bits) one to a byte, first group in the most significant byte. */
static uint32_t spread_groups(uint32_t v)
{
    uint32_t out = 0;
    for (unsigned g = 0; g < 4; g++) {
        out = out << 8 | ((v >> (18u - 6u * g)) & 0x3fu);
    }
    return out;
}

/*
 * The key schedule: PC-1 takes C and D from the key; before round n both are rotated left by
 * shifts[n], and PC-2 takes the subkey K(n) from C D, in two halves of four groups.
 */
void mbedtls_des_setkey(uint32_t SK[32], const unsigned char key[MBEDTLS_DES_KEY_SIZE])
{
    uint32_t bits[2] = {get_be32(key), get_be32(key + 4)}; /* the key, then C D as bits 1 .. 56 */
    uint32_t cd[2] = {permute(bits, pc1, 28), permute(bits, pc1 + 28, 28)};

    for (unsigned n = 0; n < DES_ROUNDS; n++) {
        cd[0] = rotl28(cd[0], shifts[n]);
        cd[1] = rotl28(cd[1], shifts[n]);
        bits[0] = cd[0] << 4 | cd[1] >> 24;
        bits[1] = cd[1] << 8;
        SK[2 * n] = spread_groups(permute(bits, pc2, 24));
        SK[2 * n + 1] = spread_groups(permute(bits, pc2 + 24, 24));
    }
    mbedtls_platform_zeroize(bits, sizeof bits);
    mbedtls_platform_zeroize(cd, sizeof cd);
}

int mbedtls_des_crypt_ecb(mbedtls_des_context *ctx, const unsigned char input[8], unsigned char output[8])
{
    des_passes(ctx->sk, 1, input, output);
    return 0;
}

/* EDE: des.c's triple-DES schedules hold the three passes' subkeys one after the other, the
 * middle one reversed. */
int mbedtls_des3_crypt_ecb(mbedtls_des3_context *ctx, const unsigned char input[8], unsigned char output[8])
{
    des_passes(ctx->sk, 3, input, output);
    return 0;
}

#endif /* MBEDTLS_DES_C && MBEDTLS_DES_SETKEY_ALT */
