/*
 * test_topology.c: the topology decoder, its validation rules and the derivation.
 * Specification: docs/topology.asn1 and docs/topology.md.
 *
 * The example blob is docs/examples/edge-appliance.der, read at run time (tests run from the
 * repository root); it was made with `cwctl topology compile docs/examples/edge-appliance.json
 * -o docs/examples/edge-appliance.der`. Invalid blobs are built here: a small valid topology is
 * described as a C struct (spec), one row of the table mutates one thing, and a DER builder
 * below writes it, so every row reads as the one rule it breaks.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_topology.h"
#include "support/test_board.h"

#define EXAMPLE_DER "docs/examples/edge-appliance.der"

static cw_topology topo;
static cw_topology_derived derived;
static uint8_t example[CW_TOPO_DER_MAX + 64];
static size_t example_len;

/* ---- a DER builder ------------------------------------------------------------------------- */

typedef struct bld {
    uint8_t buf[3 * CW_TOPO_DER_MAX];
    size_t len;
    size_t open[16]; /* start of each open element's content */
    size_t depth;
} bld;

static void b_bytes(bld *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof b->buf);
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

/* Opens a constructed element: tag and a 3-byte placeholder length, shrunk by b_close. */
static void b_open(bld *b, uint8_t tag)
{
    uint8_t h[4] = {tag, 0x82, 0, 0};
    b_bytes(b, h, 4);
    b->open[b->depth++] = b->len;
}

static void b_close(bld *b)
{
    size_t start = b->open[--b->depth];
    size_t n = b->len - start;
    uint8_t h[3];
    size_t hl;

    if (n < 0x80) {
        h[0] = (uint8_t)n;
        hl = 1;
    } else if (n < 0x100) {
        h[0] = 0x81;
        h[1] = (uint8_t)n;
        hl = 2;
    } else {
        h[0] = 0x82;
        h[1] = (uint8_t)(n >> 8);
        h[2] = (uint8_t)n;
        hl = 3;
    }
    memcpy(b->buf + start - 3, h, hl);
    memmove(b->buf + start - 3 + hl, b->buf + start, n);
    b->len -= 3 - hl;
}

static void b_tlv(bld *b, uint8_t tag, const void *p, size_t n)
{
    b_open(b, tag);
    b_bytes(b, p, n);
    b_close(b);
}

static void b_str(bld *b, uint8_t tag, const char *s)
{
    if (s != NULL) {
        b_tlv(b, tag, s, strlen(s));
    }
}

/* INTEGER/ENUMERATED, minimal, for 0 <= v < 2^31 */
static void b_uint(bld *b, uint8_t tag, long v)
{
    uint8_t c[5];
    size_t n = 0;
    unsigned long u = (unsigned long)v;

    c[4] = (uint8_t)u;
    n = 1;
    while (u > 0x7F) {
        u >>= 8;
        c[4 - n] = (uint8_t)u;
        n++;
    }
    b_tlv(b, tag, c + 5 - n, n);
}

/* ---- the spec of a topology ---------------------------------------------------------------- */

#define NO LONG_MIN /* an absent number */

typedef struct t_san {
    const char *dns;   /* a dns entry when not NULL */
    uint8_t ip[16];
    size_t ip_len;     /* an ip entry when dns is NULL */
} t_san;

typedef struct t_profile {
    const char *name;
    long protocol;
    const char *url;
    const uint8_t *fp;
    size_t fp_len;
    long key;
    long renew;
    long poll;
    const uint8_t *extra;   /* raw bytes appended inside the SEQUENCE */
    size_t extra_len;
} t_profile;

typedef struct t_set {
    const char *name;
    const char *roles[CW_TOPO_ROLES_MAX + 4];
    size_t nroles;
    const char *profile;
    const uint8_t *eku;     /* raw BIT STRING TLV; NULL: serverAuth */
    size_t eku_len;
    long key;
    const char *cn;
    t_san san[CW_TOPO_DERIVED_SANS_MAX + 4];
    size_t nsan;
    int san_present;        /* also with nsan == 0: an empty list */
    const char *uri;
} t_set;

typedef struct spec {
    const uint8_t *raw_version;   /* verbatim TLV instead of INTEGER 1 */
    size_t raw_version_len;
    long version;
    const char *host;
    const char *site;
    uint8_t addr[CW_TOPO_ADDRESSES_MAX + 2][16];
    size_t addr_len[CW_TOPO_ADDRESSES_MAX + 2];
    size_t naddr;
    int addr_present;
    const char *o, *ou, *l, *st, *c;
    const char *domains[CW_TOPO_DOMAINS_MAX + 2];
    size_t ndomains;
    int domains_present;
    t_profile prof[CW_TOPO_PROFILES_MAX + 2];
    size_t nprof;
    t_set set[CW_TOPO_SETS_MAX + 2];
    size_t nset;
} spec;

static const uint8_t eku_server[] = {0x03, 0x02, 0x07, 0x80};
static const uint8_t eku_both[] = {0x03, 0x02, 0x06, 0xC0};

/* The valid base of every table row. */
static void base_spec(spec *s)
{
    memset(s, 0, sizeof *s);
    s->version = 1;
    s->host = "edge.example.com";
    s->site = "lab";
    s->o = "Example Org";
    s->c = "DE";
    s->domains[0] = "example.com";
    s->domains[1] = "example.net";
    s->ndomains = 2;
    s->domains_present = 1;
    s->prof[0] = (t_profile){"ca", 1, "http://10.0.2.2:8080/scep", NULL, 0, NO, NO, NO, NULL, 0};
    s->prof[1] = (t_profile){"off", 0, NULL, NULL, 0, NO, NO, NO, NULL, 0};
    s->nprof = 2;
    s->set[0].name = "web";
    s->set[0].roles[0] = "Default";
    s->set[0].roles[1] = "WebServicesInternal";
    s->set[0].nroles = 2;
    s->set[0].profile = "ca";
    s->set[0].eku = eku_both;
    s->set[0].eku_len = sizeof eku_both;
    s->set[0].key = NO;
    s->set[0].san[0].dns = "{host}";
    s->set[0].san[1].dns = "sip.{domain}";
    s->set[0].san[2].ip_len = 4;
    memcpy(s->set[0].san[2].ip, "\x0a\x00\x00\x01", 4);
    s->set[0].nsan = 3;
    s->set[0].san_present = 1;
    s->set[1].name = "ext";
    s->set[1].roles[0] = "EdgeExternal";
    s->set[1].nroles = 1;
    s->set[1].profile = "off";
    s->set[1].key = 4; /* ecP256 */
    s->nset = 2;
}

static size_t build(const spec *s, uint8_t *out, size_t cap)
{
    static bld b;

    memset(&b, 0, sizeof b);
    b_open(&b, 0x30);
    if (s->raw_version != NULL) {
        b_bytes(&b, s->raw_version, s->raw_version_len);
    } else {
        b_uint(&b, 0x02, s->version);
    }
    b_open(&b, 0x30);
    b_str(&b, 0x16, s->host);
    b_str(&b, 0x0C, s->site);
    if (s->addr_present) {
        b_open(&b, 0xA0);
        for (size_t i = 0; i < s->naddr; i++) {
            b_tlv(&b, 0x04, s->addr[i], s->addr_len[i]);
        }
        b_close(&b);
    }
    b_close(&b);
    b_open(&b, 0x30);
    b_str(&b, 0x80, s->o);
    b_str(&b, 0x81, s->ou);
    b_str(&b, 0x82, s->l);
    b_str(&b, 0x83, s->st);
    b_str(&b, 0x84, s->c);
    b_close(&b);
    if (s->domains_present) {
        b_open(&b, 0xA0);
        for (size_t i = 0; i < s->ndomains; i++) {
            b_str(&b, 0x16, s->domains[i]);
        }
        b_close(&b);
    }
    b_open(&b, 0x30);
    for (size_t i = 0; i < s->nprof; i++) {
        const t_profile *p = &s->prof[i];
        b_open(&b, 0x30);
        b_str(&b, 0x0C, p->name);
        if (p->protocol != NO) {
            b_uint(&b, 0x0A, p->protocol);
        }
        b_str(&b, 0x80, p->url);
        if (p->fp != NULL) {
            b_tlv(&b, 0x81, p->fp, p->fp_len);
        }
        if (p->key != NO) {
            b_uint(&b, 0x82, p->key);
        }
        if (p->renew != NO) {
            b_uint(&b, 0x83, p->renew);
        }
        if (p->poll != NO) {
            b_uint(&b, 0x84, p->poll);
        }
        if (p->extra != NULL) {
            b_bytes(&b, p->extra, p->extra_len);
        }
        b_close(&b);
    }
    b_close(&b);
    b_open(&b, 0x30);
    for (size_t i = 0; i < s->nset; i++) {
        const t_set *st = &s->set[i];
        b_open(&b, 0x30);
        b_str(&b, 0x0C, st->name);
        b_open(&b, 0x30);
        for (size_t r = 0; r < st->nroles; r++) {
            b_str(&b, 0x0C, st->roles[r]);
        }
        b_close(&b);
        b_str(&b, 0x0C, st->profile);
        if (st->eku != NULL) {
            b_bytes(&b, st->eku, st->eku_len);
        } else {
            b_bytes(&b, eku_server, sizeof eku_server);
        }
        if (st->key != NO) {
            b_uint(&b, 0x80, st->key);
        }
        b_str(&b, 0x81, st->cn);
        if (st->san_present || st->nsan > 0) {
            b_open(&b, 0xA2);
            for (size_t k = 0; k < st->nsan; k++) {
                if (st->san[k].dns != NULL) {
                    b_str(&b, 0x80, st->san[k].dns);
                } else {
                    b_tlv(&b, 0x81, st->san[k].ip, st->san[k].ip_len);
                }
            }
            b_close(&b);
        }
        b_str(&b, 0x83, st->uri);
        b_close(&b);
    }
    b_close(&b);
    b_close(&b);
    assert_true(b.len <= cap);
    memcpy(out, b.buf, b.len);
    return b.len;
}

