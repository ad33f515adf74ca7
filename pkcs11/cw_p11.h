/*
 * cw_p11.h: certwiz's token layer, the only code that calls PKCS#11 C_* functions.
 *
 * The board hands over a CK_FUNCTION_LIST (hal: how it got it is its business: p11-kit on the
 * host, a statically linked C_GetFunctionList on a Cortex-M board); this layer never loads a
 * module. One caller-owned cw_p11_ctx holds one R/W session on one token.
 *
 * Memory: no allocation of its own beyond short-lived scratch from the arena (cw_arena.h), all
 * returned before a function returns. Every output buffer is the caller's, with its capacity;
 * functions that write variable-length output take (out, cap, *len) and work in two passes:
 * out == NULL or cap too small returns CW_ERR_BUFFER_SMALL with the needed length in *len (for
 * signatures and decryption an upper bound, see there), touching neither out nor the token.
 *
 * Errors: a token's own answer comes back wrapped, CW_ERR_FROM_P11(rv) (CKR_PIN_INCORRECT,
 * CKR_USER_NOT_LOGGED_IN, CKR_MECHANISM_INVALID, ...); test with CW_ERR_IS_P11(e, rv).
 * cw_p11_last_call() names the C_* function that gave the last token error. certwiz's own
 * codes: CW_ERR_NO_TOKEN (context not open), CW_ERR_TOKEN_NOT_FOUND, CW_ERR_MECHANISM,
 * CW_ERR_BUFFER_SMALL, CW_ERR_TOO_LARGE, CW_ERR_NOT_FOUND, CW_ERR_AMBIGUOUS (more than one key
 * pair matches), CW_ERR_NOT_SUPPORTED (a key certwiz does not handle), CW_ERR_MALFORMED (a
 * certificate that is not DER), CW_ERR_NO_MEMORY (arena full), CW_ERR_INVALID_ARG.
 *
 * Secrets: private keys never leave the token; nothing here can read a private or secret key's
 * value. The PIN is used in place and never copied; the caller wipes its buffer.
 */
#ifndef CW_P11_H
#define CW_P11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_err.h"
#include "cw/base/cw_types.h"
#include "cw_p11_cryptoki.h"
#include "cw_p11_uri.h"

/* ---- bounds -------------------------------------------------------------------------------- */

/* Most slots looked at when opening a token (SoftHSM2 shows one per token plus a free one). */
#define CW_P11_SLOTS_MAX 32u
/* CKA_ID of a certwiz key: SHA-1 of the subjectPublicKey bits = the subjectKeyIdentifier. */
#define CW_P11_KEY_ID_LEN 20u
/* RSA-4096 modulus, the largest key certwiz handles. */
#define CW_P11_RSA_MODULUS_MAX 512u
/* Public exponents up to 64 bits (certwiz makes 65537; other tools' keys rarely differ). */
#define CW_P11_RSA_EXPONENT_MAX 8u
/* Uncompressed P-384 point: 04 || X || Y = 1 + 2 * 48. */
#define CW_P11_EC_POINT_MAX 97u
/* Largest SubjectPublicKeyInfo: RSA-4096 with an 8-byte exponent:
 * INTEGER n 1+3+513, INTEGER e 1+1+9, RSAPublicKey 1+3+528, BIT STRING 1+3+533,
 * AlgorithmIdentifier (rsaEncryption, NULL) 15, SEQUENCE 1+3+552 = 556
 * (550 with exponent 65537; P-384: 120). */
#define CW_P11_SPKI_MAX 556u
/* Largest signature: RSA-4096 is 512 bytes; ECDSA P-384 DER is at most 2+2*(2+49) = 104. */
#define CW_P11_SIG_MAX CW_P11_RSA_MODULUS_MAX

/* ---- session -------------------------------------------------------------------------------- */

/* What the token offers, read once per open (C_GetMechanismList, then C_GetMechanismInfo of each
 * mechanism certwiz can use): a bit per CW_P11_MECH_* below when the token lists the mechanism
 * with the flag certwiz needs, and the key sizes of the two generation mechanisms. */
