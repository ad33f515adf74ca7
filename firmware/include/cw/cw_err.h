/*
 * cw_err.h: the one error space of certwiz.
 *
 * Every fallible function returns a cw_err. CW_OK is 0. certwiz's own codes sit in one range per
 * module; foreign codes are wrapped with a base so the original value survives:
 *
 *   CW_ERR_P11_BASE     + CK_RV              (a PKCS#11 token's answer, e.g. CKR_PIN_INCORRECT)
 *   CW_ERR_MBEDTLS_BASE + (-ret)             (an mbedTLS error, always negative there)
 *   CW_ERR_LWIP_BASE    + (-err_t)           (an lwIP error, always negative there)
 *
 * cw_err_name() and cw_err_text() give every code a name (without the CW_ERR_ prefix, as the
 * console prints it: "ERR <NAME>: <text>") and one sentence. Both return static strings.
 */
#ifndef CW_ERR_H
#define CW_ERR_H

#include <stddef.h>
#include <stdint.h>

/* X-list of certwiz's own codes: (ENUM suffix, value, sentence). Names are the suffix. */
#define CW_ERR_LIST(X)                                                                            \
    /* generic: 1..99 */                                                                          \
    X(INVALID_ARG, 1, "An argument is out of range or missing.")                                 \
    X(TOO_LARGE, 2, "The input is larger than the limit this build allows.")                     \
    X(NO_MEMORY, 3, "The fixed arena has no room left for this operation.")                      \
    X(TRUNCATED, 4, "The input ends before the structure it announces is complete.")             \
    X(MALFORMED, 5, "The input is not well-formed.")                                             \
    X(BUFFER_SMALL, 6, "The output buffer is too small; the needed length was reported.")        \
    X(NOT_SUPPORTED, 7, "This build or board does not support the operation.")                   \
    X(NOT_FOUND, 8, "The requested object does not exist.")                                      \
    X(EXISTS, 9, "An object of that name already exists.")                                       \
    X(BUSY, 10, "Another operation is still in progress.")                                       \
    X(TIMEOUT, 11, "The operation did not complete in time.")                                    \
    X(INTERNAL, 12, "An internal invariant failed; please report this.")                         \
    X(IN_PROGRESS, 13, "The operation continues in the background.")                             \
    /* console: 100..199 */                                                                       \
    X(UNKNOWN_COMMAND, 100, "No such command; type help for the list.")                          \
    X(LINE_TOO_LONG, 101, "The line is longer than the console accepts and was discarded.")      \
    X(USAGE, 102, "The command's arguments are wrong; type help for its usage.")                 \
    X(CANCELLED, 103, "The operator cancelled the command.")                                     \
    /* token: 200..299 */                                                                         \
    X(NO_TOKEN, 200, "No PKCS#11 token is available on this board.")                             \
    X(NOT_LOGGED_IN, 201, "This command needs the token user login; use login first.")           \
    X(TOKEN_NOT_FOUND, 202, "No token matches the configured token URI.")                        \
    X(MECHANISM, 203, "The token does not offer a mechanism this operation needs.")              \
    X(URI, 204, "The PKCS#11 URI is not valid.")                                                 \
    X(AMBIGUOUS, 205, "More than one object matches; name it by ID.")

typedef enum cw_err {
    CW_OK = 0,
#define CW_ERR_ENUM_(name, value, text) CW_ERR_##name = (value),
    CW_ERR_LIST(CW_ERR_ENUM_)
#undef CW_ERR_ENUM_
    /* Bases of wrapped foreign codes. Each range is 0x01000000 wide. */
    CW_ERR_P11_BASE = 0x01000000,
    CW_ERR_MBEDTLS_BASE = 0x02000000,
    CW_ERR_LWIP_BASE = 0x03000000
} cw_err;

#define CW_ERR_RANGE 0x01000000L

/* Wrap a PKCS#11 CK_RV. Vendor-defined values (>= 0x80000000) keep their low 24 bits. */
#define CW_ERR_FROM_P11(rv) ((rv) == 0 ? CW_OK : (cw_err)(CW_ERR_P11_BASE + (long)((rv) & 0xFFFFFFUL)))
/* Wrap an mbedTLS return value (0 or negative). */
#define CW_ERR_FROM_MBEDTLS(ret) ((ret) == 0 ? CW_OK : (cw_err)(CW_ERR_MBEDTLS_BASE + (long)(-(ret))))
/* Wrap an lwIP err_t (0 or negative). */
#define CW_ERR_FROM_LWIP(e) ((e) == 0 ? CW_OK : (cw_err)(CW_ERR_LWIP_BASE + (long)(-(e))))

/* Is e a wrapped token answer with this CK_RV? */
#define CW_ERR_IS_P11(e, rv) ((long)(e) == CW_ERR_P11_BASE + (long)(rv))

/* The code's name as the console prints it ("NO_MEMORY", "CKR_PIN_INCORRECT",
 * "MBEDTLS_ERR_ASN1_OUT_OF_DATA"). Unknown foreign codes get a generic name of their range
 * ("CKR_UNKNOWN", "MBEDTLS_ERR", "LWIP_ERR"); use cw_err_format() to see their value. */
const char *cw_err_name(cw_err e);

/* One sentence saying what the code means. Never NULL. */
const char *cw_err_text(cw_err e);

/* Writes "<NAME>: <text>" into out (always NUL-terminated when cap > 0); for a foreign code the
 * text also carries its original value in hex. Returns the number of characters written. */
size_t cw_err_format(cw_err e, char *out, size_t cap);

#endif /* CW_ERR_H */
