/*
 * test_store.c: certwiz's records in a real SoftHSM2 token, including what a power cut leaves
 * behind: two generations of a record, a record whose value does not decode.
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
#include "cw/pki/cw_store.h"
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

static size_t count_records(void)
{
    cw_p11_match_t m;
    CK_OBJECT_HANDLE h[64];
    size_t n = 0;
    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_DATA;
    m.application = CW_STORE_APPLICATION;
    assert_int_equal(cw_p11_find(&ctx, &m, h, 64, &n), CW_OK);
    return n;
}

static cw_err roles_valid(const uint8_t *v, size_t len, void *arg)
{
    cw_role_table_t t;
    (void)arg;
    return cw_role_table_decode(&t, v, len);
}

static void test_role_table_round_trip(void **state)
{
    (void)state;
    cw_role_table_t t;
    cw_role_table_t back;
    uint8_t der[2048];
    size_t len = 0;
    static const uint8_t id1[20] = {1, 2, 3};
    static const uint8_t id2[20] = {9, 9, 9};

    memset(&t, 0, sizeof t);
    assert_int_equal(cw_role_table_assign(&t, "Default", "web", id1, 20), CW_OK);
    assert_int_equal(cw_role_table_assign(&t, "EdgeExternal", "edge", id2, 20), CW_OK);
    assert_int_equal(cw_role_table_assign(&t, "Default", "edge", id2, 20), CW_OK); /* re-point */
    assert_int_equal(t.n, 2);
    assert_int_equal(cw_role_table_encode(&t, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_role_table_decode(&back, der, len), CW_OK);
    assert_int_equal(back.n, 2);
    assert_string_equal(cw_role_table_find(&back, "Default")->set, "edge");
    assert_memory_equal(cw_role_table_find(&back, "Default")->cert_id, id2, 20);
    assert_null(cw_role_table_find(&back, "Nope"));
    /* every truncation fails, none crashes */
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(cw_role_table_decode(&back, der, cut), CW_OK);
    }
    /* an empty table is a valid table */
    memset(&t, 0, sizeof t);
    assert_int_equal(cw_role_table_encode(&t, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_role_table_decode(&back, der, len), CW_OK);
    assert_int_equal(back.n, 0);
    /* a small buffer says so */
    assert_int_equal(cw_role_table_encode(&t, der, 1, &len), CW_ERR_BUFFER_SMALL);
}

static void test_pending_round_trip(void **state)
{
    (void)state;
    static const uint8_t csr[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    cw_pending_t p = {.key_id = {0xAA, 0xBB}, .key_id_len = 2, .created = 1764057600, .csr = csr,
                      .csr_len = sizeof csr};
    cw_pending_t back;
    uint8_t der[256];
    size_t len = 0;

    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_pending_decode(&back, der, len), CW_OK);
    assert_int_equal(back.key_id_len, 2);
    assert_int_equal(back.created, 1764057600);
    assert_int_equal(back.csr_len, sizeof csr);
    assert_memory_equal(back.csr, csr, sizeof csr);
    p.created = 0;
    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_pending_decode(&back, der, len), CW_OK);
    assert_int_equal(back.created, 0);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(cw_pending_decode(&back, der, cut), CW_OK);
    }
}

/* CW_PENDING_RECORD_MAX holds the largest record: a CSR of CW_CSR_DER_MAX bytes with every
 * optional field at its longest (the buffers that read records are sized by it). */
static void test_pending_record_max(void **state)
{
    (void)state;
    static uint8_t csr[CW_CSR_DER_MAX];
    static uint8_t der[CW_PENDING_RECORD_MAX + 64u];
    cw_pending_t p = {.key_id_len = CW_P11_KEY_ID_LEN, .created = INT64_MAX, .csr = csr,
                      .csr_len = sizeof csr, .online = true, .msg_type = 17, .signer_id_len = CW_P11_KEY_ID_LEN,
                      .held = true};
    cw_pending_t back;
    size_t len = 0;

    memset(p.key_id, 0xFF, sizeof p.key_id);
    memset(p.signer_id, 0xFF, sizeof p.signer_id);
    memset(p.txid, 'F', CW_PENDING_TXID_MAX);
    p.txid[CW_PENDING_TXID_MAX] = '\0';
    /* a CSR-shaped value: SEQUENCE with a 4-byte header over the rest */
    csr[0] = 0x30;
    csr[1] = 0x82;
    csr[2] = (uint8_t)((sizeof csr - 4u) >> 8);
    csr[3] = (uint8_t)((sizeof csr - 4u) & 0xFFu);
    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_OK);
    assert_true(len <= CW_PENDING_RECORD_MAX);
    assert_int_equal(cw_pending_decode(&back, der, len), CW_OK);
    assert_int_equal(back.csr_len, sizeof csr);
    /* and the margin is not much wider than needed */
    assert_true(CW_PENDING_RECORD_MAX - len < 64u);
}

