/*
 * test_p11_token.c: the token layer on every token certwiz meets: SoftHSM2 (default) and a TPM 2.0
 * through tpm2-pkcs11 (--tpm, under tests/lab/tpm-lab.sh run: swtpm behind tpm2-abrmd with
 * --max-transients=3, as /dev/tpmrm0 allows). One set of tests, no vendor branches in the code
 * under test; where the tokens answer differently the test says what each does.
 * Signatures are verified and data encrypted with mbedTLS from the exported public key; the
 * private keys' attributes are read back by OpenSC's pkcs11-tool (-O), a reader nobody here wrote.
 * Each test prints the token calls of the operations it times (cw_p11_calls).
 *
 * Run: build/host/asan/tests/test_p11_token              (SoftHSM2)
 *      tests/lab/tpm-lab.sh run build/host/asan/tests/test_p11_token --tpm
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
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/sha256.h"
#include "support/p11_token.h"
#include "support/test_board.h"

static p11_token_t tok;
static cw_p11_ctx ctx;

#define assert_p11(e, rv) assert_int_equal((long)(e), (long)CW_ERR_FROM_P11(rv))

static int setup(void **state)
{
    (void)state;
    if (p11_token_setup(&tok) != 0) {
        return -1;
    }
    return p11_token_open(&tok, &ctx, true);
}

static int teardown(void **state)
{
    (void)state;
    p11_token_teardown(&tok, &ctx);
    return 0;
}

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
    case CW_KEY_EC_P256: return "P-256";
    case CW_KEY_EC_P384: return "P-384";
    case CW_KEY_NONE: break;
    }
    return "?";
}

static int rng(void *p, unsigned char *out, size_t len)
{
    (void)p;
    FILE *f = fopen("/dev/urandom", "rb");
    size_t n = f != NULL ? fread(out, 1, len, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    return n == len ? 0 : -1;
}

static void keygen(cw_key_type t, const char *label, bool decrypt, cw_p11_key *k)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t c0 = cw_p11_calls();
    cw_err e = cw_p11_keygen(&ctx, t, label, decrypt, k);
    if (e != CW_OK) {
        fprintf(stderr, "    keygen %s %s: %s at %s\n", type_name(t), label, cw_err_name(e), cw_p11_last_call(&ctx));
    }
    assert_int_equal(e, CW_OK);
    fprintf(stderr, "    %s: keygen %s%s: %.0f ms, %u token calls\n", p11_token_name(), type_name(t),
            decrypt ? " (sign+decrypt)" : "", ms_since(&t0), (unsigned)(cw_p11_calls() - c0));
}

/* Parses the key's SubjectPublicKeyInfo with mbedTLS. */
static void public_key(const cw_p11_key *k, mbedtls_pk_context *pk)
{
    uint8_t spki[CW_P11_SPKI_MAX];
    size_t len = 0;
    assert_int_equal(cw_p11_pubkey_spki(&ctx, k, spki, sizeof spki, &len), CW_OK);
    mbedtls_pk_init(pk);
    assert_int_equal(mbedtls_pk_parse_public_key(pk, spki, len), 0);
}

/* Signs msg with the key in the token and verifies with mbedTLS. Returns the token calls. */
static unsigned sign_and_verify(const cw_p11_key *k, const char *msg)
{
    uint8_t sig[CW_P11_SIG_MAX], digest[32];
    size_t n = 0;
    uint32_t c0 = cw_p11_calls();
    cw_err e = cw_p11_sign(&ctx, k, CW_HASH_SHA256, (const uint8_t *)msg, strlen(msg), sig, sizeof sig, &n);
    if (e != CW_OK) {
        fprintf(stderr, "    sign %s: %s at %s\n", type_name(k->type), cw_err_name(e), cw_p11_last_call(&ctx));
    }
    assert_int_equal(e, CW_OK);
    unsigned calls = (unsigned)(cw_p11_calls() - c0);
    mbedtls_pk_context pk;
    public_key(k, &pk);
    assert_int_equal(mbedtls_sha256((const uint8_t *)msg, strlen(msg), digest, 0), 0);
    assert_int_equal(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, digest, sizeof digest, sig, n), 0);
    mbedtls_pk_free(&pk);
    return calls;
}

