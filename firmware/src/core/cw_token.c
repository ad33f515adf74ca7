/*
 * cw_token.c: the token session and its console commands.
 */
#include "cw/core/cw_token.h"

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_opts.h"
#include "hal_clock.h"
#include "hal_token.h"

static cw_p11_ctx session;
static cw_err open_error = CW_ERR_NO_TOKEN;
static void (*login_hook)(void);

void cw_token_set_login_hook(void (*hook)(void))
{
    login_hook = hook;
}

cw_err cw_token_init(void)
{
    hal_token_t t;
    cw_p11_uri_t uri;
    const cw_p11_uri_t *match = NULL;
    cw_err e;

    memset(&session, 0, sizeof session);
    e = hal_token_get(&t);
    if (e == CW_OK && t.uri != NULL) {
        e = cw_p11_uri_parse(t.uri, strlen(t.uri), &uri);
        match = &uri;
    }
    if (e == CW_OK) {
        e = cw_p11_open(&session, t.fl, match);
    }
    if (e == CW_OK) {
        cw_p11_set_idle_logout(&session, t.idle_logout_ms);
    }
    open_error = e;
    return e;
}

void cw_token_poll(uint32_t now_ms)
{
    if (open_error == CW_OK) {
        (void)cw_p11_poll(&session, now_ms);
    }
}

void cw_token_shutdown(void)
{
    if (open_error == CW_OK) {
        cw_p11_close(&session);
        open_error = CW_ERR_NO_TOKEN;
    }
}

cw_p11_ctx *cw_token_session(void)
{
    return open_error == CW_OK ? &session : NULL;
}

cw_err cw_token_error(void)
{
    return open_error;
}

cw_err cw_token_need_login(void)
{
    if (open_error != CW_OK) {
        return open_error;
    }
    if (!cw_p11_logged_in(&session)) {
        return CW_ERR_NOT_LOGGED_IN;
    }
    cw_p11_touch(&session, hal_clock_ms());
    return CW_OK;
}

void cw_token_status_line(cw_console_ctx *con)
{
    cw_p11_token_info_t info;

    if (open_error != CW_OK) {
        cw_console_printf(con, "token: none (%s: %s)", cw_err_name(open_error), cw_err_text(open_error));
        return;
    }
    if (cw_p11_token_info(&session, &info) != CW_OK) {
        cw_console_printf(con, "token: open, but it does not answer C_GetTokenInfo");
        return;
    }
    cw_console_printf(con, "token: %s (serial %s), user %s", info.label, info.serial,
                      cw_p11_logged_in(&session) ? "logged in" : "logged out");
}

/* ---- login / logout ------------------------------------------------------------------------- */

static cw_err take_pin(cw_console_ctx *con, char *line, void *arg)
{
    cw_err e;
    (void)arg;

    if (line == NULL) {
        return CW_ERR_CANCELLED;
    }
    /* The PIN is used in place: the console wipes its line buffer when this returns. */
    e = cw_p11_login(&session, line, strlen(line));
    if (e == CW_OK) {
        cw_p11_touch(&session, hal_clock_ms());
        cw_console_printf(con, "logged in");
        if (login_hook != NULL) {
            login_hook();
        }
    }
    return e;
}

static cw_err cmd_login(cw_console_ctx *con, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        return CW_ERR_USAGE; /* never a PIN on the command line: it would be echoed */
    }
    if (open_error != CW_OK) {
        return open_error;
    }
    cw_console_expect(con, "PIN (hidden): ", true, take_pin, NULL);
    return CW_ERR_IN_PROGRESS;
}

static cw_err cmd_logout(cw_console_ctx *con, int argc, char **argv)
{
    cw_err e;
    (void)argv;
    if (argc != 1) {
        return CW_ERR_USAGE;
    }
    if (open_error != CW_OK) {
        return open_error;
    }
    e = cw_p11_logout(&session);
    if (e == CW_OK) {
        cw_console_printf(con, "logged out");
    }
    return e;
}

/* ---- token ------------------------------------------------------------------------------------ */

static void print_free(cw_console_ctx *con, const char *what, bool known, unsigned long bytes)
{
    if (known) {
        cw_console_printf(con, "free %s memory: %lu bytes", what, bytes);
    } else {
        cw_console_printf(con, "free %s memory: unknown (the token does not tell)", what);
    }
}

