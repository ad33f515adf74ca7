/*
 * cw_token.c: certwiz's one token session (cw_token.h).
 */
#include "cw/core/cw_token.h"

#include <string.h>

#include "cw/base/cw_wipe.h"
#include "cw/core/cw_model.h"
#include "hal_clock.h"
#include "hal_token.h"

/* Longest PIN the appliance's callback may hand over. */
#define PIN_MAX 128u

static cw_p11_ctx session;
static cw_err open_error = CW_ERR_NO_TOKEN;
static bool ever_open; /* the token was there once (opened() was called) */
static cw_token_opened_fn opened_fn;
static cw_token_pin_fn pin_fn;
static void *pin_arg;

/* The operator's PIN, kept from a successful `login` until the login ends (logout, idle logout,
 * a lost login, shutdown) for one purpose: a fresh login when the token has no room left for
 * another loaded key (cw_p11_set_relogin; decision 41). Wiped whenever the login ends. */
static char kept_pin[PIN_MAX];
static size_t kept_len;
static bool pin_kept;
static uint32_t fresh_logins; /* cw_token_fresh_logins */

static void forget_pin(void)
{
    if (pin_kept) {
        cw_wipe(kept_pin, sizeof kept_pin);
        kept_len = 0;
        pin_kept = false;
    }
}

static cw_err open_now(void);

/* Answers that say the library lost its token rather than refused the login: the link to a token
 * on a PC (the Cortex-M board's UART1, docs/decisions.md 43) broke, or the library was finalised
 * under us. The login then opens the token afresh (C_Finalize, C_Initialize: a new handshake on
 * such a link) and tries once more; the role model still holds, as the token is the same. */
static bool token_gone(cw_err e)
{
    return CW_ERR_IS_P11(e, CKR_DEVICE_ERROR) || CW_ERR_IS_P11(e, CKR_DEVICE_REMOVED) ||
           CW_ERR_IS_P11(e, CKR_CRYPTOKI_NOT_INITIALIZED);
}

static cw_err login_with(const char *pin, size_t len)
{
    cw_err e = cw_p11_login(&session, pin, len);
    if (token_gone(e)) {
        cw_p11_close(&session);
        e = open_now() == CW_OK ? cw_p11_login(&session, pin, len) : open_error;
    }
    if (e == CW_OK) {
        cw_p11_touch(&session, hal_clock_ms());
        cw_model_after_login();
    }
    return e;
}

/* The appliance policy: the PIN from the callback, used at once and wiped; fresh says whether
 * to end the login and everything the token holds for it first (cw_p11_relogin). */
static cw_err appliance_login(bool fresh)
{
    char pin[PIN_MAX + 1];
    size_t len = 0;
    cw_err e = pin_fn(pin, sizeof pin - 1, &len, pin_arg);
    if (e == CW_OK && len > PIN_MAX) {
        e = CW_ERR_TOO_LARGE;
    }
    if (e == CW_OK) {
        e = fresh ? cw_p11_relogin(&session, pin, len) : login_with(pin, len);
    }
    cw_wipe(pin, sizeof pin);
    return e;
}

/* The token's fresh-login hook: the same user again, with the appliance's PIN or the operator's
 * kept one. Not cw_model_after_login: the records are the same, and a job is running. */
static cw_err fresh_login(cw_p11_ctx *ctx, void *arg)
{
    cw_err e = CW_ERR_NOT_LOGGED_IN;
    (void)arg;
    if (pin_fn != NULL) {
        e = appliance_login(true);
    } else if (pin_kept) {
        e = cw_p11_relogin(ctx, kept_pin, kept_len);
        if (e != CW_OK) {
            forget_pin();
        }
    }
    if (e == CW_OK) {
        fresh_logins++;
    }
    return e;
}

uint32_t cw_token_fresh_logins(void)
{
    return fresh_logins;
}

/* The board's token, opened; its session configured for the login policy. */
static cw_err open_token(void)
{
    hal_token_t t;
    cw_p11_uri_t uri;
    const cw_p11_uri_t *match = NULL;
    cw_err e = hal_token_get(&t);
    if (e == CW_OK && t.uri != NULL) {
        e = cw_p11_uri_parse(t.uri, strlen(t.uri), &uri);
        match = &uri;
    }
    if (e == CW_OK) {
        e = cw_p11_open(&session, t.fl, match);
    }
    if (e == CW_OK) {
        /* the appliance's own sessions share the login: never log out behind their back */
        cw_p11_set_idle_logout(&session, pin_fn != NULL ? 0u : t.idle_logout_ms);
        cw_p11_set_relogin(&session, fresh_login, NULL);
    }
    return e;
}

/* Opens the token and keeps the answer (open_error); the first open ever starts what lives on
 * the token's records (opened_fn), with the session already usable. */
static cw_err open_now(void)
{
    open_error = open_token();
    if (open_error == CW_OK && !ever_open) {
        ever_open = true;
        if (opened_fn != NULL) {
            opened_fn();
        }
    }
    return open_error;
}

cw_err cw_token_init(cw_token_pin_fn get_pin, void *arg, cw_token_opened_fn opened)
{
    memset(&session, 0, sizeof session);
    ever_open = false;
    opened_fn = opened;
    pin_fn = get_pin;
    pin_arg = arg;
    return open_now();
}

void cw_token_poll(uint32_t now_ms)
{
    if (open_error == CW_OK && (cw_p11_poll(&session, now_ms) || !cw_p11_logged_in(&session))) {
        forget_pin();
    }
}

void cw_token_shutdown(void)
{
    if (open_error == CW_OK) {
        cw_p11_close(&session);
        open_error = CW_ERR_NO_TOKEN;
    }
    forget_pin();
}

cw_p11_ctx *cw_token_session(void)
{
    return open_error == CW_OK ? &session : NULL;
}

cw_err cw_token_error(void)
{
    return open_error;
}

/* A token not there at boot, or lost at a login (its link broke), that may be there now: opened
 * afresh (a handshake, which answers within the board's timeout when nobody is there). */
static void reopen_if_lost(void)
{
    if (open_error != CW_OK) {
        (void)open_now();
    }
}

cw_p11_ctx *cw_token_session_for_login(void)
{
    reopen_if_lost();
    return cw_token_session();
}

cw_err cw_token_need_login(void)
{
    if (pin_fn != NULL) {
        reopen_if_lost(); /* the appliance logs in by itself: it reconnects by itself too */
    }
    if (open_error != CW_OK) {
        return open_error;
    }
    if (!cw_p11_logged_in(&session)) {
        if (pin_fn == NULL) {
            return CW_ERR_NOT_LOGGED_IN;
        }
        cw_err e = appliance_login(false);
        if (e != CW_OK) {
            return e;
        }
    }
    cw_p11_touch(&session, hal_clock_ms());
    return CW_OK;
}

cw_err cw_token_login(const char *pin, size_t len)
{
    reopen_if_lost();
    if (open_error != CW_OK) {
        return open_error;
    }
    forget_pin();
    cw_err e = login_with(pin, len);
    if (e == CW_OK && pin_fn == NULL && len <= sizeof kept_pin) {
        memcpy(kept_pin, pin, len);
        kept_len = len;
        pin_kept = true;
    }
    return e;
}

cw_err cw_token_logout(void)
{
    forget_pin();
    return open_error != CW_OK ? open_error : cw_p11_logout(&session);
}

bool cw_token_logged_in(void)
{
    return open_error == CW_OK && cw_p11_login_check(&session); /* asks the token: for status */
}
