/*
 * target_tests.c: portable unit tests that need no token, run on a cross board (the MPS2 AN386 in
 * QEMU) so that endianness, alignment, int width and stack problems of the core show up there.
 *
 * No test framework (target_check.h): failed checks print "FAIL file:line: condition" on the
 * board's console and main() ends the emulation with the number of failures as its exit status
 * (Arm semihosting). Afterwards it prints the stack high-water mark (painted stack) and the arena
 * high-water mark. This file has the runner and the small suites; the parsers have a file each
 * (target_http.c, target_topology.c, target_scep.c), the board's own C library functions one
 * (target_libc.c), and AES and DES one (target_ciphers.c). Files they check are compiled in
 * from $(BUILD)/gen/target_blobs.h (tests/target/bin2c.sh). Contexts are static: the board's
 * stack is 8 KiB and the point is to measure the core's own frames.
 *
 * Linked with the core, mbedTLS, lwIP and the board's objects except its main loop
 * (Makefile: TARGET_TESTS). The cmocka suites in tests/unit stay the host's full suites.
 */
#include <stdio.h>
#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/base/cw_err.h"
#include "cw/codec/cw_pem.h"
#include "cw/base/cw_time.h"
#include "cw/codec/cw_url.h"
#include "target_board.h"
#include "target_check.h"

#include "lwip/debug.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"
#include "mbedtls/x509_crt.h"

static unsigned failures;
static unsigned checks;
static size_t arena_seen; /* the highest mark a suite saw before resetting it */

void target_arena_seen(size_t high_water)
{
    if (high_water > arena_seen) {
        arena_seen = high_water;
    }
}

static void say(const char *s)
{
    board_uart_puts(s);
    board_uart_puts("\r\n");
}

void target_check(bool ok, const char *file, int line, const char *cond, const char *where)
{
    char text[200];
    checks++;
    if (ok) {
        return;
    }
    failures++;
    (void)snprintf(text, sizeof text, "FAIL %s:%d: %s%s%s%s", file, line, cond,
                   where != NULL ? " [" : "", where != NULL ? where : "", where != NULL ? "]" : "");
    say(text);
}

/* ---- cw_time: 64-bit seconds, leap years, dates past 2038 -------------------------------------- */

