/*
 * mps2_startup.c: the vector table and the reset handler of the MPS2 AN386 board.
 *
 * At reset a Cortex-M loads SP from word 0 and PC from word 1 of the vector table (VTOR = 0,
 * which the linker script places at the start of flash). The reset handler copies .data from
 * flash, zeroes .bss, paints the stack so that its high-water mark can be measured, and calls
 * main(). No interrupt other than SysTick is enabled; every other vector reaches one handler
 * that reports the fault, with the address of the instruction it happened at, and stops.
 */
#include <stdint.h>
#include <string.h>

#include "mps2_board.h"

/* Symbols of the linker script (mps2-an386.ld). */
extern uint32_t __data_load[];
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern uint32_t __stack_limit[];
extern uint32_t __stack_top[];

#define STACK_PAINT 0xC0DEC0DEu

int main(void);
void board_reset_handler(void);
void board_systick_handler(void); /* mps2_clock.c */
static void fault_handler(void);
void board_fault_report(const uint32_t *frame);

typedef void (*vector_t)(void);

/* Armv7-M exception numbers 0..15; external interrupts are not used (polled drivers). */
__attribute__((section(".vectors"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)__stack_top, /* 0: initial main stack pointer */
    board_reset_handler,               /* 1: reset */
    fault_handler,                     /* 2: NMI */
    fault_handler,                     /* 3: HardFault */
    fault_handler,                     /* 4: MemManage */
    fault_handler,                     /* 5: BusFault */
    fault_handler,                     /* 6: UsageFault */
    0, 0, 0, 0,                        /* 7..10: reserved */
    fault_handler,                     /* 11: SVCall */
    fault_handler,                     /* 12: DebugMonitor */
    0,                                 /* 13: reserved */
    fault_handler,                     /* 14: PendSV */
    board_systick_handler,             /* 15: SysTick */
};

/* Paints the stack below the current frame: everything from the limit up to here. */
__attribute__((noinline)) static void paint_stack(void)
{
    uint32_t here = 0;
    volatile uint32_t *p = __stack_limit;
    /* keep 64 bytes of margin below this frame */
    while ((uintptr_t)(p + 16) < (uintptr_t)&here) {
        *p++ = STACK_PAINT;
    }
}

void board_reset_handler(void)
{
    const uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = __bss_start; dst < __bss_end;) {
        *dst++ = 0;
    }
    paint_stack();
    (void)main();
    board_semihost_exit(0);
    for (;;) {
    }
}

void board_stack_usage(size_t *size, size_t *high_water)
{
    const uint32_t *p = __stack_limit;
    while (p < __stack_top && *p == STACK_PAINT) {
        p++;
    }
    *size = (size_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
    *high_water = (size_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

/* The exception entry: the hardware pushed r0-r3, r12, lr, pc and xPSR on the stack that was in
 * use (bit 2 of the EXC_RETURN value in lr says which; this board runs everything on the main
 * stack, a later RTOS may not); their address goes to board_fault_report. */
__attribute__((naked)) static void fault_handler(void)
{
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "b board_fault_report\n");
}

/* Writes v as 8 hex digits at out. */
static void hex32(char *out, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 7; i >= 0; i--) {
        out[i] = hex[v & 0xFu];
        v >>= 4;
    }
}

/* "mps2-an386: fault, exception 0x003 at pc 0x000123ab; stopped": which exception (the
 * Interrupt Control and State Register's VECTACTIVE) and the stacked pc, the instruction that
 * faulted; for a failed lwIP check (arch/cc.h), its trap. */
__attribute__((used, noreturn)) void board_fault_report(const uint32_t *frame)
{
    uint32_t active = MPS2_REG(0xE000ED04u) & 0x1FFu;
    char msg[] = "\r\nmps2-an386: fault, exception 0x000 at pc 0x00000000; stopped\r\n";
    char num[8];

    hex32(num, active);
    memcpy(&msg[33], &num[5], 3);
    hex32(&msg[45], frame[6]);
    board_uart_puts(msg);
    board_semihost_exit(70);
    for (;;) {
    }
}
