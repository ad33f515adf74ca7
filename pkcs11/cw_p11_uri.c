/*
 * cw_p11_uri.c: RFC 7512 URI subset (see cw_p11_uri.h for what is accepted and why).
 *
 * RFC 7512 section 2.3 (the parts implemented):
 *
 *   pk11-URI            = "pkcs11:" pk11-path [ "?" pk11-query ]      ; query: rejected here
 *   pk11-path           = [ pk11-pattr *(";" pk11-pattr) ]
 *   pk11-pattr          = pk11-token / pk11-manuf / pk11-serial / pk11-model / pk11-object /
 *                         pk11-type / pk11-id / pk11-v-pattr / ... (others: rejected here)
 *   pk11-pchar          = pk11-unreserved / pk11-path-res-avail / pk11-pct-encoded
 *   pk11-unreserved     = ALPHA / DIGIT / "-" / "." / "_" / "~"
 *   pk11-res-avail      = ":" / "[" / "]" / "@" / "!" / "$" / "'" / "(" / ")" / "*" / "+" /
 *                         "," / "="
 *   pk11-path-res-avail = pk11-res-avail / "&"
 *   pk11-pct-encoded    = "%" HEXDIG HEXDIG
 *   pk11-type           = "type" "=" ( "public" / "private" / "cert" / "secret-key" / "data" )
 *   pk11-v-pattr-nm     = "x-" 1*( ALPHA / DIGIT / "-" / "_" )
 */
#include "cw_p11_uri.h"

#include <string.h>

static const char scheme[] = "pkcs11:";
#define SCHEME_LEN (sizeof scheme - 1u)

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool is_pchar(char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("-._~:[]@!$'()*+,=&", c) != NULL);
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Percent-decodes v[0..vlen) into out (cap bytes; out may be NULL to only validate). *n gets
 * the decoded length. CW_ERR_URI for a character outside pk11-pchar or a broken "%XX";
 * CW_ERR_TOO_LARGE when the decoded value exceeds cap (the whole value is still validated
 * first, so a bad encoding is reported as such, whatever its length).
 */
static cw_err decode_value(const char *v, size_t vlen, uint8_t *out, size_t cap, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < vlen; i++) {
        uint8_t b;
        if (v[i] == '%') {
            if (vlen - i < 3u) {
                return CW_ERR_URI;
            }
            int hi = hex_value(v[i + 1u]);
            int lo = hex_value(v[i + 2u]);
            if (hi < 0 || lo < 0) {
                return CW_ERR_URI;
            }
            b = (uint8_t)((hi << 4) | lo);
            i += 2u;
        } else if (is_pchar(v[i])) {
            b = (uint8_t)v[i];
        } else {
            return CW_ERR_URI;
        }
        if (out != NULL && k < cap) {
            out[k] = b;
        }
        k++;
    }
    *n = k;
    return (out != NULL && k > cap) ? CW_ERR_TOO_LARGE : CW_OK;
}

static bool name_is(const char *name, size_t nlen, const char *want)
{
    return strlen(want) == nlen && memcmp(name, want, nlen) == 0;
}

static bool is_vendor_name(const char *name, size_t nlen)
{
    if (nlen < 3u || name[0] != 'x' || name[1] != '-') {
        return false;
    }
    for (size_t i = 2; i < nlen; i++) {
        if (!is_alpha(name[i]) && !is_digit(name[i]) && name[i] != '-' && name[i] != '_') {
            return false;
        }
    }
    return true;
}

/* Where a text attribute goes. */
typedef struct text_field {
    const char *name;
    unsigned bit;
    size_t offset;     /* of the char array in cw_p11_uri_t */
    size_t len_offset; /* of its size_t length */
    size_t cap;
} text_field;

static const text_field text_fields[] = {
    {"token", CW_P11_URI_HAS_TOKEN, offsetof(cw_p11_uri_t, token), offsetof(cw_p11_uri_t, token_len),
     CW_P11_URI_TOKEN_MAX},
    {"manufacturer", CW_P11_URI_HAS_MANUFACTURER, offsetof(cw_p11_uri_t, manufacturer),
     offsetof(cw_p11_uri_t, manufacturer_len), CW_P11_URI_MANUFACTURER_MAX},
    {"serial", CW_P11_URI_HAS_SERIAL, offsetof(cw_p11_uri_t, serial), offsetof(cw_p11_uri_t, serial_len),
     CW_P11_URI_SERIAL_MAX},
    {"model", CW_P11_URI_HAS_MODEL, offsetof(cw_p11_uri_t, model), offsetof(cw_p11_uri_t, model_len),
     CW_P11_URI_MODEL_MAX},
    {"object", CW_P11_URI_HAS_OBJECT, offsetof(cw_p11_uri_t, object), offsetof(cw_p11_uri_t, object_len),
     CW_P11_URI_OBJECT_MAX},
    {"id", CW_P11_URI_HAS_ID, offsetof(cw_p11_uri_t, id), offsetof(cw_p11_uri_t, id_len),
     CW_P11_URI_ID_MAX},
};

typedef struct type_name {
    const char *name;
    CK_OBJECT_CLASS cls;
} type_name;

