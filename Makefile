# certwiz: one Makefile for every board, test and tool. `make help` lists the targets.
#
# BOARD picks board/<BOARD>/board.mk (default: host). Output goes to build/<BOARD>/.
# Third-party sources (mbedTLS, lwIP) are fetched, verified and unpacked into third_party/ by
# tools/deps/fetch.sh, which every top-level target runs first (a no-op when all is present).

BOARD      ?= host
BUILD      ?= build/$(BOARD)
CC         ?= cc
PYTHON     ?= /usr/bin/python3

MBEDTLS_DIR := third_party/mbedtls
LWIP_DIR    := third_party/lwip

include board/$(BOARD)/board.mk

# How `make run` starts the firmware; a cross board's board.mk names its emulator.
BOARD_RUN  ?= $(BUILD)/certwiz

# Unit tests (ASan), fuzzing, the system tests and the demo run the host board's programs; the
# host board's system tests also boot BOARD=mps2-an386 in QEMU (tests/system/test_mps2.py).
HOST_GOALS := check unit unit-rpc system fuzz fuzz-smoke demo powercut
ifeq ($(BOARD_IS_HOST),)
ifneq ($(filter $(HOST_GOALS),$(MAKECMDGOALS)),)
$(error make $(filter $(HOST_GOALS),$(MAKECMDGOALS)) runs host programs: use BOARD=host)
endif
endif

VERSION    := 0.1.0
GIT_DESC   := $(shell git describe --always --dirty 2>/dev/null)
CW_VERSION := $(VERSION)$(if $(GIT_DESC),+g$(GIT_DESC))

# ---- flags ---------------------------------------------------------------------------------

WARN      := -std=c11 -Wall -Wextra -Wconversion -Wshadow -Wstrict-prototypes -Werror
# The PKCS#11 header comes from Debian's p11-kit-dev (only the header: pkcs11/ links no p11-kit).
P11_INC   := -I/usr/include/p11-kit-1
include firmware/certwiz.mk

INCLUDES  := $(CERTWIZ_INCLUDES) -Iboard/$(BOARD) -I$(BUILD)/gen \
             -I$(MBEDTLS_DIR)/include -I$(LWIP_DIR)/src/include $(P11_INC)
CPPFLAGS  := $(INCLUDES) -DMBEDTLS_CONFIG_FILE='<mbedtls_config.h>' $(BOARD_CPPFLAGS)
CFLAGS    := $(BOARD_CFLAGS) -MMD -MP
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Third-party code is compiled with our configs but not held to our warning set.
TP_CFLAGS := -std=c11 $(BOARD_CFLAGS) -w

# ---- sources -------------------------------------------------------------------------------

