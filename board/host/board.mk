# board/host/board.mk: certwiz as a Linux process (the reference and test board).

BOARD_CC        ?= $(CC)
BOARD_SRCS      := $(wildcard board/host/*.c)
BOARD_CPPFLAGS  := -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 \
                   -DCW_HOST_COMPILER='"$(shell $(CC) --version | head -n 1)"'
BOARD_CFLAGS    := -O2 -g
# libslirp: linked directly; its pkg-config file names glib-2.0, whose -dev package the
# header does not need (libslirp.h includes only libc headers).
BOARD_LDLIBS    := -lp11-kit -lslirp
BOARD_IS_HOST   := 1
