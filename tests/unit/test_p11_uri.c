/*
 * test_p11_uri.c: the RFC 7512 subset (pkcs11/cw_p11_uri.h), differentially against p11-kit's
 * p11_kit_uri_parse (Debian libp11-kit 0.24) on a table of valid and invalid URIs.
 *
 * Rows marked SAME must agree with p11-kit: both accept with the same decoded token,
 * manufacturer, serial, model, object, id and type, and the same token matching; or both
 * reject. Rows marked DIFF are where the subset deliberately differs (documented in
 * cw_p11_uri.h): p11-kit accepts and certwiz rejects with the listed error, for the reason given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <p11-kit/uri.h>

#include "cw/base/cw_arena.h"
#include "cw_p11_uri.h"
#include "support/test_board.h"

typedef enum { SAME, DIFF } kind_t;

typedef struct row {
    const char *uri;
    kind_t kind;
    cw_err ours;        /* certwiz's result */
    const char *reason; /* DIFF rows: why */
} row;

#define OK_SAME(u) {(u), SAME, CW_OK, NULL}
#define BAD_SAME(u) {(u), SAME, CW_ERR_URI, NULL}
#define DIFF_ROW(u, e, why) {(u), DIFF, (e), (why)}

static const row rows[] = {
    /* ---- valid, both agree ---- */
    OK_SAME("pkcs11:"),
    OK_SAME("pkcs11:token=certwiz"),
    OK_SAME("pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;serial=afca25f9eb9a253a;model=SoftHSM%20v2"),
    OK_SAME("pkcs11:model=SoftHSM%20v2;token=certwiz-test"),
    OK_SAME("pkcs11:object=set-web;type=cert"),
    OK_SAME("pkcs11:id=%01%02%0a%FF;type=private"),
    OK_SAME("pkcs11:id=ab"),
    OK_SAME("pkcs11:id="),
    OK_SAME("pkcs11:type=public"),
    OK_SAME("pkcs11:type=private"),
    OK_SAME("pkcs11:type=cert"),
    OK_SAME("pkcs11:type=secret-key"),
    OK_SAME("pkcs11:type=data"),
    OK_SAME("PKCS11:token=certwiz"),
    OK_SAME("pkcs11:token="),
    OK_SAME("pkcs11:token=a=b"),
    OK_SAME("pkcs11:object=a&b"),
    OK_SAME("pkcs11:object=a'b(c)*+,!$:@[]"),
    OK_SAME("pkcs11:object=-._~"),
    OK_SAME("pkcs11:token=a%3b"),
    OK_SAME("pkcs11:token=caf%C3%A9"),
    OK_SAME("pkcs11:token=%41%4a%4B"),
    OK_SAME("pkcs11:token=12345678901234567890123456789012"),
    OK_SAME("pkcs11:serial=0123456789abcdef;model=0123456789abcdef"),
    OK_SAME("pkcs11:manufacturer=12345678901234567890123456789012"),
    OK_SAME("pkcs11:object=my-pubkey;type=public"), /* RFC 7512 section 3 examples */
    OK_SAME("pkcs11:object=my-key;type=private"),
    OK_SAME("pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;"
            "model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial="),
    OK_SAME("pkcs11:x-vendor=foo;token=certwiz-test"),
    /* ---- invalid, both agree ---- */
    BAD_SAME(""),
    BAD_SAME("pkcs11"),
    BAD_SAME("http:token=a"),
    BAD_SAME("pkcs12:token=a"),
    BAD_SAME("pkcs11:token"),
    BAD_SAME("pkcs11:token=a%2"),
    BAD_SAME("pkcs11:token=a%"),
    BAD_SAME("pkcs11:token=a%zz"),
    BAD_SAME("pkcs11:token=a%2g"),
    BAD_SAME("pkcs11:id=%0"),
    BAD_SAME("pkcs11:token=a;=b"),
    BAD_SAME("pkcs11:object=x;type=private;id=%g1"),
    /* ---- where the subset deliberately differs ---- */
    DIFF_ROW("pkcs11:token=a;token=b", CW_ERR_URI, "repeated attribute (RFC 7512: MUST NOT); p11-kit keeps the last"),
    DIFF_ROW("pkcs11:foo=bar", CW_ERR_URI, "unknown attribute; p11-kit flags it and matches nothing"),
    DIFF_ROW("pkcs11:Token=a", CW_ERR_URI, "attribute names are case-sensitive; p11-kit: unknown"),
    DIFF_ROW("pkcs11:slot-id=1", CW_ERR_URI, "slot attributes are outside the subset"),
    DIFF_ROW("pkcs11:library-manufacturer=OpenSC", CW_ERR_URI, "library attributes are outside the subset"),
    DIFF_ROW("pkcs11:x-=a", CW_ERR_URI, "a vendor name needs a character after x-"),
    DIFF_ROW("pkcs11:type=secretkey", CW_ERR_URI, "pre-RFC spelling; RFC 7512 says secret-key"),
    DIFF_ROW("pkcs11:type=bogus", CW_ERR_URI, "not a type; p11-kit flags it as unrecognised"),
    DIFF_ROW("pkcs11:token=a?pin-value=1234", CW_ERR_URI, "query part: no PIN from a URI"),
    DIFF_ROW("pkcs11:?module-path=/usr/lib/x.so", CW_ERR_URI, "query part: no module from a URI"),
    DIFF_ROW("pkcs11:token=a?", CW_ERR_URI, "query part, even empty"),
    DIFF_ROW("pkcs11:token=a b", CW_ERR_URI, "space is not a pk11-pchar; p11-kit drops it"),
    DIFF_ROW("pkcs11:token=a/b", CW_ERR_URI, "/ is not a path pk11-pchar"),
    DIFF_ROW("pkcs11:token=a#frag", CW_ERR_URI, "# is not a pk11-pchar (no fragments)"),
    DIFF_ROW("pkcs11:token=a;;model=b", CW_ERR_URI, "empty attribute; p11-kit silently ignores the rest"),
    DIFF_ROW("pkcs11:object=a;", CW_ERR_URI, "trailing ; is not in the RFC grammar"),
    DIFF_ROW("pkcs11:;object=a", CW_ERR_URI, "leading ;: p11-kit silently ignores the rest"),
    DIFF_ROW("pkcs11:token=123456789012345678901234567890123", CW_ERR_TOO_LARGE,
             "33-byte label cannot match CK_TOKEN_INFO; p11-kit flags it unrecognised"),
    DIFF_ROW("pkcs11:serial=0123456789abcdef0", CW_ERR_TOO_LARGE, "17-byte serial cannot match"),
    DIFF_ROW("pkcs11:object=12345678901234567890123456789012345678901234567890123456789012345", CW_ERR_TOO_LARGE,
             "object label over CW_P11_URI_OBJECT_MAX (64)"),
    DIFF_ROW("pkcs11:id=%00%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%00%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d"
             "%0e%0f%00%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%00%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f"
             "%ff",
             CW_ERR_TOO_LARGE, "65-byte id over CW_P11_URI_ID_MAX (64)"),
};

