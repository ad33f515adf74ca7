/*
 * cwctl.c: the command line of cwctl, the PC-side console tool of certwiz.
 *
 * Options may stand before or after the command words (`cwctl request -o S.csr --port X ...`);
 * after "--" everything is a command word, so a device argument starting with '-' can be passed.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cwctl.h"
#include "serial.h"
#include "topology.h"

/* The only mutable global: which terminating signal arrived (0: none). */
static volatile sig_atomic_t cwctl_caught_signal;

static const char cwctl_usage_text[] =
    "usage: cwctl --port TTY [options] COMMAND [WORD...]\n"
    "       cwctl --port TTY [--speed N] shell\n"
    "       cwctl --port TTY request --set SET --offline [-o SET.csr]\n"
    "       cwctl --port TTY [--challenge-file F] request --set SET|--all --online\n"
    "       cwctl --port TTY [--challenge-file F] renew --set SET\n"
    "       cwctl --port TTY ca auth --profile PROFILE [--yes]\n"
    "       cwctl --port TTY csr --set SET [-o SET.csr]\n"
    "       cwctl --port TTY import --set SET FILE [--yes]\n"
    "       cwctl --port TTY ca import --profile PROFILE FILE [--yes]\n"
    "       cwctl --port TTY ca show|forget --profile PROFILE [--yes]\n"
    "       cwctl --port TTY topology load SITE.der\n"
    "       cwctl topology compile|show|derive FILE [-o FILE]   (no device; see below)\n"
    "       cwctl --help | --version\n"
    "\n"
    "Sends one command to the console of a certwiz device and prints the reply lines\n"
    "(without the echo and the prompt) on standard output.\n"
    "\n"
    "options (before or after the command words; after -- only command words follow):\n"
    "  --port TTY         serial device of the console (required)\n"
    "  --speed N          bits per second (default 115200)\n"
    "  --timeout S        give up when the device sends nothing for S seconds (default 30)\n"
    "  --max-time S       give up when the command has not ended S seconds after cwctl\n"
    "                     opened the port, however much the device sends (default 3600,\n"
    "                     and never less than --timeout unless given); time spent\n"
    "                     waiting for you at this terminal (typing a secret or an\n"
    "                     answer) does not count; shell obeys it without a terminal only\n"
    "  --pin-file F       answer a hidden prompt that mentions PIN with the first line of F\n"
    "  --challenge-file F answer a hidden prompt that mentions Challenge with the first\n"
    "                     line of F (the CA's one-time or shared enrolment password)\n"
    "  --secret-file F    answer the other hidden prompts (and PIN ones without --pin-file)\n"
    "                     with the first line of F; without a file the secret is read from\n"
    "                     the terminal with echo off\n"
    "  --input F          answer text prompts from F (default: standard input): each prompt\n"
    "                     takes the next line, or the next PEM block through its END line\n"
    "  --paste F          a paste: at the first text prompt send every line of F, then\n"
    "                     the line quit (what import and ca import do with their FILE)\n"
    "  -o, --output F     write the reply lines to F instead of standard output;\n"
    "                     F is replaced only when the device answers OK; with request\n"
    "                     and csr, F gets only the CSR and the other lines go to stdout\n"
    "  --yes              answer yes to the device's yes/no questions (trust a CA or\n"
    "                     root the topology does not pin, forget a profile's CAs): read\n"
    "                     the fingerprint it shows first. Without --yes it is a text\n"
    "                     prompt (--input, standard input); after a --paste file it is\n"
    "                     asked on the terminal, and without one cwctl exits 2\n"
    "  -h, --help         show this help and exit\n"
    "  --version          show cwctl's version and exit\n"
    "\n"
    "the wizard's forms: request --online enrols over SCEP (every set that needs it with\n"
    "--all), renew rolls a set over to a new key and certificate, ca auth fetches and\n"
    "checks the CA certificate (--yes accepts one the topology does not pin: compare its\n"
    "fingerprint first); request --offline and csr print the set's CSR (-o writes it);\n"
    "import and ca import paste FILE, a certificate, PEM bundle or PKCS#7 (.p7b) in PEM\n"
    "or DER, and end the paste with quit (a root neither pinned nor trusted yet is\n"
    "shown and needs yes); ca show lists a profile's CA certificates, ca forget removes\n"
    "them (yes/no); topology load pastes a blob cwctl compiled\n"
    "(DER or PEM). They need `login` first (with --pin-file).\n"
    "\n"
    "shell: passes the terminal through to the device; Ctrl-] quits. Without a\n"
    "terminal, standard input is sent and the output shown for 0.5 s after its end,\n"
    "or until --max-time.\n"
    "\n"
    "topology without --port works on topology files of this PC (topology must be the\n"
    "first word): compile SITE.json -o SITE.der, show SITE.der, derive SITE.der|SITE.json.\n"
    "`cwctl topology --help` explains; docs/topology.md describes the format.\n"
    "\n"
    "Prompts for input go to standard error; so do error messages.\n"
    "\n"
    "exit status:\n"
    "  0  the device answered OK (shell: ended by Ctrl-], end of input or the device)\n"
    "  1  the device answered ERR; its name and sentence are on standard error\n"
    "  2  usage error, I/O error, a prompt cwctl could not answer, or a signal\n"
    "  3  timeout: the device sent nothing for --timeout seconds\n"
    "  4  the command did not end within --max-time seconds: the device kept sending\n"
    "     without a final line (shell: standard input did not end)\n"
    "On 3 and 4 (and on a signal) cwctl sends Ctrl-C so the device abandons the command.\n";

