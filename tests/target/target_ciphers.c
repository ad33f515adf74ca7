/*
 * target_ciphers.c: AES, DES and triple DES through mbedTLS's public API, the calls SCEP's
 * envelopes make (setkey, ECB, CBC). On this board the block functions behind them are certwiz's
 * own (firmware/src/mbedtls_alt/cw_aes_small.c, cw_des_small.c, switched on in the board's
 * mbedtls_config.h); on another they are mbedTLS's, and the same answers are due.
 *
 * Known answers from the standards and from OpenSSL, each run both ways: encrypted from a
 * separate buffer, decrypted in place (input == output). One key and block of each kind is then
 * encrypted 1000 times over and decrypted back, so that nearly every S-box entry is used: a
 * wrong entry that the short examples miss still shows (shown: one byte of either S-box changed
 * makes this suite fail).
 */
#include <stdbool.h>
#include <string.h>

#include "mbedtls/aes.h"
#include "mbedtls/des.h"
#include "target_check.h"

#define CASE_KEY_MAX 32  /* AES-256 */
#define CASE_TEXT_MAX 64 /* the longest example: SP 800-38A's four AES blocks */
#define BLOCK_MAX 16     /* AES's block; DES's is 8 bytes */
#define ITERATIONS 1000u /* of the chained known answers below */

typedef enum { AES, DES, DES3 } algo_t; /* AES's and 3DES's key length says which variant */

typedef struct {
    const char *name; /* where the values come from */
    algo_t algo;
    const char *key;
    const char *iv; /* NULL: ECB */
    const char *plain;
    const char *cipher;
} cipher_case_t;

static const cipher_case_t cases[] = {
    /* FIPS-197 appendix C, the example vectors of the three key lengths (ECB) */
    {"FIPS-197 C.1", AES, "000102030405060708090a0b0c0d0e0f", NULL, "00112233445566778899aabbccddeeff",
     "69c4e0d86a7b0430d8cdb78070b4c55a"},
    {"FIPS-197 C.2", AES, "000102030405060708090a0b0c0d0e0f1011121314151617", NULL,
     "00112233445566778899aabbccddeeff", "dda97ca4864cdfe06eaf70a0ec0d7191"},
    {"FIPS-197 C.3", AES, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", NULL,
     "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089"},
    /* NIST SP 800-38A F.2.1 and F.2.2 (CBC-AES128 encrypt and decrypt: one example both ways) */
    {"SP 800-38A F.2.1/F.2.2", AES, "2b7e151628aed2a6abf7158809cf4f3c", "000102030405060708090a0b0c0d0e0f",
     "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
     "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
     "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
     "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"},
    /* F.2.5 and F.2.6 (CBC-AES256) */
    {"SP 800-38A F.2.5/F.2.6", AES, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "000102030405060708090a0b0c0d0e0f",
     "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
     "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
     "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
    /* The worked example of J. O. Grabbe, "The DES Algorithm Illustrated" (ECB) */
    {"DES Grabbe", DES, "133457799bbcdff1", NULL, "0123456789abcdef", "85e813540f0ab405"},
    /* The ECB and CBC examples of FIPS 81 (DES modes of operation): "Now is the time for all " */
    {"FIPS 81 ECB", DES, "0123456789abcdef", NULL, "4e6f77206973207468652074696d6520666f7220616c6c20",
     "3fa40e8a984d48156a271787ab8883f9893d51ec4b563b53"},
    {"FIPS 81 CBC", DES, "0123456789abcdef", "1234567890abcdef", "4e6f77206973207468652074696d6520666f7220616c6c20",
     "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6"},
    /* The example of NIST SP 800-67 Rev. 1, appendix B: three keys, ECB, "The qufck brown fox
     * jump" (sic) */
    {"SP 800-67 example", DES3, "0123456789abcdef23456789abcdef01456789abcdef0123", NULL,
     "54686520717566636b2062726f776e20666f78206a756d70", "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900"},
    /* The same text in CBC, two and three keys; made with OpenSSL 3.0 on 2026-11-25:
     * openssl enc -provider legacy -provider default -des-ede-cbc (-des-ede3-cbc) -nopad -K <key>
     * -iv 1234567890abcdef */
    {"3DES-2 CBC openssl", DES3, "0123456789abcdef23456789abcdef01", "1234567890abcdef",
     "54686520717566636b2062726f776e20666f78206a756d70", "b0ed7d5e6849dc73cfb0c1915e64897f8182f143185f6cf1"},
    {"3DES-3 CBC openssl", DES3, "0123456789abcdef23456789abcdef01456789abcdef0123", "1234567890abcdef",
     "54686520717566636b2062726f776e20666f78206a756d70", "38413d4ba2325cf1141f707471ac2ced57db530f0123b5ac"},
};

/*
 * A zero block encrypted ITERATIONS times in a row with ECB. Made with OpenSSL 3.0 on
 * 2026-11-25 as the last block of CBC over ITERATIONS zero blocks with a zero IV (each block is
 * then the encryption of the one before): head -c 16000 /dev/zero | openssl enc -aes-128-cbc
 * -nopad -K <key> -iv 00000000000000000000000000000000 | tail -c 16 (DES: 8000 bytes, -des-cbc,
 * -des-ede3-cbc, with -provider legacy -provider default).
 */
static const cipher_case_t chained[] = {
    {"AES-128 x1000", AES, "000102030405060708090a0b0c0d0e0f", NULL, NULL, "1fd09ae87c7258990cc56156460ff206"},
    {"AES-192 x1000", AES, "000102030405060708090a0b0c0d0e0f1011121314151617", NULL, NULL,
     "b16827c199247bccf3bd908423b13929"},
    {"AES-256 x1000", AES, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", NULL, NULL,
     "a5ee6799c190df6c5be35ef1efc5db1b"},
    {"DES x1000", DES, "0123456789abcdef", NULL, NULL, "ba5c69a88e8392ed"},
    {"3DES-3 x1000", DES3, "0123456789abcdef23456789abcdef01456789abcdef0123", NULL, NULL, "8e712cc7ccc99d53"},
};

/* Contexts are static: the stack figure is meant to show the core's own frames. */
static mbedtls_aes_context aes;
static mbedtls_des_context des;
static mbedtls_des3_context des3;

/* Hex to bytes; returns the byte count (0 if it does not fit or is not hex). */
static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = strlen(hex) / 2;
    if (n > cap || strlen(hex) % 2 != 0) {
        return 0;
    }
    for (size_t i = 0; i < 2 * n; i++) {
        const char *digit = strchr(digits, hex[i]); /* hex[i] is not NUL: i < strlen(hex) */
        unsigned v;
        if (digit == NULL) {
            return 0;
        }
        v = (unsigned)(digit - digits);
        out[i / 2] = (unsigned char)(i % 2 == 0 ? v << 4 : (out[i / 2] | v));
    }
    return n;
}