static cw_err cmd_token(cw_console_ctx *con, int argc, char **argv)
{
    cw_p11_token_info_t info;
    cw_err e;
    (void)argv;

    if (argc != 1) {
        return CW_ERR_USAGE;
    }
    if (open_error != CW_OK) {
        return open_error;
    }
    e = cw_p11_token_info(&session, &info);
    if (e != CW_OK) {
        return e;
    }
    cw_console_printf(con, "label: %s", info.label);
    cw_console_printf(con, "manufacturer: %s", info.manufacturer);
    cw_console_printf(con, "model: %s", info.model);
    cw_console_printf(con, "serial: %s", info.serial);
    print_free(con, "public", info.free_public_known, info.free_public);
    print_free(con, "private", info.free_private_known, info.free_private);
    cw_console_printf(con, "PIN length: %lu to %lu%s%s%s", info.pin_min, info.pin_max,
                      info.pin_count_low ? ", a wrong PIN was given recently" : "",
                      info.pin_final_try ? ", FINAL TRY" : "", info.pin_locked ? ", LOCKED" : "");
    cw_console_printf(con, "user: %s", cw_p11_logged_in(&session) ? "logged in" : "logged out");
    return CW_OK;
}

/* ---- keys ------------------------------------------------------------------------------------- */

const char *cw_token_key_type_text(cw_key_type t)
{
    switch (t) {
    case CW_KEY_RSA2048: return "RSA-2048";
    case CW_KEY_RSA3072: return "RSA-3072";
    case CW_KEY_RSA4096: return "RSA-4096";
    case CW_KEY_EC_P256: return "EC P-256";
    case CW_KEY_EC_P384: return "EC P-384";
    case CW_KEY_NONE: break;
    }
    return "other";
}

/* "label  type  id-in-hex" for one private key. */
static void print_key(cw_console_ctx *con, CK_OBJECT_HANDLE h)
{
    char label[65] = "";
    uint8_t id[CW_P11_KEY_ID_LEN * 2];
    char hex[sizeof id * 2 + 1] = "";
    size_t n = 0;
    size_t idn = 0;
    cw_p11_key k;
    const char *type = "other";

    if (cw_p11_read_attr(&session, h, CKA_LABEL, (uint8_t *)label, sizeof label - 1, &n) == CW_OK) {
        label[n] = '\0';
    } else {
        strcpy(label, "(label too long)");
    }
    if (cw_p11_read_attr(&session, h, CKA_ID, id, sizeof id, &idn) != CW_OK) {
        idn = 0;
    }
    for (size_t i = 0; i < idn; i++) {
        (void)snprintf(hex + 2 * i, 3, "%02x", id[i]);
    }
    if (idn > 0 && idn <= CW_P11_KEY_ID_LEN && cw_p11_key_find_by_id(&session, id, idn, &k) == CW_OK) {
        type = cw_token_key_type_text(k.type);
    }
    cw_console_printf(con, "%-24s %-9s %s", label[0] != '\0' ? label : "(no label)", type,
                      idn > 0 ? hex : "(no id)");
}

static cw_err cmd_keys(cw_console_ctx *con, int argc, char **argv)
{
    cw_p11_match_t m;
    CK_OBJECT_HANDLE h[CW_TOKEN_KEYS_LIST_MAX];
    size_t n = 0;
    cw_err e;
    (void)argv;

    if (argc != 1) {
        return CW_ERR_USAGE;
    }
    e = cw_token_need_login();
    if (e != CW_OK) {
        return e;
    }
    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_PRIVATE_KEY;
    e = cw_p11_find(&session, &m, h, CW_TOKEN_KEYS_LIST_MAX, &n);
    if (e != CW_OK && e != CW_ERR_BUFFER_SMALL) {
        return e;
    }
    cw_console_printf(con, "%-24s %-9s %s", "label", "type", "id (CKA_ID, hex)");
    for (size_t i = 0; i < n && i < CW_TOKEN_KEYS_LIST_MAX; i++) {
        print_key(con, h[i]);
    }
    if (n > CW_TOKEN_KEYS_LIST_MAX) {
        cw_console_printf(con, "... and %lu more", (unsigned long)(n - CW_TOKEN_KEYS_LIST_MAX));
    }
    cw_console_printf(con, "%lu key pair%s", (unsigned long)n, n == 1 ? "" : "s");
    return CW_OK;
}

static const cw_cmd_t token_cmds[] = {
    {"login", "", "log in to the token as its user (asks for the PIN, not echoed)", cmd_login},
    {"logout", "", "log the token user out", cmd_logout},
    {"token", "", "token label, maker, serial, free memory, PIN state", cmd_token},
    {"keys", "", "list the key pairs in the token (needs login)", cmd_keys},
};

const cw_cmd_group_t cw_token_commands = {token_cmds, sizeof token_cmds / sizeof token_cmds[0]};