/* ---- setup --------------------------------------------------------------------------------- */

static int load_example(void **state)
{
    FILE *fp = fopen(EXAMPLE_DER, "rb");

    (void)state;
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", EXAMPLE_DER);
        return -1;
    }
    example_len = fread(example, 1, sizeof example, fp);
    fclose(fp);
    return example_len > 0 && example_len <= CW_TOPO_DER_MAX ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    test_assert_arena_empty();
    return 0;
}

static char *str_of(const cw_topology *t, cw_topo_view_t v)
{
    static char buf[8][300];
    static int next;
    char *s = buf[next++ % 8];

    memcpy(s, cw_topo_chars(t, v), v.len);
    s[v.len] = '\0';
    return s;
}

/* ---- the example ----------------------------------------------------------------------------- */

static void test_example_decodes(void **state)
{
    size_t i;

    (void)state;
    assert_int_equal(cw_topology_decode(&topo, example, example_len), CW_OK);
    assert_string_equal(cw_topology_error_path(&topo), "");
    assert_string_equal(str_of(&topo, topo.host), "edge01.contoso.com");
    assert_string_equal(str_of(&topo, topo.site), "redmond");
    assert_int_equal(topo.address_count, 2);
    assert_int_equal(topo.address[0].len, 4);
    assert_int_equal(topo.address[1].len, 16);
    assert_string_equal(str_of(&topo, topo.organization), "Contoso Ltd");
    assert_string_equal(str_of(&topo, topo.country), "US");
    assert_int_equal(topo.domain_count, 2);
    assert_string_equal(str_of(&topo, topo.domain[1]), "fabrikam.com");

    assert_int_equal(cw_topology_profile_count(&topo), 2);
    assert_string_equal(str_of(&topo, topo.profiles[0].name), "lab-scep");
    assert_int_equal(topo.profiles[0].protocol, CW_TOPO_SCEP);
    assert_string_equal(str_of(&topo, topo.profiles[0].url), "http://10.0.2.2:8080/scep");
    assert_int_equal(topo.profiles[0].fingerprint.len, 0);
    assert_int_equal(topo.profiles[1].protocol, CW_TOPO_OFFLINE);
    assert_int_equal(topo.profiles[1].url.len, 0);
    assert_int_equal(topo.profiles[1].fingerprint.len, 32);
    assert_memory_equal(cw_topo_bytes(&topo, topo.profiles[1].fingerprint), "\xCB\x3C\xCB\xB7", 4);
    assert_int_equal(topo.profiles[1].key_type, CW_KEY_NONE);
    assert_int_equal(topo.profiles[1].renew_percent, 70);
    assert_int_equal(topo.profiles[1].poll_seconds, 0);

    assert_int_equal(cw_topology_set_count(&topo), 3);
    assert_int_equal(cw_topology_role_count(&topo), 4);
    assert_int_equal(cw_topology_find_set(&topo, "external", 8, &i), CW_OK);
    assert_int_equal(i, 1);
    assert_int_equal(cw_topology_find_set(&topo, "External", 8, &i), CW_ERR_NOT_FOUND);
    assert_int_equal(cw_topology_find_set(&topo, "extern", 6, &i), CW_ERR_NOT_FOUND);
    assert_int_equal(cw_topology_find_profile(&topo, "public-offline", 14, &i), CW_OK);
    assert_int_equal(i, 1);
    assert_int_equal(cw_topology_set_for_role(&topo, "WebServicesInternal", 19, &i), CW_OK);
    assert_int_equal(i, 0);
    assert_int_equal(cw_topology_set_for_role(&topo, "OAuthTokenIssuer", 16, &i), CW_OK);
    assert_int_equal(i, 2);
    assert_int_equal(cw_topology_set_for_role(&topo, "EdgeInternal", 12, &i), CW_ERR_NOT_FOUND);

    /* iteration over roles, in blob order */
    static const char *const roles[] = {"Default", "WebServicesInternal", "EdgeExternal",
                                        "OAuthTokenIssuer"};
    static const uint8_t role_set[] = {0, 0, 1, 2};
    for (size_t r = 0; r < 4; r++) {
        assert_string_equal(str_of(&topo, topo.roles[r].name), roles[r]);
        assert_int_equal(topo.roles[r].set, role_set[r]);
    }
    assert_int_equal(topo.sets[2].token_uri.len, 0); /* the board's token */
    assert_int_equal(topo.sets[2].key_type, CW_KEY_EC_P256);
}

typedef struct want_set {
    const char *name;
    const char *subject;
    cw_key_type key;
    unsigned eku;
    cw_topo_protocol protocol;
    unsigned renew;
    uint32_t poll;
    const char *san[8]; /* "DNS:..." or "IP:..." */
} want_set;

static const want_set example_sets[] = {
    {"default",
     "CN=edge01.contoso.com,OU=Unified Communications,O=Contoso Ltd,L=Redmond,ST=Washington,C=US",
     CW_KEY_RSA2048, CW_TOPO_EKU_SERVER_AUTH | CW_TOPO_EKU_CLIENT_AUTH, CW_TOPO_SCEP, 80, 300,
     {"DNS:edge01.contoso.com", "DNS:redmond-pool.contoso.com",
      "DNS:lyncdiscoverinternal.contoso.com", "DNS:lyncdiscoverinternal.fabrikam.com",
      "IP:10.0.2.15"}},
    {"external",
     "CN=sip.contoso.com,OU=Unified Communications,O=Contoso Ltd,L=Redmond,ST=Washington,C=US",
     CW_KEY_RSA2048, CW_TOPO_EKU_SERVER_AUTH | CW_TOPO_EKU_CLIENT_AUTH, CW_TOPO_OFFLINE, 70, 300,
     {"DNS:sip.contoso.com", "DNS:sip.fabrikam.com", "DNS:webconf.contoso.com",
      "DNS:webconf.fabrikam.com", "DNS:lyncdiscover.contoso.com", "DNS:lyncdiscover.fabrikam.com"}},
    {"oauth", "CN=contoso.com,OU=Unified Communications,O=Contoso Ltd,L=Redmond,ST=Washington,C=US",
     CW_KEY_EC_P256, CW_TOPO_EKU_SERVER_AUTH, CW_TOPO_OFFLINE, 70, 300,
     {"DNS:contoso.com", "DNS:fabrikam.com"}},
};

static void san_text(const cw_topology_derived *d, size_t i, char *out, size_t cap)
{
    size_t n;

    if (d->san[i].type == CW_TOPO_SAN_DNS) {
        snprintf(out, cap, "DNS:%s", cw_topology_san_dns(d, i));
    } else {
        memcpy(out, "IP:", 4);
        assert_int_equal(cw_topology_format_ip(d->san[i].ip, d->san[i].len, out + 3, cap - 3, &n),
                         CW_OK);
    }
}

