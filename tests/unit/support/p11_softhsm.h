/*
 * p11_softhsm.h: a fresh SoftHSM2 token per test, in its own temporary directory.
 *
 * setup writes <dir>/softhsm2.conf (directories.tokendir = <dir>/tokens, objectstore.backend =
 * file, log.level = ERROR, and optionally slots.mechanisms to disable some), points
 * SOFTHSM2_CONF at it,
 * initialises a token with softhsm2-util (--init-token --free), and dlopens SoftHSM2's module
 * (RTLD_NOW | RTLD_LOCAL: p11-kit's loader may use RTLD_DEEPBIND, which ASan refuses) for its
 * C_GetFunctionList. Nothing is initialised: the code under test calls C_Initialize.
 * teardown calls C_Finalize (harmless if already finalised), dlcloses and removes the directory.
 *
 * SoftHSM2 leaks inside itself under LeakSanitizer: run with
 * LSAN_OPTIONS=suppressions=tests/unit/lsan.supp.
 */
#ifndef P11_SOFTHSM_H
#define P11_SOFTHSM_H

#include <stddef.h>

#include "cw_p11_cryptoki.h"

#define P11_SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define P11_SOFTHSM_LABEL "certwiz-test"
#define P11_SOFTHSM_SO_PIN "87654321"
#define P11_SOFTHSM_PIN "1234"

typedef struct p11_softhsm_t {
    char dir[64];
    void *lib;
    CK_FUNCTION_LIST *fl;
} p11_softhsm_t;

/* New token labelled label with the given SO and user PINs. disabled is NULL (every mechanism)
 * or a comma-separated list of mechanisms the token shall lack ("CKM_ECDSA,CKM_RSA_PKCS").
 * Returns 0 or -1 (with a message on stderr). */
int p11_softhsm_setup(p11_softhsm_t *t, const char *label, const char *so_pin, const char *pin,
                      const char *disabled);

/* Unloads the module, rewrites the list of disabled mechanisms (NULL: none) and loads the module
 * again, keeping the token: the same token as a more limited device sees it. */
int p11_softhsm_reload(p11_softhsm_t *t, const char *disabled);

/* Finalises, unloads, removes the directory (kept, and its path printed, when the environment
 * has P11_SOFTHSM_KEEP: for looking at a test's token with pkcs11-tool). Safe after a failed
 * setup. */
void p11_softhsm_teardown(p11_softhsm_t *t);

/* setup with the default label and PINs, then cw_p11_open on the token and a user login: the
 * usual start of a test that works in the token. Returns 0 or -1. */
struct cw_p11_ctx;
int p11_softhsm_open_logged_in(p11_softhsm_t *t, struct cw_p11_ctx *ctx);

/* cw_p11_close, then teardown. */
void p11_softhsm_close(p11_softhsm_t *t, struct cw_p11_ctx *ctx);

/* Path of a file name inside the test directory, in a static buffer (until the next call). */
const char *p11_softhsm_path(const p11_softhsm_t *t, const char *name);

#endif /* P11_SOFTHSM_H */
