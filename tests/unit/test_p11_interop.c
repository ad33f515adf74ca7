/*
 * test_p11_interop.c: what certwiz does in the token, checked by tools nobody here wrote.
 *
 * For each key type: certwiz generates the pair in a fresh SoftHSM2 token; OpenSC's pkcs11-tool
 * must show the private key as sensitive, never extractable, with the expected usage and the
 * CKA_ID certwiz set; OpenSSL must compute the same ID as the subjectKeyIdentifier of the
 * exported public key; and a signature certwiz makes must verify with `openssl dgst -verify`.
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
#include "cw_p11.h"
#include "support/p11_softhsm.h"
#include "support/test_board.h"

static p11_softhsm_t hsm;
static cw_p11_ctx ctx;

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

/* Runs a shell command, returns its standard output (static buffer) and exit status. */
static const char *run(const char *cmd, int *status)
{
    static char out[16384];
    size_t n = 0;
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (n < sizeof out - 1) {
        size_t got = fread(out + n, 1, sizeof out - 1 - n, p);
        if (got == 0) {
            break;
        }
        n += got;
    }
    out[n] = '\0';
    *status = pclose(p);
    return out;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void hex(const uint8_t *v, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", v[i]);
    }
}

/* The pkcs11-tool -O paragraph describing the private key labelled label. */
static const char *private_key_paragraph(const char *listing, const char *label, char *buf, size_t cap)
{
    const char *p = listing;
    char want[96];
    snprintf(want, sizeof want, "label:      %s\n", label);
    while ((p = strstr(p, "Private Key Object")) != NULL) {
        const char *end = strstr(p + strlen("Private Key Object;"), "Object;");
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len < cap) {
            memcpy(buf, p, len);
            buf[len] = '\0';
            if (strstr(buf, want) != NULL) {
                return buf;
            }
        }
        p += len;
    }
    return NULL;
}

static void check_key(cw_key_type type, const char *label, bool decrypt, cw_hash_alg hash,
                      const char *dgst)
{
    cw_p11_key key;
    uint8_t spki[CW_P11_SPKI_MAX];
    uint8_t sig[CW_P11_SIG_MAX];
    size_t spki_len = 0;
    size_t sig_len = 0;
    char idhex[2 * CW_P11_KEY_ID_LEN + 1];
    char cmd[1024];
    char para[2048];
    int status;
    const char *out;
    static const char msg[] = "certwiz signs this in the token\n";

    assert_int_equal(cw_p11_keygen(&ctx, type, label, decrypt, &key), CW_OK);
    hex(key.id, key.id_len, idhex);

    /* 1. pkcs11-tool sees the key with the template DESIGN.md asks for. */
    snprintf(cmd, sizeof cmd,
             "pkcs11-tool --module %s --token-label %s --login --pin %s -O 2>&1",
             P11_SOFTHSM_MODULE, P11_SOFTHSM_LABEL, P11_SOFTHSM_PIN);
    out = run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(private_key_paragraph(out, label, para, sizeof para));
    assert_non_null(strstr(para, "sensitive"));
    assert_non_null(strstr(para, "always sensitive"));
    assert_non_null(strstr(para, "never extractable"));
    assert_non_null(strstr(para, "local"));
    char idline[80];
    snprintf(idline, sizeof idline, "ID:         %s\n", idhex);
    assert_non_null(strstr(para, idline));
    assert_non_null(strstr(para, decrypt ? "Usage:      decrypt, sign" : "Usage:      sign\n"));
    assert_null(strstr(para, "derive"));
    assert_null(strstr(para, "unwrap"));

    /* 2. OpenSSL computes the same ID as the subjectKeyIdentifier of the exported public key. */
    assert_int_equal(cw_p11_pubkey_spki(&ctx, &key, spki, sizeof spki, &spki_len), CW_OK);
    write_file(p11_softhsm_path(&hsm, "pub.der"), spki, spki_len);
    char pubpem[128];
    snprintf(pubpem, sizeof pubpem, "%s", p11_softhsm_path(&hsm, "pub.pem"));
    snprintf(cmd, sizeof cmd, "openssl pkey -pubin -inform DER -in %s -out %s 2>&1",
             p11_softhsm_path(&hsm, "pub.der"), pubpem);
    run(cmd, &status);
    assert_int_equal(status, 0);
    char dir[128];
    snprintf(dir, sizeof dir, "%s", p11_softhsm_path(&hsm, ""));
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null && "
             "openssl x509 -new -subj /CN=ski -key ca.key -force_pubkey pub.pem "
             "-extfile /dev/stdin -out ski.pem <<EOF 2>&1 && openssl x509 -in ski.pem -noout -ext subjectKeyIdentifier\n"
             "subjectKeyIdentifier=hash\nEOF\n",
             dir);
    out = run(cmd, &status);
    assert_int_equal(status, 0);
    char ski[3 * CW_P11_KEY_ID_LEN];
    size_t k = 0;
    for (size_t i = 0; i < key.id_len; i++) {
        k += (size_t)sprintf(ski + k, i ? ":%02X" : "%02X", key.id[i]);
    }
    assert_non_null(strstr(out, ski));

    /* 3. A signature certwiz makes in the token verifies with openssl. */
    assert_int_equal(cw_p11_sign(&ctx, &key, hash, (const uint8_t *)msg, sizeof msg - 1, sig, sizeof sig, &sig_len),
                     CW_OK);
    write_file(p11_softhsm_path(&hsm, "msg"), msg, sizeof msg - 1);
    write_file(p11_softhsm_path(&hsm, "sig"), sig, sig_len);
    snprintf(cmd, sizeof cmd, "cd %s && openssl dgst -%s -verify pub.pem -signature sig msg 2>&1", dir, dgst);
    out = run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "Verified OK"));

    /* and a tampered message does not */
    write_file(p11_softhsm_path(&hsm, "msg"), "certwiz signs that", 18);
    out = run(cmd, &status);
    assert_int_not_equal(status, 0);
    assert_non_null(strstr(out, "Verification failure"));
}

static void test_rsa2048_sha256(void **state)
{
    (void)state;
    check_key(CW_KEY_RSA2048, "interop-rsa", false, CW_HASH_SHA256, "sha256");
}

static void test_rsa2048_decrypt_sha1(void **state)
{
    (void)state;
    check_key(CW_KEY_RSA2048, "interop-scep", true, CW_HASH_SHA1, "sha1");
}

static void test_rsa3072_sha384(void **state)
{
    (void)state;
    check_key(CW_KEY_RSA3072, "interop-rsa3k", false, CW_HASH_SHA384, "sha384");
}

static void test_p256_sha256(void **state)
{
    (void)state;
    check_key(CW_KEY_EC_P256, "interop-p256", false, CW_HASH_SHA256, "sha256");
}

static void test_p384_sha384(void **state)
{
    (void)state;
    check_key(CW_KEY_EC_P384, "interop-p384", false, CW_HASH_SHA384, "sha384");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rsa2048_sha256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa2048_decrypt_sha1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa3072_sha384, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p256_sha256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p384_sha384, setup, teardown),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("p11 interop (pkcs11-tool, openssl)", tests, NULL, NULL);
}