static void test_example_derivation(void **state)
{
    (void)state;
    assert_int_equal(cw_topology_decode(&topo, example, example_len), CW_OK);
    for (size_t i = 0; i < sizeof example_sets / sizeof example_sets[0]; i++) {
        const want_set *w = &example_sets[i];
        char subject[256];
        size_t n;
        size_t count = 0;

        assert_int_equal(cw_topology_derive(&topo, i, &derived), CW_OK);
        assert_string_equal(str_of(&topo, topo.sets[i].name), w->name);
        assert_int_equal(cw_topology_subject_format(&derived, subject, sizeof subject, &n), CW_OK);
        assert_string_equal(subject, w->subject);
        assert_int_equal(n, strlen(w->subject));
        assert_int_equal(derived.key_type, w->key);
        assert_int_equal(derived.eku, w->eku);
        assert_int_equal(derived.protocol, w->protocol);
        assert_int_equal(derived.renew_percent, w->renew);
        assert_int_equal(derived.poll_seconds, w->poll);
        assert_int_equal(derived.set, i);
        while (count < 8 && w->san[count] != NULL) {
            count++;
        }
        assert_int_equal(derived.san_count, count);
        for (size_t k = 0; k < count; k++) {
            char text[300];
            san_text(&derived, k, text, sizeof text);
            assert_string_equal(text, w->san[k]);
        }
        /* the subject's parts, one by one */
        assert_string_equal(derived.organization, "Contoso Ltd");
        assert_string_equal(derived.organizational_unit, "Unified Communications");
        assert_string_equal(derived.locality, "Redmond");
        assert_string_equal(derived.state, "Washington");
        assert_string_equal(derived.country, "US");
    }
    assert_string_equal(derived.cn, "contoso.com");
    assert_null(cw_topology_san_dns(&derived, 2));
}

/* The derived result owns its strings: it survives the blob. */
static void test_derived_is_a_copy(void **state)
{
    static uint8_t copy[CW_TOPO_DER_MAX];

    (void)state;
    memcpy(copy, example, example_len);
    assert_int_equal(cw_topology_decode(&topo, copy, example_len), CW_OK);
    assert_int_equal(cw_topology_derive(&topo, 1, &derived), CW_OK);
    memset(copy, 0xAA, example_len);
    assert_string_equal(derived.cn, "sip.contoso.com");
    assert_string_equal(cw_topology_san_dns(&derived, 5), "lyncdiscover.fabrikam.com");
}

/* ---- DER strictness on the example ----------------------------------------------------------- */

static void test_truncated_at_every_length(void **state)
{
    (void)state;
    for (size_t n = 0; n < example_len; n++) {
        cw_err e = cw_topology_decode(&topo, example, n);
        if (e != CW_ERR_TRUNCATED) {
            fail_msg("prefix of %zu bytes: %s, want TRUNCATED", n, cw_err_name(e));
        }
        assert_int_equal(cw_topology_set_count(&topo), 0);
    }
}

static void test_each_trailing_byte(void **state)
{
    static uint8_t buf[CW_TOPO_DER_MAX + 8];

    (void)state;
    memcpy(buf, example, example_len);
    for (unsigned v = 0; v < 256; v++) {
        buf[example_len] = (uint8_t)v;
        assert_int_equal(cw_topology_decode(&topo, buf, example_len + 1), CW_ERR_TOPO_TRAILING);
    }
    memset(buf + example_len, 0, 8);
    assert_int_equal(cw_topology_decode(&topo, buf, example_len + 8), CW_ERR_TOPO_TRAILING);
}

static void test_outer_length_forms(void **state)
{
    static uint8_t buf[CW_TOPO_DER_MAX + 8];
    size_t content = example_len - 4;

    (void)state;
    assert_int_equal(example[0], 0x30);
    assert_int_equal(example[1], 0x82);
    /* the same content with a 3-byte length (not minimal) */
    buf[0] = 0x30;
    buf[1] = 0x83;
    buf[2] = 0;
    buf[3] = (uint8_t)(content >> 8);
    buf[4] = (uint8_t)content;
    memcpy(buf + 5, example + 4, content);
    assert_int_equal(cw_topology_decode(&topo, buf, content + 5), CW_ERR_TOPO_LENGTH);
    /* indefinite length with end-of-contents octets (BER) */
    buf[1] = 0x80;
    memcpy(buf + 2, example + 4, content);
    buf[2 + content] = 0;
    buf[3 + content] = 0;
    assert_int_equal(cw_topology_decode(&topo, buf, content + 4), CW_ERR_TOPO_LENGTH);
    /* wrong outer tag (SET instead of SEQUENCE) */
    memcpy(buf, example, example_len);
    buf[0] = 0x31;
    assert_int_equal(cw_topology_decode(&topo, buf, example_len), CW_ERR_TOPO_TAG);
    /* high tag number form */
    buf[0] = 0x3F;
    assert_int_equal(cw_topology_decode(&topo, buf, example_len), CW_ERR_TOPO_TAG);
    /* over the size limit, whatever the content */
    assert_int_equal(cw_topology_decode(&topo, buf, CW_TOPO_DER_MAX + 1), CW_ERR_TOPO_TOO_LARGE);
}

/* Every single-byte change of the example either still decodes or fails with a topology code,
 * TRUNCATED, never anything else (and nothing reads out of bounds: ASan watches). */
static void test_every_byte_flip_is_handled(void **state)
{
    static uint8_t buf[CW_TOPO_DER_MAX];
    static const uint8_t deltas[] = {0x01, 0x80, 0xFF, 0x20};

    (void)state;
    for (size_t i = 0; i < example_len; i++) {
        for (size_t k = 0; k < sizeof deltas; k++) {
            cw_err e;
            memcpy(buf, example, example_len);
            buf[i] ^= deltas[k];
            e = cw_topology_decode(&topo, buf, example_len);
            if (e == CW_OK) {
                for (size_t s = 0; s < cw_topology_set_count(&topo); s++) {
                    assert_int_equal(cw_topology_derive(&topo, s, &derived), CW_OK);
                }
                continue;
            }
            if (!(e == CW_ERR_TRUNCATED || ((long)e >= 300 && (long)e < 400))) {
                fail_msg("byte %zu ^ 0x%02x: %s", i, deltas[k], cw_err_name(e));
            }
        }
    }
}

/* ---- the table of invalid blobs -------------------------------------------------------------- */

typedef struct bad_case {
    const char *what;
    void (*mutate)(spec *s);
    cw_err want;
    const char *path;
} bad_case;

static const uint8_t raw_v_nonminimal[] = {0x02, 0x02, 0x00, 0x01};
static const uint8_t raw_v_longform[] = {0x02, 0x81, 0x01, 0x01};
static const uint8_t raw_v_negative[] = {0x02, 0x01, 0xFF};
static const uint8_t raw_v_enum[] = {0x0A, 0x01, 0x01};
static const uint8_t raw_v_empty[] = {0x02, 0x00};
static const uint8_t raw_v_highform[] = {0x1F, 0x02, 0x01, 0x01};
static const uint8_t extra_unknown[] = {0x85, 0x01, 0x00};
static const uint8_t extra_overrun[] = {0x83, 0x05, 0x01}; /* renewPercent, 5 bytes announced */
static const uint8_t eku_empty[] = {0x03, 0x01, 0x00};
static const uint8_t eku_bit2[] = {0x03, 0x02, 0x05, 0xE0};
static const uint8_t eku_trailing0[] = {0x03, 0x02, 0x06, 0x80};
static const uint8_t eku_padding[] = {0x03, 0x02, 0x07, 0x81};
static const uint8_t eku_unused8[] = {0x03, 0x02, 0x08, 0x00};
static const uint8_t fp31[31] = {1};
static const uint8_t fp32[32] = {1};

