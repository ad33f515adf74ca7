/*
 * command.c: runs one console command (docs/console.md) and maps its final line to an exit code.
 *
 * The exchange, as cwctl sees it:
 *
 *   cwctl   Ctrl-C                          abandon a half-typed line or a prompt left open
 *   device  (whatever that causes)          discarded until the line is quiet
 *   cwctl   "<word> <word> ...\r"
 *   device  "...<word> <word> ...\r\n"       discarded: the echo, and every line before it
 *   device  "<output line>\r\n" ...         printed, one line at a time
 *   device  "<prompt>: "                    a partial line, then quiet: answered (see below)
 *   device  "OK\r\n" | "ERR <NAME>: <sentence>\r\n"
 *   device  "certwiz> "                     not waited for
 *
 * Waiting for the echo, rather than for the first line end, keeps a reply that is still coming
 * from an earlier command (its cwctl was killed; a key generation prints progress for seconds)
 * from being taken for this command's reply, final "OK" included.
 *
 * Two limits end a command that gets no final line: --timeout of silence (exit 3), and --max-time
 * in all (exit 4), which counts from the opening of the port and ends a port that keeps sending
 * (log lines, line noise, lines that look like an echo) in every phase: settling, waiting for the
 * echo, for a prompt to go quiet, for the echo of each pasted line, for the final line. Time spent
 * waiting for the operator at the local terminal (a secret typed with echo off, a text answer
 * typed at a terminal) stops that clock: a person there can end it with Ctrl-C, a script cannot.
 *
 * Prompts: a hidden one gets one secret line, sent without waiting for anything. A text one gets
 * the next answer from --input or standard input: one line, or, when that line starts a PEM block
 * ("-----BEGIN "), every line through the block's "-----END " line; a later prompt takes the next
 * answer. Each line is sent after the device has echoed the one before: the echo paces the sending
 * (the device has taken a line when it echoes its end), and a line that is not the echo means the
 * device has stopped reading and is answering.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cwctl.h"
#include "input.h"
#include "reply.h"
#include "serial.h"

/* A partial line ending ": " is a prompt once the device has been quiet this long. A device in the
 * middle of a line sends its next byte within a character time (87 us at 115200 baud); 200 ms also
 * covers a USB-serial adapter's latency timer (16 ms) and a busy host board. */
#define CWCTL_PROMPT_IDLE_MS 200

/* After Ctrl-C, the device may still be sending (the end of a reply a killed cwctl left behind, or
 * a redrawn prompt). The line counts as settled after this much quiet, or after CWCTL_SETTLE_MAX_MS
 * whatever happens, so a chattering device cannot hold cwctl forever. */
#define CWCTL_SETTLE_QUIET_MS 100
#define CWCTL_SETTLE_MAX_MS 1000

/* A device stops echoing a line at its length limit (then answers LINE_TOO_LONG). An echo line that
 * ends with at least this much of the start of the command is taken as its echo; every board's
 * limit is far above it (255 on the host board), and stale output does not end with 32 bytes of
 * the command by chance. */
#define CWCTL_ECHO_MATCH_MIN 32

#define CWCTL_CTRL_C 0x03 /* the console abandons the line and any paste in progress */

/* Longest --output path cwctl handles; the temporary file adds ".XXXXXX". */
#define CWCTL_PATH_MAX 4096

/* Internal: the session goes on (never an exit code). */
#define CWCTL_CONTINUE (-1)

/* Where the reply lines go: standard output, or a file that is replaced only when the command
 * succeeds, so a failed `request -o S.csr` leaves no half-written request behind. */
typedef struct cwctl_output_ctx {
    FILE *fp;                    /* NULL before cwctl_output_open() */
    const char *path;            /* NULL for standard output */
    char tmp[CWCTL_PATH_MAX + 8]; /* the file renamed over path on success; "" when none */
} cwctl_output_ctx;

