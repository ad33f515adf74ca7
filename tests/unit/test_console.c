/*
 * test_console.c: the console as a technician at a serial terminal meets it.
 * Specification: docs/console.md ("Wire rules").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cw/cw.h"
#include "cw/base/cw_arena.h"
#include "cw/console/cw_console.h"
#include "lwip/init.h"
#include "hal_uart.h"
#include "support/test_board.h"

static cw_console_ctx con;
static char last_secret[64];
static int lines_seen;

static cw_err cmd_echo(cw_console_ctx *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        cw_console_printf(c, "arg%d=%s", i, argv[i]);
    }
    return CW_OK;
}

static cw_err cmd_fail(cw_console_ctx *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    return CW_ERR_NOT_LOGGED_IN;
}

static cw_err take_secret(cw_console_ctx *c, char *line, void *arg)
{
    (void)c;
    (void)arg;
    if (line == NULL) {
        return CW_ERR_CANCELLED;
    }
    strncpy(last_secret, line, sizeof last_secret - 1);
    return CW_OK;
}

static cw_err cmd_secret(cw_console_ctx *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cw_console_expect(c, "PIN (hidden): ", true, take_secret, NULL);
    return CW_ERR_IN_PROGRESS;
}

static cw_err take_lines(cw_console_ctx *c, char *line, void *arg)
{
    (void)arg;
    if (line == NULL) {
        return CW_ERR_CANCELLED;
    }
    lines_seen++;
    if (strcmp(line, "END") == 0) {
        cw_console_printf(c, "got %d lines", lines_seen);
        return CW_OK;
    }
    return CW_ERR_IN_PROGRESS;
}

static cw_err cmd_paste(cw_console_ctx *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    lines_seen = 0;
    cw_console_expect(c, "Paste, end with END: ", false, take_lines, NULL);
    return CW_ERR_IN_PROGRESS;
}

static const cw_cmd_t cmds[] = {
    {"echo", "[words]", CW_CMD_TEXT("print the words"), cmd_echo},
    {"fail", "", CW_CMD_TEXT("always fails"), cmd_fail},
    {"secret", "", CW_CMD_TEXT("read a hidden line"), cmd_secret},
    {"paste", "", CW_CMD_TEXT("read lines until END"), cmd_paste},
};

static const cw_cmd_group_t group = {cmds, sizeof cmds / sizeof cmds[0]};
static const cw_cmd_group_t *const groups[] = {&group};

static void type(const char *s)
{
    cw_console_push(&con, (const uint8_t *)s, strlen(s));
}

static int setup(void **state)
{
    (void)state;
    test_uart_reset();
    cw_console_init(&con, groups, 1, hal_uart_write);
    memset(last_secret, 0, sizeof last_secret);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_assert_arena_empty();
    return 0;
}

static void test_prompt_echo_and_ok(void **state)
{
    (void)state;
    type("echo a  b\r");
    assert_string_equal(test_uart_output(), "certwiz> echo a  b\r\narg1=a\r\narg2=b\r\nOK\r\ncertwiz> ");
}

static void test_line_ends_cr_lf_crlf(void **state)
{
    (void)state;
    type("echo 1\r\necho 2\necho 3\r");
    const char *o = test_uart_output();
    assert_non_null(strstr(o, "arg1=1\r\nOK"));
    assert_non_null(strstr(o, "arg1=2\r\nOK"));
    assert_non_null(strstr(o, "arg1=3\r\nOK"));
    /* CR LF counts once: three commands, three prompts after the first, no empty-line prompts */
    int prompts = 0;
    for (const char *p = o; (p = strstr(p, "certwiz> ")) != NULL; p++) {
        prompts++;
    }
    assert_int_equal(prompts, 4);
}

static void test_error_line_names_the_code(void **state)
{
    (void)state;
    type("fail\r");
    assert_non_null(strstr(test_uart_output(),
                           "\r\nERR NOT_LOGGED_IN: This command needs the token user login; use login first.\r\ncertwiz> "));
}

static void test_unknown_command_then_keeps_working(void **state)
{
    (void)state;
    type("frobnicate\r");
    assert_non_null(strstr(test_uart_output(), "ERR UNKNOWN_COMMAND: "));
    test_uart_reset();
    type("echo ok\r");
    assert_string_equal(test_uart_output(), "echo ok\r\narg1=ok\r\nOK\r\ncertwiz> ");
}