#define NROWS (sizeof rows / sizeof rows[0])

/* Token infos every accepted URI is matched against, by both parsers. */
static void pad(CK_UTF8CHAR *dst, size_t width, const char *s)
{
    memset(dst, ' ', width);
    memcpy(dst, s, strlen(s));
}

static CK_TOKEN_INFO make_info(const char *label, const char *manuf, const char *model, const char *serial)
{
    CK_TOKEN_INFO ti;
    memset(&ti, 0, sizeof ti);
    pad(ti.label, sizeof ti.label, label);
    pad(ti.manufacturerID, sizeof ti.manufacturerID, manuf);
    pad(ti.model, sizeof ti.model, model);
    pad(ti.serialNumber, sizeof ti.serialNumber, serial);
    return ti;
}

/* A p11-kit token field is unset when all zero, else the space-padded value. */
static void check_field(const char *what, const char *uri, bool ours_set, const char *ours, size_t ours_len,
                        const CK_UTF8CHAR *theirs, size_t width)
{
    bool theirs_set = false;
    for (size_t i = 0; i < width; i++) {
        theirs_set |= theirs[i] != 0u;
    }
    if (ours_set != theirs_set) {
        fail_msg("%s: %s set by %s only", uri, what, ours_set ? "certwiz" : "p11-kit");
    }
    if (ours_set) {
        CK_UTF8CHAR padded[32];
        memset(padded, ' ', sizeof padded);
        assert_true(ours_len <= width);
        memcpy(padded, ours, ours_len);
        if (memcmp(padded, theirs, width) != 0) {
            fail_msg("%s: %s differs", uri, what);
        }
    }
}

static void check_attr(const char *what, const char *uri, bool ours_set, const void *ours, size_t ours_len,
                       P11KitUri *pu, CK_ATTRIBUTE_TYPE type)
{
    CK_ATTRIBUTE *a = p11_kit_uri_get_attribute(pu, type);
    if (ours_set != (a != NULL)) {
        fail_msg("%s: %s set by %s only", uri, what, ours_set ? "certwiz" : "p11-kit");
    }
    if (ours_set) {
        assert_int_equal(a->ulValueLen, ours_len);
        if (ours_len > 0u) {
            assert_memory_equal(a->pValue, ours, ours_len);
        }
    }
}

