/*
 * target_topology.c: the topology decoder (cw_topology.h) on the target, with the example blob
 * docs/examples/edge-appliance.der (made with `cwctl topology compile
 * docs/examples/edge-appliance.json`), compiled in by tests/target/bin2c.sh. The expected values
 * are those of the JSON beside it and of tests/unit/test_topology.c, the host's full suite.
 */
#include <string.h>

#include "cw/codec/cw_topology.h"
#include "target_blobs.h"
#include "target_check.h"

/* Caller-owned and large (cw_topology.h): static, not on the 8 KiB stack. */
static cw_topology topo;
static cw_topology_derived derived;
static uint8_t blob[sizeof edge_appliance_der + 1];

static bool view_is(cw_topo_view_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(cw_topo_chars(&topo, v), s, v.len) == 0;
}

/* What each set of the example derives: its CN, how many SAN names, and one of them. */
static const struct {
    const char *set;
    const char *cn;
    size_t sans;
    size_t san_index;
    const char *san;      /* a DNS name, or NULL: san_index is the IP 10.0.2.15 */
    cw_key_type key;
    cw_topo_protocol protocol;
} want[] = {
    {"default", "edge01.contoso.com", 5, 3, "lyncdiscoverinternal.fabrikam.com", CW_KEY_RSA2048, CW_TOPO_SCEP},
    {"default", "edge01.contoso.com", 5, 4, NULL, CW_KEY_RSA2048, CW_TOPO_SCEP},
    {"external", "sip.contoso.com", 6, 5, "lyncdiscover.fabrikam.com", CW_KEY_RSA2048, CW_TOPO_OFFLINE},
    {"oauth", "contoso.com", 2, 1, "fabrikam.com", CW_KEY_EC_P256, CW_TOPO_OFFLINE},
};

static void test_decode_example(void)
{
    size_t i = 99;

    CHECK(cw_topology_decode(&topo, edge_appliance_der, sizeof edge_appliance_der) == CW_OK);
    CHECK(strcmp(cw_topology_error_path(&topo), "") == 0);
    CHECK(view_is(topo.host, "edge01.contoso.com") && view_is(topo.site, "redmond"));
    CHECK(topo.address_count == 2u && topo.address[0].len == 4u && topo.address[1].len == 16u);
    CHECK(topo.domain_count == 2u && view_is(topo.domain[1], "fabrikam.com"));
    CHECK(view_is(topo.organizational_unit, "Unified Communications") && view_is(topo.country, "US"));
    CHECK(cw_topology_profile_count(&topo) == 2u);
    CHECK(cw_topology_set_count(&topo) == 3u);
    CHECK(cw_topology_role_count(&topo) == 4u);
    CHECK(view_is(topo.profiles[0].url, "http://10.0.2.2:8080/scep") && topo.profiles[0].poll_seconds == 300u);
    CHECK(topo.profiles[1].fingerprint.len == CW_TOPO_FINGERPRINT_LEN && topo.profiles[1].renew_percent == 70u);
    CHECK(cw_topology_set_for_role(&topo, "OAuthTokenIssuer", 16, &i) == CW_OK && i == 2u);
    CHECK(cw_topology_find_profile(&topo, "public-offline", 14, &i) == CW_OK && i == 1u);
    CHECK(cw_topology_find_set(&topo, "External", 8, &i) == CW_ERR_NOT_FOUND); /* names are exact */
    CHECK(topo.sets[2].token_uri.len == 0u); /* the board's token */
}

