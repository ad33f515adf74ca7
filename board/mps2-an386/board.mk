# board/mps2-an386/board.mk: Arm MPS2 with the AN386 image (Cortex-M4), as QEMU's
# `-M mps2-an386` emulates it: CMSDK UART0 console, SysTick clock, LAN9118 Ethernet.
# Debian's gcc-arm-none-eabi with newlib-nano; no heap (see mps2_syscalls.c).

CROSS_COMPILE   ?= arm-none-eabi-
BOARD_CC        := $(CROSS_COMPILE)gcc
# Link-time optimisation: every object (the core, mbedTLS, lwIP, the board) is compiled to GCC's
# intermediate form and optimised as one program when the image links, in one partition
# (-flto-partition=one: the smallest code; the image is small enough for one job): calls across
# files inline, code and data no caller reaches go (measured: flash -12.7 KB, 7 %). The archives
# and their index then need GCC's plugin, hence gcc-ar; tools/check-no-malloc.sh reads the
# objects' undefined symbols through gcc-nm, which understands them (--quiet: an object that the
# configuration leaves empty has no symbols, which is fine). The link line passes $(CFLAGS), so
# -Os and the CPU flags apply to the link-time code generation. tools/size-report.py (`make
# size`) attributes the optimised code to its sources through the debug info (-g).
# `make BOARD=mps2-an386 BOARD_LTO=` builds without it.
BOARD_LTO       ?= -flto -flto-partition=one
AR              := $(CROSS_COMPILE)$(if $(BOARD_LTO),gcc-ar,ar)
export NM       := $(CROSS_COMPILE)$(if $(BOARD_LTO),gcc-nm --quiet,nm)
# An object in intermediate form lists the functions it calls, except GCC's builtins: a call to
# malloc would not show, and check-no-malloc.sh would pass whatever the sources did. Not builtins
# here, they show (certwiz calls none of them, so the code is the same).
BOARD_LTO_CHECK := $(if $(BOARD_LTO),-fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
                   -fno-builtin-free)
SIZE            := $(CROSS_COMPILE)size
# Private keys never reach mbedTLS on this board (they stay in the token, which signs and
# decrypts), yet its key-type table (pk_wrap.c) points at functions that sign, decrypt and check
# key pairs with a private key in mbedTLS's own memory, so all of RSA's private-key arithmetic
# would be linked. pk_wrap.c alone is compiled with those calls renamed to functions that refuse
# (mps2_mbedtls_alt.c); no other file calls them, so the code behind them is not linked (flash
# -2.7 KB). If mbedTLS ever calls something else there, the rename does nothing and the code is
# simply linked again; the on-target suite `pk refusals` (tests/target/target_pk_refusals.c)
# checks that the refusals are what the table reaches.
MBEDTLS_CPPFLAGS_pk_wrap := -Dmbedtls_rsa_pkcs1_sign=board_refuse_rsa_sign \
                            -Dmbedtls_rsa_pkcs1_decrypt=board_refuse_rsa_decrypt \
                            -Dmbedtls_rsa_check_pub_priv=board_refuse_rsa_check_pair \
                            -Dmbedtls_ecp_check_pub_priv=board_refuse_ecp_check_pair
# The same for rsa.c's calls into rsa_alt_helpers.c: they make a private key's missing parts
# (primes, exponent, CRT values) or check them, for keys this board never holds (flash -0.6 KB).
# A public key (N, E) never reaches them; the suite `pk refusals` checks that a key with a private
# exponent reaches the refusal.
MBEDTLS_CPPFLAGS_rsa := -Dmbedtls_rsa_deduce_primes=board_refuse_rsa_deduce_primes \
                        -Dmbedtls_rsa_deduce_private_exponent=board_refuse_rsa_deduce_exponent \
                        -Dmbedtls_rsa_deduce_crt=board_refuse_rsa_deduce_crt \
                        -Dmbedtls_rsa_validate_params=board_refuse_rsa_validate_params \
                        -Dmbedtls_rsa_validate_crt=board_refuse_rsa_validate_crt

