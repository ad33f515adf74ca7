/*
 * test_cms.c: the CMS pieces (cw_cms.h) against OpenSSL's `openssl cms`, which writes the BER
 * forms real servers send when streaming (-stream: indefinite lengths, constructed OCTET STRING
 * eContent and constructed [0] encryptedContent):
 *
 *   - SignedData made by openssl (DER and streamed BER) reads and verifies; a wrong signer fails
 *   - EnvelopedData made by openssl for a key in the token opens, for every cipher, streamed
 *   - our SignedData with content outside the output buffer verifies with openssl
 *   - every truncation of a BER envelope is an error
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_cms.h"
#include "cw/scep/cw_scep_msg.h"
#include "support/p11_softhsm.h"
#include "support/test_board.h"

static p11_softhsm_t hsm;
static cw_p11_ctx ctx;
static uint8_t buf_a[16384];
static uint8_t buf_b[16384];
static uint8_t cert[4096];

static size_t slurp(const char *name, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(p11_softhsm_path(&hsm, name), "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", name);
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void spill(const char *name, const uint8_t *d, size_t n)
{
    FILE *f = fopen(p11_softhsm_path(&hsm, name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

static void must(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof full, "cd '%s' && { %s ; } >>sh.log 2>&1", hsm.dir, cmd);
    int rc = system(full);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fail_msg("command failed: %s (see %s/sh.log)", cmd, hsm.dir);
    }
}

static int setup(void **state)
{
    (void)state;
    return p11_softhsm_open_logged_in(&hsm, &ctx);
}

static int teardown(void **state)
{
    (void)state;
    p11_softhsm_close(&hsm, &ctx);
    test_assert_arena_empty();
    return 0;
}

/* A decrypting RSA key in the token and a certificate for it (cert.pem / cert.der). */
static size_t token_key_cert(cw_p11_key *key)
{
    size_t len = 0;
    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_RSA2048, "cms-test", true, key), CW_OK);
    assert_int_equal(cw_scep_signer_cert(&ctx, key, "cms test", 1767225600, CW_HASH_SHA256, cert, sizeof cert, &len),
                     CW_OK);
    spill("cert.der", cert, len);
    must("openssl x509 -inform DER -in cert.der -out cert.pem");
    return len;
}

static void test_signed_by_openssl_der_and_ber(void **state)
{
    (void)state;
    static uint8_t signer[4096];
    static const char *forms[] = {"", "-stream"};
    must("openssl req -x509 -newkey rsa:2048 -nodes -keyout s.key -out s.pem -subj '/CN=signer' -days 3 && "
         "openssl x509 -in s.pem -outform DER -out s.der && "
         "openssl req -x509 -newkey rsa:2048 -nodes -keyout o.key -out o.pem -subj '/CN=other' -days 3 && "
         "openssl x509 -in o.pem -outform DER -out o.der && head -c 3000 /dev/urandom > content.bin");
    cw_der_t s = {signer, slurp("s.der", signer, sizeof signer)};
    static uint8_t other[4096];
    cw_der_t o = {other, slurp("o.der", other, sizeof other)};
    static uint8_t content[4096];
    size_t clen = slurp("content.bin", content, sizeof content);

    for (size_t i = 0; i < 2; i++) {
        for (int md = 0; md < 3; md++) {
            static const char *mds[] = {"sha1", "sha256", "sha512"};
            char cmd[512];
            snprintf(cmd, sizeof cmd,
                     "openssl cms -sign -nodetach -binary %s -md %s -in content.bin -signer s.pem -inkey s.key "
                     "-outform DER -out sd.der",
                     forms[i], mds[md]);
            must(cmd);
            size_t n = slurp("sd.der", buf_a, sizeof buf_a);
            if (i == 1) {
                assert_int_equal(buf_a[1], 0x80); /* really indefinite */
            }
            cw_cms_signed_t sd;
            assert_int_equal(cw_cms_signed_parse(buf_a, n, buf_b, sizeof buf_b, &sd), CW_OK);
            assert_true(sd.has_content);
            assert_int_equal(sd.content.len, clen);
            assert_memory_equal(sd.content.p, content, clen);
            assert_int_equal(sd.nsigners, 1);
            assert_int_equal(cw_cms_signed_verify(&sd, &s), CW_OK);
            assert_int_equal(cw_cms_signed_verify(&sd, &o), CW_ERR_CMS_SIGNATURE);
            cw_cert_list_t certs;
            memset(&certs, 0, sizeof certs);
            assert_int_equal(cw_cms_signed_certs(&sd, &certs), CW_OK);
            assert_int_equal(certs.n, 1);
            assert_int_equal(certs.cert[0].len, s.len);
            if (i == 1) {
                /* pieces need scratch: none given, or too little, is an error */
                assert_int_equal(cw_cms_signed_parse(buf_a, n, NULL, 0, &sd), CW_ERR_BUFFER_SMALL);
                assert_int_equal(cw_cms_signed_parse(buf_a, n, buf_b, 100, &sd), CW_ERR_BUFFER_SMALL);
            }
            /* every truncation fails */
            for (size_t k = 0; k < n; k++) {
                uint8_t *t = malloc(k > 0 ? k : 1);
                memcpy(t, buf_a, k);
                cw_err e = cw_cms_signed_parse(t, k, buf_b, sizeof buf_b, &sd);
                if (e == CW_OK) {
                    e = cw_cms_signed_verify(&sd, &s);
                }
                free(t);
                if (e == CW_OK) {
                    fail_msg("cut to %zu of %zu bytes accepted", k, n);
                }
            }
        }
    }

    /* a degenerate (certs-only) bundle */
    must("openssl crl2pkcs7 -nocrl -certfile s.pem -certfile o.pem -outform DER -out co.p7b");
    size_t n = slurp("co.p7b", buf_a, sizeof buf_a);
    cw_cms_signed_t sd;
    cw_cert_list_t certs;
    memset(&certs, 0, sizeof certs);
    assert_int_equal(cw_cms_signed_parse(buf_a, n, NULL, 0, &sd), CW_OK);
    assert_int_equal(sd.nsigners, 0);
    assert_int_equal(cw_cms_signed_certs(&sd, &certs), CW_OK);
    assert_int_equal(certs.n, 2);
    assert_int_equal(cw_cms_signed_verify(&sd, &s), CW_ERR_CMS_SIGNATURE);
    cw_der_t v;
    assert_int_equal(cw_cms_attr_get(&sd, "\x55\x04\x03", 3, 0x13, &v), CW_ERR_NOT_FOUND);
}

