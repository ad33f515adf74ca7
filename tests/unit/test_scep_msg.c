/*
 * test_scep_msg.c: SCEP messages (cw_scep_msg.h) against the captured micromdm scepserver 2.1.0
 * exchange (../shared/vectors/scep-micromdm-2.1.0/, see its README) and against OpenSSL:
 *
 *   - GetCACaps and the cipher/digest choice; GetCACert as a DER CA, as PKCS#7 with an RA pair
 *     and with one combined RA certificate (made with openssl in the test), and without a CA
 *   - CertRep SUCCESS and FAILURE from the server: signature, transactionID and nonce (read
 *     from the captured PKCSReq), status, failInfo; the envelope opened with the requester's
 *     key imported into a SoftHSM2 token; tampering, wrong ids and every truncation refused
 *   - our signer certificate and PKCSReq, checked by `openssl x509`, `openssl verify` and
 *     `openssl cms -verify` / `-decrypt` (DES, 3DES, AES-128, AES-256), and by our own parser
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cw/base/cw_arena.h"
#include "cw/codec/cw_csr.h"
#include "cw/scep/cw_scep_msg.h"
#include "mbedtls/x509_crt.h"
#include "support/p11_softhsm.h"
#include "support/test_board.h"

#define VECTORS "../shared/vectors/scep-micromdm-2.1.0/"
#define OID_SCEP "\x60\x86\x48\x01\x86\xF8\x45\x01\x09"

static p11_softhsm_t hsm;
static cw_p11_ctx ctx;
static uint8_t buf_a[16384];
static uint8_t buf_b[16384];
static uint8_t buf_c[16384];

/* ---- helpers ------------------------------------------------------------------------------- */

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void spill(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

/* Runs a shell command in the test's directory; returns its exit status. */
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    char full[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "cd '%s' && { %s ; } >>sh.log 2>&1", hsm.dir, cmd);
    int rc = system(full);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static void must(const char *cmd)
{
    if (sh("%s", cmd) != 0) {
        char log[256];
        snprintf(log, sizeof log, "%s/sh.log", hsm.dir);
        static uint8_t text[4096];
        size_t n = slurp(log, text, sizeof text - 1);
        text[n] = '\0';
        fail_msg("command failed: %s\n%s", cmd, (const char *)text);
    }
}

static int setup(void **state)
{
    (void)state;
    return p11_softhsm_open_logged_in(&hsm, &ctx);
}

/* A token holding the captured exchange's requester key (as softhsm2-util imports it: a key
 * pair with CKA_DECRYPT), before the session is opened. */
static int setup_requester(void **state)
{
    (void)state;
    if (p11_softhsm_setup(&hsm, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, P11_SOFTHSM_PIN, NULL) != 0) {
        return -1;
    }
    if (sh("openssl pkcs8 -topk8 -nocrypt -in '%s/" VECTORS "requester-key.pem' -out k.p8 && "
           "softhsm2-util --import k.p8 --token " P11_SOFTHSM_LABEL " --label requester --id 01 --pin " P11_SOFTHSM_PIN,
           getenv("PWD") != NULL ? getenv("PWD") : ".") != 0) {
        return -1;
    }
    memset(&ctx, 0, sizeof ctx);
    if (cw_p11_open(&ctx, hsm.fl, NULL) != CW_OK) {
        return -1;
    }
    return cw_p11_login(&ctx, P11_SOFTHSM_PIN, strlen(P11_SOFTHSM_PIN)) == CW_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    p11_softhsm_close(&hsm, &ctx);
    test_assert_arena_empty();
    return 0;
}

/* The vector CA as the signer of replies (and the recipient of requests). */
static cw_der_t vector_ca(void)
{
    static uint8_t ca[4096];
    static size_t n;
    if (n == 0) {
        n = slurp(VECTORS "getcacert.der", ca, sizeof ca);
    }
    return (cw_der_t){ca, n};
}

/* transactionID and senderNonce of the captured PKCSReq: what the CertRep must echo. */
static void vector_ids(char txid[CW_SCEP_TXID_MAX + 1], uint8_t nonce[CW_SCEP_NONCE_LEN])
{
    static uint8_t req[8192];
    size_t n = slurp(VECTORS "pkcsreq.der", req, sizeof req);
    cw_cms_signed_t sd;
    cw_der_t v;
    assert_int_equal(cw_cms_signed_parse(req, n, NULL, 0, &sd), CW_OK);
    assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x07", 10, 0x13, &v), CW_OK);
    assert_true(v.len <= CW_SCEP_TXID_MAX);
    memcpy(txid, v.p, v.len);
    txid[v.len] = '\0';
    assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x05", 10, 0x04, &v), CW_OK);
    assert_int_equal(v.len, CW_SCEP_NONCE_LEN);
    memcpy(nonce, v.p, CW_SCEP_NONCE_LEN);
    /* and it is a PKCSReq */
    assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x02", 10, 0x13, &v), CW_OK);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.p, "19", 2);
}

/* ---- GetCACaps ----------------------------------------------------------------------------- */

static void test_caps(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned caps;
        cw_cms_cipher cipher;
        cw_hash_alg digest;
    } cases[] = {
        {"", 0, CW_CMS_DES, CW_HASH_SHA1},
        {"DES3\n", CW_SCEP_CAP_DES3, CW_CMS_3DES, CW_HASH_SHA1},
        {"des3\r\nsha-256\r\n", CW_SCEP_CAP_DES3 | CW_SCEP_CAP_SHA256, CW_CMS_3DES, CW_HASH_SHA256},
        {"aes\r\npostpkioperation", CW_SCEP_CAP_AES | CW_SCEP_CAP_POST, CW_CMS_AES128, CW_HASH_SHA1},
        {"SCEPStandard\n", CW_SCEP_CAP_STANDARD, CW_CMS_AES128, CW_HASH_SHA256},
        {"  GetNextCACert \r\nSHA-512\nUnknownThing\n\n", CW_SCEP_CAP_GETNEXTCACERT | CW_SCEP_CAP_SHA512, CW_CMS_DES,
         CW_HASH_SHA1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cw_cms_cipher c;
        cw_hash_alg d;
        unsigned caps = cw_scep_caps_parse(cases[i].text, strlen(cases[i].text));
        assert_int_equal(caps, cases[i].caps);
        cw_scep_choose(caps, &c, &d);
        assert_int_equal(c, cases[i].cipher);
        assert_int_equal(d, cases[i].digest);
    }

    /* the server's own answer */
    char text[256];
    size_t n = slurp(VECTORS "getcacaps.txt", (uint8_t *)text, sizeof text);
    unsigned caps = cw_scep_caps_parse(text, n);
    assert_int_equal(caps, CW_SCEP_CAP_POST | CW_SCEP_CAP_RENEWAL | CW_SCEP_CAP_SHA1 | CW_SCEP_CAP_SHA256 |
                               CW_SCEP_CAP_AES | CW_SCEP_CAP_DES3 | CW_SCEP_CAP_STANDARD);
    cw_cms_cipher c;
    cw_hash_alg d;
    cw_scep_choose(caps, &c, &d);
    assert_int_equal(c, CW_CMS_AES128);
    assert_int_equal(d, CW_HASH_SHA256);
    assert_int_equal(cw_scep_caps_parse(NULL, 0), 0);
}

/* ---- GetCACert ----------------------------------------------------------------------------- */

static void test_cacert_vector_der(void **state)
{
    (void)state;
    cw_der_t ca = vector_ca();
    cw_scep_ca_t out;
    assert_int_equal(cw_scep_parse_cacert(ca.p, ca.len, &out), CW_OK);
    assert_int_equal(out.all.n, 1);
    assert_false(out.has_ra);
    assert_ptr_equal(out.ca.p, ca.p);
    assert_int_equal(out.ca.len, ca.len);
    assert_ptr_equal(out.signer.p, ca.p);
    assert_ptr_equal(out.recipient.p, ca.p);
    assert_int_equal(cw_scep_parse_cacert(ca.p, ca.len - 1, &out) != CW_OK, 1);
    assert_int_equal(cw_scep_parse_cacert(ca.p, 0, &out) != CW_OK, 1);
}

/* A CA, an RA signing certificate, an RA encryption certificate and one combined RA certificate,
 * all made with openssl in the test directory. */
static void make_ra_pki(void)
{
    must("printf 'keyUsage=critical,digitalSignature\\nbasicConstraints=CA:FALSE\\n' > sign.ext && "
         "printf 'keyUsage=critical,keyEncipherment\\nbasicConstraints=CA:FALSE\\n' > enc.ext && "
         "printf 'keyUsage=critical,digitalSignature,keyEncipherment\\nbasicConstraints=CA:FALSE\\n' > both.ext");
    must("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj '/CN=Test SCEP CA' -days 30 "
         "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    for (int i = 0; i < 3; i++) {
        static const char *names[] = {"sign", "enc", "both"};
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "openssl req -newkey rsa:2048 -nodes -keyout ra-%s.key -out ra-%s.csr -subj '/CN=RA %s' && "
                 "openssl x509 -req -in ra-%s.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
                 "-extfile %s.ext -out ra-%s.pem && openssl x509 -in ra-%s.pem -outform DER -out ra-%s.der",
                 names[i], names[i], names[i], names[i], names[i], names[i], names[i], names[i]);
        must(cmd);
    }
    must("openssl x509 -in ca.pem -outform DER -out ca.der");
}

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
    return slurp(p11_softhsm_path(&hsm, name), buf, cap);
}

