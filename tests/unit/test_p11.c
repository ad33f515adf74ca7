/*
 * test_p11.c: the token layer (pkcs11/cw_p11.h) against a real SoftHSM2 token, a fresh one per
 * test (tests/unit/support/p11_softhsm.h). Signatures are verified, and data encrypted, with
 * mbedTLS against the exported SubjectPublicKeyInfo; certificates come from `openssl req -x509`
 * run at test time.
 *
 * Run: LSAN_OPTIONS=suppressions=tests/unit/lsan.supp build/host/asan/tests/test_p11
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw_p11.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"
#include "mbedtls/x509_crt.h"
#include "support/p11_softhsm.h"
#include "support/test_board.h"

#define PIN P11_SOFTHSM_PIN
#define PIN_LEN (sizeof PIN - 1u)

typedef struct fixture {
    p11_softhsm_t hsm;
    cw_p11_ctx ctx;
} fixture;

static fixture fx;

/* ---- helpers ----------------------------------------------------------------------------------- */

static void uri_of(const char *s, cw_p11_uri_t *u)
{
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), u), CW_OK);
}

static int open_token(const char *mechanisms, bool login)
{
    if (p11_softhsm_setup(&fx.hsm, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, PIN, mechanisms) != 0) {
        p11_softhsm_teardown(&fx.hsm);
        return -1;
    }
    cw_p11_uri_t u;
    if (cw_p11_uri_parse("pkcs11:token=" P11_SOFTHSM_LABEL, strlen("pkcs11:token=" P11_SOFTHSM_LABEL), &u) !=
            CW_OK ||
        cw_p11_open(&fx.ctx, fx.hsm.fl, &u) != CW_OK) {
        p11_softhsm_teardown(&fx.hsm);
        return -1;
    }
    if (login && cw_p11_login(&fx.ctx, PIN, PIN_LEN) != CW_OK) {
        cw_p11_close(&fx.ctx);
        p11_softhsm_teardown(&fx.hsm);
        return -1;
    }
    return 0;
}

static int setup_token(void **state)
{
    (void)state;
    return open_token(NULL, false);
}

static int setup_login(void **state)
{
    (void)state;
    return open_token(NULL, true);
}

static int setup_bare(void **state)
{
    (void)state;
    return p11_softhsm_setup(&fx.hsm, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, PIN, NULL);
}

static int teardown(void **state)
{
    (void)state;
    cw_p11_close(&fx.ctx);
    p11_softhsm_teardown(&fx.hsm);
    return 0;
}

#define assert_p11(e, rv) assert_int_equal((long)(e), (long)CW_ERR_FROM_P11(rv))

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static const char *type_name(cw_key_type t)
{
    switch (t) {
    case CW_KEY_RSA2048: return "RSA-2048";
    case CW_KEY_RSA3072: return "RSA-3072";
    case CW_KEY_RSA4096: return "RSA-4096";
    case CW_KEY_EC_P256: return "EC P-256";
    case CW_KEY_EC_P384: return "EC P-384";
    case CW_KEY_NONE: break;
    }
    return "?";
}

static void keygen_timed(cw_key_type t, const char *label, bool decrypt, cw_p11_key *k)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(cw_p11_keygen(&fx.ctx, t, label, decrypt, k), CW_OK);
    fprintf(stderr, "    keygen %s: %.0f ms\n", type_name(t), ms_since(&t0));
}

/* A boolean attribute: 0, 1, or -1 when it cannot be read. */
static int read_bool(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    uint8_t b = 0xAA;
    size_t n = 0;
    if (cw_p11_read_attr(&fx.ctx, h, type, &b, sizeof b, &n) != CW_OK || n != 1u) {
        return -1;
    }
    return b != 0u;
}

static size_t read_all(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    assert_int_equal(cw_p11_read_attr(&fx.ctx, h, type, buf, cap, &n), CW_OK);
    return n;
}

static size_t spki_of(const cw_p11_key *k, uint8_t *buf, size_t cap)
{
    size_t need = 0, len = 0;
    assert_int_equal(cw_p11_pubkey_spki(&fx.ctx, k, NULL, 0, &need), CW_ERR_BUFFER_SMALL);
    assert_true(need > 0u && need <= CW_P11_SPKI_MAX && need <= cap);
    assert_int_equal(cw_p11_pubkey_spki(&fx.ctx, k, buf, need - 1u, &len), CW_ERR_BUFFER_SMALL);
    assert_int_equal(len, need);
    assert_int_equal(cw_p11_pubkey_spki(&fx.ctx, k, buf, cap, &len), CW_OK);
    assert_int_equal(len, need);
    return len;
}

static int test_rng(void *p, unsigned char *out, size_t len)
{
    (void)p;
    FILE *f = fopen("/dev/urandom", "rb");
    size_t n = f != NULL ? fread(out, 1, len, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    return n == len ? 0 : -1;
}

static mbedtls_md_type_t md_of(cw_hash_alg h)
{
    return h == CW_HASH_SHA1 ? MBEDTLS_MD_SHA1 : h == CW_HASH_SHA256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA384;
}

static size_t digest_of(cw_hash_alg h, const uint8_t *d, size_t n, uint8_t *out)
{
    switch (h) {
    case CW_HASH_SHA1: assert_int_equal(mbedtls_sha1(d, n, out), 0); return 20;
    case CW_HASH_SHA256: assert_int_equal(mbedtls_sha256(d, n, out, 0), 0); return 32;
    case CW_HASH_SHA384: assert_int_equal(mbedtls_sha512(d, n, out, 1), 0); return 48;
    }
    return 0;
}

/* Reads a file of the test directory. */
static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    assert_true(feof(f));
    fclose(f);
    return n;
}

/* A self-signed EC certificate made by openssl in the test directory; returns its DER length. */
static size_t make_cert(const char *name, const char *cn, bool ca, uint8_t *buf, size_t cap)
{
    char cmd[1024];
    char der[256];
    snprintf(der, sizeof der, "%s", p11_softhsm_path(&fx.hsm, name));
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
             "-subj '/O=certwiz tests/CN=%s' -days 30 %s -outform DER -out %s 2>/dev/null",
             der, cn, ca ? "-addext basicConstraints=critical,CA:TRUE" : "-addext basicConstraints=CA:FALSE",
             der);
    assert_int_equal(system(cmd), 0);
    return read_file(der, buf, cap);
}

