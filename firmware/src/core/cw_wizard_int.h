/*
 * cw_wizard_int.h: what the wizard (cw_wizard.c) shares with online enrolment (cw_enrol.c).
 * Internal to firmware/src; not part of certwiz's API.
 *
 * The wizard owns the loaded topology, the role table and the import checks; online enrolment
 * gets certificates from a CA and hands them to the same checks as a pasted answer.
 */
#ifndef CW_WIZARD_INT_H
#define CW_WIZARD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/console/cw_console.h"
#include "cw/codec/cw_csr.h"
#include "cw/base/cw_err.h"
#include "cw/pki/cw_import.h"
#include "cw/codec/cw_topology.h"

/* The loaded topology, or NULL. */
/* The set the running command (or enrolment job) works on: cw_topology_derive writes it. */
extern cw_topology_derived cw_wizard_derived;

const cw_topology *cw_wizard_topology(void);

/* The index of the set named name: CW_ERR_NO_TOPOLOGY, CW_ERR_UNKNOWN_SET. */
cw_err cw_wizard_find_set(const char *name, size_t *index);

/* A topology text view as a NUL-terminated string (cut to cap - 1). */
void cw_wizard_view_str(cw_topo_view_t v, char *out, size_t cap);

/* Lower-case hex of v[0..n) into out (2n + 1 bytes). */
void cw_wizard_hex(const uint8_t *v, size_t n, char *out);

/* "<what> SHA-256: <hex>" on the console. */
void cw_wizard_print_fingerprint(cw_console_ctx *con, const char *what, const uint8_t sha256[32]);

/* UTC seconds as "YYYY-MM-DD hh:mm:ss UTC", or "unknown" for 0. */
void cw_wizard_time_text(char *out, size_t cap, int64_t t);

/* The PKCS#10 request a derived set asks for (no challenge). */
void cw_wizard_csr_request(const cw_topology_derived *d, cw_csr_req_t *r);

/* The CA certificates stored for a profile (the wizard's own buffer holds them). */
cw_err cw_wizard_load_trust(const char *profile, cw_cert_list_t *list);

/* Stores cert as a CA certificate of profile ("ca:<profile>", category authority). */
cw_err cw_wizard_store_ca(const char *profile, const cw_der_t *cert);

/* The CA's answer for set's pending request: checked like a pasted one (key, end entity, names,
 * clock, key usage, EKU, chain, and a root the profile may trust: confirmed_root is the one the
 * operator accepted, or NULL), then CA certificates on the path, the certificate, the roles in one
 * step, the pending record removed, what the set no longer needs pruned. Prints what it did.
 * Nothing is stored on error; on CW_ERR_IMPORT_ROOT_UNCONFIRMED *root_index (when not NULL) says
 * which of certs is the root to show the operator. */
cw_err cw_wizard_accept(cw_console_ctx *con, const char *set, const cw_cert_list_t *certs, const uint8_t *confirmed_root,
                        size_t *root_index);

/* The set has a certificate valid at now (UTC seconds; 0: never). */
bool cw_wizard_set_has_valid_cert(const char *set, int64_t now);

/* The certificate the set's roles use: DER into buf, its CKA_ID into id (CW_P11_KEY_ID_LEN).
 * CW_ERR_NO_CERTIFICATE when no role uses one of the set's certificates. */
cw_err cw_wizard_set_cert_der(const char *set, uint8_t *buf, size_t cap, size_t *len, uint8_t *id, size_t *id_len);

/* Removes the set's certificates and keys that nothing uses any more (docs/store.md). */
void cw_wizard_prune(const char *set);

#endif /* CW_WIZARD_INT_H */
