/*
 * cw_topology.c: strict DER decoder, validation and derivation of the topology blob.
 *
 * The normative text is docs/topology.asn1 (abridged beside each decoder below) and the rules of
 * docs/topology.md. One pass in blob order: every field is checked when it is read, and what it
 * refers to (domains, CA profiles, earlier sets' roles) always comes earlier in the blob, so the
 * first violation in blob order is the one reported.
 *
 * DER as X.690 section 10 demands it: definite lengths in minimal form, one-byte tags only (the
 * format has no tag above 30), minimal INTEGER/ENUMERATED contents, BIT STRING without trailing
 * zero bits or non-zero padding, SEQUENCE fields in their order, nothing after the end.
 */
#include "cw/codec/cw_topology.h"

#include <string.h>

#include "cw/base/cw_der.h" /* the tag numbers; the format uses IMPLICIT TAGS */

/* A part of the blob being read: absolute offsets [pos, end) into t->der. */
typedef struct span {
    size_t pos;
    size_t end;
} span;

/* ---- error path ---------------------------------------------------------------------------- */

/* The path is built in t->err_path as the decoder descends; each function gets the length of its
 * parent's path and appends its own part. On failure the path names the field being read. */
static size_t path_put(cw_topology *t, size_t at, const char *s)
{
    while (*s != '\0' && at + 1u < sizeof t->err_path) {
        t->err_path[at++] = *s++;
    }
    t->err_path[at] = '\0';
    return at;
}

static size_t path_key(cw_topology *t, size_t base, const char *key)
{
    if (base > 0) {
        base = path_put(t, base, ".");
    }
    return path_put(t, base, key);
}

static size_t path_index(cw_topology *t, size_t base, size_t i)
{
    char num[24];
    size_t n = sizeof num - 1u;

    num[n] = '\0';
    do {
        num[--n] = (char)('0' + (i % 10u));
        i /= 10u;
    } while (i > 0 && n > 1u);
    num[--n] = '[';
    base = path_put(t, base, num + n);
    return path_put(t, base, "]");
}

/* ---- DER reading --------------------------------------------------------------------------- */

/* Reads the TLV at s->pos (s->pos < s->end) and steps over it. overrun is the code for a length
 * running past s->end: CW_ERR_TRUNCATED for the blob as a whole, CW_ERR_TOPO_LENGTH inside. */
static cw_err der_read(const cw_topology *t, span *s, uint8_t *tag, span *val, cw_err overrun)
{
    const uint8_t *d = t->der;
    size_t p = s->pos;
    size_t len;

    if (p >= s->end) {
        return CW_ERR_TOPO_MISSING;
    }
    *tag = d[p++];
    if ((*tag & 0x1Fu) == 0x1Fu) {
        return CW_ERR_TOPO_TAG; /* high tag numbers: none in this format */
    }
    if (p >= s->end) {
        return overrun;
    }
    len = d[p++];
    if (len == 0x80u) {
        return CW_ERR_TOPO_LENGTH; /* indefinite length: BER, not DER */
    }
    if (len > 0x80u) {
        size_t n = len & 0x7Fu;
        if (n > 2u) {
            return CW_ERR_TOPO_LENGTH; /* no blob (CW_TOPO_DER_MAX <= 65535) needs 3 bytes */
        }
        if (n > s->end - p) {
            return overrun;
        }
        len = d[p];
        if (n == 2u) {
            len = (len << 8) | d[p + 1u];
        }
        if (d[p] == 0u || len < 0x80u) {
            return CW_ERR_TOPO_LENGTH; /* not the minimal length form */
        }
        p += n;
    }
    if (len > s->end - p) {
        return overrun;
    }
    val->pos = p;
    val->end = p + len;
    s->pos = p + len;
    return CW_OK;
}

static bool der_peek(const cw_topology *t, const span *s, uint8_t tag)
{
    return s->pos < s->end && t->der[s->pos] == tag;
}

/* Reads a required element of the given tag. */
static cw_err der_expect(const cw_topology *t, span *s, uint8_t want, span *val)
{
    uint8_t tag;

    if (s->pos >= s->end) {
        return CW_ERR_TOPO_MISSING;
    }
    if (t->der[s->pos] != want) {
        return CW_ERR_TOPO_TAG;
    }
    return der_read(t, s, &tag, val, CW_ERR_TOPO_LENGTH);
}

/* A SEQUENCE's fields are all read: anything left is an element the format does not have. */
static cw_err der_done(const span *s)
{
    return s->pos == s->end ? CW_OK : CW_ERR_TOPO_TAG;
}

/* INTEGER or ENUMERATED content: minimal two's complement (X.690 8.3.2). Negative values and
 * values above 32 bits are reported as *range_bad (the caller's field decides the error). */
static cw_err der_uint(const cw_topology *t, span v, uint32_t *out, bool *range_bad)
{
    const uint8_t *d = t->der + v.pos;
    size_t n = v.end - v.pos;
    uint32_t x = 0;

    *range_bad = false;
    *out = 0;
    if (n == 0u) {
        return CW_ERR_TOPO_DER_VALUE;
    }
    if (n > 1u && ((d[0] == 0x00u && d[1] < 0x80u) || (d[0] == 0xFFu && d[1] >= 0x80u))) {
        return CW_ERR_TOPO_DER_VALUE;
    }
    if (d[0] >= 0x80u || n > 5u || (n == 5u && d[0] != 0u)) {
        *range_bad = true;
        return CW_OK;
    }
    for (size_t i = 0; i < n; i++) {
        x = (x << 8) | d[i];
    }
    *out = x;
    return CW_OK;
}

/* Reads an INTEGER/ENUMERATED of tag `tag` and checks it against lo..hi; range_err otherwise. */
static cw_err der_uint_field(const cw_topology *t, span *s, uint8_t tag, uint32_t lo, uint32_t hi,
                             cw_err range_err, uint32_t *out)
{
    span v;
    bool bad;
    cw_err e = der_expect(t, s, tag, &v);

    if (e == CW_OK) {
        e = der_uint(t, v, out, &bad);
    }
    if (e == CW_OK && (bad || *out < lo || *out > hi)) {
        e = range_err;
    }
    return e;
}

static cw_topo_view_t view_of(span v)
{
    cw_topo_view_t r;

    r.off = (uint16_t)v.pos; /* the blob is at most CW_TOPO_DER_MAX <= 65535 bytes */
    r.len = (uint16_t)(v.end - v.pos);
    return r;
}

