/*
 * host_board.h: glue between the host board's files (not a hal/ interface).
 */
#ifndef HOST_BOARD_H
#define HOST_BOARD_H

#include <stdbool.h>
#include <stdint.h>

/* How the console reaches a person or a tool. */
typedef enum host_uart_mode_t {
    HOST_UART_STDIO, /* stdin/stdout; a terminal is switched to raw input for the session */
    HOST_UART_PTY    /* a new pseudo-terminal whose path is printed, as qemu -serial pty does */
} host_uart_mode_t;

/* Opens the console. With a pty and link != NULL, also makes link a symlink to the pty.
 * Prints the pty path on stdout. Returns 0, or -1 with a message on stderr. */
int host_uart_open(host_uart_mode_t mode, const char *link);

/* The file descriptor the main loop polls for console input. */
int host_uart_poll_fd(void);

/* True when stdin reached end of file (stdio mode): the person or the pipe is gone. */
bool host_uart_eof(void);

/* Restores the terminal and removes the link. Safe to call more than once. */
void host_uart_close(void);

/* Starts the board's clocks. */
void host_clock_init(void);

/* Loads the PKCS#11 module at path (NULL: p11-kit's configured softhsm2 module) for
 * hal_token_get(), with the token URI and idle logout to hand over. Returns 0, or -1 with a
 * message on stderr (certwiz then runs without a token). */
int host_token_load(const char *path, const char *uri, uint32_t idle_logout_ms);

/* Releases the module; call after cw_shutdown(). */
void host_token_release(void);

#endif /* HOST_BOARD_H */
