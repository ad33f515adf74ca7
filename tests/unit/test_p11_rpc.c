/*
 * test_p11_rpc.c: the RPC client (pkcs11/cw_p11_rpc.c) against a real `p11-kit remote` serving a
 * fresh SoftHSM2 token over pipes: the PC side of the Cortex-M board's UART1, here on the host
 * (64-bit; the board's 32-bit build meets the same server in tests/system/test_mps2.py).
 *
 * The token layer (cw_p11_*) runs on top where it has the operation; the error paths are driven
 * with C_* calls through the function list, as the token layer would make them. Each test prints
 * the bytes and calls of what it did on the wire (cw_p11_rpc_stats).
 *
 * Run: build/host/asan/tests/test_p11_rpc
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
#include "cw/core/cw_token.h"
#include "hal_token.h"
#include "cw_p11.h"
#include "cw_p11_rpc.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "support/p11_rpc_pipe.h"
#include "support/p11_softhsm.h"
#include "support/test_board.h"
#include "../fuzz/p11_rpc_drive.h"

static p11_softhsm_t hsm;
static p11_rpc_pipe_t server;
static cw_p11_ctx ctx;
static CK_FUNCTION_LIST *fl;

#define assert_p11(e, rv) assert_int_equal((long)(e), (long)CW_ERR_FROM_P11(rv))

static long ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void wire(const char *what)
{
    cw_p11_rpc_stats_t s;
    cw_p11_rpc_stats(&s);
    fprintf(stderr, "  wire: %-28s %3lu calls, %6lu bytes out, %6lu bytes in\n", what, (unsigned long)s.calls,
            (unsigned long)s.bytes_out, (unsigned long)s.bytes_in);
    cw_p11_rpc_stats_reset();
}

/* A fresh token, a fresh server, the client linked to it, a session open (not logged in). */
static int setup(void **state)
{
    (void)state;
    if (p11_softhsm_setup(&hsm, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, P11_SOFTHSM_PIN, NULL) != 0 ||
        p11_rpc_pipe_start(&server) != 0) {
        return -1;
    }
    cw_p11_rpc_init(&server.link);
    fl = cw_p11_rpc_function_list();
    cw_err e = cw_p11_open(&ctx, fl, NULL);
    if (e != CW_OK) {
        fprintf(stderr, "open over RPC: %s (%s; link: %s)\n", cw_err_name(e), cw_p11_last_call(&ctx),
                cw_p11_rpc_why());
        return -1;
    }
    wire("open (handshake .. session)");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cw_p11_close(&ctx);
    p11_rpc_pipe_kill(&server);
    p11_softhsm_teardown(&hsm);
    return 0;
}

static void login(void)
{
    assert_int_equal(cw_p11_login(&ctx, P11_SOFTHSM_PIN, strlen(P11_SOFTHSM_PIN)), CW_OK);
}

/* The signature checked with mbedTLS against the public key the token exports. */
static void assert_verifies(const cw_p11_key *key, const uint8_t *msg, size_t len, const uint8_t *sig, size_t slen)
{
    uint8_t spki[CW_P11_SPKI_MAX], hash[32];
    size_t n = 0;
    mbedtls_pk_context pk;
    assert_int_equal(cw_p11_pubkey_spki(&ctx, key, spki, sizeof spki, &n), CW_OK);
    mbedtls_pk_init(&pk);
    assert_int_equal(mbedtls_pk_parse_public_key(&pk, spki, n), 0);
    assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), msg, len, hash), 0);
    assert_int_equal(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, slen), 0);
    mbedtls_pk_free(&pk);
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void test_login_and_wrong_pin(void **state)
{
    (void)state;
    assert_p11(cw_p11_login(&ctx, "9999", 4), CKR_PIN_INCORRECT);
    assert_false(cw_p11_logged_in(&ctx));
    wire("wrong PIN");
    login();
    assert_true(cw_p11_login_check(&ctx)); /* C_GetSessionInfo over the wire */
    wire("login + session info");
    assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_READY); /* a token error leaves the link up */
}