static void m_version2(spec *s) { s->version = 2; }
static void m_version0(spec *s) { s->version = 0; }
static void m_version_nonminimal(spec *s) { s->raw_version = raw_v_nonminimal; s->raw_version_len = 4; }
static void m_version_longform(spec *s) { s->raw_version = raw_v_longform; s->raw_version_len = 4; }
static void m_version_negative(spec *s) { s->raw_version = raw_v_negative; s->raw_version_len = 3; }
static void m_version_enum(spec *s) { s->raw_version = raw_v_enum; s->raw_version_len = 3; }
static void m_version_empty(spec *s) { s->raw_version = raw_v_empty; s->raw_version_len = 2; }
static void m_version_highform(spec *s) { s->raw_version = raw_v_highform; s->raw_version_len = 4; }
static void m_host_single_label(spec *s) { s->host = "edge"; }
static void m_host_underscore(spec *s) { s->host = "edge_1.example.com"; }
static void m_host_hyphen_end(spec *s) { s->host = "edge-.example.com"; }
static void m_host_hyphen_start(spec *s) { s->host = "-edge.example.com"; }
static void m_host_wildcard(spec *s) { s->host = "*.example.com"; }
static void m_host_trailing_dot(spec *s) { s->host = "edge.example.com."; }
static void m_host_empty_label(spec *s) { s->host = "edge..example.com"; }
static void m_host_numeric_tld(spec *s) { s->host = "10.0.2.15"; }
static void m_host_label64(spec *s)
{
    s->host = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com";
}
static void m_host_missing(spec *s) { s->host = NULL; }
static void m_site_empty(spec *s) { s->site = ""; }
static void m_site_control(spec *s) { s->site = "lab\x01"; }
static void m_site_brace(spec *s) { s->site = "lab{1}"; }
static void m_site_bad_utf8(spec *s) { s->site = "lab\xC3"; }
static void m_site_overlong_utf8(spec *s) { s->site = "lab\xC0\xAF"; }
static void m_site_surrogate(spec *s) { s->site = "lab\xED\xA0\x80"; }
static void m_site_c1(spec *s) { s->site = "lab\xC2\x85"; }
static void m_site_space_end(spec *s) { s->site = "lab "; }
static void m_site_too_long(spec *s)
{
    s->site = "12345678901234567890123456789012345678901234567890123456789012345";
}
static void m_addr_5bytes(spec *s)
{
    s->addr_present = 1;
    s->naddr = 1;
    s->addr_len[0] = 5;
}
static void m_addr_empty_list(spec *s) { s->addr_present = 1; }
static void m_addr_too_many(spec *s)
{
    s->addr_present = 1;
    s->naddr = CW_TOPO_ADDRESSES_MAX + 1;
    for (size_t i = 0; i < s->naddr; i++) {
        s->addr_len[i] = 4;
    }
}
static void m_country_lower(spec *s) { s->c = "de"; }
static void m_country_three(spec *s) { s->c = "DEU"; }
static void m_o_too_long(spec *s)
{
    s->o = "12345678901234567890123456789012345678901234567890123456789012345";
}
static void m_ou_brace(spec *s) { s->ou = "Team {site}"; }
static void m_domains_empty(spec *s) { s->ndomains = 0; }
static void m_domain_bad(spec *s) { s->domains[1] = "exa mple.net"; }
static void m_domain_single_label(spec *s) { s->domains[1] = "local"; }
static void m_domain_duplicate(spec *s) { s->domains[1] = "EXAMPLE.com"; }
static void m_domains_too_many(spec *s)
{
    static char names[CW_TOPO_DOMAINS_MAX + 1][16];
    for (size_t i = 0; i <= CW_TOPO_DOMAINS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "d%zu.example", i);
        s->domains[i] = names[i];
    }
    s->ndomains = CW_TOPO_DOMAINS_MAX + 1;
}
static void m_no_domains_but_template(spec *s) { s->domains_present = 0; }
static void m_no_profiles(spec *s) { s->nprof = 0; }
static void m_profiles_too_many(spec *s)
{
    static char names[CW_TOPO_PROFILES_MAX + 1][8];
    for (size_t i = 2; i <= CW_TOPO_PROFILES_MAX; i++) {
        snprintf(names[i], sizeof names[i], "p%zu", i);
        s->prof[i] = (t_profile){names[i], 0, NULL, NULL, 0, NO, NO, NO, NULL, 0};
    }
    s->nprof = CW_TOPO_PROFILES_MAX + 1;
}
static void m_profile_dup(spec *s) { s->prof[1].name = "CA"; }
static void m_profile_name_space(spec *s) { s->prof[1].name = "off line"; s->set[1].profile = "off line"; }
static void m_profile_name_hyphen_first(spec *s) { s->prof[1].name = "-off"; }
static void m_profile_name_too_long(spec *s) { s->prof[1].name = "abcdefghijabcdefghijabcdefghij123"; }
static void m_protocol_3(spec *s) { s->prof[0].protocol = 3; }
static void m_protocol_missing(spec *s) { s->prof[0].protocol = NO; }
static void m_scep_no_url(spec *s) { s->prof[0].url = NULL; }
static void m_acme_no_url(spec *s) { s->prof[1].protocol = 2; }
static void m_url_ftp(spec *s) { s->prof[0].url = "ftp://10.0.2.2/scep"; }
static void m_url_userinfo(spec *s) { s->prof[0].url = "http://user@10.0.2.2/scep"; }
static void m_url_port0(spec *s) { s->prof[0].url = "http://10.0.2.2:0/scep"; }
static void m_url_port_big(spec *s) { s->prof[0].url = "http://10.0.2.2:65536/scep"; }
static void m_url_space(spec *s) { s->prof[0].url = "http://10.0.2.2/sc ep"; }
static void m_url_fragment(spec *s) { s->prof[0].url = "http://10.0.2.2/scep#x"; }
static void m_url_no_host(spec *s) { s->prof[0].url = "http:///scep"; }
static void m_url_bad_ipv4(spec *s) { s->prof[0].url = "http://10.0.2.256/scep"; }
static void m_url_bad_percent(spec *s) { s->prof[0].url = "http://ca.example/%zz"; }
static void m_url_too_long(spec *s)
{
    static char url[CW_TOPO_URL_MAX + 2];
    memset(url, 'a', sizeof url - 1);
    memcpy(url, "http://ca.example/", 18);
    url[sizeof url - 1] = '\0';
    s->prof[0].url = url;
}
static void m_fp_31(spec *s) { s->prof[0].fp = fp31; s->prof[0].fp_len = 31; }
static void m_key_0(spec *s) { s->prof[1].key = 0; }
static void m_key_6(spec *s) { s->prof[1].key = 6; }
static void m_scep_ec_profile(spec *s) { s->prof[0].key = 5; }
static void m_scep_ec_set(spec *s) { s->set[0].key = 4; }
static void m_renew_0(spec *s) { s->prof[0].renew = 0; }
static void m_renew_100(spec *s) { s->prof[0].renew = 100; }
static void m_poll_9(spec *s) { s->prof[0].poll = 9; }
static void m_poll_day_plus(spec *s) { s->prof[0].poll = 86401; }
static void m_profile_fields_out_of_order(spec *s)
{
    s->prof[0].url = NULL;
    s->prof[0].protocol = 0;
    s->prof[0].renew = 50;
    s->prof[0].extra = (const uint8_t *)"\x80\x0bhttp://ca.x";
    s->prof[0].extra_len = 13;
}
static void m_profile_unknown_field(spec *s) { s->prof[1].extra = extra_unknown; s->prof[1].extra_len = 3; }
static void m_profile_inner_overrun(spec *s) { s->prof[1].extra = extra_overrun; s->prof[1].extra_len = 3; }
static void m_no_sets(spec *s) { s->nset = 0; }
static void m_sets_too_many(spec *s)
{
    static char names[CW_TOPO_SETS_MAX + 1][8];
    static char roles[CW_TOPO_SETS_MAX + 1][8];
    for (size_t i = 2; i <= CW_TOPO_SETS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "s%zu", i);
        snprintf(roles[i], sizeof roles[i], "r%zu", i);
        s->set[i] = s->set[1];
        s->set[i].name = names[i];
        s->set[i].roles[0] = roles[i];
    }
    s->nset = CW_TOPO_SETS_MAX + 1;
}
static void m_set_dup(spec *s) { s->set[1].name = "Web"; }
static void m_set_name_slash(spec *s) { s->set[1].name = "ext/1"; }
static void m_roles_empty(spec *s) { s->set[1].nroles = 0; }
static void m_role_dup_in_set(spec *s) { s->set[0].roles[1] = "default"; }
static void m_role_two_sets(spec *s) { s->set[1].roles[0] = "WebServicesInternal"; }
static void m_role_bad_name(spec *s) { s->set[1].roles[0] = "Edge External"; }
static void m_roles_per_set_too_many(spec *s)
{
    static char roles[CW_TOPO_ROLES_PER_SET_MAX + 1][8];
    for (size_t i = 0; i <= CW_TOPO_ROLES_PER_SET_MAX; i++) {
        snprintf(roles[i], sizeof roles[i], "R%zu", i);
        s->set[1].roles[i] = roles[i];
    }
    s->set[1].nroles = CW_TOPO_ROLES_PER_SET_MAX + 1;
}
static void m_roles_total_too_many(spec *s)
{
    /* three sets of CW_TOPO_ROLES_PER_SET_MAX roles each: 24 > CW_TOPO_ROLES_MAX (16) */
    static char roles[3][CW_TOPO_ROLES_PER_SET_MAX][8];
    static const char *const names[] = {"a", "b", "c"};
    for (size_t k = 0; k < 3; k++) {
        s->set[k] = s->set[1];
        s->set[k].name = names[k];
        s->set[k].nroles = CW_TOPO_ROLES_PER_SET_MAX;
        for (size_t i = 0; i < CW_TOPO_ROLES_PER_SET_MAX; i++) {
            snprintf(roles[k][i], sizeof roles[k][i], "R%zu%zu", k, i);
            s->set[k].roles[i] = roles[k][i];
        }
    }
    s->nset = 3;
}
static void m_unknown_profile(spec *s) { s->set[1].profile = "offline"; }
static void m_profile_ref_case(spec *s) { s->set[1].profile = "OFF"; }
static void m_eku_empty(spec *s) { s->set[1].eku = eku_empty; s->set[1].eku_len = 3; }
static void m_eku_bit2(spec *s) { s->set[1].eku = eku_bit2; s->set[1].eku_len = 4; }
static void m_eku_trailing0(spec *s) { s->set[1].eku = eku_trailing0; s->set[1].eku_len = 4; }
static void m_eku_padding(spec *s) { s->set[1].eku = eku_padding; s->set[1].eku_len = 4; }
static void m_eku_unused8(spec *s) { s->set[1].eku = eku_unused8; s->set[1].eku_len = 4; }
static void m_set_key_7(spec *s) { s->set[1].key = 7; }
static void m_placeholder_typo(spec *s) { s->set[0].san[1].dns = "sip.{domian}"; }
static void m_placeholder_unclosed(spec *s) { s->set[0].san[1].dns = "sip.{domain"; }
static void m_placeholder_stray_close(spec *s) { s->set[0].san[1].dns = "sip}.example.com"; }
static void m_placeholder_upper(spec *s) { s->set[0].san[1].dns = "sip.{DOMAIN}"; }
static void m_cn_placeholder(spec *s) { s->set[1].cn = "{hostname}"; }
static void m_cn_too_long(spec *s)
{
    s->set[1].cn = "a123456789012345678901234567890123456789012345678901234.{domain}";
}
static void m_cn_default_host_long(spec *s)
{
    s->host = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com";
}
static void m_cn_site_space(spec *s) { s->site = "Lab One"; s->set[1].cn = "{site}.example.com"; }
static void m_cn_no_domains(spec *s)
{
    s->domains_present = 0;
    s->set[0].san[1].dns = "sip.example.com";
    s->set[1].cn = "sip.{domain}";
}
static void m_san_bad_name(spec *s) { s->set[0].san[1].dns = "sip_{domain}"; }
static void m_san_empty_template(spec *s) { s->set[0].san[1].dns = ""; }
static void m_san_wildcard_middle(spec *s) { s->set[0].san[1].dns = "sip.*.{domain}"; }
static void m_san_wildcard_short(spec *s) { s->set[0].san[1].dns = "*.com"; }
static void m_san_too_long_expanded(spec *s)
{
    /* 240 bytes of labels + ".example.net" (12) = 252, + 1 for "x": 253 fine; +2: 254 too long */
    static char tmpl[260];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        memset(tmpl + n, 'a', 59);
        n += 59;
        tmpl[n++] = '.';
    }
    memcpy(tmpl + n, "xy{domain}", 11);
    s->set[0].san[1].dns = tmpl; /* 240 + 2 + 11 = 253 with example.com, 253 too; .net: 253 */
    s->domains[1] = "example.info";  /* 240 + 2 + 12 = 254: too long for the second domain */
}
static void m_san_template_too_long(spec *s)
{
    static char tmpl[CW_TOPO_DNS_NAME_MAX + 2];
    memset(tmpl, 'a', sizeof tmpl - 1);
    tmpl[sizeof tmpl - 1] = '\0';
    s->set[0].san[1].dns = tmpl;
}
static void m_san_ip_5(spec *s) { s->set[0].san[2].ip_len = 5; }
static void m_san_empty_list(spec *s) { s->set[1].san_present = 1; }
static void m_san_too_many(spec *s)
{
    s->set[1].nsan = CW_TOPO_SANS_PER_SET_MAX + 1;
    for (size_t i = 0; i < s->set[1].nsan; i++) {
        s->set[1].san[i].dns = "x.example.com";
    }
}
static void m_derived_too_many(spec *s)
{
    /* 8 domains x 4 templates = 32 names, + the CN = 33 > CW_TOPO_DERIVED_SANS_MAX (32) */
    static char names[CW_TOPO_DOMAINS_MAX][16];
    static const char *const t[] = {"a.{domain}", "b.{domain}", "c.{domain}", "d.{domain}"};
    for (size_t i = 0; i < CW_TOPO_DOMAINS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "d%zu.example", i);
        s->domains[i] = names[i];
    }
    s->ndomains = CW_TOPO_DOMAINS_MAX;
    for (size_t i = 0; i < 4; i++) {
        s->set[1].san[i].dns = t[i];
    }
    s->set[1].nsan = 4;
}
static void m_derived_too_large(spec *s)
{
    /* 8 domains of 99 bytes, 3 templates: 24 names of ~101 bytes > CW_TOPO_DERIVED_TEXT_MAX */
    static char names[CW_TOPO_DOMAINS_MAX][100];
    static const char *const t[] = {"a.{domain}", "b.{domain}", "c.{domain}"};
    for (size_t i = 0; i < CW_TOPO_DOMAINS_MAX; i++) {
        memset(names[i], 'd', 60);
        snprintf(names[i] + 60, sizeof names[i] - 60, "%zu.example-with-a-longer-name.com", i);
        s->domains[i] = names[i];
    }
    s->ndomains = CW_TOPO_DOMAINS_MAX;
    for (size_t i = 0; i < 3; i++) {
        s->set[1].san[i].dns = t[i];
    }
    s->set[1].nsan = 3;
}
static void m_uri_not_pkcs11(spec *s) { s->set[1].uri = "file:///etc/token"; }
static void m_uri_query(spec *s) { s->set[1].uri = "pkcs11:token=edge?pin-value=1234"; }
static void m_uri_empty_attr(spec *s) { s->set[1].uri = "pkcs11:token=edge;;object=x"; }
static void m_uri_space(spec *s) { s->set[1].uri = "pkcs11:token=my token"; }
static void m_uri_bad_percent(spec *s) { s->set[1].uri = "pkcs11:token=a%2"; }