typedef struct cw_p11_mechs_t {
    bool loaded;
    uint16_t usable;
    CK_ULONG rsa_min, rsa_max; /* CKM_RSA_PKCS_KEY_PAIR_GEN ulMin/MaxKeySize, bits */
    CK_ULONG ec_min, ec_max;   /* CKM_EC_KEY_PAIR_GEN, bits of the field */
} cw_p11_mechs_t;

/* Caller-owned; treat the contents as private. Zero it or let cw_p11_open fill it. */
typedef struct cw_p11_ctx {
    CK_FUNCTION_LIST *fl;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE session;
    bool open;           /* a session is open */
    bool own_init;       /* our C_Initialize succeeded, so close finalizes */
    bool logged_in;      /* as far as this layer knows (cw_p11_logged_in) */
    bool login_lost;     /* the token answered that the login or the session is gone */
    bool idle_armed;     /* last_use_ms is valid */
    uint32_t idle_ms;    /* 0 = never log out for idleness */
    uint32_t last_use_ms;
    bool key_work;       /* a key was made or used since the login (cw_p11_set_relogin) */
    uint32_t gen;        /* counts fresh logins (cw_p11_relogin): key handles of an older one are stale */
    const char *last_call; /* static name of the C_* function that failed last, or "" */
    cw_p11_mechs_t mechs;
    cw_err (*relogin_fn)(struct cw_p11_ctx *ctx, void *arg); /* cw_p11_set_relogin */
    void *relogin_arg;
} cw_p11_ctx;

/* C_Initialize (CKR_CRYPTOKI_ALREADY_INITIALIZED accepted: then close leaves the library
 * initialised), finds the initialised token that the URI's token attributes match (token NULL or
 * "pkcs11:" = the first initialised token), opens a R/W session. Token fields are compared as
 * RFC 7512 says, padded with spaces (a token that pads with NULs matches too). Serial numbers are
 * not always unique (every tpm2-pkcs11 token says 0000000000000000): a URI with attributes that
 * more than one token matches is CW_ERR_AMBIGUOUS; name the token by its label (token=).
 * The function list is linked, not copied: it must outlive ctx. The URI is only read here.
 * Errors: CW_ERR_TOKEN_NOT_FOUND when nothing matches, CW_ERR_TOO_LARGE over CW_P11_SLOTS_MAX
 * slots, the token's answer from C_Initialize, C_GetSlotList, C_GetTokenInfo, C_OpenSession. */
cw_err cw_p11_open(cw_p11_ctx *ctx, CK_FUNCTION_LIST *fl, const cw_p11_uri_t *token);

/* Logs out if logged in, closes the session, finalises the library if open initialised it,
 * and zeroes ctx. Safe on a zeroed or already closed ctx. */
void cw_p11_close(cw_p11_ctx *ctx);

/* Name of the C_* function that returned the last token error on ctx ("C_Login"), or "". */
const char *cw_p11_last_call(const cw_p11_ctx *ctx);

/* ---- login and idle logout ---------------------------------------------------------------- */

/* Normal user login with pin[0..pin_len) (pin NULL with pin_len 0: the token's protected
 * authentication path). The PIN is not copied. CKR_USER_ALREADY_LOGGED_IN counts as success;
 * every other token answer comes back wrapped (CKR_PIN_INCORRECT, CKR_PIN_LOCKED,
 * CKR_PIN_LEN_RANGE, ...). Disarms the idle timer until the next touch or poll. */
cw_err cw_p11_login(cw_p11_ctx *ctx, const char *pin, size_t pin_len);

/* Ends the login and whatever the token library holds for it, then logs in again: C_Logout and,
 * when this layer initialised the library, C_CloseSession, C_Finalize, C_Initialize and a new
 * session (the slot ID is kept), then cw_p11_login. For a token that keeps each key it generated
 * or used loaded until logout behind a resource manager that allows few loaded objects
 * (tpm2-pkcs11 1.9 behind /dev/tpmrm0: 3, which is two key pairs per login), and that marks a
 * key in use for the life of the process after a failed C_Sign or C_Decrypt, so that it cannot
 * be destroyed before C_Finalize (notes/tpm2-token.md). Every key handle is stale afterwards:
 * re-open pairs with cw_p11_key_find_by_id. The PIN is not copied. Token calls: 7. */