typedef struct cwctl_session_ctx {
    const cwctl_opts_t *opts;
    cwctl_port_ctx port;
    cwctl_output_ctx out;
    cwctl_reply_ctx reply;
    char command[CWCTL_LINE_MAX];   /* the words joined by spaces, as the device echoes them */
    size_t command_len;
    int awaiting_command_echo;

    /* Text for non-secret prompts: --input, else standard input. */
    cwctl_linein_ctx in;
    int input_fd;                   /* the --input file; -1 when none was opened */
    const char *in_name;            /* for messages */
    int in_is_tty;                  /* lines come as the operator types them */
    int feeding;                    /* a text prompt is open: send lines */
    unsigned long lines_fed;        /* lines sent since the prompt */
    int in_pem;                     /* the answer is a PEM block: it ends with its END line */
    int after_pem;                  /* blank lines after a PEM block separate it from the next */
    int quit_sent;                  /* a paste (--paste) has been ended with "quit" */
    int out_in_pem;                 /* pem_only: the output is inside a PEM block */
    int awaiting_echo;              /* echo[] was sent; its echo has not come back yet */
    char echo[CWCTL_LINE_MAX];
    size_t echo_len;

    int after_secret;               /* the device may end the prompt's line after a secret */
    long long last_activity_ms;     /* the last byte from the device or the last line we sent */
    long long timeout_ms;
    cwctl_deadline_ctx deadline;    /* --max-time, from the opening of the port */
    int command_sent;
    unsigned long long bytes_received; /* since the port was opened, for messages */
    long long last_byte_ms;         /* when the device sent the last of them */
} cwctl_session_ctx;

/* ---- output ---------------------------------------------------------------------------------- */