/* ---- character rules ----------------------------------------------------------------------- */

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool same_nocase(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen) {
        return false;
    }
    for (size_t i = 0; i < alen; i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

CW_NOINLINE static bool view_same_nocase(const cw_topology *t, cw_topo_view_t a, cw_topo_view_t b)
{
    return same_nocase(cw_topo_bytes(t, a), a.len, cw_topo_bytes(t, b), b.len);
}

/* Exact (case-sensitive) comparison of a view with name[0..len). */
static bool view_is(const cw_topology *t, cw_topo_view_t v, const char *name, size_t len)
{
    return v.len == len && memcmp(cw_topo_chars(t, v), name, len) == 0;
}

/* Site and subject text: well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), no C0/C1 control or DEL, no braces (reserved for templates), no space at
 * either end. */
static bool text_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;

    if (n == 0u || s[0] == ' ' || s[n - 1u] == ' ') {
        return false;
    }
    while (i < n) {
        uint8_t c = s[i];
        size_t more;
        uint32_t cp;
        uint32_t min;

        if (c < 0x80u) {
            if (c < 0x20u || c == 0x7Fu || c == '{' || c == '}') {
                return false;
            }
            i++;
            continue;
        }
        if (c >= 0xC2u && c <= 0xDFu) {
            more = 1;
            cp = c & 0x1Fu;
            min = 0x80u;
        } else if (c >= 0xE0u && c <= 0xEFu) {
            more = 2;
            cp = c & 0x0Fu;
            min = 0x800u;
        } else if (c >= 0xF0u && c <= 0xF4u) {
            more = 3;
            cp = c & 0x07u;
            min = 0x10000u;
        } else {
            return false;
        }
        if (more > n - i - 1u) {
            return false;
        }
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu) || cp <= 0x9Fu) {
            return false; /* overlong, out of range, surrogate, or a C1 control */
        }
        i += more + 1u;
    }
    return true;
}

/* Set, role and CA profile names: console words and token labels. */
static bool name_ok(const uint8_t *s, size_t n)
{
    if (n == 0u || !(is_alpha(s[0]) || is_digit(s[0]))) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.')) {
            return false;
        }
    }
    return true;
}

/* A DNS host name (RFC 1123 section 2.1, RFC 1035 section 2.3.4): labels of 1..63 letters,
 * digits and hyphens, no hyphen at a label's ends, 253 bytes in all, no trailing dot, at least
 * min_labels labels, and a last label that is not all digits (that would be an IPv4 address).
 * With wildcard_ok, the first label may be exactly "*" when at least two labels follow
 * (RFC 6125 section 6.4.3 restricted to the form CAs issue). */
static bool dns_name_ok(const uint8_t *s, size_t n, bool wildcard_ok, size_t min_labels)
{
    size_t labels = 0;
    size_t i = 0;
    size_t start;
    bool wildcard = false;
    bool all_digits = true;

    if (n == 0u || n > CW_TOPO_DNS_NAME_MAX) {
        return false;
    }
    if (wildcard_ok && n >= 2u && s[0] == '*' && s[1] == '.') {
        wildcard = true;
        labels = 1;
        i = 2;
    }
    start = i;
    for (;; i++) {
        if (i == n || s[i] == '.') {
            size_t ll = i - start;
            if (ll == 0u || ll > 63u || s[start] == '-' || s[i - 1u] == '-') {
                return false;
            }
            labels++;
            if (i == n) {
                break;
            }
            start = i + 1u;
            all_digits = true;
            continue;
        }
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-')) {
            return false;
        }
        if (!is_digit(s[i])) {
            all_digits = false;
        }
    }
    if (all_digits || labels < min_labels || (wildcard && labels < 3u)) {
        return false;
    }
    return true;
}

/* A dotted-quad IPv4 address, decimal without leading zeros. */
static bool ipv4_text_ok(const uint8_t *s, size_t n)
{
    size_t parts = 0;
    size_t i = 0;

    while (i <= n) {
        size_t start = i;
        uint32_t v = 0;
        while (i < n && is_digit(s[i]) && i - start < 3u) {
            v = v * 10u + (uint32_t)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255u || (i - start > 1u && s[start] == '0')) {
            return false;
        }
        parts++;
        if (i == n) {
            break;
        }
        if (s[i] != '.' || parts == 4u) {
            return false;
        }
        i++;
    }
    return parts == 4u;
}

/* RFC 3986 characters allowed in a path or query as certwiz takes them: printable ASCII other
 * than space " < > \ ^ ` { | } and # (no fragment), with % followed by two hex digits. */
static bool url_rest_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c <= 0x20u || c >= 0x7Fu || c == '"' || c == '<' || c == '>' || c == '\\' ||
            c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '#') {
            return false;
        }
        if (c == '%' && (n - i < 3u || !is_hex(s[i + 1u]) || !is_hex(s[i + 2u]))) {
            return false;
        }
    }
    return true;
}

/* http://host[:port][/path][?query] or https://...; host is a DNS name (one label allowed), a
 * dotted quad or a bracketed IPv6 literal; no user information, no fragment. */
static bool url_ok(const uint8_t *s, size_t n)
{
    size_t i;
    size_t host_end;
    size_t auth_end;

    if (n >= 7u && memcmp(s, "http://", 7) == 0) {
        i = 7;
    } else if (n >= 8u && memcmp(s, "https://", 8) == 0) {
        i = 8;
    } else {
        return false;
    }
    if (i == n) {
        return false; /* no host */
    }
    auth_end = i;
    while (auth_end < n && s[auth_end] != '/' && s[auth_end] != '?') {
        auth_end++;
    }
    if (s[i] == '[') {
        size_t k = i + 1u;
        size_t colons = 0;
        while (k < auth_end && s[k] != ']') {
            if (!(is_hex(s[k]) || s[k] == ':' || s[k] == '.')) {
                return false;
            }
            colons += s[k] == ':' ? 1u : 0u;
            k++;
        }
        if (k >= auth_end || colons < 2u) {
            return false;
        }
        host_end = k + 1u;
    } else {
        host_end = i;
        while (host_end < auth_end && s[host_end] != ':') {
            host_end++;
        }
        if (!dns_name_ok(s + i, host_end - i, false, 1) && !ipv4_text_ok(s + i, host_end - i)) {
            return false;
        }
    }
    if (host_end < auth_end) {
        uint32_t port = 0;
        size_t k = host_end + 1u;
        if (s[host_end] != ':' || k == auth_end || auth_end - k > 5u) {
            return false;
        }
        for (; k < auth_end; k++) {
            if (!is_digit(s[k])) {
                return false;
            }
            port = port * 10u + (uint32_t)(s[k] - '0');
        }
        if (port == 0u || port > 65535u) {
            return false;
        }
    }
    return url_rest_ok(s + auth_end, n - auth_end);
}

/* RFC 7512 path attributes: "pkcs11:" (any case) then attr=value pairs separated by ";", each
 * character a pk11-pchar (unreserved, ":[]@!$'()*+,=&" or %HH). No query part: a PIN or module
 * path has no place in a blob. The token layer parses the attributes themselves when it opens
 * the token (pkcs11/cw_p11_uri.h); this checks the form, so a bad URI is refused at load. */
static bool token_uri_ok(const uint8_t *s, size_t n)
{
    static const char scheme[] = "pkcs11:";
    static const char avail[] = "-._~:[]@!$'()*+,=&";
    size_t i;
    size_t attr_start;
    bool has_eq = false;

    if (n < 7u) {
        return false;
    }
    for (i = 0; i < 7u; i++) {
        if (lower(s[i]) != (uint8_t)scheme[i]) {
            return false;
        }
    }
    if (n == 7u) {
        return true; /* "pkcs11:" alone: any token */
    }
    attr_start = i;
    for (; i <= n; i++) {
        if (i == n || s[i] == ';') {
            if (!has_eq || s[attr_start] == '=') {
                return false; /* empty attribute, or one without a name or "=" */
            }
            attr_start = i + 1u;
            has_eq = false;
            continue;
        }
        if (s[i] == '=') {
            has_eq = true;
        } else if (s[i] == '%') {
            if (n - i < 3u || !is_hex(s[i + 1u]) || !is_hex(s[i + 2u])) {
                return false;
            }
            i += 2u;
        } else if (!is_alpha(s[i]) && !is_digit(s[i]) &&
                   (s[i] == 0u || memchr(avail, s[i], sizeof avail - 1u) == NULL)) {
            return false;
        }
    }
    return true;
}