/* Removes a key that a failed operation touched. SoftHSM2 removes it. tpm2-pkcs11 1.9 keeps such
 * a key marked in use until C_Finalize and refuses C_DestroyObject (CKR_FUNCTION_FAILED): the
 * private half is refused first, so the pair stays whole (never a private key without its public
 * half); after cw_p11_relogin (which finalises) it goes. Prints which happened. */
static void destroy_after_failure(const cw_p11_key *k)
{
    cw_p11_key found;
    cw_err e = cw_p11_key_destroy(&ctx, k);
    fprintf(stderr, "    %s: destroy a key after a failed operation: %s\n", p11_token_name(), cw_err_name(e));
    if (e == CW_OK) {
        return;
    }
    assert_int_equal(cw_p11_key_find_by_id(&ctx, k->id, k->id_len, &found), CW_OK); /* both halves */
    assert_int_equal(cw_p11_relogin(&ctx, tok.pin, strlen(tok.pin)), CW_OK);
    assert_int_equal(cw_p11_key_find_by_id(&ctx, k->id, k->id_len, &found), CW_OK);
    assert_int_equal(cw_p11_key_destroy(&ctx, &found), CW_OK);
}

/* ---- key types ------------------------------------------------------------------------------ */

static void check_type(cw_key_type type)
{
    cw_p11_key k;
    char label[32];
    CK_MECHANISM_TYPE mech = 0;
    snprintf(label, sizeof label, "set-%s", type_name(type));
    keygen(type, label, false, &k);
    assert_int_equal(k.type, type);
    assert_int_equal(cw_p11_sign_mechanism(&ctx, type, CW_HASH_SHA256, &mech), CW_OK);
    unsigned calls = sign_and_verify(&k, "certwiz signs this");
    fprintf(stderr, "    %s: sign %s with mechanism 0x%lx: %u token calls\n", p11_token_name(), type_name(type),
            (unsigned long)mech, calls);
    assert_int_equal(calls, 2); /* C_SignInit + C_Sign: the mechanisms were read at keygen */
    /* a digest signed with the raw mechanism, where the token offers it */
    if (type == CW_KEY_EC_P256 || type == CW_KEY_EC_P384) {
        uint8_t d[32], sig[CW_P11_SIG_MAX];
        size_t n = 0;
        mbedtls_pk_context pk;
        assert_int_equal(mbedtls_sha256((const uint8_t *)"raw", 3, d, 0), 0);
        assert_int_equal(cw_p11_sign_digest(&ctx, &k, CW_HASH_SHA256, d, sizeof d, sig, sizeof sig, &n), CW_OK);
        public_key(&k, &pk);
        assert_int_equal(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, d, sizeof d, sig, n), 0);
        mbedtls_pk_free(&pk);
    }
    test_assert_arena_empty();
}

static void test_rsa2048(void **state) { (void)state; check_type(CW_KEY_RSA2048); }
static void test_rsa3072(void **state) { (void)state; check_type(CW_KEY_RSA3072); }
static void test_p256(void **state) { (void)state; check_type(CW_KEY_EC_P256); }
static void test_p384(void **state) { (void)state; check_type(CW_KEY_EC_P384); }

/* RSA-4096: SoftHSM2 makes it; the TPM does RSA up to 3072, and the refusal names the size and the
 * range before any key generation is tried. */
static void test_rsa4096_size(void **state)
{
    (void)state;
    cw_p11_key_range_t r;
    cw_p11_key k;
    cw_err e = cw_p11_key_size_check(&ctx, CW_KEY_RSA4096, &r);
    fprintf(stderr, "    %s: RSA-%lu: token range %lu..%lu bits: %s\n", p11_token_name(), r.bits, r.min, r.max,
            cw_err_name(e));
    assert_int_equal(r.bits, 4096);
    if (!p11_token_is_tpm()) {
        assert_int_equal(e, CW_OK);
        return;
    }
    assert_int_equal(e, CW_ERR_KEY_SIZE);
    assert_int_equal(r.max, 3072);
    assert_true(r.min <= 2048);
    uint32_t c0 = cw_p11_calls();
    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_RSA4096, "big", false, &k), CW_ERR_KEY_SIZE);
    assert_int_equal(cw_p11_calls() - c0, 0); /* answered from what the token said at the check */
    assert_int_equal(cw_p11_key_size_check(&ctx, CW_KEY_RSA3072, &r), CW_OK);
    assert_int_equal(cw_p11_key_size_check(&ctx, CW_KEY_EC_P384, &r), CW_OK);
    test_assert_arena_empty();
}