static void test_cacert_ra_pair(void **state)
{
    (void)state;
    static uint8_t ras[4096], rae[4096], ca[4096];
    cw_scep_ca_t out;
    make_ra_pki();
    size_t nras = load("ra-sign.der", ras, sizeof ras);
    size_t nrae = load("ra-enc.der", rae, sizeof rae);
    size_t nca = load("ca.der", ca, sizeof ca);

    /* NDES order: RA certificates first, the CA last */
    must("openssl crl2pkcs7 -nocrl -certfile ra-sign.pem -certfile ra-enc.pem -certfile ca.pem -outform DER -out ra.p7b");
    size_t n = load("ra.p7b", buf_a, sizeof buf_a);
    assert_int_equal(cw_scep_parse_cacert(buf_a, n, &out), CW_OK);
    assert_int_equal(out.all.n, 3);
    assert_true(out.has_ra);
    assert_int_equal(out.ca.len, nca);
    assert_memory_equal(out.ca.p, ca, nca);
    assert_int_equal(out.signer.len, nras);
    assert_memory_equal(out.signer.p, ras, nras);
    assert_int_equal(out.recipient.len, nrae);
    assert_memory_equal(out.recipient.p, rae, nrae);

    /* the other order picks the same */
    must("openssl crl2pkcs7 -nocrl -certfile ca.pem -certfile ra-enc.pem -certfile ra-sign.pem -outform DER -out ra2.p7b");
    n = load("ra2.p7b", buf_a, sizeof buf_a);
    assert_int_equal(cw_scep_parse_cacert(buf_a, n, &out), CW_OK);
    assert_memory_equal(out.signer.p, ras, nras);
    assert_memory_equal(out.recipient.p, rae, nrae);
    assert_memory_equal(out.ca.p, ca, nca);
}

