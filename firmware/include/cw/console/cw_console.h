/*
 * cw_console.h: the line-oriented serial console (docs/console.md is the operator's reference).
 *
 * Bytes from the UART are pushed in; complete lines are split into words and dispatched to a
 * command table. Every command ends with one final line, "OK" or "ERR <NAME>: <sentence>",
 * followed by the prompt. A command that needs more input (a PIN, a PEM paste) hands the next
 * lines to a continuation with cw_console_expect(); one that waits for the network returns
 * CW_ERR_IN_PROGRESS and later calls cw_console_finish().
 *
 * Output goes to the function given at init (the board's UART by default, cw.h). The context is
 * caller-owned; nothing is allocated.
 */
#ifndef CW_CONSOLE_H
#define CW_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw_say_rows.h" /* generated: CW_SAY_MAX and each cw_console_say call's row */

typedef struct cw_console_ctx cw_console_ctx;

/* A command. argv[0] is the command word; the strings live in the console's line buffer and are
 * valid until the function returns. Returns CW_OK, an error, or CW_ERR_IN_PROGRESS when it has
 * registered a continuation or an operation that will call cw_console_finish(). */
typedef cw_err (*cw_cmd_fn)(cw_console_ctx *con, int argc, char **argv);

typedef struct cw_cmd_t {
    const char *name;   /* the command word */
    const char *args;   /* argument synopsis for help; "" when none, and then the console
                           answers USAGE to a line with arguments before calling fn */
    /* The help line, written CW_CMD_TEXT("one line") in the appliance's own words (plain text)
     * and CW_CMD_HELP("one line") in certwiz's (a row of the console's packed lines, below); each
     * macro fills both fields. */
    const char *help;   /* the text; NULL: help_row */
    uint16_t help_row;
    cw_cmd_fn fn;
} cw_cmd_t;

/* A module's commands: each firmware module that adds commands exports one group. */
typedef struct cw_cmd_group_t {
    const cw_cmd_t *cmds;
    size_t ncmds;
} cw_cmd_group_t;

/* A continuation: receives each following line (NUL-terminated, without its line end). Returns
 * CW_ERR_IN_PROGRESS to get the next line too, or the command's final result. A NULL line means
 * the operator pressed Ctrl-C: release what you hold; the console prints ERR CANCELLED. */
typedef cw_err (*cw_line_fn)(cw_console_ctx *con, char *line, void *arg);

struct cw_console_ctx {
    char line[CW_CONSOLE_LINE_MAX + 1]; /* the line being typed, NUL-terminated */
    size_t len;                         /* characters in line */
    bool overflow;                      /* the current line passed CW_CONSOLE_LINE_MAX */
    bool last_was_cr;                   /* swallow the LF of a CR LF pair */
    bool busy;                          /* a command runs; input waits until it finishes */
    const cw_cmd_group_t *const *groups;
    size_t ngroups;
    cw_line_fn cont;                    /* continuation receiving lines, or NULL */
    void *cont_arg;
    bool secret;                        /* do not echo the line being typed */
    void (*on_command)(void);           /* called before each command starts, or NULL */
};

/* A line certwiz says on its own (the lifecycle: a renewal due, done or failed; an expiry alert),
 * printed as "notice: <line>": at once when the console waits at its prompt (then the prompt and
 * what was typed so far again), else after the running command's final line. */
void cw_console_notice(cw_console_ctx *con, const char *line);

/* Writes console output. */
typedef void (*cw_console_out_fn)(const uint8_t *buf, size_t len);

/* Prepares the console with the command groups (static, not copied) and its output, and prints
 * the prompt. */
void cw_console_init(cw_console_ctx *con, const cw_cmd_group_t *const *groups, size_t ngroups, cw_console_out_fn out);

/* The command named word, or NULL. */
const cw_cmd_t *cw_console_find(const cw_console_ctx *con, const char *word);

/* Feeds received bytes; runs the commands whose lines they complete. */
void cw_console_push(cw_console_ctx *con, const uint8_t *buf, size_t len);