static size_t block_size(algo_t algo)
{
    return algo == AES ? 16u : 8u;
}

/* Sets the key of the algorithm's context for one direction; mbedTLS's return code. */
static int set_key(algo_t algo, bool encrypt, const unsigned char *key, size_t key_len)
{
    switch (algo) {
    case AES:
        return encrypt ? mbedtls_aes_setkey_enc(&aes, key, (unsigned)(8 * key_len))
                       : mbedtls_aes_setkey_dec(&aes, key, (unsigned)(8 * key_len));
    case DES:
        if (key_len == MBEDTLS_DES_KEY_SIZE) {
            return encrypt ? mbedtls_des_setkey_enc(&des, key) : mbedtls_des_setkey_dec(&des, key);
        }
        return -1;
    case DES3:
        if (key_len == 2 * MBEDTLS_DES_KEY_SIZE) {
            return encrypt ? mbedtls_des3_set2key_enc(&des3, key) : mbedtls_des3_set2key_dec(&des3, key);
        }
        if (key_len == 3 * MBEDTLS_DES_KEY_SIZE) {
            return encrypt ? mbedtls_des3_set3key_enc(&des3, key) : mbedtls_des3_set3key_dec(&des3, key);
        }
        return -1;
    }
    return -1;
}

/* Encrypts or decrypts len bytes with the key set last, block by block (iv NULL) or in CBC. */
static int run_cipher(algo_t algo, bool encrypt, unsigned char *iv, const unsigned char *in, unsigned char *out,
                      size_t len)
{
    int r = 0;
    if (iv != NULL) {
        switch (algo) {
        case AES:
            return mbedtls_aes_crypt_cbc(&aes, encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT, len, iv, in, out);
        case DES:
            return mbedtls_des_crypt_cbc(&des, encrypt ? MBEDTLS_DES_ENCRYPT : MBEDTLS_DES_DECRYPT, len, iv, in, out);
        case DES3:
            return mbedtls_des3_crypt_cbc(&des3, encrypt ? MBEDTLS_DES_ENCRYPT : MBEDTLS_DES_DECRYPT, len, iv, in, out);
        }
        return -1;
    }
    for (size_t off = 0; off < len && r == 0; off += block_size(algo)) {
        switch (algo) {
        case AES:
            r = mbedtls_aes_crypt_ecb(&aes, encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT, in + off, out + off);
            break;
        case DES:
            r = mbedtls_des_crypt_ecb(&des, in + off, out + off);
            break;
        case DES3:
            r = mbedtls_des3_crypt_ecb(&des3, in + off, out + off);
            break;
        }
    }
    return r;
}

