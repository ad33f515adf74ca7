/*
 * fuzz_certrep.c: arbitrary bytes as a SCEP CertRep, checked against the micromdm vector CA
 * (tests/fuzz/corpus/cacert/getcacert.der, read once; run from the repository root as
 * tools/run-fuzz.sh does), and the same bytes through the CMS readers directly: SignedData
 * parse, attribute lookup, certificates, verification, and EnvelopedData opening up to the
 * token call (no token here: a closed session answers CW_ERR_NO_TOKEN).
 * Properties: no crash or sanitizer report, views stay inside the input or the scratch buffer,
 * the arena is empty afterwards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_cms.h"
#include "cw/scep/cw_scep_msg.h"

#define CA_PATH "tests/fuzz/corpus/cacert/getcacert.der"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ca_der[4096];
static cw_der_t ca;
static uint8_t scratch[65536];
static uint8_t plain[65536];

static void load_ca(void)
{
    FILE *f = fopen(CA_PATH, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_certrep: cannot open %s (run from the repository root)\n", CA_PATH);
        abort();
    }
    ca.len = fread(ca_der, 1, sizeof ca_der, f);
    ca.p = ca_der;
    fclose(f);
}

static void inside(const uint8_t *p, size_t len, const uint8_t *data, size_t size)
{
    bool in_data = p >= data && p + len <= data + size;
    bool in_scratch = p >= scratch && p + len <= scratch + sizeof scratch;
    if (len > 0 && !in_data && !in_scratch) {
        abort();
    }
}

static void cms_direct(const uint8_t *data, size_t size)
{
    static const char oid_txid[] = "\x60\x86\x48\x01\x86\xF8\x45\x01\x09\x07";
    cw_cms_signed_t sd;
    cw_cert_list_t certs;
    cw_der_t v;

    if (cw_cms_signed_parse(data, size, scratch, sizeof scratch, &sd) == CW_OK) {
        inside(sd.content.p, sd.content.len, data, size);
        inside(sd.certs.p, sd.certs.len, data, size);
        inside(sd.signed_attrs.p, sd.signed_attrs.len, data, size);
        inside(sd.signature.p, sd.signature.len, data, size);
        if (cw_cms_attr_get(&sd, oid_txid, sizeof oid_txid - 1, 0x13, &v) == CW_OK) {
            inside(v.p, v.len, data, size);
        }
        memset(&certs, 0, sizeof certs);
        (void)cw_cms_signed_certs(&sd, &certs);
        (void)cw_cms_signed_verify(&sd, &ca);
    }
    {
        cw_p11_ctx closed;
        cw_p11_key key;
        size_t len = 0;
        memset(&closed, 0, sizeof closed);
        memset(&key, 0, sizeof key);
        key.type = CW_KEY_RSA2048;
        if (cw_cms_enveloped_open(&closed, &key, data, size, plain, sizeof plain, &len) == CW_OK) {
            abort(); /* nothing can decrypt without a token */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static const uint8_t nonce[CW_SCEP_NONCE_LEN];
    cw_scep_reply_t rep;
    cw_arena_stats_t s;

    if (!ready) {
        cw_arena_init();
        load_ca();
        ready = 1;
    }
    if (cw_scep_reply_parse(data, size, &ca, "txid", nonce, scratch, sizeof scratch, &rep) == CW_OK) {
        inside(rep.envelope, rep.envelope_len, data, size);
        (void)cw_scep_fail_error(&rep);
    }
    cms_direct(data, size);
    cw_arena_stats(&s);
    if (s.used != 0) {
        abort();
    }
    return 0;
}
