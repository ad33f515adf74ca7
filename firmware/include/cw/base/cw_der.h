/*
 * cw_der.h: what certwiz's DER readers and writers share: the tag numbers (X.690) and the two
 * writer macros (private to firmware/src). Plain numbers, no library: the topology decoder, which
 * cwctl builds without mbedTLS, uses them too.
 *
 * mbedTLS's ASN.1 writer (mbedtls/asn1write.h) writes backwards from the end of a buffer; each
 * call returns the bytes it wrote (>= 0) or an mbedTLS error (< 0). The writers count what they
 * wrote in a size_t *total and hand an error straight back to their caller.
 */
#ifndef CW_DER_H
#define CW_DER_H

/* Identifier octets: universal tags, and context-specific [n] primitive and constructed. */
#define CW_DER_INTEGER 0x02u
#define CW_DER_BIT_STRING 0x03u
#define CW_DER_OCTETS 0x04u
#define CW_DER_OID 0x06u
#define CW_DER_ENUMERATED 0x0Au
#define CW_DER_UTF8 0x0Cu
#define CW_DER_PRINTABLE 0x13u
#define CW_DER_IA5 0x16u
#define CW_DER_CONSTRUCTED 0x20u
#define CW_DER_SEQ 0x30u
#define CW_DER_SET 0x31u
#define CW_DER_CTX(n) (0x80u | (n))
#define CW_DER_CTX_CONS(n) (0xA0u | (n))

/* An mbedTLS writer call: on error, return it (the enclosing function returns int); else add its
 * length to *total. */
#define CW_DER_W(call)                                                                             \
    do {                                                                                           \
        int r_ = (call);                                                                           \
        if (r_ < 0) {                                                                              \
            return r_;                                                                             \
        }                                                                                          \
        *total += (size_t)r_;                                                                      \
    } while (0)

/* A certwiz call: on error, return it (the enclosing function returns cw_err). */
#define CW_TRY(call)                                                                               \
    do {                                                                                           \
        cw_err e_ = (call);                                                                        \
        if (e_ != CW_OK) {                                                                         \
            return e_;                                                                             \
        }                                                                                          \
    } while (0)

#endif /* CW_DER_H */
