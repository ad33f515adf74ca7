/*
 * topology_json.c: the JSON form of the topology (docs/topology.md) to DER and back.
 *
 * JSON -> DER writes the fields in the order of docs/topology.asn1 whatever their order in the
 * JSON, and checks only what DER cannot carry (JSON types, field names, enumeration names,
 * address and hex syntax). Every rule about values (DNS names, limits, duplicates, references,
 * templates) is the device decoder's, run on the result by topology.c. To let the decoder see
 * the value, out-of-range numbers and odd lengths are encoded as given.
 *
 * DER -> JSON prints every field the blob holds, nothing else (no defaults), in the order of the
 * ASN.1 module, so that DER -> JSON -> DER gives the same bytes.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"

/* ---- buffer -------------------------------------------------------------------------------- */

void cwctl_buf_free(cwctl_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void buf_put(cwctl_buf_t *b, const void *p, size_t n)
{
    if (b->failed) {
        return;
    }
    if (n > b->cap - b->len) {
        size_t cap = b->cap > 0 ? b->cap : 256;
        uint8_t *d;
        while (cap - b->len < n) {
            cap *= 2;
        }
        d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
}

/* tag, DER length, content */
static void buf_tlv(cwctl_buf_t *b, uint8_t tag, const void *content, size_t n)
{
    uint8_t h[6];
    size_t hl = 0;

    h[hl++] = tag;
    if (n < 0x80) {
        h[hl++] = (uint8_t)n;
    } else if (n <= 0xFF) {
        h[hl++] = 0x81;
        h[hl++] = (uint8_t)n;
    } else if (n <= 0xFFFF) {
        h[hl++] = 0x82;
        h[hl++] = (uint8_t)(n >> 8);
        h[hl++] = (uint8_t)n;
    } else {
        h[hl++] = 0x83;
        h[hl++] = (uint8_t)(n >> 16);
        h[hl++] = (uint8_t)(n >> 8);
        h[hl++] = (uint8_t)n;
    }
    buf_put(b, h, hl);
    buf_put(b, content, n);
}

/* Wraps inner as the content of a tag in b, and frees inner. */
static void buf_wrap(cwctl_buf_t *b, uint8_t tag, cwctl_buf_t *inner)
{
    if (inner->failed) {
        b->failed = 1;
    }
    buf_tlv(b, tag, inner->data, inner->len);
    cwctl_buf_free(inner);
}

/* INTEGER/ENUMERATED content: minimal two's complement (X.690 8.3.2). */
static void buf_int(cwctl_buf_t *b, uint8_t tag, json_int_t v)
{
    uint8_t c[8];
    unsigned long long u = (unsigned long long)v; /* two's complement bits of v */
    size_t first = 0;

    for (size_t i = 0; i < 8; i++) {
        c[7 - i] = (uint8_t)(u >> (8 * i));
    }
    while (first < 7 && ((c[first] == 0x00 && c[first + 1] < 0x80) ||
                         (c[first] == 0xFF && c[first + 1] >= 0x80))) {
        first++;
    }
    buf_tlv(b, tag, c + first, 8 - first);
}

/* ---- conversion context -------------------------------------------------------------------- */

typedef struct conv {
    cwctl_topo_error_t *err;
    char path[CWCTL_TOPO_PATH_MAX];
    size_t plen;
    int failed;
} conv;

/* A key goes into the path as an error shows it: a long unknown one shortened (topology_pos.c
 * spells the keys it walks the same way, so the position is still found). */
static size_t conv_push_key(conv *c, const char *key)
{
    size_t old = c->plen;
    char shown[CWCTL_SHOWN_CAP];
    int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "%s%s",
                     c->plen > 0 ? "." : "", cwctl_topo_shown(key, strlen(key), 0, shown));
    if (n > 0) {
        c->plen += (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - c->plen - 1;
    }
    return old;
}

static size_t conv_push_index(conv *c, size_t i)
{
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
    if (n > 0) {
        c->plen += (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - c->plen - 1;
    }
    return old;
}

static void conv_pop(conv *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void conv_fail(conv *c, const char *fmt, ...)
{
    va_list ap;

    if (c->failed) {
        return;
    }
    c->failed = 1;
    snprintf(c->err->path, sizeof c->err->path, "%s", c->path);
    va_start(ap, fmt);
    vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
    va_end(ap);
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
    default:
        return "null";
    }
}

/* Object fields: name, required, and whether it was seen. */
typedef struct field {
    const char *name;
    int required;
} field;

/* Checks that obj is an object with only the listed fields and all the required ones. */
static int check_object(conv *c, const json_t *obj, const field *fields, size_t n)
{
    const char *key;
    json_t *v;

    if (!json_is_object(obj)) {
        conv_fail(c, "expected an object, found %s", json_type_name(obj));
        return -1;
    }
    json_object_foreach((json_t *)obj, key, v) {
        size_t i;
        for (i = 0; i < n && strcmp(fields[i].name, key) != 0; i++) {
        }
        if (i == n) {
            size_t old = conv_push_key(c, key);
            char shown[CWCTL_SHOWN_CAP];
            conv_fail(c, "unknown field \"%s\"", cwctl_topo_shown(key, strlen(key), 0, shown));
            conv_pop(c, old);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (fields[i].required && json_object_get(obj, fields[i].name) == NULL) {
            conv_fail(c, "missing field \"%s\"", fields[i].name);
            return -1;
        }
    }
    return 0;
}

/* The string at obj.key (NULL when absent); a non-string is an error (c->failed). */
static const char *get_string(conv *c, const json_t *obj, const char *key, size_t *len)
{
    const json_t *v = json_object_get(obj, key);
    size_t old;

    if (v == NULL) {
        return NULL;
    }
    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    old = conv_push_key(c, key);
    conv_fail(c, "expected a string, found %s", json_type_name(v));
    conv_pop(c, old);
    return NULL;
}

/* obj.key as a string field of the given tag, when present. */
static void put_string_field(conv *c, cwctl_buf_t *b, const json_t *obj, const char *key,
                             uint8_t tag)
{
    size_t len = 0;
    const char *s = get_string(c, obj, key, &len);

    if (s != NULL) {
        buf_tlv(b, tag, s, len);
    }
}

/* obj.key as an integer field, when present. */
static void put_int_field(conv *c, cwctl_buf_t *b, const json_t *obj, const char *key, uint8_t tag)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL) {
        return;
    }
    if (!json_is_integer(v)) {
        size_t old = conv_push_key(c, key);
        conv_fail(c, "expected an integer, found %s", json_type_name(v));
        conv_pop(c, old);
        return;
    }
    buf_int(b, tag, json_integer_value(v));
}

/* obj.key as an enumeration given by name (names[i] has value first + i), when present. */
static void put_enum_field(conv *c, cwctl_buf_t *b, const json_t *obj, const char *key,
                           uint8_t tag, const char *const *names, size_t n, int first)
{
    size_t len = 0;
    const char *s = get_string(c, obj, key, &len);
    size_t old;

    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            buf_int(b, tag, (json_int_t)i + first);
            return;
        }
    }
    old = conv_push_key(c, key);
    {
        char list[128] = "";
        char shown[CWCTL_SHOWN_CAP];
        for (size_t i = 0; i < n; i++) {
            const char *sep = i == 0 ? "" : (i + 1 == n ? " or " : ", ");
            strncat(list, sep, sizeof list - strlen(list) - 1);
            strncat(list, names[i], sizeof list - strlen(list) - 1);
        }
        conv_fail(c, "unknown value \"%s\" (expected %s)", cwctl_topo_shown(s, len, 1, shown),
                  list);
    }
    conv_pop(c, old);
}

