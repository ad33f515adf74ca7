/*
 * cw_topology.h: the topology blob on the device: strict DER decoder, validation, derivation.
 *
 * The format is docs/topology.asn1; docs/topology.md explains every field, default and limit.
 * cwctl compiles this very file in, so the PC refuses exactly what the device refuses.
 *
 * Ownership and lifetime
 * - cw_topology is caller-owned (about 1.2 KiB with the default limits; put it in a static or a
 *   context struct, not on a small stack). cw_topology_decode() fills it; nothing is allocated.
 * - Strings and byte strings are NOT copied: a cw_topo_view_t is (offset, length) into the DER
 *   buffer the caller passed, and t->der points at that buffer. Views are not NUL-terminated; read
 *   them with cw_topo_chars()/cw_topo_bytes(). Freeing, moving or changing the buffer invalidates
 *   every view; a byte-identical copy of the blob elsewhere may be used by setting t->der to it.
 * - cw_topology_derived is self-contained: cw_topology_derive() COPIES every string it produces
 *   (CN, O, OU, L, ST, C, every SAN name and address), so it stays valid after the blob is gone.
 *
 * Validation happens in cw_topology_decode(), all of it: a blob it accepts derives every set
 * without error (cw_topology_derive() can then fail only on a bad argument). On failure the code
 * names the rule (CW_ERR_TOPO_*, or CW_ERR_TRUNCATED when the blob ends early) and
 * cw_topology_error_path() names the field in the JSON spelling of docs/topology.md, for example
 * "sets[1].san[0].dns". The first violation in blob order is the one reported.
 */
#ifndef CW_TOPOLOGY_H
#define CW_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_opts.h"
#include "cw/base/cw_types.h"

/* ---- fixed facts of the format (not knobs) ------------------------------------------------- */

#define CW_TOPO_VERSION 1u              /* the only version this decoder reads */
#define CW_TOPO_DNS_NAME_MAX 253u       /* RFC 1035 section 2.3.4, without a trailing dot */
#define CW_TOPO_CN_MAX 64u              /* X.520 ub-common-name (RFC 5280 appendix A.1) */
#define CW_TOPO_FINGERPRINT_LEN 32u     /* SHA-256 */
#define CW_TOPO_POLL_MIN 10u            /* pollSeconds range, seconds */
#define CW_TOPO_POLL_MAX 86400u
#define CW_TOPO_ERR_PATH_MAX 48u        /* "caProfiles[255].caFingerprint" is 29 */

/* Defaults the device applies where the blob leaves a field out (the blob never stores them, so
 * DER -> JSON -> DER stays exact). */
#define CW_TOPO_DEFAULT_KEY_TYPE CW_KEY_RSA2048
#define CW_TOPO_DEFAULT_RENEW_PERCENT 80u
#define CW_TOPO_DEFAULT_POLL_SECONDS 300u
#define CW_TOPO_DEFAULT_CN "{host}"

/* CAProfile.protocol (ENUMERATED values of the blob). */
typedef enum cw_topo_protocol {
    CW_TOPO_OFFLINE = 0,
    CW_TOPO_SCEP = 1,
    CW_TOPO_ACME = 2
} cw_topo_protocol;

/* Bits of cw_topo_set_t.eku and cw_topology_derived.eku (CertSet.eku, BIT STRING). */
#define CW_TOPO_EKU_SERVER_AUTH 0x01u   /* named bit 0: id-kp-serverAuth */
#define CW_TOPO_EKU_CLIENT_AUTH 0x02u   /* named bit 1: id-kp-clientAuth */

/* SanEntry alternatives. */
typedef enum cw_topo_san_type {
    CW_TOPO_SAN_DNS = 0,    /* a template (docs/topology.md, "Templates") */
    CW_TOPO_SAN_IP = 1      /* 4 or 16 address bytes */
} cw_topo_san_type;

/* (offset, length) into the DER buffer. len == 0 means "absent": no field may be empty. */
typedef struct cw_topo_view_t {
    uint16_t off;
    uint16_t len;
} cw_topo_view_t;

typedef struct cw_topo_profile_t {
    cw_topo_view_t name;
    cw_topo_view_t url;           /* absent for some offline profiles */
    cw_topo_view_t fingerprint;   /* absent, or CW_TOPO_FINGERPRINT_LEN bytes */
    uint8_t protocol;             /* cw_topo_protocol */
    uint8_t key_type;             /* cw_key_type; CW_KEY_NONE when absent */
    uint8_t renew_percent;        /* 1..99; 0 when absent */
    uint32_t poll_seconds;        /* CW_TOPO_POLL_MIN..MAX; 0 when absent */
} cw_topo_profile_t;

