/*
 * target_scep.c: the SCEP readers of cw_scep_msg.h on the target, on one real exchange: the
 * GetCACaps and GetCACert answers of micromdm scepserver 2.1.0, captured on loopback
 * (../shared/vectors/scep-micromdm-2.1.0/: getcacaps.txt, getcacert.der, and the response heads in
 * http-exchange.txt), compiled in by tests/target/bin2c.sh. Each answer goes through the HTTP
 * parser first, whole and one byte at a time, as cw_scep would receive it.
 *
 * target_test_scep_rsa4096 then does, with the board's own arena, the RSA-4096 work of an
 * enrolment's last two steps, and prints the arena's high-water of each: the CertRep SUCCESS of
 * the same exchange (certrep-success.der) verified against that CA, and the import check of the
 * certificate it carried against the CA as the trusted one. That certificate is inside the
 * reply's EnvelopedData, which only the requester's key opens; the board has no token, so the
 * Makefile opens it on the PC at build time (openssl cms with requester-key.pem) into
 * $(BUILD)/gen/scep-issued.p7b. Which transaction and nonce the reply answers comes from the
 * captured request (pkcsreq.der).
 */
#include <string.h>

#include <stdio.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_cms.h"
#include "cw/net/cw_http.h"
#include "cw/pki/cw_import.h"
#include "cw/scep/cw_scep.h"
#include "cw/scep/cw_scep_msg.h"
#include "mbedtls/x509_crt.h"
#include "target_board.h"
#include "target_blobs.h"
#include "target_check.h"

/* The response heads as the server sent them (http-exchange.txt). */
static const char caps_head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                "Date: Wed, 25 Nov 2026 04:47:55 GMT\r\nContent-Length: 60\r\n\r\n";
static const char cacert_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
                                  "Date: Wed, 25 Nov 2026 04:47:55 GMT\r\nContent-Length: 1327\r\n\r\n";

static cw_http_parser_ctx parser;
static uint8_t body[2048];
static cw_scep_ca_t ca;

/* Pushes in[0..len) whole or one byte at a time; true when every byte was taken. */
static bool push_all(const uint8_t *in, size_t len, bool bytewise)
{
    for (size_t off = 0; off < len;) {
        size_t n = bytewise ? 1u : len - off;
        if (cw_http_parser_push(&parser, in + off, n) != n) {
            return false;
        }
        off += n;
    }
    return true;
}

/* Receives head + payload; returns the body length, 0 when the response was not complete. */
static size_t receive(const char *head, const uint8_t *payload, size_t len, bool bytewise)
{
    cw_http_parser_init(&parser, body, sizeof body, false);
    CHECK(push_all((const uint8_t *)head, strlen(head), bytewise));
    CHECK(cw_http_parser_headers_done(&parser) && !cw_http_parser_done(&parser));
    CHECK(push_all(payload, len, bytewise));
    CHECK(cw_http_parser_last_error(&parser) == CW_OK && cw_http_parser_done(&parser));
    CHECK(parser.resp.status == 200u && parser.resp.keep_alive);
    CHECK(parser.resp.body_len == len && memcmp(body, payload, len) == 0);
    return cw_http_parser_done(&parser) ? parser.resp.body_len : 0u;
}

void target_test_scep(void)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        cw_cms_cipher cipher = CW_CMS_DES;
        cw_hash_alg digest = CW_HASH_SHA1;
        size_t n = receive(caps_head, getcacaps_txt, sizeof getcacaps_txt, bytewise != 0);
        unsigned caps = cw_scep_caps_parse((const char *)body, n);
        CHECK(strcmp(parser.resp.content_type, "text/plain") == 0);
        CHECK(caps == (CW_SCEP_CAP_POST | CW_SCEP_CAP_RENEWAL | CW_SCEP_CAP_SHA1 | CW_SCEP_CAP_SHA256 |
                       CW_SCEP_CAP_AES | CW_SCEP_CAP_DES3 | CW_SCEP_CAP_STANDARD));
        cw_scep_choose(caps, &cipher, &digest);
        CHECK(cipher == CW_CMS_AES128 && digest == CW_HASH_SHA256);

        /* a raw DER CA certificate (RSA-4096) and no RA: the CA signs and receives */
        n = receive(cacert_head, getcacert_der, sizeof getcacert_der, bytewise != 0);
        CHECK(strcmp(parser.resp.content_type, "application/x-x509-ca-cert") == 0);
        CHECK(cw_scep_parse_cacert(body, n, &ca) == CW_OK);
        CHECK(ca.all.n == 1u && !ca.has_ra && ca.ca.p == body && ca.ca.len == n);
        CHECK(ca.signer.p == ca.ca.p && ca.recipient.p == ca.ca.p);
    }
    CHECK(cw_scep_caps_parse(NULL, 0) == 0u);
    CHECK(cw_scep_parse_cacert(getcacert_der, sizeof getcacert_der - 1u, &ca) != CW_OK);
    /* a CA without an RA must take requests itself: a P-256 key cannot (no key transport) */
    CHECK(cw_scep_parse_cacert(target_cert_p256, target_cert_p256_len, &ca) == CW_ERR_SCEP_CACERT);

    /* a GET's message: base64 (Python's base64.b64encode of these 100 bytes), then '+', '/' and
     * '=' percent-encoded; a buffer one byte short is refused */
    {
        static const char want[] = "CzBVep%2FE6Q4zWH2ix%2BwRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUJnjLHW%2ByBFao"
                                   "%2B02f4jSG2St9wBJktwlbrfBClOc5i94gcsUXabwOUKL1R5nsPoDTJXfKHG6xA1Wg%3D%3D";
        uint8_t msg[100];
        char out[200];
        size_t len = 0;
        for (size_t i = 0; i < sizeof msg; i++) {
            msg[i] = (uint8_t)((i * 37u + 11u) % 256u);
        }
        CHECK(cw_scep_query_encode(msg, sizeof msg, out, sizeof out, &len) == CW_OK);
        CHECK(len == sizeof want - 1u && memcmp(out, want, len) == 0);
        CHECK(cw_scep_query_encode(msg, sizeof msg, out, sizeof want - 2u, &len) == CW_ERR_HTTP_REQUEST_TOO_LARGE);
    }
}

