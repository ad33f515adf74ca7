/*
 * cw_types.h: small vocabulary types shared by the core and the token layer.
 */
#ifndef CW_TYPES_H
#define CW_TYPES_H

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

#endif /* CW_TYPES_H */