static void keypair_sign(cw_key_type type, const char *label)
{
    cw_p11_key key;
    static const uint8_t msg[] = "certwiz over p11-kit RPC";
    uint8_t sig[CW_P11_SIG_MAX];
    size_t slen = 0;

    login();
    cw_p11_rpc_stats_reset();
    assert_int_equal(cw_p11_keygen(&ctx, type, label, type == CW_KEY_RSA2048, &key), CW_OK);
    wire(type == CW_KEY_RSA2048 ? "keygen RSA-2048" : "keygen P-256");
    assert_int_equal(cw_p11_sign(&ctx, &key, CW_HASH_SHA256, msg, sizeof msg, sig, sizeof sig, &slen), CW_OK);
    wire(type == CW_KEY_RSA2048 ? "sign RSA-2048" : "sign P-256");
    assert_verifies(&key, msg, sizeof msg, sig, slen);

    /* found again by its ID, as certwiz does after a reboot */
    cw_p11_key again;
    assert_int_equal(cw_p11_key_find_by_id(&ctx, key.id, key.id_len, &again), CW_OK);
    assert_int_equal(again.priv, key.priv);
    assert_int_equal(cw_p11_key_destroy(&ctx, &key), CW_OK);
    assert_int_equal(cw_p11_key_find_by_id(&ctx, key.id, key.id_len, &again), CW_ERR_NOT_FOUND);
    test_assert_arena_empty();
}

static void test_rsa_keypair_sign(void **state)
{
    (void)state;
    keypair_sign(CW_KEY_RSA2048, "rpc-rsa");
}

static void test_ec_keypair_sign(void **state)
{
    (void)state;
    keypair_sign(CW_KEY_EC_P256, "rpc-ec");
}

/* The error paths of the wire: answers inside normal replies (GetAttributeValue's trailing CK_RV,
 * C_Sign's "absent, length"), error frames (bad handles), none of which break the link. */
