/*
 * cw_config.h for the host board: certwiz as a Linux process.
 * Every knob and its default is documented in firmware/include/cw/base/cw_opts.h.
 */
#ifndef CW_CONFIG_H
#define CW_CONFIG_H

#define CW_PLATFORM_NAME "host"

/* The host board measures what an MCU build will need; keep it at the MCU's size so that an
 * operation that would not fit there fails here too. */
#define CW_ARENA_SIZE (48u * 1024u)

#endif /* CW_CONFIG_H */