CORE_SRCS  := $(CERTWIZ_SRCS) $(CW_EXTRA_SRCS)
MBEDTLS_SRCS := $(wildcard $(MBEDTLS_DIR)/library/*.c)
LWIP_SRCS  := $(addprefix $(LWIP_DIR)/src/core/, init.c def.c dns.c inet_chksum.c ip.c mem.c \
                memp.c netif.c pbuf.c raw.c stats.c sys.c altcp.c altcp_alloc.c altcp_tcp.c \
                tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
              $(addprefix $(LWIP_DIR)/src/core/ipv4/, acd.c autoip.c dhcp.c etharp.c icmp.c \
                igmp.c ip4_frag.c ip4.c ip4_addr.c) \
              $(LWIP_DIR)/src/netif/ethernet.c \
              $(LWIP_DIR)/src/apps/sntp/sntp.c

obj = $(patsubst %.c,$(1)/%.o,$(2))

CORE_OBJS    := $(call obj,$(BUILD)/obj,$(CORE_SRCS))
BOARD_OBJS   := $(call obj,$(BUILD)/obj,$(BOARD_SRCS))
MBEDTLS_OBJS := $(patsubst $(MBEDTLS_DIR)/library/%.c,$(BUILD)/mbedtls/%.o,$(MBEDTLS_SRCS))
LWIP_OBJS    := $(patsubst $(LWIP_DIR)/src/%.c,$(BUILD)/lwip/%.o,$(LWIP_SRCS))
LIBMBEDTLS   := $(BUILD)/libmbedtls.a
LIBLWIP      := $(BUILD)/liblwip.a

FIRMWARE     := $(BUILD)/certwiz
NOMALLOC_OK  := $(BUILD)/no-malloc.ok
LAYERS_OK    := $(BUILD)/layers.ok

# Host-only: the PC tool, the sanitizer build and the unit tests.
CWCTL        := $(BUILD)/cwctl
# cwctl validates topology blobs with the device's own decoder (and names its errors).
CWCTL_SRCS   := $(wildcard tools/cwctl/*.c) firmware/src/codec/cw_topology.c firmware/src/base/cw_err.c
ASAN         := $(BUILD)/asan
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
UNIT_SUPPORT := $(wildcard tests/unit/support/*.c)
UNIT_BINS    := $(patsubst tests/unit/%.c,$(ASAN)/tests/%,$(UNIT_SRCS))
ASAN_CORE    := $(call obj,$(ASAN)/obj,$(CORE_SRCS))
ASAN_SUPPORT := $(call obj,$(ASAN)/obj,$(UNIT_SUPPORT) board/host/host_clock.c)

# Fuzz targets (libFuzzer, clang): one per parser, tests/fuzz/fuzz_<name>.c, seeds in
# tests/fuzz/corpus/<name>/. `make check` runs each for FUZZ_RUNS inputs; `make fuzz` for
# FUZZ_SECONDS each. Working corpora grow in build/, the committed seeds stay as they are.
FUZZ_CC      ?= clang
FUZZ         := $(BUILD)/fuzz
FUZZ_RUNS    ?= 3000
FUZZ_SECONDS ?= 60
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(FUZZ_SRCS))
FUZZ_CORE    := $(call obj,$(FUZZ)/obj,$(CORE_SRCS) $(wildcard tests/fuzz/support/*.c) board/host/host_clock.c)
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

# ---- top-level targets ---------------------------------------------------------------------

.PHONY: all deps build check unit unit-rpc unit-tpm system system-tpm system-san fuzz fuzz-smoke demo clean help run size target-check bench powercut
.DEFAULT_GOAL := all

help:
	@echo "certwiz make targets (BOARD=$(BOARD)):"
	@echo "  make            fetch dependencies, build firmware, cwctl, run the no-malloc check"
	@echo "  make deps       install missing Debian packages; fetch, verify and unpack mbedTLS/lwIP"
	@echo "  make check      build, then run every test: unit (ASan+UBSan) and system (pytest)"
	@echo "  make unit       only the unit tests (the token tests also over p11-kit RPC: make unit-rpc,"
	@echo "                  and on the TPM lab: make unit-tpm)"
	@echo "  make system     only the system tests"
	@echo "  make system-tpm the offline, SCEP and power-cut system tests again on a TPM token (root)"
	@echo "  make system-san the SCEP, offline and network system tests on an ASan+UBSan firmware"
	@echo "  make fuzz       run every fuzz target for FUZZ_SECONDS (default 60) each"
	@echo "  make powercut   a power-cut campaign: CUTS (default 1000) random SIGKILLs, SEED to replay"
	@echo "  make demo       boot the firmware and drive it with cwctl (TOKEN=tpm: on a TPM 2.0; see README)"
	@echo "  make run        build and start the firmware with its console on this terminal"
	@echo "  make size       flash and RAM per component from the linker map (cross boards)"
	@echo "  make target-check  the on-target unit tests (tests/target) in the board's emulator"
	@echo "  make bench      benchmarks (docs/bench.md): RAM per operation, Cortex-M size, CSR and SCEP"
	@echo "                  times as ratios to pkcs11-tool, openssl and scepclient, in build/bench/"
	@echo "  make clean      remove build/ (third_party/ stays as a download cache)"
	@echo "variables: BOARD=$(BOARD) CC=$(CC) PYTHON=$(PYTHON)"

deps:
	@tools/deps/fetch.sh

# Recursive so that the source lists above are read after the sources exist.
all: deps
	@$(MAKE) --no-print-directory build

check: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory system
	@$(MAKE) --no-print-directory system-tpm
	@$(MAKE) --no-print-directory system-san

run: deps
	@$(MAKE) --no-print-directory build
	$(BOARD_RUN)

size: deps
	$(if $(BOARD_IS_HOST),$(error make size reads a cross board's linker map: use e.g. BOARD=mps2-an386))
	@$(MAKE) --no-print-directory build
	@$(PYTHON) tools/size-report.py --top 12 --files 20 $(BUILD)/certwiz.map
	@echo
	@if [ -f $(BUILD)/target-check.log ]; then \
		grep "high-water" $(BUILD)/target-check.log | sed 's/^/after make target-check: /'; \
	else echo "stack and arena high-water: run make target-check BOARD=$(BOARD) first"; fi

demo: deps
	@$(MAKE) --no-print-directory build
	@CW_DEMO_TOKEN=$(TOKEN) tools/demo.sh

# Benchmarks (docs/bench.md, tests/bench/): they measure and never assert; not part of `make check`.
# The Cortex-M figures come from the output of `make size` and `make target-check` on mps2-an386.
BENCH_OUT   := build/bench
BENCH_BOARD := mps2-an386

bench: all
	$(if $(BOARD_IS_HOST),,$(error make bench runs host programs: use BOARD=host))
	@$(MAKE) --no-print-directory BOARD=$(BENCH_BOARD)
	@mkdir -p $(BENCH_OUT)
	@echo "bench: make target-check BOARD=$(BENCH_BOARD) > $(BENCH_OUT)/target-check.txt"
	@$(MAKE) --no-print-directory BOARD=$(BENCH_BOARD) target-check > $(BENCH_OUT)/target-check.txt 2>&1 \
		|| { cat $(BENCH_OUT)/target-check.txt; exit 1; }
	@echo "bench: make size BOARD=$(BENCH_BOARD) > $(BENCH_OUT)/size.txt"
	@$(MAKE) --no-print-directory BOARD=$(BENCH_BOARD) size > $(BENCH_OUT)/size.txt 2>&1 \
		|| { cat $(BENCH_OUT)/size.txt; exit 1; }
	@echo "bench: the whole life on $(BENCH_BOARD) with its token on UART1 (test_mps2.py) > $(BENCH_OUT)/uart1.txt"
	@rm -f build/$(BENCH_BOARD)/uart1-costs.json
	@CW_BUILD=$(BUILD) $(PYTHON) -m pytest -q -s tests/system/test_mps2.py -k whole_life > $(BENCH_OUT)/uart1.txt 2>&1 \
		|| { tail -40 $(BENCH_OUT)/uart1.txt; exit 1; }
	@$(PYTHON) tests/bench/bench.py --out $(BENCH_OUT) --build $(BUILD) \
		--size $(BENCH_OUT)/size.txt --target-check $(BENCH_OUT)/target-check.txt \
		--uart1 build/$(BENCH_BOARD)/uart1-costs.json

clean:
	rm -rf build

build: $(FIRMWARE) $(if $(BOARD_IS_HOST),$(CWCTL))

# ---- version header (rewritten only when the version changes) -------------------------------

$(BUILD)/gen/cw_version.h: FORCE
	@mkdir -p $(@D)
	@echo '#define CW_VERSION "$(CW_VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

# ---- error table (cw_err.c's names and sentences, packed by tools/gen-err-table.py) --------

ERR_TABLE_SRCS := $(CERTWIZ_ERR_TABLE_SRCS)
ERR_TABLE      := $(BUILD)/gen/cw_err_table.h
# The console's own lines (cw_console_say) are rows of the same table; cw_say_rows.h gives each
# call its row. Rewritten only when it changes, as cw_version.h.
SAY_SRCS       := $(CERTWIZ_SAY_SRCS)
SAY_ROWS       := $(BUILD)/gen/cw_say_rows.h

$(ERR_TABLE): tools/gen-err-table.py $(ERR_TABLE_SRCS) $(SAY_SRCS)
	@mkdir -p $(@D)
	@echo "GEN $@"
	@$(PYTHON) tools/gen-err-table.py $(ERR_TABLE_SRCS) $(SAY_SRCS) > $@.tmp && mv $@.tmp $@

$(SAY_ROWS): tools/gen-err-table.py $(SAY_SRCS)
	@mkdir -p $(@D)
	@$(PYTHON) tools/gen-err-table.py --say-rows $(SAY_SRCS) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Every compile of cw_err.c includes it (cwctl's too: see $(CWCTL)).
$(BUILD)/obj/firmware/src/base/cw_err.o $(ASAN)/obj/firmware/src/base/cw_err.o \
$(FUZZ)/obj/firmware/src/base/cw_err.o: $(ERR_TABLE)

# ---- compile rules -------------------------------------------------------------------------

$(BUILD)/obj/%.o: %.c | $(BUILD)/gen/cw_version.h $(SAY_ROWS)
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(BOARD_CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c $< -o $@

$(BUILD)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c board/$(BOARD)/mbedtls_config.h
	@mkdir -p $(@D)
	@echo "CC (mbedTLS) $<"
	@$(BOARD_CC) $(CPPFLAGS) $(MBEDTLS_CPPFLAGS_$*) $(TP_CFLAGS) -c $< -o $@

$(BUILD)/lwip/%.o: $(LWIP_DIR)/src/%.c board/$(BOARD)/lwipopts.h $(wildcard board/$(BOARD)/arch/*.h)
	@mkdir -p $(@D)
	@echo "CC (lwIP) $<"
	@$(BOARD_CC) $(CPPFLAGS) $(TP_CFLAGS) -c $< -o $@

$(LIBMBEDTLS): $(MBEDTLS_OBJS)
	@rm -f $@
	@echo "AR $@"
	@$(AR) rcs $@ $^

$(LIBLWIP): $(LWIP_OBJS)
	@rm -f $@
	@echo "AR $@"
	@$(AR) rcs $@ $^

# The memory model's link-time check: runs before the firmware links, fails naming the object.
$(NOMALLOC_OK): $(CORE_OBJS) $(MBEDTLS_OBJS) $(LWIP_OBJS) tools/check-no-malloc.sh
	@tools/check-no-malloc.sh $(CORE_OBJS) $(MBEDTLS_OBJS) $(LWIP_OBJS)
	@touch $@

# The layers' include rules (docs/architecture.md): runs before the firmware links, naming the file.
$(LAYERS_OK): $(shell find firmware pkcs11 -name '*.[ch]') tools/check-layers.py
	@python3 tools/check-layers.py
	@mkdir -p $(@D) && touch $@

$(FIRMWARE): $(NOMALLOC_OK) $(LAYERS_OK) $(CORE_OBJS) $(BOARD_OBJS) $(LIBMBEDTLS) $(LIBLWIP)
	@echo "LD $@"
	@$(BOARD_CC) $(CFLAGS) -o $@ $(CORE_OBJS) $(BOARD_OBJS) $(LIBMBEDTLS) $(LIBLWIP) $(BOARD_LDLIBS)

# ---- on-target unit tests (a cross board whose board.mk sets BOARD_TEST_RUN) -----------------

# tests/target/ runs on the board itself: the core, the libraries and the board's drivers, with
# the test runner's main() in place of the board's main loop (BOARD_MAIN_SRC).
TARGET_TESTS     := $(BUILD)/certwiz-tests
TARGET_TEST_OBJS := $(call obj,$(BUILD)/obj,$(wildcard tests/target/*.c))
# The files the tests check, compiled in as C arrays (tests/target/bin2c.sh says why generated).
SCEP_VECTORS      := ../shared/vectors/scep-micromdm-2.1.0
TARGET_TEST_BLOBS := docs/examples/edge-appliance.der \
                     $(SCEP_VECTORS)/getcacaps.txt $(SCEP_VECTORS)/getcacert.der \
                     $(SCEP_VECTORS)/pkcsreq.der $(SCEP_VECTORS)/certrep-success.der \
                     $(BUILD)/gen/scep-issued.p7b

# The certificate inside the captured CertRep SUCCESS: its EnvelopedData opens only with the
# requester's key, and the board has no token, so openssl opens it here (DES-CBC, which
# OpenSSL 3 keeps in its legacy provider) for the on-target import check (target_scep.c).
$(BUILD)/gen/scep-issued.p7b: $(SCEP_VECTORS)/certrep-success.der $(SCEP_VECTORS)/requester-key.pem
	@mkdir -p $(@D)
	@echo "GEN $@"
	@openssl cms -verify -noverify -inform DER -in $< -out $@.env 2>/dev/null
	@openssl cms -decrypt -provider legacy -provider default -inform DER -in $@.env \
		-inkey $(SCEP_VECTORS)/requester-key.pem -out $@.tmp
	@rm -f $@.env && mv $@.tmp $@

# (The Makefile too: it holds the list.)
$(BUILD)/gen/target_blobs.h: tests/target/bin2c.sh $(TARGET_TEST_BLOBS) Makefile
	@mkdir -p $(@D)
	@echo "GEN $@"
	@sh tests/target/bin2c.sh $(TARGET_TEST_BLOBS) > $@.tmp && mv $@.tmp $@

$(TARGET_TEST_OBJS): $(BUILD)/gen/target_blobs.h

$(TARGET_TESTS): $(NOMALLOC_OK) $(LAYERS_OK) $(TARGET_TEST_OBJS) $(CORE_OBJS) $(BOARD_OBJS) $(LIBMBEDTLS) $(LIBLWIP)
	@echo "LD $@"
	@$(BOARD_CC) $(CFLAGS) -o $@ $(TARGET_TEST_OBJS) $(CORE_OBJS) \
		$(filter-out $(call obj,$(BUILD)/obj,$(BOARD_MAIN_SRC)),$(BOARD_OBJS)) $(LIBMBEDTLS) $(LIBLWIP) $(BOARD_LDLIBS)

target-check: deps
	$(if $(BOARD_TEST_RUN),,$(error make target-check needs a cross board with an emulator, e.g. BOARD=mps2-an386))
	@$(MAKE) --no-print-directory $(TARGET_TESTS)
	@echo "$(BOARD_TEST_RUN)"
	@$(BOARD_TEST_RUN) > $(BUILD)/target-check.log; rc=$$?; cat $(BUILD)/target-check.log; exit $$rc

# ---- host tools and tests ------------------------------------------------------------------

$(CWCTL): $(CWCTL_SRCS) $(wildcard tools/cwctl/*.h) $(wildcard firmware/include/cw/*/*.h) board/$(BOARD)/cw_config.h \
          $(ERR_TABLE)
	@mkdir -p $(@D)
	@echo "CC+LD $@"
	@$(CC) -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -Ifirmware/include -Iboard/$(BOARD) -I$(BUILD)/gen $(WARN) -O2 -g -o $@ \
		$(CWCTL_SRCS) -ljansson

