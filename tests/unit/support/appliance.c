/*
 * appliance.c: certwiz built into a tiny appliance for unit tests (appliance.h).
 */
#include "appliance.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cw/cw_roles.h"
#include "hal_token.h"
#include "test_board.h"

static hal_token_t token;

static cw_err give_pin(char *pin, size_t cap, size_t *len, void *arg)
{
    (void)arg;
    *len = strlen(P11_SOFTHSM_PIN);
    if (*len > cap) {
        return CW_ERR_TOO_LARGE;
    }
    memcpy(pin, P11_SOFTHSM_PIN, *len);
    return CW_OK;
}

static size_t read_file(const char *path, uint8_t *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL) {
        return 0;
    }
    n = fread(out, 1, cap, f);
    fclose(f);
    return n;
}

static int write_file(const char *path, const uint8_t *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(v, 1, n, f) != n) {
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    return fclose(f);
}

int appliance_start(appliance_t *a)
{
    static uint8_t topo[4096];
    char cmd[256];
    size_t n;

    memset(a, 0, sizeof *a);
    if (p11_softhsm_setup(&a->hsm, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, P11_SOFTHSM_PIN, NULL) != 0) {
        return -1;
    }
    (void)snprintf(a->pki, sizeof a->pki, "%s/pki", a->hsm.dir);
    (void)snprintf(cmd, sizeof cmd, "tests/pki/make-pki.sh %s", a->pki);
    if (system(cmd) != 0) {
        return -1;
    }
    token.fl = a->hsm.fl;
    token.uri = "pkcs11:token=" P11_SOFTHSM_LABEL;
    token.idle_logout_ms = 0;
    test_board_set_token(&token);
    cw_config_default(&a->cfg);
    a->cfg.console = false;
    a->cfg.login = CW_LOGIN_APPLIANCE;
    a->cfg.get_pin = give_pin;
    if (cw_init(&a->cfg) != CW_OK) {
        return -1;
    }
    n = read_file("docs/examples/edge-appliance.der", topo, sizeof topo);
    return n > 0 && cw_roles_load_topology(topo, n) == CW_OK ? 0 : -1;
}

void appliance_restart(appliance_t *a)
{
    cw_shutdown();
    assert_int_equal(cw_init(&a->cfg), CW_OK);
}

void appliance_stop(appliance_t *a)
{
    char cmd[128];
    cw_shutdown();
    test_board_set_token(NULL);
    (void)snprintf(cmd, sizeof cmd, "rm -rf %s", a->pki);
    (void)system(cmd);
    p11_softhsm_teardown(&a->hsm);
}

size_t appliance_answer(appliance_t *a, const uint8_t *csr, size_t csr_len, uint8_t *out, size_t cap)
{
    char path[128];
    char cmd[768];
    size_t n = 0;
    size_t m;

    (void)snprintf(path, sizeof path, "%s/req.der", a->pki);
    if (write_file(path, csr, csr_len) != 0) {
        return 0;
    }
    /* a serial of its own each time: two answers for the same key differ */
    (void)snprintf(cmd, sizeof cmd,
                   "cd %s && openssl x509 -req -inform DER -in req.der -CA int.pem -CAkey int.key -set_serial 0x%lx "
                   "-days 30 -copy_extensions copy -outform DER -out answer.der 2>/dev/null",
                   a->pki, (unsigned long)rand());
    if (system(cmd) != 0) {
        return 0;
    }
    (void)snprintf(path, sizeof path, "%s/answer.der", a->pki);
    n = read_file(path, out, cap);
    (void)snprintf(path, sizeof path, "%s/int.der", a->pki);
    m = read_file(path, out + n, cap - n);
    n += m;
    (void)snprintf(path, sizeof path, "%s/root.der", a->pki);
    m = read_file(path, out + n, cap - n);
    return m > 0 ? n + m : 0;
}

void appliance_root_sha256(appliance_t *a, uint8_t out[32])
{
    char path[128];
    (void)snprintf(path, sizeof path, "%s/root.sha256", a->pki);
    assert_int_equal(read_file(path, out, 32), 32);
}