/* ---- session ------------------------------------------------------------------------------------ */

static void test_open_and_token_info(void **state)
{
    (void)state;
    cw_p11_token_info_t ti;
    assert_int_equal(cw_p11_token_info(&fx.ctx, &ti), CW_OK);
    assert_string_equal(ti.label, P11_SOFTHSM_LABEL);
    assert_string_equal(ti.manufacturer, "SoftHSM project");
    assert_string_equal(ti.model, "SoftHSM v2");
    assert_int_equal(strlen(ti.serial), 16);
    assert_false(ti.pin_locked);
    assert_int_equal(ti.pin_min, 4);
    assert_int_equal(ti.pin_max, 255);
    /* SoftHSM2 2.6 does not report free memory: CK_UNAVAILABLE_INFORMATION ("unknown"). */
    assert_false(ti.free_public_known);
    assert_false(ti.free_private_known);
    assert_string_equal(cw_p11_last_call(&fx.ctx), "");
    test_assert_arena_empty();
}

static void test_open_by_uri(void **state)
{
    (void)state;
    cw_p11_token_info_t ti;
    cw_p11_uri_t u;
    char s[128];
    assert_int_equal(cw_p11_token_info(&fx.ctx, &ti), CW_OK);
    CK_SLOT_ID slot = fx.ctx.slot;
    cw_p11_close(&fx.ctx);

    /* By serial, by model + manufacturer, and the first token (NULL and empty URI). */
    snprintf(s, sizeof s, "pkcs11:serial=%s", ti.serial);
    uri_of(s, &u);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, &u), CW_OK);
    assert_true(fx.ctx.slot == slot);
    cw_p11_close(&fx.ctx);
    uri_of("pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2", &u);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, &u), CW_OK);
    assert_true(fx.ctx.slot == slot);
    cw_p11_close(&fx.ctx);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, NULL), CW_OK);
    assert_true(fx.ctx.slot == slot); /* the free, uninitialised slot is skipped */
    cw_p11_close(&fx.ctx);
    uri_of("pkcs11:", &u);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, &u), CW_OK);
    cw_p11_close(&fx.ctx);

    /* Nothing matches: a label prefix is not the label; an object attribute does not matter. */
    uri_of("pkcs11:token=certwiz", &u);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, &u), CW_ERR_TOKEN_NOT_FOUND);
    assert_false(fx.ctx.open);
    uri_of("pkcs11:token=" P11_SOFTHSM_LABEL ";model=other", &u);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, &u), CW_ERR_TOKEN_NOT_FOUND);
    uri_of("pkcs11:token=" P11_SOFTHSM_LABEL ";object=anything;type=cert", &u);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, &u), CW_OK);
    cw_p11_close(&fx.ctx);
    assert_int_equal(cw_p11_open(&fx.ctx, NULL, NULL), CW_ERR_NO_TOKEN);
    test_assert_arena_empty();
}

/* The board (p11-kit) may have initialised the module already: open accepts that and close then
 * leaves the library initialised for its owner. */