/* An online (SCEP) request keeps messageType, transactionID and, for a renewal, the signing key;
 * an offline record still decodes as before (no online part). */
static void test_pending_online_round_trip(void **state)
{
    (void)state;
    static const uint8_t csr[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    cw_pending_t p = {.key_id = {0xAA}, .key_id_len = 1, .created = 7, .csr = csr, .csr_len = sizeof csr,
                      .online = true, .msg_type = 19, .txid = "ABCDEF0123"};
    cw_pending_t back;
    uint8_t der[256];
    size_t len = 0;

    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_pending_decode(&back, der, len), CW_OK);
    assert_true(back.online);
    assert_int_equal(back.msg_type, 19);
    assert_string_equal(back.txid, "ABCDEF0123");
    assert_int_equal(back.signer_id_len, 0);
    assert_memory_equal(back.csr, csr, sizeof csr);

    p.msg_type = 17;
    p.signer_id[0] = 0x42;
    p.signer_id_len = 20;
    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_pending_decode(&back, der, len), CW_OK);
    assert_int_equal(back.msg_type, 17);
    assert_int_equal(back.signer_id_len, 20);
    assert_int_equal(back.signer_id[0], 0x42);
    assert_false(back.held);
    p.held = true;
    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_pending_decode(&back, der, len), CW_OK);
    assert_true(back.held);
    assert_int_equal(back.signer_id_len, 20);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(cw_pending_decode(&back, der, cut), CW_OK);
    }
    /* an unknown messageType is refused */
    p.msg_type = 20;
    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_pending_decode(&back, der, len), CW_ERR_MALFORMED);
    /* an empty transactionID cannot be written */
    p.txid[0] = '\0';
    assert_int_equal(cw_pending_encode(&p, der, sizeof der, &len), CW_ERR_INVALID_ARG);
}

static void test_pending_in_the_token(void **state)
{
    (void)state;
    static const uint8_t csr[] = {0x30, 0x00};
    cw_pending_t p = {.key_id = {1}, .key_id_len = 20, .created = 5, .csr = csr, .csr_len = 2};
    cw_pending_t back;
    uint8_t buf[256];

    assert_int_equal(cw_pending_load(&ctx, "web", buf, sizeof buf, &back), CW_ERR_NO_PENDING);
    assert_int_equal(cw_pending_store(&ctx, "web", &p, buf, sizeof buf), CW_OK);
    assert_int_equal(cw_pending_load(&ctx, "web", buf, sizeof buf, &back), CW_OK);
    assert_int_equal(back.created, 5);
    assert_int_equal(cw_pending_load(&ctx, "edge", buf, sizeof buf, &back), CW_ERR_NO_PENDING);
    assert_int_equal(cw_pending_remove(&ctx, "web"), CW_OK);
    assert_int_equal(cw_pending_load(&ctx, "web", buf, sizeof buf, &back), CW_ERR_NO_PENDING);
    assert_int_equal(cw_pending_remove(&ctx, "web"), CW_OK);
}

static void write_table(const char *role, uint8_t id0, uint32_t *seq)
{
    cw_role_table_t t;
    uint8_t der[512];
    size_t len = 0;
    uint8_t id[20] = {id0};
    memset(&t, 0, sizeof t);
    assert_int_equal(cw_role_table_assign(&t, role, "set", id, 20), CW_OK);
    assert_int_equal(cw_role_table_encode(&t, der, sizeof der, &len), CW_OK);
    assert_int_equal(cw_store_seq_write(&ctx, "roles", der, len, seq), CW_OK);
}

static void test_sequenced_write_replaces(void **state)
{
    (void)state;
    uint32_t seq = 0;
    uint8_t buf[512];
    size_t len = 0;
    uint32_t got = 0;
    cw_role_table_t t;

    assert_int_equal(cw_store_seq_read(&ctx, "roles", roles_valid, NULL, buf, sizeof buf, &len, &got),
                     CW_ERR_NOT_FOUND);
    write_table("A", 1, &seq);
    write_table("B", 2, &seq);
    write_table("C", 3, &seq);
    assert_int_equal(seq, 3);
    assert_int_equal(count_records(), 1); /* each write removed the older one */
    assert_int_equal(cw_store_seq_read(&ctx, "roles", roles_valid, NULL, buf, sizeof buf, &len, &got), CW_OK);
    assert_int_equal(got, 3);
    assert_int_equal(cw_role_table_decode(&t, buf, len), CW_OK);
    assert_string_equal(t.a[0].role, "C");
}