$(ASAN)/obj/%.o: %.c | $(BUILD)/gen/cw_version.h $(SAY_ROWS)
	@mkdir -p $(@D)
	@echo "CC (asan) $<"
	@$(CC) $(CPPFLAGS) -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN)/tests/%: $(ASAN)/obj/tests/unit/%.o $(ASAN_CORE) $(ASAN_SUPPORT) $(LIBMBEDTLS) $(LIBLWIP)
	@mkdir -p $(@D)
	@echo "LD (asan) $@"
	@$(CC) $(SAN_FLAGS) -o $@ $^ -lcmocka -lp11-kit -ldl

unit: $(UNIT_BINS)
	@tools/run-unit-tests.sh $(UNIT_BINS)
	@$(MAKE) --no-print-directory unit-rpc
	@$(MAKE) --no-print-directory unit-tpm

# The token suite once more through the RPC client (pkcs11/cw_p11_rpc.c) and a real
# `p11-kit remote` serving the SoftHSM2 token: the Cortex-M board's path to its token, on the host.
unit-rpc: $(ASAN)/tests/test_p11_token
	@echo "== test_p11_token --rpc (SoftHSM2 behind p11-kit remote)"
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/unit/lsan.supp $(ASAN)/tests/test_p11_token --rpc

# The token suite once more on a TPM 2.0 token: tpm2-pkcs11 on swtpm behind tpm2-abrmd
# --max-transients=3, in a network namespace of its own (tests/lab/tpm-lab.sh; needs root).
# make deps installs swtpm; only a machine without it skips, and says so.
TPM_UNIT_BINS := $(ASAN)/tests/test_p11_token
unit-tpm: $(TPM_UNIT_BINS)
	@if command -v swtpm >/dev/null 2>&1; then \
		for t in $(TPM_UNIT_BINS); do \
			echo "== $$(basename $$t) --tpm (tests/lab/tpm-lab.sh run)"; \
			LSAN_OPTIONS=suppressions=$(CURDIR)/tests/unit/lsan.supp tests/lab/tpm-lab.sh run $$t --tpm || exit 1; \
		done; \
	else \
		echo "#### SKIPPED: the TPM token tests (swtpm is not installed; make deps installs it) ####"; \
	fi

