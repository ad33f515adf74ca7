/*
 * cw_store.c: certwiz's records in the token (cw_store.h).
 */
#include "cw/pki/cw_store.h"

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_der.h"
#include "cw/base/cw_fault.h"
#include "mbedtls/asn1.h"
#include "mbedtls/asn1write.h"

#define LABEL_PREFIX CW_STORE_APPLICATION "."
#define PENDING_VERSION 1

/* ---- public or private (docs/store.md, docs/decisions.md 39) ---------------------------------- */

static bool records_private;

bool cw_store_records_private(void)
{
    return records_private;
}

/* A record: public, so the device reads it before a login, unless the token refused a public one
 * (tpm2-pkcs11: CKR_ATTRIBUTE_VALUE_INVALID); then private, this one and every later one. */
static cw_err create_record(cw_p11_ctx *p11, const char *label, const uint8_t *value, size_t len, CK_OBJECT_HANDLE *h)
{
    cw_err e = CW_ERR_FROM_P11(CKR_TEMPLATE_INCONSISTENT);
    if (!records_private) {
        e = cw_p11_data_create(p11, CW_STORE_APPLICATION, label, false, value, len, h);
    }
    if (CW_ERR_IS_P11(e, CKR_ATTRIBUTE_VALUE_INVALID) || CW_ERR_IS_P11(e, CKR_TEMPLATE_INCONSISTENT)) {
        records_private = true;
        e = cw_p11_data_create(p11, CW_STORE_APPLICATION, label, true, value, len, h);
    }
    return e;
}

/* ---- sequenced records ------------------------------------------------------------------------ */

/* If label is "certwiz.<kind>.<decimal>", stores the number in *seq. */
static bool parse_seq_label(const char *label, size_t len, const char *kind, uint32_t *seq)
{
    size_t plen = strlen(LABEL_PREFIX);
    size_t klen = strlen(kind);
    uint64_t v = 0;
    size_t i = plen + klen + 1;

    if (len <= i || memcmp(label, LABEL_PREFIX, plen) != 0 || memcmp(label + plen, kind, klen) != 0 ||
        label[plen + klen] != '.' || len - i > 10) {
        return false;
    }
    for (; i < len; i++) {
        if (label[i] < '0' || label[i] > '9') {
            return false;
        }
        v = v * 10u + (uint64_t)(label[i] - '0');
    }
    if (v > UINT32_MAX) {
        return false;
    }
    *seq = (uint32_t)v;
    return true;
}

/* Every certwiz record's handle. */
static cw_err find_records(cw_p11_ctx *p11, const char *label, CK_OBJECT_HANDLE *h, size_t cap, size_t *n)
{
    cw_p11_match_t m;
    cw_err e;

    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_DATA;
    m.application = CW_STORE_APPLICATION;
    m.label = label;
    e = cw_p11_find(p11, &m, h, cap, n);
    if (e == CW_ERR_BUFFER_SMALL) {
        return CW_ERR_TOO_LARGE; /* more certwiz records than any state of certwiz makes */
    }
    return e;
}

CW_NOINLINE static cw_err read_label(cw_p11_ctx *p11, CK_OBJECT_HANDLE h, char *label, size_t cap, size_t *len)
{
    cw_err e = cw_p11_read_attr(p11, h, CKA_LABEL, (uint8_t *)label, cap - 1, len);
    if (e == CW_ERR_BUFFER_SMALL) {
        *len = 0; /* not one of ours: ours are short */
        label[0] = '\0';
        return CW_OK;
    }
    if (e == CW_OK) {
        label[*len] = '\0';
    }
    return e;
}

