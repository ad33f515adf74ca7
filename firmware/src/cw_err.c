/*
 * cw_err.c: names and sentences for every code of the cw_err space.
 *
 * Foreign codes keep their own names (CKR_PIN_INCORRECT, MBEDTLS_ERR_ASN1_OUT_OF_DATA, ERR_MEM of
 * lwIP as LWIP_ERR_MEM), so an operator can look them up in the foreign documentation.
 */
#include "cw/cw_err.h"

#include <stdio.h>

typedef struct cw_err_entry {
    long value;
    const char *name;
    const char *text;
} cw_err_entry;

static const cw_err_entry own_codes[] = {
    {0, "OK", "No error."},
#define CW_ERR_ROW_(name, value, text) {value, #name, text},
    CW_ERR_LIST(CW_ERR_ROW_)
#undef CW_ERR_ROW_
};

/* PKCS#11 v2.40 return values a token gives in practice (section 5.1 of the base spec). */
static const cw_err_entry p11_codes[] = {
    {0x01, "CKR_CANCEL", "The token cancelled the function."},
    {0x02, "CKR_HOST_MEMORY", "The token library ran out of host memory."},
    {0x03, "CKR_SLOT_ID_INVALID", "The slot ID is not valid."},
    {0x05, "CKR_GENERAL_ERROR", "The token reports an unrecoverable error."},
    {0x06, "CKR_FUNCTION_FAILED", "The token could not perform the function."},
    {0x07, "CKR_ARGUMENTS_BAD", "The token rejected the arguments."},
    {0x10, "CKR_ATTRIBUTE_READ_ONLY", "The attribute cannot be set or modified."},
    {0x11, "CKR_ATTRIBUTE_SENSITIVE", "The attribute is sensitive and cannot be revealed."},
    {0x12, "CKR_ATTRIBUTE_TYPE_INVALID", "The token does not know this attribute."},
    {0x13, "CKR_ATTRIBUTE_VALUE_INVALID", "An attribute value is not valid for the token."},
    {0x1B, "CKR_ACTION_PROHIBITED", "The token's policy prohibits this action."},
    {0x20, "CKR_DATA_INVALID", "The token rejected the input data."},
    {0x21, "CKR_DATA_LEN_RANGE", "The input data has a length the token does not accept."},
    {0x30, "CKR_DEVICE_ERROR", "The token device reports an error."},
    {0x31, "CKR_DEVICE_MEMORY", "The token has no room left for this object."},
    {0x32, "CKR_DEVICE_REMOVED", "The token was removed."},
    {0x40, "CKR_ENCRYPTED_DATA_INVALID", "The encrypted data is not valid for this key."},
    {0x41, "CKR_ENCRYPTED_DATA_LEN_RANGE", "The encrypted data has the wrong length for this key."},
    {0x50, "CKR_FUNCTION_CANCELED", "The function was cancelled."},
    {0x54, "CKR_FUNCTION_NOT_SUPPORTED", "The token does not support this function."},
    {0x60, "CKR_KEY_HANDLE_INVALID", "The key handle is not valid."},
    {0x62, "CKR_KEY_SIZE_RANGE", "The token does not support this key size."},
    {0x63, "CKR_KEY_TYPE_INCONSISTENT", "The key type does not fit the mechanism."},
    {0x68, "CKR_KEY_FUNCTION_NOT_PERMITTED", "The key's attributes do not permit this use."},
    {0x6A, "CKR_KEY_UNEXTRACTABLE", "The key cannot be extracted from the token."},
    {0x70, "CKR_MECHANISM_INVALID", "The token refuses this mechanism."},
    {0x71, "CKR_MECHANISM_PARAM_INVALID", "The mechanism parameters are not valid."},
    {0x82, "CKR_OBJECT_HANDLE_INVALID", "The object handle is not valid."},
    {0x90, "CKR_OPERATION_ACTIVE", "Another operation is active in this session."},
    {0x91, "CKR_OPERATION_NOT_INITIALIZED", "No operation of this kind is active."},
    {0xA0, "CKR_PIN_INCORRECT", "The PIN is incorrect."},
    {0xA1, "CKR_PIN_INVALID", "The PIN contains characters the token does not accept."},
    {0xA2, "CKR_PIN_LEN_RANGE", "The PIN is too long or too short for this token."},
    {0xA3, "CKR_PIN_EXPIRED", "The PIN has expired and must be changed."},
    {0xA4, "CKR_PIN_LOCKED", "The PIN is locked after too many wrong attempts."},
    {0xB0, "CKR_SESSION_CLOSED", "The session was closed."},
    {0xB1, "CKR_SESSION_COUNT", "The token cannot open more sessions."},
    {0xB3, "CKR_SESSION_HANDLE_INVALID", "The session handle is not valid."},
    {0xB5, "CKR_SESSION_READ_ONLY", "The session is read-only."},
    {0xB7, "CKR_SESSION_READ_ONLY_EXISTS", "A read-only session exists, so SO login is refused."},
    {0xC0, "CKR_SIGNATURE_INVALID", "The signature is not valid."},
    {0xC1, "CKR_SIGNATURE_LEN_RANGE", "The signature has the wrong length."},
    {0xD0, "CKR_TEMPLATE_INCOMPLETE", "The object template lacks a required attribute."},
    {0xD1, "CKR_TEMPLATE_INCONSISTENT", "The object template has conflicting attributes."},
    {0xE0, "CKR_TOKEN_NOT_PRESENT", "No token is present in the slot."},
    {0xE1, "CKR_TOKEN_NOT_RECOGNIZED", "The token is not recognised."},
    {0xE2, "CKR_TOKEN_WRITE_PROTECTED", "The token is write-protected."},
    {0x100, "CKR_USER_ALREADY_LOGGED_IN", "The user is already logged in."},
    {0x101, "CKR_USER_NOT_LOGGED_IN", "The token needs the user login for this."},
    {0x102, "CKR_USER_PIN_NOT_INITIALIZED", "The token's user PIN has not been set."},
    {0x103, "CKR_USER_TYPE_INVALID", "The user type is not valid."},
    {0x104, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN", "Another user is already logged in."},
    {0x121, "CKR_RANDOM_NO_RNG", "The token has no random number generator."},
    {0x130, "CKR_DOMAIN_PARAMS_INVALID", "The token does not support these key parameters."},
    {0x140, "CKR_CURVE_NOT_SUPPORTED", "The token does not support this curve."},
    {0x150, "CKR_BUFFER_TOO_SMALL", "The output buffer is too small for the token's answer."},
    {0x190, "CKR_CRYPTOKI_NOT_INITIALIZED", "The PKCS#11 library was not initialised."},
    {0x191, "CKR_CRYPTOKI_ALREADY_INITIALIZED", "The PKCS#11 library is already initialised."},
    {0x1C3, "CKR_PIN_TOO_WEAK", "The PIN is too weak."},
    {0x1C4, "CKR_PUBLIC_KEY_INVALID", "The public key is not valid."},
    {0x200, "CKR_FUNCTION_REJECTED", "The token rejected the function."},
};

/* mbedTLS codes certwiz meets in practice; others print as MBEDTLS_ERR with their value. */
static const cw_err_entry mbedtls_codes[] = {
    {0x0060, "MBEDTLS_ERR_ASN1_OUT_OF_DATA", "The ASN.1 data ends too early."},
    {0x0062, "MBEDTLS_ERR_ASN1_UNEXPECTED_TAG", "An ASN.1 tag is not the one expected."},
    {0x0064, "MBEDTLS_ERR_ASN1_INVALID_LENGTH", "An ASN.1 length is not valid."},
    {0x0066, "MBEDTLS_ERR_ASN1_LENGTH_MISMATCH", "An ASN.1 length does not match its content."},
    {0x0068, "MBEDTLS_ERR_ASN1_INVALID_DATA", "ASN.1 data is not valid."},
    {0x006A, "MBEDTLS_ERR_ASN1_ALLOC_FAILED", "The arena has no room for the ASN.1 data."},
    {0x006C, "MBEDTLS_ERR_ASN1_BUF_TOO_SMALL", "The ASN.1 output buffer is too small."},
    {0x2080, "MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE", "The certificate uses a feature this build lacks."},
    {0x2180, "MBEDTLS_ERR_X509_INVALID_FORMAT", "The certificate is not valid DER."},
    {0x2200, "MBEDTLS_ERR_X509_INVALID_VERSION", "The certificate version is not valid."},
    {0x2300, "MBEDTLS_ERR_X509_INVALID_ALG", "The certificate's algorithm is not valid."},
    {0x2500, "MBEDTLS_ERR_X509_INVALID_EXTENSIONS", "The certificate's extensions are not valid."},
    {0x2600, "MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG", "The certificate's signature algorithm is unknown."},
    {0x2700, "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED", "The certificate chain did not verify."},
    {0x2880, "MBEDTLS_ERR_X509_ALLOC_FAILED", "The arena has no room for the certificate."},
    {0x3B00, "MBEDTLS_ERR_PK_INVALID_PUBKEY", "The public key is not valid."},
    {0x3D00, "MBEDTLS_ERR_PK_KEY_INVALID_FORMAT", "The key is not in a valid format."},
    {0x3F80, "MBEDTLS_ERR_PK_ALLOC_FAILED", "The arena has no room for the key."},
    {0x4380, "MBEDTLS_ERR_RSA_VERIFY_FAILED", "The RSA signature did not verify."},
    {0x4E00, "MBEDTLS_ERR_ECP_VERIFY_FAILED", "The ECDSA signature did not verify."},
};

/* lwIP's err_t (lwip/err.h), negated. */
static const cw_err_entry lwip_codes[] = {
    {1, "LWIP_ERR_MEM", "The network stack is out of memory."},
    {2, "LWIP_ERR_BUF", "The network stack has no buffer for this."},
    {3, "LWIP_ERR_TIMEOUT", "The network operation timed out."},
    {4, "LWIP_ERR_RTE", "There is no route to the host."},
    {5, "LWIP_ERR_INPROGRESS", "The network operation is in progress."},
    {6, "LWIP_ERR_VAL", "A network parameter is not valid."},
    {7, "LWIP_ERR_WOULDBLOCK", "The network operation would block."},
    {8, "LWIP_ERR_USE", "The address is in use."},
    {9, "LWIP_ERR_ALREADY", "The connection is already being made."},
    {10, "LWIP_ERR_ISCONN", "The connection already exists."},
    {11, "LWIP_ERR_CONN", "Not connected."},
    {12, "LWIP_ERR_IF", "The network interface reports an error."},
    {13, "LWIP_ERR_ABRT", "The connection was aborted."},
    {14, "LWIP_ERR_RST", "The connection was reset by the peer."},
    {15, "LWIP_ERR_CLSD", "The connection was closed."},
    {16, "LWIP_ERR_ARG", "A network argument is not valid."},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const cw_err_entry *lookup(const cw_err_entry *table, size_t n, long value)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].value == value) {
            return &table[i];
        }
    }
    return NULL;
}

