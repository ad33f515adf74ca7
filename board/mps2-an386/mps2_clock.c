/*
 * mps2_clock.c: hal_clock on the FPGA's prescaled counter (1 kHz from the 25 MHz clock), lwIP's
 * sys_now(), and the main loop's idle wait (SysTick's 1 ms interrupt wakes it).
 *
 * The milliseconds come from FPGAIO COUNTER, not from counting SysTick interrupts: QEMU delivers
 * a tick late, or two as one, when the PC is busy, and a clock that counts interrupts then falls
 * behind real time (measured: 5 s counted in 7 s here on a loaded 2-core machine), while QEMU
 * computes COUNTER from its virtual clock, which keeps time. A clock set by SNTP and then run
 * slow soon judges a CA's fresh certificate not yet valid (scepserver does not backdate).
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

/* FPGA system control (AN385/AN386 "FPGAIO"): COUNTER counts up once each time the prescale
 * counter, which runs at the 25 MHz main clock and reloads from PRESCALE, passes zero. */
#define FPGAIO_COUNTER MPS2_REG(0x40028018u)
#define FPGAIO_PRESCALE MPS2_REG(0x4002801Cu)

static uint32_t boot_count; /* COUNTER when the prescaler was set: until then it counted at 25 MHz */

void board_systick_handler(void)
{
}

void board_clock_init(void)
{
    FPGAIO_PRESCALE = MPS2_SYSCLK_HZ / 1000u - 1u;
    boot_count = FPGAIO_COUNTER;
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
    return FPGAIO_COUNTER - boot_count; /* wraps at 2^32 ms, as hal_clock.h says */
}

int64_t hal_clock_utc(void)
{
    return 0; /* no battery-backed RTC on this board: the clock is not set */
}

u32_t sys_now(void)
{
    return hal_clock_ms();
}
