# board/mps2-an386/board.mk: Arm MPS2 with the AN386 image (Cortex-M4), as QEMU's
# `-M mps2-an386` emulates it: CMSDK UART0 console, SysTick clock, LAN9118 Ethernet.
# Debian's gcc-arm-none-eabi with newlib-nano; no heap (see mps2_syscalls.c).

CROSS_COMPILE   ?= arm-none-eabi-
BOARD_CC        := $(CROSS_COMPILE)gcc
AR              := $(CROSS_COMPILE)ar
# tools/check-no-malloc.sh reads NM: the host's nm may not know Arm objects.
export NM       := $(CROSS_COMPILE)nm
SIZE            := $(CROSS_COMPILE)size

BOARD_ARCH      := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
BOARD_SRCS      := $(wildcard board/mps2-an386/*.c)
BOARD_CPPFLAGS  := -DCW_BOARD_COMPILER='"arm-none-eabi-gcc $(shell $(BOARD_CC) -dumpversion 2>/dev/null)"'
BOARD_CFLAGS    := $(BOARD_ARCH) -Os -g -ffunction-sections -fdata-sections -fno-common
BOARD_LDSCRIPT  := board/mps2-an386/mps2-an386.ld
# `=`, not `:=`: $@ names each image's own map (certwiz.map, certwiz-tests.map).
BOARD_LDLIBS     = -T$(BOARD_LDSCRIPT) --specs=nano.specs -nostartfiles \
                   -Wl,--gc-sections -Wl,-Map=$@.map -Wl,--no-warn-rwx-segments
# The main loop; the on-target test image (tests/target) links its own main() instead.
BOARD_MAIN_SRC  := board/mps2-an386/mps2_main.c
# Nothing here is a host program: no cwctl, no sanitizer or fuzz builds, no pytest run.
BOARD_IS_HOST   :=

QEMU            ?= qemu-system-arm
BOARD_RUN       := $(QEMU) -M mps2-an386 -nographic -serial mon:stdio -nic user \
                   -semihosting-config enable=on,target=native -kernel $(BUILD)/certwiz
# The on-target unit tests: console on stdout, exit status through semihosting.
BOARD_TEST_RUN  := $(QEMU) -M mps2-an386 -nographic -serial stdio -monitor none -nic user \
                   -semihosting-config enable=on,target=native -kernel $(BUILD)/certwiz-tests

# Relink when the memory layout or these flags change.
$(BUILD)/certwiz $(BUILD)/certwiz-tests: $(BOARD_LDSCRIPT) board/mps2-an386/board.mk
