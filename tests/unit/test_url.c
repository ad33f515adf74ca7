/*
 * test_url.c: the URL parser (cw_url.h), table-driven.
 * Specification: RFC 3986 (generic syntax), RFC 1123 2.1 (host names), and cw_url.h's subset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_url.h"
#include "support/test_board.h"

typedef struct url_case {
    const char *in;
    cw_err err;
    cw_url_scheme_t scheme;
    const char *host;
    uint16_t port;
    const char *path;
    bool ipv4;
} url_case;

#define HTTP CW_URL_HTTP
#define HTTPS CW_URL_HTTPS

static const url_case cases[] = {
    /* what CA profiles hold */
    {"http://10.0.2.2:8080/scep", CW_OK, HTTP, "10.0.2.2", 8080, "/scep", true},
    {"http://10.0.2.2:8080/scep?operation=GetCACaps&message=x", CW_OK, HTTP, "10.0.2.2", 8080,
     "/scep?operation=GetCACaps&message=x", true},
    {"http://ca.example.com/", CW_OK, HTTP, "ca.example.com", 80, "/", false},
    {"http://ca.example.com", CW_OK, HTTP, "ca.example.com", 80, "/", false},
    {"http://ca.example.com?x=1", CW_OK, HTTP, "ca.example.com", 80, "/?x=1", false},
    {"https://acme.example/directory", CW_OK, HTTPS, "acme.example", 443, "/directory", false},
    {"HTTP://Ca.Example.COM/CertSrv/mscep/mscep.dll", CW_OK, HTTP, "Ca.Example.COM", 80,
     "/CertSrv/mscep/mscep.dll", false},
    {"HtTpS://a1.b-2.c3:8443/", CW_OK, HTTPS, "a1.b-2.c3", 8443, "/", false},
    {"http://localhost/", CW_OK, HTTP, "localhost", 80, "/", false},
    {"http://h:/p", CW_OK, HTTP, "h", 80, "/p", false},
    {"http://h:65535/", CW_OK, HTTP, "h", 65535, "/", false},
    {"http://h:00080/", CW_OK, HTTP, "h", 80, "/", false},
    {"http://h/a%2Fb%7e?q=%41", CW_OK, HTTP, "h", 80, "/a%2Fb%7e?q=%41", false},
    {"http://h/path#fragment", CW_OK, HTTP, "h", 80, "/path", false},
    {"http://h#top", CW_OK, HTTP, "h", 80, "/", false},
    {"http://h/@at-in-path", CW_OK, HTTP, "h", 80, "/@at-in-path", false},
    {"http://h/a:b;c=d,e!$&'()*+~_.-", CW_OK, HTTP, "h", 80, "/a:b;c=d,e!$&'()*+~_.-", false},
    {"http://0.0.0.0/", CW_OK, HTTP, "0.0.0.0", 80, "/", true},
    {"http://255.255.255.255/", CW_OK, HTTP, "255.255.255.255", 80, "/", true},
    {"http://1.2.3.4a/", CW_OK, HTTP, "1.2.3.4a", 80, "/", false}, /* a name whose last label is not numeric */
    /* refused */
    {"http://user@h/", CW_ERR_URL_USERINFO, HTTP, NULL, 0, NULL, false},
    {"http://user:secret@10.0.2.2:8080/scep", CW_ERR_URL_USERINFO, HTTP, NULL, 0, NULL, false},
    {"http://@h/", CW_ERR_URL_USERINFO, HTTP, NULL, 0, NULL, false},
    {"", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"ftp://h/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http:/h/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http//h/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"h/path", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"httpx://h/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http:///path", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://:80/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h:0/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h:65536/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h:123456/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h:8a/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h:-1/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h:80:81/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://[::1]/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://[::1]:8080/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://256.1.1.1/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://01.2.3.4/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://1.2.3/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://1.2.3.4.5/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://1234/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://1.2.3.4./", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://-a.example/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://a-.example/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://a..example/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://.example/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://example./", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://a_b.example/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://ca%2eexample/", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/a b", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/a\"b", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/<script>", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/a\\b", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/a\r\nHost: evil", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/\x7f", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/caf\xc3\xa9", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/%", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/%4", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/%zz", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/p#frag ment", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
    {"http://h/p#a#b", CW_ERR_URL_MALFORMED, HTTP, NULL, 0, NULL, false},
};