static void test_cacert_combined_ra_and_no_ca(void **state)
{
    (void)state;
    static uint8_t rab[4096];
    cw_scep_ca_t out;
    make_ra_pki();
    size_t nrab = load("ra-both.der", rab, sizeof rab);

    must("openssl crl2pkcs7 -nocrl -certfile ca.pem -certfile ra-both.pem -outform DER -out both.p7b");
    size_t n = load("both.p7b", buf_a, sizeof buf_a);
    assert_int_equal(cw_scep_parse_cacert(buf_a, n, &out), CW_OK);
    assert_true(out.has_ra);
    assert_int_equal(out.signer.len, nrab);
    assert_memory_equal(out.signer.p, rab, nrab);
    assert_ptr_equal(out.recipient.p, out.signer.p);

    /* RA certificates without their CA */
    must("openssl crl2pkcs7 -nocrl -certfile ra-sign.pem -certfile ra-enc.pem -outform DER -out noca.p7b");
    n = load("noca.p7b", buf_a, sizeof buf_a);
    assert_int_equal(cw_scep_parse_cacert(buf_a, n, &out), CW_ERR_SCEP_CACERT);

    /* an RA pair where nothing may encrypt */
    must("openssl crl2pkcs7 -nocrl -certfile ca.pem -certfile ra-sign.pem -outform DER -out noenc.p7b");
    n = load("noenc.p7b", buf_a, sizeof buf_a);
    assert_int_equal(cw_scep_parse_cacert(buf_a, n, &out), CW_ERR_SCEP_CACERT);

    /* a bundle without certificates */
    must("openssl crl2pkcs7 -nocrl -outform DER -out empty.p7b");
    n = load("empty.p7b", buf_a, sizeof buf_a);
    assert_int_equal(cw_scep_parse_cacert(buf_a, n, &out), CW_ERR_SCEP_CACERT);
}

/* ---- CertRep from the server --------------------------------------------------------------- */