typedef struct cw_topo_san_t {
    uint8_t type;                 /* cw_topo_san_type */
    cw_topo_view_t value;         /* the template text, or the address bytes */
} cw_topo_san_t;

typedef struct cw_topo_set_t {
    cw_topo_view_t name;
    cw_topo_view_t cn;            /* template; absent: CW_TOPO_DEFAULT_CN applies */
    cw_topo_view_t token_uri;     /* RFC 7512 URI; absent: the board's token */
    uint8_t profile;              /* index into cw_topology.profiles */
    uint8_t key_type;             /* override; CW_KEY_NONE when absent */
    uint8_t eku;                  /* CW_TOPO_EKU_* bits, at least one */
    uint8_t first_role;           /* this set's roles are roles[first_role .. + role_count) */
    uint8_t role_count;
    uint8_t san_count;            /* 0: no san field (the CN alone is the SAN list) */
    cw_topo_san_t san[CW_TOPO_SANS_PER_SET_MAX];
} cw_topo_set_t;

typedef struct cw_topo_role_t {
    cw_topo_view_t name;
    uint8_t set;                  /* index of the set serving it */
} cw_topo_role_t;

/* A decoded topology. Read the fields directly or through the functions below; do not change
 * them. Counts are valid after a successful cw_topology_decode() only. */
typedef struct cw_topology {
    const uint8_t *der;           /* the caller's buffer (not copied) */
    size_t der_len;
    cw_topo_view_t host;
    cw_topo_view_t site;
    cw_topo_view_t address[CW_TOPO_ADDRESSES_MAX];      /* 4 or 16 bytes each */
    cw_topo_view_t organization;                        /* subject template; each may be absent */
    cw_topo_view_t organizational_unit;
    cw_topo_view_t locality;
    cw_topo_view_t state;
    cw_topo_view_t country;
    cw_topo_view_t domain[CW_TOPO_DOMAINS_MAX];
    cw_topo_profile_t profiles[CW_TOPO_PROFILES_MAX];
    cw_topo_set_t sets[CW_TOPO_SETS_MAX];
    cw_topo_role_t roles[CW_TOPO_ROLES_MAX];            /* in blob order, set by set */
    uint8_t address_count;
    uint8_t domain_count;
    uint8_t profile_count;
    uint8_t set_count;
    uint8_t role_count;
    char err_path[CW_TOPO_ERR_PATH_MAX];                /* see cw_topology_error_path() */
} cw_topology;

/* One name of a set's derived SAN list. */
typedef struct cw_topo_name_t {
    uint8_t type;                 /* cw_topo_san_type */
    uint8_t len;                  /* DNS: bytes without the NUL; IP: 4 or 16 */
    uint16_t off;                 /* DNS: offset of the NUL-terminated name in derived.text */
    uint8_t ip[16];               /* IP: the address */
} cw_topo_name_t;

/* A set's policy: what its requests are, without their names (cheap: no template is expanded). */
typedef struct cw_topo_policy_t {
    size_t set;                                   /* index of the set */
    size_t profile;                               /* index of its CA profile */
    cw_topo_protocol protocol;                    /* of that profile */
    cw_key_type key_type;                         /* set override, else profile, else default */
    unsigned eku;                                 /* CW_TOPO_EKU_* bits */
    unsigned renew_percent;                       /* profile's, else the default */
    uint32_t poll_seconds;                        /* profile's, else the default */
} cw_topo_policy_t;

/* Everything one certificate request of a set needs, with the defaults applied. All copied. */
typedef struct cw_topology_derived {
    size_t set;                                   /* index of the set */
    size_t profile;                               /* index of its CA profile */
    cw_topo_protocol protocol;                    /* of that profile */
    cw_key_type key_type;                         /* set override, else profile, else default */
    unsigned eku;                                 /* CW_TOPO_EKU_* bits */
    unsigned renew_percent;                       /* profile's, else the default */
    uint32_t poll_seconds;                        /* profile's, else the default */
    /* Subject, NUL-terminated; "" when the template leaves an attribute out. */
    char cn[CW_TOPO_CN_MAX + 1];
    char organization[CW_TOPO_TEXT_MAX + 1];
    char organizational_unit[CW_TOPO_TEXT_MAX + 1];
    char locality[CW_TOPO_TEXT_MAX + 1];
    char state[CW_TOPO_TEXT_MAX + 1];
    char country[3];
    /* SAN list: the CN first, then every entry in blob order ({domain} templates once per domain
     * in domain order), duplicates dropped (DNS names compared without regard to case). */
    size_t san_count;                             /* >= 1 */
    cw_topo_name_t san[CW_TOPO_DERIVED_SANS_MAX];
    size_t text_used;                             /* bytes of text in use */
    char text[CW_TOPO_DERIVED_TEXT_MAX];
} cw_topology_derived;