static void test_open_already_initialized(void **state)
{
    (void)state;
    CK_ULONG n = 0;
    assert_int_equal(fx.hsm.fl->C_Initialize(NULL_PTR), CKR_OK);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, NULL), CW_OK);
    assert_false(fx.ctx.own_init);
    cw_p11_close(&fx.ctx);
    assert_int_equal(fx.hsm.fl->C_GetSlotList(CK_TRUE, NULL_PTR, &n), CKR_OK);
    assert_true(n >= 1u);
    /* When open initialised it, close finalises. */
    assert_int_equal(fx.hsm.fl->C_Finalize(NULL_PTR), CKR_OK);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, NULL), CW_OK);
    assert_true(fx.ctx.own_init);
    cw_p11_close(&fx.ctx);
    assert_int_equal(fx.hsm.fl->C_GetSlotList(CK_TRUE, NULL_PTR, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    test_assert_arena_empty();
}

static void test_closed_context(void **state)
{
    (void)state;
    cw_p11_ctx z;
    memset(&z, 0, sizeof z);
    cw_p11_key k;
    memset(&k, 0, sizeof k);
    uint8_t b[8];
    size_t n;
    CK_OBJECT_HANDLE h;
    cw_p11_match_t m = {0};
    assert_int_equal(cw_p11_login(&z, PIN, PIN_LEN), CW_ERR_NO_TOKEN);
    assert_int_equal(cw_p11_logout(&z), CW_ERR_NO_TOKEN);
    assert_false(cw_p11_logged_in(&z));
    assert_false(cw_p11_poll(&z, 1000));
    assert_int_equal(cw_p11_random(&z, b, sizeof b), CW_ERR_NO_TOKEN);
    assert_int_equal(cw_p11_keygen(&z, CW_KEY_EC_P256, "x", false, &k), CW_ERR_NO_TOKEN);
    assert_int_equal(cw_p11_find(&z, &m, &h, 1, &n), CW_ERR_NO_TOKEN);
    assert_int_equal(cw_p11_destroy(&z, 1), CW_ERR_NO_TOKEN);
    cw_p11_close(&z);
    cw_p11_close(NULL);
    test_assert_arena_empty();
}

/* ---- login ---------------------------------------------------------------------------------------- */

static void test_login_logout(void **state)
{
    (void)state;
    assert_false(cw_p11_logged_in(&fx.ctx));
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_true(cw_p11_logged_in(&fx.ctx));
    /* CKR_USER_ALREADY_LOGGED_IN counts as success. */
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_true(cw_p11_logged_in(&fx.ctx));
    assert_int_equal(cw_p11_logout(&fx.ctx), CW_OK);
    assert_false(cw_p11_logged_in(&fx.ctx));
    assert_int_equal(cw_p11_logout(&fx.ctx), CW_OK); /* not logged in: still fine */
    assert_int_equal(cw_p11_login(&fx.ctx, NULL, 3), CW_ERR_INVALID_ARG);
    test_assert_arena_empty();
}

static void test_login_wrong_pin(void **state)
{
    (void)state;
    cw_err e = cw_p11_login(&fx.ctx, "9999", 4);
    assert_p11(e, CKR_PIN_INCORRECT);
    assert_true(CW_ERR_IS_P11(e, CKR_PIN_INCORRECT));
    assert_string_equal(cw_err_name(e), "CKR_PIN_INCORRECT");
    assert_string_equal(cw_p11_last_call(&fx.ctx), "C_Login");
    assert_false(cw_p11_logged_in(&fx.ctx));
    cw_p11_token_info_t ti;
    assert_int_equal(cw_p11_token_info(&fx.ctx, &ti), CW_OK);
    assert_true(ti.pin_count_low); /* SoftHSM2 flags a recent wrong PIN */
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_int_equal(cw_p11_token_info(&fx.ctx, &ti), CW_OK);
    assert_false(ti.pin_count_low); /* and clears it after a good one */
    test_assert_arena_empty();
}

/* SoftHSM2 2.6.1 never locks the user PIN: it answers CKR_PIN_INCORRECT however often, sets
 * only CKF_USER_PIN_COUNT_LOW, and the right PIN still works. certwiz passes CKR_PIN_LOCKED
 * through the same way (CW_ERR_FROM_P11), but no SoftHSM2 token can show it. */
static void test_pin_never_locks_on_softhsm(void **state)
{
    (void)state;
    cw_p11_token_info_t ti;
    for (int i = 0; i < 25; i++) {
        assert_p11(cw_p11_login(&fx.ctx, "0000", 4), CKR_PIN_INCORRECT);
    }
    assert_int_equal(cw_p11_token_info(&fx.ctx, &ti), CW_OK);
    assert_true(ti.pin_count_low);
    assert_false(ti.pin_final_try);
    assert_false(ti.pin_locked);
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_string_equal(cw_err_name(CW_ERR_FROM_P11(CKR_PIN_LOCKED)), "CKR_PIN_LOCKED");
    test_assert_arena_empty();
}

/* PIN length outside ulMinPinLen..ulMaxPinLen (4..255 on SoftHSM2): its C_Login answers
 * CKR_PIN_INCORRECT, not CKR_PIN_LEN_RANGE (which it uses only in C_InitPIN / C_SetPIN). */
static void test_pin_length_range(void **state)
{
    (void)state;
    char long_pin[300];
    memset(long_pin, '1', sizeof long_pin);
    assert_p11(cw_p11_login(&fx.ctx, "123", 3), CKR_PIN_INCORRECT);
    assert_p11(cw_p11_login(&fx.ctx, long_pin, 256), CKR_PIN_INCORRECT);
    assert_p11(cw_p11_login(&fx.ctx, "", 0), CKR_PIN_INCORRECT);
    assert_false(cw_p11_logged_in(&fx.ctx));
    test_assert_arena_empty();
}

static void test_idle_logout(void **state)
{
    (void)state;
    cw_p11_set_idle_logout(&fx.ctx, 1000);
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    cw_p11_touch(&fx.ctx, 5000);
    assert_false(cw_p11_poll(&fx.ctx, 5999));
    assert_true(cw_p11_logged_in(&fx.ctx));
    cw_p11_touch(&fx.ctx, 5999); /* a use restarts the count */
    assert_false(cw_p11_poll(&fx.ctx, 6998));
    assert_true(cw_p11_poll(&fx.ctx, 6999));
    assert_false(cw_p11_logged_in(&fx.ctx)); /* the token agrees */
    assert_false(cw_p11_poll(&fx.ctx, 9999)); /* nothing more to do */

    /* Across the 32-bit wrap of the ms clock. */
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    cw_p11_touch(&fx.ctx, 0xFFFFFE00u);
    assert_false(cw_p11_poll(&fx.ctx, 0x000001E7u)); /* 999 ms later */
    assert_true(cw_p11_logged_in(&fx.ctx));
    assert_true(cw_p11_poll(&fx.ctx, 0x000001E8u)); /* 1000 ms later */
    assert_false(cw_p11_logged_in(&fx.ctx));

    /* A login without a touch: the first poll starts the count. */
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_false(cw_p11_poll(&fx.ctx, 100000));
    assert_false(cw_p11_poll(&fx.ctx, 100999));
    assert_true(cw_p11_poll(&fx.ctx, 101000));

    /* 0 = never. */
    cw_p11_set_idle_logout(&fx.ctx, 0);
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    cw_p11_touch(&fx.ctx, 0);
    assert_false(cw_p11_poll(&fx.ctx, 0x7FFFFFFFu));
    assert_true(cw_p11_logged_in(&fx.ctx));
    test_assert_arena_empty();
}

static void test_logged_out_use(void **state)
{
    (void)state;
    cw_p11_key k, rsa;
    CK_OBJECT_HANDLE h;
    uint8_t sig[CW_P11_SIG_MAX];
    size_t n;
    assert_p11(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "logged-out", false, &k), CKR_USER_NOT_LOGGED_IN);
    assert_string_equal(cw_p11_last_call(&fx.ctx), "C_GenerateKeyPair");
    assert_p11(cw_p11_data_create(&fx.ctx, "certwiz", "rec", true, (const uint8_t *)"x", 1, &h),
               CKR_USER_NOT_LOGGED_IN);

    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "k", false, &k), CW_OK);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_RSA2048, "r", true, &rsa), CW_OK);
    assert_int_equal(cw_p11_logout(&fx.ctx), CW_OK);
    /* SoftHSM2 drops the handles of private objects at logout, so the token answers
     * CKR_KEY_HANDLE_INVALID / CKR_OBJECT_HANDLE_INVALID; certwiz names the real cause. */
    assert_int_equal(cw_p11_sign(&fx.ctx, &k, CW_HASH_SHA256, (const uint8_t *)"abc", 3, sig, sizeof sig, &n),
                     CW_ERR_NOT_LOGGED_IN);
    assert_string_equal(cw_p11_last_call(&fx.ctx), "C_SignInit");
    uint8_t ct[256] = {0};
    assert_int_equal(cw_p11_decrypt(&fx.ctx, &rsa, ct, sizeof ct, sig, sizeof sig, &n), CW_ERR_NOT_LOGGED_IN);
    /* ... and hides it from searches. */
    cw_p11_key again;
    assert_int_equal(cw_p11_key_find_by_id(&fx.ctx, k.id, k.id_len, &again), CW_ERR_NOT_FOUND);
    /* The public half stays readable: the SPKI needs no login. */
    assert_true(spki_of(&k, sig, sizeof sig) > 0u);
    /* After a new login the old private handle may stay dead (SoftHSM2: it does); finding the
     * pair again by its ID gives working handles. */
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    cw_err e = cw_p11_sign(&fx.ctx, &k, CW_HASH_SHA256, (const uint8_t *)"abc", 3, sig, sizeof sig, &n);
    fprintf(stderr, "    sign with a pre-logout handle after re-login: %s\n", cw_err_name(e));
    assert_int_equal(cw_p11_key_find_by_id(&fx.ctx, k.id, k.id_len, &again), CW_OK);
    assert_int_equal(cw_p11_sign(&fx.ctx, &again, CW_HASH_SHA256, (const uint8_t *)"abc", 3, sig, sizeof sig, &n),
                     CW_OK);
    test_assert_arena_empty();
}