static size_t certrep(const char *name, uint8_t *buf)
{
    char path[256];
    snprintf(path, sizeof path, VECTORS "%s", name);
    return slurp(path, buf, sizeof buf_a);
}

static void test_certrep_success_opens_with_requester_key(void **state)
{
    (void)state;
    char txid[CW_SCEP_TXID_MAX + 1];
    uint8_t nonce[CW_SCEP_NONCE_LEN];
    cw_der_t ca = vector_ca();
    cw_scep_reply_t rep;
    cw_p11_key key;
    size_t n = certrep("certrep-success.der", buf_a);
    size_t len = 0;

    vector_ids(txid, nonce);
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, txid, nonce, buf_b, sizeof buf_b, &rep), CW_OK);
    assert_int_equal(rep.status, CW_SCEP_SUCCESS);
    assert_false(rep.has_fail_info);
    assert_string_equal(rep.transaction_id, txid);
    assert_memory_equal(rep.recipient_nonce, nonce, CW_SCEP_NONCE_LEN);
    assert_non_null(rep.envelope);
    assert_true(rep.envelope >= buf_a && rep.envelope + rep.envelope_len <= buf_a + n);
    assert_int_equal(cw_scep_fail_error(&rep), CW_OK);

    assert_int_equal(cw_p11_key_find_by_label(&ctx, "requester", &key), CW_OK);
    assert_int_equal(cw_scep_reply_open(&ctx, &key, &rep, buf_c, sizeof buf_c, &len), CW_OK);

    /* a certs-only PKCS#7 whose certificate carries the requester's key */
    cw_cert_list_t certs;
    memset(&certs, 0, sizeof certs);
    assert_int_equal(cw_import_collect(buf_c, len, &certs), CW_OK);
    assert_int_equal(certs.n, 1);
    uint8_t spki[CW_P11_SPKI_MAX];
    size_t spki_len = 0;
    assert_int_equal(cw_p11_pubkey_spki(&ctx, &key, spki, sizeof spki, &spki_len), CW_OK);
    mbedtls_x509_crt c;
    mbedtls_x509_crt_init(&c);
    assert_int_equal(mbedtls_x509_crt_parse_der(&c, certs.cert[0].p, certs.cert[0].len), 0);
    assert_int_equal(c.pk_raw.len, spki_len);
    assert_memory_equal(c.pk_raw.p, spki, spki_len);
    mbedtls_x509_crt_free(&c);

    /* and OpenSSL's decryption of the same envelope agrees byte for byte */
    spill(p11_softhsm_path(&hsm, "env.der"), rep.envelope, rep.envelope_len);
    {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "openssl cms -decrypt -inform DER -in env.der -inkey '%s/" VECTORS "requester-key.pem' "
                 "-provider legacy -provider default -out degenerate.der",
                 getenv("PWD") != NULL ? getenv("PWD") : ".");
        must(cmd);
        size_t m = load("degenerate.der", buf_b, sizeof buf_b);
        assert_int_equal(m, len);
        assert_memory_equal(buf_b, buf_c, len);
    }

    /* a too small output buffer is an error, not a partial plaintext */
    assert_int_not_equal(cw_scep_reply_open(&ctx, &key, &rep, buf_c, 64, &len), CW_OK);
}

static void test_certrep_failure_bad_request(void **state)
{
    (void)state;
    static uint8_t req[8192];
    cw_der_t ca = vector_ca();
    cw_scep_reply_t rep;
    cw_cms_signed_t sd;
    cw_der_t v;
    char txid[CW_SCEP_TXID_MAX + 1];
    uint8_t nonce[CW_SCEP_NONCE_LEN];
    size_t n;

    /* its request is the wrong-challenge one */
    n = slurp(VECTORS "pkcsreq-wrongchallenge.der", req, sizeof req);
    assert_int_equal(cw_cms_signed_parse(req, n, NULL, 0, &sd), CW_OK);
    assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x07", 10, 0x13, &v), CW_OK);
    memcpy(txid, v.p, v.len);
    txid[v.len] = '\0';
    assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x05", 10, 0x04, &v), CW_OK);
    memcpy(nonce, v.p, CW_SCEP_NONCE_LEN);

    n = certrep("certrep-failure.der", buf_a);
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, txid, nonce, buf_b, sizeof buf_b, &rep), CW_OK);
    assert_int_equal(rep.status, CW_SCEP_FAILURE);
    assert_true(rep.has_fail_info);
    assert_int_equal(rep.fail_info, CW_SCEP_BAD_REQUEST);
    assert_null(rep.envelope);
    assert_int_equal(cw_scep_fail_error(&rep), CW_ERR_SCEP_BAD_REQUEST);
}