static void cwctl_on_signal(int signo)
{
    cwctl_caught_signal = signo;
}

int cwctl_signal_pending(void)
{
    return cwctl_caught_signal != 0;
}

long long cwctl_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0; /* POSIX requires CLOCK_MONOTONIC; this does not happen */
    }
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cwctl_deadline_start(cwctl_deadline_ctx *d, double seconds)
{
    d->end_ms = cwctl_now_ms() + (long long)(seconds * 1000.0 + 0.5);
    d->paused_at_ms = -1;
    d->paused_ms = 0;
}

void cwctl_deadline_pause(cwctl_deadline_ctx *d)
{
    if (d->paused_at_ms < 0) {
        d->paused_at_ms = cwctl_now_ms();
    }
}

void cwctl_deadline_resume(cwctl_deadline_ctx *d)
{
    if (d->paused_at_ms >= 0) {
        long long paused = cwctl_now_ms() - d->paused_at_ms;

        d->end_ms += paused;
        d->paused_ms += paused;
        d->paused_at_ms = -1;
    }
}

long long cwctl_deadline_left_ms(const cwctl_deadline_ctx *d)
{
    return d->end_ms - (d->paused_at_ms >= 0 ? d->paused_at_ms : cwctl_now_ms());
}

void cwctl_wipe(void *p, size_t len)
{
    /* volatile stores: the compiler may not drop them as dead, unlike a final memset() */
    volatile unsigned char *v = p;

    while (len-- > 0) {
        *v++ = 0;
    }
}

void cwctl_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (fputs("cwctl: ", stderr) == EOF || vfprintf(stderr, fmt, ap) < 0 ||
        fputc('\n', stderr) == EOF) {
        /* nowhere left to report it */
    }
    va_end(ap);
}

static int cwctl_usage_error(const char *what, const char *arg)
{
    cwctl_warn("%s%s%s (see cwctl --help)", what, arg != NULL ? ": " : "", arg != NULL ? arg : "");
    return CWCTL_EXIT_USAGE;
}

/* Options that take a value. */
enum cwctl_opt_id {
    CWCTL_OPT_PORT,
    CWCTL_OPT_SPEED,
    CWCTL_OPT_TIMEOUT,
    CWCTL_OPT_MAX_TIME,
    CWCTL_OPT_PIN_FILE,
    CWCTL_OPT_CHALLENGE_FILE,
    CWCTL_OPT_SECRET_FILE,
    CWCTL_OPT_INPUT,
    CWCTL_OPT_OUTPUT,
    CWCTL_OPT_SET,
    CWCTL_OPT_PROFILE,
    CWCTL_OPT_PASTE
};

