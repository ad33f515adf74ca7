/*
 * test_import.c: the checks on a CA's answer (cw_import.h), against certificates OpenSSL
 * issues at test time (tests/pki/make-pki.sh: root -> issuing CA -> leaf variants).
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
#include "cw/pki/cw_import.h"
#include "cw/codec/cw_pem.h"
#include "support/test_board.h"

static char dir[64];

typedef struct blob {
    uint8_t data[8192];
    size_t len;
} blob;

static void load(const char *name, blob *b)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    b->len = fread(b->data, 1, sizeof b->data, f);
    fclose(f);
}

static int make_pki(void **state)
{
    char cmd[256];
    (void)state;
    strcpy(dir, "/tmp/cw-import-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof cmd, "tests/pki/make-pki.sh %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_pki(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static blob spki;
static blob pin;

static const cw_san_t want_san[] = {
    {.kind = CW_SAN_DNS, .dns = "edge1.example.com"},
    {.kind = CW_SAN_DNS, .dns = "SIP.example.com"}, /* names compare case-insensitively */
    {.kind = CW_SAN_IP, .ip = {192, 0, 2, 10}, .ip_len = 4},
};

static void expect(cw_import_expect_t *x)
{
    load("leaf.spki.der", &spki);
    load("root.sha256", &pin);
    memset(x, 0, sizeof *x);
    x->spki = spki.data;
    x->spki_len = spki.len;
    x->cn = "edge1.example.com";
    x->san = want_san;
    x->nsan = 3;
    x->eku = CW_EKU_SERVER_AUTH;
    x->now = (int64_t)time(NULL);
    x->pin = pin.data; /* the profile pins the test root; tests that want otherwise clear it */
}

/* Collects the certificates of the named DER files into list (blobs must outlive it). */
static cw_err collect(cw_cert_list_t *list, blob *blobs, const char *const *names, size_t n)
{
    memset(list, 0, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        load(names[i], &blobs[i]);
        cw_err e = cw_import_collect(blobs[i].data, blobs[i].len, list);
        if (e != CW_OK) {
            return e;
        }
    }
    return CW_OK;
}

static void test_leaf_with_chain_is_accepted(void **state)
{
    (void)state;
    static blob b[3];
    static const char *const names[] = {"leaf.der", "int.der", "root.der"};
    cw_cert_list_t list;
    cw_import_expect_t x;
    cw_import_result_t res;

    assert_int_equal(collect(&list, b, names, 3), CW_OK);
    expect(&x);
    x.pin = pin.data;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_OK);
    assert_int_equal(res.leaf, 0);
    assert_true(res.store_as_ca[1]);
    assert_true(res.store_as_ca[2]);
    assert_memory_equal(res.root_sha256, pin.data, 32);
    assert_true(res.not_after > x.now + 300 * 86400);
    test_assert_arena_empty();
}

static void test_pkcs7_bundle_in_any_order(void **state)
{
    (void)state;
    static blob b[1];
    static const char *const names[] = {"chain.p7b"};
    cw_cert_list_t list;
    cw_import_expect_t x;
    cw_import_result_t res;

    assert_int_equal(collect(&list, b, names, 1), CW_OK);
    assert_int_equal(list.n, 3);
    expect(&x);
    x.pin = pin.data;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_OK);
    test_assert_arena_empty();
}

static void test_pem_bundle_through_the_reader(void **state)
{
    (void)state;
    static blob text;
    static uint8_t der[8192];
    cw_pem_reader_ctx r;
    cw_cert_list_t list;
    cw_import_expect_t x;
    cw_import_result_t res;

    load("bundle.pem", &text);
    cw_pem_reader_init(&r, der, sizeof der);
    for (size_t start = 0, i = 0; i < text.len; i++) {
        if (text.data[i] == '\n') {
            assert_int_equal(cw_pem_reader_push_line(&r, (const char *)text.data + start, i - start), CW_OK);
            start = i + 1;
        }
    }
    assert_int_equal(cw_pem_reader_finish(&r), CW_OK);
    memset(&list, 0, sizeof list);
    for (size_t i = 0; i < r.nblocks; i++) {
        assert_int_equal(cw_import_collect(der + r.blocks[i].off, r.blocks[i].len, &list), CW_OK);
    }
    expect(&x);
    assert_int_equal(cw_import_check(&list, &x, &res), CW_OK);
    test_assert_arena_empty();
}