static int cwctl_output_open(cwctl_output_ctx *out, const char *path)
{
    struct stat st;
    mode_t mode;
    int fd;
    int n;

    out->path = path;
    out->tmp[0] = '\0';
    out->fp = NULL;
    if (path == NULL) {
        out->fp = stdout;
        return 0;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            /* a device, FIFO or symlink (/dev/stdout, a pipe): write through, never replace it */
            out->fp = fopen(path, "w");
            return out->fp != NULL ? 0 : -1;
        }
        mode = st.st_mode & 0777;
    } else if (errno == ENOENT) {
        mode_t mask = umask(0);

        (void)umask(mask); /* umask() cannot fail; this only reads it back */
        mode = 0666 & ~mask;
    } else {
        return -1;
    }
    n = snprintf(out->tmp, sizeof out->tmp, "%s.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof out->tmp) {
        out->tmp[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkstemp(out->tmp);
    if (fd < 0) {
        out->tmp[0] = '\0';
        return -1;
    }
    if (fchmod(fd, mode) != 0 || (out->fp = fdopen(fd, "w")) == NULL) {
        int saved_errno = errno;

        (void)close(fd);
        (void)unlink(out->tmp);
        out->tmp[0] = '\0';
        errno = saved_errno;
        return -1;
    }
    return 0;
}

/* Writes text; with end_line also a line end. Flushes, so a slow command streams. */
static int cwctl_output_write(cwctl_output_ctx *out, const char *text, size_t len, int end_line)
{
    if (len > 0 && fwrite(text, 1, len, out->fp) != len) {
        return -1;
    }
    if (end_line && fputc('\n', out->fp) == EOF) {
        return -1;
    }
    return fflush(out->fp) == 0 ? 0 : -1;
}

/* Makes the output final: the temporary file reaches the disk and takes the path's place. */
static int cwctl_output_commit(cwctl_output_ctx *out)
{
    FILE *fp = out->fp;

    out->fp = NULL;
    if (out->path == NULL) {
        return fflush(fp) == 0 ? 0 : -1;
    }
    if (out->tmp[0] == '\0') {
        return fclose(fp) == 0 ? 0 : -1;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        int saved_errno = errno;

        (void)fclose(fp);
        errno = saved_errno;
        return -1;
    }
    if (fclose(fp) != 0 || rename(out->tmp, out->path) != 0) {
        return -1;
    }
    out->tmp[0] = '\0';
    return 0;
}

/* Drops the output of a failed command: the temporary file goes, path keeps its old contents. */
static void cwctl_output_abort(cwctl_output_ctx *out)
{
    if (out->fp != NULL && out->path != NULL) {
        (void)fclose(out->fp); /* the contents are being thrown away */
    } else if (out->fp != NULL) {
        (void)fflush(out->fp); /* keep what was already printed to stdout */
    }
    out->fp = NULL;
    if (out->tmp[0] != '\0') {
        (void)unlink(out->tmp);
        out->tmp[0] = '\0';
    }
}

/* ---- failures -------------------------------------------------------------------------------- */

static int cwctl_port_failed(const cwctl_session_ctx *s)
{
    cwctl_warn("%s: %s", s->opts->port, strerror(errno));
    return CWCTL_EXIT_USAGE;
}

/* Ends a command cwctl cannot finish. Ctrl-C makes the device drop a prompt or paste that would
 * otherwise swallow the next command; it is harmless at the command prompt. */
static int cwctl_abandon(cwctl_session_ctx *s, int rc)
{
    static const unsigned char ctrl_c = CWCTL_CTRL_C;

    if (cwctl_write_all(s->port.fd, &ctrl_c, 1) != 0 || cwctl_drain(s->port.fd) != 0) {
        /* the port is failing too; the first failure is the one already reported */
    }
    return rc;
}

static int cwctl_interrupted(cwctl_session_ctx *s)
{
    cwctl_warn("interrupted");
    return cwctl_abandon(s, CWCTL_EXIT_USAGE);
}

/* A device that sent its last byte this recently counts as still sending, for messages. */
#define CWCTL_STILL_SENDING_MS 1000

/* --max-time has run out: say what the device did meanwhile. */
static int cwctl_give_up(cwctl_session_ctx *s)
{
    long long quiet_ms = cwctl_now_ms() - s->last_byte_ms;
    char operator_time[64] = "";
    char device[96];

    if (s->deadline.paused_ms > 0) {
        (void)snprintf(operator_time, sizeof operator_time,
                       " (not counting %.1f s of waiting for you)",
                       (double)s->deadline.paused_ms / 1000.0);
    }
    if (s->bytes_received == 0) {
        (void)snprintf(device, sizeof device, "the device sent nothing");
    } else if (quiet_ms < CWCTL_STILL_SENDING_MS) {
        (void)snprintf(device, sizeof device, "the device kept sending (%llu bytes)",
                       s->bytes_received);
    } else {
        (void)snprintf(device, sizeof device, "the device sent %llu bytes, the last %.1f s ago",
                       s->bytes_received, (double)quiet_ms / 1000.0);
    }
    cwctl_warn("no final line from %s after %g s (--max-time)%s; %s%s", s->opts->port,
               s->opts->max_time_s, operator_time,
               s->command_sent ? "" : "the command was not sent: ", device);
    return cwctl_abandon(s, CWCTL_EXIT_MAX_TIME);
}

/* Length of a prompt without its ": " and trailing blanks, for messages. */
static int cwctl_prompt_len(const char *prompt, size_t len)
{
    while (len > 0 && (prompt[len - 1] == ' ' || prompt[len - 1] == ':')) {
        len--;
    }
    return len > INT_MAX ? INT_MAX : (int)len;
}

/* ---- sending --------------------------------------------------------------------------------- */

/* Sends text + CR and waits until it has left, so a slow UART is never handed more than a line. */
static int cwctl_send_line(cwctl_session_ctx *s, const char *text, size_t len)
{
    static const char cr = '\r';

    if (cwctl_write_all(s->port.fd, text, len) != 0 || cwctl_write_all(s->port.fd, &cr, 1) != 0 ||
        cwctl_drain(s->port.fd) != 0) {
        return -1;
    }
    s->last_activity_ms = cwctl_now_ms();
    return 0;
}

/* Abandons a half-typed line, or a prompt a killed cwctl left open (Ctrl-U there would let this
 * command be taken as a PIN and cost a login attempt), then waits until the device is quiet: at
 * most CWCTL_SETTLE_MAX_MS, and not beyond --max-time (the caller checks that next). */
static int cwctl_settle(cwctl_session_ctx *s)
{
    static const unsigned char ctrl_c = CWCTL_CTRL_C;
    long long start;
    long long quiet_since;

    if (cwctl_write_all(s->port.fd, &ctrl_c, 1) != 0 || cwctl_drain(s->port.fd) != 0) {
        return cwctl_port_failed(s);
    }
    start = quiet_since = cwctl_now_ms();
    for (;;) {
        struct pollfd pfd = {.fd = s->port.fd, .events = POLLIN, .revents = 0};
        unsigned char junk[256];
        long long now = cwctl_now_ms();
        long long wait = quiet_since + CWCTL_SETTLE_QUIET_MS - now;
        ssize_t n;

        if (cwctl_signal_pending()) {
            cwctl_warn("interrupted");
            return CWCTL_EXIT_USAGE;
        }
        if (start + CWCTL_SETTLE_MAX_MS - now < wait) {
            wait = start + CWCTL_SETTLE_MAX_MS - now;
        }
        if (cwctl_deadline_left_ms(&s->deadline) < wait) {
            wait = cwctl_deadline_left_ms(&s->deadline);
        }
        if (wait <= 0) {
            return CWCTL_CONTINUE;
        }
        if (poll(&pfd, 1, (int)wait) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return cwctl_port_failed(s);
        }
        if (pfd.revents == 0) {
            continue;
        }
        n = cwctl_read(s->port.fd, junk, sizeof junk);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return cwctl_port_failed(s);
        }
        s->bytes_received += (unsigned long long)n;
        s->last_byte_ms = quiet_since = cwctl_now_ms();
    }
}