/* The array at obj.key (NULL when absent or not an array: the latter sets c->failed). */
static const json_t *get_array(conv *c, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (v != NULL && !json_is_array(v)) {
        size_t old = conv_push_key(c, key);
        conv_fail(c, "expected an array, found %s", json_type_name(v));
        conv_pop(c, old);
        return NULL;
    }
    return v;
}

/* An array of strings as SEQUENCE OF with element tag elem_tag, wrapped in tag. */
static void put_string_list(conv *c, cwctl_buf_t *b, const json_t *arr, uint8_t tag,
                            uint8_t elem_tag)
{
    cwctl_buf_t inner = {0};
    size_t i;
    const json_t *v;

    json_array_foreach(arr, i, v) {
        size_t old = conv_push_index(c, i);
        if (!json_is_string(v)) {
            conv_fail(c, "expected a string, found %s", json_type_name(v));
        } else {
            buf_tlv(&inner, elem_tag, json_string_value(v), json_string_length(v));
        }
        conv_pop(c, old);
    }
    buf_wrap(b, tag, &inner);
}

/* An IPv4 or IPv6 address in text as 4 or 16 bytes; 0 when it is neither. */
static size_t parse_ip(const char *s, uint8_t out[16])
{
    if (strchr(s, ':') == NULL) {
        return inet_pton(AF_INET, s, out) == 1 ? 4u : 0u;
    }
    return inet_pton(AF_INET6, s, out) == 1 ? 16u : 0u;
}