static const bad_case bad_cases[] = {
    {"version 2", m_version2, CW_ERR_TOPO_VERSION, "version"},
    {"version 0", m_version0, CW_ERR_TOPO_VERSION, "version"},
    {"version negative", m_version_negative, CW_ERR_TOPO_VERSION, "version"},
    {"version INTEGER not minimal", m_version_nonminimal, CW_ERR_TOPO_DER_VALUE, "version"},
    {"version INTEGER empty", m_version_empty, CW_ERR_TOPO_DER_VALUE, "version"},
    {"length in long form for 1 byte", m_version_longform, CW_ERR_TOPO_LENGTH, "version"},
    {"version as ENUMERATED", m_version_enum, CW_ERR_TOPO_TAG, "version"},
    {"high tag number form", m_version_highform, CW_ERR_TOPO_TAG, "version"},
    {"host of one label", m_host_single_label, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host with underscore", m_host_underscore, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host label ends in hyphen", m_host_hyphen_end, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host label starts with hyphen", m_host_hyphen_start, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host wildcard", m_host_wildcard, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host trailing dot", m_host_trailing_dot, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host empty label", m_host_empty_label, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host is an IPv4 address", m_host_numeric_tld, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host label of 64", m_host_label64, CW_ERR_TOPO_HOST, "appliance.host"},
    {"host missing", m_host_missing, CW_ERR_TOPO_TAG, "appliance.host"},
    {"site empty", m_site_empty, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site control character", m_site_control, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site with braces", m_site_brace, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site truncated UTF-8", m_site_bad_utf8, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site overlong UTF-8", m_site_overlong_utf8, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site UTF-8 surrogate", m_site_surrogate, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site C1 control", m_site_c1, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site trailing space", m_site_space_end, CW_ERR_TOPO_TEXT, "appliance.site"},
    {"site 65 bytes", m_site_too_long, CW_ERR_TOPO_TEXT_TOO_LONG, "appliance.site"},
    {"address of 5 bytes", m_addr_5bytes, CW_ERR_TOPO_ADDRESS, "appliance.addresses[0]"},
    {"addresses empty", m_addr_empty_list, CW_ERR_TOPO_EMPTY_LIST, "appliance.addresses"},
    {"addresses over limit", m_addr_too_many, CW_ERR_TOPO_TOO_MANY_ADDRESSES, "appliance.addresses"},
    {"country lower case", m_country_lower, CW_ERR_TOPO_COUNTRY, "subject.country"},
    {"country of 3", m_country_three, CW_ERR_TOPO_COUNTRY, "subject.country"},
    {"organization 65 bytes", m_o_too_long, CW_ERR_TOPO_TEXT_TOO_LONG, "subject.organization"},
    {"OU with a placeholder", m_ou_brace, CW_ERR_TOPO_TEXT, "subject.organizationalUnit"},
    {"domains present but empty", m_domains_empty, CW_ERR_TOPO_EMPTY_LIST, "domains"},
    {"domain with a space", m_domain_bad, CW_ERR_TOPO_DOMAIN, "domains[1]"},
    {"domain of one label", m_domain_single_label, CW_ERR_TOPO_DOMAIN, "domains[1]"},
    {"domain twice (case)", m_domain_duplicate, CW_ERR_TOPO_DUPLICATE_DOMAIN, "domains[1]"},
    {"domains over limit", m_domains_too_many, CW_ERR_TOPO_TOO_MANY_DOMAINS, "domains"},
    {"{domain} without domains", m_no_domains_but_template, CW_ERR_TOPO_NO_DOMAINS, "sets[0].san[1].dns"},
    {"no CA profiles", m_no_profiles, CW_ERR_TOPO_EMPTY_LIST, "caProfiles"},
    {"CA profiles over limit", m_profiles_too_many, CW_ERR_TOPO_TOO_MANY_PROFILES, "caProfiles"},
    {"CA profile name twice (case)", m_profile_dup, CW_ERR_TOPO_DUPLICATE_PROFILE, "caProfiles[1].name"},
    {"CA profile name with space", m_profile_name_space, CW_ERR_TOPO_NAME, "caProfiles[1].name"},
    {"CA profile name starts with -", m_profile_name_hyphen_first, CW_ERR_TOPO_NAME, "caProfiles[1].name"},
    {"CA profile name 33 bytes", m_profile_name_too_long, CW_ERR_TOPO_NAME_TOO_LONG, "caProfiles[1].name"},
    {"protocol 3", m_protocol_3, CW_ERR_TOPO_PROTOCOL, "caProfiles[0].protocol"},
    {"protocol missing", m_protocol_missing, CW_ERR_TOPO_TAG, "caProfiles[0].protocol"},
    {"scep without URL", m_scep_no_url, CW_ERR_TOPO_URL_MISSING, "caProfiles[0].url"},
    {"acme without URL", m_acme_no_url, CW_ERR_TOPO_URL_MISSING, "caProfiles[1].url"},
    {"URL ftp://", m_url_ftp, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL with user", m_url_userinfo, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL port 0", m_url_port0, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL port 65536", m_url_port_big, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL with space", m_url_space, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL with fragment", m_url_fragment, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL without host", m_url_no_host, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL IPv4 octet 256", m_url_bad_ipv4, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL bad percent escape", m_url_bad_percent, CW_ERR_TOPO_URL, "caProfiles[0].url"},
    {"URL 256 bytes", m_url_too_long, CW_ERR_TOPO_URL_TOO_LONG, "caProfiles[0].url"},
    {"fingerprint of 31 bytes", m_fp_31, CW_ERR_TOPO_FINGERPRINT, "caProfiles[0].caFingerprint"},
    {"key type 0", m_key_0, CW_ERR_TOPO_KEY_TYPE, "caProfiles[1].keyType"},
    {"key type 6", m_key_6, CW_ERR_TOPO_KEY_TYPE, "caProfiles[1].keyType"},
    {"EC key on a scep profile", m_scep_ec_profile, CW_ERR_TOPO_KEY_PROTOCOL, "caProfiles[0].keyType"},
    {"EC set on a scep profile", m_scep_ec_set, CW_ERR_TOPO_KEY_PROTOCOL, "sets[0].keyType"},
    {"renewal 0 %", m_renew_0, CW_ERR_TOPO_RENEW_PERCENT, "caProfiles[0].renewPercent"},
    {"renewal 100 %", m_renew_100, CW_ERR_TOPO_RENEW_PERCENT, "caProfiles[0].renewPercent"},
    {"poll 9 s", m_poll_9, CW_ERR_TOPO_POLL_INTERVAL, "caProfiles[0].pollSeconds"},
    {"poll over a day", m_poll_day_plus, CW_ERR_TOPO_POLL_INTERVAL, "caProfiles[0].pollSeconds"},
    {"fields out of order", m_profile_fields_out_of_order, CW_ERR_TOPO_TAG, "caProfiles[0]"},
    {"unknown field in a profile", m_profile_unknown_field, CW_ERR_TOPO_TAG, "caProfiles[1]"},
    {"inner length overruns", m_profile_inner_overrun, CW_ERR_TOPO_LENGTH, "caProfiles[1].renewPercent"},
    {"no sets", m_no_sets, CW_ERR_TOPO_EMPTY_LIST, "sets"},
    {"sets over limit", m_sets_too_many, CW_ERR_TOPO_TOO_MANY_SETS, "sets"},
    {"set name twice (case)", m_set_dup, CW_ERR_TOPO_DUPLICATE_SET, "sets[1].name"},
    {"set name with slash", m_set_name_slash, CW_ERR_TOPO_NAME, "sets[1].name"},
    {"set without roles", m_roles_empty, CW_ERR_TOPO_EMPTY_LIST, "sets[1].roles"},
    {"role twice in a set (case)", m_role_dup_in_set, CW_ERR_TOPO_DUPLICATE_ROLE, "sets[0].roles[1]"},
    {"role in two sets", m_role_two_sets, CW_ERR_TOPO_ROLE_TWO_SETS, "sets[1].roles[0]"},
    {"role name with space", m_role_bad_name, CW_ERR_TOPO_NAME, "sets[1].roles[0]"},
    {"roles per set over limit", m_roles_per_set_too_many, CW_ERR_TOPO_TOO_MANY_ROLES, "sets[1].roles"},
    {"roles in all over limit", m_roles_total_too_many, CW_ERR_TOPO_TOO_MANY_ROLES_TOTAL, "sets[2].roles"},
    {"unknown CA profile", m_unknown_profile, CW_ERR_TOPO_UNKNOWN_PROFILE, "sets[1].caProfile"},
    {"CA profile named in other case", m_profile_ref_case, CW_ERR_TOPO_UNKNOWN_PROFILE, "sets[1].caProfile"},
    {"EKU empty", m_eku_empty, CW_ERR_TOPO_EKU, "sets[1].eku"},
    {"EKU unknown bit", m_eku_bit2, CW_ERR_TOPO_EKU, "sets[1].eku"},
    {"EKU trailing zero bit", m_eku_trailing0, CW_ERR_TOPO_DER_VALUE, "sets[1].eku"},
    {"EKU padding bit set", m_eku_padding, CW_ERR_TOPO_DER_VALUE, "sets[1].eku"},
    {"EKU 8 unused bits", m_eku_unused8, CW_ERR_TOPO_DER_VALUE, "sets[1].eku"},
    {"set key type 7", m_set_key_7, CW_ERR_TOPO_KEY_TYPE, "sets[1].keyType"},
    {"placeholder typo", m_placeholder_typo, CW_ERR_TOPO_PLACEHOLDER, "sets[0].san[1].dns"},
    {"placeholder unclosed", m_placeholder_unclosed, CW_ERR_TOPO_PLACEHOLDER, "sets[0].san[1].dns"},
    {"stray closing brace", m_placeholder_stray_close, CW_ERR_TOPO_PLACEHOLDER, "sets[0].san[1].dns"},
    {"placeholder in capitals", m_placeholder_upper, CW_ERR_TOPO_PLACEHOLDER, "sets[0].san[1].dns"},
    {"CN unknown placeholder", m_cn_placeholder, CW_ERR_TOPO_PLACEHOLDER, "sets[1].cn"},
    {"CN over 64 bytes", m_cn_too_long, CW_ERR_TOPO_CN, "sets[1].cn"},
    {"default CN from a 75-byte host", m_cn_default_host_long, CW_ERR_TOPO_CN, "sets[0].cn"},
    {"CN from a site with space", m_cn_site_space, CW_ERR_TOPO_CN, "sets[1].cn"},
    {"CN {domain} without domains", m_cn_no_domains, CW_ERR_TOPO_NO_DOMAINS, "sets[1].cn"},
    {"SAN not a DNS name", m_san_bad_name, CW_ERR_TOPO_SAN, "sets[0].san[1].dns"},
    {"SAN empty template", m_san_empty_template, CW_ERR_TOPO_SAN, "sets[0].san[1].dns"},
    {"SAN wildcard not first", m_san_wildcard_middle, CW_ERR_TOPO_SAN, "sets[0].san[1].dns"},
    {"SAN wildcard over a TLD", m_san_wildcard_short, CW_ERR_TOPO_SAN, "sets[0].san[1].dns"},
    {"SAN over 253 for one domain", m_san_too_long_expanded, CW_ERR_TOPO_SAN, "sets[0].san[1].dns"},
    {"SAN template 254 bytes", m_san_template_too_long, CW_ERR_TOPO_TEMPLATE_TOO_LONG, "sets[0].san[1].dns"},
    {"SAN IP of 5 bytes", m_san_ip_5, CW_ERR_TOPO_ADDRESS, "sets[0].san[2].ip"},
    {"SAN list present but empty", m_san_empty_list, CW_ERR_TOPO_EMPTY_LIST, "sets[1].san"},
    {"SAN entries over limit", m_san_too_many, CW_ERR_TOPO_TOO_MANY_SANS, "sets[1].san"},
    {"derived names over limit", m_derived_too_many, CW_ERR_TOPO_DERIVED_TOO_MANY, "sets[1].san"},
    {"derived text over limit", m_derived_too_large, CW_ERR_TOPO_DERIVED_TOO_LARGE, "sets[1].san"},
    {"token URI not pkcs11:", m_uri_not_pkcs11, CW_ERR_TOPO_TOKEN_URI, "sets[1].tokenUri"},
    {"token URI with query", m_uri_query, CW_ERR_TOPO_TOKEN_URI, "sets[1].tokenUri"},
    {"token URI empty attribute", m_uri_empty_attr, CW_ERR_TOPO_TOKEN_URI, "sets[1].tokenUri"},
    {"token URI with space", m_uri_space, CW_ERR_TOPO_TOKEN_URI, "sets[1].tokenUri"},
    {"token URI bad percent", m_uri_bad_percent, CW_ERR_TOPO_TOKEN_URI, "sets[1].tokenUri"},
};

static void test_base_spec_is_valid(void **state)
{
    static spec s;
    static uint8_t der[3 * CW_TOPO_DER_MAX];
    size_t n;

    (void)state;
    base_spec(&s);
    n = build(&s, der, sizeof der);
    assert_int_equal(cw_topology_decode(&topo, der, n), CW_OK);
    assert_int_equal(cw_topology_derive(&topo, 0, &derived), CW_OK);
    assert_string_equal(derived.cn, "edge.example.com");
    assert_int_equal(derived.san_count, 4); /* host, sip. x 2 domains, IP */
    assert_string_equal(cw_topology_san_dns(&derived, 2), "sip.example.net");
    assert_int_equal(derived.key_type, CW_TOPO_DEFAULT_KEY_TYPE);
    assert_int_equal(derived.renew_percent, CW_TOPO_DEFAULT_RENEW_PERCENT);
    assert_int_equal(derived.poll_seconds, CW_TOPO_DEFAULT_POLL_SECONDS);
    assert_int_equal(cw_topology_derive(&topo, 1, &derived), CW_OK);
    assert_int_equal(derived.key_type, CW_KEY_EC_P256);
    assert_int_equal(derived.san_count, 1); /* no san field: the CN alone */
    assert_string_equal(derived.cn, "edge.example.com");
}

static void test_invalid_blobs(void **state)
{
    static spec s;
    static uint8_t der[3 * CW_TOPO_DER_MAX];
    size_t failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        size_t n;
        cw_err e;

        base_spec(&s);
        c->mutate(&s);
        n = build(&s, der, sizeof der);
        e = cw_topology_decode(&topo, der, n);
        if (e != c->want || strcmp(cw_topology_error_path(&topo), c->path) != 0) {
            print_error("%s: got %s at \"%s\", want %s at \"%s\"\n", c->what, cw_err_name(e),
                        cw_topology_error_path(&topo), cw_err_name(c->want), c->path);
            failures++;
        }
        assert_int_equal(cw_topology_set_count(&topo), 0);
    }
    assert_int_equal(failures, 0);
    assert_true(sizeof bad_cases / sizeof bad_cases[0] >= 25);
}

