/*
 * test_appliance.c: a tiny appliance built against certwiz's integrator API alone (cw.h,
 * cw_roles.h): no console, the PIN from the appliance, a set enrolled offline, the CA's answer
 * imported, the role read back, and the events its services would get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/cw.h"
#include "cw/cw_roles.h"
#include "support/appliance.h"
#include "support/test_board.h"

#define EVENTS_MAX 16

static struct {
    cw_event_type type;
    char role[40];
    char set[40];
    uint32_t old_gen, new_gen;
} events[EVENTS_MAX];
static size_t nevents;

static void on_event(const cw_event_t *ev, void *arg)
{
    (void)arg;
    assert_true(nevents < EVENTS_MAX);
    events[nevents].type = ev->type;
    (void)snprintf(events[nevents].role, sizeof events[nevents].role, "%s", ev->role);
    (void)snprintf(events[nevents].set, sizeof events[nevents].set, "%s", ev->set);
    events[nevents].old_gen = ev->old_generation;
    events[nevents].new_gen = ev->new_generation;
    nevents++;
}

/* The events since the last call: each role of the set `default` once, of this type. */
static void expect_events(cw_event_type type, uint32_t old_gen, uint32_t new_gen)
{
    assert_int_equal(nevents, 2);
    assert_string_equal(events[0].role, "Default");
    assert_string_equal(events[1].role, "WebServicesInternal");
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(events[i].type, type);
        assert_string_equal(events[i].set, "default");
        assert_int_equal(events[i].old_gen, old_gen);
        assert_int_equal(events[i].new_gen, new_gen);
    }
    nevents = 0;
}

static void test_enrol_import_read_and_listen(void **state)
{
    (void)state;
    static appliance_t a;
    static uint8_t csr[4096];
    static uint8_t answer[8192];
    static uint8_t cert[4096];
    cw_listener_t node;
    cw_role_info_t info;
    cw_job_info_t job;
    uint8_t root[32];
    uint8_t want_root[32];
    size_t csr_len = 0;
    size_t answer_len;
    size_t cert_len = 0;

    assert_int_equal(appliance_start(&a), 0);
    test_uart_reset();
    cw_roles_listen(&node, on_event, NULL);
    assert_int_equal(cw_role_count(), 4);

    /* request: a key in the token, a CSR out, the roles pending */
    assert_int_equal(cw_roles_request_offline("default", csr, sizeof csr, &csr_len), CW_OK);
    assert_true(csr_len > 300);
    expect_events(CW_EVENT_PENDING, 0, 0);
    assert_int_equal(cw_role_get("Default", &info), CW_OK);
    assert_int_equal(info.state, CW_ROLE_PENDING);
    assert_false(info.has_cert);
    {
        static uint8_t again[4096];
        size_t again_len = 1;
        assert_int_equal(cw_roles_request_offline("default", again, sizeof again, &again_len), CW_ERR_EXISTS);
        assert_int_equal(again_len, 0);
    }

    /* the answer: its root is trusted only once the appliance confirms it */
    answer_len = appliance_answer(&a, csr, csr_len, answer, sizeof answer);
    assert_true(answer_len > 0);
    appliance_root_sha256(&a, want_root);
    assert_int_equal(cw_roles_import("default", answer, answer_len, NULL, root), CW_ERR_IMPORT_ROOT_UNCONFIRMED);
    assert_memory_equal(root, want_root, 32);
    assert_int_equal(nevents, 0);
    assert_int_equal(cw_roles_import("default", answer, answer_len, root, NULL), CW_OK);
    expect_events(CW_EVENT_ASSIGNED, 0, 1);

    /* the role as a service reads it */
    assert_int_equal(cw_role_get("Default", &info), CW_OK);
    assert_int_equal(info.state, CW_ROLE_ASSIGNED);
    assert_true(info.has_cert);
    assert_string_equal(info.set, "default");
    assert_int_equal(info.cert_id_len, 20);
    assert_int_equal(info.generation, 1);
    assert_true(info.not_after > info.not_before);
    assert_non_null(strstr(info.subject, "CN=edge01.contoso.com"));
    assert_non_null(strstr(info.key_uri, "pkcs11:token=certwiz-test;object=default;id=%"));
    assert_non_null(strstr(info.key_uri, ";type=private"));
    assert_non_null(strstr(info.cert_uri, ";type=cert"));
    assert_int_equal(cw_role_certificate("Default", cert, sizeof cert, &cert_len), CW_OK);
    assert_true(cert_len < answer_len);
    assert_memory_equal(cert, answer, cert_len); /* the first block of the answer: the set's */
    assert_int_equal(cw_role_get("EdgeExternal", &info), CW_OK);
    assert_int_equal(info.state, CW_ROLE_NONE);
    assert_int_equal(cw_role_get("NoSuchRole", &info), CW_ERR_UNKNOWN_ROLE);

    /* a new key and certificate for the set: RENEWED, the generation moves on; the root is
     * trusted now */
    assert_int_equal(cw_roles_request_offline("default", csr, sizeof csr, &csr_len), CW_OK);
    expect_events(CW_EVENT_PENDING, 1, 1);
    answer_len = appliance_answer(&a, csr, csr_len, answer, sizeof answer);
    assert_int_equal(cw_roles_import("default", answer, answer_len, NULL, NULL), CW_OK);
    expect_events(CW_EVENT_RENEWED, 1, 2);
    assert_int_equal(cw_role_get("WebServicesInternal", &info), CW_OK);
    assert_int_equal(info.generation, 2);

    /* nothing runs, and the console said nothing: there is none */
    cw_job_state(&job);
    assert_int_equal(job.kind, CW_JOB_NONE);
    assert_string_equal(test_uart_output(), "");

    /* after a restart the role has its certificate, at generation 1 again */
    appliance_restart(&a);
    assert_int_equal(cw_role_get("Default", &info), CW_OK);
    assert_int_equal(info.state, CW_ROLE_ASSIGNED);
    assert_int_equal(info.generation, 1);

    cw_roles_unlisten(&node);
    appliance_stop(&a);
    test_assert_arena_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enrol_import_read_and_listen),
    };
    return cmocka_run_group_tests_name("a tiny appliance on the integrator API", tests, NULL, NULL);
}