/* Joins the command words with single spaces into s->command. */
static int cwctl_join_command(cwctl_session_ctx *s)
{
    size_t i;

    s->command_len = 0;
    for (i = 0; i < s->opts->word_count; i++) {
        const char *w = s->opts->words[i];
        size_t len = strlen(w);

        if (len + 1 > sizeof s->command - s->command_len) {
            cwctl_warn("the command is longer than %u bytes", (unsigned)sizeof s->command - 1);
            return CWCTL_EXIT_USAGE;
        }
        if (i > 0) {
            s->command[s->command_len++] = ' ';
        }
        memcpy(s->command + s->command_len, w, len);
        s->command_len += len;
    }
    i = 0;
    while (i < s->command_len && s->command[i] == ' ') {
        i++;
    }
    if (i == s->command_len) {
        /* the console answers a blank line with a new prompt and no final line */
        cwctl_warn("the command is empty");
        return CWCTL_EXIT_USAGE;
    }
    return CWCTL_CONTINUE;
}

/* Is the line just received the echo of the command? It may follow a redrawn prompt or the
 * erasing of a half-typed line, so only its end is compared, and it may be cut at the device's
 * line limit (see CWCTL_ECHO_MATCH_MIN). */
static int cwctl_is_command_echo(const cwctl_session_ctx *s)
{
    const cwctl_reply_ctx *r = &s->reply;
    size_t least = s->command_len < CWCTL_ECHO_MATCH_MIN ? s->command_len : CWCTL_ECHO_MATCH_MIN;
    size_t k = r->len < s->command_len ? r->len : s->command_len;

    for (; k >= least; k--) {
        if (memcmp(r->line + r->len - k, s->command, k) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- prompts --------------------------------------------------------------------------------- */

static int cwctl_answer_secret(cwctl_session_ctx *s)
{
    const cwctl_opts_t *opts = s->opts;
    const char *prompt = s->reply.line;
    int shown = cwctl_prompt_len(prompt, s->reply.len);
    const char *file = NULL;
    char secret[CWCTL_SECRET_MAX + 1]; /* + CR */
    size_t len = 0;
    int rc;

    if (strstr(prompt, "Challenge") != NULL && opts->challenge_file != NULL) {
        file = opts->challenge_file;
    } else if (strstr(prompt, "PIN") != NULL && opts->pin_file != NULL) {
        file = opts->pin_file;
    } else if (opts->secret_file != NULL) {
        file = opts->secret_file;
    }
    if (file != NULL) {
        rc = cwctl_secret_from_file(file, secret, CWCTL_SECRET_MAX, &len);
    } else if (isatty(STDIN_FILENO)) {
        cwctl_deadline_pause(&s->deadline); /* the operator's typing is not the device's time */
        rc = cwctl_secret_from_tty(prompt, s->reply.len, secret, CWCTL_SECRET_MAX, &len);
        cwctl_deadline_resume(&s->deadline);
    } else {
        cwctl_warn("the device asks for a secret (%.*s) and no --pin-file/--secret-file was given",
                   shown, prompt);
        return cwctl_abandon(s, CWCTL_EXIT_USAGE);
    }
    if (rc != 0) {
        int saved_errno = errno;

        cwctl_wipe(secret, sizeof secret);
        if (saved_errno == EINTR && cwctl_signal_pending()) {
            return cwctl_interrupted(s);
        }
        cwctl_warn("%s: %s", file != NULL ? file : "/dev/tty",
                   saved_errno == EMSGSIZE ? "the secret is longer than cwctl accepts"
                                           : strerror(saved_errno));
        return cwctl_abandon(s, CWCTL_EXIT_USAGE);
    }
    secret[len++] = '\r';
    rc = cwctl_write_all(s->port.fd, secret, len);
    cwctl_wipe(secret, sizeof secret);
    if (rc != 0 || cwctl_drain(s->port.fd) != 0) {
        return cwctl_port_failed(s);
    }
    cwctl_reply_clear(&s->reply);
    s->after_secret = 1;
    s->last_activity_ms = cwctl_now_ms();
    return CWCTL_CONTINUE;
}

#define CWCTL_AS_TEXT_PROMPT (-2)

/* A yes/no question (trust a CA, forget CA certificates): --yes answers it. Without --yes it is a
 * text prompt like any other (--input or standard input), except after a pasted file, whose
 * lines must never answer it: then the operator at the terminal answers, and a script without a
 * terminal gets exit 2. */
static int cwctl_answer_yes_no(cwctl_session_ctx *s, const char *prompt)
{
    char answer[16];
    size_t n = 0;

    if (s->opts->yes) {
        memcpy(answer, "yes", 3);
        n = 3;
        if (fputs("yes\n", stderr) == EOF) {
            /* stderr is gone; the answer still goes out */
        }
    } else if (!s->opts->paste_all) {
        return CWCTL_AS_TEXT_PROMPT; /* answered like any text prompt */
    } else if (isatty(STDIN_FILENO)) {
        /* the paste file holds no answer: ask the operator on the terminal */
        cwctl_deadline_pause(&s->deadline);
        if (fgets(answer, sizeof answer, stdin) == NULL) {
            answer[0] = '\0';
        }
        cwctl_deadline_resume(&s->deadline);
        n = strcspn(answer, "\r\n");
    } else {
        cwctl_warn("the device asks \"%s\" and cwctl has no operator to ask: check what it showed, then "
                   "run again with --yes", prompt);
        return cwctl_abandon(s, CWCTL_EXIT_USAGE);
    }
    memcpy(s->echo, answer, n);
    s->echo_len = n;
    if (cwctl_send_line(s, s->echo, s->echo_len) != 0) {
        return cwctl_port_failed(s);
    }
    s->awaiting_echo = 1;
    s->feeding = 0;
    return CWCTL_CONTINUE;
}

static int cwctl_answer_prompt(cwctl_session_ctx *s)
{
    char prompt_text[CWCTL_LINE_MAX + 1];
    const char *prompt = s->reply.line;

    if (strstr(prompt, "(hidden)") != NULL) {
        return cwctl_answer_secret(s);
    }
    /* stderr, so standard output carries only the command's output; an operator typing at a
     * terminal answers on the prompt's line, otherwise the line is ended here */
    if (fwrite(prompt, 1, s->reply.len, stderr) != s->reply.len ||
        (!s->in_is_tty && fputc('\n', stderr) == EOF) || fflush(stderr) != 0) {
        /* stderr is gone; the command can still succeed */
    }
    memcpy(prompt_text, prompt, s->reply.len + 1);
    cwctl_reply_clear(&s->reply);
    if (strstr(prompt_text, "(yes/no)") != NULL) {
        int rc = cwctl_answer_yes_no(s, prompt_text);
        if (rc != CWCTL_AS_TEXT_PROMPT) {
            return rc;
        }
    }
    if (s->opts->paste_all && (s->quit_sent || s->lines_fed > 0)) {
        /* a paste in progress: the device's "another block" prompts need no answer of their own */
        s->feeding = !s->quit_sent;
        return CWCTL_CONTINUE;
    }
    s->feeding = 1;
    s->lines_fed = 0;
    return CWCTL_CONTINUE;
}

/* Sends the next input line of an open text prompt, if one is there to send. Never waits for the
 * input: the session loop polls it beside the port, so a pipe that stalls cannot outlast
 * --max-time. */
static int cwctl_feed(cwctl_session_ctx *s)
{
    size_t i;
    size_t len = 0;
    cwctl_linein_result r = cwctl_linein_next(&s->in, 0, s->echo, sizeof s->echo, &len);

    switch (r) {
    case CWCTL_LINEIN_AGAIN:
        return CWCTL_CONTINUE;
    case CWCTL_LINEIN_ERROR:
        if (errno == EINTR && cwctl_signal_pending()) {
            return cwctl_interrupted(s);
        }
        cwctl_warn("%s: %s", s->in_name,
                   errno == EMSGSIZE ? "a line is longer than 4096 bytes" : strerror(errno));
        return cwctl_abandon(s, CWCTL_EXIT_USAGE);
    case CWCTL_LINEIN_EOF:
        s->feeding = 0;
        if (s->opts->paste_all) {
            /* the whole file is pasted; a multi-block paste ends with "quit" */
            if (s->opts->paste_quit && !s->quit_sent) {
                s->quit_sent = 1;
                memcpy(s->echo, "quit", 4);
                s->echo_len = 4;
                if (cwctl_send_line(s, s->echo, s->echo_len) != 0) {
                    return cwctl_port_failed(s);
                }
                s->awaiting_echo = 1;
            }
            return CWCTL_CONTINUE;
        }
        if (s->lines_fed == 0) {
            cwctl_warn("the device asks for input and %s has no more lines", s->in_name);
        } else {
            cwctl_warn("%s ends inside a PEM block", s->in_name);
        }
        return cwctl_abandon(s, CWCTL_EXIT_USAGE);
    case CWCTL_LINEIN_LINE:
        break;
    }
    /* The console edits the line on Backspace, DEL, Ctrl-U and Ctrl-C and ignores other control
     * characters; drop them all so the text arrives as written and its echo can be recognised. */
    s->echo_len = 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s->echo[i];

        if (c >= 0x20 && c != 0x7f) {
            s->echo[s->echo_len++] = (char)c;
        }
    }
    /* A paste sends everything: the device reads until "quit", so no line is run as a command. */
    if (s->opts->paste_all) {
        if (cwctl_send_line(s, s->echo, s->echo_len) != 0) {
            return cwctl_port_failed(s);
        }
        s->awaiting_echo = 1;
        s->lines_fed++;
        return CWCTL_CONTINUE;
    }
    /* One prompt takes one answer: one line, or a PEM block through its END line. Sending more
     * would race the device's reply, and the device would run the surplus lines as commands. */
    if (s->lines_fed == 0) {
        if (s->after_pem && s->echo_len == 0) {
            return CWCTL_CONTINUE;
        }
        s->in_pem = s->echo_len >= 11 && memcmp(s->echo, "-----BEGIN ", 11) == 0;
    }
    s->after_pem = 0;
    if (!s->in_pem) {
        s->feeding = 0;
    } else if (s->echo_len >= 9 && memcmp(s->echo, "-----END ", 9) == 0) {
        s->feeding = 0;
        s->after_pem = 1;
    }
    if (cwctl_send_line(s, s->echo, s->echo_len) != 0) {
        return cwctl_port_failed(s);
    }
    s->awaiting_echo = 1;
    s->lines_fed++;
    return CWCTL_CONTINUE;
}

/* ---- receiving ------------------------------------------------------------------------------- */

static int cwctl_on_event(cwctl_session_ctx *s, cwctl_reply_event ev)
{
    const cwctl_reply_ctx *r = &s->reply;
    cwctl_final final;

    if (s->awaiting_command_echo) {
        /* everything up to the echo is a leftover of an earlier command */
        if (ev == CWCTL_REPLY_LINE && cwctl_is_command_echo(s)) {
            s->awaiting_command_echo = 0;
        }
        return CWCTL_CONTINUE;
    }
    if (s->awaiting_echo) {
        s->awaiting_echo = 0;
        if (ev == CWCTL_REPLY_LINE && !r->continued && r->len == s->echo_len &&
            memcmp(r->line, s->echo, r->len) == 0) {
            return CWCTL_CONTINUE;
        }
        /* In a paste the next line goes out without waiting for the device's "another block"
         * prompt to go quiet, so that prompt and the echo share a line: it ends with the echo. */
        if (s->opts->paste_all && ev == CWCTL_REPLY_LINE && !r->continued && r->len > s->echo_len &&
            memcmp(r->line + r->len - s->echo_len, s->echo, s->echo_len) == 0 && s->echo_len > 0) {
            return CWCTL_CONTINUE;
        }
        /* not the echo: the device has stopped reading and is answering */
        s->feeding = 0;
    }
    if (s->after_secret) {
        s->after_secret = 0;
        if (ev == CWCTL_REPLY_LINE && !r->continued && r->len == 0) {
            return CWCTL_CONTINUE;
        }
    }
    final = cwctl_reply_final(r);
    if (final == CWCTL_FINAL_OK) {
        return CWCTL_EXIT_OK;
    }
    if (final == CWCTL_FINAL_ERR) {
        cwctl_warn("%s", r->line + 4);
        return CWCTL_EXIT_ERR;
    }
    if (s->opts->pem_only) {
        /* -o with request/csr: the file gets the PEM block, the rest goes to stdout */
        int begin = r->len >= 11 && memcmp(r->line, "-----BEGIN ", 11) == 0;
        int in_block = s->out_in_pem || begin;
        s->out_in_pem = in_block && !(r->len >= 9 && memcmp(r->line, "-----END ", 9) == 0);
        if (!in_block) {
            if (fwrite(r->line, 1, r->len, stdout) != r->len || fputc('\n', stdout) == EOF) {
                return cwctl_abandon(s, CWCTL_EXIT_USAGE);
            }
            return CWCTL_CONTINUE;
        }
    }
    if (cwctl_output_write(&s->out, r->line, r->len, ev == CWCTL_REPLY_LINE) != 0) {
        cwctl_warn("%s: %s", s->out.path != NULL ? s->out.path : "standard output",
                   strerror(errno));
        return cwctl_abandon(s, CWCTL_EXIT_USAGE);
    }
    return CWCTL_CONTINUE;
}

static int cwctl_receive(cwctl_session_ctx *s)
{
    unsigned char buf[512];
    ssize_t n = cwctl_read(s->port.fd, buf, sizeof buf);
    size_t off = 0;

    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return CWCTL_CONTINUE; /* the loop looks at the signal flag */
        }
        return cwctl_port_failed(s);
    }
    if (n == 0) {
        cwctl_warn("%s: the device closed the line", s->opts->port);
        return CWCTL_EXIT_USAGE;
    }
    s->last_activity_ms = s->last_byte_ms = cwctl_now_ms();
    s->bytes_received += (unsigned long long)n;
    while (off < (size_t)n) {
        cwctl_reply_event ev;
        int rc;

        off += cwctl_reply_push(&s->reply, buf + off, (size_t)n - off, &ev);
        if (ev != CWCTL_REPLY_NONE && (rc = cwctl_on_event(s, ev)) != CWCTL_CONTINUE) {
            return rc; /* what follows the final line is the prompt */
        }
    }
    return CWCTL_CONTINUE;
}