/* ---- templates ----------------------------------------------------------------------------- */

typedef enum placeholder {
    PH_NONE,
    PH_HOST,
    PH_SITE,
    PH_DOMAIN
} placeholder;

/* Which placeholder starts at tmpl[i] == '{'; *next gets the index after its '}'. PH_NONE means
 * an unknown or unterminated one. */
static placeholder placeholder_at(const uint8_t *tmpl, size_t n, size_t i, size_t *next)
{
    static const struct {
        const char *text;
        size_t len;
        placeholder ph;
    } known[] = {{"{host}", 6, PH_HOST}, {"{site}", 6, PH_SITE}, {"{domain}", 8, PH_DOMAIN}};

    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        if (n - i >= known[k].len && memcmp(tmpl + i, known[k].text, known[k].len) == 0) {
            *next = i + known[k].len;
            return known[k].ph;
        }
    }
    return PH_NONE;
}

/* Checks the placeholders of a template; *uses_domain says whether {domain} occurs. */
static cw_err template_scan(const uint8_t *tmpl, size_t n, bool *uses_domain)
{
    size_t i = 0;

    *uses_domain = false;
    while (i < n) {
        size_t next;
        if (tmpl[i] == '}') {
            return CW_ERR_TOPO_PLACEHOLDER;
        }
        if (tmpl[i] != '{') {
            i++;
            continue;
        }
        switch (placeholder_at(tmpl, n, i, &next)) {
        case PH_NONE:
            return CW_ERR_TOPO_PLACEHOLDER;
        case PH_DOMAIN:
            *uses_domain = true;
            break;
        case PH_HOST:
        case PH_SITE:
            break;
        }
        i = next;
    }
    return CW_OK;
}

/* Expands a template (already scanned) with domain number di into out[0..cap). Returns false
 * when the result does not fit (the caller reports the name as invalid: it is longer than any
 * name it may become). */
static bool template_expand(const cw_topology *t, const uint8_t *tmpl, size_t n, size_t di,
                            char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    size_t i = 0;

    while (i < n) {
        const uint8_t *src = tmpl + i;
        size_t src_len = 1;
        size_t next = i + 1u;

        if (tmpl[i] == '{') {
            cw_topo_view_t v;
            switch (placeholder_at(tmpl, n, i, &next)) {
            case PH_HOST:
                v = t->host;
                break;
            case PH_SITE:
                v = t->site;
                break;
            case PH_DOMAIN:
                v = t->domain[di];
                break;
            case PH_NONE:
            default:
                return false; /* not reached: scanned before */
            }
            src = cw_topo_bytes(t, v);
            src_len = v.len;
        }
        if (src_len > cap - o) {
            return false;
        }
        memcpy(out + o, src, src_len);
        o += src_len;
        i = next;
    }
    *len = o;
    return true;
}

/* ---- the decoder --------------------------------------------------------------------------- */

/*
 * Appliance ::= SEQUENCE {
 *     host       DnsName,                                    -- IA5String, an FQDN
 *     site       UTF8String (SIZE (1..textMax)),
 *     addresses  [0] SEQUENCE SIZE (1..addressesMax) OF IPAddress OPTIONAL }
 */
static cw_err decode_appliance(cw_topology *t, span *outer, size_t base)
{
    span s;
    span v;
    size_t p;
    cw_err e = der_expect(t, outer, CW_DER_SEQ, &s);

    if (e != CW_OK) {
        return e;
    }
    p = path_key(t, base, "host");
    if ((e = der_expect(t, &s, CW_DER_IA5, &v)) != CW_OK) {
        return e;
    }
    t->host = view_of(v);
    if (!dns_name_ok(t->der + v.pos, v.end - v.pos, false, 2)) {
        return CW_ERR_TOPO_HOST;
    }
    p = path_key(t, base, "site");
    if ((e = der_expect(t, &s, CW_DER_UTF8, &v)) != CW_OK) {
        return e;
    }
    t->site = view_of(v);
    if (t->site.len > CW_TOPO_TEXT_MAX) {
        return CW_ERR_TOPO_TEXT_TOO_LONG;
    }
    if (!text_ok(t->der + v.pos, v.end - v.pos)) {
        return CW_ERR_TOPO_TEXT;
    }
    p = path_key(t, base, "addresses");
    if (der_peek(t, &s, CW_DER_CTX_CONS(0))) {
        span list;
        if ((e = der_expect(t, &s, CW_DER_CTX_CONS(0), &list)) != CW_OK) {
            return e;
        }
        if (list.pos == list.end) {
            return CW_ERR_TOPO_EMPTY_LIST;
        }
        while (list.pos < list.end) {
            if (t->address_count == CW_TOPO_ADDRESSES_MAX) {
                path_put(t, p, "");
                return CW_ERR_TOPO_TOO_MANY_ADDRESSES;
            }
            path_index(t, p, t->address_count);
            if ((e = der_expect(t, &list, CW_DER_OCTETS, &v)) != CW_OK) {
                return e;
            }
            if (v.end - v.pos != 4u && v.end - v.pos != 16u) {
                return CW_ERR_TOPO_ADDRESS;
            }
            t->address[t->address_count++] = view_of(v);
        }
    }
    path_put(t, base, "");
    return der_done(&s);
}

/* One optional subject attribute [n] IMPLICIT UTF8String. */
static cw_err decode_subject_text(cw_topology *t, span *s, uint8_t n, size_t base,
                                  const char *key, cw_topo_view_t *out)
{
    span v;
    cw_err e;

    if (!der_peek(t, s, CW_DER_CTX(n))) {
        return CW_OK;
    }
    path_key(t, base, key);
    if ((e = der_expect(t, s, CW_DER_CTX(n), &v)) != CW_OK) {
        return e;
    }
    *out = view_of(v);
    if (out->len > CW_TOPO_TEXT_MAX) {
        return CW_ERR_TOPO_TEXT_TOO_LONG;
    }
    return text_ok(t->der + v.pos, v.end - v.pos) ? CW_OK : CW_ERR_TOPO_TEXT;
}

/*
 * SubjectTemplate ::= SEQUENCE {
 *     organization        [0] UTF8String OPTIONAL,
 *     organizationalUnit  [1] UTF8String OPTIONAL,
 *     locality            [2] UTF8String OPTIONAL,
 *     state               [3] UTF8String OPTIONAL,
 *     country             [4] PrintableString (SIZE (2)) OPTIONAL }
 */