cw_err cw_p11_relogin(cw_p11_ctx *ctx, const char *pin, size_t pin_len);

/* The fresh-login hook. A token may keep every key it made or used loaded until the next login,
 * behind a resource manager with room for few: tpm2-pkcs11 1.9 behind /dev/tpmrm0 holds two key
 * pairs, and refuses the third key generation with CKR_GENERAL_ERROR (CKR_DEVICE_MEMORY would be
 * the honest answer; both count). When a key generation, a signature or a decryption fails so
 * after a key was made or used in this login, the layer calls fn once (it should log in afresh:
 * cw_p11_relogin with the PIN) and tries again. The handles of every cw_p11_key read before are
 * stale after that; the layer finds such a key again by its CKA_ID when it is next used (sign,
 * decrypt, public key, destroy), so callers keep their cw_p11_key as it is. fn NULL (the
 * default): no retry. The hook is kept across cw_p11_relogin, cleared by cw_p11_open and
 * cw_p11_close. */
void cw_p11_set_relogin(cw_p11_ctx *ctx, cw_err (*fn)(cw_p11_ctx *ctx, void *arg), void *arg);

/* C_Logout; logging out when not logged in (CKR_USER_NOT_LOGGED_IN) counts as success. */
cw_err cw_p11_logout(cw_p11_ctx *ctx);

/* Whether this layer's session is logged in, as this layer knows it: no token call. A token
 * answer that says the login or the session is gone (CKR_USER_NOT_LOGGED_IN,
 * CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT) to
 * any call clears it and sets cw_p11_login_lost. */
bool cw_p11_logged_in(const cw_p11_ctx *ctx);

/* Asks the token (one C_GetSessionInfo) and updates what cw_p11_logged_in answers: for a status
 * display, not for a main loop. A session the token no longer knows counts as a lost login. */
bool cw_p11_login_check(cw_p11_ctx *ctx);

/* True when the login ended without a logout of this layer (until the next login): status then
 * says "login lost" rather than "logged in" or plainly "logged out". */
bool cw_p11_login_lost(const cw_p11_ctx *ctx);

/* Token calls made by this layer since the last reset (every C_* function counts one), over
 * every context: for benchmarks and tests that count the calls of an operation. */
uint32_t cw_p11_calls(void);
void cw_p11_calls_reset(void);

/* Log out after ms milliseconds without cw_p11_touch (0 = never, the default). */
void cw_p11_set_idle_logout(cw_p11_ctx *ctx, uint32_t ms);

/* Records a use at now_ms (the board's monotonic ms clock, hal_clock_ms): call on every use. */
void cw_p11_touch(cw_p11_ctx *ctx, uint32_t now_ms);

/* Logs out when logged in and at least the idle time has passed since the last touch (wrap-safe
 * unsigned arithmetic; the first poll after a login without a touch starts the count). If the
 * token refuses C_Logout, the session is closed and reopened, which ends the login. Returns
 * true when it logged out now. */
bool cw_p11_poll(cw_p11_ctx *ctx, uint32_t now_ms);

/* ---- token information and random ---------------------------------------------------------- */

/* Token fields with the padding spaces trimmed, NUL-terminated. */
typedef struct cw_p11_token_info_t {
    char label[33];
    char manufacturer[33];
    char model[17];
    char serial[17];
    bool free_public_known;   /* false when the token says CK_UNAVAILABLE_INFORMATION */
    bool free_private_known;  /* (print "unknown" then) */
    unsigned long free_public;  /* bytes */
    unsigned long free_private; /* bytes */
    bool pin_count_low;       /* CKF_USER_PIN_COUNT_LOW: a wrong PIN was given recently */
    bool pin_final_try;       /* CKF_USER_PIN_FINAL_TRY */
    bool pin_locked;          /* CKF_USER_PIN_LOCKED */
    unsigned long pin_min, pin_max; /* ulMinPinLen, ulMaxPinLen */
} cw_p11_token_info_t;

/* C_GetTokenInfo of the open token, trimmed into out. */
cw_err cw_p11_token_info(cw_p11_ctx *ctx, cw_p11_token_info_t *out);