/* ---- decryption ------------------------------------------------------------------------------ */

static void test_decrypt(void **state)
{
    (void)state;
    cw_p11_key k;
    mbedtls_pk_context pk;
    uint8_t ct[256], pt[256];
    size_t ct_len = 0, n = 0;
    static const char secret[] = "the SCEP reply's content-encryption key";
    keygen(CW_KEY_RSA2048, "scep", true, &k);
    public_key(&k, &pk);
    assert_int_equal(mbedtls_rsa_pkcs1_encrypt(mbedtls_pk_rsa(pk), rng, NULL, sizeof secret - 1u,
                                               (const uint8_t *)secret, ct), 0);
    ct_len = mbedtls_pk_get_len(&pk);
    mbedtls_pk_free(&pk);
    uint32_t c0 = cw_p11_calls();
    assert_int_equal(cw_p11_decrypt(&ctx, &k, ct, ct_len, pt, sizeof pt, &n), CW_OK);
    fprintf(stderr, "    %s: decrypt RSA-2048: %u token calls\n", p11_token_name(), (unsigned)(cw_p11_calls() - c0));
    assert_int_equal(n, sizeof secret - 1u);
    assert_memory_equal(pt, secret, n);

    /* A ciphertext that is not one: the token's refusal, then the next decryption works. */
    uint8_t bad[256];
    memcpy(bad, ct, sizeof bad);
    bad[0] ^= 0x55u;
    bad[100] ^= 0x55u;
    cw_err e = cw_p11_decrypt(&ctx, &k, bad, ct_len, pt, sizeof pt, &n);
    fprintf(stderr, "    %s: decrypt garbage: %s\n", p11_token_name(), cw_err_name(e));
    assert_int_not_equal(e, CW_OK);
    assert_int_equal(cw_p11_decrypt(&ctx, &k, ct, ct_len, pt, sizeof pt, &n), CW_OK);
    assert_memory_equal(pt, secret, n);
    destroy_after_failure(&k);
    test_assert_arena_empty();
}

/* ---- few loaded objects ---------------------------------------------------------------------- */

/* /dev/tpmrm0 lets a connection hold 3 loaded objects (the lab: tpm2-abrmd --max-transients=3).
 * First: how many key pairs one login can make and use (tpm2-pkcs11 1.9 keeps each loaded until
 * logout, beside the token's primary key). Then four requests and two renewals (a new key, then
 * the old one removed) in one open session, with cw_p11_relogin after each, as a device that
 * holds its PIN (appliance login) does. */