static const type_name type_names[] = {
    {"public", CKO_PUBLIC_KEY}, {"private", CKO_PRIVATE_KEY}, {"cert", CKO_CERTIFICATE},
    {"secret-key", CKO_SECRET_KEY}, {"data", CKO_DATA},
};

static cw_err parse_type(const char *v, size_t vlen, cw_p11_uri_t *out)
{
    uint8_t buf[16];
    size_t n = 0;
    cw_err e = decode_value(v, vlen, buf, sizeof buf, &n);
    if (e == CW_ERR_TOO_LARGE) {
        return CW_ERR_URI; /* longer than any type name: not a type */
    }
    if (e != CW_OK) {
        return e;
    }
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strlen(type_names[i].name) == n && memcmp(type_names[i].name, buf, n) == 0) {
            out->type = type_names[i].cls;
            return CW_OK;
        }
    }
    return CW_ERR_URI;
}

static cw_err parse_attr(const char *a, size_t alen, cw_p11_uri_t *out)
{
    const char *eq = memchr(a, '=', alen);
    if (eq == NULL) {
        return CW_ERR_URI;
    }
    size_t nlen = (size_t)(eq - a);
    const char *v = eq + 1;
    size_t vlen = alen - nlen - 1u;

    if (is_vendor_name(a, nlen)) {
        size_t n;
        return decode_value(v, vlen, NULL, 0, &n);
    }
    if (name_is(a, nlen, "type")) {
        if (out->present & CW_P11_URI_HAS_TYPE) {
            return CW_ERR_URI;
        }
        cw_err e = parse_type(v, vlen, out);
        if (e == CW_OK) {
            out->present |= CW_P11_URI_HAS_TYPE;
        }
        return e;
    }
    for (size_t i = 0; i < sizeof text_fields / sizeof text_fields[0]; i++) {
        const text_field *f = &text_fields[i];
        if (!name_is(a, nlen, f->name)) {
            continue;
        }
        if (out->present & f->bit) {
            return CW_ERR_URI;
        }
        uint8_t *dst = (uint8_t *)out + f->offset;
        size_t *dlen = (size_t *)(void *)((uint8_t *)out + f->len_offset);
        cw_err e = decode_value(v, vlen, dst, f->cap, dlen);
        if (e != CW_OK) {
            return e;
        }
        out->present |= f->bit;
        return CW_OK;
    }
    return CW_ERR_URI; /* an attribute this subset does not know */
}

cw_err cw_p11_uri_parse(const char *s, size_t len, cw_p11_uri_t *out)
{
    if (out == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    if (s == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (len < SCHEME_LEN) {
        return CW_ERR_URI;
    }
    for (size_t i = 0; i < SCHEME_LEN; i++) {
        if (lower(s[i]) != scheme[i]) {
            return CW_ERR_URI;
        }
    }
    const char *p = s + SCHEME_LEN;
    const char *end = s + len;
    if (memchr(p, '?', (size_t)(end - p)) != NULL) {
        return CW_ERR_URI; /* query part: deliberately not supported (see header) */
    }
    cw_err e = CW_OK;
    while (p < end && e == CW_OK) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi != NULL ? semi : end;
        if (stop == p) {
            e = CW_ERR_URI; /* empty attribute */
            break;
        }
        e = parse_attr(p, (size_t)(stop - p), out);
        if (semi != NULL && semi + 1 == end) {
            e = (e == CW_OK) ? CW_ERR_URI : e; /* trailing ";" */
        }
        p = stop + (semi != NULL ? 1 : 0);
    }
    if (e != CW_OK) {
        memset(out, 0, sizeof *out);
    }
    return e;
}

/* RFC 7512 section 2.3: a value matches a CK_TOKEN_INFO field padded with spaces. PKCS#11 says
 * blank-padded and not NUL-terminated; some tokens pad with NULs (or end the text with one), so
 * the rest of the field may be spaces and NULs. */
static bool field_matches(const char *v, size_t vlen, const CK_UTF8CHAR *field, size_t width)
{
    if (vlen > width || memcmp(v, field, vlen) != 0) {
        return false;
    }
    for (size_t i = vlen; i < width; i++) {
        if (field[i] != ' ' && field[i] != '\0') {
            return false;
        }
    }
    return true;
}

bool cw_p11_uri_match_token(const cw_p11_uri_t *uri, const CK_TOKEN_INFO *info)
{
    if (uri == NULL || info == NULL) {
        return false;
    }
    if ((uri->present & CW_P11_URI_HAS_TOKEN) &&
        !field_matches(uri->token, uri->token_len, info->label, sizeof info->label)) {
        return false;
    }
    if ((uri->present & CW_P11_URI_HAS_MANUFACTURER) &&
        !field_matches(uri->manufacturer, uri->manufacturer_len, info->manufacturerID,
                       sizeof info->manufacturerID)) {
        return false;
    }
    if ((uri->present & CW_P11_URI_HAS_SERIAL) &&
        !field_matches(uri->serial, uri->serial_len, info->serialNumber, sizeof info->serialNumber)) {
        return false;
    }
    if ((uri->present & CW_P11_URI_HAS_MODEL) &&
        !field_matches(uri->model, uri->model_len, info->model, sizeof info->model)) {
        return false;
    }
    return true;
}