/* len bytes from the token's RNG (C_GenerateRandom). len 0 is a no-op. */
cw_err cw_p11_random(cw_p11_ctx *ctx, uint8_t *buf, size_t len);

/* Does uri (its token attributes: token, manufacturer, serial, model) name the token this
 * session is open on? */
cw_err cw_p11_is_this_token(cw_p11_ctx *ctx, const cw_p11_uri_t *uri, bool *same);

/* ---- key pairs ------------------------------------------------------------------------------ */

/* A key pair in the token. Handles are valid while ctx's session is open and, for the private
 * key, only while logged in: a token may drop private handles at logout (SoftHSM2 does, and
 * they stay dead after the next login). After a login, re-open pairs with
 * cw_p11_key_find_by_id. Using a dropped handle while logged out is CW_ERR_NOT_LOGGED_IN. */
typedef struct cw_p11_key {
    CK_OBJECT_HANDLE priv;
    CK_OBJECT_HANDLE pub;
    cw_key_type type;
    uint8_t id[CW_P11_KEY_ID_LEN];
    size_t id_len;
    uint32_t gen; /* the context's gen when the handles were read: older ones are found again by ID */
} cw_p11_key;

/* Generates a key pair in the token (needs the user login):
 *   private: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_SIGN true,
 *            CKA_DECRYPT = allow_decrypt, CKA_UNWRAP false, CKA_DERIVE false, CKA_LABEL = label
 *   public:  CKA_TOKEN, CKA_PRIVATE false, CKA_WRAP false, CKA_LABEL = label (CKA_VERIFY and
 *            CKA_ENCRYPT are the token's defaults: a TPM ties them to the private key's uses)
 * then sets CKA_ID on both to SHA-1 of the subjectPublicKey bits (what openssl writes as the
 * certificate's subjectKeyIdentifier); if that fails, both keys are destroyed.
 * Checks first that the token generates this size (CW_ERR_KEY_SIZE, cw_p11_key_size_check) and
 * offers a mechanism to sign with it (and RSA decryption when asked): CW_ERR_MECHANISM if not. allow_decrypt with an EC type is
 * CW_ERR_INVALID_ARG. Other errors: the token's (CKR_USER_NOT_LOGGED_IN when logged out). */
cw_err cw_p11_keygen(cw_p11_ctx *ctx, cw_key_type type, const char *label, bool allow_decrypt,
                     cw_p11_key *out);

/* Key sizes: bits certwiz would generate for a type (RSA: modulus; EC: the field) and the range
 * the token's generation mechanism gives (CK_MECHANISM_INFO ulMinKeySize..ulMaxKeySize). */
typedef struct cw_p11_key_range_t {
    unsigned long bits, min, max;
} cw_p11_key_range_t;

/* Can the token generate a key of this type? Fills range (bits always; min and max when the token
 * offers the generation mechanism) so an error can name the size and the range ("RSA-4096: this
 * token makes RSA keys of 1024 to 3072 bits"). CW_ERR_KEY_SIZE out of range, CW_ERR_MECHANISM
 * when the token does not generate that key type at all. Token calls only for the first question
 * after an open (the token's mechanisms are read once, then held in ctx). */
cw_err cw_p11_key_size_check(cw_p11_ctx *ctx, cw_key_type type, cw_p11_key_range_t *range);

/* The mechanism cw_p11_sign uses for a key of this type and hash, chosen from what the token
 * offers (C_GetMechanismList and C_GetMechanismInfo, read once per open): RSA signs with
 * CKM_SHA*_RSA_PKCS when offered, else CKM_RSA_PKCS over the DigestInfo; ECDSA with CKM_ECDSA
 * over the hash when offered, else CKM_ECDSA_SHA*. cw_p11_sign_digest has only the digest and
 * uses the raw mechanisms. CW_ERR_MECHANISM when the token offers none. */
cw_err cw_p11_sign_mechanism(cw_p11_ctx *ctx, cw_key_type type, cw_hash_alg hash, CK_MECHANISM_TYPE *mech);