static void test_certrep_checks_in_order(void **state)
{
    (void)state;
    char txid[CW_SCEP_TXID_MAX + 1];
    uint8_t nonce[CW_SCEP_NONCE_LEN];
    cw_der_t ca = vector_ca();
    cw_scep_reply_t rep;
    size_t n = certrep("certrep-success.der", buf_a);
    cw_cms_signed_t sd;

    vector_ids(txid, nonce);

    /* wrong nonce, wrong transaction */
    uint8_t other[CW_SCEP_NONCE_LEN];
    memcpy(other, nonce, sizeof other);
    other[3] ^= 1;
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, txid, other, buf_b, sizeof buf_b, &rep), CW_ERR_SCEP_NONCE);
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, "0123", nonce, buf_b, sizeof buf_b, &rep),
                     CW_ERR_SCEP_TRANSACTION);
    /* the transaction is checked before the nonce */
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, "0123", other, buf_b, sizeof buf_b, &rep),
                     CW_ERR_SCEP_TRANSACTION);

    /* a signature by someone else (a CA made here) */
    make_ra_pki();
    static uint8_t other_ca[4096];
    cw_der_t oca = {other_ca, load("ca.der", other_ca, sizeof other_ca)};
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &oca, txid, nonce, buf_b, sizeof buf_b, &rep),
                     CW_ERR_CMS_SIGNATURE);

    /* one byte changed inside the signed attributes: every byte of them */
    assert_int_equal(cw_cms_signed_parse(buf_a, n, NULL, 0, &sd), CW_OK);
    size_t at = (size_t)(sd.signed_attrs.p - buf_a);
    size_t alen = sd.signed_attrs.len;
    size_t sig_at = (size_t)(sd.signature.p - buf_a);
    for (size_t i = at + 4; i < at + alen; i++) {
        buf_a[i] ^= 0x01;
        cw_err e = cw_scep_reply_parse(buf_a, n, &ca, txid, nonce, buf_b, sizeof buf_b, &rep);
        if (e != CW_ERR_CMS_SIGNATURE && e != CW_ERR_CMS_FORMAT) {
            fail_msg("byte %zu of the signed attributes changed: %d", i - at, (int)e);
        }
        buf_a[i] ^= 0x01;
    }
    /* the value of the transactionID is a plain signature failure */
    buf_a[at + alen - 3] ^= 0x01;
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, txid, nonce, buf_b, sizeof buf_b, &rep),
                     CW_ERR_CMS_SIGNATURE);
    buf_a[at + alen - 3] ^= 0x01;
    /* the signature itself, and the content (messageDigest no longer matches) */
    buf_a[sig_at + 10] ^= 0x80;
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, txid, nonce, buf_b, sizeof buf_b, &rep),
                     CW_ERR_CMS_SIGNATURE);
    buf_a[sig_at + 10] ^= 0x80;
    buf_a[(size_t)(sd.content.p - buf_a) + 100] ^= 0x01;
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, txid, nonce, buf_b, sizeof buf_b, &rep),
                     CW_ERR_CMS_SIGNATURE);
    buf_a[(size_t)(sd.content.p - buf_a) + 100] ^= 0x01;

    /* our own request is well-formed and signed, but it is no CertRep */
    static uint8_t req[8192];
    static uint8_t signer_der[4096];
    size_t rn = slurp(VECTORS "pkcsreq.der", req, sizeof req);
    assert_int_equal(sh("openssl x509 -in '%s/" VECTORS "requester-signer-cert.pem' -outform DER -out rs.der",
                        getenv("PWD") != NULL ? getenv("PWD") : "."),
                     0);
    cw_der_t rs = {signer_der, load("rs.der", signer_der, sizeof signer_der)};
    assert_int_equal(cw_scep_reply_parse(req, rn, &rs, txid, nonce, buf_b, sizeof buf_b, &rep),
                     CW_ERR_SCEP_MESSAGE_TYPE);

    /* the untouched reply still passes */
    assert_int_equal(cw_scep_reply_parse(buf_a, n, &ca, txid, nonce, buf_b, sizeof buf_b, &rep), CW_OK);
}

