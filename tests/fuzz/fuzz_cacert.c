/*
 * fuzz_cacert.c: arbitrary bytes as a GetCACert answer (a DER certificate or a certs-only
 * PKCS#7, DER or BER): cw_scep_parse_cacert, and the IssuerAndSubject of a CertPoll built from
 * the CA it picked with the same bytes as the CSR.
 * Properties: no crash or sanitizer report, every view stays inside the input, the picked
 * certificates are among the listed ones, the arena is empty afterwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/scep/cw_scep_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool listed(const cw_scep_ca_t *c, const cw_der_t *d)
{
    for (size_t i = 0; i < c->all.n; i++) {
        if (c->all.cert[i].p == d->p && c->all.cert[i].len == d->len) {
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static uint8_t out[8192];
    cw_scep_ca_t c;
    cw_arena_stats_t s;

    if (!ready) {
        cw_arena_init();
        ready = 1;
    }
    if (cw_scep_parse_cacert(data, size, &c) == CW_OK) {
        size_t len = 0;
        for (size_t i = 0; i < c.all.n; i++) {
            if (c.all.cert[i].p < data || c.all.cert[i].p + c.all.cert[i].len > data + size) {
                abort();
            }
        }
        if (!listed(&c, &c.ca) || !listed(&c, &c.signer) || !listed(&c, &c.recipient)) {
            abort();
        }
        (void)cw_scep_issuer_and_subject(&c.ca, data, size, out, sizeof out, &len);
    }
    cw_arena_stats(&s);
    if (s.used != 0) {
        abort();
    }
    return 0;
}
