/*
 * arch/cc.h: lwIP's compiler and platform glue for the host board.
 */
#ifndef CW_HOST_ARCH_CC_H
#define CW_HOST_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

#include "hal_board.h"

/* lwIP's diagnostic output is not the console's: a firmware does not print from its stack. */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)

/* A broken lwIP invariant is a broken firmware invariant. */
#define LWIP_PLATFORM_ASSERT(x) hal_board_assert_failed(__FILE__, __LINE__, (x))

/* Random numbers for ports, DHCP xid and DNS ids; not for keys. */
unsigned int board_lwip_rand(void);
#define LWIP_RAND() ((u32_t)board_lwip_rand())

#endif /* CW_HOST_ARCH_CC_H */