/* ---- decoding ------------------------------------------------------------------------------ */

/* Decodes and validates der[0..len) into t, which is overwritten (also on failure, when only
 * cw_topology_error_path() is meaningful). The buffer is referenced, not copied: keep it alive
 * and unchanged while t is used. Errors: CW_ERR_INVALID_ARG (NULL), CW_ERR_TRUNCATED (the blob
 * ends inside an element), CW_ERR_TOPO_* (every other rule; docs/topology.md lists them). */
cw_err cw_topology_decode(cw_topology *t, const uint8_t *der, size_t len);

/* Where the last cw_topology_decode() failed, in JSON spelling ("appliance.host",
 * "sets[1].roles[0]", "" for the blob as a whole). NUL-terminated, inside t; "" after success. */
const char *cw_topology_error_path(const cw_topology *t);

/* The characters (or bytes) of a view; not NUL-terminated, v.len of them. */
static inline const char *cw_topo_chars(const cw_topology *t, cw_topo_view_t v)
{
    return (const char *)(t->der + v.off);
}
static inline const uint8_t *cw_topo_bytes(const cw_topology *t, cw_topo_view_t v)
{
    return t->der + v.off;
}

/* ---- lookup and iteration ------------------------------------------------------------------ */

/* Counts; iterate with index 0 .. count-1 and read t->profiles[i], t->sets[i], t->roles[i]. */
size_t cw_topology_profile_count(const cw_topology *t);
size_t cw_topology_set_count(const cw_topology *t);
size_t cw_topology_role_count(const cw_topology *t);

/* Finds by exact (case-sensitive) name name[0..len); *index gets the position. Names are unique
 * even without regard to case, so a case-insensitive caller can compare itself. Errors:
 * CW_ERR_NOT_FOUND, CW_ERR_INVALID_ARG. */
cw_err cw_topology_find_profile(const cw_topology *t, const char *name, size_t len, size_t *index);
cw_err cw_topology_find_set(const cw_topology *t, const char *name, size_t len, size_t *index);

/* The set serving role[0..len) (exact name); *set_index gets its index. */
cw_err cw_topology_set_for_role(const cw_topology *t, const char *role, size_t len,
                                size_t *set_index);

/* ---- derivation ---------------------------------------------------------------------------- */

/* The policy of set set_index (cw_topo_policy_t): the same values cw_topology_derive gives, with
 * the defaults applied. CW_ERR_INVALID_ARG for a set that does not exist. */
cw_err cw_topology_policy(const cw_topology *t, size_t set_index, cw_topo_policy_t *out);

/* Expands set set_index into d (overwritten): subject from the template and the set's CN, SAN
 * list, effective key type, EKU, CA profile and its effective renewal and poll values. Errors:
 * CW_ERR_INVALID_ARG (NULL, index out of range); on a topology cw_topology_decode() accepted,
 * nothing else (the decoder has checked every expansion and its size). */
cw_err cw_topology_derive(const cw_topology *t, size_t set_index, cw_topology_derived *d);

/* The NUL-terminated DNS name of derived SAN entry i, or NULL when i is out of range or an IP. */
const char *cw_topology_san_dns(const cw_topology_derived *d, size_t i);

/* Writes the subject as an RFC 4514 string ("CN=a.example,OU=IT,O=Contoso,L=Redmond,ST=WA,C=US":
 * most specific first, special characters escaped) into out[0..cap), NUL-terminated. *len gets
 * the length without the NUL, also when cap is too small (then CW_ERR_BUFFER_SMALL and out, if
 * cap > 0, holds ""). out may be NULL with cap 0 to measure. */
cw_err cw_topology_subject_format(const cw_topology_derived *d, char *out, size_t cap, size_t *len);

/* ---- small helpers for printing ------------------------------------------------------------ */

/* Formats a 4- or 16-byte address as dotted quad or RFC 5952 text into out[0..cap) (needs at
 * most 40 bytes with the NUL). *len as for cw_topology_subject_format. Errors: BUFFER_SMALL,
 * INVALID_ARG (a length other than 4 or 16). */
cw_err cw_topology_format_ip(const uint8_t *ip, size_t ip_len, char *out, size_t cap, size_t *len);

/* The JSON spellings of docs/topology.md: "rsa2048", "rsa3072", "rsa4096", "ecP256", "ecP384";
 * "offline", "scep", "acme". NULL for a value outside the format. */
const char *cw_topology_key_type_name(cw_key_type k);
const char *cw_topology_protocol_name(cw_topo_protocol p);

#endif /* CW_TOPOLOGY_H */