static void test_known_answers(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const cipher_case_t *c = &cases[i];
        unsigned char key[CASE_KEY_MAX];
        unsigned char iv[BLOCK_MAX];
        unsigned char plain[CASE_TEXT_MAX];
        unsigned char cipher[CASE_TEXT_MAX];
        unsigned char buf[CASE_TEXT_MAX];
        size_t key_len = unhex(c->key, key, sizeof key);
        size_t len = unhex(c->plain, plain, sizeof plain);

        CHECK_IN(c->name, key_len > 0 && len > 0 && len % block_size(c->algo) == 0);
        CHECK_IN(c->name, unhex(c->cipher, cipher, sizeof cipher) == len);
        /* encrypt from plain into buf */
        CHECK_IN(c->name, c->iv == NULL || unhex(c->iv, iv, sizeof iv) == block_size(c->algo));
        memset(buf, 0, sizeof buf);
        CHECK_IN(c->name, set_key(c->algo, true, key, key_len) == 0);
        CHECK_IN(c->name, run_cipher(c->algo, true, c->iv != NULL ? iv : NULL, plain, buf, len) == 0);
        CHECK_IN(c->name, memcmp(buf, cipher, len) == 0);
        /* decrypt buf in place */
        CHECK_IN(c->name, c->iv == NULL || unhex(c->iv, iv, sizeof iv) == block_size(c->algo));
        CHECK_IN(c->name, set_key(c->algo, false, key, key_len) == 0);
        CHECK_IN(c->name, run_cipher(c->algo, false, c->iv != NULL ? iv : NULL, buf, buf, len) == 0);
        CHECK_IN(c->name, memcmp(buf, plain, len) == 0);
    }
}

static void test_chained(void)
{
    for (size_t i = 0; i < sizeof chained / sizeof chained[0]; i++) {
        const cipher_case_t *c = &chained[i];
        static const unsigned char zero[BLOCK_MAX];
        unsigned char key[CASE_KEY_MAX];
        unsigned char expect[BLOCK_MAX];
        unsigned char block[BLOCK_MAX];
        size_t bs = block_size(c->algo);
        size_t key_len = unhex(c->key, key, sizeof key);
        int r = 0;

        CHECK_IN(c->name, key_len > 0 && unhex(c->cipher, expect, sizeof expect) == bs);
        memset(block, 0, sizeof block);
        r |= set_key(c->algo, true, key, key_len);
        for (unsigned n = 0; n < ITERATIONS; n++) {
            r |= run_cipher(c->algo, true, NULL, block, block, bs);
        }
        CHECK_IN(c->name, r == 0 && memcmp(block, expect, bs) == 0);
        r |= set_key(c->algo, false, key, key_len);
        for (unsigned n = 0; n < ITERATIONS; n++) {
            r |= run_cipher(c->algo, false, NULL, block, block, bs);
        }
        CHECK_IN(c->name, r == 0 && memcmp(block, zero, bs) == 0);
    }
}

/* AES takes 128-, 192- and 256-bit keys and refuses every other length, either direction. */
static void test_aes_key_lengths(void)
{
    static const unsigned bad_bits[] = {0, 64, 127, 129, 160, 224, 257, 512};
    static const unsigned char key[64];
    for (size_t i = 0; i < sizeof bad_bits / sizeof bad_bits[0]; i++) {
        CHECK(mbedtls_aes_setkey_enc(&aes, key, bad_bits[i]) == MBEDTLS_ERR_AES_INVALID_KEY_LENGTH);
        CHECK(mbedtls_aes_setkey_dec(&aes, key, bad_bits[i]) == MBEDTLS_ERR_AES_INVALID_KEY_LENGTH);
    }
}

void target_test_ciphers(void)
{
    mbedtls_aes_init(&aes);
    mbedtls_des_init(&des);
    mbedtls_des3_init(&des3);
    test_known_answers();
    test_chained();
    test_aes_key_lengths();
    mbedtls_aes_free(&aes);
    mbedtls_des_free(&des);
    mbedtls_des3_free(&des3);
}
