/*
 * cw_token.h: the firmware's one token session, and the console commands around it
 * (login, logout, token, keys; docs/console.md).
 *
 * The session is opened at cw_init() from what the board provides (hal_token.h); if that fails,
 * the reason is kept and every token command answers with it. Other modules reach the token
 * through cw_token_session(), after cw_token_need_login() when they need the user login.
 */
#ifndef CW_TOKEN_H
#define CW_TOKEN_H

#include <stdint.h>

#include "cw/console/cw_console.h"
#include "cw/base/cw_err.h"
#include "cw_p11.h"

/* Opens the board's token. Returns the error and keeps it for `status` when there is none. */
cw_err cw_token_init(void);

/* Idle logout: call from cw_poll with the board's ms clock. */
void cw_token_poll(uint32_t now_ms);

/* Closes the session (logs out, finalises the library if certwiz initialised it). */
void cw_token_shutdown(void);

/* The open session, or NULL when there is no token (cw_token_error() says why). */
cw_p11_ctx *cw_token_session(void);

/* Why there is no session: CW_OK when there is one. */
cw_err cw_token_error(void);

/* CW_OK when the token user is logged in; else CW_ERR_NOT_LOGGED_IN, or the reason there is no
 * token. Counts as a use for the idle timer. */
cw_err cw_token_need_login(void);

/* Called after every successful `login` (the wizard removes keys of abandoned requests). */
void cw_token_set_login_hook(void (*hook)(void));

/* One line for `status`: "token: <label> (serial ...), user logged in|out", or why none. */
void cw_token_status_line(cw_console_ctx *con);

/* "RSA-2048", "EC P-256", ...: a key type as the console shows it ("other" for CW_KEY_NONE). */
const char *cw_token_key_type_text(cw_key_type t);

/* The commands login, logout, token, keys. */
extern const cw_cmd_group_t cw_token_commands;

#endif /* CW_TOKEN_H */