static const struct {
    const char *name; /* long name without "--" */
    char short_name;  /* 0: none */
    enum cwctl_opt_id id;
} cwctl_value_opts[] = {
    {"port", 0, CWCTL_OPT_PORT},           {"speed", 0, CWCTL_OPT_SPEED},
    {"timeout", 0, CWCTL_OPT_TIMEOUT},     {"max-time", 0, CWCTL_OPT_MAX_TIME},
    {"pin-file", 0, CWCTL_OPT_PIN_FILE},
    {"challenge-file", 0, CWCTL_OPT_CHALLENGE_FILE},
    {"secret-file", 0, CWCTL_OPT_SECRET_FILE}, {"input", 0, CWCTL_OPT_INPUT},
    {"output", 'o', CWCTL_OPT_OUTPUT},     {"set", 0, CWCTL_OPT_SET},
    {"profile", 0, CWCTL_OPT_PROFILE},     {"paste", 0, CWCTL_OPT_PASTE},
};

/* A number of seconds, more than 0 and at most CWCTL_SECONDS_MAX (a day: enough for the slowest
 * key generation, far from overflowing milliseconds). Returns 0, or -1 leaving *out alone. */
static int cwctl_parse_seconds(const char *value, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(value, &end);
    if (errno != 0 || *end != '\0' || !(v > 0.0) || v > CWCTL_SECONDS_MAX) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Stores one option's value. Returns 0 or a CWCTL_EXIT_USAGE after saying why. */
static int cwctl_set_opt(cwctl_opts_t *opts, enum cwctl_opt_id id, const char *value)
{
    char *end;

    if (value[0] == '\0') {
        return cwctl_usage_error("empty option value", NULL);
    }
    switch (id) {
    case CWCTL_OPT_PORT:
        opts->port = value;
        break;
    case CWCTL_OPT_SPEED:
        errno = 0;
        opts->speed = strtoul(value, &end, 10);
        if (errno != 0 || *end != '\0' || value[0] == '-' ||
            cwctl_serial_speed(opts->speed) == B0) {
            return cwctl_usage_error("unsupported --speed", value);
        }
        break;
    case CWCTL_OPT_TIMEOUT:
        if (cwctl_parse_seconds(value, &opts->timeout_s) != 0) {
            return cwctl_usage_error("--timeout wants seconds, more than 0 and at most 86400",
                                     value);
        }
        break;
    case CWCTL_OPT_MAX_TIME:
        if (cwctl_parse_seconds(value, &opts->max_time_s) != 0) {
            return cwctl_usage_error("--max-time wants seconds, more than 0 and at most 86400",
                                     value);
        }
        break;
    case CWCTL_OPT_PIN_FILE:
        opts->pin_file = value;
        break;
    case CWCTL_OPT_SECRET_FILE:
        opts->secret_file = value;
        break;
    case CWCTL_OPT_CHALLENGE_FILE:
        opts->challenge_file = value;
        break;
    case CWCTL_OPT_INPUT:
        opts->input_file = value;
        break;
    case CWCTL_OPT_SET:
        opts->set_name = value;
        return 0;
    case CWCTL_OPT_PROFILE:
        opts->profile_name = value;
        return 0;
    case CWCTL_OPT_PASTE:
        opts->input_file = value;
        opts->paste_all = 1;
        opts->paste_quit = 1;
        return 0;
    case CWCTL_OPT_OUTPUT:
        opts->output_file = value;
        break;
    }
    return 0;
}

/* Parses argv into opts. The command words are gathered at the front of argv (C lets a program
 * modify argv), so opts->words needs no allocation. Returns -1 to go on, or an exit code. */
static int cwctl_parse(int argc, char **argv, cwctl_opts_t *opts)
{
    int words_only = 0;
    int i;

    opts->speed = CWCTL_DEFAULT_SPEED;
    opts->timeout_s = CWCTL_DEFAULT_TIMEOUT_S;
    opts->words = argv + 1;
    opts->word_count = 0;

    for (i = 1; i < argc; i++) {
        char *a = argv[i];
        const char *value = NULL;
        size_t name_len;
        size_t k;
        int found = -1;
        int rc;

        if (words_only || a[0] != '-' || a[1] == '\0') {
            opts->words[opts->word_count++] = a; /* never ahead of i: safe to store in place */
            continue;
        }
        if (strcmp(a, "--") == 0) {
            words_only = 1;
            continue;
        }
        if (strcmp(a, "--offline") == 0) {
            opts->offline = 1;
            continue;
        }
        if (strcmp(a, "--online") == 0) {
            opts->online = 1;
            continue;
        }
        if (strcmp(a, "--all") == 0) {
            opts->all_sets = 1;
            continue;
        }
        if (strcmp(a, "--yes") == 0) {
            opts->yes = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (fputs(cwctl_usage_text, stdout) == EOF || fflush(stdout) != 0) {
                return CWCTL_EXIT_USAGE;
            }
            return CWCTL_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {
            if (printf("cwctl %s\n", CWCTL_VERSION) < 0 || fflush(stdout) != 0) {
                return CWCTL_EXIT_USAGE;
            }
            return CWCTL_EXIT_OK;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');

            name_len = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            for (k = 0; k < sizeof cwctl_value_opts / sizeof cwctl_value_opts[0]; k++) {
                if (strlen(cwctl_value_opts[k].name) == name_len &&
                    strncmp(cwctl_value_opts[k].name, a + 2, name_len) == 0) {
                    found = (int)k;
                    break;
                }
            }
            if (eq != NULL) {
                value = eq + 1;
            }
        } else if (a[2] == '\0') {
            for (k = 0; k < sizeof cwctl_value_opts / sizeof cwctl_value_opts[0]; k++) {
                if (cwctl_value_opts[k].short_name == a[1]) {
                    found = (int)k;
                    break;
                }
            }
        }
        if (found < 0) {
            return cwctl_usage_error("unknown option", a);
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                return cwctl_usage_error("option needs a value", a);
            }
            value = argv[++i];
        }
        if ((rc = cwctl_set_opt(opts, cwctl_value_opts[found].id, value)) != 0) {
            return rc;
        }
    }

    if (opts->max_time_s == 0.0) {
        /* not given: a long --timeout (a slow token) is not cut short by the default limit */
        opts->max_time_s = opts->timeout_s > CWCTL_DEFAULT_MAX_TIME_S ? opts->timeout_s
                                                                      : CWCTL_DEFAULT_MAX_TIME_S;
    }
    if (opts->port == NULL) {
        return cwctl_usage_error("--port is required", NULL);
    }
    if (opts->word_count == 0) {
        return cwctl_usage_error("no command given", NULL);
    }
    for (i = 0; (size_t)i < opts->word_count; i++) {
        const unsigned char *p;

        /* a CR or LF would end the line early and run the rest as a second command */
        for (p = (const unsigned char *)opts->words[i]; *p != '\0'; p++) {
            if (*p < 0x20 || *p == 0x7f) {
                return cwctl_usage_error("a command word holds a control character", NULL);
            }
        }
    }
    if (opts->word_count == 1 && strcmp(opts->words[0], "shell") == 0 &&
        (opts->pin_file != NULL || opts->secret_file != NULL || opts->input_file != NULL ||
         opts->output_file != NULL)) {
        return cwctl_usage_error("shell takes no --pin-file, --secret-file, --input or --output",
                                 NULL);
    }
    return -1;
}

/* Terminating signals only set a flag; without SA_RESTART they also break poll() and read(), so
 * every loop gets to restore the terminal and tell the device before exiting. */
static int cwctl_signals_init(void)
{
    static const int caught[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    if (sigemptyset(&sa.sa_mask) != 0) {
        return -1;
    }
    sa.sa_handler = cwctl_on_signal;
    for (i = 0; i < sizeof caught / sizeof caught[0]; i++) {
        if (sigaction(caught[i], &sa, NULL) != 0) {
            return -1;
        }
    }
    /* a closed pipe on stdout is an EPIPE to report, not a silent death with a raw terminal */
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

int main(int argc, char **argv)
{
    cwctl_opts_t opts;
    int rc;

    if (cwctl_topology_is_local(argc, argv)) {
        return cwctl_topology_main(argc - 1, argv + 1); /* files of this PC, no device */
    }
    memset(&opts, 0, sizeof opts);
    rc = cwctl_parse(argc, argv, &opts);
    if (rc >= 0) {
        return rc;
    }
    if (cwctl_signals_init() != 0) {
        cwctl_warn("sigaction: %s", strerror(errno));
        return CWCTL_EXIT_USAGE;
    }
    if (opts.word_count == 1 && strcmp(opts.words[0], "shell") == 0) {
        return cwctl_shell_run(&opts);
    }
    rc = cwctl_wizard_prepare(&opts);
    if (rc >= 0) {
        return rc;
    }
    rc = cwctl_command_run(&opts);
    cwctl_wizard_cleanup();
    return rc;
}