/* Registers a continuation for the following lines and prints prompt (no line end) when not NULL.
 * With secret, typed characters are not echoed. Call from a command, then return
 * CW_ERR_IN_PROGRESS. */
void cw_console_expect(cw_console_ctx *con, const char *prompt, bool secret, cw_line_fn fn, void *arg);

/* cw_console_expect with a prompt stored as a row (CW_SAY_LINE("PIN (hidden): ")). */
void cw_console_ask(cw_console_ctx *con, unsigned prompt, bool secret, cw_line_fn fn, void *arg);

/* Prints the row's text (CW_SAY_LINE), no line end: a prompt again while a continuation runs. */
void cw_console_prompt(cw_console_ctx *con, unsigned row);

/* Ends the running command with its final line and prints the prompt. */
void cw_console_finish(cw_console_ctx *con, cw_err result);

/* Output: one line (CR LF appended), formatted; text longer than CW_CONSOLE_OUT_MAX is cut with
 * "..." at its end (callers print long data in pieces with cw_console_write). */
void cw_console_printf(cw_console_ctx *con, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* cw_console_printf for the console's own lines: cw_console_say(con, "format", args...) with the
 * format a string literal. The formats are not linked as text: tools/gen-err-table.py reads every
 * cw_console_say in the console's sources and packs its format into the error table's compressed
 * stream (cw_err.c), and the call passes the format's row instead, found by the source's
 * CW_SAY_FILE (its file name without .c, defined before the first call) and the line of the call
 * in the generated cw_say_rows.h. The literal stays the source of truth: the compiler checks the
 * arguments against it and that the row holds a format of its size, without linking it. One call
 * a line. The format is decoded into CW_SAY_MAX bytes of stack. */
#define cw_console_say(con, fmt, ...)                                                                  \
    ((void)sizeof(char[sizeof(fmt) == CW_SAY_ID_(SIZE, CW_SAY_FILE, __LINE__) ? 1 : -1]),              \
     (void)sizeof(cw_console_format_check_(fmt, ##__VA_ARGS__)),                                       \
     cw_console_say_row(con, CW_SAY_ID_(ROW, CW_SAY_FILE, __LINE__), ##__VA_ARGS__))
/* The row of a line stored as cw_console_say's formats are (the literal checked for its size, not
 * linked), a constant: a prompt for cw_console_ask() or cw_console_prompt(), or a command's help
 * line in its table, {"word", "args", CW_CMD_HELP("one line"), fn}. cw_err_say_line() decodes a
 * row. One a line. Only for certwiz's console sources (the generator reads those); the
 * appliance's words give their help as CW_CMD_TEXT("one line"). */
#define CW_SAY_LINE(text)                                                                              \
    (0u * sizeof(char[sizeof(text) == CW_SAY_ID_(SIZE, CW_SAY_FILE, __LINE__) ? 1 : -1]) +           \
     CW_SAY_ID_(ROW, CW_SAY_FILE, __LINE__))
#define CW_CMD_HELP(text) NULL, CW_SAY_LINE(text)
#define CW_CMD_TEXT(text) (text), 0u
#define CW_SAY_ID_(what, file, line) CW_SAY_ID__(what, file, line)
#define CW_SAY_ID__(what, file, line) CW_SAY_##what##_##file##_##line

/* cw_console_say's parts: the row's format, decoded, then as cw_console_printf; and a declaration
 * that only gives the compiler the format to check (never called, never defined). */
void cw_console_say_row(cw_console_ctx *con, unsigned row, ...);
int cw_console_format_check_(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Output: raw bytes, no line end added. With con NULL nothing is printed, by either function. */
void cw_console_write(cw_console_ctx *con, const char *s, size_t len);

/* Splits line in place into at most max words separated by spaces or tabs; returns the count, or
 * -1 when there are more words than max. */
int cw_console_split(char *line, char **argv, int max);

#endif /* CW_CONSOLE_H */