static void test_enveloped_by_openssl_opens_in_token(void **state)
{
    (void)state;
    static const struct {
        const char *opt;
        const char *prov;
    } ciphers[] = {
        {"-des", "-provider legacy -provider default"},
        {"-des3", ""},
        {"-aes128", ""},
        {"-aes192", ""},
        {"-aes256", ""},
    };
    static const char *forms[] = {"", "-stream"};
    static const size_t sizes[] = {0, 1, 15, 16, 17, 2000};
    cw_p11_key key;
    token_key_cert(&key);

    for (size_t c = 0; c < sizeof ciphers / sizeof ciphers[0]; c++) {
        for (size_t f = 0; f < 2; f++) {
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                char cmd[512];
                size_t len = 0;
                snprintf(cmd, sizeof cmd,
                         "head -c %zu /dev/urandom > p.bin && openssl cms -encrypt -binary %s %s %s -in p.bin "
                         "-outform DER -out env.der cert.pem",
                         sizes[s], ciphers[c].opt, forms[f], ciphers[c].prov);
                must(cmd);
                size_t n = slurp("env.der", buf_a, sizeof buf_a);
                static uint8_t want[4096];
                size_t wn = slurp("p.bin", want, sizeof want);
                cw_err e = cw_cms_enveloped_open(&ctx, &key, buf_a, n, buf_b, sizeof buf_b, &len);
                if (e != CW_OK) {
                    fail_msg("%s %s %zu bytes: %d", ciphers[c].opt, forms[f], sizes[s], (int)e);
                }
                assert_int_equal(len, wn);
                assert_memory_equal(buf_b, want, wn);
            }
        }
    }

    /* one corrupted byte in the last ciphertext block (DER: the envelope ends with it) breaks the
     * padding, or with a chance of about 1/256 leaves a valid one */
    must("openssl cms -encrypt -binary -aes128 -in p.bin -outform DER -out env.der cert.pem");
    size_t n = slurp("env.der", buf_a, sizeof buf_a);
    size_t len = 0;
    buf_a[n - 1] ^= 0x55;
    cw_err e = cw_cms_enveloped_open(&ctx, &key, buf_a, n, buf_b, sizeof buf_b, &len);
    assert_true(e == CW_OK || e == CW_ERR_CMS_DECRYPT);

    /* every truncation of a streamed envelope is an error */
    must("head -c 100 /dev/urandom > p.bin && openssl cms -encrypt -binary -aes128 -stream -in p.bin -outform DER "
         "-out env.der cert.pem");
    n = slurp("env.der", buf_a, sizeof buf_a);
    for (size_t k = 0; k < n; k++) {
        uint8_t *t = malloc(k > 0 ? k : 1);
        memcpy(t, buf_a, k);
        e = cw_cms_enveloped_open(&ctx, &key, t, k, buf_b, sizeof buf_b, &len);
        free(t);
        if (e == CW_OK) {
            fail_msg("envelope cut to %zu of %zu bytes opened", k, n);
        }
    }
}