/* ---- what is accepted at the edges ----------------------------------------------------------- */

typedef struct good_case {
    const char *what;
    void (*mutate)(spec *s);
} good_case;

static void g_renew_1_99(spec *s) { s->prof[0].renew = 1; s->prof[1].renew = 99; }
static void g_poll_edges(spec *s) { s->prof[0].poll = 10; s->prof[1].poll = 86400; }
static void g_fp_32(spec *s) { s->prof[0].fp = fp32; s->prof[0].fp_len = 32; }
static void g_wildcard(spec *s) { s->set[0].san[1].dns = "*.{domain}"; }
static void g_cn_wildcard(spec *s) { s->set[1].cn = "*.example.com"; }
static void g_label_63(spec *s)
{
    /* a host over 64 bytes cannot be the default CN (X.520): both sets name theirs */
    s->host = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com";
    s->set[0].cn = "sip.{domain}";
    s->set[1].cn = "edge.example.com";
}
static void g_name_253(spec *s)
{
    static char tmpl[CW_TOPO_DNS_NAME_MAX + 1];
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        memset(tmpl + n, 'a', 63);
        n += 63;
        tmpl[n++] = '.';
    }
    memset(tmpl + n, 'b', 253 - n - 12);
    memcpy(tmpl + 253 - 12, ".example.com", 13);
    s->set[0].san[1].dns = tmpl;
}
static void g_name_32(spec *s) { s->set[1].name = "abcdefghijabcdefghijabcdefghij12"; }
static void g_text_64_utf8(spec *s)
{
    /* 32 two-byte characters: 64 bytes */
    static char t[65];
    for (int i = 0; i < 32; i++) {
        t[2 * i] = (char)0xC3;
        t[2 * i + 1] = (char)0xA4;
    }
    s->o = t;
    s->site = "Zürich 🏔";
}
static void g_ipv6_san(spec *s)
{
    s->set[0].san[2].ip_len = 16;
    memcpy(s->set[0].san[2].ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}
static void g_https_variants(spec *s)
{
    s->prof[0].url = "https://[2001:db8::1]:8443/scep?op=x&a=%20";
    s->prof[1].url = "http://ca/";
}
static void g_acme(spec *s) { s->prof[1].protocol = 2; s->prof[1].url = "https://acme.example/dir"; }
static void g_uris(spec *s) { s->set[1].uri = "PKCS11:token=My%20Token;object=oauth;id=%01%02"; }
static void g_uri_bare(spec *s) { s->set[0].uri = "pkcs11:"; }
static void g_no_subject_attrs(spec *s) { s->o = NULL; s->c = NULL; }
static void g_all_limits(spec *s)
{
    m_derived_too_many(s);
    s->set[1].nsan = 3; /* 24 + CN = 25 names */
    s->addr_present = 1;
    s->naddr = CW_TOPO_ADDRESSES_MAX;
    for (size_t i = 0; i < s->naddr; i++) {
        s->addr_len[i] = 16;
    }
}
static void g_ec_on_offline_and_acme(spec *s) { s->prof[1].key = 5; s->set[1].key = NO; }
static void g_same_role_name_different_set_names(spec *s) { s->set[1].name = "web2"; }
static void g_sets_at_limit(spec *s)
{
    m_sets_too_many(s);
    s->nset = CW_TOPO_SETS_MAX;
}

static const good_case good_cases[] = {
    {"renewal 1 and 99", g_renew_1_99},
    {"poll 10 and 86400", g_poll_edges},
    {"fingerprint 32 bytes", g_fp_32},
    {"wildcard SAN template", g_wildcard},
    {"wildcard CN", g_cn_wildcard},
    {"63-byte label", g_label_63},
    {"253-byte name", g_name_253},
    {"32-byte name", g_name_32},
    {"64 bytes of UTF-8 text, emoji in site", g_text_64_utf8},
    {"IPv6 SAN", g_ipv6_san},
    {"https with IPv6 literal, port, query", g_https_variants},
    {"acme profile", g_acme},
    {"token URI with escapes, upper-case scheme", g_uris},
    {"token URI pkcs11: alone", g_uri_bare},
    {"subject without attributes", g_no_subject_attrs},
    {"domains, addresses and names at their limits", g_all_limits},
    {"EC on offline profile", g_ec_on_offline_and_acme},
    {"plain rename", g_same_role_name_different_set_names},
    {"sets at their limit", g_sets_at_limit},
};

static void test_accepted_at_the_edges(void **state)
{
    static spec s;
    static uint8_t der[3 * CW_TOPO_DER_MAX];
    size_t failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
        size_t n;
        cw_err e;

        base_spec(&s);
        good_cases[i].mutate(&s);
        n = build(&s, der, sizeof der);
        e = cw_topology_decode(&topo, der, n);
        if (e != CW_OK) {
            print_error("%s: %s at \"%s\"\n", good_cases[i].what, cw_err_name(e),
                        cw_topology_error_path(&topo));
            failures++;
            continue;
        }
        for (size_t k = 0; k < cw_topology_set_count(&topo); k++) {
            assert_int_equal(cw_topology_derive(&topo, k, &derived), CW_OK);
            assert_true(derived.san_count >= 1);
        }
    }
    assert_int_equal(failures, 0);
}

