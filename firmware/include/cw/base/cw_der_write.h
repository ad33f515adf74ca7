/*
 * cw_der_write.h: the two macros certwiz's DER writers share (private to firmware/src).
 *
 * mbedTLS's ASN.1 writer (mbedtls/asn1write.h) writes backwards from the end of a buffer; each
 * call returns the bytes it wrote (>= 0) or an mbedTLS error (< 0). The writers count what they
 * wrote in a size_t *total and hand an error straight back to their caller.
 */
#ifndef CW_DER_WRITE_H
#define CW_DER_WRITE_H

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

#endif /* CW_DER_WRITE_H */