/* Fault injection over the real token: the same SoftHSM2 function list with one entry replaced. */
static CK_FUNCTION_LIST faulty;

static CK_RV fail_set_attribute(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    (void)s;
    (void)o;
    (void)t;
    (void)n;
    return CKR_DEVICE_ERROR;
}

static CK_RV fail_logout(CK_SESSION_HANDLE s)
{
    (void)s;
    return CKR_DEVICE_ERROR;
}

/* If C_Logout fails, idle logout closes and reopens the session, which ends the login. */
static void test_idle_logout_when_logout_fails(void **state)
{
    (void)state;
    faulty = *fx.hsm.fl;
    faulty.C_Logout = fail_logout;
    cw_p11_close(&fx.ctx);
    assert_int_equal(cw_p11_open(&fx.ctx, &faulty, NULL), CW_OK);
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_p11(cw_p11_logout(&fx.ctx), CKR_DEVICE_ERROR);
    assert_true(cw_p11_logged_in(&fx.ctx));
    cw_p11_set_idle_logout(&fx.ctx, 10);
    cw_p11_touch(&fx.ctx, 0);
    assert_true(cw_p11_poll(&fx.ctx, 10));
    assert_true(fx.ctx.open);
    assert_false(cw_p11_logged_in(&fx.ctx));
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK); /* the new session works */
    test_assert_arena_empty();
}

/* ---- keys ----------------------------------------------------------------------------------------- */