/* SAN duplicates after expansion are dropped, comparing DNS names without regard to case. */
static void test_derivation_drops_duplicates(void **state)
{
    static spec s;
    static uint8_t der[3 * CW_TOPO_DER_MAX];
    size_t n;

    (void)state;
    base_spec(&s);
    s.set[0].cn = "SIP.example.com";
    s.set[0].san[0].dns = "sip.{domain}";      /* sip.example.com is the CN already */
    s.set[0].san[1].dns = "{host}";
    s.set[0].san[3].dns = "EDGE.example.com";  /* the host again, in capitals */
    s.set[0].san[4] = s.set[0].san[2];          /* the IP again */
    s.set[0].nsan = 5;
    n = build(&s, der, sizeof der);
    assert_int_equal(cw_topology_decode(&topo, der, n), CW_OK);
    assert_int_equal(cw_topology_derive(&topo, 0, &derived), CW_OK);
    assert_int_equal(derived.san_count, 4);
    assert_string_equal(cw_topology_san_dns(&derived, 0), "SIP.example.com");
    assert_string_equal(cw_topology_san_dns(&derived, 1), "sip.example.net");
    assert_string_equal(cw_topology_san_dns(&derived, 2), "edge.example.com");
    assert_int_equal(derived.san[3].type, CW_TOPO_SAN_IP);
}