static void test_differential_table(void **state)
{
    (void)state;
    const CK_TOKEN_INFO infos[] = {
        make_info("certwiz-test", "SoftHSM project", "SoftHSM v2", "afca25f9eb9a253a"),
        make_info("My Token", "SoftHSM project", "SoftHSM v2", "afca25f9eb9a253a"),
        make_info("certwiz", "Other", "0123456789abcdef", "0123456789abcdef"),
        make_info("", "", "", ""),
    };
    size_t same_ok = 0, same_bad = 0, diff = 0;
    for (size_t i = 0; i < NROWS; i++) {
        const row *r = &rows[i];
        cw_p11_uri_t u;
        cw_err e = cw_p11_uri_parse(r->uri, strlen(r->uri), &u);
        P11KitUri *pu = p11_kit_uri_new();
        assert_non_null(pu);
        int pr = p11_kit_uri_parse(r->uri, P11_KIT_URI_FOR_ANY, pu);
        if (e != r->ours) {
            fail_msg("row %zu %s: certwiz says %s, table says %s", i, r->uri, cw_err_name(e), cw_err_name(r->ours));
        }
        if (r->kind == DIFF) {
            if (pr != P11_KIT_URI_OK) {
                fail_msg("row %zu %s: p11-kit now rejects it (%d); the row is no longer a difference", i, r->uri, pr);
            }
            assert_int_equal(u.present, 0); /* a rejected URI leaves nothing behind */
            diff++;
        } else if (e != CW_OK) {
            if (pr == P11_KIT_URI_OK) {
                fail_msg("row %zu %s: p11-kit accepts, certwiz rejects", i, r->uri);
            }
            same_bad++;
        } else {
            if (pr != P11_KIT_URI_OK) {
                fail_msg("row %zu %s: certwiz accepts, p11-kit rejects (%d)", i, r->uri, pr);
            }
            CK_TOKEN_INFO *ti = p11_kit_uri_get_token_info(pu);
            check_field("token", r->uri, (u.present & CW_P11_URI_HAS_TOKEN) != 0u, u.token, u.token_len, ti->label,
                        sizeof ti->label);
            check_field("manufacturer", r->uri, (u.present & CW_P11_URI_HAS_MANUFACTURER) != 0u, u.manufacturer,
                        u.manufacturer_len, ti->manufacturerID, sizeof ti->manufacturerID);
            check_field("serial", r->uri, (u.present & CW_P11_URI_HAS_SERIAL) != 0u, u.serial, u.serial_len,
                        ti->serialNumber, sizeof ti->serialNumber);
            check_field("model", r->uri, (u.present & CW_P11_URI_HAS_MODEL) != 0u, u.model, u.model_len, ti->model,
                        sizeof ti->model);
            check_attr("object", r->uri, (u.present & CW_P11_URI_HAS_OBJECT) != 0u, u.object, u.object_len, pu,
                       CKA_LABEL);
            check_attr("id", r->uri, (u.present & CW_P11_URI_HAS_ID) != 0u, u.id, u.id_len, pu, CKA_ID);
            check_attr("type", r->uri, (u.present & CW_P11_URI_HAS_TYPE) != 0u, &u.type, sizeof u.type, pu,
                       CKA_CLASS);
            for (size_t k = 0; k < sizeof infos / sizeof infos[0]; k++) {
                bool ours = cw_p11_uri_match_token(&u, &infos[k]);
                if (p11_kit_uri_any_unrecognized(pu)) {
                    /* p11-kit matches nothing once it saw an attribute it does not know (here a
                     * vendor x- attribute); certwiz ignores vendor attributes. */
                    assert_int_equal(p11_kit_uri_match_token_info(pu, &infos[k]), 0);
                    continue;
                }
                bool theirs = p11_kit_uri_match_token_info(pu, &infos[k]) != 0;
                if (ours != theirs) {
                    fail_msg("row %zu %s: token info %zu matches for %s only", i, r->uri, k,
                             ours ? "certwiz" : "p11-kit");
                }
            }
            same_ok++;
        }
        p11_kit_uri_free(pu);
    }
    fprintf(stderr, "    %zu rows: %zu valid and %zu invalid in agreement, %zu deliberate differences\n", NROWS,
            same_ok, same_bad, diff);
    assert_true(same_ok + same_bad >= 30u);
    test_assert_arena_empty();
}

