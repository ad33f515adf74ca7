/*
 * cw_url.c: http:// and https:// URLs (cw_url.h says what is accepted and why).
 *
 * RFC 3986 section 3:  URI = scheme ":" "//" authority path-abempty [ "?" query ] [ "#" fragment ]
 *                      authority = [ userinfo "@" ] host [ ":" port ]
 */
#include "cw/codec/cw_url.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool prefix_nocase(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(s[i]) != prefix[i]) {
            return false;
        }
    }
    return true;
}

/* Four decimal octets 0..255 without leading zeros (a leading zero means octal to some parsers;
 * refusing it keeps every reader of the URL on the same address). */
static bool is_ipv4(const char *h, size_t n)
{
    size_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit(h[i]) && i - start < 3) {
            v = v * 10u + (unsigned)(h[i] - '0');
            i++;
        }
        if (i == start || v > 255u || (h[start] == '0' && i - start > 1)) {
            return false;
        }
        if (octet < 3) {
            if (i >= n || h[i] != '.') {
                return false;
            }
            i++;
        }
    }
    return i == n;
}

/* RFC 1123 host names: labels of letters, digits and hyphens, 1..63 bytes, no hyphen at either
 * end. A name whose last label is all digits would read as an address: refused (RFC 3986 3.2.2
 * takes such a host as IPv4 first). */
static bool is_dns_name(const char *h, size_t n)
{
    size_t label = 0;
    bool last_all_digits = true;

    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (label == 0 || label > 63u || h[i - 1] == '-') {
                return false;
            }
            if (i == n) {
                return !last_all_digits;
            }
            label = 0;
            last_all_digits = true;
            continue;
        }
        if (!is_alpha(h[i]) && !is_digit(h[i]) && h[i] != '-') {
            return false;
        }
        if (label == 0 && h[i] == '-') {
            return false;
        }
        if (!is_digit(h[i])) {
            last_all_digits = false;
        }
        label++;
    }
    return false;
}

/* RFC 3986: pchar / "/" / "?" in path and query, printable ASCII, percent-escapes complete. */
static bool is_target(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
                return false;
            }
            i += 2;
            continue;
        }
        /* excluded: controls, space, DEL, non-ASCII, and the delimiters RFC 3986 never allows
         * unescaped in a path or query: " < > \ ^ ` { | } and a second '#'. */
        if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}#", c) != NULL) {
            return false;
        }
    }
    return true;
}

cw_err cw_url_parse(const char *text, size_t len, cw_url_t *out)
{
    cw_url_scheme_t scheme;
    size_t i;
    size_t auth_start;
    size_t auth_end;
    size_t host_end;
    size_t target_end;
    uint16_t port;

    if (text == NULL || out == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (len > CW_URL_MAX) {
        return CW_ERR_URL_TOO_LONG;
    }
    if (memchr(text, '\0', len) != NULL) {
        return CW_ERR_URL_MALFORMED;
    }
    if (prefix_nocase(text, len, "http://")) {
        scheme = CW_URL_HTTP;
        i = 7;
        port = 80;
    } else if (prefix_nocase(text, len, "https://")) {
        scheme = CW_URL_HTTPS;
        i = 8;
        port = 443;
    } else {
        return CW_ERR_URL_MALFORMED;
    }

    /* authority: up to the first '/', '?' or '#' */
    auth_start = i;
    while (i < len && text[i] != '/' && text[i] != '?' && text[i] != '#') {
        i++;
    }
    auth_end = i;
    if (memchr(text + auth_start, '@', auth_end - auth_start) != NULL) {
        return CW_ERR_URL_USERINFO;
    }
    if (auth_start < auth_end && text[auth_start] == '[') {
        return CW_ERR_URL_MALFORMED; /* IPv6 literal: no IPv6 in this build */
    }
    host_end = auth_start;
    while (host_end < auth_end && text[host_end] != ':') {
        host_end++;
    }
    if (host_end < auth_end) {
        /* port: digits, at most 65535; empty means the default (RFC 3986 3.2.3) */
        unsigned long v = 0;
        size_t p = host_end + 1;
        if (auth_end - p > 5) {
            return CW_ERR_URL_MALFORMED;
        }
        for (; p < auth_end; p++) {
            if (!is_digit(text[p])) {
                return CW_ERR_URL_MALFORMED;
            }
            v = v * 10u + (unsigned long)(text[p] - '0');
        }
        if (auth_end - host_end > 1) {
            if (v == 0 || v > 65535u) {
                return CW_ERR_URL_MALFORMED;
            }
            port = (uint16_t)v;
        }
    }
    if (host_end - auth_start > CW_URL_HOST_MAX) {
        return CW_ERR_URL_TOO_LONG;
    }

    /* path and query; a fragment is for the reader, not for the server */
    target_end = auth_end;
    while (target_end < len && text[target_end] != '#') {
        target_end++;
    }
    if (target_end < len && !is_target(text + target_end + 1, len - target_end - 1)) {
        return CW_ERR_URL_MALFORMED;
    }
    if (!is_target(text + auth_end, target_end - auth_end)) {
        return CW_ERR_URL_MALFORMED;
    }
    /* RFC 9112 3.2.1: an empty path is sent as "/", also before a query */
    bool slash = auth_end == target_end || text[auth_end] != '/';
    if (target_end - auth_end + (slash ? 1u : 0u) > CW_URL_PATH_MAX) {
        return CW_ERR_URL_TOO_LONG;
    }

    bool ipv4 = is_ipv4(text + auth_start, host_end - auth_start);
    if (!ipv4 && !is_dns_name(text + auth_start, host_end - auth_start)) {
        return CW_ERR_URL_MALFORMED;
    }

    memset(out, 0, sizeof *out);
    out->scheme = scheme;
    out->host_is_ipv4 = ipv4;
    out->port = port;
    memcpy(out->host, text + auth_start, host_end - auth_start);
    if (slash) {
        out->path[0] = '/';
    }
    memcpy(out->path + (slash ? 1 : 0), text + auth_end, target_end - auth_end);
    return CW_OK;
}
