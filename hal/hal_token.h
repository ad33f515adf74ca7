/*
 * hal_token.h: how the core gets its PKCS#11 token from a board.
 *
 * The host board loads a module with p11-kit; a Cortex-M board links a secure element's
 * C_GetFunctionList statically, or has no token at all. Either way the core only ever sees a
 * CK_FUNCTION_LIST and calls it through pkcs11/.
 */
#ifndef HAL_TOKEN_H
#define HAL_TOKEN_H

#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw_p11_cryptoki.h"

typedef struct hal_token_t {
    CK_FUNCTION_LIST *fl;      /* the provider's function list; lives as long as the board */
    const char *uri;           /* RFC 7512 URI selecting the token, or NULL for the first one */
    uint32_t idle_logout_ms;   /* log the user out after this long unused; 0 = never */
} hal_token_t;

/* Fills out with the board's token provider. CW_ERR_NO_TOKEN when the board has none (the
 * message should then say why: no module configured, the module failed to load). */
cw_err hal_token_get(hal_token_t *out);

#endif /* HAL_TOKEN_H */