static void test_error_answers(void **state)
{
    (void)state;
    cw_p11_key key;
    CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
    uint8_t buf[512];
    CK_ULONG n;

    login();
    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_RSA2048, "rpc-errors", false, &key), CW_OK);

    /* a private key's secret: CKR_ATTRIBUTE_SENSITIVE, length unavailable */
    CK_ATTRIBUTE secret = {CKA_PRIVATE_EXPONENT, buf, sizeof buf};
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, key.priv, &secret, 1), CKR_ATTRIBUTE_SENSITIVE);
    assert_true(secret.ulValueLen == CK_UNAVAILABLE_INFORMATION);
    secret.pValue = NULL;
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, key.priv, &secret, 1), CKR_ATTRIBUTE_SENSITIVE);

    /* an attribute read into too small a buffer, then measured, then read */
    CK_ATTRIBUTE mod = {CKA_MODULUS, buf, 16};
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, key.pub, &mod, 1), CKR_BUFFER_TOO_SMALL);
    assert_true(mod.ulValueLen == CK_UNAVAILABLE_INFORMATION);
    mod.pValue = NULL;
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, key.pub, &mod, 1), CKR_OK);
    assert_int_equal(mod.ulValueLen, 256);
    mod.pValue = buf;
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, key.pub, &mod, 1), CKR_OK);
    assert_int_equal(mod.ulValueLen, 256);
    assert_true(buf[0] & 0x80u); /* a 2048-bit modulus has its top bit set */

    /* CK_ULONG and CK_BBOOL attributes come back at this CPU's width */
    CK_ULONG bits = 0, cls = 0;
    CK_BBOOL sensitive = CK_FALSE;
    CK_ATTRIBUTE three[] = {{CKA_MODULUS_BITS, &bits, sizeof bits},
                            {CKA_CLASS, &cls, sizeof cls},
                            {CKA_SENSITIVE, &sensitive, sizeof sensitive}};
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, key.priv, &three[1], 2), CKR_OK);
    assert_int_equal(cls, CKO_PRIVATE_KEY);
    assert_int_equal(sensitive, CK_TRUE);
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, key.pub, three, 1), CKR_OK);
    assert_int_equal(bits, 2048);
    assert_int_equal(three[0].ulValueLen, sizeof(CK_ULONG));

    /* C_Sign into too small a buffer: BUFFER_TOO_SMALL and the length; the operation goes on */
    assert_int_equal(fl->C_SignInit(ctx.session, &mech, key.priv), CKR_OK);
    n = 10;
    assert_int_equal(fl->C_Sign(ctx.session, (CK_BYTE_PTR) "abc", 3, buf, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 256);
    n = 0;
    assert_int_equal(fl->C_Sign(ctx.session, (CK_BYTE_PTR) "abc", 3, NULL, &n), CKR_OK);
    assert_int_equal(n, 256);
    n = sizeof buf;
    assert_int_equal(fl->C_Sign(ctx.session, (CK_BYTE_PTR) "abc", 3, buf, &n), CKR_OK);
    assert_int_equal(n, 256);

    /* bad handles: the token's error frame; the link stays up */
    CK_RV rv = fl->C_SignInit(ctx.session, &mech, 0xdead); /* SoftHSM2 2.6 says OBJECT_ */
    assert_true(rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(fl->C_DestroyObject(ctx.session, 0xdead), CKR_OBJECT_HANDLE_INVALID);
    CK_ATTRIBUTE label = {CKA_LABEL, buf, sizeof buf};
    assert_int_equal(fl->C_GetAttributeValue(ctx.session, 0xdead, &label, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(fl->C_CloseSession(0xbeef), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_READY);

    /* a mechanism with parameters is refused before anything is sent */
    CK_MECHANISM pss = {CKM_RSA_PKCS_PSS, buf, 24};
    cw_p11_rpc_stats_reset();
    assert_int_equal(fl->C_SignInit(ctx.session, &pss, key.priv), CKR_MECHANISM_PARAM_INVALID);
    cw_p11_rpc_stats_t st;
    cw_p11_rpc_stats(&st);
    assert_int_equal(st.bytes_out, 0);

    assert_int_equal(cw_p11_key_destroy(&ctx, &key), CW_OK);
    test_assert_arena_empty();
}

static void test_data_objects_and_random(void **state)
{
    (void)state;
    static const uint8_t value[] = {0x30, 0x03, 0x02, 0x01, 0x07};
    CK_OBJECT_HANDLE h = 0, found[4];
    size_t n = 0;
    uint8_t back[16];
    cw_p11_match_t m;

    login();
    cw_p11_rpc_stats_reset();
    assert_int_equal(cw_p11_data_create(&ctx, "certwiz", "certwiz.rpc.1", true, value, sizeof value, &h), CW_OK);
    wire("create data object");
    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_DATA;
    m.label = "certwiz.rpc.1";
    m.application = "certwiz";
    assert_int_equal(cw_p11_find(&ctx, &m, found, 4, &n), CW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(found[0], h);
    assert_int_equal(cw_p11_read_attr(&ctx, h, CKA_VALUE, back, sizeof back, &n), CW_OK);
    assert_int_equal(n, sizeof value);
    assert_memory_equal(back, value, sizeof value);
    assert_int_equal(cw_p11_read_attr(&ctx, h, CKA_VALUE, back, 2, &n), CW_ERR_BUFFER_SMALL);
    assert_int_equal(cw_p11_destroy(&ctx, h), CW_OK);
    assert_int_equal(cw_p11_find(&ctx, &m, found, 4, &n), CW_OK);
    assert_int_equal(n, 0);

    uint8_t r1[32], r2[32];
    cw_p11_rpc_stats_reset();
    assert_int_equal(cw_p11_random(&ctx, r1, sizeof r1), CW_OK);
    wire("random 32 bytes");
    assert_int_equal(cw_p11_random(&ctx, r2, sizeof r2), CW_OK);
    assert_memory_not_equal(r1, r2, sizeof r1);
    test_assert_arena_empty();
}

/* The server killed mid-session: the next call gets CKR_DEVICE_ERROR at once (a pipe sees EOF;
 * a UART sees silence until CW_P11_RPC_REPLY_MS), and so does every call after it, until a new
 * server and C_Initialize; then the token is there again with what it held. */
static void test_link_killed(void **state)
{
    (void)state;
    static const uint8_t value[] = {1, 2, 3};
    CK_OBJECT_HANDLE h = 0;
    uint8_t rnd[8];

    login();
    assert_int_equal(cw_p11_data_create(&ctx, "certwiz", "certwiz.rpc.kept", true, value, sizeof value, &h), CW_OK);
    p11_rpc_pipe_kill(&server);
    long t0 = ms_now();
    assert_p11(cw_p11_random(&ctx, rnd, sizeof rnd), CKR_DEVICE_ERROR);
    assert_true(ms_now() - t0 < 2000);
    assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_BROKEN);
    assert_true(cw_p11_rpc_why()[0] != '\0');
    fprintf(stderr, "  link broken: %s\n", cw_p11_rpc_why());
    /* still broken, without touching the link */
    cw_p11_rpc_stats_reset();
    assert_p11(cw_p11_login(&ctx, P11_SOFTHSM_PIN, strlen(P11_SOFTHSM_PIN)), CKR_DEVICE_ERROR);
    cw_p11_rpc_stats_t st;
    cw_p11_rpc_stats(&st);
    assert_int_equal(st.bytes_out, 0);

    /* a new server; close (no bytes on a broken link) and open again: a fresh handshake */
    cw_p11_close(&ctx);
    /* the same link object with the new pipes behind it, as a board's UART1 stays the same */
    assert_int_equal(p11_rpc_pipe_start(&server), 0);
    assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_BROKEN);
    assert_int_equal(cw_p11_open(&ctx, fl, NULL), CW_OK);
    login();
    uint8_t back[8];
    size_t n = 0;
    cw_p11_match_t m;
    memset(&m, 0, sizeof m);
    m.label = "certwiz.rpc.kept";
    assert_int_equal(cw_p11_find(&ctx, &m, &h, 1, &n), CW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cw_p11_read_attr(&ctx, h, CKA_VALUE, back, sizeof back, &n), CW_OK);
    assert_memory_equal(back, value, sizeof value);
    test_assert_arena_empty();
}

/* The core's token session over the link (cw_token.c): the server killed mid-session, a command
 * gets CKR_DEVICE_ERROR; the next login, with a server back on the link, opens the token afresh
 * and succeeds (issue 19's link loss, as the board's `login` meets it). */
static void test_core_login_reconnects(void **state)
{
    (void)state;
    hal_token_t t = {fl, NULL, 0};
    uint8_t rnd[4];

    cw_p11_close(&ctx);
    test_board_set_token(&t);
    assert_int_equal(cw_token_init(NULL, NULL, NULL), CW_OK);
    assert_int_equal(cw_token_login(P11_SOFTHSM_PIN, strlen(P11_SOFTHSM_PIN)), CW_OK);
    p11_rpc_pipe_kill(&server);
    assert_p11(cw_p11_random(cw_token_session(), rnd, sizeof rnd), CKR_DEVICE_ERROR);
    /* nothing behind the link yet: the login says so, the link stays down */
    assert_p11(cw_token_login(P11_SOFTHSM_PIN, strlen(P11_SOFTHSM_PIN)), CKR_DEVICE_ERROR);
    /* the server is back: the next login reconnects */
    assert_int_equal(p11_rpc_pipe_start(&server), 0);
    assert_int_equal(cw_token_login(P11_SOFTHSM_PIN, strlen(P11_SOFTHSM_PIN)), CW_OK);
    assert_int_equal(cw_p11_random(cw_token_session(), rnd, sizeof rnd), CW_OK);
    assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_READY);
    cw_token_shutdown();
    test_board_set_token(NULL);
    test_assert_arena_empty();
}

/* The same client recovers on the same link object once the far end is back: C_Finalize on a
 * broken link is quiet, C_Initialize handshakes again. */
static void test_reinitialise_after_break(void **state)
{
    (void)state;
    cw_p11_close(&ctx);
    /* a server that dies after the handshake: the link breaks in C_Initialize's reply */
    p11_rpc_pipe_kill(&server);
    char *argv[] = {"sh", "-c", "head -c 1 >/dev/null; printf '\\000'; exec sleep 0.2", NULL};
    assert_int_equal(p11_rpc_pipe_spawn(&server, argv), 0);
    cw_p11_rpc_init(&server.link);
    assert_int_equal(fl->C_Initialize(NULL), CKR_DEVICE_ERROR);
    assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_BROKEN);
    assert_int_equal(fl->C_Finalize(NULL), CKR_OK);
    p11_rpc_pipe_kill(&server);

    assert_int_equal(p11_rpc_pipe_start(&server), 0);
    cw_p11_rpc_init(&server.link);
    assert_int_equal(cw_p11_open(&ctx, fl, NULL), CW_OK);
    login();
}

