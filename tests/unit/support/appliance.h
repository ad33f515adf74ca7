/*
 * appliance.h: certwiz built into a tiny "appliance" for unit tests: a fresh SoftHSM2 token, the
 * example topology (docs/examples/edge-appliance.der), no console, the appliance's PIN callback,
 * and a CA made by OpenSSL (tests/pki/make-pki.sh) that answers a set's CSR.
 *
 * The example's set `default` belongs to profile lab-scep, which pins no root: an answer there
 * is trusted once its root is confirmed (cw_roles_import's confirmed_root).
 */
#ifndef APPLIANCE_H
#define APPLIANCE_H

#include <stddef.h>
#include <stdint.h>

#include "cw/cw.h"
#include "p11_softhsm.h"

typedef struct appliance_t {
    p11_softhsm_t hsm;
    char pki[64];               /* the CA's directory */
    cw_config_t cfg;
} appliance_t;

/* A token, the CA, and cw_init with the topology loaded. Returns 0 or -1. */
int appliance_start(appliance_t *a);

/* A restart, as after a power cut: cw_shutdown (if up), cw_init again on the same token. */
void appliance_restart(appliance_t *a);

/* cw_shutdown, the token and the CA removed. */
void appliance_stop(appliance_t *a);

/* The CA's answer to csr (DER): the issuing CA's certificate for it (its extensions copied),
 * then the issuing CA and the root, one DER block after the other, into out. Returns its length,
 * 0 on failure. */
size_t appliance_answer(appliance_t *a, const uint8_t *csr, size_t csr_len, uint8_t *out, size_t cap);

/* SHA-256 of the CA's root (the fingerprint to confirm). */
void appliance_root_sha256(appliance_t *a, uint8_t out[32]);

#endif /* APPLIANCE_H */
