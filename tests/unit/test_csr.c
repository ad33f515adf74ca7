/*
 * test_csr.c: PKCS#10 requests built by certwiz and signed in a real SoftHSM2 token, checked by
 * OpenSSL (`openssl req -verify -text`) and by mbedTLS's CSR parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_csr.h"
#include "mbedtls/x509_csr.h"
#include "support/p11_softhsm.h"
#include "support/test_board.h"

static p11_softhsm_t hsm;
static cw_p11_ctx ctx;
static uint8_t der[CW_CSR_DER_MAX];

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

static const char *openssl_text(const uint8_t *d, size_t n, int *status)
{
    static char out[32768];
    char cmd[512];
    FILE *f = fopen(p11_softhsm_path(&hsm, "req.der"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
    snprintf(cmd, sizeof cmd, "openssl req -inform DER -in %s -verify -noout -text 2>&1",
             p11_softhsm_path(&hsm, "req.der"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    *status = pclose(p);
    return out;
}

static void edge_request(cw_csr_req_t *req)
{
    memset(req, 0, sizeof *req);
    req->dn[CW_DN_C] = "DE";
    req->dn[CW_DN_ST] = "Bayern";
    req->dn[CW_DN_L] = "München";
    req->dn[CW_DN_O] = "Example AG";
    req->dn[CW_DN_OU] = "Edge";
    req->dn[CW_DN_CN] = "edge1.example.com";
    req->san[0] = (cw_san_t){.kind = CW_SAN_DNS, .dns = "edge1.example.com"};
    req->san[1] = (cw_san_t){.kind = CW_SAN_DNS, .dns = "sip.example.com"};
    req->san[2] = (cw_san_t){.kind = CW_SAN_DNS, .dns = "lyncdiscover.example.org"};
    req->san[3] = (cw_san_t){.kind = CW_SAN_IP, .ip = {192, 0, 2, 10}, .ip_len = 4};
    req->san[4] = (cw_san_t){.kind = CW_SAN_IP, .ip = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, .ip_len = 16};
    req->nsan = 5;
    req->eku = CW_EKU_SERVER_AUTH | CW_EKU_CLIENT_AUTH;
}

/* cw_csr_parts and its walks against mbedTLS's CSR parser, on the edge request; then every
 * shortened and every singly changed copy of it is refused or read within its bounds (ASan
 * watches the reads). */
static void check_parts(const uint8_t *d, size_t n)
{
    static uint8_t copy[CW_CSR_DER_MAX];
    static const struct {
        uint8_t tag;
        const char *value;
        size_t len;
    } sans[] = {
        {0x82, "edge1.example.com", 17},   {0x82, "sip.example.com", 15}, {0x82, "lyncdiscover.example.org", 24},
        {0x87, "\xc0\x00\x02\x0a", 4}, {0x87, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16},
    };
    cw_csr_parts_t parts;
    mbedtls_x509_csr csr;
    const uint8_t *v;
    size_t len;
    uint8_t tag;
    size_t pos = 0;

    assert_int_equal(cw_csr_parts(d, n, &parts), CW_OK);
    mbedtls_x509_csr_init(&csr);
    assert_int_equal(mbedtls_x509_csr_parse_der(&csr, d, n), 0);
    assert_int_equal(parts.subject_len, csr.subject_raw.len);
    assert_memory_equal(parts.subject, csr.subject_raw.p, parts.subject_len);
    mbedtls_x509_csr_free(&csr);
    assert_int_equal(cw_csr_cn(&parts, &v, &len), CW_OK);
    assert_int_equal(len, strlen("edge1.example.com"));
    assert_memory_equal(v, "edge1.example.com", len);
    for (size_t i = 0; i < sizeof sans / sizeof sans[0]; i++) {
        assert_int_equal(cw_csr_next_san(&parts, &pos, &tag, &v, &len), CW_OK);
        assert_int_equal(tag, sans[i].tag);
        assert_int_equal(len, sans[i].len);
        assert_memory_equal(v, sans[i].value, len);
    }
    assert_int_equal(cw_csr_next_san(&parts, &pos, &tag, &v, &len), CW_ERR_NOT_FOUND);

    for (size_t cut = 0; cut < n; cut++) {
        memcpy(copy, d, cut);
        assert_int_equal(cw_csr_parts(copy, cut, &parts), CW_ERR_MALFORMED);
    }
    for (size_t at = 0; at < n; at++) {
        memcpy(copy, d, n);
        copy[at] ^= 0x5a;
        if (cw_csr_parts(copy, n, &parts) != CW_OK) {
            continue;
        }
        assert_true(parts.subject >= copy && parts.subject + parts.subject_len <= copy + n);
        (void)cw_csr_cn(&parts, &v, &len);
        pos = 0;
        while (cw_csr_next_san(&parts, &pos, &tag, &v, &len) == CW_OK) {
            assert_true(v >= copy && v + len <= copy + n);
        }
    }
}