static void test_certrep_every_truncation_fails(void **state)
{
    (void)state;
    char txid[CW_SCEP_TXID_MAX + 1];
    uint8_t nonce[CW_SCEP_NONCE_LEN];
    cw_der_t ca = vector_ca();
    cw_scep_reply_t rep;
    size_t n = certrep("certrep-success.der", buf_a);
    static uint8_t cut[8192];

    vector_ids(txid, nonce);
    for (size_t i = 0; i < n; i++) {
        /* a copy of exactly i bytes, so that ASan sees any read past the end */
        uint8_t *t = malloc(i > 0 ? i : 1);
        assert_non_null(t);
        memcpy(t, buf_a, i);
        cw_err e = cw_scep_reply_parse(t, i, &ca, txid, nonce, cut, sizeof cut, &rep);
        free(t);
        if (e == CW_OK) {
            fail_msg("a reply cut to %zu of %zu bytes was accepted", i, n);
        }
    }
}

/* ---- our signer certificate and PKCSReq ---------------------------------------------------- */

static void make_signer(cw_p11_key *key, uint8_t *cert, size_t cap, size_t *len)
{
    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_RSA2048, "scep-test", true, key), CW_OK);
    assert_int_equal(cw_scep_signer_cert(&ctx, key, "edge1.example.com", 1767225600, CW_HASH_SHA256, cert, cap, len),
                     CW_OK);
}