static void test_four_keys_two_rollovers(void **state)
{
    (void)state;
    static const cw_key_type types[4] = {CW_KEY_EC_P256, CW_KEY_RSA2048, CW_KEY_EC_P384, CW_KEY_EC_P256};
    cw_p11_key k[4], next;
    char label[16];
    int fit = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t sig[CW_P11_SIG_MAX];
        size_t n;
        snprintf(label, sizeof label, "probe-%d", i);
        if (cw_p11_keygen(&ctx, types[i], label, false, &k[i]) != CW_OK ||
            cw_p11_sign(&ctx, &k[i], CW_HASH_SHA256, (const uint8_t *)"x", 1, sig, sizeof sig, &n) != CW_OK) {
            break;
        }
        fit++;
    }
    fprintf(stderr, "    %s: key pairs made and used in one login: %d%s\n", p11_token_name(), fit,
            fit < 4 ? " (then the token refused)" : " (of 4 tried)");
    assert_true(fit >= 2);
    assert_int_equal(cw_p11_relogin(&ctx, tok.pin, strlen(tok.pin)), CW_OK);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t c0 = cw_p11_calls();
    for (int i = 0; i < 4; i++) {
        snprintf(label, sizeof label, "set-%d", i);
        keygen(types[i], label, i == 1, &k[i]);
        sign_and_verify(&k[i], "request");
        assert_int_equal(cw_p11_relogin(&ctx, tok.pin, strlen(tok.pin)), CW_OK);
    }
    for (int i = 0; i < 2; i++) {
        cw_p11_key old;
        snprintf(label, sizeof label, "set-%d", i);
        keygen(types[i], label, i == 1, &next);
        sign_and_verify(&next, "renewal");
        assert_int_equal(cw_p11_key_find_by_id(&ctx, k[i].id, k[i].id_len, &old), CW_OK);
        cw_err e = cw_p11_key_destroy(&ctx, &old);
        if (e != CW_OK) {
            fprintf(stderr, "    destroy: %s at %s\n", cw_err_name(e), cw_p11_last_call(&ctx));
        }
        assert_int_equal(e, CW_OK);
        k[i] = next;
        assert_int_equal(cw_p11_relogin(&ctx, tok.pin, strlen(tok.pin)), CW_OK);
    }
    for (int i = 0; i < 4; i++) { /* every key still signs (handles found again after relogin) */
        cw_p11_key f;
        assert_int_equal(cw_p11_key_find_by_id(&ctx, k[i].id, k[i].id_len, &f), CW_OK);
        sign_and_verify(&f, "after");
    }
    fprintf(stderr, "    %s: 4 requests + 2 renewals + 4 signatures: %.0f ms, %u token calls\n", p11_token_name(),
            ms_since(&t0), (unsigned)(cw_p11_calls() - c0));
    test_assert_arena_empty();
}

/* ---- failures on the way --------------------------------------------------------------------- */

/* The real function list with one entry replaced (fault injection over the real token). */
static CK_FUNCTION_LIST faulty;
static CK_OBJECT_HANDLE refuse_destroy;

/* A C_Sign that fails without ending the operation: what tpm2-pkcs11 1.9 does after a TPM error
 * (the next C_SignInit then answers CKR_OPERATION_ACTIVE). */
static CK_RV fail_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig, CK_ULONG_PTR sl)
{
    (void)s;
    (void)d;
    (void)dl;
    (void)sig;
    (void)sl;
    return CKR_DEVICE_ERROR;
}

static CK_RV destroy_but_one(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    return h == refuse_destroy ? CKR_FUNCTION_FAILED : tok.fl->C_DestroyObject(s, h);
}

static void reopen_with(CK_FUNCTION_LIST *fl)
{
    cw_p11_uri_t u;
    char s[96];
    cw_p11_close(&ctx);
    snprintf(s, sizeof s, "pkcs11:token=%s", tok.label);
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
    assert_int_equal(cw_p11_open(&ctx, fl, &u), CW_OK);
    assert_int_equal(cw_p11_login(&ctx, tok.pin, strlen(tok.pin)), CW_OK);
}

static void test_failed_sign_then_sign(void **state)
{
    (void)state;
    cw_p11_key k, again;
    uint8_t sig[CW_P11_SIG_MAX];
    size_t n;
    faulty = *tok.fl;
    faulty.C_Sign = fail_sign;
    reopen_with(&faulty);
    keygen(CW_KEY_RSA2048, "failing", false, &k);
    assert_p11(cw_p11_sign(&ctx, &k, CW_HASH_SHA256, (const uint8_t *)"x", 1, sig, sizeof sig, &n),
               CKR_DEVICE_ERROR);
    assert_string_equal(cw_p11_last_call(&ctx), "C_Sign");
    assert_true(cw_p11_logged_in(&ctx));
    faulty.C_Sign = tok.fl->C_Sign;
    sign_and_verify(&k, "the next one works");
    assert_int_equal(cw_p11_key_find_by_id(&ctx, k.id, k.id_len, &again), CW_OK);
    destroy_after_failure(&again);

    /* A real refusal: an RSA key without decryption signing a bare digest (raw CKM_RSA_PKCS).
     * SoftHSM2 signs; the TPM refuses (it signs raw RSA with its decrypt primitive). Either way
     * the next signature works. */
    keygen(CW_KEY_RSA2048, "raw", false, &k);
    uint8_t d[32] = {1};
    cw_err e = cw_p11_sign_digest(&ctx, &k, CW_HASH_SHA256, d, sizeof d, sig, sizeof sig, &n);
    fprintf(stderr, "    %s: raw CKM_RSA_PKCS on a sign-only key: %s\n", p11_token_name(), cw_err_name(e));
    sign_and_verify(&k, "after the raw one");
    if (e == CW_OK) {
        assert_int_equal(cw_p11_key_destroy(&ctx, &k), CW_OK);
    } else {
        destroy_after_failure(&k);
    }
    test_assert_arena_empty();
}