/* What a cut between "write new" and "delete old" leaves: two records. The newer wins. */
static void test_two_generations_newer_wins(void **state)
{
    (void)state;
    uint32_t seq = 0;
    uint8_t buf[512];
    size_t len = 0;
    uint32_t got = 0;
    cw_role_table_t t;
    CK_OBJECT_HANDLE h;

    write_table("old", 1, &seq); /* certwiz.roles.1 */
    /* the cut: certwiz.roles.2 created, .1 still there */
    {
        cw_role_table_t n;
        uint8_t der[512];
        uint8_t id[20] = {2};
        memset(&n, 0, sizeof n);
        assert_int_equal(cw_role_table_assign(&n, "new", "set", id, 20), CW_OK);
        assert_int_equal(cw_role_table_encode(&n, der, sizeof der, &len), CW_OK);
        assert_int_equal(cw_p11_data_create(&ctx, CW_STORE_APPLICATION, "certwiz.roles.2", false, der, len, &h), CW_OK);
    }
    assert_int_equal(count_records(), 2);
    assert_int_equal(cw_store_seq_read(&ctx, "roles", roles_valid, NULL, buf, sizeof buf, &len, &got), CW_OK);
    assert_int_equal(got, 2);
    assert_int_equal(cw_role_table_decode(&t, buf, len), CW_OK);
    assert_string_equal(t.a[0].role, "new");
    assert_int_equal(count_records(), 1); /* the older one was cleaned up */
}

/* A value that does not decode is not taken for a whole record: the older one wins. */
static void test_half_made_record_is_ignored(void **state)
{
    (void)state;
    uint32_t seq = 0;
    uint8_t buf[512];
    size_t len = 0;
    uint32_t got = 0;
    cw_role_table_t t;
    CK_OBJECT_HANDLE h;
    static const uint8_t half[] = {0x30, 0x40, 0x30, 0x10, 0x0c};

    write_table("whole", 7, &seq);
    assert_int_equal(cw_p11_data_create(&ctx, CW_STORE_APPLICATION, "certwiz.roles.2", false, half, sizeof half, &h), CW_OK);
    assert_int_equal(cw_p11_data_create(&ctx, CW_STORE_APPLICATION, "certwiz.roles.x", false, half, sizeof half, &h), CW_OK);
    assert_int_equal(cw_store_seq_read(&ctx, "roles", roles_valid, NULL, buf, sizeof buf, &len, &got), CW_OK);
    assert_int_equal(got, 1);
    assert_int_equal(cw_role_table_decode(&t, buf, len), CW_OK);
    assert_string_equal(t.a[0].role, "whole");
    /* .2 removed; the label that is not ours ("x") is left alone */
    assert_int_equal(count_records(), 2);
}

static void test_kinds_do_not_mix(void **state)
{
    (void)state;
    uint32_t rseq = 0;
    uint32_t tseq = 0;
    uint8_t buf[512];
    size_t len = 0;
    uint32_t got = 0;
    static const uint8_t blob[] = {0x30, 0x00};

    write_table("r", 1, &rseq);
    assert_int_equal(cw_store_seq_write(&ctx, "topology", blob, sizeof blob, &tseq), CW_OK);
    assert_int_equal(cw_store_seq_write(&ctx, "topology", blob, sizeof blob, &tseq), CW_OK);
    assert_int_equal(count_records(), 2);
    assert_int_equal(cw_store_seq_read(&ctx, "topology", NULL, NULL, buf, sizeof buf, &len, &got), CW_OK);
    assert_int_equal(got, 2);
    assert_int_equal(cw_store_seq_read(&ctx, "roles", roles_valid, NULL, buf, sizeof buf, &len, &got), CW_OK);
    assert_int_equal(got, 1);
}

static void test_records_are_readable_before_login(void **state)
{
    (void)state;
    uint32_t seq = 0;
    uint8_t buf[64];
    size_t len = 0;
    uint32_t got = 0;

    write_table("public", 1, &seq);
    assert_int_equal(cw_p11_logout(&ctx), CW_OK);
    /* a device that boots reads its roles before anyone logs in */
    assert_int_equal(cw_store_seq_read(&ctx, "roles", roles_valid, NULL, buf, sizeof buf, &len, &got), CW_OK);
    assert_int_equal(got, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_table_round_trip),
        cmocka_unit_test(test_pending_round_trip),
        cmocka_unit_test(test_pending_online_round_trip),
        cmocka_unit_test(test_pending_record_max),
        cmocka_unit_test_setup_teardown(test_pending_in_the_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequenced_write_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_generations_newer_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_made_record_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kinds_do_not_mix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records_are_readable_before_login, setup, teardown),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("store (SoftHSM2)", tests, NULL, NULL);
}