/* Nothing behind the link: the handshake gives up within CW_P11_RPC_HANDSHAKE_MS. */
static void test_nothing_answers(void **state)
{
    (void)state;
    p11_rpc_pipe_t mute;
    char *argv[] = {"sleep", "5", NULL};
    assert_int_equal(p11_rpc_pipe_spawn(&mute, argv), 0);
    cw_p11_rpc_init(&mute.link);
    long t0 = ms_now();
    assert_int_equal(cw_p11_rpc_connect(), CKR_DEVICE_ERROR);
    long took = ms_now() - t0;
    assert_true(took >= (long)CW_P11_RPC_HANDSHAKE_MS - 10 && took < (long)CW_P11_RPC_HANDSHAKE_MS + 500);
    assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_DOWN);
    fprintf(stderr, "  no server: %s after %ld ms\n", cw_p11_rpc_why(), took);
    cw_p11_ctx c2;
    assert_int_equal(cw_p11_open(&c2, fl, NULL), CW_ERR_FROM_P11(CKR_DEVICE_ERROR));
    p11_rpc_pipe_kill(&mute);
}

/* A reply that is not p11-kit's: the link breaks with a reason, the call answers DEVICE_ERROR. */
static void test_garbage_reply(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *printf_arg; /* after the version byte */
    } cases[] = {
        {"wrong call code", "\\000\\000\\000\\011\\000\\000\\000\\000\\000\\000\\000\\010"},
        {"body too short", "\\000\\000\\000\\001\\000\\000\\000\\000\\000\\000\\000\\002xx"},
        {"other call id", "\\000\\000\\000\\001\\000\\000\\000\\000\\000\\000\\000\\010\\000\\000\\000\\011\\000\\000\\000\\000"},
        {"stops mid-body", "\\000\\000\\000\\001\\000\\000\\000\\000\\000\\000\\000\\100\\000\\000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        p11_rpc_pipe_t fake;
        char script[256];
        snprintf(script, sizeof script, "head -c 1 >/dev/null; printf '\\000%s'; exec sleep 3", cases[i].printf_arg);
        char *argv[] = {"sh", "-c", script, NULL};
        assert_int_equal(p11_rpc_pipe_spawn(&fake, argv), 0);
        cw_p11_rpc_init(&fake.link);
        long t0 = ms_now();
        assert_int_equal(fl->C_Initialize(NULL), CKR_DEVICE_ERROR);
        assert_int_equal(cw_p11_rpc_state(), CW_P11_RPC_BROKEN);
        fprintf(stderr, "  %s: %s (%ld ms)\n", cases[i].name, cw_p11_rpc_why(), ms_now() - t0);
        assert_int_equal(fl->C_GetSlotList(CK_TRUE, NULL, &(CK_ULONG){0}), CKR_DEVICE_ERROR);
        p11_rpc_pipe_kill(&fake);
    }
}