static void test_backspace_and_del_edit_the_line(void **state)
{
    (void)state;
    type("echo abX\b\x7f" "c\r");
    assert_non_null(strstr(test_uart_output(), "arg1=ac\r\n"));
    assert_non_null(strstr(test_uart_output(), "\b \b\b \b"));
}

static void test_backspace_on_empty_line_is_harmless(void **state)
{
    (void)state;
    type("\b\b\becho x\r");
    assert_non_null(strstr(test_uart_output(), "arg1=x\r\nOK"));
}

static void test_ctrl_u_clears_line(void **state)
{
    (void)state;
    type("garbage\x15" "echo y\r");
    assert_non_null(strstr(test_uart_output(), "arg1=y\r\nOK"));
    assert_null(strstr(test_uart_output(), "UNKNOWN"));
}

static void test_overlong_line_is_refused_and_console_recovers(void **state)
{
    (void)state;
    char big[CW_CONSOLE_LINE_MAX + 50];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    type(big);
    type("\r");
    assert_non_null(strstr(test_uart_output(), "ERR LINE_TOO_LONG: "));
    test_uart_reset();
    type("echo after\r");
    assert_string_equal(test_uart_output(), "echo after\r\narg1=after\r\nOK\r\ncertwiz> ");
}

static void test_line_of_exactly_max_is_accepted(void **state)
{
    (void)state;
    char line[CW_CONSOLE_LINE_MAX + 2];
    memcpy(line, "echo ", 5);
    memset(line + 5, 'z', CW_CONSOLE_LINE_MAX - 5);
    line[CW_CONSOLE_LINE_MAX] = '\r';
    line[CW_CONSOLE_LINE_MAX + 1] = '\0';
    type(line);
    assert_non_null(strstr(test_uart_output(), "\r\nOK\r\n"));
}

static void test_too_many_words_is_usage(void **state)
{
    (void)state;
    type("echo 1 2 3 4 5 6 7 8 9 10\r");
    assert_non_null(strstr(test_uart_output(), "ERR USAGE: "));
}

static void test_empty_and_blank_lines_just_prompt(void **state)
{
    (void)state;
    type("\r   \r");
    assert_string_equal(test_uart_output(), "certwiz> \r\ncertwiz>    \r\ncertwiz> ");
}

static void test_control_characters_are_ignored(void **state)
{
    (void)state;
    type("ec\x01\x1bho q\r");
    assert_non_null(strstr(test_uart_output(), "arg1=q\r\nOK"));
}

static void test_secret_is_not_echoed(void **state)
{
    (void)state;
    type("secret\r");
    type("hunter2\r");
    assert_string_equal(last_secret, "hunter2");
    assert_null(strstr(test_uart_output(), "hunter2"));
    assert_non_null(strstr(test_uart_output(), "PIN (hidden): \r\nOK\r\ncertwiz> "));
    /* echo is back on for the next line */
    test_uart_reset();
    type("echo v\r");
    assert_non_null(strstr(test_uart_output(), "echo v"));
}

static void test_continuation_gets_lines_until_done(void **state)
{
    (void)state;
    type("paste\r-----BEGIN X-----\rAAAA\r\rEND\r");
    assert_non_null(strstr(test_uart_output(), "got 4 lines\r\nOK\r\ncertwiz> "));
}

/* on_command runs once before each command, never for a continuation's lines or a blank line:
 * the hook by which background work gives up the command scratch (cw_scratch.h). */
static int commands_started;

static void count_command(void)
{
    commands_started++;
}

static void test_on_command_runs_before_each_command_only(void **state)
{
    (void)state;
    commands_started = 0;
    con.on_command = count_command;
    type("echo a\r");
    assert_int_equal(commands_started, 1);
    type("\r   \r");
    assert_int_equal(commands_started, 1);
    type("paste\rone\rtwo\rEND\r");
    assert_int_equal(commands_started, 2);
    type("nosuchcommand\r");
    assert_int_equal(commands_started, 3);
    con.on_command = NULL;
    type("echo b\r");
    assert_int_equal(commands_started, 3);
}

static void test_ctrl_c_cancels_continuation(void **state)
{
    (void)state;
    type("paste\rline\x03");
    assert_non_null(strstr(test_uart_output(), "^C\r\nERR CANCELLED: "));
    test_uart_reset();
    type("echo z\r");
    assert_non_null(strstr(test_uart_output(), "arg1=z\r\nOK"));
}