static void test_signer_cert_openssl(void **state)
{
    (void)state;
    cw_p11_key key;
    size_t len = 0;
    size_t len2 = 0;

    make_signer(&key, buf_a, sizeof buf_a, &len);
    spill(p11_softhsm_path(&hsm, "signer.der"), buf_a, len);
    must("openssl x509 -in signer.der -inform DER -noout -text > signer.txt");
    must("grep -q 'Subject: CN = edge1.example.com' signer.txt && grep -q 'Issuer: CN = edge1.example.com' signer.txt"
         " && grep -q 'Not Before: Dec 31 23:00:00 2025 GMT' signer.txt"
         " && grep -q 'Digital Signature, Key Encipherment' signer.txt && grep -q 'Version: 3' signer.txt");
    must("openssl x509 -in signer.der -inform DER -out signer.pem && openssl verify -CAfile signer.pem signer.pem");

    /* deterministic; the clockless form and SHA-1 parse too */
    assert_int_equal(cw_scep_signer_cert(&ctx, &key, "edge1.example.com", 1767225600, CW_HASH_SHA256, buf_b,
                                         sizeof buf_b, &len2),
                     CW_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(buf_a, buf_b, len);
    assert_int_equal(cw_scep_signer_cert(&ctx, &key, "x", 0, CW_HASH_SHA1, buf_b, sizeof buf_b, &len2), CW_OK);
    spill(p11_softhsm_path(&hsm, "signer0.der"), buf_b, len2);
    must("openssl x509 -in signer0.der -inform DER -noout -text > signer0.txt && "
         "grep -q 'Not After : Dec 31 23:59:59 2049 GMT' signer0.txt && grep -q sha1WithRSAEncryption signer0.txt");

    /* measuring, a short buffer, EC keys */
    assert_int_equal(cw_scep_signer_cert(&ctx, &key, "x", 0, CW_HASH_SHA1, NULL, 0, &len2), CW_ERR_BUFFER_SMALL);
    assert_true(len2 >= len);
    assert_int_equal(cw_scep_signer_cert(&ctx, &key, "x", 0, CW_HASH_SHA1, buf_b, 100, &len2), CW_ERR_BUFFER_SMALL);
    cw_p11_key ec;
    assert_int_equal(cw_p11_keygen(&ctx, CW_KEY_EC_P256, "ec", false, &ec), CW_OK);
    assert_int_equal(cw_scep_signer_cert(&ctx, &ec, "x", 0, CW_HASH_SHA256, buf_b, sizeof buf_b, &len2),
                     CW_ERR_NOT_SUPPORTED);
}

/* Builds a PKCSReq to recipient with cipher; returns its length in buf_c. CSR in buf_b. */
static size_t make_request(const cw_p11_key *key, const uint8_t *signer, size_t signer_len, const cw_der_t *recipient,
                           cw_cms_cipher cipher, cw_hash_alg digest, size_t *csr_len)
{
    cw_csr_req_t csr;
    cw_scep_req_t req;
    size_t len = 0;

    memset(&csr, 0, sizeof csr);
    csr.dn[CW_DN_CN] = "edge1.example.com";
    csr.challenge = "s3cret";
    csr.challenge_len = 6;
    assert_int_equal(cw_csr_encode(&ctx, key, &csr, buf_b, sizeof buf_b, csr_len), CW_OK);

    memset(&req, 0, sizeof req);
    req.type = CW_SCEP_PKCSREQ;
    req.transaction_id = "4F2A0C9E";
    memset(req.sender_nonce, 0x5A, sizeof req.sender_nonce);
    req.message = buf_b;
    req.message_len = *csr_len;
    req.signer_cert = signer;
    req.signer_cert_len = signer_len;
    req.signer_key = key;
    req.digest = digest;
    req.recipient = recipient;
    req.cipher = cipher;
    req.signing_time = 1767225600;
    assert_int_equal(cw_scep_request_encode(&ctx, &req, NULL, 0, &len), CW_ERR_BUFFER_SMALL);
    assert_true(len > *csr_len);
    assert_int_equal(cw_scep_request_encode(&ctx, &req, buf_c, sizeof buf_c, &len), CW_OK);
    /* each step checks its own room, not the sum of the bounds: a buffer of the message's size
     * takes it, one byte less is refused */
    size_t exact = len;
    assert_int_equal(cw_scep_request_encode(&ctx, &req, buf_c, exact - 1u, &len), CW_ERR_BUFFER_SMALL);
    assert_true(len >= exact);
    assert_int_equal(cw_scep_request_encode(&ctx, &req, buf_c, exact, &len), CW_OK);
    assert_int_equal(len, exact);
    return len;
}

static void test_pkcsreq_openssl_verifies_and_decrypts(void **state)
{
    (void)state;
    static const struct {
        cw_cms_cipher cipher;
        cw_hash_alg digest;
        const char *providers;
        const char *name;
    } cases[] = {
        {CW_CMS_AES128, CW_HASH_SHA256, "", "aes-128-cbc"},
        {CW_CMS_DES, CW_HASH_SHA1, "-provider legacy -provider default", "des-cbc"},
        {CW_CMS_3DES, CW_HASH_SHA1, "", "des-ede3-cbc"},
        {CW_CMS_AES256, CW_HASH_SHA256, "", "aes-256-cbc"},
        {CW_CMS_AES192, CW_HASH_SHA256, "", "aes-192-cbc"},
    };
    static uint8_t signer[4096];
    static uint8_t test_ca[4096];
    cw_p11_key key;
    size_t signer_len = 0;
    cw_der_t vca = vector_ca();

    make_signer(&key, signer, sizeof signer, &signer_len);
    make_ra_pki();
    cw_der_t tca = {test_ca, load("ca.der", test_ca, sizeof test_ca)};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t csr_len = 0;
        /* to the vector CA (RSA-4096): the signature checks with OpenSSL */
        size_t n = make_request(&key, signer, signer_len, &vca, cases[i].cipher, cases[i].digest, &csr_len);
        spill(p11_softhsm_path(&hsm, "req.der"), buf_c, n);
        must("openssl cms -verify -inform DER -noverify -in req.der -out env.der");
        must("openssl cms -cmsout -inform DER -in env.der -print > env.txt");

        /* to a CA whose key we have: it decrypts to exactly the CSR */
        n = make_request(&key, signer, signer_len, &tca, cases[i].cipher, cases[i].digest, &csr_len);
        spill(p11_softhsm_path(&hsm, "req.der"), buf_c, n);
        spill(p11_softhsm_path(&hsm, "csr-want.der"), buf_b, csr_len);
        must("rm -f csr.der && openssl cms -verify -inform DER -noverify -in req.der -out env.der");
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "openssl cms -decrypt -inform DER -in env.der -inkey ca.key -recip ca.pem %s -out csr.der && "
                 "cmp csr.der csr-want.der && openssl cms -cmsout -inform DER -in env.der -print | grep -q %s",
                 cases[i].providers, cases[i].name);
        must(cmd);

        /* and our own parser reads it back: PKCSReq, signed by the signer, our ids */
        cw_cms_signed_t sd;
        cw_der_t v;
        cw_der_t sc = {signer, signer_len};
        assert_int_equal(cw_cms_signed_parse(buf_c, n, NULL, 0, &sd), CW_OK);
        assert_int_equal(cw_cms_signed_verify(&sd, &sc), CW_OK);
        assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x02", 10, 0x13, &v), CW_OK);
        assert_int_equal(v.len, 2);
        assert_memory_equal(v.p, "19", 2);
        assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x07", 10, 0x13, &v), CW_OK);
        assert_int_equal(v.len, 8);
        assert_memory_equal(v.p, "4F2A0C9E", 8);
        assert_int_equal(cw_cms_attr_get(&sd, OID_SCEP "\x05", 10, 0x04, &v), CW_OK);
        assert_int_equal(v.len, 16);
        cw_cert_list_t certs;
        memset(&certs, 0, sizeof certs);
        assert_int_equal(cw_cms_signed_certs(&sd, &certs), CW_OK);
        assert_int_equal(certs.n, 1);
        assert_int_equal(certs.cert[0].len, signer_len);
        /* a reply must be a CertRep: our request is refused as one */
        cw_scep_reply_t rep;
        uint8_t nonce[CW_SCEP_NONCE_LEN];
        memset(nonce, 0x5A, sizeof nonce);
        assert_int_equal(cw_scep_reply_parse(buf_c, n, &sc, "4F2A0C9E", nonce, buf_a, sizeof buf_a, &rep),
                         CW_ERR_SCEP_MESSAGE_TYPE);
    }
}