/* Everything about one generated key pair. */
static void check_key(cw_key_type type, bool decrypt)
{
    cw_p11_key k, found;
    uint8_t spki[CW_P11_SPKI_MAX];
    uint8_t buf[600];
    char label[32];
    snprintf(label, sizeof label, "set-%d", (int)type);
    keygen_timed(type, label, decrypt, &k);
    assert_int_equal(k.type, type);
    assert_int_equal(k.id_len, CW_P11_KEY_ID_LEN);

    /* Template as asked (DESIGN.md, "Persistent state"). */
    assert_int_equal(read_bool(k.priv, CKA_TOKEN), 1);
    assert_int_equal(read_bool(k.priv, CKA_PRIVATE), 1);
    assert_int_equal(read_bool(k.priv, CKA_SENSITIVE), 1);
    assert_int_equal(read_bool(k.priv, CKA_EXTRACTABLE), 0);
    assert_int_equal(read_bool(k.priv, CKA_ALWAYS_SENSITIVE), 1);
    assert_int_equal(read_bool(k.priv, CKA_NEVER_EXTRACTABLE), 1);
    assert_int_equal(read_bool(k.priv, CKA_SIGN), 1);
    assert_int_equal(read_bool(k.priv, CKA_DECRYPT), decrypt ? 1 : 0);
    assert_int_equal(read_bool(k.priv, CKA_UNWRAP), 0);
    assert_int_equal(read_bool(k.priv, CKA_DERIVE), 0);
    assert_int_equal(read_bool(k.pub, CKA_TOKEN), 1);
    /* CKA_VERIFY and CKA_ENCRYPT of the public key are the token's defaults (not in the
     * template: a TPM ties them to the private key's uses, test_p11_token.c). */
    assert_int_equal(read_bool(k.pub, CKA_WRAP), 0);
    size_t n = read_all(k.priv, CKA_LABEL, buf, sizeof buf);
    assert_int_equal(n, strlen(label));
    assert_memory_equal(buf, label, n);
    n = read_all(k.pub, CKA_LABEL, buf, sizeof buf);
    assert_memory_equal(buf, label, n);

    /* Nothing reads the private key out. */
    assert_int_equal(cw_p11_read_attr(&fx.ctx, k.priv, CKA_VALUE, buf, sizeof buf, &n), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_p11_read_attr(&fx.ctx, k.priv, CKA_PRIVATE_EXPONENT, buf, sizeof buf, &n),
                     CW_ERR_INVALID_ARG);

    /* SPKI, parsed by mbedTLS; CKA_ID = SHA-1 of the key bits, recomputed independently from
     * what mbedTLS writes as the subjectPublicKey. */
    size_t spki_len = spki_of(&k, spki, sizeof spki);
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    assert_int_equal(mbedtls_pk_parse_public_key(&pk, spki, spki_len), 0);
    if (type == CW_KEY_EC_P256 || type == CW_KEY_EC_P384) {
        assert_int_equal(mbedtls_pk_get_type(&pk), MBEDTLS_PK_ECKEY);
        assert_int_equal(mbedtls_pk_get_bitlen(&pk), type == CW_KEY_EC_P256 ? 256 : 384);
    } else {
        assert_int_equal(mbedtls_pk_get_type(&pk), MBEDTLS_PK_RSA);
        assert_int_equal(mbedtls_pk_get_bitlen(&pk),
                         type == CW_KEY_RSA2048 ? 2048 : type == CW_KEY_RSA3072 ? 3072 : 4096);
    }
    unsigned char *p = buf + sizeof buf;
    int bits_len = mbedtls_pk_write_pubkey(&p, buf, &pk);
    assert_true(bits_len > 0);
    uint8_t id[20];
    assert_int_equal(mbedtls_sha1(p, (size_t)bits_len, id), 0);
    assert_memory_equal(k.id, id, 20);
    assert_int_equal(read_all(k.priv, CKA_ID, buf, sizeof buf), 20);
    assert_memory_equal(buf, id, 20);
    assert_int_equal(read_all(k.pub, CKA_ID, buf, sizeof buf), 20);
    assert_memory_equal(buf, id, 20);

    /* Sign with every hash and verify with mbedTLS. */
    static const uint8_t msg[] = "certwiz signs this CertificationRequestInfo stand-in";
    static const cw_hash_alg hashes[] = {CW_HASH_SHA1, CW_HASH_SHA256, CW_HASH_SHA384};
    for (size_t i = 0; i < 3; i++) {
        uint8_t sig[CW_P11_SIG_MAX], dg[48];
        size_t need = 0, siglen = 0;
        assert_int_equal(cw_p11_sign(&fx.ctx, &k, hashes[i], msg, sizeof msg, NULL, 0, &need),
                         CW_ERR_BUFFER_SMALL);
        assert_int_equal(cw_p11_sign(&fx.ctx, &k, hashes[i], msg, sizeof msg, sig, need - 1u, &siglen),
                         CW_ERR_BUFFER_SMALL);
        assert_int_equal(siglen, need);
        assert_int_equal(cw_p11_sign(&fx.ctx, &k, hashes[i], msg, sizeof msg, sig, need, &siglen), CW_OK);
        assert_true(siglen <= need);
        if (type == CW_KEY_EC_P256 || type == CW_KEY_EC_P384) {
            assert_int_equal(need, type == CW_KEY_EC_P256 ? 72 : 104);
        } else {
            assert_int_equal(siglen, need); /* RSA: exactly the modulus */
        }
        size_t dlen = digest_of(hashes[i], msg, sizeof msg, dg);
        assert_int_equal(mbedtls_pk_verify(&pk, md_of(hashes[i]), dg, dlen, sig, siglen), 0);
        /* The same through sign_digest, and a changed message fails verification. */
        assert_int_equal(cw_p11_sign_digest(&fx.ctx, &k, hashes[i], dg, dlen, sig, sizeof sig, &siglen), CW_OK);
        assert_int_equal(mbedtls_pk_verify(&pk, md_of(hashes[i]), dg, dlen, sig, siglen), 0);
        dg[0] ^= 1u;
        assert_int_not_equal(mbedtls_pk_verify(&pk, md_of(hashes[i]), dg, dlen, sig, siglen), 0);
        assert_int_equal(cw_p11_sign_digest(&fx.ctx, &k, hashes[i], dg, dlen - 1u, sig, sizeof sig, &siglen),
                         CW_ERR_INVALID_ARG);
    }

    /* Decryption of what mbedTLS encrypted to the SPKI. */
    if (decrypt) {
        static const uint8_t secret[] = "a SCEP reply's content-encryption key";
        uint8_t ct[512], pt[512];
        size_t ctlen = 0, ptlen = 0;
        assert_int_equal(mbedtls_pk_encrypt(&pk, secret, sizeof secret, ct, &ctlen, sizeof ct, test_rng, NULL), 0);
        assert_int_equal(cw_p11_decrypt(&fx.ctx, &k, ct, ctlen, NULL, 0, &ptlen), CW_ERR_BUFFER_SMALL);
        assert_int_equal(ptlen, ctlen - 11u);
        assert_int_equal(cw_p11_decrypt(&fx.ctx, &k, ct, ctlen, pt, ptlen - 1u, &ptlen), CW_ERR_BUFFER_SMALL);
        assert_int_equal(cw_p11_decrypt(&fx.ctx, &k, ct, ctlen, pt, sizeof pt, &ptlen), CW_OK);
        assert_int_equal(ptlen, sizeof secret);
        assert_memory_equal(pt, secret, sizeof secret);
        ct[ctlen / 2u] ^= 0x55u; /* tampered: the token's answer comes back */
        cw_err e = cw_p11_decrypt(&fx.ctx, &k, ct, ctlen, pt, sizeof pt, &ptlen);
        assert_true(CW_ERR_IS_P11(e, CKR_ENCRYPTED_DATA_INVALID) || CW_ERR_IS_P11(e, CKR_GENERAL_ERROR));
    }
    mbedtls_pk_free(&pk);

    /* Re-open by ID and by label. */
    assert_int_equal(cw_p11_key_find_by_id(&fx.ctx, k.id, k.id_len, &found), CW_OK);
    assert_true(found.priv == k.priv && found.pub == k.pub && found.type == type);
    assert_memory_equal(found.id, k.id, 20);
    assert_int_equal(cw_p11_key_find_by_label(&fx.ctx, label, &found), CW_OK);
    assert_true(found.priv == k.priv && found.pub == k.pub && found.type == type);
    assert_int_equal(found.id_len, 20);
}

static void test_key_rsa2048(void **state)
{
    (void)state;
    check_key(CW_KEY_RSA2048, true);
    test_assert_arena_empty();
}

static void test_key_rsa3072(void **state)
{
    (void)state;
    check_key(CW_KEY_RSA3072, false);
    test_assert_arena_empty();
}

static void test_key_rsa4096(void **state)
{
    (void)state;
    check_key(CW_KEY_RSA4096, true);
    test_assert_arena_empty();
}

static void test_key_p256(void **state)
{
    (void)state;
    check_key(CW_KEY_EC_P256, false);
    test_assert_arena_empty();
}

static void test_key_p384(void **state)
{
    (void)state;
    check_key(CW_KEY_EC_P384, false);
    test_assert_arena_empty();
}