static void test_time(void)
{
    /* known answers from `date -u -d @N` */
    static const struct {
        int64_t utc;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {951782400, "2000-02-29T00:00:00Z"},
        {2147483647, "2038-01-19T03:14:07Z"},
        {2147483648, "2038-01-19T03:14:08Z"},
        {4107542399, "2100-02-28T23:59:59Z"},
        {4107542400, "2100-03-01T00:00:00Z"},
        {1795564800, "2026-11-25T00:00:00Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[24];
        cw_tm_t tm;
        cw_time_format(cases[i].utc, text, sizeof text);
        CHECK(strcmp(text, cases[i].text) == 0);
        cw_time_split(cases[i].utc, &tm);
        CHECK(cw_time_join(&tm) == cases[i].utc);
    }
}

/* ---- cw_err: the one table ------------------------------------------------------------------ */

static void test_err(void)
{
    char line[160];
    CHECK(strcmp(cw_err_name(CW_OK), "OK") == 0);
    CHECK(strcmp(cw_err_name(CW_ERR_NO_TOKEN), "NO_TOKEN") == 0);
    CHECK(strcmp(cw_err_text(CW_ERR_NO_TOKEN), "No PKCS#11 token is available on this board.") == 0);
    CHECK(cw_err_format(CW_ERR_URL_USERINFO, line, sizeof line) > 0);
    CHECK(strstr(line, "URL_USERINFO") != NULL);
    CHECK(strcmp(line, "URL_USERINFO: The URL carries user:password@; certwiz refuses credentials in URLs.") == 0);
    /* The table is stored compressed: foreign names get their prefix back, and one call can show
     * two names (cw_err_name() has two buffers). */
    snprintf(line, sizeof line, "%s %s", cw_err_name(CW_ERR_FROM_P11(0xA0UL)),
             cw_err_name(CW_ERR_FROM_MBEDTLS(-0x2700)));
    CHECK(strcmp(line, "CKR_PIN_INCORRECT MBEDTLS_ERR_X509_CERT_VERIFY_FAILED") == 0);
    cw_err_format(CW_ERR_FROM_LWIP(-99), line, sizeof line);
    CHECK(strcmp(line, "LWIP_ERR: The network stack reported an error. (0x63)") == 0);
}

/* ---- cw_url ------------------------------------------------------------------------------------ */

static void test_url(void)
{
    static cw_url_t u; /* large bounds: not on the stack */
    const char *t = "http://10.0.2.2:8080/scep?operation=GetCACaps#frag";
    CHECK(cw_url_parse(t, strlen(t), &u) == CW_OK);
    CHECK(u.scheme == CW_URL_HTTP && u.host_is_ipv4 && u.port == 8080);
    CHECK(strcmp(u.host, "10.0.2.2") == 0);
    CHECK(strcmp(u.path, "/scep?operation=GetCACaps") == 0);
    t = "HTTPS://ca.example.com";
    CHECK(cw_url_parse(t, strlen(t), &u) == CW_OK);
    CHECK(u.scheme == CW_URL_HTTPS && !u.host_is_ipv4 && u.port == 443 && strcmp(u.path, "/") == 0);
    t = "http://user:pw@ca.example.com/";
    CHECK(cw_url_parse(t, strlen(t), &u) == CW_ERR_URL_USERINFO);
    t = "http://ca.example.com:65536/";
    CHECK(cw_url_parse(t, strlen(t), &u) == CW_ERR_URL_MALFORMED);
}

/* ---- cw_pem and mbedTLS on the arena: write, read back, parse and verify a certificate ---------- */

/* A self-signed P-256 certificate made for this test on 2026-11-25 with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "/CN=certwiz target test/O=certwiz"`. */
const uint8_t target_cert_p256[] = {
    0x30, 0x82, 0x01, 0xb4, 0x30, 0x82, 0x01, 0x5b, 0xa0, 0x03, 0x02, 0x01,
    0x02, 0x02, 0x14, 0x7d, 0x43, 0xe9, 0x46, 0x92, 0x03, 0xd9, 0x75, 0xf7,
    0x5a, 0x9e, 0x0b, 0xf9, 0xb3, 0xc2, 0xf3, 0x4f, 0x13, 0x07, 0xb0, 0x30,
    0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x30, 0x31, 0x1c, 0x30, 0x1a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x13,
    0x63, 0x65, 0x72, 0x74, 0x77, 0x69, 0x7a, 0x20, 0x74, 0x61, 0x72, 0x67,
    0x65, 0x74, 0x20, 0x74, 0x65, 0x73, 0x74, 0x31, 0x10, 0x30, 0x0e, 0x06,
    0x03, 0x55, 0x04, 0x0a, 0x0c, 0x07, 0x63, 0x65, 0x72, 0x74, 0x77, 0x69,
    0x7a, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x35, 0x30,
    0x37, 0x33, 0x35, 0x33, 0x31, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31,
    0x32, 0x32, 0x30, 0x37, 0x33, 0x35, 0x33, 0x31, 0x5a, 0x30, 0x30, 0x31,
    0x1c, 0x30, 0x1a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x13, 0x63, 0x65,
    0x72, 0x74, 0x77, 0x69, 0x7a, 0x20, 0x74, 0x61, 0x72, 0x67, 0x65, 0x74,
    0x20, 0x74, 0x65, 0x73, 0x74, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55,
    0x04, 0x0a, 0x0c, 0x07, 0x63, 0x65, 0x72, 0x74, 0x77, 0x69, 0x7a, 0x30,
    0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42,
    0x00, 0x04, 0xc0, 0x9a, 0x69, 0x8c, 0x35, 0xce, 0x6f, 0x4f, 0x87, 0xd3,
    0xfd, 0x14, 0x7b, 0x08, 0x00, 0x08, 0x41, 0x2e, 0x8b, 0xbe, 0xa2, 0x10,
    0x97, 0x70, 0xb7, 0xff, 0xa2, 0xf4, 0xde, 0x67, 0x9f, 0x71, 0xc3, 0xf9,
    0x54, 0x86, 0x39, 0x58, 0xe6, 0x8e, 0xf4, 0x09, 0x58, 0xa5, 0x48, 0x80,
    0x96, 0x1b, 0xb2, 0xdb, 0x6b, 0xda, 0x3d, 0x18, 0xe6, 0xa3, 0x80, 0xb3,
    0x31, 0x14, 0xd9, 0x78, 0xbb, 0xee, 0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d,
    0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xcd, 0xcb, 0x1e,
    0x4a, 0x3c, 0xde, 0x36, 0xe8, 0xe6, 0x2c, 0x50, 0xbb, 0x6f, 0x14, 0x66,
    0x2d, 0xbd, 0x0a, 0x53, 0x76, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23,
    0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xcd, 0xcb, 0x1e, 0x4a, 0x3c, 0xde,
    0x36, 0xe8, 0xe6, 0x2c, 0x50, 0xbb, 0x6f, 0x14, 0x66, 0x2d, 0xbd, 0x0a,
    0x53, 0x76, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff,
    0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x47, 0x00, 0x30, 0x44,
    0x02, 0x20, 0x7d, 0x1f, 0x06, 0xfb, 0x73, 0xf9, 0x62, 0xb4, 0x71, 0xe1,
    0xdf, 0xeb, 0x83, 0x12, 0x87, 0x6a, 0x9f, 0x7e, 0xd6, 0x60, 0x0d, 0xc0,
    0xf6, 0x81, 0xeb, 0x7a, 0xfc, 0xa6, 0x09, 0x97, 0x8a, 0x84, 0x02, 0x20,
    0x3e, 0x29, 0x01, 0xee, 0x23, 0x57, 0xbb, 0xf7, 0x76, 0x84, 0xe8, 0x28,
    0xfb, 0x67, 0xad, 0x39, 0x9d, 0x28, 0xaf, 0x30, 0xb1, 0xa1, 0x89, 0x2c,
    0xbd, 0x3a, 0xdd, 0x5e, 0x63, 0x4a, 0xfd, 0x45
};
const size_t target_cert_p256_len = sizeof target_cert_p256;

static void test_pem_and_x509(void)
{
    static char pem[1024];
    static uint8_t der[1024];
    static cw_pem_reader_ctx r;
    mbedtls_x509_crt crt;
    size_t len = 0;
    uint32_t flags = 0;

    CHECK(cw_pem_write("CERTIFICATE", target_cert_p256, sizeof target_cert_p256, NULL, 0, &len) ==
          CW_ERR_BUFFER_SMALL);
    CHECK(len > sizeof target_cert_p256 && len <= sizeof pem);
    CHECK(cw_pem_write("CERTIFICATE", target_cert_p256, sizeof target_cert_p256, pem, sizeof pem, &len) ==
          CW_OK);
    cw_pem_reader_init(&r, der, sizeof der);
    for (char *line = pem; *line != '\0';) {
        char *nl = strchr(line, '\n');
        size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);
        CHECK(cw_pem_reader_push_line(&r, line, n) == CW_OK);
        line += n + (nl != NULL ? 1u : 0u);
    }
    CHECK(cw_pem_reader_finish(&r) == CW_OK);
    CHECK(r.nblocks == 1 && r.blocks[0].len == sizeof target_cert_p256);
    CHECK(memcmp(der + r.blocks[0].off, target_cert_p256, sizeof target_cert_p256) == 0);

    mbedtls_x509_crt_init(&crt);
    CHECK(mbedtls_x509_crt_parse_der(&crt, der + r.blocks[0].off, r.blocks[0].len) == 0);
    /* self-signed: its own trust anchor; ECDSA P-256 verification exercises the bignum code */
    CHECK(mbedtls_x509_crt_verify(&crt, &crt, NULL, NULL, &flags, NULL, NULL) == 0);
    CHECK(flags == 0);
    mbedtls_x509_crt_free(&crt);
}