cw_err cw_store_seq_read(cw_p11_ctx *p11, const char *kind, cw_store_validate_fn validate, void *arg,
                         uint8_t *buf, size_t cap, size_t *len, uint32_t *seq)
{
    CK_OBJECT_HANDLE h[CW_STORE_RECORDS_MAX];
    uint32_t seqs[CW_STORE_RECORDS_MAX];
    bool mine[CW_STORE_RECORDS_MAX];
    size_t n = 0;
    size_t best = SIZE_MAX;
    cw_err e = find_records(p11, NULL, h, CW_STORE_RECORDS_MAX, &n);

    if (e != CW_OK) {
        return e;
    }
    for (size_t i = 0; i < n; i++) {
        char label[CW_STORE_LABEL_MAX + 1];
        size_t ll = 0;
        mine[i] = false;
        e = read_label(p11, h[i], label, sizeof label, &ll);
        if (e != CW_OK) {
            return e;
        }
        mine[i] = parse_seq_label(label, ll, kind, &seqs[i]);
    }
    /* Newest first: try candidates in descending sequence order until one validates. */
    for (;;) {
        size_t cand = SIZE_MAX;
        size_t vlen = 0;
        for (size_t i = 0; i < n; i++) {
            if (mine[i] && (cand == SIZE_MAX || seqs[i] > seqs[cand])) {
                cand = i;
            }
        }
        if (cand == SIZE_MAX) {
            break;
        }
        e = cw_p11_read_attr(p11, h[cand], CKA_VALUE, buf, cap, &vlen);
        if (e == CW_OK && (validate == NULL || validate(buf, vlen, arg) == CW_OK)) {
            best = cand;
            *len = vlen;
            *seq = seqs[cand];
            break;
        }
        /* unreadable or invalid: a half-made record; remove it and look further */
        (void)cw_p11_destroy(p11, h[cand]);
        mine[cand] = false;
    }
    for (size_t i = 0; i < n; i++) {
        if (mine[i] && i != best) {
            (void)cw_p11_destroy(p11, h[i]); /* older records left by a cut */
        }
    }
    return best == SIZE_MAX ? CW_ERR_NOT_FOUND : CW_OK;
}

cw_err cw_store_seq_write(cw_p11_ctx *p11, const char *kind, const uint8_t *value, size_t len, uint32_t *seq)
{
    CK_OBJECT_HANDLE h[CW_STORE_RECORDS_MAX];
    CK_OBJECT_HANDLE created;
    char label[CW_STORE_LABEL_MAX + 1];
    char fault[40];
    size_t n = 0;
    uint32_t next = *seq + 1u;
    cw_err e;

    (void)snprintf(label, sizeof label, LABEL_PREFIX "%s.%lu", kind, (unsigned long)next);
    e = create_record(p11, label, value, len, &created);
    if (e != CW_OK) {
        return e;
    }
    (void)snprintf(fault, sizeof fault, "%s:written", kind);
    cw_fault_point(fault);
    *seq = next;
    e = find_records(p11, NULL, h, CW_STORE_RECORDS_MAX, &n);
    if (e != CW_OK) {
        return CW_OK; /* the new record is in; the old ones go at the next boot */
    }
    for (size_t i = 0; i < n; i++) {
        char l[CW_STORE_LABEL_MAX + 1];
        size_t ll = 0;
        uint32_t s;
        if (read_label(p11, h[i], l, sizeof l, &ll) == CW_OK && parse_seq_label(l, ll, kind, &s) && s != next) {
            (void)cw_p11_destroy(p11, h[i]);
        }
    }
    return CW_OK;
}

/* ---- DER helpers ------------------------------------------------------------------------------ */

/* What a writer (r: its result) wrote backwards from the end of out (cap bytes): moved to the
 * front, *len set. A writer's error as certwiz's: the record did not fit, or the writer refused. */
static cw_err der_finish(int r, uint8_t *out, size_t cap, size_t total, size_t *len)
{
    if (r < 0) {
        return r == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? CW_ERR_BUFFER_SMALL : CW_ERR_INTERNAL;
    }
    memmove(out, out + cap - total, total);
    *len = total;
    return CW_OK;
}

