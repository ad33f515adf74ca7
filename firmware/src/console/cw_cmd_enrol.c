/*
 * cw_cmd_enrol.c: the online words (`request <set>|all online`, `renew <set>`, `ca auth
 * <profile>`; docs/console.md): each starts a job in the core's slot (cw_job.h) and prints what the
 * slot tells it, asks the operator what the slot asks, and ends the command when the slot says so.
 */
#include "cw/console/cw_cmd.h"

#define CW_SAY_FILE cw_cmd_enrol /* cw_console_say's rows (cw_console.h) */

#include <stdio.h>
#include <string.h>

#include "cw/base/cw_hex.h"
#include "cw/core/cw_job.h"
#include "cw/core/cw_model.h"
#include "cw/core/cw_token.h"

void cw_cmd_print_accepted(cw_console_ctx *con, const char *set, const cw_model_accepted_t *acc, cw_err e);

static struct {
    cw_console_ctx *con;
    bool prompted;          /* a prompt of the job's took the console's next line */
} job;

/* Ctrl-C cancels the job; other lines typed meanwhile are ignored. */
static cw_err job_line(cw_console_ctx *con, char *line, void *arg)
{
    (void)con;
    (void)arg;
    if (line == NULL) {
        cw_job_cancel();
        return CW_ERR_CANCELLED;
    }
    return CW_ERR_IN_PROGRESS;
}

/* The command goes on: unless the job asked something, the next lines only watch for Ctrl-C. */
static cw_err going_on(cw_console_ctx *con, cw_err e)
{
    if (e == CW_ERR_IN_PROGRESS && !job.prompted) {
        cw_console_expect(con, NULL, false, job_line, NULL);
    }
    return e;
}

static cw_err take_secret(cw_console_ctx *con, char *line, void *arg)
{
    (void)arg;
    job.prompted = false;
    return going_on(con, cw_job_secret(line, line != NULL ? strlen(line) : 0)); /* the console wipes the line */
}

static cw_err take_confirm(cw_console_ctx *con, char *line, void *arg)
{
    (void)arg;
    job.prompted = false;
    if (line == NULL) {
        cw_job_cancel();
        return CW_ERR_CANCELLED;
    }
    return going_on(con, cw_job_confirm(strcmp(line, "yes") == 0));
}

static void print_ca(cw_console_ctx *con, const char *profile, const cw_job_result_t *r)
{
    cw_console_say(con, "CA certificate of profile %s:", profile);
    cw_cmd_show_cert(con, &r->ca, true);
    if (r->has_ra) {
        cw_cert_summary_t ra;
        if (cw_import_summary(&r->ra_signer, &ra) == CW_OK) {
            cw_console_say(con, "  RA (signs replies): %s", ra.subject);
        }
        if (cw_import_summary(&r->ra_recipient, &ra) == CW_OK) {
            cw_console_say(con, "  RA (receives requests): %s", ra.subject);
        }
    }
}

static void print_report(cw_console_ctx *con, const char *set, const cw_job_report_t *r)
{
    char id[2 * CW_P11_KEY_ID_LEN + 1];

    switch (r->kind) {
    case CW_REPORT_BEGIN:
        cw_console_say(con, "set %s: %s at %s", set, r->text, r->text2);
        break;
    case CW_REPORT_FETCH_CA:
        cw_console_say(con, "fetching the CA certificate from %s", r->text);
        break;
    case CW_REPORT_NEGOTIATED:
        cw_console_say(con, "set %s: CA capabilities read; using %s, %s, %s", set, r->text, r->text2, r->text3);
        break;
    case CW_REPORT_KEYGEN:
        cw_console_say(con, "set %s: generating a %s key pair in the token ...", set, cw_cmd_key_type_text(r->key_type));
        break;
    case CW_REPORT_KEY_MADE:
        cw_hex_encode(r->id, r->id_len, id, false);
        cw_console_say(con, "set %s: key pair generated in %lu ms, id %s", set, (unsigned long)r->ms, id);
        break;
    case CW_REPORT_SENT:
        cw_console_say(con, "set %s: %s sent (%lu bytes, transaction %.16s...)", set, r->text, (unsigned long)r->bytes,
                       r->text2);
        break;
    case CW_REPORT_REPLY:
        cw_console_say(con, "set %s: reply verified: %s", set, r->text);
        break;
    case CW_REPORT_STEP:
        cw_console_say(con, "set %s: %s", set, r->text);
        break;
    }
}

