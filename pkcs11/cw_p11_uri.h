/*
 * cw_p11_uri.h: the subset of RFC 7512 PKCS#11 URIs certwiz understands on the device.
 *
 * Accepted form (RFC 7512 section 2.3, path part only):
 *
 *   pkcs11:[attr=value *(";" attr=value)]
 *
 * - The scheme "pkcs11:" is matched without regard to case (RFC 3986 section 3.1).
 * - Path attributes: token, manufacturer, serial, model, object, id, type. Vendor attributes
 *   ("x-" followed by letters, digits, "-" or "_") are accepted and ignored; their values are
 *   still checked for valid characters and percent-encoding.
 * - Any other path attribute (slot-id, library-description, ..., or a name in other case) is
 *   CW_ERR_URI: a URI that says more than certwiz can check must not match more than it says.
 * - An attribute given twice is CW_ERR_URI (RFC 7512: "MUST NOT appear more than once").
 * - An empty attribute (";;", a trailing ";") or one without "=" is CW_ERR_URI.
 * - Values are percent-decoded; characters outside pk11-pchar (unreserved, ":[]@!$'()*+,=&",
 *   or "%" HEXDIG HEXDIG) are CW_ERR_URI. That rejects spaces, "/", "#", "?" inside values.
 * - type is one of public, private, cert, secret-key, data (exact, after decoding).
 * - The query part ("?pin-value=...", "?module-path=...", even an empty "?") is REJECTED with
 *   CW_ERR_URI: certwiz never takes a PIN or a module from a URI (the board picks the module
 *   and the operator types the PIN).
 * - A decoded value longer than its limit below is CW_ERR_TOO_LARGE. The token fields' limits
 *   are the CK_TOKEN_INFO field widths, so a longer value could never match anyway.
 *
 * p11-kit's parser is more lenient (it ignores unknown attributes, lets a repeated attribute
 * override, strips spaces, accepts queries); tests/unit/test_p11_uri.c lists every difference.
 */
#ifndef CW_P11_URI_H
#define CW_P11_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw_p11_cryptoki.h"

/* Limits of the decoded values, in bytes. */
#define CW_P11_URI_TOKEN_MAX 32u        /* CK_TOKEN_INFO.label width */
#define CW_P11_URI_MANUFACTURER_MAX 32u /* CK_TOKEN_INFO.manufacturerID width */
#define CW_P11_URI_SERIAL_MAX 16u       /* CK_TOKEN_INFO.serialNumber width */
#define CW_P11_URI_MODEL_MAX 16u        /* CK_TOKEN_INFO.model width */
/* Object labels: certwiz names its objects with short set/record names; 64 leaves room for
 * labels other tools give (p11tool, pkcs11-tool) without holding a large buffer. */
#define CW_P11_URI_OBJECT_MAX 64u
/* Object IDs: certwiz uses SHA-1 (20 bytes); 64 also holds SHA-256/512-style IDs of others. */
#define CW_P11_URI_ID_MAX 64u

/* Bits of cw_p11_uri_t.present: which attributes the URI set. */
#define CW_P11_URI_HAS_TOKEN 0x01u
#define CW_P11_URI_HAS_MANUFACTURER 0x02u
#define CW_P11_URI_HAS_SERIAL 0x04u
#define CW_P11_URI_HAS_MODEL 0x08u
#define CW_P11_URI_HAS_OBJECT 0x10u
#define CW_P11_URI_HAS_ID 0x20u
#define CW_P11_URI_HAS_TYPE 0x40u

/* A parsed URI. Text values are also NUL-terminated for printing, but may contain NUL bytes
 * (from "%00"): use the _len fields. Fields whose bit is not in present are empty. */
typedef struct cw_p11_uri_t {
    unsigned present;
    char token[CW_P11_URI_TOKEN_MAX + 1];
    size_t token_len;
    char manufacturer[CW_P11_URI_MANUFACTURER_MAX + 1];
    size_t manufacturer_len;
    char serial[CW_P11_URI_SERIAL_MAX + 1];
    size_t serial_len;
    char model[CW_P11_URI_MODEL_MAX + 1];
    size_t model_len;
    char object[CW_P11_URI_OBJECT_MAX + 1];
    size_t object_len;
    uint8_t id[CW_P11_URI_ID_MAX];
    size_t id_len;
    CK_OBJECT_CLASS type; /* CKO_PUBLIC_KEY, CKO_PRIVATE_KEY, CKO_CERTIFICATE, ... */
} cw_p11_uri_t;

/* Parses s[0..len) (no NUL needed; none may occur inside) into out, which is overwritten even
 * on failure. Errors: CW_ERR_URI (syntax, scheme, encoding, unknown or repeated attribute,
 * query part), CW_ERR_TOO_LARGE (a value over its limit), CW_ERR_INVALID_ARG (NULL). */
cw_err cw_p11_uri_parse(const char *s, size_t len, cw_p11_uri_t *out);

/* True when every token attribute the URI sets (token, manufacturer, serial, model) equals the
 * token's space-padded field; attributes the URI does not set match anything, so an empty
 * "pkcs11:" matches every token. Object attributes are ignored here. */
bool cw_p11_uri_match_token(const cw_p11_uri_t *uri, const CK_TOKEN_INFO *info);

#endif /* CW_P11_URI_H */