static void test_overlong_line_in_continuation_ends_it(void **state)
{
    (void)state;
    char big[CW_CONSOLE_LINE_MAX + 10];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    type("paste\r");
    type(big);
    type("\r");
    assert_non_null(strstr(test_uart_output(), "ERR LINE_TOO_LONG: "));
    test_uart_reset();
    type("echo w\r");
    assert_non_null(strstr(test_uart_output(), "arg1=w\r\nOK"));
}

static void test_split(void **state)
{
    (void)state;
    char s[] = "  a\tbb   ccc ";
    char *argv[4];
    assert_int_equal(cw_console_split(s, argv, 4), 3);
    assert_string_equal(argv[0], "a");
    assert_string_equal(argv[1], "bb");
    assert_string_equal(argv[2], "ccc");
    char t[] = "a b c";
    assert_int_equal(cw_console_split(t, argv, 2), -1);
}

static void test_long_printf_is_cut_visibly(void **state)
{
    (void)state;
    char big[CW_CONSOLE_OUT_MAX * 2];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cw_console_printf(&con, "%s", big);
    const char *o = test_uart_output();
    assert_non_null(strstr(o, "yyy...\r\n"));
    assert_true(strlen(o) <= strlen("certwiz> ") + CW_CONSOLE_OUT_MAX + 2);
}

/* The appliance's own words (cw_config_t.extra) answer, and `help` lists them with their own
 * text beside certwiz's packed help lines. */
static void test_appliance_words_in_help(void **state)
{
    static const cw_cmd_group_t *const extra[] = {&group};
    cw_config_t cfg;
    (void)state;
    cw_config_default(&cfg);
    cfg.extra = extra;
    cfg.nextra = 1;
    assert_int_equal(cw_init(&cfg), CW_OK);
    test_uart_reset();
    test_uart_feed("help\r");
    cw_poll();
    char want[80];
    snprintf(want, sizeof want, "\r\n%-30s %s\r\n", "echo [words]", "print the words");
    assert_non_null(strstr(test_uart_output(), want));
    snprintf(want, sizeof want, "\r\n%-30s %s\r\n", "help", "list the commands");
    assert_non_null(strstr(test_uart_output(), want));
    test_uart_reset();
    test_uart_feed("echo a b\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "a b"));
}

/* The real command table, through cw_init and cw_poll: what the foundation promises. */
static void test_firmware_commands(void **state)
{
    (void)state;
    test_uart_reset();
    assert_int_equal(cw_init(NULL), CW_OK);
    assert_non_null(strstr(test_uart_output(), " on host\r\ncertwiz> "));

    test_uart_reset();
    test_uart_feed("version\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "version\r\ncertwiz "));
    assert_non_null(strstr(test_uart_output(), "mbedTLS 3.6.6, lwIP 2.2.1\r\nOK\r\n"));

    test_uart_reset();
    test_uart_feed("status\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "board: host\r\nuptime: "));
    assert_non_null(strstr(test_uart_output(), "arena: 0 of 49152 bytes in use\r\n"));
    assert_non_null(strstr(test_uart_output(), "\r\nOK\r\n"));

    test_uart_reset();
    test_uart_feed("mem\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "arena: size 49152, in use 0"));
    assert_non_null(strstr(test_uart_output(), "PBUF_POOL"));
    assert_non_null(strstr(test_uart_output(), "TCP_PCB"));
    assert_non_null(strstr(test_uart_output(), "\r\nOK\r\n"));

    test_uart_reset();
    test_uart_feed("help\r");
    cw_poll();
    for (const char *c = "help\0version\0status\0mem\0login\0logout\0token\0keys\0"; *c != '\0'; c += strlen(c) + 1) {
        char want[32];
        snprintf(want, sizeof want, "\r\n%s ", c);
        assert_non_null(strstr(test_uart_output(), want));
    }

    test_uart_reset();
    test_uart_feed("version extra\r");
    cw_poll();
    assert_non_null(strstr(test_uart_output(), "ERR USAGE: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prompt_echo_and_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_ends_cr_lf_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_line_names_the_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_command_then_keeps_working, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backspace_and_del_edit_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backspace_on_empty_line_is_harmless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_u_clears_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_line_is_refused_and_console_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_of_exactly_max_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_words_is_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_blank_lines_just_prompt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_characters_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_is_not_echoed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_gets_lines_until_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_command_runs_before_each_command_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_c_cancels_continuation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_line_in_continuation_ends_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_printf_is_cut_visibly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firmware_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appliance_words_in_help, setup, teardown),
    };
    cw_arena_init();
    lwip_init(); /* as the board does before cw_init() */
    return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