static void test_request_arguments(void **state)
{
    (void)state;
    cw_scep_req_t req;
    size_t len;
    cw_der_t vca = vector_ca();
    memset(&req, 0, sizeof req);
    assert_int_equal(cw_scep_request_encode(&ctx, &req, buf_c, sizeof buf_c, &len), CW_ERR_INVALID_ARG);
    req.type = CW_SCEP_PKCSREQ;
    req.transaction_id = "not*printable";
    req.message = buf_b;
    req.message_len = 10;
    req.signer_cert = buf_a;
    req.signer_cert_len = 10;
    req.signer_key = (const cw_p11_key *)buf_a;
    req.recipient = &vca;
    req.digest = CW_HASH_SHA256;
    assert_int_equal(cw_scep_request_encode(&ctx, &req, buf_c, sizeof buf_c, &len), CW_ERR_INVALID_ARG);

    /* IssuerAndSubject for CertPoll: the CA's subject and the CSR's */
    static uint8_t csr[4096];
    size_t cn = slurp(VECTORS "pkcsreq.csr.der", csr, sizeof csr);
    assert_int_equal(cw_scep_issuer_and_subject(&vca, csr, cn, buf_a, sizeof buf_a, &len), CW_OK);
    spill(p11_softhsm_path(&hsm, "ias.der"), buf_a, len);
    must("openssl asn1parse -inform DER -in ias.der > ias.txt && grep -q 'SCEP Test CA' ias.txt && "
         "grep -q 'device-01' ias.txt");
    assert_int_equal(cw_scep_issuer_and_subject(&vca, csr, cn, buf_a, 10, &len), CW_ERR_BUFFER_SMALL);
}

static void test_fail_error_table(void **state)
{
    (void)state;
    cw_scep_reply_t r;
    memset(&r, 0, sizeof r);
    r.status = CW_SCEP_FAILURE;
    assert_int_equal(cw_scep_fail_error(&r), CW_ERR_SCEP_FAILURE);
    r.has_fail_info = true;
    r.fail_info = CW_SCEP_BAD_ALG;
    assert_int_equal(cw_scep_fail_error(&r), CW_ERR_SCEP_BAD_ALG);
    r.fail_info = CW_SCEP_BAD_MESSAGE_CHECK;
    assert_int_equal(cw_scep_fail_error(&r), CW_ERR_SCEP_BAD_MESSAGE_CHECK);
    r.fail_info = CW_SCEP_BAD_TIME;
    assert_int_equal(cw_scep_fail_error(&r), CW_ERR_SCEP_BAD_TIME);
    r.fail_info = CW_SCEP_BAD_CERT_ID;
    assert_int_equal(cw_scep_fail_error(&r), CW_ERR_SCEP_BAD_CERT_ID);
    r.status = CW_SCEP_PENDING;
    assert_int_equal(cw_scep_fail_error(&r), CW_ERR_SCEP_PENDING);
}

int main(void)
{
    cw_arena_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_fail_error_table),
        cmocka_unit_test_setup_teardown(test_cacert_vector_der, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cacert_ra_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cacert_combined_ra_and_no_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certrep_success_opens_with_requester_key, setup_requester, teardown),
        cmocka_unit_test_setup_teardown(test_certrep_failure_bad_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certrep_checks_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certrep_every_truncation_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signer_cert_openssl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pkcsreq_openssl_verifies_and_decrypts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