static void test_enveloped_not_for_us(void **state)
{
    (void)state;
    cw_p11_key key;
    size_t len = 0;
    token_key_cert(&key);
    must("openssl req -x509 -newkey rsa:2048 -nodes -keyout o.key -out o.pem -subj '/CN=other' -days 3 && "
         "head -c 64 /dev/urandom > p.bin && "
         "openssl cms -encrypt -binary -aes128 -in p.bin -outform DER -out env.der o.pem");
    size_t n = slurp("env.der", buf_a, sizeof buf_a);
    assert_int_equal(cw_cms_enveloped_open(&ctx, &key, buf_a, n, buf_b, sizeof buf_b, &len), CW_ERR_CMS_DECRYPT);
    assert_int_equal(len, 0);
    /* EC recipients only (key agreement): no RSA key transport recipient at all */
    must("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout e.key -out e.pem "
         "-subj '/CN=ec' -days 3 && openssl cms -encrypt -binary -aes128 -in p.bin -outform DER -out enve.der e.pem");
    n = slurp("enve.der", buf_a, sizeof buf_a);
    assert_int_equal(cw_cms_enveloped_open(&ctx, &key, buf_a, n, buf_b, sizeof buf_b, &len), CW_ERR_CMS_NO_RECIPIENT);
    /* and our encoder refuses an EC recipient */
    must("openssl x509 -in e.pem -outform DER -out e.der");
    static uint8_t ec[2048];
    cw_der_t ecd = {ec, slurp("e.der", ec, sizeof ec)};
    assert_int_equal(cw_cms_enveloped_encode(&ctx, &ecd, CW_CMS_AES128, buf_a, 10, buf_b, sizeof buf_b, &len),
                     CW_ERR_CMS_ALGORITHM);
}

static void test_signed_encode_separate_content(void **state)
{
    (void)state;
    cw_p11_key key;
    size_t clen = token_key_cert(&key);
    static const uint8_t content[] = "certwiz says hello";
    cw_cms_attr_t extra = {"\x2b\x06\x01\x04\x01\x82\x37\x01", 8, 0x13, (const uint8_t *)"x", 1};
    cw_cms_signer_t s = {cert, clen, &key, CW_HASH_SHA384, &extra, 1, 0};
    size_t len = 0;

    assert_int_equal(cw_cms_signed_encode(&ctx, &s, content, sizeof content - 1, NULL, 0, &len), CW_ERR_BUFFER_SMALL);
    assert_int_equal(cw_cms_signed_encode(&ctx, &s, content, sizeof content - 1, buf_a, 300, &len),
                     CW_ERR_BUFFER_SMALL);
    assert_int_equal(cw_cms_signed_encode(&ctx, &s, content, sizeof content - 1, buf_a, sizeof buf_a, &len), CW_OK);
    spill("sd.der", buf_a, len);
    must("openssl cms -verify -inform DER -in sd.der -CAfile cert.pem -out got.txt && "
         "printf 'certwiz says hello' | cmp - got.txt");
    cw_cms_signed_t sd;
    cw_der_t c = {cert, clen};
    assert_int_equal(cw_cms_signed_parse(buf_a, len, NULL, 0, &sd), CW_OK);
    assert_int_equal(cw_cms_signed_verify(&sd, &c), CW_OK);
    cw_der_t v;
    /* no signingTime asked for; the extra attribute is there */
    assert_int_equal(cw_cms_attr_get(&sd, "\x2A\x86\x48\x86\xF7\x0D\x01\x09\x05", 9, 0x17, &v), CW_ERR_NOT_FOUND);
    assert_int_equal(cw_cms_attr_get(&sd, extra.oid, extra.oid_len, 0x13, &v), CW_OK);
    assert_int_equal(cw_cms_attr_get(&sd, extra.oid, extra.oid_len, 0x04, &v), CW_ERR_CMS_FORMAT);
}

static void test_time(void **state)
{
    (void)state;
    char t[16];
    uint8_t tag;
    size_t n = cw_cms_time(1767225600, &tag, t);
    assert_int_equal(tag, 0x17);
    assert_int_equal(n, 13);
    assert_memory_equal(t, "260101000000Z", 13);
    n = cw_cms_time(2524608000, &tag, t); /* 2050-01-01 */
    assert_int_equal(tag, 0x18);
    assert_int_equal(n, 15);
    assert_memory_equal(t, "20500101000000Z", 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),
        cmocka_unit_test_setup_teardown(test_signed_by_openssl_der_and_ber, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enveloped_by_openssl_opens_in_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enveloped_not_for_us, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_encode_separate_content, setup, teardown),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("cms (openssl cms)", tests, NULL, NULL);
}
