/*
 * cw_console.c: line input, echo and editing, dispatch, and the final OK/ERR line.
 */
#include "cw/console/cw_console.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cw/base/cw_wipe.h"
#include "cw/console/cw_cmd.h"

#define CON_PROMPT "certwiz> "

#define KEY_CTRL_C 0x03u
#define KEY_BS 0x08u
#define KEY_LF 0x0Au
#define KEY_CR 0x0Du
#define KEY_CTRL_U 0x15u
#define KEY_DEL 0x7Fu

/* The one console's output (cw_console_init). */
static cw_console_out_fn write_out;

static void con_puts(const char *s)
{
    write_out((const uint8_t *)s, strlen(s));
}

void cw_console_write(cw_console_ctx *con, const char *s, size_t len)
{
    if (con == NULL) {
        return;
    }
    write_out((const uint8_t *)s, len);
}

static void console_vprintf(cw_console_ctx *con, const char *fmt, va_list ap)
{
    char out[CW_CONSOLE_OUT_MAX + 3];
    int n;
    size_t len;

    n = vsnprintf(out, CW_CONSOLE_OUT_MAX + 1, fmt, ap);
    if (n < 0) {
        return;
    }
    len = strlen(out);
    if ((size_t)n > len) {
        /* cut: say so rather than pretend the line was whole */
        memcpy(out + len - 3, "...", 3);
    }
    out[len++] = '\r';
    out[len++] = '\n';
    cw_console_write(con, out, len);
}

void cw_console_printf(cw_console_ctx *con, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    console_vprintf(con, fmt, ap);
    va_end(ap);
}

void cw_console_say_row(cw_console_ctx *con, unsigned row, ...)
{
    char fmt[CW_SAY_MAX];
    va_list ap;

    va_start(ap, row);
    console_vprintf(con, cw_err_say_line(row, fmt), ap);
    va_end(ap);
}

static void finish_line(cw_console_ctx *con, cw_err result)
{
    if (result == CW_ERR_BUSY) {
        cw_cmd_job_line(con, "busy"); /* what holds the slot, when a job does */
    }
    if (result == CW_OK) {
        con_puts("OK\r\n");
    } else {
        char msg[CW_CONSOLE_OUT_MAX];
        cw_err_format(result, msg, sizeof msg);
        con_puts("ERR ");
        con_puts(msg);
        con_puts("\r\n");
    }
}

/* Notices that came while a command ran, printed after its final line (the oldest first; when
 * more come, the newest are dropped and the count of those says so). */
static struct {
    char line[CW_CONSOLE_NOTICES_MAX][CW_CONSOLE_NOTICE_MAX];
    size_t n;
    unsigned dropped;
} notices;

static void put_notice(const char *line)
{
    con_puts("notice: ");
    con_puts(line);
    con_puts("\r\n");
}

static void flush_notices(void)
{
    for (size_t i = 0; i < notices.n; i++) {
        put_notice(notices.line[i]);
    }
    if (notices.dropped > 0) {
        char more[48];
        (void)snprintf(more, sizeof more, "%u more dropped; status shows each set", notices.dropped);
        put_notice(more);
    }
    notices.n = 0;
    notices.dropped = 0;
}

void cw_console_notice(cw_console_ctx *con, const char *line)
{
    if (con->busy || con->cont != NULL) {
        if (notices.n < CW_CONSOLE_NOTICES_MAX) {
            (void)snprintf(notices.line[notices.n++], CW_CONSOLE_NOTICE_MAX, "%s", line);
        } else {
            notices.dropped++;
        }
        return;
    }
    /* at the prompt: on a line of its own, then the prompt and what was typed so far again */
    con_puts("\r\n");
    put_notice(line);
    con_puts(CON_PROMPT);
    if (!con->secret) {
        write_out((const uint8_t *)con->line, con->len);
    }
}

void cw_console_finish(cw_console_ctx *con, cw_err result)
{
    con->busy = false;
    con->cont = NULL;
    con->cont_arg = NULL;
    con->secret = false;
    finish_line(con, result);
    flush_notices();
    con_puts(CON_PROMPT);
}

CW_NOINLINE void cw_console_expect(cw_console_ctx *con, const char *prompt, bool secret, cw_line_fn fn, void *arg)
{
    con->cont = fn;
    con->cont_arg = arg;
    con->secret = secret;
    if (prompt != NULL) {
        con_puts(prompt);
    }
}

void cw_console_prompt(cw_console_ctx *con, unsigned row)
{
    char text[CW_SAY_MAX];

    cw_console_write(con, text, strlen(cw_err_say_line(row, text)));
}

void cw_console_ask(cw_console_ctx *con, unsigned prompt, bool secret, cw_line_fn fn, void *arg)
{
    cw_console_expect(con, NULL, secret, fn, arg);
    cw_console_prompt(con, prompt);
}

