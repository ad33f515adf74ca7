# firmware/certwiz.mk: certwiz's sources, by layer, for any build that compiles them.
#
# An appliance's own Makefile includes this file (as lwIP's Filelists.mk is included) and
# compiles $(CERTWIZ_SRCS) with $(CERTWIZ_INCLUDES), its board's cw_config.h, lwipopts.h and
# mbedtls_config.h on the include path, and mbedTLS and lwIP beside them. It sets nothing else
# and defines no rules. Before including it, set where things are when they are not where this
# repository keeps them:
#
#   CERTWIZ_DIR     the firmware/ directory (default: firmware)
#   CERTWIZ_P11_DIR the pkcs11/ directory, the token layer (default: $(CERTWIZ_DIR)/../pkcs11)
#   CERTWIZ_HAL_DIR the hal/ directory, what a board implements (default: $(CERTWIZ_DIR)/../hal)
#
# The layers, each depending only on the ones below it (docs/architecture.md; the build checks
# it with tools/check-layers.py):
#
#   (top)       cw_firmware.c: cw_init/cw_poll, the composition of the layers below
#   console     words, prompts, pastes, output: one client of the core
#   core        role model, job slot and its scheduling, events, the token session
#   scep        SCEP messages, transport, the SCEP job (one enrolment protocol, a job driver)
#   pki, net    import checks, token records, the driver interface / HTTP
#   codec       PEM, URL, topology, CSR, CMS
#   pkcs11      every Cryptoki call (includes only base headers)
#   base        errors, arena, wipe, time, hex, DER tags and writer macros
#
# CERTWIZ_ALT_SRCS are certwiz's own block functions behind mbedTLS's _ALT switches: small and
# slow, for a board short of flash. They compile to nothing unless the board's mbedtls_config.h
# switches them on.

CERTWIZ_DIR     ?= firmware
CERTWIZ_P11_DIR ?= $(CERTWIZ_DIR)/../pkcs11
CERTWIZ_HAL_DIR ?= $(CERTWIZ_DIR)/../hal

cw_src = $(addprefix $(CERTWIZ_DIR)/src/$(1)/,$(2))

CERTWIZ_BASE_SRCS    := $(call cw_src,base,cw_err.c cw_arena.c cw_wipe.c cw_time.c cw_clock.c cw_hex.c)
CERTWIZ_CODEC_SRCS   := $(call cw_src,codec,cw_pem.c cw_url.c cw_topology.c cw_csr.c cw_cms.c)
CERTWIZ_NET_SRCS     := $(call cw_src,net,cw_http.c cw_http_parser.c cw_sntp.c)
CERTWIZ_PKI_SRCS     := $(call cw_src,pki,cw_import.c cw_store.c cw_certs.c)
CERTWIZ_SCEP_SRCS    := $(call cw_src,scep,cw_scep.c cw_scep_msg.c cw_scep_job.c)
CERTWIZ_CORE_SRCS    := $(call cw_src,core,cw_token.c cw_model.c cw_job.c cw_life.c cw_events.c cw_roles.c cw_scratch.c)
CERTWIZ_CONSOLE_SRCS := $(call cw_src,console,cw_console.c cw_cmd_sys.c cw_cmd_token.c cw_cmd_wizard.c \
                          cw_cmd_enrol.c cw_cmd_net.c)
# The composition: the entry points of cw.h, the console's words, the scratch's storage.
CERTWIZ_TOP_SRCS     := $(CERTWIZ_DIR)/src/cw_firmware.c
CERTWIZ_ALT_SRCS     := $(call cw_src,mbedtls_alt,cw_aes_small.c cw_des_small.c cw_sha1_small.c cw_sha2_small.c cw_ecdsa_small.c)
CERTWIZ_P11_SRCS     := $(addprefix $(CERTWIZ_P11_DIR)/,cw_p11_session.c cw_p11_key.c cw_p11_object.c \
                          cw_p11_uri.c cw_p11_rpc.c)

CERTWIZ_SRCS := $(CERTWIZ_BASE_SRCS) $(CERTWIZ_CODEC_SRCS) $(CERTWIZ_NET_SRCS) $(CERTWIZ_PKI_SRCS) \
                $(CERTWIZ_SCEP_SRCS) $(CERTWIZ_CORE_SRCS) $(CERTWIZ_CONSOLE_SRCS) $(CERTWIZ_TOP_SRCS) \
                $(CERTWIZ_ALT_SRCS) $(CERTWIZ_P11_SRCS)

# firmware/src is on the path for the few headers private to certwiz's sources.
CERTWIZ_INCLUDES := -I$(CERTWIZ_DIR)/include -I$(CERTWIZ_DIR)/src -I$(CERTWIZ_P11_DIR) -I$(CERTWIZ_HAL_DIR)

# The error table (base/cw_err.c includes the generated cw_err_table.h; tools/gen-err-table.py
# writes it from these two files).
CERTWIZ_ERR_TABLE_SRCS := $(CERTWIZ_DIR)/include/cw/base/cw_err.h $(CERTWIZ_DIR)/src/base/cw_err_foreign.def
# The console's sources: their cw_console_say formats are rows of the same table (cw_console.h).
CERTWIZ_SAY_SRCS := $(CERTWIZ_CONSOLE_SRCS)