/* Removes a key pair: the private half first, then the public one, so that a token refusing to
 * remove the private key never leaves it without its public half. Before either goes, each handle
 * is checked to still name this key (CKA_CLASS and CKA_ID, one read each): a token may give a
 * destroyed object's handle to the next object it makes (tpm2-pkcs11 does), and a stale
 * cw_p11_key would then remove someone else's key. A handle naming another object:
 * CW_ERR_TOKEN_HANDLE_REUSED and nothing is removed; a half already gone is skipped. */
cw_err cw_p11_key_destroy(cw_p11_ctx *ctx, const cw_p11_key *key);

/* Re-opens a key pair by CKA_ID (id_len <= CW_P11_KEY_ID_LEN, else CW_ERR_TOO_LARGE) or by
 * CKA_LABEL: both a private and a public key must match. CW_ERR_NOT_FOUND if none,
 * CW_ERR_AMBIGUOUS if more than one private key matches, CW_ERR_NOT_SUPPORTED for a key type or
 * size certwiz does not generate. Finding a private key needs the user login. */
cw_err cw_p11_key_find_by_id(cw_p11_ctx *ctx, const uint8_t *id, size_t id_len, cw_p11_key *out);
cw_err cw_p11_key_find_by_label(cw_p11_ctx *ctx, const char *label, cw_p11_key *out);

/* The public key as SubjectPublicKeyInfo DER (rsaEncryption with NULL parameters, or
 * id-ecPublicKey with the named curve), two-pass; at most CW_P11_SPKI_MAX bytes. */
cw_err cw_p11_pubkey_spki(cw_p11_ctx *ctx, const cw_p11_key *key, uint8_t *out, size_t cap,
                          size_t *len);

/* Signs data[0..len) in the token with the mechanism cw_p11_sign_mechanism names: RSA PKCS#1
 * v1.5 or ECDSA (returned as DER ECDSA-Sig-Value); where the mechanism is a raw one, mbedTLS
 * hashes first. A C_Sign that fails leaves no operation behind: the layer then moves to a fresh
 * session (the login stays), so the next call works on any token. Token calls: C_SignInit and
 * C_Sign (plus the mechanism list once per open).
 * Two-pass: *siglen first gets the most the signature can take (RSA: the modulus length, which
 * is exact; ECDSA: 72 for P-256, 104 for P-384), then the actual length. The token refusing the
 * mechanism comes back as its CKR_MECHANISM_INVALID (or CKR_KEY_FUNCTION_NOT_PERMITTED, ...);
 * logged out: CKR_USER_NOT_LOGGED_IN from the token, or CW_ERR_NOT_LOGGED_IN when the token
 * answers with a handle error because it dropped the key's handle at logout. */
/* Most bytes a signature by a key of this type takes: the RSA modulus; ECDSA as DER, 72 for
 * P-256 and 104 for P-384. */
size_t cw_p11_sig_max(cw_key_type t);

cw_err cw_p11_sign(cw_p11_ctx *ctx, const cw_p11_key *key, cw_hash_alg hash, const uint8_t *data,
                   size_t len, uint8_t *sig, size_t cap, size_t *siglen);

/* As cw_p11_sign, over a digest already computed with hash (dlen must be its length). */
cw_err cw_p11_sign_digest(cw_p11_ctx *ctx, const cw_p11_key *key, cw_hash_alg hash,
                          const uint8_t *digest, size_t dlen, uint8_t *sig, size_t cap,
                          size_t *siglen);

/* RSA PKCS#1 v1.5 decryption in the token (CKM_RSA_PKCS). A failed C_Decrypt moves to a fresh
 * session, as for signing. Two-pass: cap must be at least the
 * modulus length - 11 (reported in *outlen), then *outlen gets the plaintext length. The
 * token's scratch copy is wiped. A key made without allow_decrypt gets the token's
 * CKR_KEY_FUNCTION_NOT_PERMITTED; an EC key CW_ERR_INVALID_ARG. */
cw_err cw_p11_decrypt(cw_p11_ctx *ctx, const cw_p11_key *key, const uint8_t *in, size_t len,
                      uint8_t *out, size_t cap, size_t *outlen);

/* ---- objects -------------------------------------------------------------------------------- */

/* CKA_CERTIFICATE_CATEGORY values. */
#define CW_P11_CERT_CATEGORY_USER 1u      /* token user: certwiz's own certificates */
#define CW_P11_CERT_CATEGORY_AUTHORITY 2u /* CA and intermediate certificates */