static cw_err decode_subject(cw_topology *t, span *outer, size_t base)
{
    span s;
    span v;
    cw_err e = der_expect(t, outer, CW_DER_SEQ, &s);

    if (e == CW_OK) {
        e = decode_subject_text(t, &s, 0, base, "organization", &t->organization);
    }
    if (e == CW_OK) {
        e = decode_subject_text(t, &s, 1, base, "organizationalUnit", &t->organizational_unit);
    }
    if (e == CW_OK) {
        e = decode_subject_text(t, &s, 2, base, "locality", &t->locality);
    }
    if (e == CW_OK) {
        e = decode_subject_text(t, &s, 3, base, "state", &t->state);
    }
    if (e == CW_OK && der_peek(t, &s, CW_DER_CTX(4))) {
        path_key(t, base, "country");
        if ((e = der_expect(t, &s, CW_DER_CTX(4), &v)) == CW_OK) {
            const uint8_t *c = t->der + v.pos;
            t->country = view_of(v);
            if (v.end - v.pos != 2u || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
                e = CW_ERR_TOPO_COUNTRY;
            }
        }
    }
    if (e == CW_OK) {
        path_put(t, base, "");
        e = der_done(&s);
    }
    return e;
}

/* Domains ::= SEQUENCE SIZE (1..domainsMax) OF DnsName */
static cw_err decode_domains(cw_topology *t, span *s, size_t base)
{
    span list;
    span v;
    cw_err e;

    if (!der_peek(t, s, CW_DER_CTX_CONS(0))) {
        return CW_OK;
    }
    base = path_key(t, base, "domains");
    if ((e = der_expect(t, s, CW_DER_CTX_CONS(0), &list)) != CW_OK) {
        return e;
    }
    if (list.pos == list.end) {
        return CW_ERR_TOPO_EMPTY_LIST;
    }
    while (list.pos < list.end) {
        cw_topo_view_t d;
        if (t->domain_count == CW_TOPO_DOMAINS_MAX) {
            path_put(t, base, "");
            return CW_ERR_TOPO_TOO_MANY_DOMAINS;
        }
        path_index(t, base, t->domain_count);
        if ((e = der_expect(t, &list, CW_DER_IA5, &v)) != CW_OK) {
            return e;
        }
        d = view_of(v);
        if (!dns_name_ok(t->der + v.pos, d.len, false, 2)) {
            return CW_ERR_TOPO_DOMAIN;
        }
        for (size_t k = 0; k < t->domain_count; k++) {
            if (view_same_nocase(t, t->domain[k], d)) {
                return CW_ERR_TOPO_DUPLICATE_DOMAIN;
            }
        }
        t->domain[t->domain_count++] = d;
    }
    return CW_OK;
}

/* Name ::= UTF8String (SIZE (1..nameMax)) (FROM ("A".."Z" | "a".."z" | "0".."9" | "-_.")) */
static cw_err decode_name(cw_topology *t, span *s, cw_topo_view_t *out)
{
    span v;
    cw_err e = der_expect(t, s, CW_DER_UTF8, &v);

    if (e != CW_OK) {
        return e;
    }
    *out = view_of(v);
    if (out->len > CW_TOPO_NAME_MAX) {
        return CW_ERR_TOPO_NAME_TOO_LONG;
    }
    return name_ok(t->der + v.pos, out->len) ? CW_OK : CW_ERR_TOPO_NAME;
}

/* KeyType ::= ENUMERATED { rsa2048(1), rsa3072(2), rsa4096(3), ecP256(4), ecP384(5) } */
CW_NOINLINE static cw_err decode_key_type(cw_topology *t, span *s, uint8_t tag, uint8_t *out)
{
    uint32_t k;
    cw_err e = der_uint_field(t, s, tag, CW_KEY_RSA2048, CW_KEY_EC_P384, CW_ERR_TOPO_KEY_TYPE, &k);

    *out = (uint8_t)k;
    return e;
}

static bool key_is_ec(uint8_t k)
{
    return k == CW_KEY_EC_P256 || k == CW_KEY_EC_P384;
}

/* A URL or token URI field [n] IMPLICIT IA5String. */
CW_NOINLINE static cw_err decode_url(cw_topology *t, span *s, uint8_t tag, bool token_uri, cw_topo_view_t *out)
{
    span v;
    cw_err e = der_expect(t, s, tag, &v);

    if (e != CW_OK) {
        return e;
    }
    *out = view_of(v);
    if (out->len > CW_TOPO_URL_MAX) {
        return CW_ERR_TOPO_URL_TOO_LONG;
    }
    if (token_uri) {
        return token_uri_ok(t->der + v.pos, out->len) ? CW_OK : CW_ERR_TOPO_TOKEN_URI;
    }
    return url_ok(t->der + v.pos, out->len) ? CW_OK : CW_ERR_TOPO_URL;
}

/*
 * CAProfile ::= SEQUENCE {
 *     name           Name,
 *     protocol       ENUMERATED { offline(0), scep(1), acme(2) },
 *     url            [0] IA5String OPTIONAL,                  -- required for scep and acme
 *     caFingerprint  [1] OCTET STRING (SIZE (32)) OPTIONAL,
 *     keyType        [2] KeyType OPTIONAL,                    -- default rsa2048
 *     renewPercent   [3] INTEGER (1..99) OPTIONAL,            -- default 80
 *     pollSeconds    [4] INTEGER (10..86400) OPTIONAL }       -- default 300
 */
static cw_err decode_profile(cw_topology *t, span *list, size_t base, cw_topo_profile_t *pr)
{
    span s;
    span v;
    uint32_t x;
    cw_err e = der_expect(t, list, CW_DER_SEQ, &s);

    if (e != CW_OK) {
        return e;
    }
    path_key(t, base, "name");
    if ((e = decode_name(t, &s, &pr->name)) != CW_OK) {
        return e;
    }
    for (size_t k = 0; k < t->profile_count; k++) {
        if (view_same_nocase(t, t->profiles[k].name, pr->name)) {
            return CW_ERR_TOPO_DUPLICATE_PROFILE;
        }
    }
    path_key(t, base, "protocol");
    e = der_uint_field(t, &s, CW_DER_ENUMERATED, CW_TOPO_OFFLINE, CW_TOPO_ACME, CW_ERR_TOPO_PROTOCOL,
                       &x);
    if (e != CW_OK) {
        return e;
    }
    pr->protocol = (uint8_t)x;
    path_key(t, base, "url");
    if (der_peek(t, &s, CW_DER_CTX(0))) {
        if ((e = decode_url(t, &s, CW_DER_CTX(0), false, &pr->url)) != CW_OK) {
            return e;
        }
    } else if (pr->protocol != CW_TOPO_OFFLINE) {
        return CW_ERR_TOPO_URL_MISSING;
    }
    if (der_peek(t, &s, CW_DER_CTX(1))) {
        path_key(t, base, "caFingerprint");
        if ((e = der_expect(t, &s, CW_DER_CTX(1), &v)) != CW_OK) {
            return e;
        }
        pr->fingerprint = view_of(v);
        if (pr->fingerprint.len != CW_TOPO_FINGERPRINT_LEN) {
            return CW_ERR_TOPO_FINGERPRINT;
        }
    }
    if (der_peek(t, &s, CW_DER_CTX(2))) {
        path_key(t, base, "keyType");
        if ((e = decode_key_type(t, &s, CW_DER_CTX(2), &pr->key_type)) != CW_OK) {
            return e;
        }
        if (pr->protocol == CW_TOPO_SCEP && key_is_ec(pr->key_type)) {
            return CW_ERR_TOPO_KEY_PROTOCOL;
        }
    }
    if (der_peek(t, &s, CW_DER_CTX(3))) {
        path_key(t, base, "renewPercent");
        e = der_uint_field(t, &s, CW_DER_CTX(3), 1, 99, CW_ERR_TOPO_RENEW_PERCENT, &x);
        if (e != CW_OK) {
            return e;
        }
        pr->renew_percent = (uint8_t)x;
    }
    if (der_peek(t, &s, CW_DER_CTX(4))) {
        path_key(t, base, "pollSeconds");
        e = der_uint_field(t, &s, CW_DER_CTX(4), CW_TOPO_POLL_MIN, CW_TOPO_POLL_MAX,
                           CW_ERR_TOPO_POLL_INTERVAL, &x);
        if (e != CW_OK) {
            return e;
        }
        pr->poll_seconds = x;
    }
    path_put(t, base, "");
    return der_done(&s);
}