/* ---- formatting ---------------------------------------------------------------------------- */

static void test_subject_escaping_and_measuring(void **state)
{
    char out[128];
    size_t n;

    (void)state;
    memset(&derived, 0, sizeof derived);
    strcpy(derived.cn, "a.example");
    strcpy(derived.organization, "Smith, Jones + Partners \"SJP\"");
    strcpy(derived.organizational_unit, "#1 <team>;\\");
    strcpy(derived.country, "GB");
    assert_int_equal(cw_topology_subject_format(&derived, NULL, 0, &n), CW_ERR_BUFFER_SMALL);
    assert_int_equal(cw_topology_subject_format(&derived, out, n, &n), CW_ERR_BUFFER_SMALL);
    assert_string_equal(out, "");
    assert_int_equal(cw_topology_subject_format(&derived, out, n + 1, &n), CW_OK);
    assert_string_equal(out, "CN=a.example,OU=\\#1 \\<team\\>\\;\\\\,"
                             "O=Smith\\, Jones \\+ Partners \\\"SJP\\\",C=GB");
    assert_int_equal(n, strlen(out));
}

static void test_format_ip_matches_inet_ntop(void **state)
{
    uint8_t ip[16];
    char mine[48];
    char theirs[INET6_ADDRSTRLEN];
    size_t n;
    unsigned seed = 12345;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        for (size_t i = 0; i < 16; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly zero groups, so that runs of zeros are common */
            ip[i] = (seed >> 16) % 4 == 0 ? (uint8_t)(seed >> 8) : 0;
        }
        if (round % 7 == 0) {
            memcpy(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
        }
        /* glibc writes ::/96 addresses other than ::1 as IPv4-compatible ("::1.2.3.4"), which
         * RFC 5952 does not ask for; certwiz writes them in hex */
        if (memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0) {
            continue;
        }
        assert_int_equal(cw_topology_format_ip(ip, 16, mine, sizeof mine, &n), CW_OK);
        assert_non_null(inet_ntop(AF_INET6, ip, theirs, sizeof theirs));
        assert_string_equal(mine, theirs);
        assert_int_equal(n, strlen(mine));
    }
    assert_int_equal(cw_topology_format_ip((const uint8_t *)"\x0a\x00\x02\x0f", 4, mine,
                                           sizeof mine, &n), CW_OK);
    assert_string_equal(mine, "10.0.2.15");
    assert_int_equal(cw_topology_format_ip((const uint8_t *)"\xff\xff\xff\xff", 4, mine, 15, &n),
                     CW_ERR_BUFFER_SMALL);
    assert_int_equal(n, 15);
    assert_int_equal(cw_topology_format_ip(ip, 5, mine, sizeof mine, &n), CW_ERR_INVALID_ARG);
}

static void test_names_and_bad_arguments(void **state)
{
    size_t i;

    (void)state;
    assert_string_equal(cw_topology_key_type_name(CW_KEY_EC_P384), "ecP384");
    assert_null(cw_topology_key_type_name(CW_KEY_NONE));
    assert_string_equal(cw_topology_protocol_name(CW_TOPO_ACME), "acme");
    assert_null(cw_topology_protocol_name((cw_topo_protocol)7));
    assert_int_equal(cw_topology_decode(NULL, example, example_len), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_topology_decode(&topo, NULL, 5), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_topology_decode(&topo, example, example_len), CW_OK);
    assert_int_equal(cw_topology_derive(&topo, 3, &derived), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_topology_derive(&topo, 0, NULL), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_topology_find_set(&topo, NULL, 0, &i), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_topology_set_for_role(NULL, "x", 1, &i), CW_ERR_INVALID_ARG);
    assert_int_equal(cw_topology_set_count(NULL), 0);
    assert_string_equal(cw_topology_error_path(NULL), "");
    /* a failed decode leaves nothing to iterate */
    assert_int_equal(cw_topology_decode(&topo, example, example_len - 1), CW_ERR_TRUNCATED);
    assert_int_equal(cw_topology_set_count(&topo), 0);
    assert_int_equal(cw_topology_role_count(&topo), 0);
    assert_int_equal(cw_topology_set_for_role(&topo, "Default", 7, &i), CW_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_example_decodes, teardown),
        cmocka_unit_test_teardown(test_example_derivation, teardown),
        cmocka_unit_test_teardown(test_derived_is_a_copy, teardown),
        cmocka_unit_test_teardown(test_truncated_at_every_length, teardown),
        cmocka_unit_test_teardown(test_each_trailing_byte, teardown),
        cmocka_unit_test_teardown(test_outer_length_forms, teardown),
        cmocka_unit_test_teardown(test_every_byte_flip_is_handled, teardown),
        cmocka_unit_test_teardown(test_base_spec_is_valid, teardown),
        cmocka_unit_test_teardown(test_invalid_blobs, teardown),
        cmocka_unit_test_teardown(test_accepted_at_the_edges, teardown),
        cmocka_unit_test_teardown(test_derivation_drops_duplicates, teardown),
        cmocka_unit_test_teardown(test_subject_escaping_and_measuring, teardown),
        cmocka_unit_test_teardown(test_format_ip_matches_inet_ntop, teardown),
        cmocka_unit_test_teardown(test_names_and_bad_arguments, teardown),
    };
    cw_arena_init();
    return cmocka_run_group_tests_name("topology", tests, load_example, NULL);
}
