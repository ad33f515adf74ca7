/*
 * target_scep.c: the SCEP readers of cw_scep_msg.h on the target, on one real exchange: the
 * GetCACaps and GetCACert answers of micromdm scepserver 2.1.0, captured on loopback
 * (../shared/vectors/scep-micromdm-2.1.0/: getcacaps.txt, getcacert.der, and the response heads in
 * http-exchange.txt), compiled in by tests/target/bin2c.sh. Each answer goes through the HTTP
 * parser first, whole and one byte at a time, as cw_scep would receive it.
 */
#include <string.h>

#include "cw/cw_http.h"
#include "cw/cw_scep_msg.h"
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
}