$(FUZZ)/obj/%.o: %.c | $(BUILD)/gen/cw_version.h $(SAY_ROWS)
	@mkdir -p $(@D)
	@echo "CC (fuzz) $<"
	@$(FUZZ_CC) $(CPPFLAGS) -D_DEFAULT_SOURCE $(WARN) -MMD -MP $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ)/fuzz_%: $(FUZZ)/obj/tests/fuzz/fuzz_%.o $(FUZZ_CORE) $(LIBMBEDTLS) $(LIBLWIP)
	@echo "LD (fuzz) $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^

fuzz-smoke: $(FUZZ_BINS)
	@tools/run-fuzz.sh -runs=$(FUZZ_RUNS) -- $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@tools/run-fuzz.sh -max_total_time=$(FUZZ_SECONDS) -- $(FUZZ_BINS)

system: build
	@CW_BUILD=$(BUILD) $(PYTHON) -m pytest -q tests/system

# The token-heavy system tests again on a TPM 2.0 token (issue 17): tpm2-pkcs11 on swtpm behind
# tpm2-abrmd --max-transients=3, one lab for the run (tests/system/conftest.py; needs root, else
# they skip and say so). Fewer random power cuts than on SoftHSM2: the TPM pass has five minutes.
TPM_TESTS := tests/system/test_offline.py tests/system/test_scep.py tests/system/test_powercut.py
TPM_CUTS  ?= 10