static void check(const url_case *c)
{
    cw_url_t u;
    memset(&u, 0xAA, sizeof u);
    cw_err e = cw_url_parse(c->in, strlen(c->in), &u);
    if (e != c->err) {
        fail_msg("\"%s\": %s, expected %s", c->in, cw_err_name(e), cw_err_name(c->err));
    }
    if (e != CW_OK) {
        for (size_t i = 0; i < sizeof u; i++) {
            assert_int_equal(((const uint8_t *)&u)[i], 0xAA); /* untouched on error */
        }
        return;
    }
    assert_int_equal(u.scheme, c->scheme);
    assert_string_equal(u.host, c->host);
    assert_int_equal(u.port, c->port);
    assert_string_equal(u.path, c->path);
    if (u.host_is_ipv4 != c->ipv4) {
        fail_msg("\"%s\": host_is_ipv4 %d", c->in, u.host_is_ipv4);
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check(&cases[i]);
    }
    test_assert_arena_empty();
}

static void test_labels_and_lengths(void **state)
{
    char url[CW_URL_MAX + 16];
    cw_url_t u;
    (void)state;

    /* a 63-byte label is a DNS label; 64 is not */
    int n = snprintf(url, sizeof url, "http://%.*s.example/", 63,
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(cw_url_parse(url, (size_t)n, &u), CW_OK);
    n = snprintf(url, sizeof url, "http://%.*s.example/", 64,
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(cw_url_parse(url, (size_t)n, &u), CW_ERR_URL_MALFORMED);

    /* the whole URL: CW_URL_MAX bytes pass, one more is refused, never cut */
    memcpy(url, "http://a/", 9);
    memset(url + 9, 'p', CW_URL_MAX - 9);
    assert_int_equal(cw_url_parse(url, CW_URL_MAX, &u), CW_OK);
    assert_int_equal(strlen(u.path), CW_URL_MAX - 8);
    url[CW_URL_MAX] = 'p';
    assert_int_equal(cw_url_parse(url, CW_URL_MAX + 1, &u), CW_ERR_URL_TOO_LONG);

    /* a query with no path gets its '/': one byte more than written */
    memcpy(url, "http://a?", 9);
    memset(url + 9, 'q', CW_URL_MAX - 9);
    assert_int_equal(CW_URL_MAX - 8 + 1 > CW_URL_PATH_MAX, true);
    assert_int_equal(cw_url_parse(url, CW_URL_MAX, &u), CW_ERR_URL_TOO_LONG);
    assert_int_equal(cw_url_parse(url, CW_URL_MAX - 1, &u), CW_OK);
    assert_int_equal(u.path[0], '/');
    assert_int_equal(u.path[1], '?');

    /* a host of many labels up to the URL bound */
    size_t o = 7;
    memcpy(url, "http://", 7);
    while (o + 4 <= CW_URL_MAX - 1) {
        memcpy(url + o, "abc.", 4);
        o += 4;
    }
    url[o++] = 'z';
    assert_int_equal(cw_url_parse(url, o, &u), CW_OK);
    assert_int_equal(strlen(u.host), o - 7);

    /* a NUL inside the text is refused, not taken as the end */
    assert_int_equal(cw_url_parse("http://h/\0x", 11, &u), CW_ERR_URL_MALFORMED);
    /* a length shorter than the string: only that much is read */
    assert_int_equal(cw_url_parse("http://h/abc", 10, &u), CW_OK);
    assert_string_equal(u.path, "/a");
    assert_int_equal(cw_url_parse(NULL, 0, &u), CW_ERR_INVALID_ARG);
    test_assert_arena_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_labels_and_lengths),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