static void check_type(cw_key_type type, const char *sigalg, const char *keyusage)
{
    cw_p11_key key;
    cw_csr_req_t req;
    size_t len = 0;
    int status;

    assert_int_equal(cw_p11_keygen(&ctx, type, "csr-test", false, &key), CW_OK);
    edge_request(&req);
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_OK);
    const char *t = openssl_text(der, len, &status);
    if (status != 0 || strstr(t, "verify OK") == NULL) {
        fail_msg("openssl req -verify failed: %s", t);
    }
    assert_non_null(strstr(t, "Subject: C = DE, ST = Bayern, L = M"));
    assert_non_null(strstr(t, "O = Example AG, OU = Edge, CN = edge1.example.com"));
    assert_non_null(strstr(t, "DNS:edge1.example.com, DNS:sip.example.com, DNS:lyncdiscover.example.org, "
                              "IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:1"));
    assert_non_null(strstr(t, "TLS Web Server Authentication, TLS Web Client Authentication"));
    assert_non_null(strstr(t, "X509v3 Key Usage: critical"));
    assert_non_null(strstr(t, keyusage));
    assert_non_null(strstr(t, sigalg));
    assert_null(strstr(t, "challengePassword"));

    /* a second, independent parser agrees */
    mbedtls_x509_csr csr;
    mbedtls_x509_csr_init(&csr);
    assert_int_equal(mbedtls_x509_csr_parse_der(&csr, der, len), 0);
    assert_int_equal(csr.version, 1);
    mbedtls_x509_csr_free(&csr);
    check_parts(der, len);
}

static void test_rsa2048(void **state)
{
    (void)state;
    check_type(CW_KEY_RSA2048, "Signature Algorithm: sha256WithRSAEncryption",
               "Digital Signature, Key Encipherment");
}

static void test_rsa3072(void **state)
{
    (void)state;
    check_type(CW_KEY_RSA3072, "Signature Algorithm: sha256WithRSAEncryption",
               "Digital Signature, Key Encipherment");
}

static void test_p256(void **state)
{
    (void)state;
    check_type(CW_KEY_EC_P256, "Signature Algorithm: ecdsa-with-SHA256", "Digital Signature\n");
}

static void test_p384(void **state)
{
    (void)state;
    check_type(CW_KEY_EC_P384, "Signature Algorithm: ecdsa-with-SHA384", "Digital Signature\n");
}

static void test_challenge_password_and_minimal_request(void **state)
{
    (void)state;
    cw_p11_key key;
    cw_csr_req_t req;
    size_t len = 0;
    int status;

    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_RSA2048, "csr-ch", false, &key), CW_OK);
    memset(&req, 0, sizeof req);
    req.dn[CW_DN_CN] = "scep-client";
    req.challenge = "s3cret";
    req.challenge_len = 6;
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_OK);
    const char *t = openssl_text(der, len, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(t, "challengePassword        :s3cret"));
    assert_non_null(strstr(t, "Subject: CN = scep-client"));
    assert_null(strstr(t, "Extended Key Usage"));
    assert_null(strstr(t, "Alternative Name"));

    /* a password outside PrintableString goes as UTF8String, and the SET OF stays sorted */
    req.challenge = "pässwörd!";
    req.challenge_len = strlen(req.challenge);
    req.san[0] = (cw_san_t){.kind = CW_SAN_DNS, .dns = "a.example"};
    req.nsan = 1;
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_OK);
    t = openssl_text(der, len, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(t, "challengePassword"));
    assert_non_null(strstr(t, "DNS:a.example"));
}

static void test_two_pass_and_small_buffer(void **state)
{
    (void)state;
    cw_p11_key key;
    cw_csr_req_t req;
    size_t len = 0;
    uint8_t small[300];

    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_EC_P256, "csr-small", false, &key), CW_OK);
    edge_request(&req);
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, NULL, 0, &len), CW_ERR_BUFFER_SMALL);
    assert_int_equal(len, CW_CSR_DER_MAX);
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, small, sizeof small, &len), CW_ERR_BUFFER_SMALL);
    for (size_t i = 0; i < sizeof small; i++) {
        assert_int_equal(small[i], 0); /* scratch wiped */
    }
}

static void test_bad_requests(void **state)
{
    (void)state;
    cw_p11_key key;
    cw_csr_req_t req;
    size_t len = 0;
    char longcn[CW_CSR_DN_VALUE_MAX + 2];

    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_EC_P256, "csr-bad", false, &key), CW_OK);
    memset(&req, 0, sizeof req);
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_ERR_INVALID_ARG); /* empty */
    req.dn[CW_DN_C] = "DEU";
    req.dn[CW_DN_CN] = "x";
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_ERR_INVALID_ARG);
    req.dn[CW_DN_C] = NULL;
    memset(longcn, 'a', sizeof longcn - 1);
    longcn[sizeof longcn - 1] = '\0';
    req.dn[CW_DN_CN] = longcn;
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_ERR_INVALID_ARG);
    req.dn[CW_DN_CN] = "x";
    req.san[0] = (cw_san_t){.kind = CW_SAN_IP, .ip_len = 5};
    req.nsan = 1;
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_ERR_INVALID_ARG);
    req.san[0] = (cw_san_t){.kind = CW_SAN_DNS, .dns = ""};
    assert_int_equal(cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len), CW_ERR_INVALID_ARG);
}

static void test_logged_out_is_the_tokens_answer(void **state)
{
    (void)state;
    cw_p11_key key;
    cw_csr_req_t req;
    size_t len = 0;

    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_EC_P256, "csr-out", false, &key), CW_OK);
    assert_int_equal(cw_p11_logout(&ctx), CW_OK);
    edge_request(&req);
    cw_err e = cw_csr_encode(&ctx, &key, &req, der, sizeof der, &len);
    assert_true(e == CW_ERR_NOT_LOGGED_IN || CW_ERR_IS_P11(e, CKR_USER_NOT_LOGGED_IN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rsa2048, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa3072, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p384, setup, teardown),
        cmocka_unit_test_setup_teardown(test_challenge_password_and_minimal_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_pass_and_small_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logged_out_is_the_tokens_answer, setup, teardown),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("csr (openssl req -verify)", tests, NULL, NULL);
}