/* The token refuses to remove the private key: the public half stays beside it. */
static void test_destroy_order(void **state)
{
    (void)state;
    cw_p11_key k, found;
    faulty = *tok.fl;
    faulty.C_DestroyObject = destroy_but_one;
    reopen_with(&faulty);
    keygen(CW_KEY_EC_P256, "order", false, &k);
    refuse_destroy = k.priv;
    assert_p11(cw_p11_key_destroy(&ctx, &k), CKR_FUNCTION_FAILED);
    assert_int_equal(cw_p11_key_find_by_id(&ctx, k.id, k.id_len, &found), CW_OK); /* both halves */
    refuse_destroy = CK_INVALID_HANDLE;
    uint32_t c0 = cw_p11_calls();
    assert_int_equal(cw_p11_key_destroy(&ctx, &found), CW_OK);
    fprintf(stderr, "    %s: key destroy: %u token calls\n", p11_token_name(), (unsigned)(cw_p11_calls() - c0));
    cw_p11_match_t m = {.id = k.id, .id_len = k.id_len};
    size_t n = 9;
    assert_int_equal(cw_p11_find(&ctx, &m, NULL, 0, &n), CW_OK);
    assert_int_equal(n, 0);
    test_assert_arena_empty();
}

/* A stale cw_p11_key whose handles now name other objects removes nothing. */
static void test_handle_reuse_guard(void **state)
{
    (void)state;
    cw_p11_key a, b, stale, found;
    keygen(CW_KEY_EC_P256, "a", false, &a);
    stale = a;
    assert_int_equal(cw_p11_key_destroy(&ctx, &a), CW_OK);
    keygen(CW_KEY_EC_P256, "b", false, &b);
    bool reused = b.priv == stale.priv || b.pub == stale.pub || b.priv == stale.pub || b.pub == stale.priv;
    fprintf(stderr, "    %s: a removed key's handles given to the next key: %s\n", p11_token_name(),
            reused ? "yes" : "no");
    cw_err e = cw_p11_key_destroy(&ctx, &stale);
    assert_true(reused ? e == CW_ERR_TOKEN_HANDLE_REUSED : e == CW_OK);
    /* the same, forced on any token: b's handles under a's name */
    stale.priv = b.priv;
    stale.pub = b.pub;
    assert_int_equal(cw_p11_key_destroy(&ctx, &stale), CW_ERR_TOKEN_HANDLE_REUSED);
    stale = b;
    stale.pub = b.priv; /* halves swapped: the class does not match */
    assert_int_equal(cw_p11_key_destroy(&ctx, &stale), CW_ERR_TOKEN_HANDLE_REUSED);
    assert_int_equal(cw_p11_key_find_by_id(&ctx, b.id, b.id_len, &found), CW_OK);
    sign_and_verify(&found, "b is whole");
    test_assert_arena_empty();
}

/* ---- login ----------------------------------------------------------------------------------- */

