/*
 * cw_token.h: certwiz's one token session (the core's).
 *
 * The session is opened at cw_init() from what the board provides (hal_token.h); if that fails,
 * the reason is kept and every token operation answers with it. Other modules reach the token
 * through cw_token_session(), after cw_token_need_login() when they need the user login. Who
 * logs in follows the integrator's policy (cw.h): the operator at the console, or the appliance
 * through a PIN callback.
 */
#ifndef CW_TOKEN_H
#define CW_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw_p11.h"

/* Who supplies the PIN (cw.h's cw_login_policy, seen from the core). */
typedef cw_err (*cw_token_pin_fn)(char *pin, size_t cap, size_t *len, void *arg);

/* Called once, when the token opens for the first time: at cw_token_init, or at a later login
 * when the board had no token at boot (nothing on its link yet). What reads the token's records
 * (the role model, the job slot, the schedule) starts there. */
typedef void (*cw_token_opened_fn)(void);

/* Opens the board's token. get_pin NULL: the operator logs in (cw_token_login); else certwiz logs
 * in through it now and whenever the token says the user is logged out, and never logs out by
 * itself. Returns the error and keeps it for `status` when there is no session; each login tries
 * to open it again. opened may be NULL. */
cw_err cw_token_init(cw_token_pin_fn get_pin, void *pin_arg, cw_token_opened_fn opened);

/* The idle logout (operator policy only): call from cw_poll with the board's ms clock. */
void cw_token_poll(uint32_t now_ms);

/* Closes the session (logs out, finalises the library if certwiz initialised it). */
void cw_token_shutdown(void);

/* The open session, or NULL when there is no token (cw_token_error() says why). */
cw_p11_ctx *cw_token_session(void);

/* The session for the `login` word: as cw_token_session(), but a token that was not there at boot
 * or was lost at an earlier login (its link broke) is opened afresh first, so that the operator
 * is asked for the PIN only when there is a token to give it to. */
cw_p11_ctx *cw_token_session_for_login(void);

/* Why there is no session: CW_OK when there is one. */
cw_err cw_token_error(void);

/* CW_OK when the token user is logged in (with the appliance policy, after logging in through
 * the callback if needed, and opening afresh a token whose link broke); else
 * CW_ERR_NOT_LOGGED_IN, the token's answer, or the reason there is no token. Counts as a use for
 * the idle timer. */
cw_err cw_token_need_login(void);

/* The operator's login with pin: the token's own answer on error. After a login the role model
 * prunes what it no longer needs (cw_model_after_login). The PIN is kept (in RAM, never written)
 * until the login ends, for one use: a fresh login when the token has no room for another loaded
 * key (cw_p11_set_relogin, decision 41); logout, idle logout, a lost login and shutdown wipe it.
 * A token the library lost (CKR_DEVICE_ERROR, DEVICE_REMOVED, CRYPTOKI_NOT_INITIALIZED: a broken
 * link to a token on a PC), or one that was not there at boot, is opened afresh first, here and
 * on the appliance's own login. */
cw_err cw_token_login(const char *pin, size_t len);

/* How often since boot the token had no room for another loaded key and certwiz logged in
 * afresh to give it back (cw_p11_set_relogin). */
uint32_t cw_token_fresh_logins(void);

/* Logs the user out (the operator's `logout`). */
cw_err cw_token_logout(void);

/* Whether the user is logged in now (no token: false): asks the token (C_GetSessionInfo), so it
 * is for `status` and `token`, never for a loop; a loop reads cw_p11_logged_in(), the last known. */
bool cw_token_logged_in(void);

#endif /* CW_TOKEN_H */