/*
 * ExtendedKeyUsages ::= BIT STRING { serverAuth(0), clientAuth(1) } (SIZE (1..2))
 * DER named-bit rule (X.690 11.2.2): no trailing zero bits, padding bits zero.
 */
static cw_err decode_eku(cw_topology *t, span *s, uint8_t *out)
{
    span v;
    const uint8_t *d;
    size_t n;
    unsigned unused;
    unsigned bits = 0;
    cw_err e = der_expect(t, s, CW_DER_BIT_STRING, &v);

    if (e != CW_OK) {
        return e;
    }
    d = t->der + v.pos;
    n = v.end - v.pos;
    if (n == 0u || d[0] > 7u || (n == 1u && d[0] != 0u)) {
        return CW_ERR_TOPO_DER_VALUE;
    }
    if (n == 1u) {
        return CW_ERR_TOPO_EKU; /* no purpose at all */
    }
    unused = d[0];
    if ((d[n - 1u] & ((1u << unused) - 1u)) != 0u || (d[n - 1u] & (1u << unused)) == 0u) {
        return CW_ERR_TOPO_DER_VALUE; /* padding not zero, or a trailing zero bit */
    }
    for (size_t i = 1; i < n; i++) {
        for (unsigned b = 0; b < 8u; b++) {
            if ((d[i] & (0x80u >> b)) == 0u) {
                continue;
            }
            size_t bit = (i - 1u) * 8u + b;
            if (bit > 1u) {
                return CW_ERR_TOPO_EKU; /* a purpose version 1 does not know */
            }
            bits |= 1u << bit;
        }
    }
    *out = (uint8_t)bits;
    return CW_OK;
}

/* Adds what one expansion contributes to a set's derived list (before duplicates are dropped),
 * against CW_TOPO_DERIVED_SANS_MAX and CW_TOPO_DERIVED_TEXT_MAX. */
typedef struct derived_budget {
    size_t names;
    size_t bytes;
} derived_budget;

static cw_err budget_add(derived_budget *b, size_t name_bytes, bool dns)
{
    if (++b->names > CW_TOPO_DERIVED_SANS_MAX) {
        return CW_ERR_TOPO_DERIVED_TOO_MANY;
    }
    if (dns) {
        b->bytes += name_bytes + 1u;
        if (b->bytes > CW_TOPO_DERIVED_TEXT_MAX) {
            return CW_ERR_TOPO_DERIVED_TOO_LARGE;
        }
    }
    return CW_OK;
}

/* Checks a CN or SAN template: length, placeholders, and every expansion as a DNS name (an
 * invalid one is TOPO_CN or TOPO_SAN), and counts what it adds to the set's derived list. A SAN
 * template with {domain} expands once per domain; the CN once, with the first domain, to at
 * most CW_TOPO_CN_MAX bytes. */
static cw_err check_template(const cw_topology *t, const uint8_t *tmpl, size_t n, bool is_cn,
                             derived_budget *budget)
{
    char name[CW_TOPO_DNS_NAME_MAX + 1u];
    size_t len;
    bool uses_domain;
    size_t rounds;
    cw_err bad = is_cn ? CW_ERR_TOPO_CN : CW_ERR_TOPO_SAN;
    cw_err e;

    if (n > CW_TOPO_DNS_NAME_MAX) {
        return CW_ERR_TOPO_TEMPLATE_TOO_LONG;
    }
    if ((e = template_scan(tmpl, n, &uses_domain)) != CW_OK) {
        return e;
    }
    if (uses_domain && t->domain_count == 0u) {
        return CW_ERR_TOPO_NO_DOMAINS;
    }
    rounds = (uses_domain && !is_cn) ? t->domain_count : 1u;
    for (size_t di = 0; di < rounds; di++) {
        size_t cap = is_cn ? CW_TOPO_CN_MAX : CW_TOPO_DNS_NAME_MAX;
        if (!template_expand(t, tmpl, n, di, name, cap, &len) ||
            !dns_name_ok((const uint8_t *)name, len, true, 1)) {
            return bad;
        }
        if ((e = budget_add(budget, len, true)) != CW_OK) {
            return e;
        }
    }
    return CW_OK;
}

/*
 * CertSet ::= SEQUENCE {
 *     name       Name,
 *     roles      SEQUENCE SIZE (1..rolesPerSetMax) OF Name,
 *     caProfile  Name,                                        -- a CAProfile's name
 *     eku        ExtendedKeyUsages,
 *     keyType    [0] KeyType OPTIONAL,                        -- default: the profile's
 *     cn         [1] Template OPTIONAL,                       -- default "{host}"
 *     san        [2] SEQUENCE SIZE (1..sansPerSetMax) OF SanEntry OPTIONAL,
 *     tokenUri   [3] IA5String OPTIONAL }
 *
 * SanEntry ::= CHOICE { dns [0] Template, ip [1] IPAddress }
 */
