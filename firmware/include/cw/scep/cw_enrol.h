/*
 * cw_enrol.h: online enrolment over SCEP on the console (docs/scep.md):
 *
 *   ca auth <profile>          fetch the CA certificate, show its fingerprints, pin or confirm it
 *   request <set> online       a new key and a PKCSReq with the challenge password; a request the
 *                              CA holds (PENDING) is polled with CertPoll instead
 *   request all online         every SCEP set without a valid certificate, one after the other
 *   renew <set>                key rollover: a new key, a RenewalReq signed by the current
 *                              certificate, the roles switched when the new one is stored
 *
 * Requests the CA holds are polled in the background at the profile's interval, with back-off,
 * while the token is logged in and the console is idle; a reboot keeps them (the pending record
 * is in the token) and polling resumes after the next login.
 */
#ifndef CW_ENROL_H
#define CW_ENROL_H

#include "cw/console/cw_console.h"
#include "cw/base/cw_err.h"

/* Arms the polls of requests the CA holds. Call after cw_wizard_boot(). */
void cw_enrol_boot(void);

/* Advances a running enrolment, and starts a due background poll when con is idle. Never
 * blocks on the network (token operations are synchronous). */
void cw_enrol_poll(cw_console_ctx *con);

/* A console command is about to start: a background poll under way stops and gives up the
 * command scratch (cw_scratch.h). The console calls it through its on_command hook. */
void cw_enrol_yield(void);

/* Lines for `status`: requests the CA holds and when they are polled next. */
void cw_enrol_status_line(cw_console_ctx *con);

/* The wizard's `request <set>|all online` and `ca auth <profile>`. */
cw_err cw_enrol_cmd_request(cw_console_ctx *con, const char *set);
cw_err cw_enrol_cmd_ca_auth(cw_console_ctx *con, const char *profile);

/* renew. */
extern const cw_cmd_group_t cw_enrol_commands;

#endif /* CW_ENROL_H */
