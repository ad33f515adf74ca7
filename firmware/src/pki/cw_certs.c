/*
 * cw_certs.c: certificates in the token, a set's and a profile's CAs (cw_certs.h).
 */
#include "cw/pki/cw_certs.h"

#include <stdio.h>
#include <string.h>

#define CA_LABEL_PREFIX "ca:"

cw_err cw_certs_find(cw_p11_ctx *p11, const char *label, unsigned long category, CK_OBJECT_HANDLE *h, size_t cap,
                     size_t *n)
{
    CK_OBJECT_HANDLE all[CW_CERTS_PER_LABEL_MAX];
    size_t total = 0;
    cw_p11_match_t m;
    cw_err e;

    *n = 0;
    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_CERTIFICATE;
    m.label = label;
    e = cw_p11_find(p11, &m, all, CW_CERTS_PER_LABEL_MAX, &total);
    if (e == CW_ERR_BUFFER_SMALL) {
        e = CW_ERR_TOO_LARGE;
    }
    for (size_t i = 0; e == CW_OK && i < total; i++) {
        CK_ULONG cat = 0;
        size_t len = 0;
        if (cw_p11_read_attr(p11, all[i], CKA_CERTIFICATE_CATEGORY, (uint8_t *)&cat, sizeof cat, &len) == CW_OK &&
            len == sizeof cat && cat == category && *n < cap) {
            h[(*n)++] = all[i];
        }
    }
    return e;
}

cw_err cw_certs_read(cw_p11_ctx *p11, CK_OBJECT_HANDLE h, uint8_t *buf, size_t cap, size_t *len, uint8_t *id,
                     size_t *id_len)
{
    cw_err e = cw_p11_read_attr(p11, h, CKA_VALUE, buf, cap, len);
    if (e == CW_OK && id != NULL) {
        e = cw_p11_read_attr(p11, h, CKA_ID, id, CW_P11_KEY_ID_LEN, id_len);
    }
    return e;
}

cw_err cw_certs_of_set(cw_p11_ctx *p11, const char *set, const uint8_t *id, size_t id_len, uint8_t *buf, size_t cap,
                       cw_set_cert_t *out)
{
    CK_OBJECT_HANDLE h[CW_CERTS_PER_LABEL_MAX];
    size_t n = 0;
    cw_err e = cw_certs_find(p11, set, CW_P11_CERT_CATEGORY_USER, h, CW_CERTS_PER_LABEL_MAX, &n);

    memset(out, 0, sizeof *out);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        uint8_t cid[CW_P11_KEY_ID_LEN];
        size_t cid_len = 0;
        size_t len = 0;
        cw_cert_summary_t s;
        if (cw_certs_read(p11, h[i], buf, cap, &len, cid, &cid_len) != CW_OK) {
            continue;
        }
        if (id != NULL && (cid_len != id_len || memcmp(cid, id, id_len) != 0)) {
            continue;
        }
        cw_der_t d = {buf, len};
        if (cw_import_summary(&d, &s) != CW_OK) {
            continue;
        }
        if (!out->found || s.not_before > out->sum.not_before) {
            out->found = true;
            memcpy(out->id, cid, cid_len);
            out->id_len = cid_len;
            out->sum = s;
        }
    }
    return e;
}

cw_err cw_certs_read_by_id(cw_p11_ctx *p11, const char *set, const uint8_t *id, size_t id_len, uint8_t *buf,
                           size_t cap, size_t *len)
{
    CK_OBJECT_HANDLE h[CW_CERTS_PER_LABEL_MAX];
    size_t n = 0;
    cw_err e = cw_certs_find(p11, set, CW_P11_CERT_CATEGORY_USER, h, CW_CERTS_PER_LABEL_MAX, &n);

    for (size_t i = 0; e == CW_OK && i < n; i++) {
        uint8_t cid[CW_P11_KEY_ID_LEN];
        size_t cid_len = 0;
        e = cw_certs_read(p11, h[i], buf, cap, len, cid, &cid_len);
        if (e == CW_OK && cid_len == id_len && memcmp(cid, id, id_len) == 0) {
            return CW_OK;
        }
    }
    return e != CW_OK ? e : CW_ERR_NO_CERTIFICATE;
}

cw_err cw_certs_store(cw_p11_ctx *p11, const char *set, const cw_der_t *cert, const uint8_t *id, size_t id_len)
{
    CK_OBJECT_HANDLE h;
    return cw_p11_cert_create(p11, cert->p, cert->len, set, id, id_len, CW_P11_CERT_CATEGORY_USER, &h);
}

/* ---- a CA profile's trust ------------------------------------------------------------------- */

static void ca_label(const char *profile, char *label, size_t cap)
{
    (void)snprintf(label, cap, CA_LABEL_PREFIX "%s", profile);
}

cw_err cw_trust_load(cw_p11_ctx *p11, const char *profile, cw_trust_t *t)
{
    char label[CW_CERTS_CA_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h[CW_CERTS_PER_LABEL_MAX];
    size_t n = 0;
    size_t used = 0;
    cw_err e;

    memset(&t->list, 0, sizeof t->list);
    ca_label(profile, label, sizeof label);
    e = cw_certs_find(p11, label, CW_P11_CERT_CATEGORY_AUTHORITY, h, CW_CERTS_PER_LABEL_MAX, &n);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        size_t len = 0;
        e = cw_certs_read(p11, h[i], t->der + used, sizeof t->der - used, &len, NULL, NULL);
        if (e == CW_ERR_BUFFER_SMALL) {
            e = CW_ERR_TOO_LARGE;
        }
        if (e == CW_OK) {
            e = cw_import_collect(t->der + used, len, &t->list);
            used += len;
        }
    }
    return e;
}

cw_err cw_trust_add(cw_p11_ctx *p11, const char *profile, const cw_der_t *cert)
{
    char label[CW_CERTS_CA_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h;
    ca_label(profile, label, sizeof label);
    return cw_p11_cert_create(p11, cert->p, cert->len, label, NULL, 0, CW_P11_CERT_CATEGORY_AUTHORITY, &h);
}

cw_err cw_trust_forget(cw_p11_ctx *p11, const char *profile, size_t *removed)
{
    char label[CW_CERTS_CA_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h[CW_CERTS_PER_LABEL_MAX];
    size_t n = 0;
    cw_err e;

    *removed = 0;
    ca_label(profile, label, sizeof label);
    e = cw_certs_find(p11, label, CW_P11_CERT_CATEGORY_AUTHORITY, h, CW_CERTS_PER_LABEL_MAX, &n);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        e = cw_p11_destroy(p11, h[i]);
        if (e == CW_OK) {
            (*removed)++;
        }
    }
    return e;
}