/* Everything the job slot tells a command. */
static void on_job(const cw_job_event_t *ev, void *arg)
{
    cw_console_ctx *con = arg;

    switch (ev->kind) {
    case CW_JOB_EV_REPORT:
        print_report(con, ev->set, ev->report);
        break;
    case CW_JOB_EV_NEED_SECRET:
        job.prompted = true;
        cw_console_ask(con, CW_SAY_LINE("Challenge password (hidden): "), true, take_secret, NULL);
        break;
    case CW_JOB_EV_CA:
        print_ca(con, ev->profile, ev->result);
        break;
    case CW_JOB_EV_CA_KNOWN:
        cw_console_say(con, "this CA certificate is authenticated already");
        break;
    case CW_JOB_EV_CA_PINNED:
        if (ev->pinned) {
            cw_console_say(con, "the CA matches the fingerprint the topology pins");
        } else {
            cw_console_say(con, "the CA is issued by the root the profile trusts");
        }
        break;
    case CW_JOB_EV_NEED_CONFIRM:
        cw_console_say(con, "the topology pins no fingerprint: compare it with the one the CA's operator gives you");
        job.prompted = true;
        cw_console_ask(con, CW_SAY_LINE("Accept this CA certificate? (yes/no): "), false, take_confirm, NULL);
        break;
    case CW_JOB_EV_CA_STORED:
        cw_console_say(con, "CA certificate stored and trusted for profile %s", ev->profile);
        break;
    case CW_JOB_EV_ACCEPTED:
        cw_cmd_print_accepted(con, ev->set, ev->accepted, ev->err);
        break;
    case CW_JOB_EV_REFUSED:
        cw_console_say(con, "set %s: the CA refused the request (%s); its key is removed", ev->set, cw_err_name(ev->err));
        break;
    case CW_JOB_EV_HELD:
        cw_console_say(con, "set %s: the CA holds the request for approval (PENDING); certwiz polls it every %lu s",
                       ev->set, (unsigned long)ev->wait_s);
        break;
    case CW_JOB_EV_SET_DONE:
        cw_console_say(con, "set %s: done in %lu ms", ev->set, (unsigned long)ev->ms);
        break;
    case CW_JOB_EV_SET_FAILED:
        cw_console_say(con, "set %s: failed: %s", ev->set, cw_err_name(ev->err));
        if (ev->not_authentic) {
            /* docs/decisions.md 27: a reply that is not the CA's proves nothing about the request */
            cw_console_say(con, "set %s: the reply failed authentication: not the CA's answer (forged, replayed "
                                   "or damaged); nothing taken from it", ev->set);
        }
        if (ev->kept) {
            cw_console_say(con, "set %s: the request stays pending with its key; %s %s%s sends or polls it again",
                           ev->set, ev->job == CW_JOB_RENEW ? "renew" : "request", ev->set,
                           ev->job == CW_JOB_RENEW ? "" : " online");
        }
        break;
    case CW_JOB_EV_SKIPPED:
        if (ev->err == CW_ERR_SCEP_NOT_SCEP) {
            cw_console_say(con, "set %s: profile %s is not SCEP; skipped (offline or ACME)", ev->set, ev->profile);
        } else {
            cw_console_say(con, "set %s: has a valid certificate; skipped", ev->set);
        }
        break;
    case CW_JOB_EV_OFFLINE_PENDING:
        cw_console_say(con, "set %s has a pending offline request; finish it with import %s", ev->set, ev->set);
        break;
    case CW_JOB_EV_SUMMARY:
        cw_console_say(con, "summary: %u enrolled, %u pending, %u failed", ev->n_done, ev->n_pending, ev->n_failed);
        break;
    case CW_JOB_EV_FINISHED:
        cw_console_finish(con, ev->err);
        break;
    }
}

cw_err cw_cmd_request_online(cw_console_ctx *con, const char *set)
{
    job.con = con;
    job.prompted = false;
    return going_on(con, cw_job_enrol(set, on_job, con));
}

cw_err cw_cmd_ca_auth(cw_console_ctx *con, const char *profile)
{
    job.con = con;
    job.prompted = false;
    return going_on(con, cw_job_auth(profile, on_job, con));
}

static cw_err cmd_renew(cw_console_ctx *con, int argc, char **argv)
{
    if (argc != 2) {
        return CW_ERR_USAGE;
    }
    job.con = con;
    job.prompted = false;
    return going_on(con, cw_job_renew(argv[1], on_job, con));
}

static const cw_cmd_t enrol_cmds[] = {
    {"renew", "<set>", CW_CMD_HELP("new key pair and certificate for the set now, over SCEP (needs login)"), cmd_renew},
};

const cw_cmd_group_t cw_cmd_enrol = {enrol_cmds, sizeof enrol_cmds / sizeof enrol_cmds[0]};
