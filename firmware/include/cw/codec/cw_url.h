/*
 * cw_url.h: the URLs certwiz fetches from: http://host[:port][/path][?query] (RFC 3986 subset).
 *
 * - scheme: http or https (case-insensitive). https is recognised here so that a CA profile can
 *   name it; whether it can be fetched is the HTTP client's decision (cw_http.h).
 * - host: a dotted IPv4 address (four decimal octets, no leading zeros) or a DNS name (labels of
 *   letters, digits and hyphens, 1..63 bytes, not starting or ending with a hyphen). IPv6
 *   literals are refused (this build has no IPv6).
 * - userinfo (user:password@) is refused with its own error: credentials do not belong in a URL
 *   that is printed, logged and stored in the topology.
 * - port: 1..65535; absent or empty means the scheme's default (80, 443).
 * - path and query are kept as written (percent-escapes checked, not decoded); "/" when absent.
 *   A fragment (#...) is never sent to a server and is dropped.
 * - printable ASCII only; every part has a named bound (cw_opts.h) and input over it is refused
 *   with CW_ERR_URL_TOO_LONG, never cut.
 */
#ifndef CW_URL_H
#define CW_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"

typedef enum cw_url_scheme_t {
    CW_URL_HTTP,
    CW_URL_HTTPS
} cw_url_scheme_t;

typedef struct cw_url_t {
    cw_url_scheme_t scheme;
    bool host_is_ipv4;                 /* host is a dotted IPv4 address, not a DNS name */
    uint16_t port;                     /* explicit, or the scheme's default */
    char host[CW_URL_HOST_MAX + 1];    /* NUL-terminated, as written */
    char path[CW_URL_PATH_MAX + 1];    /* request target: "/" or "/path?query", NUL-terminated */
} cw_url_t;

/* Parses text[0..len) (no NUL needed, none allowed inside) into out. Errors: CW_ERR_URL_MALFORMED,
 * CW_ERR_URL_USERINFO, CW_ERR_URL_TOO_LONG. out is fully written only on CW_OK. */
cw_err cw_url_parse(const char *text, size_t len, cw_url_t *out);

#endif /* CW_URL_H */