/* Reads a UTF8String of at most max bytes into out (NUL-terminated). */
static cw_err get_name(unsigned char **p, const unsigned char *end, char *out, size_t max)
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_UTF8_STRING) != 0 || len == 0 || len > max ||
        memchr(*p, '\0', len) != NULL) {
        return CW_ERR_MALFORMED;
    }
    memcpy(out, *p, len);
    out[len] = '\0';
    *p += len;
    return CW_OK;
}

static cw_err get_id(unsigned char **p, const unsigned char *end, uint8_t *out, size_t *out_len)
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 || len == 0 || len > CW_P11_KEY_ID_LEN) {
        return CW_ERR_MALFORMED;
    }
    memcpy(out, *p, len);
    *out_len = len;
    *p += len;
    return CW_OK;
}

/* ---- role table ------------------------------------------------------------------------------- */

static int write_role_table(const cw_role_table_t *t, unsigned char **p, unsigned char *out, size_t *total)
{
    for (size_t i = t->n; i-- > 0;) {
        const cw_role_assignment_t *a = &t->a[i];
        size_t start = *total;
        CW_DER_W(mbedtls_asn1_write_octet_string(p, out, a->cert_id, a->cert_id_len));
        CW_DER_W(mbedtls_asn1_write_utf8_string(p, out, a->set, strlen(a->set)));
        CW_DER_W(mbedtls_asn1_write_utf8_string(p, out, a->role, strlen(a->role)));
        CW_DER_W(mbedtls_asn1_write_len(p, out, *total - start));
        CW_DER_W(mbedtls_asn1_write_tag(p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    }
    CW_DER_W(mbedtls_asn1_write_len(p, out, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

cw_err cw_role_table_encode(const cw_role_table_t *t, uint8_t *out, size_t cap, size_t *len)
{
    unsigned char *p = out + cap;
    size_t total = 0;
    int r = write_role_table(t, &p, out, &total);
    return der_finish(r, out, cap, total, len);
}

cw_err cw_role_table_decode(cw_role_table_t *t, const uint8_t *der, size_t len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + len;
    size_t seq;

    memset(t, 0, sizeof *t);
    if (mbedtls_asn1_get_tag(&p, end, &seq, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 || p + seq != end) {
        return CW_ERR_MALFORMED;
    }
    while (p < end) {
        cw_role_assignment_t *a;
        const unsigned char *item_end;
        if (t->n == CW_STORE_ROLES_MAX) {
            return CW_ERR_TOO_LARGE;
        }
        a = &t->a[t->n];
        if (mbedtls_asn1_get_tag(&p, end, &seq, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return CW_ERR_MALFORMED;
        }
        item_end = p + seq;
        if (get_name(&p, item_end, a->role, CW_STORE_NAME_MAX) != CW_OK ||
            get_name(&p, item_end, a->set, CW_STORE_NAME_MAX) != CW_OK ||
            get_id(&p, item_end, a->cert_id, &a->cert_id_len) != CW_OK || p != item_end) {
            return CW_ERR_MALFORMED;
        }
        if (cw_role_table_find(t, a->role) != NULL) {
            return CW_ERR_MALFORMED; /* a role twice */
        }
        t->n++;
    }
    return CW_OK;
}

const cw_role_assignment_t *cw_role_table_find(const cw_role_table_t *t, const char *role)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->a[i].role, role) == 0) {
            return &t->a[i];
        }
    }
    return NULL;
}

cw_err cw_role_table_assign(cw_role_table_t *t, const char *role, const char *set, const uint8_t *id,
                            size_t id_len)
{
    cw_role_assignment_t *a = (cw_role_assignment_t *)(uintptr_t)cw_role_table_find(t, role);

    if (strlen(role) > CW_STORE_NAME_MAX || strlen(set) > CW_STORE_NAME_MAX || id_len == 0 ||
        id_len > CW_P11_KEY_ID_LEN) {
        return CW_ERR_INVALID_ARG;
    }
    if (a == NULL) {
        if (t->n == CW_STORE_ROLES_MAX) {
            return CW_ERR_TOO_LARGE;
        }
        a = &t->a[t->n++];
        strcpy(a->role, role);
    }
    strcpy(a->set, set);
    memcpy(a->cert_id, id, id_len);
    a->cert_id_len = id_len;
    return CW_OK;
}

/* ---- pending requests ------------------------------------------------------------------------- */

static int write_pending(const cw_pending_t *pr, unsigned char **p, unsigned char *out, size_t *total)
{
    if (pr->online) {
        /* online [0] IMPLICIT SEQUENCE { messageType, transactionId, signerKeyId OPTIONAL } */
        size_t start = *total;
        if (pr->held) {
            CW_DER_W(mbedtls_asn1_write_bool(p, out, 1));
        }
        if (pr->signer_id_len > 0) {
            CW_DER_W(mbedtls_asn1_write_octet_string(p, out, pr->signer_id, pr->signer_id_len));
        }
        CW_DER_W(mbedtls_asn1_write_printable_string(p, out, pr->txid, strlen(pr->txid)));
        CW_DER_W(mbedtls_asn1_write_int(p, out, pr->msg_type));
        CW_DER_W(mbedtls_asn1_write_len(p, out, *total - start));
        CW_DER_W(mbedtls_asn1_write_tag(p, out, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
    }
    CW_DER_W(mbedtls_asn1_write_octet_string(p, out, pr->csr, pr->csr_len));
    {
        /* created: a non-negative INTEGER of up to 8 bytes, minimal */
        uint8_t v[9];
        size_t n = 0;
        uint64_t c = pr->created > 0 ? (uint64_t)pr->created : 0u;
        do {
            v[8 - n++] = (uint8_t)(c & 0xFFu);
            c >>= 8;
        } while (c != 0);
        if (v[9 - n] & 0x80u) {
            v[8 - n++] = 0;
        }
        CW_DER_W(mbedtls_asn1_write_raw_buffer(p, out, v + 9 - n, n));
        CW_DER_W(mbedtls_asn1_write_len(p, out, n));
        CW_DER_W(mbedtls_asn1_write_tag(p, out, MBEDTLS_ASN1_INTEGER));
    }
    CW_DER_W(mbedtls_asn1_write_octet_string(p, out, pr->key_id, pr->key_id_len));
    CW_DER_W(mbedtls_asn1_write_int(p, out, PENDING_VERSION));
    CW_DER_W(mbedtls_asn1_write_len(p, out, *total));
    CW_DER_W(mbedtls_asn1_write_tag(p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return 0;
}

cw_err cw_pending_encode(const cw_pending_t *pr, uint8_t *out, size_t cap, size_t *len)
{
    unsigned char *p = out + cap;
    size_t total = 0;
    size_t txid_len = strlen(pr->txid);
    int r;

    if (pr->online && (txid_len == 0 || txid_len > CW_PENDING_TXID_MAX)) {
        return CW_ERR_INVALID_ARG;
    }
    r = write_pending(pr, &p, out, &total);
    return der_finish(r, out, cap, total, len);
}

/* The optional online part of a pending record, from p to the end of the record. */
static cw_err decode_online(cw_pending_t *pr, unsigned char *p, const unsigned char *end)
{
    size_t len;
    int type;

    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) != 0 ||
        p + len != end || mbedtls_asn1_get_int(&p, end, &type) != 0 || (type != 17 && type != 19) ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_PRINTABLE_STRING) != 0 || len == 0 ||
        len > CW_PENDING_TXID_MAX) {
        return CW_ERR_MALFORMED;
    }
    pr->online = true;
    pr->msg_type = (uint8_t)type;
    memcpy(pr->txid, p, len);
    pr->txid[len] = '\0';
    p += len;
    if (p != end && *p == MBEDTLS_ASN1_OCTET_STRING && get_id(&p, end, pr->signer_id, &pr->signer_id_len) != CW_OK) {
        return CW_ERR_MALFORMED;
    }
    if (p != end) {
        int held = 0;
        if (mbedtls_asn1_get_bool(&p, end, &held) != 0 || !held) {
            return CW_ERR_MALFORMED; /* DER: a DEFAULT FALSE is left out, never written */
        }
        pr->held = true;
    }
    return p == end ? CW_OK : CW_ERR_MALFORMED;
}

cw_err cw_pending_decode(cw_pending_t *pr, const uint8_t *der, size_t len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + len;
    size_t seq;
    int version;
    size_t ilen;

    memset(pr, 0, sizeof *pr);
    if (mbedtls_asn1_get_tag(&p, end, &seq, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 || p + seq != end ||
        mbedtls_asn1_get_int(&p, end, &version) != 0 || version != PENDING_VERSION ||
        get_id(&p, end, pr->key_id, &pr->key_id_len) != CW_OK ||
        mbedtls_asn1_get_tag(&p, end, &ilen, MBEDTLS_ASN1_INTEGER) != 0 || ilen == 0 || ilen > 9 || (*p & 0x80u)) {
        return CW_ERR_MALFORMED;
    }
    for (size_t i = 0; i < ilen; i++) {
        pr->created = (int64_t)(((uint64_t)pr->created << 8) | p[i]);
    }
    p += ilen;
    if (mbedtls_asn1_get_tag(&p, end, &pr->csr_len, MBEDTLS_ASN1_OCTET_STRING) != 0 || pr->csr_len == 0) {
        return CW_ERR_MALFORMED;
    }
    pr->csr = p;
    p += pr->csr_len;
    return p == end ? CW_OK : decode_online(pr, p, end);
}

static void pending_label(char *label, size_t cap, const char *set)
{
    (void)snprintf(label, cap, LABEL_PREFIX "pending.%s", set);
}

cw_err cw_pending_load(cw_p11_ctx *p11, const char *set, uint8_t *buf, size_t cap, cw_pending_t *pr)
{
    char label[CW_STORE_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h[2];
    size_t n = 0;
    size_t len = 0;
    cw_err e;

    pending_label(label, sizeof label, set);
    e = find_records(p11, label, h, 2, &n);
    if (e != CW_OK) {
        return e;
    }
    if (n == 0) {
        return CW_ERR_NO_PENDING;
    }
    e = cw_p11_read_attr(p11, h[0], CKA_VALUE, buf, cap, &len);
    if (e != CW_OK) {
        return e;
    }
    return cw_pending_decode(pr, buf, len);
}

cw_err cw_pending_store(cw_p11_ctx *p11, const char *set, const cw_pending_t *pr, uint8_t *scratch, size_t cap)
{
    char label[CW_STORE_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h;
    CK_OBJECT_HANDLE old[4];
    size_t nold = 0;
    size_t len = 0;
    cw_err e = cw_pending_encode(pr, scratch, cap, &len);

    if (e != CW_OK) {
        return e;
    }
    /* Replace: the new record first, then the old ones. A cut in between leaves two records of
     * the same request; either is a valid state of it, and the next store or remove tidies up. */
    pending_label(label, sizeof label, set);
    e = find_records(p11, label, old, sizeof old / sizeof old[0], &nold);
    if (e == CW_OK) {
        e = create_record(p11, label, scratch, len, &h);
    }
    for (size_t i = 0; e == CW_OK && i < nold; i++) {
        e = cw_p11_destroy(p11, old[i]);
    }
    return e;
}

cw_err cw_pending_remove(cw_p11_ctx *p11, const char *set)
{
    char label[CW_STORE_LABEL_MAX + 1];
    CK_OBJECT_HANDLE h[4];
    size_t n = 0;
    cw_err e;

    pending_label(label, sizeof label, set);
    e = find_records(p11, label, h, 4, &n);
    for (size_t i = 0; e == CW_OK && i < n; i++) {
        e = cw_p11_destroy(p11, h[i]);
    }
    return e;
}
