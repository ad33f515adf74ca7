/*
 * mps2_semihost.c: Arm semihosting, only to end the emulation with an exit status (tests, fatal
 * errors) and to read the command line the emulator was given (tests). QEMU answers it with -semihosting-config enable=on; on real hardware without a
 * debugger the BKPT would escalate to a HardFault, so only tests and fatal paths call it.
 */
#include "mps2_board.h"

#define SYS_GET_CMDLINE 0x15u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

void board_semihost_exit(int status)
{
    /* SYS_EXIT_EXTENDED takes a two-word block: the reason and the exit status. */
    static volatile uint32_t block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (uint32_t)status;
    register uint32_t r0 __asm("r0") = SYS_EXIT_EXTENDED;
    register volatile uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}

void board_semihost_cmdline(char *buf, size_t cap)
{
    /* SYS_GET_CMDLINE takes the buffer and its size, and leaves the length in the size's word. */
    static volatile uint32_t block[2];
    if (cap == 0u) {
        return;
    }
    block[0] = (uint32_t)(uintptr_t)buf;
    block[1] = (uint32_t)(cap - 1u);
    register uint32_t r0 __asm("r0") = SYS_GET_CMDLINE;
    register volatile uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    buf[r0 == 0u && block[1] < cap ? block[1] : 0u] = '\0';
}