/* ---- SHA-1 (the board may use cw_sha1_small.c's block function): FIPS 180 examples ---------- */

static void test_sha1(void)
{
    static const struct {
        const char *msg;
        size_t repeat;
        const char *hex;
    } cases[] = {
        {"abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        /* 56 bytes: the padding takes a second block */
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        /* one million 'a', fed 1000 at a time */
        {"a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    };
    static unsigned char chunk[1000];

    memset(chunk, 'a', sizeof chunk);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mbedtls_sha1_context c;
        unsigned char out[20];
        char hex[41];
        int r;
        mbedtls_sha1_init(&c);
        r = mbedtls_sha1_starts(&c);
        if (cases[i].repeat == 1) {
            r |= mbedtls_sha1_update(&c, (const unsigned char *)cases[i].msg, strlen(cases[i].msg));
        } else {
            for (size_t n = 0; n < cases[i].repeat; n += sizeof chunk) {
                r |= mbedtls_sha1_update(&c, chunk, sizeof chunk);
            }
        }
        r |= mbedtls_sha1_finish(&c, out);
        CHECK_IN(cases[i].hex, r == 0);
        mbedtls_sha1_free(&c);
        for (size_t j = 0; j < sizeof out; j++) {
            (void)snprintf(hex + 2 * j, 3, "%02x", out[j]);
        }
        CHECK_IN(cases[i].hex, strcmp(hex, cases[i].hex) == 0);
    }
}

/* ---- SHA-256, SHA-384, SHA-512 (the board may use cw_sha2_small.c's block functions): the FIPS
 * 180 examples (the digests as Python's hashlib gives them) --------------------------------- */

static void test_sha2(void)
{
    static const struct {
        unsigned bits; /* 256, or 384 and 512 of the SHA-512 context */
        const char *msg;
        size_t repeat;
        const char *hex;
    } cases[] = {
        {256, "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {256, "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {256, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        {256, "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
        {384, "abc", 1, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
        {384, "", 1, "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"},
        {384, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b"},
        {384, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 1, "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039"},
        {384, "a", 1000000, "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985"},
        {512, "abc", 1, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
        {512, "", 1, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
        {512, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"},
        {512, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 1, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
        {512, "a", 1000000, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
    };
    static unsigned char chunk[1000];

    memset(chunk, 'a', sizeof chunk);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mbedtls_sha256_context c256;
        mbedtls_sha512_context c512;
        unsigned char out[64];
        char hex[129];
        size_t len = cases[i].bits / 8u;
        const unsigned char *msg = (const unsigned char *)cases[i].msg;
        size_t msg_len = strlen(cases[i].msg);
        int r;
        if (cases[i].repeat > 1) {
            msg = chunk;
            msg_len = sizeof chunk;
        }
        mbedtls_sha256_init(&c256);
        mbedtls_sha512_init(&c512);
        r = cases[i].bits == 256 ? mbedtls_sha256_starts(&c256, 0) : mbedtls_sha512_starts(&c512, cases[i].bits == 384);
        for (size_t n = 0; n < (cases[i].repeat > 1 ? cases[i].repeat : 1u); n += msg_len > 0 ? msg_len : 1u) {
            r |= cases[i].bits == 256 ? mbedtls_sha256_update(&c256, msg, msg_len) : mbedtls_sha512_update(&c512, msg, msg_len);
        }
        r |= cases[i].bits == 256 ? mbedtls_sha256_finish(&c256, out) : mbedtls_sha512_finish(&c512, out);
        mbedtls_sha256_free(&c256);
        mbedtls_sha512_free(&c512);
        CHECK_IN(cases[i].hex, r == 0);
        for (size_t j = 0; j < len; j++) {
            (void)snprintf(hex + 2 * j, 3, "%02x", out[j]);
        }
        CHECK_IN(cases[i].hex, strcmp(hex, cases[i].hex) == 0);
    }
}

/* target_ciphers.c: AES, DES and 3DES known answers (the board's own block functions) */
void target_test_ciphers(void);

static const struct {
    const char *name;
    void (*run)(void);
} suites[] = {
    {"board libc", target_test_libc},
    {"pk refusals", target_test_pk_refusals},
    {"ecdsa", target_test_ecdsa},
    {"cw_time", test_time},
    {"cw_err", test_err},
    {"cw_url", test_url},
    {"cw_pem+x509", test_pem_and_x509},
    {"sha1", test_sha1},
    {"sha2", test_sha2},
    {"aes+des", target_test_ciphers},
    {"cw_http", target_test_http},
    {"cw_topology", target_test_topology},
    {"cw_scep_msg", target_test_scep},
    {"scep rsa4096", target_test_scep_rsa4096},
};

/* `-append fault` (test_mps2.py): instead of the suites, a failed lwIP check, to see the board
 * report it as a fault at the address of the check's trap (board/mps2-an386/arch/cc.h). */
static void failed_lwip_check(void)
{
    volatile unsigned zero = 0;
    say("a failed lwIP check follows");
    LWIP_ASSERT("deliberately failed", zero == 1u); /* test_mps2.py looks for this line */
    say("the failed check did not stop the board");
    board_semihost_exit(1);
}

int main(void)
{
    cw_arena_stats_t a;
    size_t stack_size;
    size_t stack_high;
    char line[160];

    board_uart_init();
    board_semihost_cmdline(line, sizeof line);
    if (strstr(line, "fault") != NULL) {
        failed_lwip_check();
    }
    cw_arena_init();
    say("certwiz on-target unit tests");
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        unsigned c0 = checks;
        unsigned f0 = failures;
        suites[i].run();
        board_stack_usage(&stack_size, &stack_high); /* the most so far: which suite went deepest */
        (void)snprintf(line, sizeof line, "  %-12s %3u checks, %u failed; deepest stack so far %lu",
                       suites[i].name, checks - c0, failures - f0, (unsigned long)stack_high);
        say(line);
    }

    cw_arena_stats(&a);
    CHECK(a.used == 0); /* every test leaves the arena empty */
    target_arena_seen(a.high_water);
    a.high_water = arena_seen;
    board_stack_usage(&stack_size, &stack_high);
    (void)snprintf(line, sizeof line, "stack high-water: %lu of %lu bytes", (unsigned long)stack_high,
                   (unsigned long)stack_size);
    say(line);
    (void)snprintf(line, sizeof line, "arena high-water: %lu of %lu bytes (the highest step)",
                   (unsigned long)a.high_water, (unsigned long)a.size);
    say(line);
    (void)snprintf(line, sizeof line, "%u checks, %u failed", checks, failures);
    say(line);
    board_semihost_exit(failures > 125u ? 125 : (int)failures);
    return 0;
}