/* Find the entry for e, or NULL; *range_name gets the generic name of e's range. */
static const cw_err_entry *find(cw_err e, const char **range_name, const char **range_text)
{
    long v = (long)e;
    long base = v - (v % CW_ERR_RANGE);
    long sub = v % CW_ERR_RANGE;

    switch (base) {
    case CW_ERR_P11_BASE:
        *range_name = "CKR_UNKNOWN";
        *range_text = "The token answered with a code certwiz does not know.";
        return lookup(p11_codes, COUNT_OF(p11_codes), sub);
    case CW_ERR_MBEDTLS_BASE:
        *range_name = "MBEDTLS_ERR";
        *range_text = "The crypto library reported an error.";
        return lookup(mbedtls_codes, COUNT_OF(mbedtls_codes), sub);
    case CW_ERR_LWIP_BASE:
        *range_name = "LWIP_ERR";
        *range_text = "The network stack reported an error.";
        return lookup(lwip_codes, COUNT_OF(lwip_codes), sub);
    default:
        *range_name = "UNKNOWN_ERROR";
        *range_text = "An error code certwiz does not know.";
        return lookup(own_codes, COUNT_OF(own_codes), v);
    }
}

const char *cw_err_name(cw_err e)
{
    const char *rn;
    const char *rt;
    const cw_err_entry *ent = find(e, &rn, &rt);
    return ent != NULL ? ent->name : rn;
}

const char *cw_err_text(cw_err e)
{
    const char *rn;
    const char *rt;
    const cw_err_entry *ent = find(e, &rn, &rt);
    return ent != NULL ? ent->text : rt;
}

size_t cw_err_format(cw_err e, char *out, size_t cap)
{
    const char *rn;
    const char *rt;
    const cw_err_entry *ent = find(e, &rn, &rt);
    long v = (long)e;
    long sub = v % CW_ERR_RANGE;
    int n;

    if (cap == 0) {
        return 0;
    }
    if (ent != NULL) {
        n = snprintf(out, cap, "%s: %s", ent->name, ent->text);
    } else if (v >= CW_ERR_P11_BASE && v < CW_ERR_LWIP_BASE + CW_ERR_RANGE) {
        n = snprintf(out, cap, "%s: %s (0x%lX)", rn, rt, (unsigned long)sub);
    } else {
        n = snprintf(out, cap, "%s: %s (%ld)", rn, rt, v);
    }
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