static void test_keygen_arguments(void **state)
{
    (void)state;
    cw_p11_key k;
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "ec-decrypt", true, &k), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_NONE, "none", false, &k), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, NULL, false, &k), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "k", false, NULL), CW_ERR_INVALID_ARG);
    /* Nothing was made. */
    cw_p11_match_t m = {0};
    size_t n = 99;
    assert_int_equal(cw_p11_find(&fx.ctx, &m, NULL, 0, &n), CW_OK);
    assert_int_equal(n, 0);
    test_assert_arena_empty();
}

/* Setting CKA_ID fails: both halves are destroyed and the token's answer comes back. */
static void test_keygen_id_failure_destroys_pair(void **state)
{
    (void)state;
    cw_p11_key k;
    cw_p11_match_t all = {0};
    size_t n = 99;
    faulty = *fx.hsm.fl;
    faulty.C_SetAttributeValue = fail_set_attribute;
    cw_p11_close(&fx.ctx);
    assert_int_equal(cw_p11_open(&fx.ctx, &faulty, NULL), CW_OK);
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_p11(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "no-id", false, &k), CKR_DEVICE_ERROR);
    assert_string_equal(cw_p11_last_call(&fx.ctx), "C_SetAttributeValue");
    assert_true(k.priv == CK_INVALID_HANDLE && k.pub == CK_INVALID_HANDLE);
    assert_int_equal(cw_p11_find(&fx.ctx, &all, NULL, 0, &n), CW_OK);
    assert_int_equal(n, 0);
    test_assert_arena_empty();
}

static void test_key_find_errors(void **state)
{
    (void)state;
    cw_p11_key a, b, f;
    uint8_t id[CW_P11_KEY_ID_LEN + 1] = {0};
    assert_int_equal(cw_p11_key_find_by_label(&fx.ctx, "nothing", &f), CW_ERR_NOT_FOUND);
    assert_int_equal(cw_p11_key_find_by_id(&fx.ctx, id, 20, &f), CW_ERR_NOT_FOUND);
    assert_int_equal(cw_p11_key_find_by_id(&fx.ctx, id, sizeof id, &f), CW_ERR_TOO_LARGE);
    /* Two pairs under one label (an abandoned request and its retry): ambiguous by label,
     * distinct by ID. */
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "twice", false, &a), CW_OK);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "twice", false, &b), CW_OK);
    assert_memory_not_equal(a.id, b.id, 20);
    assert_int_equal(cw_p11_key_find_by_label(&fx.ctx, "twice", &f), CW_ERR_AMBIGUOUS);
    assert_int_equal(cw_p11_key_find_by_id(&fx.ctx, b.id, b.id_len, &f), CW_OK);
    assert_true(f.priv == b.priv && f.pub == b.pub);
    /* Destroying a key pair's halves. */
    assert_int_equal(cw_p11_destroy(&fx.ctx, a.priv), CW_OK);
    assert_int_equal(cw_p11_destroy(&fx.ctx, a.pub), CW_OK);
    assert_int_equal(cw_p11_key_find_by_label(&fx.ctx, "twice", &f), CW_OK);
    assert_true(f.priv == b.priv);
    test_assert_arena_empty();
}

/* Decrypting with a key made without allow_decrypt: the token's CKR_KEY_FUNCTION_NOT_PERMITTED. */
static void test_decrypt_not_permitted(void **state)
{
    (void)state;
    cw_p11_key k, ec;
    uint8_t ct[256] = {1}, pt[256];
    size_t n;
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_RSA2048, "sign-only", false, &k), CW_OK);
    assert_p11(cw_p11_decrypt(&fx.ctx, &k, ct, sizeof ct, pt, sizeof pt, &n), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_string_equal(cw_p11_last_call(&fx.ctx), "C_DecryptInit");
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "ec", false, &ec), CW_OK);
    assert_int_equal(cw_p11_decrypt(&fx.ctx, &ec, ct, sizeof ct, pt, sizeof pt, &n), CW_ERR_INVALID_ARG);
    /* The session still works after the refusals. */
    assert_int_equal(cw_p11_sign(&fx.ctx, &k, CW_HASH_SHA256, ct, 10, pt, sizeof pt, &n), CW_OK);
    test_assert_arena_empty();
}

/* A token without CKM_ECDSA (SoftHSM2's slots.mechanisms, and SoftHSM2 has no CKM_ECDSA_SHA*):
 * keygen refuses up front with CW_ERR_MECHANISM; a key made earlier, on a token that had it, is
 * refused as well when signing, before any key use (the mechanisms are read once per open). */
static void test_token_lacks_mechanism(void **state)
{
    (void)state;
    cw_p11_key k, found, rsa;
    uint8_t sig[CW_P11_SIG_MAX];
    size_t n;
    assert_int_equal(open_token(NULL, true), 0);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "ec-before", false, &k), CW_OK);
    cw_p11_close(&fx.ctx);
    assert_int_equal(p11_softhsm_reload(&fx.hsm, "CKM_ECDSA"), 0);
    assert_int_equal(cw_p11_open(&fx.ctx, fx.hsm.fl, NULL), CW_OK);
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);

    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P384, "ec-after", false, &found), CW_ERR_MECHANISM);
    assert_string_equal(cw_p11_last_call(&fx.ctx), "C_GetMechanismList");
    assert_int_equal(cw_p11_key_find_by_id(&fx.ctx, k.id, k.id_len, &found), CW_OK);
    assert_int_equal(cw_p11_sign(&fx.ctx, &found, CW_HASH_SHA256, (const uint8_t *)"x", 1, sig, sizeof sig, &n),
                     CW_ERR_MECHANISM);
    assert_string_equal(cw_p11_last_call(&fx.ctx), "C_GetMechanismInfo");
    /* RSA is unaffected. */
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_RSA2048, "rsa", true, &rsa), CW_OK);
    assert_int_equal(cw_p11_sign(&fx.ctx, &rsa, CW_HASH_SHA256, (const uint8_t *)"x", 1, sig, sizeof sig, &n),
                     CW_OK);
    test_assert_arena_empty();
}

/* A token without RSA PKCS#1 v1.5: no RSA key is made that could not sign or decrypt. */
static void test_token_lacks_rsa_pkcs(void **state)
{
    (void)state;
    cw_p11_key k;
    assert_int_equal(open_token("CKM_RSA_PKCS", true), 0);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_RSA2048, "rsa", true, &k), CW_ERR_MECHANISM);
    assert_int_equal(cw_p11_keygen(&fx.ctx, CW_KEY_EC_P256, "ec", false, &k), CW_OK);
    test_assert_arena_empty();
}

