/*
 * arch/cc.h: lwIP's compiler and platform glue for the MPS2 AN386 board (newlib, little-endian
 * Cortex-M4).
 */
#ifndef CW_MPS2_ARCH_CC_H
#define CW_MPS2_ARCH_CC_H

#include <stdint.h>

#include "hal_board.h"

/* newlib's sys/types.h and errno.h are fine for lwIP; no sockets, so no errno of its own. */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
/* lwIP's own isdigit/isxdigit/tolower (range checks) instead of <ctype.h>'s, whose table newlib
 * links (257 bytes) only for lwIP's DNS and address parsing. */
#define LWIP_NO_CTYPE_H 1
/* lwIP's invariant checks stay; their message texts (about 12 KB of flash) do not, and neither
 * does a call per check: a failed one executes a trap instruction (UDF, 2 bytes), whose fault the
 * board reports with the trap's address (mps2_startup.c), and arm-none-eabi-addr2line turns that
 * into the check's file and line. (A call naming file and line cost 1.6 KB more.) */
#define LWIP_PLATFORM_ASSERT(x) __builtin_trap()

unsigned int board_lwip_rand(void);
#define LWIP_RAND() ((u32_t)board_lwip_rand())

#endif /* CW_MPS2_ARCH_CC_H */