/* ---- RSA-4096: the reply's signature and the import check, on the board's arena ------------- */

#define OID_SCEP "\x60\x86\x48\x01\x86\xF8\x45\x01\x09"

/* Prints the arena's high-water since the last call, under what. */
static void arena_step(const char *what)
{
    cw_arena_stats_t a;
    char line[96];
    cw_arena_stats(&a);
    (void)snprintf(line, sizeof line, "  arena high-water of %s: %lu bytes", what, (unsigned long)a.high_water);
    board_uart_puts(line);
    board_uart_puts("\r\n");
    target_arena_seen(a.high_water);
    cw_arena_reset_high_water();
}

void target_test_scep_rsa4096(void)
{
    static uint8_t scratch[4096];
    static cw_cert_list_t issued;
    static cw_cert_list_t trusted;
    cw_cms_signed_t sd;
    cw_der_t v = {NULL, 0};
    char txid[CW_SCEP_TXID_MAX + 1] = "";
    uint8_t nonce[CW_SCEP_NONCE_LEN] = {0};
    cw_scep_reply_t rep;
    cw_import_expect_t x;
    cw_import_result_t res;
    cw_cert_summary_t sum;
    mbedtls_x509_crt leaf;

    /* the transaction and nonce the reply must answer: the captured PKCSReq's */
    CHECK(cw_cms_signed_parse(pkcsreq_der, sizeof pkcsreq_der, NULL, 0, &sd) == CW_OK);
    CHECK(cw_cms_attr_get(&sd, OID_SCEP "\x07", 10, 0x13, &v) == CW_OK && v.len <= CW_SCEP_TXID_MAX);
    if (v.p != NULL && v.len <= CW_SCEP_TXID_MAX) {
        memcpy(txid, v.p, v.len);
        txid[v.len] = '\0';
    }
    CHECK(cw_cms_attr_get(&sd, OID_SCEP "\x05", 10, 0x04, &v) == CW_OK && v.len == CW_SCEP_NONCE_LEN);
    if (v.len == CW_SCEP_NONCE_LEN) {
        memcpy(nonce, v.p, CW_SCEP_NONCE_LEN);
    }
    CHECK(cw_scep_parse_cacert(getcacert_der, sizeof getcacert_der, &ca) == CW_OK);
    arena_step("the suites before");

    /* the CertRep: signed by the RSA-4096 CA, SUCCESS, for this transaction and nonce */
    CHECK(cw_scep_reply_parse(certrep_success_der, sizeof certrep_success_der, &ca.signer, txid, nonce, scratch,
                              sizeof scratch, &rep) == CW_OK);
    CHECK(rep.status == CW_SCEP_SUCCESS);
    arena_step("the CertRep's RSA-4096 signature check");

    /* the certificate it carried, checked as an enrolment's import checks it */
    memset(&issued, 0, sizeof issued);
    memset(&trusted, 0, sizeof trusted);
    CHECK(cw_import_collect(scep_issued_p7b, sizeof scep_issued_p7b, &issued) == CW_OK && issued.n == 1u);
    CHECK(cw_import_collect(getcacert_der, sizeof getcacert_der, &trusted) == CW_OK && trusted.n == 1u);
    CHECK(cw_import_summary(&issued.cert[0], &sum) == CW_OK);
    mbedtls_x509_crt_init(&leaf);
    CHECK(mbedtls_x509_crt_parse_der_nocopy(&leaf, issued.cert[0].p, issued.cert[0].len) == 0);
    memset(&x, 0, sizeof x);
    x.spki = leaf.pk_raw.p;  /* the pending key's, as the token would give it */
    x.spki_len = leaf.pk_raw.len;
    x.cn = "device-01";
    x.eku = CW_EKU_CLIENT_AUTH;
    x.now = sum.not_before + 86400;
    x.trusted = &trusted;
    arena_step("reading the certificates");
    CHECK(cw_import_check(&issued, &x, &res) == CW_OK);
    arena_step("the import check against the RSA-4096 CA");
    mbedtls_x509_crt_free(&leaf);
}