/* ---- objects ------------------------------------------------------------------------------------------ */

static void test_cert_objects(void **state)
{
    (void)state;
    static uint8_t der[4096], ca_der[4096], buf[4096];
    size_t len = make_cert("leaf.der", "device.example", false, der, sizeof der);
    size_t ca_len = make_cert("ca.der", "certwiz test CA", true, ca_der, sizeof ca_der);
    static const uint8_t id[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    CK_OBJECT_HANDLE h, hca, found[4];
    size_t n;

    assert_int_equal(cw_p11_cert_create(&fx.ctx, der, len, "set-web", id, sizeof id, CW_P11_CERT_CATEGORY_USER, &h),
                     CW_OK);
    assert_int_equal(cw_p11_cert_create(&fx.ctx, ca_der, ca_len, "ca-1", NULL, 0, CW_P11_CERT_CATEGORY_AUTHORITY,
                                        &hca),
                     CW_OK);

    /* Attributes, compared with what mbedTLS's X.509 parser finds in the same DER. */
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse_der(&crt, der, len), 0);
    assert_int_equal(read_all(h, CKA_VALUE, buf, sizeof buf), len);
    assert_memory_equal(buf, der, len);
    assert_int_equal(read_all(h, CKA_SUBJECT, buf, sizeof buf), crt.subject_raw.len);
    assert_memory_equal(buf, crt.subject_raw.p, crt.subject_raw.len);
    assert_int_equal(read_all(h, CKA_ISSUER, buf, sizeof buf), crt.issuer_raw.len);
    assert_memory_equal(buf, crt.issuer_raw.p, crt.issuer_raw.len);
    n = read_all(h, CKA_SERIAL_NUMBER, buf, sizeof buf);
    assert_int_equal(buf[0], 0x02); /* the DER INTEGER, tag and length included */
    assert_int_equal(buf[1], crt.serial.len);
    assert_int_equal(n, 2u + crt.serial.len);
    assert_memory_equal(buf + 2, crt.serial.p, crt.serial.len);
    mbedtls_x509_crt_free(&crt);
    CK_ULONG cat = 0;
    assert_int_equal(read_all(h, CKA_CERTIFICATE_CATEGORY, (uint8_t *)&cat, sizeof cat), sizeof cat);
    assert_int_equal(cat, 1);
    assert_int_equal(read_all(hca, CKA_CERTIFICATE_CATEGORY, (uint8_t *)&cat, sizeof cat), sizeof cat);
    assert_int_equal(cat, 2);
    assert_int_equal(read_bool(h, CKA_TOKEN), 1);
    assert_int_equal(read_bool(h, CKA_PRIVATE), 0);
    assert_int_equal(read_all(h, CKA_ID, buf, sizeof buf), 20);
    assert_memory_equal(buf, id, 20);
    assert_int_equal(read_all(h, CKA_LABEL, buf, sizeof buf), 7);
    assert_memory_equal(buf, "set-web", 7);
    CK_CERTIFICATE_TYPE ct = 99;
    read_all(h, CKA_CERTIFICATE_TYPE, (uint8_t *)&ct, sizeof ct);
    assert_int_equal(ct, CKC_X_509);

    /* Two-pass read. */
    size_t need = 0;
    assert_int_equal(cw_p11_read_attr(&fx.ctx, h, CKA_VALUE, NULL, 0, &need), CW_ERR_BUFFER_SMALL);
    assert_int_equal(need, len);
    assert_int_equal(cw_p11_read_attr(&fx.ctx, h, CKA_VALUE, buf, len - 1u, &need), CW_ERR_BUFFER_SMALL);
    assert_int_equal(need, len);
    /* A certificate has no CKA_APPLICATION: the token's answer. */
    assert_p11(cw_p11_read_attr(&fx.ctx, h, CKA_APPLICATION, buf, sizeof buf, &n), CKR_ATTRIBUTE_TYPE_INVALID);

    /* Find by class, label, ID; public certificates need no login. */
    assert_int_equal(cw_p11_logout(&fx.ctx), CW_OK);
    cw_p11_match_t m = {.has_class = true, .cls = CKO_CERTIFICATE};
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 4, &n), CW_OK);
    assert_int_equal(n, 2);
    m.label = "ca-1";
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 4, &n), CW_OK);
    assert_int_equal(n, 1);
    assert_true(found[0] == hca);
    m.label = NULL;
    m.id = id;
    m.id_len = sizeof id;
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 4, &n), CW_OK);
    assert_int_equal(n, 1);
    assert_true(found[0] == h);
    m.has_class = false;
    m.label = "set-web";
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 4, &n), CW_OK);
    assert_int_equal(n, 1);

    /* Destroy: gone from searches, handle dead. */
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);
    assert_int_equal(cw_p11_destroy(&fx.ctx, h), CW_OK);
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 4, &n), CW_OK);
    assert_int_equal(n, 0);
    assert_p11(cw_p11_read_attr(&fx.ctx, h, CKA_VALUE, buf, sizeof buf, &n), CKR_OBJECT_HANDLE_INVALID);
    assert_p11(cw_p11_destroy(&fx.ctx, h), CKR_OBJECT_HANDLE_INVALID);
    test_assert_arena_empty();
}