/* ---- the session ----------------------------------------------------------------------------- */

static int cwctl_session_loop(cwctl_session_ctx *s)
{
    for (;;) {
        struct pollfd fds[2];
        nfds_t nfds = 1;
        long long now;
        long long wait;
        int waiting_input;
        int human;
        int rc;

        if (cwctl_signal_pending()) {
            return cwctl_interrupted(s);
        }
        /* A text prompt is open and its next line is not sent yet: the device waits for us. */
        waiting_input = s->feeding && !s->awaiting_echo;
        if (waiting_input && cwctl_linein_ready(&s->in)) {
            if ((rc = cwctl_feed(s)) != CWCTL_CONTINUE) {
                return rc;
            }
            continue;
        }
        /* An operator typing a paste may take minutes: neither limit runs meanwhile. A file or a
         * pipe is no operator: --max-time runs, but the silence is ours, not the device's. */
        human = waiting_input && s->in_is_tty;
        if (human) {
            cwctl_deadline_pause(&s->deadline);
        } else {
            cwctl_deadline_resume(&s->deadline);
        }
        now = cwctl_now_ms();
        wait = -1;
        if (!waiting_input) {
            wait = s->last_activity_ms + s->timeout_ms - now;
            if (wait <= 0) {
                cwctl_warn("timeout: no reply from %s for %g s", s->opts->port, s->opts->timeout_s);
                return cwctl_abandon(s, CWCTL_EXIT_TIMEOUT);
            }
        }
        if (!human) {
            /* checked on every pass, not only when poll() times out: a port that never stops
             * sending never lets it time out */
            long long left = cwctl_deadline_left_ms(&s->deadline);

            if (left <= 0) {
                return cwctl_give_up(s);
            }
            if (wait < 0 || left < wait) {
                wait = left;
            }
        }
        if (!s->awaiting_echo && !s->awaiting_command_echo && cwctl_reply_is_prompt(&s->reply)) {
            long long idle = s->last_activity_ms + CWCTL_PROMPT_IDLE_MS - now;

            if (idle <= 0) {
                if ((rc = cwctl_answer_prompt(s)) != CWCTL_CONTINUE) {
                    return rc;
                }
                continue;
            }
            if (wait < 0 || idle < wait) {
                wait = idle;
            }
        }
        fds[0].fd = s->port.fd;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        if (waiting_input) {
            fds[1].fd = s->in.fd;
            fds[1].events = POLLIN;
            fds[1].revents = 0;
            nfds = 2;
        }
        if (poll(fds, nfds, wait > INT_MAX ? INT_MAX : (int)wait) < 0) {
            if (errno == EINTR) {
                continue;
            }
            cwctl_warn("poll: %s", strerror(errno));
            return cwctl_abandon(s, CWCTL_EXIT_USAGE);
        }
        if (fds[0].revents != 0 && (rc = cwctl_receive(s)) != CWCTL_CONTINUE) {
            return rc;
        }
        if (nfds == 2 && fds[1].revents != 0 && cwctl_linein_fill(&s->in) != 0) {
            if (errno == EINTR && cwctl_signal_pending()) {
                return cwctl_interrupted(s);
            }
            cwctl_warn("%s: %s", s->in_name, strerror(errno));
            return cwctl_abandon(s, CWCTL_EXIT_USAGE);
        }
    }
}

