/*
 * cw_wizard.h: the certificate wizard: topology, requests, import, role assignment
 * (docs/console.md lists the commands; docs/store.md the records they keep in the token).
 *
 * The wizard keeps the loaded topology and the role table in RAM (bounded, static) and every
 * piece of state in the token (cw_store.h). At boot it reads both back and finishes what a
 * power cut interrupted: a certificate stored for a pending request gets its roles.
 */
#ifndef CW_WIZARD_H
#define CW_WIZARD_H

#include "cw/console/cw_console.h"
#include "cw/base/cw_err.h"

/* Reads the topology and the role table from the token (if there is one) and rolls interrupted
 * imports forward. Call once after cw_token_init(). Returns what went wrong, for the log;
 * the console works either way. */
cw_err cw_wizard_boot(void);

/* After every successful login: removes key pairs of abandoned requests (a set's key that has
 * neither a pending request nor a certificate). */
void cw_wizard_after_login(void);

/* One line for `status`: topology and how many roles are assigned. */
void cw_wizard_status_line(cw_console_ctx *con);

/* topology load|show, request, csr, import, ca, assign, roles. */
extern const cw_cmd_group_t cw_wizard_commands;

#endif /* CW_WIZARD_H */