static void test_cert_malformed(void **state)
{
    (void)state;
    static uint8_t der[4096], bad[4100];
    size_t len = make_cert("leaf.der", "device.example", false, der, sizeof der);
    CK_OBJECT_HANDLE h;
    assert_int_equal(cw_p11_cert_create(&fx.ctx, der, len - 1u, "t", NULL, 0, 1, &h), CW_ERR_TRUNCATED);
    assert_int_equal(cw_p11_cert_create(&fx.ctx, der, 10, "t", NULL, 0, 1, &h), CW_ERR_TRUNCATED);
    memcpy(bad, der, len);
    bad[len] = 0;
    assert_int_equal(cw_p11_cert_create(&fx.ctx, bad, len + 1u, "t", NULL, 0, 1, &h), CW_ERR_MALFORMED);
    bad[0] = 0x31; /* SET, not SEQUENCE */
    assert_int_equal(cw_p11_cert_create(&fx.ctx, bad, len, "t", NULL, 0, 1, &h), CW_ERR_MALFORMED);
    assert_int_equal(cw_p11_cert_create(&fx.ctx, (const uint8_t *)"", 0, "t", NULL, 0, 1, &h), CW_ERR_TRUNCATED);
    cw_p11_match_t m = {.has_class = true, .cls = CKO_CERTIFICATE};
    size_t n = 9;
    assert_int_equal(cw_p11_find(&fx.ctx, &m, NULL, 0, &n), CW_OK);
    assert_int_equal(n, 0);
    test_assert_arena_empty();
}

static void test_data_objects(void **state)
{
    (void)state;
    static const uint8_t topo[] = {0x30, 0x03, 0x02, 0x01, 0x07};
    CK_OBJECT_HANDLE h[5], found[8];
    uint8_t buf[64];
    size_t n;
    char label[16];
    for (int i = 0; i < 5; i++) {
        snprintf(label, sizeof label, "assign-%d", i);
        assert_int_equal(cw_p11_data_create(&fx.ctx, "certwiz", label, true, topo, sizeof topo, &h[i]), CW_OK);
    }
    CK_OBJECT_HANDLE other;
    assert_int_equal(cw_p11_data_create(&fx.ctx, "someone-else", "assign-0", true, topo, 1, &other), CW_OK);

    assert_int_equal(read_bool(h[0], CKA_PRIVATE), 1);
    assert_int_equal(read_bool(h[0], CKA_TOKEN), 1);
    assert_int_equal(read_all(h[2], CKA_APPLICATION, buf, sizeof buf), 7);
    assert_memory_equal(buf, "certwiz", 7);
    assert_int_equal(read_all(h[2], CKA_VALUE, buf, sizeof buf), sizeof topo);
    assert_memory_equal(buf, topo, sizeof topo);
    assert_int_equal(read_all(h[2], CKA_LABEL, buf, sizeof buf), 8);
    assert_memory_equal(buf, "assign-2", 8);

    cw_p11_match_t m = {.has_class = true, .cls = CKO_DATA, .application = "certwiz"};
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 8, &n), CW_OK);
    assert_int_equal(n, 5);
    /* Two-pass find: a short buffer gets the first cap handles and the total. */
    memset(found, 0, sizeof found);
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 2, &n), CW_ERR_BUFFER_SMALL);
    assert_int_equal(n, 5);
    assert_true(found[0] != 0 && found[1] != 0 && found[2] == 0);
    assert_int_equal(cw_p11_find(&fx.ctx, &m, NULL, 0, &n), CW_ERR_BUFFER_SMALL);
    assert_int_equal(n, 5);
    m.label = "assign-0";
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 8, &n), CW_OK);
    assert_int_equal(n, 1);
    assert_true(found[0] == h[0]);
    m.application = NULL;
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 8, &n), CW_OK);
    assert_int_equal(n, 2);

    /* Private records are invisible when logged out. */
    assert_int_equal(cw_p11_logout(&fx.ctx), CW_OK);
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 8, &n), CW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cw_p11_login(&fx.ctx, PIN, PIN_LEN), CW_OK);

    /* Handles of private objects do not survive a logout on SoftHSM2: find them again. */
    m.label = NULL;
    m.application = "certwiz";
    assert_int_equal(cw_p11_find(&fx.ctx, &m, h, 5, &n), CW_OK);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cw_p11_destroy(&fx.ctx, h[i]), CW_OK);
    }
    assert_int_equal(cw_p11_find(&fx.ctx, &m, found, 8, &n), CW_OK);
    assert_int_equal(n, 0);
    /* An empty value is a valid record. */
    assert_int_equal(cw_p11_data_create(&fx.ctx, "certwiz", "empty", true, NULL, 0, &h[0]), CW_OK);
    assert_int_equal(cw_p11_read_attr(&fx.ctx, h[0], CKA_VALUE, buf, sizeof buf, &n), CW_OK);
    assert_int_equal(n, 0);
    test_assert_arena_empty();
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[64], b[64], zero[64] = {0};
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    assert_int_equal(cw_p11_random(&fx.ctx, a, sizeof a), CW_OK);
    assert_int_equal(cw_p11_random(&fx.ctx, b, sizeof b), CW_OK);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(cw_p11_random(&fx.ctx, NULL, 0), CW_OK);
    assert_int_equal(cw_p11_random(&fx.ctx, NULL, 4), CW_ERR_INVALID_ARG);
    test_assert_arena_empty();
}

int main(void)
{
    cw_arena_init();
    const struct CMUnitTest session_tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_token_info, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_open_by_uri, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_open_already_initialized, setup_bare, teardown),
        cmocka_unit_test(test_closed_context),
        cmocka_unit_test_setup_teardown(test_login_logout, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_login_wrong_pin, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_pin_never_locks_on_softhsm, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_pin_length_range, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_idle_logout, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_idle_logout_when_logout_fails, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_logged_out_use, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup_token, teardown),
    };
    const struct CMUnitTest key_tests[] = {
        cmocka_unit_test_setup_teardown(test_key_rsa2048, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_key_rsa3072, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_key_rsa4096, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_key_p256, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_key_p384, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_arguments, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_id_failure_destroys_pair, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_key_find_errors, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_decrypt_not_permitted, setup_login, teardown),
        cmocka_unit_test_teardown(test_token_lacks_mechanism, teardown),
        cmocka_unit_test_teardown(test_token_lacks_rsa_pkcs, teardown),
    };
    const struct CMUnitTest object_tests[] = {
        cmocka_unit_test_setup_teardown(test_cert_objects, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_cert_malformed, setup_login, teardown),
        cmocka_unit_test_setup_teardown(test_data_objects, setup_login, teardown),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("p11 session", session_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("p11 keys", key_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("p11 objects", object_tests, NULL, NULL);
    return failed == 0 ? 0 : 1;
}