static void test_wrong_pin(void **state)
{
    (void)state;
    assert_int_equal(cw_p11_logout(&ctx), CW_OK);
    assert_p11(cw_p11_login(&ctx, "99999", 5), CKR_PIN_INCORRECT);
    assert_string_equal(cw_p11_last_call(&ctx), "C_Login");
    assert_false(cw_p11_logged_in(&ctx));
    assert_false(cw_p11_login_check(&ctx));
    assert_false(cw_p11_login_lost(&ctx));
    assert_int_equal(cw_p11_login(&ctx, tok.pin, strlen(tok.pin)), CW_OK);
    assert_true(cw_p11_login_check(&ctx));
    if (p11_token_is_tpm()) {
        /* The TPM's dictionary-attack lockout is one for the chip (the lab: 3 tries): wrong PINs
         * lock every PIN of every token, and C_Login says CKR_PIN_LOCKED, named as such. */
        assert_int_equal(system("tpm2_dictionarylockout --clear-lockout >/dev/null"), 0);
        assert_int_equal(cw_p11_logout(&ctx), CW_OK);
        cw_err e = CW_OK;
        for (int i = 0; i < 5 && e != CW_ERR_FROM_P11(CKR_PIN_LOCKED); i++) {
            e = cw_p11_login(&ctx, "99999", 5);
        }
        assert_p11(e, CKR_PIN_LOCKED);
        assert_string_equal(cw_err_name(e), "CKR_PIN_LOCKED");
        assert_p11(cw_p11_login(&ctx, tok.pin, strlen(tok.pin)), CKR_PIN_LOCKED);
        assert_false(cw_p11_logged_in(&ctx));
        assert_int_equal(system("tpm2_dictionarylockout --clear-lockout >/dev/null"), 0);
        assert_int_equal(cw_p11_login(&ctx, tok.pin, strlen(tok.pin)), CW_OK);
    }
    test_assert_arena_empty();
}

/* The token ends the session behind the layer's back (here: C_CloseAllSessions by someone else in
 * the process; a token restarted or removed answers alike). The next call says the login is lost,
 * status (cw_p11_logged_in, no token call) stops saying logged in, and a login starts again. */
static void test_login_lost(void **state)
{
    (void)state;
    cw_p11_key k;
    keygen(CW_KEY_EC_P256, "lost", false, &k);
    assert_int_equal(tok.fl->C_CloseAllSessions(ctx.slot), CKR_OK);
    assert_true(cw_p11_logged_in(&ctx)); /* nothing asked the token yet */
    uint8_t sig[CW_P11_SIG_MAX];
    size_t n;
    cw_err e = cw_p11_sign(&ctx, &k, CW_HASH_SHA256, (const uint8_t *)"x", 1, sig, sizeof sig, &n);
    fprintf(stderr, "    %s: sign after the session was closed: %s at %s\n", p11_token_name(), cw_err_name(e),
            cw_p11_last_call(&ctx));
    assert_int_equal(e, CW_ERR_LOGIN_LOST);
    assert_false(cw_p11_logged_in(&ctx));
    assert_true(cw_p11_login_lost(&ctx));
    assert_false(cw_p11_login_check(&ctx));
    /* a login opens a new session where the old one is gone */
    assert_int_equal(cw_p11_login(&ctx, tok.pin, strlen(tok.pin)), CW_OK);
    assert_false(cw_p11_login_lost(&ctx));
    assert_true(cw_p11_login_check(&ctx));
    cw_p11_key found;
    assert_int_equal(cw_p11_key_find_by_id(&ctx, k.id, k.id_len, &found), CW_OK);
    sign_and_verify(&found, "again");
    test_assert_arena_empty();
}

/* ---- token selection, call counts ------------------------------------------------------------- */

/* Two tokens of one module: by label each is found; a URI both match is ambiguous (every
 * tpm2-pkcs11 token has serial 0000000000000000; here both share manufacturer and model). */
