/*
 * host_hook.c: `--on-change CMD` (host_hook.h).
 */
#include "host_hook.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cw/cw_roles.h"

extern char **environ;

/* Events waiting for their command; more than this between two runs and the oldest are dropped
 * (said on stderr). */
#define HOOK_QUEUE_MAX 32

typedef struct hook_event {
    cw_event_type type;
    char role[CW_TOPO_NAME_MAX + 1];
    char set[CW_TOPO_NAME_MAX + 1];
    uint32_t old_gen, new_gen;
    cw_err err;
} hook_event;

static const char *command;
static const char *module_path;
static cw_listener_t listener;
static hook_event queue[HOOK_QUEUE_MAX];
static size_t head, count;
static unsigned long dropped;
static pid_t running = -1;

static const char *event_name(cw_event_type t)
{
    switch (t) {
    case CW_EVENT_ASSIGNED: return "assigned";
    case CW_EVENT_RENEWED: return "renewed";
    case CW_EVENT_PENDING: return "pending";
    case CW_EVENT_FAILED: return "failed";
    case CW_EVENT_EXPIRING: return "expiring";
    }
    return "?";
}

/* The listener: only copies (certwiz is in the middle of a change; the role is read later). */
static void on_event(const cw_event_t *ev, void *arg)
{
    hook_event *q;
    (void)arg;
    if (count == HOOK_QUEUE_MAX) {
        head = (head + 1) % HOOK_QUEUE_MAX;
        count--;
        dropped++;
    }
    q = &queue[(head + count) % HOOK_QUEUE_MAX];
    count++;
    memset(q, 0, sizeof *q);
    q->type = ev->type;
    (void)snprintf(q->role, sizeof q->role, "%s", ev->role);
    (void)snprintf(q->set, sizeof q->set, "%s", ev->set);
    q->old_gen = ev->old_generation;
    q->new_gen = ev->new_generation;
    q->err = ev->err;
}

void host_hook_init(const char *cmd, const char *module)
{
    command = cmd;
    module_path = module;
    cw_roles_listen(&listener, on_event, NULL);
}

/* NAME=value into buf; returns buf. */
static char *env_entry(char *buf, size_t cap, const char *name, const char *value)
{
    (void)snprintf(buf, cap, "%s=%s", name, value);
    return buf;
}

static void start(const hook_event *q)
{
    static char ev[32], role[64], set[64], gen[40], old[40], err[96], key[CW_ROLE_URI_MAX + 16],
        cert[CW_ROLE_URI_MAX + 16], mod[4096 + 32];
    char *envp[256];
    size_t n = 0;
    cw_role_info_t info;
    char num[16];
    char *const argv[] = {"sh", "-c", (char *)(uintptr_t)command, NULL};
    int r;

    for (char **e = environ; *e != NULL && n < 240; e++) {
        if (strncmp(*e, "CW_", 3) != 0) {
            envp[n++] = *e;
        }
    }
    envp[n++] = env_entry(ev, sizeof ev, "CW_EVENT", event_name(q->type));
    envp[n++] = env_entry(role, sizeof role, "CW_ROLE", q->role);
    envp[n++] = env_entry(set, sizeof set, "CW_SET", q->set);
    (void)snprintf(num, sizeof num, "%lu", (unsigned long)q->new_gen);
    envp[n++] = env_entry(gen, sizeof gen, "CW_GENERATION", num);
    (void)snprintf(num, sizeof num, "%lu", (unsigned long)q->old_gen);
    envp[n++] = env_entry(old, sizeof old, "CW_OLD_GENERATION", num);
    if (q->type == CW_EVENT_FAILED) {
        envp[n++] = env_entry(err, sizeof err, "CW_ERROR", cw_err_name(q->err));
    }
    if (cw_role_get(q->role, &info) == CW_OK && info.has_cert) {
        envp[n++] = env_entry(key, sizeof key, "CW_KEY_URI", info.key_uri);
        envp[n++] = env_entry(cert, sizeof cert, "CW_CERT_URI", info.cert_uri);
    }
    if (module_path != NULL) {
        envp[n++] = env_entry(mod, sizeof mod, "CW_PKCS11_MODULE", module_path);
    }
    envp[n] = NULL;
    r = posix_spawn(&running, "/bin/sh", NULL, NULL, argv, envp);
    if (r != 0) {
        fprintf(stderr, "certwiz: --on-change: cannot start /bin/sh: %s\n", strerror(r));
        running = -1;
    }
}

void host_hook_poll(void)
{
    if (command == NULL) {
        return;
    }
    if (running > 0) {
        int status = 0;
        pid_t p = waitpid(running, &status, WNOHANG);
        if (p == 0) {
            return; /* still running: the next waits */
        }
        if (p == running && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
            fprintf(stderr, "certwiz: --on-change command %s %d\n", WIFEXITED(status) ? "exited with" : "killed by signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
        running = -1;
    }
    if (dropped > 0) {
        fprintf(stderr, "certwiz: --on-change: %lu events dropped (more than %d waiting)\n", dropped, HOOK_QUEUE_MAX);
        dropped = 0;
    }
    if (count > 0) {
        hook_event q = queue[head];
        head = (head + 1) % HOOK_QUEUE_MAX;
        count--;
        start(&q);
    }
}

void host_hook_close(void)
{
    if (command != NULL) {
        cw_roles_unlisten(&listener);
    }
}
