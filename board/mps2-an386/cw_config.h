/*
 * cw_config.h for the MPS2 AN386 board (Cortex-M4). Every knob and its default is documented in
 * firmware/include/cw/cw_opts.h.
 */
#ifndef CW_CONFIG_H
#define CW_CONFIG_H

#define CW_PLATFORM_NAME "mps2-an386"

/* The arena holds mbedTLS's X.509 parsing and verification (a chain of three certificates with
 * RSA-2048 or P-256 keys) and certwiz's short-lived scratch. The host board measures with 48 KiB;
 * `mem` shows the high-water mark after real use, which is the figure to size by. */
#define CW_ARENA_SIZE (32u * 1024u)

#endif /* CW_CONFIG_H */