static cw_err decode_set(cw_topology *t, span *list, size_t base, size_t set_index)
{
    cw_topo_set_t *st = &t->sets[set_index];
    derived_budget budget = {0, 0};
    cw_topo_view_t profile_name;
    span s;
    span roles;
    span v;
    size_t p;
    bool found = false;
    uint8_t key;
    cw_err e = der_expect(t, list, CW_DER_SEQ, &s);

    if (e != CW_OK) {
        return e;
    }
    path_key(t, base, "name");
    if ((e = decode_name(t, &s, &st->name)) != CW_OK) {
        return e;
    }
    for (size_t k = 0; k < set_index; k++) {
        if (view_same_nocase(t, t->sets[k].name, st->name)) {
            return CW_ERR_TOPO_DUPLICATE_SET;
        }
    }

    p = path_key(t, base, "roles");
    if ((e = der_expect(t, &s, CW_DER_SEQ, &roles)) != CW_OK) {
        return e;
    }
    if (roles.pos == roles.end) {
        return CW_ERR_TOPO_EMPTY_LIST;
    }
    st->first_role = t->role_count;
    while (roles.pos < roles.end) {
        cw_topo_role_t *r;
        if (st->role_count == CW_TOPO_ROLES_PER_SET_MAX) {
            path_put(t, p, "");
            return CW_ERR_TOPO_TOO_MANY_ROLES;
        }
        if (t->role_count == CW_TOPO_ROLES_MAX) {
            path_put(t, p, "");
            return CW_ERR_TOPO_TOO_MANY_ROLES_TOTAL;
        }
        path_index(t, p, st->role_count);
        r = &t->roles[t->role_count];
        if ((e = decode_name(t, &roles, &r->name)) != CW_OK) {
            return e;
        }
        for (size_t k = 0; k < t->role_count; k++) {
            if (view_same_nocase(t, t->roles[k].name, r->name)) {
                return t->roles[k].set == set_index ? CW_ERR_TOPO_DUPLICATE_ROLE
                                                    : CW_ERR_TOPO_ROLE_TWO_SETS;
            }
        }
        r->set = (uint8_t)set_index;
        t->role_count++;
        st->role_count++;
    }

    path_key(t, base, "caProfile");
    if ((e = decode_name(t, &s, &profile_name)) != CW_OK) {
        return e;
    }
    for (size_t k = 0; k < t->profile_count && !found; k++) {
        if (view_is(t, t->profiles[k].name, cw_topo_chars(t, profile_name), profile_name.len)) {
            st->profile = (uint8_t)k;
            found = true;
        }
    }
    if (!found) {
        return CW_ERR_TOPO_UNKNOWN_PROFILE;
    }

    path_key(t, base, "eku");
    if ((e = decode_eku(t, &s, &st->eku)) != CW_OK) {
        return e;
    }

    if (der_peek(t, &s, CW_DER_CTX(0))) {
        path_key(t, base, "keyType");
        if ((e = decode_key_type(t, &s, CW_DER_CTX(0), &st->key_type)) != CW_OK) {
            return e;
        }
    }
    key = st->key_type != CW_KEY_NONE ? st->key_type : t->profiles[st->profile].key_type;
    if (t->profiles[st->profile].protocol == CW_TOPO_SCEP && key_is_ec(key)) {
        return CW_ERR_TOPO_KEY_PROTOCOL; /* path: keyType (the profile's own was checked) */
    }

    path_key(t, base, "cn");
    if (der_peek(t, &s, CW_DER_CTX(1))) {
        if ((e = der_expect(t, &s, CW_DER_CTX(1), &v)) != CW_OK) {
            return e;
        }
        st->cn = view_of(v);
        e = check_template(t, t->der + v.pos, st->cn.len, true, &budget);
    } else {
        e = check_template(t, (const uint8_t *)CW_TOPO_DEFAULT_CN, sizeof CW_TOPO_DEFAULT_CN - 1u,
                           true, &budget);
    }
    if (e != CW_OK) {
        return e;
    }

    if (der_peek(t, &s, CW_DER_CTX_CONS(2))) {
        span sans;
        p = path_key(t, base, "san");
        if ((e = der_expect(t, &s, CW_DER_CTX_CONS(2), &sans)) != CW_OK) {
            return e;
        }
        if (sans.pos == sans.end) {
            return CW_ERR_TOPO_EMPTY_LIST;
        }
        while (sans.pos < sans.end) {
            cw_topo_san_t *entry;
            size_t q;
            if (st->san_count == CW_TOPO_SANS_PER_SET_MAX) {
                path_put(t, p, "");
                return CW_ERR_TOPO_TOO_MANY_SANS;
            }
            q = path_index(t, p, st->san_count);
            entry = &st->san[st->san_count];
            if (der_peek(t, &sans, CW_DER_CTX(0))) {
                path_key(t, q, "dns");
                if ((e = der_expect(t, &sans, CW_DER_CTX(0), &v)) != CW_OK) {
                    return e;
                }
                entry->type = CW_TOPO_SAN_DNS;
                entry->value = view_of(v);
                e = check_template(t, t->der + v.pos, entry->value.len, false, &budget);
            } else if (der_peek(t, &sans, CW_DER_CTX(1))) {
                path_key(t, q, "ip");
                if ((e = der_expect(t, &sans, CW_DER_CTX(1), &v)) != CW_OK) {
                    return e;
                }
                entry->type = CW_TOPO_SAN_IP;
                entry->value = view_of(v);
                if (entry->value.len != 4u && entry->value.len != 16u) {
                    return CW_ERR_TOPO_ADDRESS;
                }
                e = budget_add(&budget, 0, false);
            } else {
                return CW_ERR_TOPO_TAG;
            }
            if (e == CW_ERR_TOPO_DERIVED_TOO_MANY || e == CW_ERR_TOPO_DERIVED_TOO_LARGE) {
                path_put(t, p, "");
            }
            if (e != CW_OK) {
                return e;
            }
            st->san_count++;
        }
    }

    if (der_peek(t, &s, CW_DER_CTX(3))) {
        path_key(t, base, "tokenUri");
        if ((e = decode_url(t, &s, CW_DER_CTX(3), true, &st->token_uri)) != CW_OK) {
            return e;
        }
    }
    path_put(t, base, "");
    return der_done(&s);
}

/*
 * Topology ::= SEQUENCE {
 *     version     INTEGER { v1(1) },
 *     appliance   Appliance,
 *     subject     SubjectTemplate,
 *     domains     [0] Domains OPTIONAL,
 *     caProfiles  SEQUENCE SIZE (1..profilesMax) OF CAProfile,
 *     sets        SEQUENCE SIZE (1..setsMax) OF CertSet }
 */
static cw_err decode_topology(cw_topology *t)
{
    span all = {0, t->der_len};
    span s;
    span list;
    uint8_t tag;
    uint32_t version;
    size_t p;
    cw_err e;

    if (t->der_len > CW_TOPO_DER_MAX) {
        return CW_ERR_TOPO_TOO_LARGE;
    }
    if (t->der_len == 0u) {
        return CW_ERR_TRUNCATED;
    }
    if ((e = der_read(t, &all, &tag, &s, CW_ERR_TRUNCATED)) != CW_OK) {
        return e;
    }
    if (tag != CW_DER_SEQ) {
        return CW_ERR_TOPO_TAG;
    }
    if (all.pos != all.end) {
        return CW_ERR_TOPO_TRAILING;
    }

    path_key(t, 0, "version");
    e = der_uint_field(t, &s, CW_DER_INTEGER, CW_TOPO_VERSION, CW_TOPO_VERSION, CW_ERR_TOPO_VERSION,
                       &version);
    if (e != CW_OK) {
        return e;
    }
    path_key(t, 0, "appliance");
    if ((e = decode_appliance(t, &s, strlen(t->err_path))) != CW_OK) {
        return e;
    }
    path_key(t, 0, "subject");
    if ((e = decode_subject(t, &s, strlen(t->err_path))) != CW_OK) {
        return e;
    }
    path_put(t, 0, "");
    if ((e = decode_domains(t, &s, 0)) != CW_OK) {
        return e;
    }

    p = path_key(t, 0, "caProfiles");
    if ((e = der_expect(t, &s, CW_DER_SEQ, &list)) != CW_OK) {
        return e;
    }
    if (list.pos == list.end) {
        return CW_ERR_TOPO_EMPTY_LIST;
    }
    while (list.pos < list.end) {
        size_t q;
        if (t->profile_count == CW_TOPO_PROFILES_MAX) {
            path_put(t, p, "");
            return CW_ERR_TOPO_TOO_MANY_PROFILES;
        }
        q = path_index(t, p, t->profile_count);
        if ((e = decode_profile(t, &list, q, &t->profiles[t->profile_count])) != CW_OK) {
            return e;
        }
        t->profile_count++;
    }

    p = path_key(t, 0, "sets");
    if ((e = der_expect(t, &s, CW_DER_SEQ, &list)) != CW_OK) {
        return e;
    }
    if (list.pos == list.end) {
        return CW_ERR_TOPO_EMPTY_LIST;
    }
    while (list.pos < list.end) {
        size_t q;
        if (t->set_count == CW_TOPO_SETS_MAX) {
            path_put(t, p, "");
            return CW_ERR_TOPO_TOO_MANY_SETS;
        }
        q = path_index(t, p, t->set_count);
        if ((e = decode_set(t, &list, q, t->set_count)) != CW_OK) {
            return e;
        }
        t->set_count++;
    }
    path_put(t, 0, "");
    return der_done(&s);
}