static void test_chain_imported_before(void **state)
{
    (void)state;
    static blob b[1];
    static blob t[2];
    static const char *const names[] = {"leaf.der"};
    static const char *const cas[] = {"root.der", "int.der"};
    cw_cert_list_t list;
    cw_cert_list_t trusted;
    cw_import_expect_t x;
    cw_import_result_t res;

    assert_int_equal(collect(&list, b, names, 1), CW_OK);
    /* without the CA certificates there is no path */
    expect(&x);
    assert_int_equal(cw_import_check(&list, &x, &res), CW_ERR_IMPORT_UNTRUSTED);
    /* with them, imported before with `ca import`, there is */
    assert_int_equal(collect(&trusted, t, cas, 2), CW_OK);
    x.trusted = &trusted;
    x.pin = pin.data;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_OK);
    test_assert_arena_empty();
}

/* Each bad answer: files, what to change in the expectation, the error. */
static const struct {
    const char *files[3];
    int tweak;
    cw_err want;
    const char *why;
} bad[] = {
    {{"wrongkey.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_KEY_MISMATCH, "another key"},
    {{"int.der", "root.der", NULL}, 0, CW_ERR_IMPORT_KEY_MISMATCH, "only CA certificates"},
    {{"leaf-nosan.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_NAME_MISSING, "SAN missing"},
    {{"leaf.der", "int.der", "root.der"}, 1, CW_ERR_IMPORT_NAME_MISSING, "CN not in the certificate"},
    {{"leaf-expired.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_EXPIRED, "expired"},
    {{"leaf-future.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_NOT_YET_VALID, "not yet valid"},
    {{"leaf.der", "int.der", "root.der"}, 2, CW_ERR_TIME_UNKNOWN, "clock not set"},
    {{"leaf-clientonly.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_EKU, "clientAuth only"},
    {{"leaf-other.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_UNTRUSTED, "unknown issuer"},
    {{"leaf.der", "root.der", NULL}, 0, CW_ERR_IMPORT_UNTRUSTED, "intermediate missing"},
    {{"leaf.der", "int.der", NULL}, 0, CW_ERR_IMPORT_UNTRUSTED, "root missing"},
    {{"leaf.der", "int.der", "root.der"}, 3, CW_ERR_IMPORT_PIN_MISMATCH, "pinned fingerprint differs"},
    {{"leaf.der", "int.der", "root.der"}, 4, CW_ERR_IMPORT_NOT_YET_VALID, "clock before the chain"},
    {{"leaf-ca.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_NOT_END_ENTITY, "a CA certificate for the key"},
    {{"leaf-certsign.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_NOT_END_ENTITY, "keyCertSign without cA"},
    {{"leaf-enc.der", "int.der", "root.der"}, 0, CW_ERR_IMPORT_KEY_USAGE, "keyUsage without digitalSignature"},
    {{"leaf.der", "int.der", "root.der"}, 5, CW_ERR_IMPORT_ROOT_UNCONFIRMED, "unpinned root, none trusted yet"},
};

static void test_bad_answers_are_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static blob b[3];
        cw_cert_list_t list;
        cw_import_expect_t x;
        cw_import_result_t res;
        size_t n = bad[i].files[2] != NULL ? 3 : 2;
        uint8_t other_pin[32];

        assert_int_equal(collect(&list, b, bad[i].files, n), CW_OK);
        expect(&x);
        switch (bad[i].tweak) {
        case 1:
            x.cn = "edge2.example.com";
            break;
        case 2:
            x.now = 0;
            break;
        case 3:
            memset(other_pin, 0xAB, sizeof other_pin);
            x.pin = other_pin;
            break;
        case 4:
            x.now = 946684800; /* 2000-01-01: before every certificate here */
            break;
        case 5:
            x.pin = NULL;
            break;
        default:
            break;
        }
        cw_err got = cw_import_check(&list, &x, &res);
        if (got != bad[i].want) {
            fail_msg("case %zu (%s): got %s, want %s", i, bad[i].why, cw_err_name(got), cw_err_name(bad[i].want));
        }
        test_assert_arena_empty();
    }
}

/* Issue 15: an unpinned profile never trusts a root silently, and keeps the root it trusts. */
static void test_unpinned_roots_need_the_operator_and_stay(void **state)
{
    (void)state;
    static blob b[3];
    static blob t[2];
    static blob other[3];
    static const char *const names[] = {"leaf.der", "int.der", "root.der"};
    static const char *const cas[] = {"root.der", "int.der"};
    static const char *const foreign[] = {"leaf-other.der", "other-int.der", "other-root.der"};
    cw_cert_list_t list;
    cw_cert_list_t trusted;
    cw_import_expect_t x;
    cw_import_result_t res;

    assert_int_equal(collect(&list, b, names, 3), CW_OK);
    expect(&x);
    x.pin = NULL;
    /* nothing trusted, nothing pinned: the answer's root needs the operator; res names it */
    assert_int_equal(cw_import_check(&list, &x, &res), CW_ERR_IMPORT_ROOT_UNCONFIRMED);
    assert_int_equal(res.root_index, 2);
    assert_memory_equal(res.root_sha256, pin.data, 32);
    /* confirmed: accepted; a confirmation of another fingerprint does not count */
    x.confirmed_root = pin.data;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_OK);
    uint8_t wrong[32];
    memset(wrong, 0x5a, sizeof wrong);
    x.confirmed_root = wrong;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_ERR_IMPORT_ROOT_UNCONFIRMED);
    /* the profile trusts the root already: no question */
    assert_int_equal(collect(&trusted, t, cas, 2), CW_OK);
    x.confirmed_root = NULL;
    x.trusted = &trusted;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_OK);
    assert_int_equal(res.root_index, 2); /* the pasted copy of the same root */
    /* another root in the answer, while the profile trusts one: refused, even if "confirmed" */
    assert_int_equal(collect(&list, other, foreign, 3), CW_OK);
    x.spki = spki.data;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_ERR_IMPORT_ROOT_CHANGED);
    x.confirmed_root = res.root_sha256;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_ERR_IMPORT_ROOT_CHANGED);
    /* the pin decides when there is one: the pinned root is taken, any other refused */
    x.pin = pin.data;
    x.confirmed_root = NULL;
    assert_int_equal(cw_import_check(&list, &x, &res), CW_ERR_IMPORT_PIN_MISMATCH);
    test_assert_arena_empty();
}

/* Only the CA certificates on the leaf's path are stored: an unrelated root in the paste is not
 * taken as the profile's. */
static void test_only_the_path_is_stored(void **state)
{
    (void)state;
    static blob b[5];
    static const char *const names[] = {"leaf.der", "other-root.der", "int.der", "other-int.der", "root.der"};
    cw_cert_list_t list;
    cw_import_expect_t x;
    cw_import_result_t res;

    assert_int_equal(collect(&list, b, names, 5), CW_OK);
    expect(&x);
    assert_int_equal(cw_import_check(&list, &x, &res), CW_OK);
    assert_false(res.store_as_ca[0]); /* the leaf */
    assert_false(res.store_as_ca[1]); /* other-root: not on the path */
    assert_true(res.store_as_ca[2]);
    assert_false(res.store_as_ca[3]);
    assert_true(res.store_as_ca[4]);
    assert_int_equal(res.root_index, 4);
    test_assert_arena_empty();
}

/* A certificate with a critical extension nobody processes is named as such when collected, not
 * taken for "not a certificate". */
static void test_critical_extension_is_named(void **state)
{
    (void)state;
    static blob b;
    cw_cert_list_t list;

    cw_import_expect_t x;
    cw_import_result_t res;

    memset(&list, 0, sizeof list);
    load("leaf-crit.der", &b);
    assert_int_equal(cw_import_collect(b.data, b.len, &list), CW_ERR_IMPORT_CRITICAL_EXTENSION);
    /* inside a PKCS#7 bundle the certificates are read by the checks: the same name */
    memset(&list, 0, sizeof list);
    load("crit.p7b", &b);
    assert_int_equal(cw_import_collect(b.data, b.len, &list), CW_OK);
    expect(&x);
    assert_int_equal(cw_import_check(&list, &x, &res), CW_ERR_IMPORT_CRITICAL_EXTENSION);
    test_assert_arena_empty();
}

static void test_collect_rejects_what_is_no_certificate(void **state)
{
    (void)state;
    static blob b;
    cw_cert_list_t list;

    memset(&list, 0, sizeof list);
    load("empty.p7b", &b);
    assert_int_equal(cw_import_collect(b.data, b.len, &list), CW_ERR_IMPORT_NO_CERT);
    load("leaf.spki.der", &b); /* a SubjectPublicKeyInfo is a SEQUENCE, but no certificate */
    assert_int_equal(cw_import_collect(b.data, b.len, &list), CW_ERR_IMPORT_FORMAT);
    assert_int_equal(cw_import_collect((const uint8_t *)"garbage!", 8, &list), CW_ERR_IMPORT_FORMAT);
    load("leaf.der", &b);
    for (size_t cut = 0; cut < b.len; cut += 7) {
        memset(&list, 0, sizeof list);
        cw_err e = cw_import_collect(b.data, cut, &list);
        assert_int_not_equal(e, CW_OK);
    }
    load("chain.p7b", &b);
    for (size_t cut = 0; cut < b.len; cut += 5) {
        memset(&list, 0, sizeof list);
        assert_int_not_equal(cw_import_collect(b.data, cut, &list), CW_OK);
    }
    /* more certificates than the bound */
    memset(&list, 0, sizeof list);
    cw_err e = CW_OK;
    for (unsigned i = 0; i <= CW_IMPORT_CERTS_MAX && e == CW_OK; i++) {
        e = cw_import_collect(b.data, b.len, &list);
    }
    assert_int_equal(e, CW_ERR_TOO_LARGE);
}

static void test_ca_import(void **state)
{
    (void)state;
    static blob root;
    static blob in;
    static blob t[1];
    static const char *const cas[] = {"root.der"};
    cw_cert_list_t trusted;
    uint8_t fp[32];
    int64_t now = (int64_t)time(NULL);

    load("root.der", &root);
    load("root.sha256", &pin);
    cw_der_t r = {root.data, root.len};
    assert_int_equal(cw_import_check_ca(&r, now, NULL, NULL, fp), CW_OK);
    assert_memory_equal(fp, pin.data, 32);
    assert_int_equal(cw_import_check_ca(&r, now, pin.data, NULL, fp), CW_OK);
    uint8_t other[32] = {1};
    assert_int_equal(cw_import_check_ca(&r, now, other, NULL, fp), CW_ERR_IMPORT_PIN_MISMATCH);

    /* an intermediate needs its root first */
    load("int.der", &in);
    cw_der_t i = {in.data, in.len};
    assert_int_equal(cw_import_check_ca(&i, now, NULL, NULL, fp), CW_ERR_IMPORT_UNTRUSTED);
    assert_int_equal(collect(&trusted, t, cas, 1), CW_OK);
    assert_int_equal(cw_import_check_ca(&i, now, pin.data, &trusted, fp), CW_OK);

    /* a leaf is no CA */
    load("leaf.der", &in);
    cw_der_t l = {in.data, in.len};
    assert_int_equal(cw_import_check_ca(&l, now, NULL, &trusted, fp), CW_ERR_IMPORT_NOT_CA);
    test_assert_arena_empty();
}

static void test_summary(void **state)
{
    (void)state;
    static blob b;
    cw_cert_summary_t s;
    load("leaf.der", &b);
    cw_der_t d = {b.data, b.len};
    assert_int_equal(cw_import_summary(&d, &s), CW_OK);
    /* mbedTLS prints the most specific attribute first, as RFC 4514 does */
    assert_string_equal(s.subject, "CN=edge1.example.com, O=Example AG");
    assert_string_equal(s.issuer, "CN=Test Issuing CA, O=Test PKI");
    assert_true(s.not_after > s.not_before);
    test_assert_arena_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_with_chain_is_accepted),
        cmocka_unit_test(test_pkcs7_bundle_in_any_order),
        cmocka_unit_test(test_pem_bundle_through_the_reader),
        cmocka_unit_test(test_chain_imported_before),
        cmocka_unit_test(test_bad_answers_are_named),
        cmocka_unit_test(test_unpinned_roots_need_the_operator_and_stay),
        cmocka_unit_test(test_only_the_path_is_stored),
        cmocka_unit_test(test_critical_extension_is_named),
        cmocka_unit_test(test_collect_rejects_what_is_no_certificate),
        cmocka_unit_test(test_ca_import),
        cmocka_unit_test(test_summary),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("import (certificates from openssl ca)", tests, make_pki, remove_pki);
}