/* Stores a DER X.509 certificate as a public token object (CKO_CERTIFICATE, CKC_X_509,
 * CKA_TOKEN true, CKA_PRIVATE false) with CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER (the
 * DER INTEGER) taken from the DER, CKA_VALUE, CKA_CERTIFICATE_CATEGORY, CKA_ID (id may be NULL
 * with idlen 0: none) and CKA_LABEL. CW_ERR_MALFORMED / CW_ERR_TRUNCATED for bad DER. */
cw_err cw_p11_cert_create(cw_p11_ctx *ctx, const uint8_t *der, size_t len, const char *label,
                          const uint8_t *id, size_t idlen, unsigned long category,
                          CK_OBJECT_HANDLE *out);

/* Stores a CKO_DATA record (CKA_TOKEN true) with CKA_APPLICATION = application (certwiz uses
 * "certwiz"), CKA_LABEL and CKA_VALUE. is_private sets CKA_PRIVATE: a private record needs the
 * user login to create and to see; a public one can be read without it (certwiz's records are
 * public so that `status`, `roles` and `topology show` work before a login, and certwiz itself
 * only writes them after one). */
/* Does the token let this (logged-out) session make a public data object? Tries a session object
 * (CKA_TOKEN false: nothing is written to the token) and removes it: *allowed is whether
 * C_CreateObject succeeded (tpm2-pkcs11 answers CKR_SESSION_READ_ONLY, SoftHSM2 CKR_OK).
 * 1 or 2 token calls. CW_ERR_NO_TOKEN when the context is not open. */
cw_err cw_p11_public_data_allowed(cw_p11_ctx *ctx, bool *allowed);

cw_err cw_p11_data_create(cw_p11_ctx *ctx, const char *application, const char *label, bool is_private,
                          const uint8_t *value, size_t len, CK_OBJECT_HANDLE *out);

/* What to look for: only the set fields go into the search template. Zero it first. */
typedef struct cw_p11_match_t {
    bool has_class;
    CK_OBJECT_CLASS cls;
    const char *label;       /* NULL: any */
    const uint8_t *id;       /* NULL: any */
    size_t id_len;
    const char *application; /* NULL: any (CKO_DATA only) */
} cw_p11_match_t;

/* Handles of the matching objects (private objects only when logged in). Two-pass: when out
 * is NULL or more than cap objects match, out holds the first cap, *n the total, and the
 * result is CW_ERR_BUFFER_SMALL. */
cw_err cw_p11_find(cw_p11_ctx *ctx, const cw_p11_match_t *m, CK_OBJECT_HANDLE *out, size_t cap,
                   size_t *n);

/* One attribute's value (CKA_VALUE, CKA_LABEL, CKA_ID, ...), two-pass. The token's answer for a
 * missing or sensitive attribute comes back wrapped (CKR_ATTRIBUTE_TYPE_INVALID,
 * CKR_ATTRIBUTE_SENSITIVE). Secret values of private and secret keys (CKA_VALUE, the RSA
 * private components) are refused with CW_ERR_INVALID_ARG whatever the token would allow. */
cw_err cw_p11_read_attr(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t *buf,
                        size_t cap, size_t *len);

/* C_DestroyObject. */
cw_err cw_p11_destroy(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h);

/* Removes the objects a power cut left half-made in the token, and returns how many in *removed.
 * A token that writes an object in steps (SoftHSM2 rewrites the object's file for each: nothing
 * but a generation, then its class, then the class's defaults, then the caller's template, then
 * the key material) shows such an object after a cut without CKA_TOKEN, or with CKA_TOKEN false
 * although it lives in the token. No finished token object says that, and certwiz makes no
 * session objects, so every object the session sees whose CKA_TOKEN is not true is one. It costs
 * one attribute read per object. Another program creating an object at this very moment would
 * show the same: call this once, at the first login after the device starts, not while other
 * writers may be mid-creation (docs/store.md). Private ones are seen only when logged in. */
cw_err cw_p11_sweep_unfinished(cw_p11_ctx *ctx, size_t *removed);

#endif /* CW_P11_H */
