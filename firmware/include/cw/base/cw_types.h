/*
 * cw_types.h: small vocabulary types shared by the core and the token layer.
 */
#ifndef CW_TYPES_H
#define CW_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_opts.h"

/* Key types certwiz generates (RSA keys with public exponent 65537). The values are stable: the
 * topology blob stores them (docs/topology.asn1, KeyType). */
typedef enum cw_key_type {
    CW_KEY_NONE = 0,
    CW_KEY_RSA2048,
    CW_KEY_RSA3072,
    CW_KEY_RSA4096,
    CW_KEY_EC_P256,
    CW_KEY_EC_P384
} cw_key_type;

/* Hashes certwiz signs with. SHA-1 only where a protocol demands it (SCEP). */
typedef enum cw_hash_alg {
    CW_HASH_SHA1 = 1,
    CW_HASH_SHA256,
    CW_HASH_SHA384
} cw_hash_alg;

/* A view of DER bytes that belong to someone else (an input, a scratch buffer). */
typedef struct cw_der_t {
    const uint8_t *p;
    size_t len;
} cw_der_t;

/* Certificates as they came (a CA's answer, a paste): views, in their order. */
typedef struct cw_cert_list_t {
    cw_der_t cert[CW_IMPORT_CERTS_MAX];
    size_t n;
} cw_cert_list_t;

#endif /* CW_TYPES_H */