static void test_token_by_label(void **state)
{
    (void)state;
    cw_p11_token_info_t ti, ti2;
    cw_p11_uri_t u;
    char s[128];
    assert_int_equal(cw_p11_token_info(&ctx, &ti), CW_OK);
    assert_string_equal(ti.label, tok.label);
    fprintf(stderr, "    %s: serial %s, manufacturer %s, model %s\n", p11_token_name(), ti.serial, ti.manufacturer,
            ti.model);
    cw_p11_close(&ctx);
    snprintf(s, sizeof s, "pkcs11:token=%s", tok.label2);
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
    assert_int_equal(cw_p11_open(&ctx, tok.fl, &u), CW_OK);
    assert_int_equal(cw_p11_token_info(&ctx, &ti2), CW_OK);
    assert_string_equal(ti2.label, tok.label2);
    cw_p11_close(&ctx);
    snprintf(s, sizeof s, "pkcs11:manufacturer=%s;model=%s", ti.manufacturer, ti.model);
    for (char *p = s; *p != '\0'; p++) {
        if (*p == ' ') {
            *p = '_'; /* replaced below: a URI has no spaces */
        }
    }
    char enc[160];
    size_t j = 0;
    for (const char *p = s; *p != '\0' && j + 4u < sizeof enc; p++) {
        if (*p == '_') {
            memcpy(enc + j, "%20", 3);
            j += 3;
        } else {
            enc[j++] = *p;
        }
    }
    enc[j] = '\0';
    assert_int_equal(cw_p11_uri_parse(enc, strlen(enc), &u), CW_OK);
    assert_int_equal(cw_p11_open(&ctx, tok.fl, &u), CW_ERR_AMBIGUOUS);
    if (strcmp(ti.serial, ti2.serial) == 0) {
        snprintf(s, sizeof s, "pkcs11:serial=%s", ti.serial);
        assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
        assert_int_equal(cw_p11_open(&ctx, tok.fl, &u), CW_ERR_AMBIGUOUS);
    }
    assert_int_equal(p11_token_open(&tok, &ctx, true), 0);
    test_assert_arena_empty();
}

/* The main loop's path with nothing to do makes no token call. */
static void test_idle_makes_no_calls(void **state)
{
    (void)state;
    cw_p11_calls_reset();
    for (uint32_t t = 0; t < 10000u; t += 5u) {
        (void)cw_p11_poll(&ctx, t);
        assert_true(cw_p11_logged_in(&ctx));
    }
    assert_int_equal(cw_p11_calls(), 0);
    cw_p11_set_idle_logout(&ctx, 60000);
    for (uint32_t t = 0; t < 10000u; t += 5u) {
        (void)cw_p11_poll(&ctx, t);
    }
    assert_int_equal(cw_p11_calls(), 0);
    test_assert_arena_empty();
}

/* Sensitive, never extractable, as OpenSC's pkcs11-tool reads them (a process of its own). */
static void test_attributes_by_pkcs11_tool(void **state)
{
    (void)state;
    cw_p11_key k;
    static char out[16384];
    keygen(CW_KEY_RSA2048, "tool-rsa", true, &k);
    keygen(CW_KEY_EC_P256, "tool-ec", false, &k);
    int rc = p11_token_tool(&tok, (unsigned long)ctx.slot, "-O --type privkey", out, sizeof out);
    if (rc != 0) {
        fprintf(stderr, "%s\n", out);
    }
    assert_int_equal(rc, 0);
    int keys = 0;
    for (const char *p = strstr(out, "Private Key Object"); p != NULL; p = strstr(p + 1, "Private Key Object")) {
        const char *access = strstr(p, "Access:");
        assert_non_null(access);
        const char *eol = strchr(access, '\n');
        char line[160];
        size_t n = eol != NULL ? (size_t)(eol - access) : strlen(access);
        n = n < sizeof line - 1u ? n : sizeof line - 1u;
        memcpy(line, access, n);
        line[n] = '\0';
        fprintf(stderr, "    %s: pkcs11-tool: %s\n", p11_token_name(), line);
        assert_non_null(strstr(line, "sensitive"));
        assert_non_null(strstr(line, "never extractable"));
        keys++;
    }
    if (keys != 2) {
        fprintf(stderr, "%s\n", out);
    }
    assert_int_equal(keys, 2);
    test_assert_arena_empty();
}

int main(int argc, char **argv)
{
    if (!p11_token_args(argc, argv)) {
        return 1;
    }
    cw_arena_init();
    fprintf(stderr, "test_p11_token on %s\n", p11_token_name());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rsa2048, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa3072, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p384, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa4096_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decrypt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_four_keys_two_rollovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_sign_then_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handle_reuse_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_by_label, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_makes_no_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attributes_by_pkcs11_tool, setup, teardown),
    };
    return cmocka_run_group_tests_name(p11_token_is_tpm() ? "p11 on the TPM" : "p11 on SoftHSM2", tests, NULL, NULL)
               == 0 ? 0 : 1;
}
