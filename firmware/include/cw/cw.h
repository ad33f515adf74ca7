/*
 * cw.h: the entry points of certwiz, for a board and for an appliance that builds it in.
 *
 * One thread, no RTOS: the board's main loop calls board_poll() (network input, lwIP timers) and
 * cw_poll() (console input, one step of the running job), forever. An appliance's own services
 * read roles and listen for their changes through cw_roles.h, from the same thread.
 */
#ifndef CW_H
#define CW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/console/cw_console.h"

/* Who logs the token's user in. */
typedef enum cw_login_policy {
    /* An operator types `login` at the console (the PIN is never written anywhere; it stays in RAM
     * only while the login lasts, for a fresh login when the token runs out of room for loaded
     * keys, decision 41); certwiz logs the user out after the board's idle time. Token work needs
     * that login. */
    CW_LOGIN_OPERATOR = 0,
    /* The appliance supplies the PIN: certwiz asks get_pin when it needs the login (at start, and
     * again when the token says the user is logged out or has no room for another loaded key),
     * uses the PIN at once and wipes it. It never logs out by itself, except for that fresh
     * login (decision 41), which the token refuses to work without: PKCS#11 login state belongs to the whole application (every
     * session the process opens on the token shares it, PKCS#11 2.40 section 5.6), so logging out
     * would log out the appliance's own services that use role keys through their own sessions.
     * For the same reason, with CW_LOGIN_OPERATOR an appliance whose services use the token in
     * the same process must set no idle logout (the board's token provider says how long). */
    CW_LOGIN_APPLIANCE
} cw_login_policy;

/* Writes the user PIN into pin[0..cap) and its length into *len; returns CW_OK, or an error that
 * certwiz reports as the reason it is not logged in. Called from cw_init and cw_poll. */
typedef cw_err (*cw_pin_fn)(char *pin, size_t cap, size_t *len, void *arg);

/* Writes console output (a board's UART, a log, a socket). */
typedef void (*cw_output_fn)(const uint8_t *buf, size_t len);

typedef struct cw_config_t {
    bool console;                             /* read hal_uart and answer commands (default on) */
    cw_output_fn output;                      /* console output; NULL: hal_uart_write */
    const cw_cmd_group_t *const *extra;       /* more console commands (the appliance's own) */
    size_t nextra;
    cw_login_policy login;
    cw_pin_fn get_pin;                        /* CW_LOGIN_APPLIANCE: supplies the PIN */
    void *pin_arg;
    /* SNTP server for the trusted time (cw_clock.h): a dotted address or a name; NULL: the one
     * DHCP's NTP option offers; "": no SNTP (a board whose RTC is enough). */
    const char *ntp_server;
} cw_config_t;

/* The defaults: console on, output to hal_uart, no extra commands, the operator logs in. */
void cw_config_default(cw_config_t *cfg);

/* Brings up the arena, opens the board's token (a missing token is reported by `status`, not
 * fatal; with CW_LOGIN_APPLIANCE it logs in), reads the role model from it, arms the background
 * polls, and starts the console (banner and first prompt) when cfg->console. cfg NULL: the
 * defaults. cfg and what it points to must outlive certwiz. Call once, after the board's UART,
 * clock and token provider work. */
cw_err cw_init(const cw_config_t *cfg);

/* Reads what the UART has received and runs what it completes, and one step of the job slot.
 * Never blocks (a token call may take as long as the token takes). */
void cw_poll(void);

/* Releases what cw_init took from the board (the token session). The board calls it before it
 * powers down or exits; the console stops answering. */
void cw_shutdown(void);

#endif /* CW_H */
