/*
 * p11_token.c: SoftHSM2 or the TPM lab's token under the PKCS#11 tests (see p11_token.h).
 */
#include "p11_token.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "p11_rpc_pipe.h"

#define SOFTHSM_LABEL2 "certwiz-test-2"

static bool tpm;
static bool rpc;              /* --rpc: SoftHSM2 behind `p11-kit remote`, through cw_p11_rpc */
static p11_rpc_pipe_t server;
static void *tpm_lib; /* loaded once, never unloaded (tpm2-tss keeps state in the library) */
static CK_FUNCTION_LIST *tpm_fl;

bool p11_token_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tpm") == 0) {
            tpm = true;
        }
        if (strcmp(argv[i], "--rpc") == 0) {
            rpc = true;
        }
    }
    if (tpm && (getenv("TPM_LAB_MODULE") == NULL || getenv("TPM_LAB_LABEL") == NULL ||
                getenv("TPM_LAB_PIN") == NULL || getenv("TPM2_PKCS11_STORE") == NULL)) {
        fprintf(stderr, "--tpm: the TPM lab's environment is missing; run under tests/lab/tpm-lab.sh run\n");
        return false;
    }
    return true;
}

bool p11_token_is_tpm(void)
{
    return tpm;
}

const char *p11_token_name(void)
{
    return tpm ? "TPM (tpm2-pkcs11)" : rpc ? "SoftHSM2 over p11-kit RPC (" CW_P11_RPC_WIRE_NAME ")" : "SoftHSM2";
}

static int load_tpm(void)
{
    if (tpm_fl != NULL) {
        return 0;
    }
    tpm_lib = dlopen(getenv("TPM_LAB_MODULE"), RTLD_NOW | RTLD_LOCAL);
    if (tpm_lib == NULL) {
        fprintf(stderr, "p11_token: dlopen: %s\n", dlerror());
        return -1;
    }
    CK_C_GetFunctionList get;
    *(void **)&get = dlsym(tpm_lib, "C_GetFunctionList");
    if (get == NULL || get(&tpm_fl) != CKR_OK) {
        fprintf(stderr, "p11_token: C_GetFunctionList failed\n");
        tpm_fl = NULL;
        return -1;
    }
    return 0;
}

/* Every object of the token, removed (needs the login for the private ones). */
static int empty_token(p11_token_t *t)
{
    cw_p11_ctx ctx;
    CK_OBJECT_HANDLE h[64];
    size_t n = 0;
    cw_p11_match_t all;
    memset(&all, 0, sizeof all);
    if (p11_token_open(t, &ctx, true) != 0) {
        return -1;
    }
    int rc = 0;
    do {
        cw_err e = cw_p11_find(&ctx, &all, h, 64, &n);
        if (e != CW_OK && e != CW_ERR_BUFFER_SMALL) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n && i < 64; i++) {
            if (cw_p11_destroy(&ctx, h[i]) != CW_OK) {
                fprintf(stderr, "p11_token: cannot remove object %lu: %s\n", (unsigned long)h[i],
                        cw_err_name(cw_p11_destroy(&ctx, h[i])));
                rc = -1;
            }
        }
    } while (rc == 0 && n > 64);
    cw_p11_close(&ctx);
    return rc;
}

int p11_token_setup(p11_token_t *t)
{
    memset(t, 0, sizeof *t);
    if (!tpm) {
        if (p11_softhsm_setup(&t->hsm, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, P11_SOFTHSM_PIN, NULL) != 0) {
            p11_softhsm_teardown(&t->hsm);
            return -1;
        }
        /* a second token beside the first (softhsm2-util uses the same SOFTHSM2_CONF) */
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "softhsm2-util --init-token --free --label " SOFTHSM_LABEL2 " --so-pin %s --pin %s >/dev/null 2>&1",
                 P11_SOFTHSM_SO_PIN, P11_SOFTHSM_PIN);
        if (system(cmd) != 0 || p11_softhsm_reload(&t->hsm, NULL) != 0) {
            p11_softhsm_teardown(&t->hsm);
            return -1;
        }
        t->fl = t->hsm.fl;
        if (rpc) {
            /* the server reads the token through SOFTHSM2_CONF, which setup exported */
            if (p11_rpc_pipe_start(&server) != 0) {
                p11_softhsm_teardown(&t->hsm);
                return -1;
            }
            cw_p11_rpc_init(&server.link);
            t->fl = cw_p11_rpc_function_list();
        }
        t->module = P11_SOFTHSM_MODULE;
        t->label = P11_SOFTHSM_LABEL;
        t->label2 = SOFTHSM_LABEL2;
        t->pin = P11_SOFTHSM_PIN;
        t->so_pin = P11_SOFTHSM_SO_PIN;
        return 0;
    }
    if (load_tpm() != 0) {
        return -1;
    }
    t->fl = tpm_fl;
    t->module = getenv("TPM_LAB_MODULE");
    t->label = getenv("TPM_LAB_LABEL");
    t->label2 = getenv("TPM_LAB_LABEL2");
    t->pin = getenv("TPM_LAB_PIN");
    t->so_pin = getenv("TPM_LAB_SO_PIN");
    return empty_token(t);
}

int p11_token_open(p11_token_t *t, cw_p11_ctx *ctx, bool login)
{
    char s[96];
    cw_p11_uri_t u;
    snprintf(s, sizeof s, "pkcs11:token=%s", t->label);
    memset(ctx, 0, sizeof *ctx);
    if (cw_p11_uri_parse(s, strlen(s), &u) != CW_OK) {
        return -1;
    }
    cw_err e = cw_p11_open(ctx, t->fl, &u);
    if (e != CW_OK) {
        fprintf(stderr, "p11_token: open %s: %s (%s)\n", t->label, cw_err_name(e), cw_p11_last_call(ctx));
        return -1;
    }
    if (login && (e = cw_p11_login(ctx, t->pin, strlen(t->pin))) != CW_OK) {
        fprintf(stderr, "p11_token: login: %s\n", cw_err_name(e));
        cw_p11_close(ctx);
        return -1;
    }
    return 0;
}

void p11_token_teardown(p11_token_t *t, cw_p11_ctx *ctx)
{
    cw_p11_close(ctx);
    if (!tpm) {
        if (rpc) {
            (void)t->fl->C_Finalize(NULL_PTR);
            p11_rpc_pipe_kill(&server);
        }
        p11_softhsm_teardown(&t->hsm);
        return;
    }
    (void)empty_token(t);
    if (t->fl != NULL) {
        (void)t->fl->C_Finalize(NULL_PTR);
    }
}

int p11_token_tool(const p11_token_t *t, unsigned long slot, const char *args, char *out, size_t cap)
{
    char cmd[1024];
    /* by slot ID: pkcs11-tool's --token-label takes the first token whose label starts with the
     * text (certwiz-test picks certwiz-test-2 when that one comes first) */
    snprintf(cmd, sizeof cmd, "pkcs11-tool --module '%s' --slot %lu --login --pin '%s' %s 2>&1", t->module, slot,
             t->pin, args);
    if (getenv("P11_TOKEN_DEBUG") != NULL) {
        fprintf(stderr, "p11_token: %s\n", cmd);
    }
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    size_t n = fread(out, 1, cap - 1u, p);
    out[n] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