cw_err cw_topology_decode(cw_topology *t, const uint8_t *der, size_t len)
{
    cw_err e;

    if (t == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(t, 0, sizeof *t);
    if (der == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    t->der = der;
    t->der_len = len;
    e = decode_topology(t);
    if (e == CW_OK) {
        t->err_path[0] = '\0';
    } else {
        /* counts stay 0 so that a failed topology is never iterated */
        t->address_count = t->domain_count = t->profile_count = t->set_count = t->role_count = 0;
    }
    return e;
}

const char *cw_topology_error_path(const cw_topology *t)
{
    return t != NULL ? t->err_path : "";
}

/* ---- lookup -------------------------------------------------------------------------------- */

size_t cw_topology_profile_count(const cw_topology *t)
{
    return t != NULL ? t->profile_count : 0u;
}

size_t cw_topology_set_count(const cw_topology *t)
{
    return t != NULL ? t->set_count : 0u;
}

size_t cw_topology_role_count(const cw_topology *t)
{
    return t != NULL ? t->role_count : 0u;
}

cw_err cw_topology_find_profile(const cw_topology *t, const char *name, size_t len, size_t *index)
{
    if (t == NULL || name == NULL || index == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < t->profile_count; i++) {
        if (view_is(t, t->profiles[i].name, name, len)) {
            *index = i;
            return CW_OK;
        }
    }
    return CW_ERR_NOT_FOUND;
}

cw_err cw_topology_find_set(const cw_topology *t, const char *name, size_t len, size_t *index)
{
    if (t == NULL || name == NULL || index == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < t->set_count; i++) {
        if (view_is(t, t->sets[i].name, name, len)) {
            *index = i;
            return CW_OK;
        }
    }
    return CW_ERR_NOT_FOUND;
}

cw_err cw_topology_set_for_role(const cw_topology *t, const char *role, size_t len,
                                size_t *set_index)
{
    if (t == NULL || role == NULL || set_index == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < t->role_count; i++) {
        if (view_is(t, t->roles[i].name, role, len)) {
            *set_index = t->roles[i].set;
            return CW_OK;
        }
    }
    return CW_ERR_NOT_FOUND;
}

/* ---- derivation ---------------------------------------------------------------------------- */

static void copy_view(const cw_topology *t, cw_topo_view_t v, char *out, size_t cap)
{
    size_t n = v.len < cap - 1u ? v.len : cap - 1u; /* the decoder bounded v.len already */

    memcpy(out, cw_topo_chars(t, v), n);
    out[n] = '\0';
}

/* Appends one derived name unless it is already listed. */
static cw_err derived_add(cw_topology_derived *d, cw_topo_san_type type, const void *value,
                          size_t len)
{
    cw_topo_name_t *nm;

    for (size_t i = 0; i < d->san_count; i++) {
        const cw_topo_name_t *o = &d->san[i];
        if (o->type != (uint8_t)type || o->len != len) {
            continue;
        }
        if (type == CW_TOPO_SAN_IP ? memcmp(o->ip, value, len) == 0
                                   : same_nocase((const uint8_t *)d->text + o->off, len,
                                                 (const uint8_t *)value, len)) {
            return CW_OK;
        }
    }
    if (d->san_count == CW_TOPO_DERIVED_SANS_MAX) {
        return CW_ERR_TOPO_DERIVED_TOO_MANY;
    }
    nm = &d->san[d->san_count];
    memset(nm, 0, sizeof *nm);
    nm->type = (uint8_t)type;
    nm->len = (uint8_t)len;
    if (type == CW_TOPO_SAN_IP) {
        memcpy(nm->ip, value, len);
    } else {
        if (len + 1u > sizeof d->text - d->text_used) {
            return CW_ERR_TOPO_DERIVED_TOO_LARGE;
        }
        nm->off = (uint16_t)d->text_used;
        memcpy(d->text + d->text_used, value, len);
        d->text[d->text_used + len] = '\0';
        d->text_used += len + 1u;
    }
    d->san_count++;
    return CW_OK;
}

/* Expands one template (checked by the decoder) into the derived list: once per domain when it
 * uses {domain}, once otherwise. */
static cw_err derive_template(const cw_topology *t, const uint8_t *tmpl, size_t n,
                              cw_topology_derived *d)
{
    char name[CW_TOPO_DNS_NAME_MAX + 1u];
    size_t len;
    bool uses_domain;
    size_t rounds;
    cw_err e = template_scan(tmpl, n, &uses_domain);

    if (e != CW_OK) {
        return CW_ERR_INTERNAL;
    }
    rounds = uses_domain ? t->domain_count : 1u;
    for (size_t di = 0; di < rounds; di++) {
        if (!template_expand(t, tmpl, n, di, name, sizeof name - 1u, &len)) {
            return CW_ERR_INTERNAL;
        }
        if ((e = derived_add(d, CW_TOPO_SAN_DNS, name, len)) != CW_OK) {
            return e;
        }
    }
    return CW_OK;
}

cw_err cw_topology_policy(const cw_topology *t, size_t set_index, cw_topo_policy_t *out)
{
    const cw_topo_set_t *st;
    const cw_topo_profile_t *pr;

    if (t == NULL || out == NULL || set_index >= t->set_count) {
        return CW_ERR_INVALID_ARG;
    }
    st = &t->sets[set_index];
    pr = &t->profiles[st->profile];
    out->set = set_index;
    out->profile = st->profile;
    out->protocol = (cw_topo_protocol)pr->protocol;
    out->key_type = (cw_key_type)(st->key_type != CW_KEY_NONE   ? st->key_type
                                  : pr->key_type != CW_KEY_NONE ? pr->key_type
                                                                : CW_TOPO_DEFAULT_KEY_TYPE);
    out->eku = st->eku;
    out->renew_percent = pr->renew_percent != 0u ? pr->renew_percent : CW_TOPO_DEFAULT_RENEW_PERCENT;
    out->poll_seconds = pr->poll_seconds != 0u ? pr->poll_seconds : CW_TOPO_DEFAULT_POLL_SECONDS;
    return CW_OK;
}

cw_err cw_topology_derive(const cw_topology *t, size_t set_index, cw_topology_derived *d)
{
    const cw_topo_set_t *st;
    const uint8_t *cn_tmpl = (const uint8_t *)CW_TOPO_DEFAULT_CN;
    size_t cn_len = sizeof CW_TOPO_DEFAULT_CN - 1u;
    bool uses_domain;
    size_t len;
    cw_err e;

    if (t == NULL || d == NULL || set_index >= t->set_count) {
        return CW_ERR_INVALID_ARG;
    }
    memset(d, 0, sizeof *d);
    st = &t->sets[set_index];
    {
        cw_topo_policy_t p;
        (void)cw_topology_policy(t, set_index, &p);
        d->set = p.set;
        d->profile = p.profile;
        d->protocol = p.protocol;
        d->key_type = p.key_type;
        d->eku = p.eku;
        d->renew_percent = p.renew_percent;
        d->poll_seconds = p.poll_seconds;
    }

    copy_view(t, t->organization, d->organization, sizeof d->organization);
    copy_view(t, t->organizational_unit, d->organizational_unit, sizeof d->organizational_unit);
    copy_view(t, t->locality, d->locality, sizeof d->locality);
    copy_view(t, t->state, d->state, sizeof d->state);
    copy_view(t, t->country, d->country, sizeof d->country);

    /* The CN: expanded once, with the first domain when it uses {domain}. */
    if (st->cn.len > 0u) {
        cn_tmpl = cw_topo_bytes(t, st->cn);
        cn_len = st->cn.len;
    }
    if (template_scan(cn_tmpl, cn_len, &uses_domain) != CW_OK ||
        (uses_domain && t->domain_count == 0u) ||
        !template_expand(t, cn_tmpl, cn_len, 0, d->cn, CW_TOPO_CN_MAX, &len)) {
        return CW_ERR_INTERNAL;
    }
    d->cn[len] = '\0';
    if ((e = derived_add(d, CW_TOPO_SAN_DNS, d->cn, len)) != CW_OK) {
        return e;
    }

    for (size_t i = 0; i < st->san_count; i++) {
        const cw_topo_san_t *entry = &st->san[i];
        if (entry->type == CW_TOPO_SAN_IP) {
            e = derived_add(d, CW_TOPO_SAN_IP, cw_topo_bytes(t, entry->value), entry->value.len);
        } else {
            e = derive_template(t, cw_topo_bytes(t, entry->value), entry->value.len, d);
        }
        if (e != CW_OK) {
            return e;
        }
    }
    return CW_OK;
}

const char *cw_topology_san_dns(const cw_topology_derived *d, size_t i)
{
    if (d == NULL || i >= d->san_count || d->san[i].type != CW_TOPO_SAN_DNS) {
        return NULL;
    }
    return d->text + d->san[i].off;
}

/* ---- formatting ---------------------------------------------------------------------------- */

/* A bounded writer that keeps counting past the end, so callers learn the needed length. */
typedef struct writer {
    char *out;
    size_t cap;
    size_t len;
} writer;

static void put_char(writer *w, char c)
{
    if (w->len + 1u < w->cap) {
        w->out[w->len] = c;
    }
    w->len++;
}

static void put_str(writer *w, const char *s)
{
    while (*s != '\0') {
        put_char(w, *s++);
    }
}

static cw_err writer_end(writer *w, size_t *len)
{
    if (len != NULL) {
        *len = w->len;
    }
    if (w->len + 1u > w->cap) {
        if (w->cap > 0u) {
            w->out[0] = '\0';
        }
        return CW_ERR_BUFFER_SMALL;
    }
    w->out[w->len] = '\0';
    return CW_OK;
}

/* RFC 4514 section 2.4: escape the specials, and '#' or space at the start, space at the end. */
static void put_rdn(writer *w, const char *type, const char *value)
{
    size_t n = strlen(value);

    if (n == 0u) {
        return;
    }
    if (w->len > 0u) {
        put_char(w, ',');
    }
    put_str(w, type);
    put_char(w, '=');
    for (size_t i = 0; i < n; i++) {
        char c = value[i];
        if (c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' ||
            (i == 0u && (c == '#' || c == ' ')) || (i == n - 1u && c == ' ')) {
            put_char(w, '\\');
        }
        put_char(w, c);
    }
}

cw_err cw_topology_subject_format(const cw_topology_derived *d, char *out, size_t cap, size_t *len)
{
    writer w = {out, cap, 0};

    if (d == NULL || (out == NULL && cap > 0u)) {
        return CW_ERR_INVALID_ARG;
    }
    put_rdn(&w, "CN", d->cn);
    put_rdn(&w, "OU", d->organizational_unit);
    put_rdn(&w, "O", d->organization);
    put_rdn(&w, "L", d->locality);
    put_rdn(&w, "ST", d->state);
    put_rdn(&w, "C", d->country);
    return writer_end(&w, len);
}

static void put_uint(writer *w, unsigned v, unsigned base)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[8];
    size_t n = 0;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v > 0u);
    while (n > 0u) {
        put_char(w, tmp[--n]);
    }
}