static int cwctl_session_run(cwctl_session_ctx *s)
{
    const cwctl_opts_t *opts = s->opts;
    int rc;

    /* Local things first: a mistyped path must fail before the device does anything. */
    if ((rc = cwctl_join_command(s)) != CWCTL_CONTINUE) {
        return rc;
    }
    if (opts->input_file != NULL) {
        do {
            s->input_fd = open(opts->input_file, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        } while (s->input_fd < 0 && errno == EINTR && !cwctl_signal_pending());
        if (s->input_fd < 0) {
            cwctl_warn("%s: %s", opts->input_file, strerror(errno));
            return CWCTL_EXIT_USAGE;
        }
        cwctl_linein_init(&s->in, s->input_fd);
        s->in_name = opts->input_file;
    } else {
        cwctl_linein_init(&s->in, STDIN_FILENO);
        s->in_name = "standard input";
    }
    s->in_is_tty = isatty(s->in.fd);
    if (cwctl_output_open(&s->out, opts->output_file) != 0) {
        cwctl_warn("%s: %s", opts->output_file, strerror(errno));
        return CWCTL_EXIT_USAGE;
    }
    if (cwctl_port_open(&s->port, opts->port, cwctl_serial_speed(opts->speed)) != 0) {
        if (errno == EBUSY) {
            cwctl_warn("%s: in use by another program", opts->port);
            return CWCTL_EXIT_USAGE;
        }
        return cwctl_port_failed(s);
    }
    cwctl_deadline_start(&s->deadline, opts->max_time_s);
    if ((rc = cwctl_settle(s)) != CWCTL_CONTINUE) {
        return rc;
    }
    if (cwctl_deadline_left_ms(&s->deadline) <= 0) {
        return cwctl_give_up(s); /* a --max-time shorter than the settling */
    }
    if (cwctl_send_line(s, s->command, s->command_len) != 0) {
        return cwctl_port_failed(s);
    }
    s->command_sent = 1;
    s->awaiting_command_echo = 1;
    return cwctl_session_loop(s);
}

int cwctl_command_run(const cwctl_opts_t *opts)
{
    cwctl_session_ctx s;
    int rc;

    memset(&s, 0, sizeof s);
    s.opts = opts;
    s.port.fd = -1;
    s.input_fd = -1;
    s.timeout_ms = (long long)(opts->timeout_s * 1000.0 + 0.5);
    cwctl_reply_init(&s.reply);

    rc = cwctl_session_run(&s);
    if (rc == CWCTL_EXIT_OK && cwctl_output_commit(&s.out) != 0) {
        cwctl_warn("%s: %s", opts->output_file != NULL ? opts->output_file : "standard output",
                   strerror(errno));
        rc = CWCTL_EXIT_USAGE;
    }
    cwctl_output_abort(&s.out);
    if (s.input_fd >= 0) {
        (void)close(s.input_fd); /* read-only: nothing to lose */
    }
    cwctl_port_close(&s.port);
    return rc;
}
