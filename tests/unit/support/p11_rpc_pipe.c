/*
 * p11_rpc_pipe.c: p11-kit remote on pipes (see p11_rpc_pipe.h).
 */
#include "p11_rpc_pipe.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "p11_softhsm.h"

static long ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static bool pipe_send(void *arg, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    p11_rpc_pipe_t *p = arg;
    long end = ms_now() + (long)timeout_ms;
    while (len > 0u && p->to_child >= 0) {
        struct pollfd pf = {.fd = p->to_child, .events = POLLOUT};
        long left = end - ms_now();
        if (left < 0 || poll(&pf, 1, (int)left) <= 0) {
            return false;
        }
        ssize_t n = write(p->to_child, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false; /* EPIPE: the child is gone */
        }
        buf += n;
        len -= (size_t)n;
    }
    return len == 0u;
}

static size_t pipe_recv(void *arg, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    p11_rpc_pipe_t *p = arg;
    long end = ms_now() + (long)timeout_ms;
    size_t got = 0;
    while (got < len && p->from_child >= 0) {
        struct pollfd pf = {.fd = p->from_child, .events = POLLIN};
        long left = end - ms_now();
        if (poll(&pf, 1, left < 0 ? 0 : (int)left) <= 0) {
            break;
        }
        ssize_t n = read(p->from_child, buf + got, len - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* EOF: the child closed its end */
        }
        got += (size_t)n;
    }
    return got;
}

int p11_rpc_pipe_spawn(p11_rpc_pipe_t *p, char *const argv[])
{
    int in[2], out[2];
    memset(p, 0, sizeof *p);
    p->to_child = p->from_child = -1;
    signal(SIGPIPE, SIG_IGN);
    if (pipe(in) != 0 || pipe(out) != 0) {
        perror("p11_rpc_pipe: pipe");
        return -1;
    }
    fflush(NULL);
    p->pid = fork();
    if (p->pid < 0) {
        perror("p11_rpc_pipe: fork");
        return -1;
    }
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        perror("p11_rpc_pipe: exec");
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->to_child = in[1];
    p->from_child = out[0];
    p->link.send = pipe_send;
    p->link.recv = pipe_recv;
    p->link.arg = p;
    return 0;
}

int p11_rpc_pipe_start(p11_rpc_pipe_t *p)
{
    char *argv[] = {"p11-kit", "remote", P11_SOFTHSM_MODULE, NULL};
    return p11_rpc_pipe_spawn(p, argv);
}

void p11_rpc_pipe_kill(p11_rpc_pipe_t *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        (void)waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    if (p->to_child >= 0) {
        close(p->to_child);
        p->to_child = -1;
    }
    if (p->from_child >= 0) {
        close(p->from_child);
        p->from_child = -1;
    }
}
