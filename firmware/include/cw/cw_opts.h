/*
 * cw_opts.h: every build-time knob of certwiz, in layers (as lwIP's opt.h does).
 *
 * 1. The board's (or test build's) cw_config.h is included first and may set any knob.
 * 2. Every knob then gets a documented default here, under #ifndef.
 * 3. Impossible combinations are rejected with #error.
 *
 * Each board directory carries a cw_config.h; the Makefile puts it on the include path.
 */
#ifndef CW_OPTS_H
#define CW_OPTS_H

#include "cw_config.h"

/* ---- identity ---------------------------------------------------------------------------- */

/* Board name printed by `version` and `status`. */
#ifndef CW_BOARD_NAME
#define CW_BOARD_NAME "unnamed-board"
#endif

/* ---- memory ------------------------------------------------------------------------------ */

/* Bytes of the one static arena that mbedTLS (and certwiz's own short-lived scratch) allocate
 * from. Sized per board; `mem` reports the high-water mark, which is the figure to size by. */
#ifndef CW_ARENA_SIZE
#define CW_ARENA_SIZE (48u * 1024u)
#endif

/* ---- console ----------------------------------------------------------------------------- */

/* Longest console input line, without its line end. 255 fits every command and a 64-column PEM
 * line with room to spare; longer lines are discarded and answered with ERR LINE_TOO_LONG. */
#ifndef CW_CONSOLE_LINE_MAX
#define CW_CONSOLE_LINE_MAX 255u
#endif

/* Longest single formatted output line. Longer output is written in pieces by the caller. */
#ifndef CW_CONSOLE_OUT_MAX
#define CW_CONSOLE_OUT_MAX 256u
#endif

/* Most words (command + arguments) the console splits a line into. */
#ifndef CW_CONSOLE_ARGS_MAX
#define CW_CONSOLE_ARGS_MAX 8u
#endif

/* ---- token ------------------------------------------------------------------------------- */

/* Log the token user out after this many ms without a token operation (0 = never). Five minutes:
 * long enough for an operator pasting a response, short enough that a console left open does not
 * stay privileged. A board may set another value at run time (hal_token_t). */
#ifndef CW_TOKEN_IDLE_LOGOUT_MS
#define CW_TOKEN_IDLE_LOGOUT_MS (5u * 60u * 1000u)
#endif

/* Most key pairs `keys` lists; more are counted but not shown. */
#ifndef CW_TOKEN_KEYS_LIST_MAX
#define CW_TOKEN_KEYS_LIST_MAX 64u
#endif

/* ---- sanity ------------------------------------------------------------------------------ */

#if CW_ARENA_SIZE < 4096u
#error "CW_ARENA_SIZE below 4 KiB cannot hold even one X.509 parse"
#endif
#if CW_CONSOLE_LINE_MAX < 80u
#error "CW_CONSOLE_LINE_MAX must hold at least an 80-column line (PEM lines are 64)"
#endif
#if CW_CONSOLE_ARGS_MAX < 2u
#error "CW_CONSOLE_ARGS_MAX must allow a command and one argument"
#endif

#endif /* CW_OPTS_H */