/* RFC 5952 section 4: lower-case hex, no leading zeros, the longest run of two or more zero
 * groups (the first of equal runs) written as "::"; section 5: IPv4-mapped addresses as
 * "::ffff:a.b.c.d". */
cw_err cw_topology_format_ip(const uint8_t *ip, size_t ip_len, char *out, size_t cap, size_t *len)
{
    writer w = {out, cap, 0};

    if (ip == NULL || (out == NULL && cap > 0u) || (ip_len != 4u && ip_len != 16u)) {
        return CW_ERR_INVALID_ARG;
    }
    if (ip_len == 4u) {
        for (size_t i = 0; i < 4u; i++) {
            if (i > 0u) {
                put_char(&w, '.');
            }
            put_uint(&w, ip[i], 10);
        }
    } else if (memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        /* RFC 5952 section 5: an IPv4-mapped address in mixed notation */
        put_str(&w, "::ffff:");
        for (size_t i = 12; i < 16u; i++) {
            if (i > 12u) {
                put_char(&w, '.');
            }
            put_uint(&w, ip[i], 10);
        }
    } else {
        unsigned g[8];
        size_t best = 8;
        size_t best_len = 1;
        for (size_t i = 0; i < 8u; i++) {
            g[i] = ((unsigned)ip[2u * i] << 8) | ip[2u * i + 1u];
        }
        for (size_t i = 0; i < 8u;) {
            size_t run = 0;
            while (i + run < 8u && g[i + run] == 0u) {
                run++;
            }
            if (run > best_len) {
                best = i;
                best_len = run;
            }
            i += run > 0u ? run : 1u;
        }
        for (size_t i = 0; i < 8u; i++) {
            if (i == best) {
                put_str(&w, "::");
                i += best_len - 1u;
                continue;
            }
            if (i > 0u && i != best + best_len) {
                put_char(&w, ':');
            }
            put_uint(&w, g[i], 16);
        }
    }
    return writer_end(&w, len);
}

const char *cw_topology_key_type_name(cw_key_type k)
{
    switch (k) {
    case CW_KEY_RSA2048:
        return "rsa2048";
    case CW_KEY_RSA3072:
        return "rsa3072";
    case CW_KEY_RSA4096:
        return "rsa4096";
    case CW_KEY_EC_P256:
        return "ecP256";
    case CW_KEY_EC_P384:
        return "ecP384";
    case CW_KEY_NONE:
    default:
        return NULL;
    }
}

const char *cw_topology_protocol_name(cw_topo_protocol p)
{
    switch (p) {
    case CW_TOPO_OFFLINE:
        return "offline";
    case CW_TOPO_SCEP:
        return "scep";
    case CW_TOPO_ACME:
        return "acme";
    default:
        return NULL;
    }
}