/* The fuzz target's conversation (p11_rpc_drive.h) against the real server: every call answers
 * as written there. With CW_RPC_SEED_DIR set, what the link received is written there as
 * p11-kit-0.24.1-softhsm2.bin, the fuzz target's seed. */
static FILE *capture;

static size_t capturing_recv(void *arg, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    size_t n = server.link.recv(arg, buf, len, timeout_ms);
    if (capture != NULL && n > 0u) {
        fwrite(buf, 1, n, capture);
    }
    return n;
}

static void test_drive_conversation(void **state)
{
    (void)state;
    char path[512];
    const char *dir = getenv("CW_RPC_SEED_DIR");
    assert_int_equal(p11_softhsm_setup(&hsm, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, P11_SOFTHSM_PIN, NULL), 0);
    assert_int_equal(p11_rpc_pipe_start(&server), 0);
    cw_p11_rpc_link_t tee = server.link;
    tee.recv = capturing_recv;
    if (dir != NULL) {
        snprintf(path, sizeof path, "%s/p11-kit-0.24.1-softhsm2.bin", dir);
        capture = fopen(path, "wb");
        assert_non_null(capture);
    }
    cw_p11_rpc_init(&tee);
    cw_p11_rpc_stats_reset();
    int ok = p11_rpc_drive();
    if (ok != P11_RPC_DRIVE_CALLS) {
        fprintf(stderr, "  p11_rpc_drive.h:%d answered otherwise (link: %s)\n", p11_rpc_drive_first_miss,
                cw_p11_rpc_why());
    }
    assert_int_equal(ok, P11_RPC_DRIVE_CALLS);
    wire("the fuzz conversation");
    if (capture != NULL) {
        fclose(capture);
        capture = NULL;
    }
    p11_rpc_pipe_kill(&server);
    p11_softhsm_teardown(&hsm);
}

int main(void)
{
    cw_arena_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_and_wrong_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa_keypair_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ec_keypair_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_objects_and_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reinitialise_after_break, setup, teardown),
        cmocka_unit_test_setup_teardown(test_core_login_reconnects, setup, teardown),
        cmocka_unit_test(test_nothing_answers),
        cmocka_unit_test(test_garbage_reply),
        cmocka_unit_test(test_drive_conversation),
    };
    return cmocka_run_group_tests_name("p11 over p11-kit RPC (" CW_P11_RPC_WIRE_NAME ")", tests, NULL, NULL) == 0 ? 0
                                                                                                              : 1;
}
