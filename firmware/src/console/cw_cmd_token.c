/*
 * cw_cmd_token.c: the token's words: login, logout, token, keys (docs/console.md), and the
 * token's line of `status`.
 */
#include "cw/console/cw_cmd.h"

#define CW_SAY_FILE cw_cmd_token /* cw_console_say's rows (cw_console.h) */

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_hex.h"
#include "cw/core/cw_token.h"

void cw_cmd_token_status(cw_console_ctx *con)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_p11_token_info_t info;
    cw_err e = cw_token_error();

    if (p11 == NULL) {
        cw_console_say(con, "token: none (%s: %s)", cw_err_name(e), cw_err_text(e));
        return;
    }
    if (cw_p11_token_info(p11, &info) != CW_OK) {
        cw_console_say(con, "token: open, but it does not answer C_GetTokenInfo");
        return;
    }
    cw_console_say(con, "token: %s (serial %s), user %s", info.label, info.serial,
                   cw_token_logged_in() ? "logged in" : "logged out");
    if (cw_token_fresh_logins() > 0u) {
        cw_console_say(con, "token: logged in afresh %lu time(s): it had no room for another loaded key",
                       (unsigned long)cw_token_fresh_logins());
    }
}

/* ---- login / logout ----------------------------------------------------------------------------- */

static cw_err take_pin(cw_console_ctx *con, char *line, void *arg)
{
    cw_err e;
    (void)arg;

    if (line == NULL) {
        return CW_ERR_CANCELLED;
    }
    /* The PIN is used in place: the console wipes its line buffer when this returns. */
    e = cw_token_login(line, strlen(line));
    if (e == CW_OK) {
        cw_console_say(con, "logged in");
    }
    return e;
}

/* No arguments (the console refuses them): never a PIN on the command line, it would be echoed. */
static cw_err cmd_login(cw_console_ctx *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cw_token_session_for_login() == NULL) {
        return cw_token_error();
    }
    cw_console_ask(con, CW_SAY_LINE("PIN (hidden): "), true, take_pin, NULL);
    return CW_ERR_IN_PROGRESS;
}

static cw_err cmd_logout(cw_console_ctx *con, int argc, char **argv)
{
    cw_err e;
    (void)argc;
    (void)argv;
    e = cw_token_logout();
    if (e == CW_OK) {
        cw_console_say(con, "logged out");
    }
    return e;
}

/* ---- token ---------------------------------------------------------------------------------------- */

CW_NOINLINE static void print_free(cw_console_ctx *con, const char *what, bool known, unsigned long bytes)
{
    if (known) {
        cw_console_say(con, "free %s memory: %lu bytes", what, bytes);
    } else {
        cw_console_say(con, "free %s memory: unknown (the token does not tell)", what);
    }
}

static cw_err cmd_token(cw_console_ctx *con, int argc, char **argv)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_p11_token_info_t info;
    cw_err e;
    (void)argc;
    (void)argv;

    if (p11 == NULL) {
        return cw_token_error();
    }
    e = cw_p11_token_info(p11, &info);
    if (e != CW_OK) {
        return e;
    }
    cw_console_say(con, "label: %s", info.label);
    cw_console_say(con, "manufacturer: %s", info.manufacturer);
    cw_console_say(con, "model: %s", info.model);
    cw_console_say(con, "serial: %s", info.serial);
    print_free(con, "public", info.free_public_known, info.free_public);
    print_free(con, "private", info.free_private_known, info.free_private);
    cw_console_say(con, "PIN length: %lu to %lu%s%s%s", info.pin_min, info.pin_max,
                   info.pin_count_low ? ", a wrong PIN was given recently" : "",
                   info.pin_final_try ? ", FINAL TRY" : "", info.pin_locked ? ", LOCKED" : "");
    cw_console_say(con, "user: %s", cw_token_logged_in() ? "logged in" : "logged out");
    return CW_OK;
}

/* ---- keys ------------------------------------------------------------------------------------------- */

/* "label  type  id-in-hex" for one private key. */
static void print_key(cw_console_ctx *con, cw_p11_ctx *p11, CK_OBJECT_HANDLE h)
{
    char label[65] = "";
    uint8_t id[CW_P11_KEY_ID_LEN * 2];
    char hex[sizeof id * 2 + 1] = "";
    size_t n = 0;
    size_t idn = 0;
    cw_p11_key k;
    const char *type = "other";

    if (cw_p11_read_attr(p11, h, CKA_LABEL, (uint8_t *)label, sizeof label - 1, &n) == CW_OK) {
        label[n] = '\0';
    } else {
        strcpy(label, "(label too long)");
    }
    if (cw_p11_read_attr(p11, h, CKA_ID, id, sizeof id, &idn) != CW_OK) {
        idn = 0;
    }
    cw_hex_encode(id, idn, hex, false);
    if (idn > 0 && idn <= CW_P11_KEY_ID_LEN && cw_p11_key_find_by_id(p11, id, idn, &k) == CW_OK) {
        type = cw_cmd_key_type_text(k.type);
    }
    cw_console_say(con, "%-24s %-9s %s", label[0] != '\0' ? label : "(no label)", type, idn > 0 ? hex : "(no id)");
}

static cw_err cmd_keys(cw_console_ctx *con, int argc, char **argv)
{
    cw_p11_ctx *p11 = cw_token_session();
    cw_p11_match_t m;
    CK_OBJECT_HANDLE h[CW_TOKEN_KEYS_LIST_MAX];
    size_t n = 0;
    cw_err e;
    (void)argc;
    (void)argv;

    e = cw_token_need_login();
    if (e != CW_OK) {
        return e;
    }
    memset(&m, 0, sizeof m);
    m.has_class = true;
    m.cls = CKO_PRIVATE_KEY;
    e = cw_p11_find(p11, &m, h, CW_TOKEN_KEYS_LIST_MAX, &n);
    if (e != CW_OK && e != CW_ERR_BUFFER_SMALL) {
        return e;
    }
    cw_console_say(con, "%-24s %-9s %s", "label", "type", "id (CKA_ID, hex)");
    for (size_t i = 0; i < n && i < CW_TOKEN_KEYS_LIST_MAX; i++) {
        print_key(con, p11, h[i]);
    }
    if (n > CW_TOKEN_KEYS_LIST_MAX) {
        cw_console_say(con, "... and %lu more", (unsigned long)(n - CW_TOKEN_KEYS_LIST_MAX));
    }
    cw_console_say(con, "%lu key pair%s", (unsigned long)n, n == 1 ? "" : "s");
    return CW_OK;
}

static const cw_cmd_t token_cmds[] = {
    {"login", "", CW_CMD_HELP("log in to the token as its user (asks for the PIN, not echoed)"), cmd_login},
    {"logout", "", CW_CMD_HELP("log the token user out"), cmd_logout},
    {"token", "", CW_CMD_HELP("token label, maker, serial, free memory, PIN state"), cmd_token},
    {"keys", "", CW_CMD_HELP("list the key pairs in the token (needs login)"), cmd_keys},
};

const cw_cmd_group_t cw_cmd_token = {token_cmds, sizeof token_cmds / sizeof token_cmds[0]};
