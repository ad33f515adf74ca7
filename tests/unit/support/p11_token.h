/*
 * p11_token.h: the token a PKCS#11 test runs on: a fresh SoftHSM2 token per test (the default), or
 * the TPM lab's token (tests/lab/tpm-lab.sh) when the test binary gets --tpm. The same tests run
 * on both; where the tokens differ, a test asks p11_token_is_tpm() and says why in a comment.
 *
 * TPM mode reads the lab's exports (tpm-lab.sh env: TPM_LAB_MODULE, TPM_LAB_LABEL, TPM_LAB_LABEL2,
 * TPM_LAB_PIN, TPM2_PKCS11_STORE, ...): run the binary as `tests/lab/tpm-lab.sh run BIN --tpm`.
 * The module is named by its path (never p11-kit's list), loaded once and kept; the token is the
 * lab's, shared by every test, so teardown removes every object the test left in it.
 */
#ifndef P11_TOKEN_H
#define P11_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "cw_p11.h"
#include "p11_softhsm.h"

typedef struct p11_token_t {
    p11_softhsm_t hsm;   /* SoftHSM2 mode */
    CK_FUNCTION_LIST *fl;
    const char *module;  /* path of the module, for pkcs11-tool */
    const char *label;   /* the token's label */
    const char *label2;  /* a second token of the same module (TPM lab: certwiz-tpm-2) */
    const char *pin;
    const char *so_pin;
} p11_token_t;

/* Reads --tpm from the command line (before cmocka runs); returns false when the TPM lab's
 * environment is missing (message on stderr). */
bool p11_token_args(int argc, char **argv);

/* True when the tests run on the TPM lab's token. */
bool p11_token_is_tpm(void);

/* "SoftHSM2" or "TPM (tpm2-pkcs11)": for the messages the tests print. */
const char *p11_token_name(void);

/* Sets up the token (SoftHSM2: a new one with a second token beside it; TPM: the lab's, emptied).
 * Returns 0 or -1. */
int p11_token_setup(p11_token_t *t);

/* cw_p11_open on the token by its label, then (login) the user login. 0 or -1. */
int p11_token_open(p11_token_t *t, cw_p11_ctx *ctx, bool login);

/* Closes ctx, removes every object the token holds (TPM; SoftHSM2's token simply goes), tears
 * down. */
void p11_token_teardown(p11_token_t *t, cw_p11_ctx *ctx);

/* Runs `pkcs11-tool --module <module> --slot <slot> --login --pin <pin> ARGS` and puts its output
 * (stdout and stderr) into out, NUL-terminated. Returns the exit status. */
int p11_token_tool(const p11_token_t *t, unsigned long slot, const char *args, char *out, size_t cap);

#endif /* P11_TOKEN_H */
