/*
 * cw_roles.c: the roles as the appliance's services see them (cw_roles.h), read from the role
 * model. Events and the job's state are told by cw_events.c and cw_job.c.
 */
#include "cw/cw_roles.h"

#include <stdio.h>
#include <string.h>

#include "cw/core/cw_job.h"
#include "cw/core/cw_life.h"
#include "cw/core/cw_model.h"
#include "cw/core/cw_scratch.h"
#include "cw/core/cw_token.h"
#include "mbedtls/asn1.h"

size_t cw_role_count(void)
{
    const cw_topology *t = cw_model_topology();
    return t != NULL ? cw_topology_role_count(t) : 0u;
}

/* RFC 7512 percent-encoding of the bytes that are not pk11-pchar unreserved. */
static size_t uri_put(char *out, size_t o, size_t cap, const uint8_t *v, size_t n, bool all)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n && o + 4 <= cap; i++) {
        uint8_t c = v[i];
        bool plain = !all && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              c == '-' || c == '.' || c == '_' || c == '~');
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = digits[c >> 4];
            out[o++] = digits[c & 15u];
        }
    }
    out[o] = '\0';
    return o;
}

/* pkcs11:token=<label>;object=<set>;id=<id>;type=<type> */
static void role_uri(char *out, size_t cap, const char *token, const char *set, const uint8_t *id, size_t id_len,
                     const char *type)
{
    size_t o = 0;
    int w = snprintf(out, cap, "pkcs11:token=");
    if (w < 0 || (size_t)w >= cap) {
        out[0] = '\0';
        return;
    }
    o = uri_put(out, (size_t)w, cap, (const uint8_t *)token, strlen(token), false);
    o += (size_t)snprintf(out + o, cap - o, ";object=");
    o = uri_put(out, o, cap, (const uint8_t *)set, strlen(set), false);
    o += (size_t)snprintf(out + o, cap - o, ";id=");
    o = uri_put(out, o, cap, id, id_len, true);
    (void)snprintf(out + o, cap - o, ";type=%s", type);
}

/* The role's pkcs11: URIs, for a service that opens its own session with them. The token's label
 * is read once (it does not change while the token is open). */
static void add_uris(cw_role_info_t *out)
{
    static char label[sizeof ((cw_p11_token_info_t *)0)->label];
    if (!out->has_cert) {
        return;
    }
    if (label[0] == '\0') {
        cw_p11_token_info_t info;
        if (cw_p11_token_info(cw_token_session(), &info) != CW_OK) {
            return;
        }
        (void)snprintf(label, sizeof label, "%s", info.label);
    }
    role_uri(out->key_uri, sizeof out->key_uri, label, out->set, out->cert_id, out->cert_id_len, "private");
    role_uri(out->cert_uri, sizeof out->cert_uri, label, out->set, out->cert_id, out->cert_id_len, "cert");
}

cw_err cw_role_at(size_t i, cw_role_info_t *out)
{
    cw_err e = cw_model_role(i, out);
    if (e == CW_OK) {
        add_uris(out);
    }
    return e;
}

/* The index of the role named name. */
static cw_err find_role(const char *name, size_t *i)
{
    const cw_topology *t = cw_model_topology();

    if (t == NULL) {
        return CW_ERR_NO_TOPOLOGY;
    }
    for (*i = 0; *i < cw_topology_role_count(t); (*i)++) {
        const cw_topo_view_t v = t->roles[*i].name;
        if (v.len == strlen(name) && memcmp(cw_topo_chars(t, v), name, v.len) == 0) {
            return CW_OK;
        }
    }
    return CW_ERR_UNKNOWN_ROLE;
}

cw_err cw_role_get(const char *name, cw_role_info_t *out)
{
    size_t i;
    cw_err e = find_role(name, &i);
    return e != CW_OK ? e : cw_role_at(i, out);
}

cw_err cw_role_certificate(const char *name, uint8_t *buf, size_t cap, size_t *len)
{
    size_t i;
    cw_err e = find_role(name, &i);
    return e != CW_OK ? e : cw_model_role_cert(i, buf, cap, len);
}

/* ---- enrolment without the console ------------------------------------------------------------ */

cw_err cw_roles_load_topology(const uint8_t *der, size_t len)
{
    cw_model_load_t why;
    cw_err e = cw_token_need_login();
    return e != CW_OK ? e : cw_model_load_topology(der, len, &why);
}

cw_err cw_roles_request_offline(const char *set, uint8_t *csr, size_t cap, size_t *csr_len)
{
    cw_topology_derived *d;
    cw_model_request_t out;
    size_t i;
    cw_err e = cw_token_need_login();

    *csr_len = 0;
    if (e == CW_OK) {
        e = cw_model_find_set(set, &i);
    }
    if (e != CW_OK) {
        return e;
    }
    d = cw_scratch_try_claim(CW_SCRATCH_B, CW_SCRATCH_API);
    if (d == NULL) {
        return CW_ERR_BUSY;
    }
    e = cw_model_derive(i, d);
    if (e == CW_OK) {
        e = cw_model_request(d, NULL, 0, csr, cap, &out);
    }
    cw_scratch_release(CW_SCRATCH_B, CW_SCRATCH_API);
    if (e == CW_OK) {
        *csr_len = out.csr_len;
    }
    return e;
}

cw_err cw_roles_import(const char *set, const uint8_t *answer, size_t len, const uint8_t *confirmed_root,
                       uint8_t root_sha256[32])
{
    cw_cert_list_t certs;
    cw_model_accepted_t acc;
    size_t pos = 0;
    cw_err e = cw_token_need_login();

    memset(&certs, 0, sizeof certs);
    /* one DER block after the other: each a whole TLV */
    while (e == CW_OK && pos < len) {
        unsigned char *p = (unsigned char *)(uintptr_t)(answer + pos); /* read only */
        size_t body = 0;
        if (mbedtls_asn1_get_tag(&p, answer + len, &body,
                                 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            e = CW_ERR_IMPORT_FORMAT;
            break;
        }
        size_t block = (size_t)(p - (answer + pos)) + body;
        e = cw_import_collect(answer + pos, block, &certs);
        pos += block;
    }
    if (e != CW_OK) {
        return e;
    }
    e = cw_model_accept(set, &certs, confirmed_root, &acc);
    if (root_sha256 != NULL) {
        memcpy(root_sha256, acc.root_sha256, 32);
    }
    return e;
}

cw_err cw_set_life(const char *set, cw_life_info_t *out)
{
    size_t i;
    cw_err e = cw_model_find_set(set, &i);
    if (e != CW_OK) {
        return e;
    }
    (void)cw_life_info(i, out);
    return CW_OK;
}