system-tpm: build
	@CW_BUILD=$(BUILD) CW_TOKEN=tpm CW_CUTS=$(TPM_CUTS) CW_LIFE_CUTS=$(TPM_CUTS) $(PYTHON) -m pytest -q $(TPM_TESTS)

# A longer run of the random power-cut tests (make check runs 100 cuts of offline operations and
# 200 over the whole life, docs/lifecycle.md): CUTS cuts each, SEED replays.
CUTS ?= 1000
powercut: build
	@CW_BUILD=$(BUILD) CW_CUTS=$(CUTS) $(if $(SEED),CW_CUT_SEED=$(SEED)) $(PYTHON) -m pytest -q -s \
		tests/system/test_powercut.py -k random

# The protocol-heavy system tests once more, against a firmware (and cwctl) built with ASan+UBSan
# (docs/decisions.md 6): the parsers and the SCEP job meet real servers' bytes there, not only in
# the unit tests. Any report ends the firmware with a non-zero status, which the tests check.
SAN_BUILD := $(BUILD)-san
SAN_TESTS := tests/system/test_scep.py tests/system/test_offline.py tests/system/test_net.py

system-san: deps
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) \
		BOARD_CFLAGS="-O1 -g $(SAN_FLAGS)" build
	@CW_BUILD=$(SAN_BUILD) $(PYTHON) -m pytest -q $(SAN_TESTS)

# Keep the test binaries' objects: a pattern rule's prerequisites count as intermediate files,
# which make deletes after the link. Named: a bare .SECONDARY: makes every target secondary, and
# a missing generated file then goes unmade while the files made from it are newer.
.SECONDARY: $(ASAN_CORE) $(ASAN_SUPPORT) $(FUZZ_CORE) \
            $(patsubst tests/unit/%.c,$(ASAN)/obj/tests/unit/%.o,$(UNIT_SRCS)) \
            $(patsubst tests/fuzz/%.c,$(FUZZ)/obj/tests/fuzz/%.o,$(FUZZ_SRCS))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
