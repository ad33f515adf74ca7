/*
 * p11_rpc_pipe.h: a real `p11-kit remote MODULE` child process on a pair of pipes, as the link of
 * the RPC client (cw_p11_rpc.h) in the host tests: the PC side of the board's UART1, without
 * the UART.
 *
 * The child inherits the environment (SOFTHSM2_CONF of the test's token). Sends and receives
 * honour their timeouts with poll(); the child's end of a pipe closing is seen at once (recv
 * returns 0), as a UART would only see silence.
 */
#ifndef P11_RPC_PIPE_H
#define P11_RPC_PIPE_H

#include <stdbool.h>
#include <sys/types.h>

#include "cw_p11_rpc.h"

typedef struct p11_rpc_pipe_t {
    pid_t pid;
    int to_child;   /* our write end: the child's stdin */
    int from_child; /* our read end: the child's stdout */
    cw_p11_rpc_link_t link;
} p11_rpc_pipe_t;

/* Starts argv[0] (searched in PATH) with the pipes as stdin and stdout; link is ready for
 * cw_p11_rpc_init. Returns 0 or -1. */
int p11_rpc_pipe_spawn(p11_rpc_pipe_t *p, char *const argv[]);

/* `p11-kit remote <SoftHSM2's module>`. */
int p11_rpc_pipe_start(p11_rpc_pipe_t *p);

/* SIGKILL, reaped; the pipes closed. Safe twice. */
void p11_rpc_pipe_kill(p11_rpc_pipe_t *p);

#endif /* P11_RPC_PIPE_H */