static void put_ip(conv *c, cwctl_buf_t *b, const json_t *v, uint8_t tag)
{
    uint8_t ip[16];
    size_t n;
    char shown[CWCTL_SHOWN_CAP];

    if (!json_is_string(v)) {
        conv_fail(c, "expected an IP address string, found %s", json_type_name(v));
        return;
    }
    n = parse_ip(json_string_value(v), ip);
    if (n == 0) {
        conv_fail(c, "\"%s\" is not an IPv4 or IPv6 address",
                  cwctl_topo_shown(json_string_value(v), json_string_length(v), 1, shown));
        return;
    }
    buf_tlv(b, tag, ip, n);
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Hex bytes, "AB:CD:..." or "abcd...": pairs of digits, optionally separated by single colons. */
static void put_hex_field(conv *c, cwctl_buf_t *b, const json_t *obj, const char *key, uint8_t tag)
{
    size_t len = 0;
    const char *s = get_string(c, obj, key, &len);
    uint8_t bytes[256];
    size_t n = 0;
    size_t i = 0;
    size_t old;

    if (s == NULL) {
        return;
    }
    old = conv_push_key(c, key);
    while (i < len) {
        int hi = hex_digit(s[i]);
        int lo = i + 1 < len ? hex_digit(s[i + 1]) : -1;
        if (hi < 0 || lo < 0) {
            char shown[CWCTL_SHOWN_CAP];
            conv_fail(c, "\"%s\" is not hex bytes (\"AB:CD:...\" or \"abcd...\")",
                      cwctl_topo_shown(s, len, 1, shown));
            break;
        }
        if (n == sizeof bytes) {
            conv_fail(c, "more than %zu bytes of hex", sizeof bytes);
            break;
        }
        bytes[n++] = (uint8_t)(hi * 16 + lo);
        i += 2;
        if (i < len && s[i] == ':' && i + 1 < len) {
            i++;
        }
    }
    if (!c->failed) {
        buf_tlv(b, tag, bytes, n);
    }
    conv_pop(c, old);
}

/* ---- the structures (docs/topology.asn1) --------------------------------------------------- */

static const char *const key_type_names[] = {"rsa2048", "rsa3072", "rsa4096", "ecP256", "ecP384"};
static const char *const protocol_names[] = {"offline", "scep", "acme"};
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static void put_appliance(conv *c, cwctl_buf_t *b, const json_t *obj)
{
    static const field fields[] = {{"host", 1}, {"site", 1}, {"addresses", 0}};
    cwctl_buf_t s = {0};
    const json_t *addrs;

    if (check_object(c, obj, fields, COUNT_OF(fields)) != 0) {
        return;
    }
    put_string_field(c, &s, obj, "host", 0x16);
    put_string_field(c, &s, obj, "site", 0x0C);
    if ((addrs = get_array(c, obj, "addresses")) != NULL) {
        cwctl_buf_t list = {0};
        size_t i;
        const json_t *v;
        size_t old = conv_push_key(c, "addresses");
        json_array_foreach(addrs, i, v) {
            size_t o2 = conv_push_index(c, i);
            put_ip(c, &list, v, 0x04);
            conv_pop(c, o2);
        }
        conv_pop(c, old);
        buf_wrap(&s, 0xA0, &list);
    }
    buf_wrap(b, 0x30, &s);
}

static void put_subject(conv *c, cwctl_buf_t *b, const json_t *obj)
{
    static const field fields[] = {{"organization", 0}, {"organizationalUnit", 0},
                                   {"locality", 0},     {"state", 0},
                                   {"country", 0}};
    cwctl_buf_t s = {0};

    if (check_object(c, obj, fields, COUNT_OF(fields)) != 0) {
        return;
    }
    for (size_t i = 0; i < COUNT_OF(fields); i++) {
        put_string_field(c, &s, obj, fields[i].name, (uint8_t)(0x80 + i));
    }
    buf_wrap(b, 0x30, &s);
}

static void put_profile(conv *c, cwctl_buf_t *b, const json_t *obj)
{
    static const field fields[] = {{"name", 1},    {"protocol", 1},     {"url", 0},
                                   {"caFingerprint", 0}, {"keyType", 0}, {"renewPercent", 0},
                                   {"pollSeconds", 0}};
    cwctl_buf_t s = {0};

    if (check_object(c, obj, fields, COUNT_OF(fields)) != 0) {
        return;
    }
    put_string_field(c, &s, obj, "name", 0x0C);
    put_enum_field(c, &s, obj, "protocol", 0x0A, protocol_names, COUNT_OF(protocol_names), 0);
    put_string_field(c, &s, obj, "url", 0x80);
    put_hex_field(c, &s, obj, "caFingerprint", 0x81);
    put_enum_field(c, &s, obj, "keyType", 0x82, key_type_names, COUNT_OF(key_type_names), 1);
    put_int_field(c, &s, obj, "renewPercent", 0x83);
    put_int_field(c, &s, obj, "pollSeconds", 0x84);
    buf_wrap(b, 0x30, &s);
}

/* eku: ["serverAuth", "clientAuth"] in any order, each at most once, as a named-bit BIT STRING
 * (bit 0 serverAuth, bit 1 clientAuth; trailing zero bits removed as DER requires). */
static void put_eku(conv *c, cwctl_buf_t *b, const json_t *arr)
{
    unsigned bits = 0;
    size_t i;
    const json_t *v;
    uint8_t content[2];

    json_array_foreach(arr, i, v) {
        size_t old = conv_push_index(c, i);
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        unsigned bit = 0;
        if (s != NULL && strcmp(s, "serverAuth") == 0) {
            bit = 1;
        } else if (s != NULL && strcmp(s, "clientAuth") == 0) {
            bit = 2;
        }
        if (bit == 0) {
            conv_fail(c, "expected \"serverAuth\" or \"clientAuth\"");
        } else if (bits & bit) {
            conv_fail(c, "\"%s\" is listed twice", s);
        }
        bits |= bit;
        conv_pop(c, old);
    }
    if (bits == 0) {
        buf_tlv(b, 0x03, "\0", 1); /* an empty BIT STRING: the decoder reports TOPO_EKU */
        return;
    }
    content[0] = (bits & 2u) ? 6 : 7;       /* unused bits in the last byte */
    content[1] = (uint8_t)(((bits & 1u) ? 0x80u : 0u) | ((bits & 2u) ? 0x40u : 0u));
    buf_tlv(b, 0x03, content, 2);
}

/* san: [{"dns": template} | {"ip": address}, ...]: each entry an object of exactly one field. */
static void put_san(conv *c, cwctl_buf_t *b, const json_t *arr)
{
    cwctl_buf_t list = {0};
    size_t i;
    const json_t *v;

    json_array_foreach(arr, i, v) {
        size_t old = conv_push_index(c, i);
        const char *key = NULL;
        const json_t *value = NULL;
        if (json_is_object(v) && json_object_size(v) == 1) {
            key = json_object_iter_key(json_object_iter((json_t *)v));
            value = json_object_get(v, key);
        }
        if (key == NULL) {
            conv_fail(c, "expected {\"dns\": template} or {\"ip\": address}, found %s",
                      !json_is_object(v)           ? json_type_name(v)
                      : json_object_size(v) == 0u ? "an empty object"
                                                   : "an object of several fields");
        } else {
            size_t o2 = conv_push_key(c, key);
            if (strcmp(key, "dns") == 0) {
                if (json_is_string(value)) {
                    buf_tlv(&list, 0x80, json_string_value(value), json_string_length(value));
                } else {
                    conv_fail(c, "expected a string, found %s", json_type_name(value));
                }
            } else if (strcmp(key, "ip") == 0) {
                put_ip(c, &list, value, 0x81);
            } else {
                char shown[CWCTL_SHOWN_CAP];
                conv_fail(c, "unknown field \"%s\" (a SAN entry is \"dns\" or \"ip\")",
                          cwctl_topo_shown(key, strlen(key), 0, shown));
            }
            conv_pop(c, o2);
        }
        conv_pop(c, old);
    }
    buf_wrap(b, 0xA2, &list);
}

static void put_set(conv *c, cwctl_buf_t *b, const json_t *obj)
{
    static const field fields[] = {{"name", 1}, {"roles", 1}, {"caProfile", 1}, {"eku", 1},
                                   {"keyType", 0}, {"cn", 0}, {"san", 0}, {"tokenUri", 0}};
    cwctl_buf_t s = {0};
    const json_t *arr;
    size_t old;

    if (check_object(c, obj, fields, COUNT_OF(fields)) != 0) {
        return;
    }
    put_string_field(c, &s, obj, "name", 0x0C);
    if ((arr = get_array(c, obj, "roles")) != NULL) {
        old = conv_push_key(c, "roles");
        put_string_list(c, &s, arr, 0x30, 0x0C);
        conv_pop(c, old);
    }
    put_string_field(c, &s, obj, "caProfile", 0x0C);
    if ((arr = get_array(c, obj, "eku")) != NULL) {
        old = conv_push_key(c, "eku");
        put_eku(c, &s, arr);
        conv_pop(c, old);
    }
    put_enum_field(c, &s, obj, "keyType", 0x80, key_type_names, COUNT_OF(key_type_names), 1);
    put_string_field(c, &s, obj, "cn", 0x81);
    if ((arr = get_array(c, obj, "san")) != NULL) {
        old = conv_push_key(c, "san");
        put_san(c, &s, arr);
        conv_pop(c, old);
    }
    put_string_field(c, &s, obj, "tokenUri", 0x83);
    buf_wrap(b, 0x30, &s);
}

/* A list of objects, each through put. */
static void put_object_list(conv *c, cwctl_buf_t *b, const json_t *root, const char *key,
                            void (*put)(conv *, cwctl_buf_t *, const json_t *))
{
    const json_t *arr = get_array(c, root, key);
    cwctl_buf_t list = {0};
    size_t old = conv_push_key(c, key);
    size_t i;
    const json_t *v;

    json_array_foreach(arr, i, v) {
        size_t o2 = conv_push_index(c, i);
        put(c, &list, v);
        conv_pop(c, o2);
    }
    conv_pop(c, old);
    buf_wrap(b, 0x30, &list);
}

int cwctl_topo_from_json(const json_t *root, cwctl_buf_t *out, cwctl_topo_error_t *err)
{
    static const field fields[] = {{"version", 1},    {"appliance", 1}, {"subject", 1},
                                   {"domains", 0},    {"caProfiles", 1}, {"sets", 1}};
    conv c;
    cwctl_buf_t s = {0};
    const json_t *arr;
    size_t old;

    memset(&c, 0, sizeof c);
    memset(err, 0, sizeof *err);
    c.err = err;
    if (check_object(&c, root, fields, COUNT_OF(fields)) != 0) {
        return -1;
    }
    put_int_field(&c, &s, root, "version", 0x02);
    old = conv_push_key(&c, "appliance");
    put_appliance(&c, &s, json_object_get(root, "appliance"));
    conv_pop(&c, old);
    old = conv_push_key(&c, "subject");
    put_subject(&c, &s, json_object_get(root, "subject"));
    conv_pop(&c, old);
    if ((arr = get_array(&c, root, "domains")) != NULL) {
        old = conv_push_key(&c, "domains");
        put_string_list(&c, &s, arr, 0xA0, 0x16);
        conv_pop(&c, old);
    }
    put_object_list(&c, &s, root, "caProfiles", put_profile);
    put_object_list(&c, &s, root, "sets", put_set);
    buf_wrap(out, 0x30, &s);
    if (!c.failed && out->failed) {
        conv_fail(&c, "out of memory");
    }
    return c.failed ? -1 : 0;
}

/* ---- decoded blob -> JSON ------------------------------------------------------------------ */

static json_t *view_string(const cw_topology *t, cw_topo_view_t v)
{
    return json_stringn(cw_topo_chars(t, v), v.len);
}

static json_t *ip_string(const uint8_t *ip, size_t len)
{
    char text[48];
    size_t n;

    if (cw_topology_format_ip(ip, len, text, sizeof text, &n) != CW_OK) {
        return NULL;
    }
    return json_stringn(text, n);
}

/* json_object_set_new that remembers a failure (a NULL value or no memory). */
static void set_new(json_t *obj, const char *key, json_t *v, int *failed)
{
    if (v == NULL || obj == NULL || json_object_set_new(obj, key, v) != 0) {
        *failed = 1;
    }
}

static void append_new(json_t *arr, json_t *v, int *failed)
{
    if (v == NULL || arr == NULL || json_array_append_new(arr, v) != 0) {
        *failed = 1;
    }
}

static json_t *eku_json(unsigned eku, int *failed)
{
    json_t *arr = json_array();

    if (eku & CW_TOPO_EKU_SERVER_AUTH) {
        append_new(arr, json_string("serverAuth"), failed);
    }
    if (eku & CW_TOPO_EKU_CLIENT_AUTH) {
        append_new(arr, json_string("clientAuth"), failed);
    }
    return arr;
}

static json_t *profile_json(const cw_topology *t, const cw_topo_profile_t *p, int *failed)
{
    json_t *o = json_object();

    set_new(o, "name", view_string(t, p->name), failed);
    set_new(o, "protocol", json_string(cw_topology_protocol_name((cw_topo_protocol)p->protocol)),
            failed);
    if (p->url.len > 0) {
        set_new(o, "url", view_string(t, p->url), failed);
    }
    if (p->fingerprint.len > 0) {
        char hex[3 * CW_TOPO_FINGERPRINT_LEN + 1];
        const uint8_t *f = cw_topo_bytes(t, p->fingerprint);
        for (size_t i = 0; i < p->fingerprint.len; i++) {
            snprintf(hex + 3 * i, 4, "%02X%s", f[i], i + 1 < p->fingerprint.len ? ":" : "");
        }
        set_new(o, "caFingerprint", json_string(hex), failed);
    }
    if (p->key_type != CW_KEY_NONE) {
        set_new(o, "keyType", json_string(cw_topology_key_type_name((cw_key_type)p->key_type)),
                failed);
    }
    if (p->renew_percent != 0) {
        set_new(o, "renewPercent", json_integer(p->renew_percent), failed);
    }
    if (p->poll_seconds != 0) {
        set_new(o, "pollSeconds", json_integer(p->poll_seconds), failed);
    }
    return o;
}

static json_t *set_json(const cw_topology *t, const cw_topo_set_t *st, int *failed)
{
    json_t *o = json_object();
    json_t *roles = json_array();

    set_new(o, "name", view_string(t, st->name), failed);
    for (size_t r = 0; r < st->role_count; r++) {
        append_new(roles, view_string(t, t->roles[st->first_role + r].name), failed);
    }
    set_new(o, "roles", roles, failed);
    set_new(o, "caProfile", view_string(t, t->profiles[st->profile].name), failed);
    set_new(o, "eku", eku_json(st->eku, failed), failed);
    if (st->key_type != CW_KEY_NONE) {
        set_new(o, "keyType", json_string(cw_topology_key_type_name((cw_key_type)st->key_type)),
                failed);
    }
    if (st->cn.len > 0) {
        set_new(o, "cn", view_string(t, st->cn), failed);
    }
    if (st->san_count > 0) {
        json_t *san = json_array();
        for (size_t i = 0; i < st->san_count; i++) {
            const cw_topo_san_t *e = &st->san[i];
            json_t *entry = json_object();
            if (e->type == CW_TOPO_SAN_IP) {
                set_new(entry, "ip", ip_string(cw_topo_bytes(t, e->value), e->value.len), failed);
            } else {
                set_new(entry, "dns", view_string(t, e->value), failed);
            }
            append_new(san, entry, failed);
        }
        set_new(o, "san", san, failed);
    }
    if (st->token_uri.len > 0) {
        set_new(o, "tokenUri", view_string(t, st->token_uri), failed);
    }
    return o;
}

json_t *cwctl_topo_to_json(const cw_topology *t)
{
    int failed = 0;
    json_t *root = json_object();
    json_t *app = json_object();
    json_t *subj = json_object();
    json_t *arr;
    const struct {
        const char *key;
        cw_topo_view_t v;
    } subject[] = {{"organization", t->organization},
                   {"organizationalUnit", t->organizational_unit},
                   {"locality", t->locality},
                   {"state", t->state},
                   {"country", t->country}};

    set_new(root, "version", json_integer(CW_TOPO_VERSION), &failed);
    set_new(app, "host", view_string(t, t->host), &failed);
    set_new(app, "site", view_string(t, t->site), &failed);
    if (t->address_count > 0) {
        arr = json_array();
        for (size_t i = 0; i < t->address_count; i++) {
            append_new(arr, ip_string(cw_topo_bytes(t, t->address[i]), t->address[i].len),
                       &failed);
        }
        set_new(app, "addresses", arr, &failed);
    }
    set_new(root, "appliance", app, &failed);
    for (size_t i = 0; i < COUNT_OF(subject); i++) {
        if (subject[i].v.len > 0) {
            set_new(subj, subject[i].key, view_string(t, subject[i].v), &failed);
        }
    }
    set_new(root, "subject", subj, &failed);
    if (t->domain_count > 0) {
        arr = json_array();
        for (size_t i = 0; i < t->domain_count; i++) {
            append_new(arr, view_string(t, t->domain[i]), &failed);
        }
        set_new(root, "domains", arr, &failed);
    }
    arr = json_array();
    for (size_t i = 0; i < t->profile_count; i++) {
        append_new(arr, profile_json(t, &t->profiles[i], &failed), &failed);
    }
    set_new(root, "caProfiles", arr, &failed);
    arr = json_array();
    for (size_t i = 0; i < t->set_count; i++) {
        append_new(arr, set_json(t, &t->sets[i], &failed), &failed);
    }
    set_new(root, "sets", arr, &failed);
    if (failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

json_t *cwctl_topo_derived_json(const cw_topology *t, cw_err *err)
{
    static cw_topology_derived d; /* 3 KiB: kept off the stack, as on the device */
    int failed = 0;
    json_t *root = json_object();
    json_t *sets = json_array();

    *err = CW_OK;
    for (size_t i = 0; i < t->set_count && *err == CW_OK; i++) {
        const cw_topo_set_t *st = &t->sets[i];
        json_t *o = json_object();
        json_t *roles = json_array();
        json_t *san = json_array();
        char subject[512];
        size_t n;

        if ((*err = cw_topology_derive(t, i, &d)) != CW_OK) {
            json_decref(o);
            json_decref(roles);
            json_decref(san);
            break;
        }
        set_new(o, "name", view_string(t, st->name), &failed);
        for (size_t r = 0; r < st->role_count; r++) {
            append_new(roles, view_string(t, t->roles[st->first_role + r].name), &failed);
        }
        set_new(o, "roles", roles, &failed);
        set_new(o, "caProfile", view_string(t, t->profiles[d.profile].name), &failed);
        set_new(o, "protocol", json_string(cw_topology_protocol_name(d.protocol)), &failed);
        set_new(o, "keyType", json_string(cw_topology_key_type_name(d.key_type)), &failed);
        set_new(o, "eku", eku_json(d.eku, &failed), &failed);
        set_new(o, "renewPercent", json_integer(d.renew_percent), &failed);
        set_new(o, "pollSeconds", json_integer(d.poll_seconds), &failed);
        if (cw_topology_subject_format(&d, subject, sizeof subject, &n) != CW_OK) {
            failed = 1;
        }
        set_new(o, "subject", json_stringn(subject, n), &failed);
        for (size_t k = 0; k < d.san_count; k++) {
            char text[CW_TOPO_DNS_NAME_MAX + 8];
            if (d.san[k].type == CW_TOPO_SAN_DNS) {
                snprintf(text, sizeof text, "DNS:%s", cw_topology_san_dns(&d, k));
            } else {
                memcpy(text, "IP:", 3);
                if (cw_topology_format_ip(d.san[k].ip, d.san[k].len, text + 3, sizeof text - 3,
                                          &n) != CW_OK) {
                    failed = 1;
                }
            }
            append_new(san, json_string(text), &failed);
        }
        set_new(o, "san", san, &failed);
        if (st->token_uri.len > 0) {
            set_new(o, "tokenUri", view_string(t, st->token_uri), &failed);
        }
        append_new(sets, o, &failed);
    }
    set_new(root, "sets", sets, &failed);
    if (failed || *err != CW_OK) {
        json_decref(root);
        return NULL;
    }
    return root;
}
