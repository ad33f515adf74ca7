/*
 * mps2_clock.c: hal_clock on SysTick (1 ms tick from the 25 MHz processor clock), lwIP's
 * sys_now(), and the main loop's idle wait.
 */
#include "hal_clock.h"
#include "mps2_board.h"

#include "lwip/sys.h"

/* Armv7-M SysTick (System Control Space). */
#define SYST_CSR MPS2_REG(0xE000E010u)
#define SYST_RVR MPS2_REG(0xE000E014u)
#define SYST_CVR MPS2_REG(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* the processor clock, not the external reference */

void board_systick_handler(void);

static volatile uint32_t ticks_ms;

void board_systick_handler(void)
{
    ticks_ms++;
}

void board_clock_init(void)
{
    SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

void board_idle(void)
{
    __asm volatile("wfi");
}

uint32_t hal_clock_ms(void)
{
    return ticks_ms; /* one aligned 32-bit read: atomic against the SysTick handler */
}

int64_t hal_clock_utc(void)
{
    return 0; /* no battery-backed RTC on this board: the clock is not set */
}

u32_t sys_now(void)
{
    return hal_clock_ms();
}