BOARD_ARCH      := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
BOARD_SRCS      := $(wildcard board/mps2-an386/*.c)
# The SNTP server (mps2_main.c): QEMU's user network puts the PC at 10.0.2.2; empty: DHCP's.
MPS2_NTP        ?= 10.0.2.2
BOARD_CPPFLAGS  := -DCW_BOARD_COMPILER='"arm-none-eabi-gcc $(shell $(BOARD_CC) -dumpversion 2>/dev/null)"' \
                   -DMPS2_NTP_SERVER='"$(MPS2_NTP)"'
# With the integrator API the image had to fit 136 KiB again (decisions.md 34; measured
# 2026-12-07 on the whole image): -fno-jump-tables, a switch becomes compares and branches instead
# of a table of addresses (-96 bytes); -fno-schedule-insns2, no reordering of instructions after
# register allocation, which at -Os on an in-order Cortex-M4 costs bytes (longer encodings, spills
# moved apart) for stalls of a cycle or two (-304 bytes).
# Room for the token client (decisions.md 44, measured one at a time on the whole image with the
# others in place, 2026-12-07): -fno-move-loop-invariants, no hoisting of loop-invariant values out
# of loops, which at -Os spends registers and spills on values a Cortex-M4 recomputes in one
# instruction (-448); -fno-thread-jumps, no duplication of blocks to thread jumps through them
# (-432); -fno-if-conversion, branches instead of IT-block sequences that compute both sides
# (-184); -fno-tree-tail-merge, no merging of identical block tails in GIMPLE (-136: here the
# jumps and copies it adds cost more than the tails). 1 200 bytes together, for 2.6 % more time in
# the on-target ECDSA verifications (QEMU -icount). Then, with those and certwiz's other savings
# in place: -fno-partial-inlining, no inlining of a function's early-exit part into its callers
# (-104), and -fno-tree-forwprop (-64). Of the 60-odd other flags tried one at a time, none saved
# 50 bytes (-fno-tree-loop-im -16 on top of these; -fno-ipa-cp +2.9 KB, -mno-unaligned-access
# +2.3 KB).
# Room for margin under 144 KiB (decisions.md 47, measured on the whole image with all the above
# and the console's lines packed, 2026-12-07): -fno-tree-dominator-opts, no dominator-tree
# redundancy elimination and jump threading in GIMPLE, whose block copies cost more bytes here
# than they save (-776; the on-target suite under QEMU -icount as fast as before). Of the 40 other
# flags tried with it, none saved 50 bytes more (-fno-tree-loop-im and -fno-reorder-blocks -32
# each; --param max-inline-insns-*, -finline-limit, -fno-inline-functions-called-once,
# -fno-ipa-cp-clone, -fno-ipa-icf, -fno-tree-loop-distribute-patterns: 0 to +6 KB).
# Flash with all of them: 146 204 bytes; 146 016 with the console's prompts packed too.
BOARD_CFLAGS    := $(BOARD_ARCH) -Os -g $(BOARD_LTO) $(BOARD_LTO_CHECK) \
                   -ffunction-sections -fdata-sections -fno-common -fno-jump-tables \
                   -fno-schedule-insns2 -fno-move-loop-invariants -fno-thread-jumps \
                   -fno-if-conversion -fno-tree-tail-merge -fno-partial-inlining -fno-tree-forwprop \
                   -fno-tree-dominator-opts
BOARD_LDSCRIPT  := board/mps2-an386/mps2-an386.ld
# `=`, not `:=`: $@ names each image's own map (certwiz.map, certwiz-tests.map).
BOARD_LDLIBS     = -T$(BOARD_LDSCRIPT) --specs=nano.specs -nostartfiles \
                   -Wl,--gc-sections -Wl,-Map=$@.map -Wl,--no-warn-rwx-segments
# The main loop; the on-target test image (tests/target) links its own main() instead.
BOARD_MAIN_SRC  := board/mps2-an386/mps2_main.c
# Nothing here is a host program: no cwctl, no sanitizer or fuzz builds, no pytest run.
BOARD_IS_HOST   :=

QEMU            ?= qemu-system-arm
# `make run`: the console here, UART1 to `p11-kit server` with a SoftHSM2 token under $(BUILD)/token.
BOARD_RUN       := QEMU=$(QEMU) sh board/mps2-an386/run-with-token.sh $(BUILD)/certwiz
# The on-target unit tests: console on stdout, exit status through semihosting.
BOARD_TEST_RUN  := $(QEMU) -M mps2-an386 -nographic -serial stdio -monitor none -nic user \
                   -semihosting-config enable=on,target=native -kernel $(BUILD)/certwiz-tests

# Relink when the memory layout or these flags change.
$(BUILD)/certwiz $(BUILD)/certwiz-tests: $(BOARD_LDSCRIPT) board/mps2-an386/board.mk
# Rebuild when the compiler or its flags change (BOARD_LTO on or off, another CROSS_COMPILE):
# objects in intermediate form and ordinary ones would otherwise be linked together without a
# word, and `make size` would measure a mixture. The file is rewritten only when they differ,
# and every target of this board's build depends on it (.EXTRA_PREREQS, GNU make 4.3: a
# pattern-specific value is not honoured, hence the global one).
BOARD_FLAGS_FILE := $(BUILD)/board-flags
BOARD_FLAGS_NOW  := $(BOARD_CC) $(BOARD_CPPFLAGS) $(BOARD_CFLAGS) $(MBEDTLS_CPPFLAGS_pk_wrap) \
                    $(MBEDTLS_CPPFLAGS_rsa)
ifneq ($(file < $(BOARD_FLAGS_FILE)),$(BOARD_FLAGS_NOW))
$(shell mkdir -p $(BUILD))
$(file > $(BOARD_FLAGS_FILE),$(BOARD_FLAGS_NOW))
endif
.EXTRA_PREREQS += $(BOARD_FLAGS_FILE)
