/*
 * cw_certs.h: the certificates certwiz keeps in the token (docs/store.md): a set's own
 * (CKO_CERTIFICATE, category 1, labelled with the set's name, CKA_ID of its key) and the CA
 * certificates a CA profile trusts (category 2, labelled "ca:<profile>").
 *
 * Reads copy into the caller's buffers; nothing is kept here.
 */
#ifndef CW_CERTS_H
#define CW_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw/pki/cw_import.h"
#include "cw_p11.h"

/* Most certificate objects of one label looked at (a set's, or a profile's CA certificates). */
#define CW_CERTS_PER_LABEL_MAX 8u
/* "ca:" + a profile name */
#define CW_CERTS_CA_LABEL_MAX (3u + CW_TOPO_NAME_MAX)

/* Handles of the certificates labelled label with CKA_CERTIFICATE_CATEGORY category (at most cap;
 * CW_ERR_TOO_LARGE when the token holds more than CW_CERTS_PER_LABEL_MAX of that label). */
cw_err cw_certs_find(cw_p11_ctx *p11, const char *label, unsigned long category, CK_OBJECT_HANDLE *h, size_t cap,
                     size_t *n);

/* A certificate object's value into buf, and its CKA_ID into id (when id is not NULL; id_cap
 * CW_P11_KEY_ID_LEN). */
cw_err cw_certs_read(cw_p11_ctx *p11, CK_OBJECT_HANDLE h, uint8_t *buf, size_t cap, size_t *len, uint8_t *id,
                     size_t *id_len);

/* A set's certificate: the one whose CKA_ID is id, or with id NULL the newest (latest notBefore).
 * buf (CW_CERT_DER_MAX) is where each candidate is read; on return it holds the last one read,
 * not necessarily the one found. */
typedef struct cw_set_cert_t {
    bool found;
    uint8_t id[CW_P11_KEY_ID_LEN];
    size_t id_len;
    cw_cert_summary_t sum;
} cw_set_cert_t;

cw_err cw_certs_of_set(cw_p11_ctx *p11, const char *set, const uint8_t *id, size_t id_len, uint8_t *buf, size_t cap,
                       cw_set_cert_t *out);

/* The set's certificate with CKA_ID id, its DER into buf. CW_ERR_NO_CERTIFICATE when none. */
cw_err cw_certs_read_by_id(cw_p11_ctx *p11, const char *set, const uint8_t *id, size_t id_len, uint8_t *buf,
                           size_t cap, size_t *len);

/* Stores cert as the set's (category 1, CKA_ID id, labelled set). */
cw_err cw_certs_store(cw_p11_ctx *p11, const char *set, const cw_der_t *cert, const uint8_t *id, size_t id_len);

/* ---- a CA profile's trust --------------------------------------------------------------------- */

/* The CA certificates a profile trusts, read from the token: values in der, views in list. */
typedef struct cw_trust_t {
    uint8_t der[CW_TRUST_DER_MAX];
    cw_cert_list_t list;
} cw_trust_t;

/* Reads the profile's CA certificates into t (CW_ERR_TOO_LARGE when they do not fit der). */
cw_err cw_trust_load(cw_p11_ctx *p11, const char *profile, cw_trust_t *t);

/* Stores cert as one of the profile's CA certificates. */
cw_err cw_trust_add(cw_p11_ctx *p11, const char *profile, const cw_der_t *cert);

/* Removes every CA certificate of the profile; *removed says how many. */
cw_err cw_trust_forget(cw_p11_ctx *p11, const char *profile, size_t *removed);

#endif /* CW_CERTS_H */