void cw_console_init(cw_console_ctx *con, const cw_cmd_group_t *const *groups, size_t ngroups, cw_console_out_fn fn)
{
    memset(con, 0, sizeof *con);
    write_out = fn;
    con->groups = groups;
    con->ngroups = ngroups;
    con_puts(CON_PROMPT);
}

const cw_cmd_t *cw_console_find(const cw_console_ctx *con, const char *word)
{
    for (size_t g = 0; g < con->ngroups; g++) {
        for (size_t i = 0; i < con->groups[g]->ncmds; i++) {
            if (strcmp(con->groups[g]->cmds[i].name, word) == 0) {
                return &con->groups[g]->cmds[i];
            }
        }
    }
    return NULL;
}

int cw_console_split(char *line, char **argv, int max)
{
    int argc = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            return argc;
        }
        if (argc == max) {
            return -1;
        }
        argv[argc++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t') {
            p++;
        }
    }
}

static cw_err dispatch(cw_console_ctx *con, char *line)
{
    char *argv[CW_CONSOLE_ARGS_MAX];
    int argc = cw_console_split(line, argv, (int)CW_CONSOLE_ARGS_MAX);

    if (argc < 0) {
        return CW_ERR_USAGE;
    }
    const cw_cmd_t *cmd = cw_console_find(con, argv[0]);
    if (cmd == NULL) {
        return CW_ERR_UNKNOWN_COMMAND;
    }
    if (cmd->args[0] == '\0' && argc != 1) {
        return CW_ERR_USAGE; /* a command without a synopsis takes no arguments */
    }
    return cmd->fn(con, argc, argv);
}

static bool is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return *s == '\0';
}

/* A complete line arrived (or an over-long one ended). */
static void line_done(cw_console_ctx *con)
{
    bool overflow = con->overflow;
    cw_err r;

    con->line[con->len] = '\0';
    con->len = 0;
    con->overflow = false;
    con_puts("\r\n");

    if (con->cont != NULL) {
        /* A continuation gets every line, even an empty one; an over-long one ends it. */
        if (overflow) {
            r = con->cont(con, NULL, con->cont_arg);
            (void)r;
            r = CW_ERR_LINE_TOO_LONG;
        } else {
            r = con->cont(con, con->line, con->cont_arg);
        }
        /* Secrets typed into the line buffer do not outlive their use. */
        cw_wipe(con->line, sizeof con->line);
        if (r != CW_ERR_IN_PROGRESS) {
            cw_console_finish(con, r);
        }
        return;
    }

    if (overflow) {
        cw_console_finish(con, CW_ERR_LINE_TOO_LONG);
        return;
    }
    if (is_blank(con->line)) {
        con_puts(CON_PROMPT); /* empty line: just a new prompt, as a shell does */
        return;
    }
    con->busy = true;
    if (con->on_command != NULL) {
        con->on_command(); /* background work gives up what a command may need */
    }
    r = dispatch(con, con->line);
    memset(con->line, 0, sizeof con->line);
    if (r != CW_ERR_IN_PROGRESS) {
        cw_console_finish(con, r);
    }
}

static void erase_chars(cw_console_ctx *con, size_t n)
{
    if (con->secret) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        con_puts("\b \b");
    }
}

static void push_byte(cw_console_ctx *con, uint8_t c)
{
    bool after_cr = con->last_was_cr;
    con->last_was_cr = (c == KEY_CR);

    if (con->busy && con->cont == NULL) {
        /* A command is running in the background; typed input is ignored until it ends. */
        return;
    }
    switch (c) {
    case KEY_LF:
        if (after_cr) {
            return; /* second half of CR LF */
        }
        line_done(con);
        return;
    case KEY_CR:
        line_done(con);
        return;
    case KEY_BS:
    case KEY_DEL:
        if (con->len > 0 && !con->overflow) {
            con->len--;
            erase_chars(con, 1);
        }
        return;
    case KEY_CTRL_U:
        erase_chars(con, con->len);
        memset(con->line, 0, sizeof con->line);
        con->len = 0;
        con->overflow = false;
        return;
    case KEY_CTRL_C:
        memset(con->line, 0, sizeof con->line);
        con->len = 0;
        con->overflow = false;
        con_puts("^C\r\n");
        if (con->cont != NULL) {
            (void)con->cont(con, NULL, con->cont_arg);
            cw_console_finish(con, CW_ERR_CANCELLED);
        } else {
            con_puts(CON_PROMPT);
        }
        return;
    default:
        break;
    }
    if (c < 0x20u) {
        return; /* other control characters mean nothing here */
    }
    if (con->len == CW_CONSOLE_LINE_MAX) {
        con->overflow = true; /* keep discarding until the line ends */
        return;
    }
    con->line[con->len++] = (char)c;
    if (!con->secret) {
        write_out(&c, 1);
    }
}

void cw_console_push(cw_console_ctx *con, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        push_byte(con, buf[i]);
    }
}
