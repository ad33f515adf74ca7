/*
 * fuzz_import.c: arbitrary DER as a CA's answer: collect the certificates (X.509 or PKCS#7
 * certs-only), summarise each, and run the full check against the first one's key.
 * Properties: no crash or sanitizer report, views stay inside the input, the arena is empty
 * afterwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw/base/cw_arena.h"
#include "cw/pki/cw_import.h"
#include "mbedtls/x509_crt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    cw_cert_list_t list;
    cw_arena_stats_t s;

    if (!ready) {
        cw_arena_init();
        ready = 1;
    }
    memset(&list, 0, sizeof list);
    if (cw_import_collect(data, size, &list) == CW_OK) {
        static const cw_san_t san[] = {{.kind = CW_SAN_DNS, .dns = "edge1.example.com"}};
        cw_import_expect_t x;
        cw_import_result_t res;
        cw_cert_summary_t sum;
        mbedtls_x509_crt c;
        uint8_t fp[32];

        for (size_t i = 0; i < list.n; i++) {
            if (list.cert[i].p < data || list.cert[i].p + list.cert[i].len > data + size) {
                abort();
            }
            (void)cw_import_summary(&list.cert[i], &sum);
            (void)cw_import_check_ca(&list.cert[i], 1767225600, NULL, &list, fp);
        }
        memset(&x, 0, sizeof x);
        mbedtls_x509_crt_init(&c);
        if (mbedtls_x509_crt_parse_der_nocopy(&c, list.cert[0].p, list.cert[0].len) == 0) {
            x.spki = c.pk_raw.p;
            x.spki_len = c.pk_raw.len;
            x.cn = "edge1.example.com";
            x.san = san;
            x.nsan = 1;
            x.eku = CW_EKU_SERVER_AUTH;
            x.now = 1767225600; /* 2026-01-01 */
            (void)cw_import_check(&list, &x, &res);
        }
        mbedtls_x509_crt_free(&c);
    }
    cw_arena_stats(&s);
    if (s.used != 0) {
        abort();
    }
    return 0;
}
