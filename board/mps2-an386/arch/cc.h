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
/* lwIP's invariant checks stay; their message texts (about 12 KB of flash) do not: a failed one
 * is named by file and line, which is where the text is anyway. */
#define LWIP_PLATFORM_ASSERT(x) hal_board_assert_failed(__FILE_NAME__, __LINE__, "lwIP assertion")

unsigned int board_lwip_rand(void);
#define LWIP_RAND() ((u32_t)board_lwip_rand())

#endif /* CW_MPS2_ARCH_CC_H */
