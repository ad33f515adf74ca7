/*
 * cwctl.h: what the parts of cwctl, the PC-side console tool of certwiz, share.
 *
 * cwctl speaks the console protocol of docs/console.md over a serial port. The parts:
 *   cwctl.c    options, usage, signals, small helpers
 *   serial.c   the serial port and local terminal (termios, EINTR-safe I/O)
 *   reply.c    splits what the device sends into lines
 *   input.c    secrets and text lines cwctl sends when the device prompts for them
 *   command.c  one command: send it, print the reply, map the final line to an exit code
 *              (or give up: --timeout of silence, --max-time in all)
 *   shell.c    interactive pass-through
 */
#ifndef CWCTL_H
#define CWCTL_H

#include <stddef.h>

#ifndef CWCTL_VERSION
#define CWCTL_VERSION "0.1.0"
#endif

/* Exit codes; docs/console.md and the usage text promise these. */
#define CWCTL_EXIT_OK 0      /* the device answered OK (or the shell ended normally) */
#define CWCTL_EXIT_ERR 1     /* the device answered ERR <NAME>: <sentence> */
#define CWCTL_EXIT_USAGE 2   /* usage error, I/O error, a prompt cwctl cannot answer, a signal */
#define CWCTL_EXIT_TIMEOUT 3 /* the device sent nothing for --timeout seconds */
#define CWCTL_EXIT_MAX_TIME 4 /* the command did not end within --max-time seconds */

#define CWCTL_DEFAULT_SPEED 115200UL
#define CWCTL_DEFAULT_TIMEOUT_S 30.0
/* The whole of one command, however much the device sends: 8 sets (CW_TOPO_SETS_MAX) of RSA-4096
 * key generation in a slow token plus a SCEP exchange each (`request all online`) is about half
 * of it (docs/decisions.md 22). Without --max-time the limit is never below --timeout. */
#define CWCTL_DEFAULT_MAX_TIME_S 3600.0
/* Largest --timeout and --max-time: a day, far from overflowing milliseconds. */
#define CWCTL_SECONDS_MAX 86400.0

/* The command line, parsed. Strings point into argv. */
typedef struct cwctl_opts_t {
    const char *port;
    unsigned long speed;       /* bits per second */
    double timeout_s;          /* > 0 */
    double max_time_s;         /* > 0: the limit on one command (shell: without a terminal) */
    const char *pin_file;      /* NULL when not given */
    const char *secret_file;
    const char *challenge_file; /* --challenge-file */
    const char *input_file;
    const char *output_file;
    char **words;              /* the command words, in order */
    size_t word_count;         /* >= 1 */
    /* the wizard's forms (wizard.c) */
    const char *set_name;      /* --set */
    const char *profile_name;  /* --profile */
    int offline;               /* --offline */
    int online;                /* --online */
    int all_sets;              /* --all */
    int yes;                   /* --yes: answer a yes/no prompt with yes */
    int paste_all;             /* send every line of the input at the first prompt (a paste) */
    int paste_quit;            /* ... then the line "quit" that ends a multi-block paste */
    int pem_only;              /* --output receives only the PEM blocks of the output */
} cwctl_opts_t;

/* Turns the wizard's forms into console commands (request --set S --offline, csr --set S,
 * import --set S FILE, ca import --profile P FILE, topology load FILE); a DER file is armoured
 * into a temporary PEM file. Returns -1 to go on, or an exit code after a message. */
int cwctl_wizard_prepare(cwctl_opts_t *opts);

/* Removes what cwctl_wizard_prepare made. */
void cwctl_wizard_cleanup(void);

/* Runs one console command as described by opts; returns a CWCTL_EXIT_ code. Messages for every
 * failure have been written to stderr. */
int cwctl_command_run(const cwctl_opts_t *opts);

/* Passes the local terminal (or standard input) through to the device until Ctrl-] or the end of
 * input; returns a CWCTL_EXIT_ code. Restores the local terminal on every exit path. */
int cwctl_shell_run(const cwctl_opts_t *opts);

/* Has SIGINT, SIGTERM or SIGHUP arrived? The handlers only set a flag; loops test it on EINTR. */
int cwctl_signal_pending(void);

/* Milliseconds of a monotonic clock, for timeouts only. */
long long cwctl_now_ms(void);

/* The time limit of one command (--max-time). Time spent waiting for the operator at the local
 * terminal does not count: pausing the clock moves the end back by as long as the pause lasts.
 * Caller-owned; plain values, nothing to release. */
typedef struct cwctl_deadline_ctx {
    long long end_ms;       /* on cwctl_now_ms()'s clock */
    long long paused_at_ms; /* -1 while the clock runs */
    long long paused_ms;    /* total time paused, for messages */
} cwctl_deadline_ctx;

/* Starts the clock: the limit runs out seconds from now. */
void cwctl_deadline_start(cwctl_deadline_ctx *d, double seconds);

/* Stops the clock while cwctl waits for the operator; a second pause changes nothing. */
void cwctl_deadline_pause(cwctl_deadline_ctx *d);

/* Runs the clock again after cwctl_deadline_pause(); without a pause it changes nothing. */
void cwctl_deadline_resume(cwctl_deadline_ctx *d);

/* Milliseconds left (0 or less: the limit has run out). While paused, what was left at the pause. */
long long cwctl_deadline_left_ms(const cwctl_deadline_ctx *d);

/* Writes "cwctl: " + the formatted message + a line end to stderr. A failing stderr is ignored:
 * there is nowhere left to report it. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void cwctl_warn(const char *fmt, ...);

/* Overwrites len bytes at p with zeros in a way the compiler may not drop (secrets). */
void cwctl_wipe(void *p, size_t len);

#endif /* CWCTL_H */