static void test_derive_each_set(void)
{
    static const uint8_t ip[4] = {10, 0, 2, 15};
    char subject[160];
    size_t n = 0;

    CHECK(cw_topology_decode(&topo, edge_appliance_der, sizeof edge_appliance_der) == CW_OK);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        size_t s = 99;
        size_t j = want[k].san_index;
        CHECK_IN(want[k].set, cw_topology_find_set(&topo, want[k].set, strlen(want[k].set), &s) == CW_OK);
        CHECK_IN(want[k].set, cw_topology_derive(&topo, s, &derived) == CW_OK);
        CHECK_IN(want[k].set, derived.set == s && strcmp(derived.cn, want[k].cn) == 0);
        CHECK_IN(want[k].set, derived.key_type == want[k].key && derived.protocol == want[k].protocol);
        CHECK_IN(want[k].set, derived.san_count == want[k].sans);
        CHECK_IN(want[k].set, strcmp(cw_topology_san_dns(&derived, 0), want[k].cn) == 0); /* the CN first */
        if (want[k].san != NULL) {
            CHECK_IN(want[k].set, j < derived.san_count && cw_topology_san_dns(&derived, j) != NULL &&
                                      strcmp(cw_topology_san_dns(&derived, j), want[k].san) == 0);
        } else {
            CHECK_IN(want[k].set, j < derived.san_count && derived.san[j].type == CW_TOPO_SAN_IP &&
                                      derived.san[j].len == 4u && memcmp(derived.san[j].ip, ip, 4) == 0);
            CHECK_IN(want[k].set, cw_topology_san_dns(&derived, j) == NULL);
        }
    }
    /* the subject of the last set, as RFC 4514 text */
    CHECK(cw_topology_subject_format(&derived, subject, sizeof subject, &n) == CW_OK);
    CHECK(strcmp(subject, "CN=contoso.com,OU=Unified Communications,O=Contoso Ltd,L=Redmond,ST=Washington,C=US") ==
          0);
    CHECK(n == strlen(subject));
    CHECK(cw_topology_derive(&topo, 3, &derived) == CW_ERR_INVALID_ARG);
}

/* Offset of s in the example blob (the test's own search: the blob holds no NUL terminators). */
static size_t find_in_blob(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= sizeof edge_appliance_der; i++) {
        if (memcmp(edge_appliance_der + i, s, n) == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

static void test_refusals(void)
{
    size_t len = sizeof edge_appliance_der;
    size_t wrong = 0;
    size_t host;

    /* every proper prefix ends inside an element: TRUNCATED, and nothing left to iterate */
    for (size_t n = 0; n < len; n++) {
        if (cw_topology_decode(&topo, edge_appliance_der, n) != CW_ERR_TRUNCATED ||
            cw_topology_set_count(&topo) != 0u) {
            wrong++;
        }
    }
    CHECK(wrong == 0u);
    /* one byte too many */
    memcpy(blob, edge_appliance_der, len);
    blob[len] = 0;
    CHECK(cw_topology_decode(&topo, blob, len + 1u) == CW_ERR_TOPO_TRAILING);
    /* the outer SEQUENCE as a SET */
    blob[0] = 0x31;
    CHECK(cw_topology_decode(&topo, blob, len) == CW_ERR_TOPO_TAG);
    /* version 2 (the INTEGER's one content byte is the blob's 7th) */
    memcpy(blob, edge_appliance_der, len);
    CHECK(blob[4] == 0x02 && blob[5] == 0x01 && blob[6] == 0x01);
    blob[6] = 2;
    CHECK(cw_topology_decode(&topo, blob, len) == CW_ERR_TOPO_VERSION);
    CHECK(strcmp(cw_topology_error_path(&topo), "version") == 0);
    /* an underscore in the host name: the error names the field */
    memcpy(blob, edge_appliance_der, len);
    host = find_in_blob("edge01.contoso.com");
    CHECK(host != SIZE_MAX);
    if (host != SIZE_MAX) {
        blob[host + 6] = '_';
        CHECK(cw_topology_decode(&topo, blob, len) == CW_ERR_TOPO_HOST);
        CHECK(strcmp(cw_topology_error_path(&topo), "appliance.host") == 0);
        CHECK(cw_topology_set_count(&topo) == 0u);
    }
    /* the unchanged blob still decodes after all that */
    CHECK(cw_topology_decode(&topo, edge_appliance_der, len) == CW_OK);
}

void target_test_topology(void)
{
    test_decode_example();
    test_derive_each_set();
    test_refusals();
}