/* The x- vendor attribute is ignored but must still be well-formed. */
static void test_vendor_attribute(void **state)
{
    (void)state;
    cw_p11_uri_t u;
    const char *s = "pkcs11:x-my_attr-2=anything%20at%20all;object=k";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
    assert_int_equal(u.present, CW_P11_URI_HAS_OBJECT);
    s = "pkcs11:x-a=%zz";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_ERR_URI);
    s = "pkcs11:x-a=b c";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_ERR_URI);
    s = "pkcs11:x-a.b=c";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_ERR_URI);
    test_assert_arena_empty();
}

/* (s, len): nothing past len is read; a NUL inside is not a URI character. */
static void test_bounds(void **state)
{
    (void)state;
    cw_p11_uri_t u;
    const char s[] = "pkcs11:token=abc;model=junk";
    assert_int_equal(cw_p11_uri_parse(s, 16, &u), CW_OK); /* "pkcs11:token=abc" */
    assert_int_equal(u.present, CW_P11_URI_HAS_TOKEN);
    assert_int_equal(u.token_len, 3);
    assert_string_equal(u.token, "abc");
    assert_int_equal(cw_p11_uri_parse(s, 15, &u), CW_OK); /* "pkcs11:token=ab" */
    assert_string_equal(u.token, "ab");
    assert_int_equal(cw_p11_uri_parse(s, 17, &u), CW_ERR_URI); /* ends in ";" */
    assert_int_equal(cw_p11_uri_parse(s, 6, &u), CW_ERR_URI);
    const char nul[] = "pkcs11:token=a\0b";
    assert_int_equal(cw_p11_uri_parse(nul, sizeof nul - 1u, &u), CW_ERR_URI);
    /* %00 decodes to a NUL byte, kept with its length. */
    assert_int_equal(cw_p11_uri_parse("pkcs11:id=%00%00", 16, &u), CW_OK);
    assert_int_equal(u.id_len, 2);
    assert_int_equal(cw_p11_uri_parse(NULL, 0, &u), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_p11_uri_parse(s, sizeof s - 1u, NULL), CW_ERR_INVALID_ARG);
    /* Every limit is inclusive. */
    char big[200];
    snprintf(big, sizeof big, "pkcs11:object=%.*s", (int)CW_P11_URI_OBJECT_MAX,
             "0123456789012345678901234567890123456789012345678901234567890123456789");
    assert_int_equal(cw_p11_uri_parse(big, strlen(big), &u), CW_OK);
    assert_int_equal(u.object_len, CW_P11_URI_OBJECT_MAX);
    /* An over-long value with a bad escape is reported as the bad escape. */
    snprintf(big, sizeof big, "pkcs11:token=%s%%zz", "0123456789012345678901234567890123456789");
    assert_int_equal(cw_p11_uri_parse(big, strlen(big), &u), CW_ERR_URI);
    test_assert_arena_empty();
}

static void test_match_token_padding(void **state)
{
    (void)state;
    cw_p11_uri_t u;
    CK_TOKEN_INFO ti = make_info("certwiz-test", "SoftHSM project", "SoftHSM v2", "afca25f9eb9a253a");
    const char *s = "pkcs11:token=certwiz-test%20%20";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
    assert_true(cw_p11_uri_match_token(&u, &ti)); /* trailing spaces are padding */
    s = "pkcs11:token=certwiz-tes";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
    assert_false(cw_p11_uri_match_token(&u, &ti)); /* a prefix is not the label */
    s = "pkcs11:token=Certwiz-test";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
    assert_false(cw_p11_uri_match_token(&u, &ti)); /* case matters */
    assert_false(cw_p11_uri_match_token(NULL, &ti));

    /* A token that pads its fields with NULs, or ends the text with one (PKCS#11 says blank
     * padded; not every token does): the label still matches; text after a NUL does not. */
    memset(ti.label, 0, sizeof ti.label);
    memcpy(ti.label, "certwiz-tpm", 11);
    s = "pkcs11:token=certwiz-tpm";
    assert_int_equal(cw_p11_uri_parse(s, strlen(s), &u), CW_OK);
    assert_true(cw_p11_uri_match_token(&u, &ti));
    memset(ti.label + 12, ' ', sizeof ti.label - 12u); /* "certwiz-tpm" NUL, then spaces */
    assert_true(cw_p11_uri_match_token(&u, &ti));
    memcpy(ti.label + 12, "-2", 2); /* "certwiz-tpm" NUL "-2": not the same label */
    assert_false(cw_p11_uri_match_token(&u, &ti));
    test_assert_arena_empty();
}

int main(void)
{
    cw_arena_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential_table),
        cmocka_unit_test(test_vendor_attribute),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_match_token_padding),
    };
    return cmocka_run_group_tests_name("p11 uri", tests, NULL, NULL);
}
