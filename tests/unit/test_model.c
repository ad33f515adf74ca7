/*
 * test_model.c: the role model's rules (cw_model.h) on a real SoftHSM2 token, without a pty:
 * assignment is atomic whatever step a power cut stops it at, an interrupted import is rolled
 * forward at the next boot, abandoned keys are pruned at login (and nothing certwiz did not make),
 * and the role table survives a restart.
 *
 * A power cut is the unit-test board's fault point longjmping out of the model at a named step
 * (cw_fault.h): nothing after it runs; the restart is cw_shutdown + cw_init on the same token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/core/cw_model.h"
#include "cw/core/cw_token.h"
#include "cw/cw_roles.h"
#include "support/appliance.h"
#include "support/test_board.h"

static appliance_t a;
static uint8_t csr[4096];
static uint8_t answer[8192];

static int setup(void **state)
{
    (void)state;
    return appliance_start(&a);
}

static int teardown(void **state)
{
    (void)state;
    appliance_stop(&a);
    return 0;
}

/* request `default` offline and import the CA's answer (its root confirmed). */
static void enrol_default(void)
{
    uint8_t root[32];
    size_t csr_len = 0;
    size_t n;

    appliance_root_sha256(&a, root);
    assert_int_equal(cw_roles_request_offline("default", csr, sizeof csr, &csr_len), CW_OK);
    n = appliance_answer(&a, csr, csr_len, answer, sizeof answer);
    assert_true(n > 0);
    assert_int_equal(cw_roles_import("default", answer, n, root, NULL), CW_OK);
}

/* The CKA_ID of the certificate role `Default` uses (20 bytes), or all zero without one. */
static void default_cert(uint8_t id[20], cw_role_state *state)
{
    cw_role_info_t info;
    assert_int_equal(cw_role_get("Default", &info), CW_OK);
    memset(id, 0, 20);
    memcpy(id, info.cert_id, info.cert_id_len);
    *state = info.state;
}

/* Private keys labelled set in the token. */
static size_t keys_of(const char *set)
{
    cw_p11_match_t m;
    CK_OBJECT_HANDLE h[16];
    size_t n = 0;
    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_PRIVATE_KEY;
    m.label = set;
    assert_int_equal(cw_p11_find(cw_token_session(), &m, h, 16, &n), CW_OK);
    return n;
}

static void test_assignment_is_atomic_at_every_fault_point(void **state)
{
    static const char *const points[] = {"import:cas-stored", "import:cert-stored", "roles:written",
                                         "import:assigned"};
    (void)state;
    enrol_default();
    for (size_t p = 0; p < sizeof points / sizeof points[0]; p++) {
        uint8_t before[20];
        uint8_t after[20];
        uint8_t root[32];
        cw_role_state st;
        size_t csr_len = 0;
        size_t n;
        jmp_buf cut;

        default_cert(before, &st);
        assert_int_equal(st, CW_ROLE_ASSIGNED);
        assert_int_equal(cw_roles_request_offline("default", csr, sizeof csr, &csr_len), CW_OK);
        n = appliance_answer(&a, csr, csr_len, answer, sizeof answer);
        appliance_root_sha256(&a, root);
        if (setjmp(cut) == 0) {
            test_board_cut_at(points[p], &cut);
            (void)cw_roles_import("default", answer, n, root, NULL);
            fail_msg("the import passed %s without being cut", points[p]);
        }
        appliance_restart(&a); /* the next boot: roll forward what was stored */
        default_cert(after, &st);
        assert_int_equal(st, CW_ROLE_ASSIGNED); /* never without a certificate */
        if (strcmp(points[p], "import:cas-stored") == 0) {
            /* cut before the new certificate was stored: the old one stays, the request waits */
            assert_memory_equal(after, before, 20);
            assert_int_equal(cw_model_pending("default", answer, sizeof answer, &(cw_pending_t){0}), CW_OK);
            assert_int_equal(cw_roles_import("default", answer, appliance_answer(&a, csr, csr_len, answer,
                                                                                  sizeof answer), NULL, NULL),
                             CW_OK);
        } else {
            /* the new certificate was stored: the boot finished the import */
            assert_memory_not_equal(after, before, 20);
            assert_int_equal(cw_model_pending("default", answer, sizeof answer, &(cw_pending_t){0}),
                             CW_ERR_NO_PENDING);
        }
        assert_int_equal(keys_of("default"), 1); /* the old key went with the old certificate */
    }
}

static void test_abandoned_keys_are_pruned_and_others_kept(void **state)
{
    cw_p11_key abandoned;
    cw_p11_key foreign;
    size_t csr_len = 0;
    (void)state;

    /* a key of the set with no request and no certificate (a cut after its generation), one
     * another program made, and the key of a real pending request */
    assert_int_equal(cw_p11_keygen(cw_token_session(), CW_KEY_EC_P256, "external", false, &abandoned), CW_OK);
    assert_int_equal(cw_p11_keygen(cw_token_session(), CW_KEY_EC_P256, "made-by-pkcs11-tool", false, &foreign), CW_OK);
    assert_int_equal(cw_roles_request_offline("oauth", csr, sizeof csr, &csr_len), CW_OK);
    assert_int_equal(keys_of("oauth"), 1);
    assert_int_equal(keys_of("external"), 1);
    cw_model_after_login(); /* what every login runs */
    assert_int_equal(keys_of("external"), 0);
    assert_int_equal(keys_of("made-by-pkcs11-tool"), 1);
    assert_int_equal(keys_of("oauth"), 1);
}

static void test_role_table_survives_a_restart(void **state)
{
    uint8_t id[20];
    uint8_t again[20];
    cw_role_state st;
    cw_cert_summary_t s;
    cw_role_info_t info;
    (void)state;

    enrol_default();
    default_cert(id, &st);
    /* point another set's role at `default`'s certificate, then restart */
    assert_int_equal(cw_model_assign("EdgeExternal", "default", &s), CW_OK);
    appliance_restart(&a);
    default_cert(again, &st);
    assert_memory_equal(again, id, 20);
    assert_int_equal(cw_role_get("EdgeExternal", &info), CW_OK);
    assert_string_equal(info.set, "default");
    assert_memory_equal(info.cert_id, id, 20);
    assert_int_equal(info.state, CW_ROLE_ASSIGNED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_assignment_is_atomic_at_every_fault_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_keys_are_pruned_and_others_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_table_survives_a_restart, setup, teardown),
    };
    return cmocka_run_group_tests_name("role model (a real SoftHSM2 token, no console)", tests, NULL, NULL);
}
