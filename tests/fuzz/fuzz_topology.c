/*
 * fuzz_topology.c: arbitrary bytes as a topology blob.
 * Properties: no crash and no sanitizer report; a blob the decoder accepts derives every set
 * (the decoder promises that), and what it yields is consistent: counts within their limits,
 * every lookup by name finds its own entry, every derived name is NUL-terminated within the
 * derived text, the subject formats with the length it measured; a refused blob leaves nothing
 * to iterate and a NUL-terminated error path. Decoding is deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw/codec/cw_topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

static cw_topology topo;
static cw_topology again;
static cw_topology_derived derived;

static void check_views(const cw_topology *t)
{
    CHECK(t->host.len > 0 && (size_t)t->host.off + t->host.len <= t->der_len);
    for (size_t i = 0; i < t->profile_count; i++) {
        const cw_topo_profile_t *p = &t->profiles[i];
        size_t k;
        CHECK((size_t)p->name.off + p->name.len <= t->der_len);
        CHECK(cw_topology_find_profile(t, cw_topo_chars(t, p->name), p->name.len, &k) == CW_OK);
        CHECK(k == i);
        CHECK(p->fingerprint.len == 0 || p->fingerprint.len == CW_TOPO_FINGERPRINT_LEN);
        CHECK(p->protocol == CW_TOPO_OFFLINE || p->url.len > 0);
    }
    for (size_t i = 0; i < t->role_count; i++) {
        size_t s;
        CHECK(cw_topology_set_for_role(t, cw_topo_chars(t, t->roles[i].name), t->roles[i].name.len,
                                       &s) == CW_OK);
        CHECK(s == t->roles[i].set && s < t->set_count);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cw_err e = cw_topology_decode(&topo, data, size);
    size_t roles = 0;

    CHECK(memchr(topo.err_path, '\0', sizeof topo.err_path) != NULL);
    if (e != CW_OK) {
        CHECK(cw_topology_set_count(&topo) == 0 && cw_topology_role_count(&topo) == 0);
        CHECK(e == CW_ERR_TRUNCATED || ((long)e >= 300 && (long)e < 400));
        return 0;
    }
    CHECK(cw_topology_error_path(&topo)[0] == '\0');
    CHECK(size <= CW_TOPO_DER_MAX);
    CHECK(topo.set_count >= 1 && topo.set_count <= CW_TOPO_SETS_MAX);
    CHECK(topo.profile_count >= 1 && topo.profile_count <= CW_TOPO_PROFILES_MAX);
    CHECK(cw_topology_profile_count(&topo) == topo.profile_count);
    CHECK(topo.role_count >= 1 && topo.role_count <= CW_TOPO_ROLES_MAX);
    check_views(&topo);

    for (size_t i = 0; i < topo.set_count; i++) {
        const cw_topo_set_t *st = &topo.sets[i];
        size_t k;
        size_t n;
        size_t n2;
        char subject[1024];

        CHECK(cw_topology_find_set(&topo, cw_topo_chars(&topo, st->name), st->name.len, &k) ==
              CW_OK);
        CHECK(k == i);
        CHECK(st->role_count >= 1 && st->first_role == roles);
        roles += st->role_count;
        CHECK(st->eku != 0 && (st->eku & ~3u) == 0);

        CHECK(cw_topology_derive(&topo, i, &derived) == CW_OK);
        CHECK(derived.san_count >= 1 && derived.san_count <= CW_TOPO_DERIVED_SANS_MAX);
        CHECK(derived.text_used <= sizeof derived.text);
        CHECK(strlen(derived.cn) >= 1 && strlen(derived.cn) <= CW_TOPO_CN_MAX);
        CHECK(derived.key_type >= CW_KEY_RSA2048 && derived.key_type <= CW_KEY_EC_P384);
        CHECK(!(derived.protocol == CW_TOPO_SCEP && derived.key_type >= CW_KEY_EC_P256));
        CHECK(derived.renew_percent >= 1 && derived.renew_percent <= 99);
        CHECK(derived.poll_seconds >= CW_TOPO_POLL_MIN && derived.poll_seconds <= CW_TOPO_POLL_MAX);
        /* the CN comes first in the SAN list */
        CHECK(cw_topology_san_dns(&derived, 0) != NULL &&
              strcmp(cw_topology_san_dns(&derived, 0), derived.cn) == 0);
        for (size_t s = 0; s < derived.san_count; s++) {
            const cw_topo_name_t *nm = &derived.san[s];
            if (nm->type == CW_TOPO_SAN_DNS) {
                CHECK((size_t)nm->off + nm->len < derived.text_used);
                CHECK(derived.text[nm->off + nm->len] == '\0');
                CHECK(strlen(derived.text + nm->off) == nm->len);
                CHECK(nm->len >= 1 && nm->len <= CW_TOPO_DNS_NAME_MAX);
            } else {
                char ip[48];
                size_t iplen;
                CHECK(nm->type == CW_TOPO_SAN_IP && (nm->len == 4 || nm->len == 16));
                CHECK(cw_topology_format_ip(nm->ip, nm->len, ip, sizeof ip, &iplen) == CW_OK);
                CHECK(iplen == strlen(ip) && iplen >= (nm->len == 4 ? 7u : 2u) && iplen <= 39); /* "::" */
            }
        }
        CHECK(cw_topology_subject_format(&derived, NULL, 0, &n) == CW_ERR_BUFFER_SMALL);
        if (n < sizeof subject) {
            CHECK(cw_topology_subject_format(&derived, subject, sizeof subject, &n2) == CW_OK);
            CHECK(n2 == n && strlen(subject) == n);
        }
    }
    CHECK(roles == topo.role_count);
    CHECK(cw_topology_derive(&topo, topo.set_count, &derived) == CW_ERR_INVALID_ARG);

    /* deterministic: the same bytes decode to the same structure */
    CHECK(cw_topology_decode(&again, data, size) == CW_OK);
    CHECK(memcmp(&again, &topo, sizeof topo) == 0);
    return 0;
}
