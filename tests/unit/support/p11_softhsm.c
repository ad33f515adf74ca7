/*
 * p11_softhsm.c: per-test SoftHSM2 tokens (see p11_softhsm.h).
 */
#include "p11_softhsm.h"

#include "cw_p11.h"

#include <dlfcn.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_conf(const p11_softhsm_t *t, const char *disabled)
{
    FILE *f = fopen(p11_softhsm_path(t, "softhsm2.conf"), "w");
    if (f == NULL) {
        perror("p11_softhsm: softhsm2.conf");
        return -1;
    }
    fprintf(f, "directories.tokendir = %s/tokens\n", t->dir);
    fprintf(f, "objectstore.backend = file\n");
    fprintf(f, "log.level = ERROR\n");
    if (disabled != NULL) {
        /* SoftHSM2 2.6.1 ignores the first name of a "-" list (it looks up "-CKM_X"), so the
         * list starts with an empty name: "-,CKM_ECDSA" disables CKM_ECDSA. */
        fprintf(f, "slots.mechanisms = -,%s\n", disabled);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int load(p11_softhsm_t *t)
{
    t->lib = dlopen(P11_SOFTHSM_MODULE, RTLD_NOW | RTLD_LOCAL);
    if (t->lib == NULL) {
        fprintf(stderr, "p11_softhsm: dlopen: %s\n", dlerror());
        return -1;
    }
    CK_C_GetFunctionList get;
    *(void **)&get = dlsym(t->lib, "C_GetFunctionList");
    if (get == NULL || get(&t->fl) != CKR_OK) {
        fprintf(stderr, "p11_softhsm: C_GetFunctionList failed\n");
        return -1;
    }
    return 0;
}

static void unload(p11_softhsm_t *t)
{
    if (t->fl != NULL) {
        (void)t->fl->C_Finalize(NULL_PTR);
        t->fl = NULL;
    }
    if (t->lib != NULL) {
        dlclose(t->lib);
        t->lib = NULL;
    }
}

/* Runs softhsm2-util with its output discarded unless it fails. */
static int run_init_token(const p11_softhsm_t *t, const char *label, const char *so_pin, const char *pin)
{
    char cmd[512];
    int n = snprintf(cmd, sizeof cmd,
                     "softhsm2-util --init-token --free --label '%s' --so-pin '%s' --pin '%s' "
                     ">'%s' 2>&1",
                     label, so_pin, pin, p11_softhsm_path(t, "init.log"));
    if (n < 0 || (size_t)n >= sizeof cmd) {
        return -1;
    }
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "p11_softhsm: softhsm2-util failed, see %s\n", p11_softhsm_path(t, "init.log"));
        return -1;
    }
    return 0;
}

int p11_softhsm_setup(p11_softhsm_t *t, const char *label, const char *so_pin, const char *pin,
                      const char *disabled)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/cw-p11-test-XXXXXX");
    if (mkdtemp(t->dir) == NULL) {
        perror("p11_softhsm: mkdtemp");
        t->dir[0] = '\0';
        return -1;
    }
    if (mkdir(p11_softhsm_path(t, "tokens"), 0700) != 0 || write_conf(t, disabled) != 0) {
        return -1;
    }
    if (setenv("SOFTHSM2_CONF", p11_softhsm_path(t, "softhsm2.conf"), 1) != 0) {
        return -1;
    }
    if (run_init_token(t, label, so_pin, pin) != 0) {
        return -1;
    }
    return load(t);
}

int p11_softhsm_reload(p11_softhsm_t *t, const char *disabled)
{
    unload(t);
    if (write_conf(t, disabled) != 0) {
        return -1;
    }
    return load(t);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void p11_softhsm_teardown(p11_softhsm_t *t)
{
    unload(t);
    if (t->dir[0] != '\0' && getenv("P11_SOFTHSM_KEEP") != NULL) {
        fprintf(stderr, "p11_softhsm: kept %s (SOFTHSM2_CONF=%s)\n", t->dir,
                p11_softhsm_path(t, "softhsm2.conf"));
        t->dir[0] = '\0';
    }
    if (t->dir[0] != '\0') {
        (void)nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        t->dir[0] = '\0';
    }
}

const char *p11_softhsm_path(const p11_softhsm_t *t, const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    return path;
}

int p11_softhsm_open_logged_in(p11_softhsm_t *t, cw_p11_ctx *ctx)
{
    if (p11_softhsm_setup(t, P11_SOFTHSM_LABEL, P11_SOFTHSM_SO_PIN, P11_SOFTHSM_PIN, NULL) != 0) {
        return -1;
    }
    memset(ctx, 0, sizeof *ctx);
    if (cw_p11_open(ctx, t->fl, NULL) != CW_OK) {
        return -1;
    }
    return cw_p11_login(ctx, P11_SOFTHSM_PIN, strlen(P11_SOFTHSM_PIN)) == CW_OK ? 0 : -1;
}

void p11_softhsm_close(p11_softhsm_t *t, cw_p11_ctx *ctx)
{
    cw_p11_close(ctx);
    p11_softhsm_teardown(t);
}
