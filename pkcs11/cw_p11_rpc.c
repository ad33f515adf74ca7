/*
 * cw_p11_rpc.c: the client side of p11-kit's RPC protocol, streaming (cw_p11_rpc.h).
 *
 * The wire (protocol version 0, as every p11-kit since 0.23 answers a client that offers 0):
 *
 *   link start   client: 1 byte, the version it offers (0); server: 1 byte, the version it takes
 *   message      uint32 call code (the client's sequence number, echoed), uint32 options length,
 *                uint32 body length (all big-endian), the options (none here), the body:
 *   body         uint32 call id, byte array with the call's signature string, the fields
 *   error reply  call id 0, signature "u", the CK_RV
 *
 *   u  CK_ULONG as uint64            y  one byte           v  CK_VERSION, two bytes
 *   s  fixed-length string as a byte array (length checked)
 *   byte array   uint32 length (0xffffffff: NULL), the bytes
 *   ay (request) byte "present", then a byte array, or (absent) a uint32 length
 *   ay (reply)   byte "valid", then a byte array, or (not valid) the needed length as uint32
 *   fy, fu       uint32: the size of the caller's buffer (0 when it has none)
 *   au (reply)   byte "valid", uint32 count, then count uint64 if valid
 *   aA           uint32 count; per attribute uint32 type, byte valid, and if valid uint32 length
 *                and the value by the attribute's kind: one byte (booleans), uint64 (CK_ULONG
 *                types, length declared as 8 whatever the CPU: p11-kit issue #376), else a byte
 *                array
 *   fA           uint32 count; per attribute uint32 type, uint32 size of the caller's buffer
 *   M            uint32 mechanism type, then (no parameters) a NULL byte array up to p11-kit
 *                0.25.5, nothing from 0.25.6 (CW_P11_RPC_MECH_ENCODING)
 */
#include "cw_p11_rpc.h"

#include <string.h>

/* ---- calls -------------------------------------------------------------------------------------- */

typedef struct call_t {
    uint8_t id;        /* p11-kit's P11_RPC_CALL_* number */
    const char *req;   /* request signature */
    const char *rep;   /* reply signature */
} call_t;

enum {
    INITIALIZE, FINALIZE, GET_SLOT_LIST, GET_TOKEN_INFO, GET_MECHANISM_LIST, GET_MECHANISM_INFO,
    OPEN_SESSION, CLOSE_SESSION, CLOSE_ALL_SESSIONS, GET_SESSION_INFO, LOGIN, LOGOUT, CREATE_OBJECT, DESTROY_OBJECT,
    GET_ATTRIBUTE_VALUE, SET_ATTRIBUTE_VALUE, FIND_OBJECTS_INIT, FIND_OBJECTS, FIND_OBJECTS_FINAL,
    DECRYPT_INIT, DECRYPT, SIGN_INIT, SIGN, GENERATE_KEY_PAIR, GENERATE_RANDOM
};

/* p11-kit's rpc-message.h, the calls certwiz makes (the signatures have been stable since 0.23.5). */
static const call_t calls[] = {
    [INITIALIZE] = {1, "ayyay", ""},
    [FINALIZE] = {2, "", ""},
    [GET_SLOT_LIST] = {4, "yfu", "au"},
    [GET_TOKEN_INFO] = {6, "u", "ssssuuuuuuuuuuuvvs"},
    [GET_MECHANISM_LIST] = {7, "ufu", "au"},
    [GET_MECHANISM_INFO] = {8, "uu", "uuu"},
    [OPEN_SESSION] = {10, "uu", "u"},
    [CLOSE_SESSION] = {11, "u", ""},
    [CLOSE_ALL_SESSIONS] = {12, "u", ""},
    [GET_SESSION_INFO] = {13, "u", "uuuu"},
    [LOGIN] = {18, "uuay", ""},
    [LOGOUT] = {19, "u", ""},
    [CREATE_OBJECT] = {20, "uaA", "u"},
    [DESTROY_OBJECT] = {22, "uu", ""},
    [GET_ATTRIBUTE_VALUE] = {24, "uufA", "aAu"},
    [SET_ATTRIBUTE_VALUE] = {25, "uuaA", ""},
    [FIND_OBJECTS_INIT] = {26, "uaA", ""},
    [FIND_OBJECTS] = {27, "ufu", "au"},
    [FIND_OBJECTS_FINAL] = {28, "u", ""},
    [DECRYPT_INIT] = {33, "uMu", ""},
    [DECRYPT] = {34, "uayfy", "ay"},
    [SIGN_INIT] = {42, "uMu", ""},
    [SIGN] = {43, "uayfy", "ay"},
    [GENERATE_KEY_PAIR] = {59, "uMaAaA", "uu"},
    [GENERATE_RANDOM] = {64, "ufy", "ay"},
};

/* Longest reply signature above (C_GetTokenInfo's). */
#define SIG_MAX 18u

/* C_Initialize's greeting, checked by the server. */
static const char greeting[] = "PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1";

#define ARRAY_NULL 0xffffffffu
#define HEADER_LEN 12u

/* ---- state -------------------------------------------------------------------------------------- */

static struct {
    const cw_p11_rpc_link_t *link;
    cw_p11_rpc_state_t state;
    const char *why;
    uint32_t seq;
    cw_p11_rpc_stats_t stats;
} rpc;

static CK_RV broken(const char *why)
{
    rpc.state = CW_P11_RPC_BROKEN;
    rpc.why = why;
    return CKR_DEVICE_ERROR;
}

static CK_RV ready(void)
{
    if (rpc.state == CW_P11_RPC_READY) {
        return CKR_OK;
    }
    return rpc.state == CW_P11_RPC_BROKEN ? CKR_DEVICE_ERROR : CKR_CRYPTOKI_NOT_INITIALIZED;
}

static bool link_send(const uint8_t *p, size_t n)
{
    rpc.stats.bytes_out += (uint32_t)n;
    return rpc.link->send(rpc.link->arg, p, n, CW_P11_RPC_GAP_MS);
}

static size_t link_recv(uint8_t *p, size_t n, uint32_t timeout_ms)
{
    size_t got = rpc.link->recv(rpc.link->arg, p, n, timeout_ms);
    rpc.stats.bytes_in += (uint32_t)got;
    return got;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- attributes --------------------------------------------------------------------------------- */

typedef enum { KIND_BYTES, KIND_BOOL, KIND_ULONG, KIND_NESTED } attr_kind;

/* How p11-kit carries an attribute's value, by type (its rpc-message.c map); unknown types are
 * byte arrays. Nested templates and mechanism lists are not carried by this client. */
static attr_kind kind_of(CK_ATTRIBUTE_TYPE t)
{
    switch (t) {
    case CKA_TOKEN: case CKA_PRIVATE: case CKA_TRUSTED: case CKA_SENSITIVE: case CKA_ENCRYPT:
    case CKA_DECRYPT: case CKA_WRAP: case CKA_UNWRAP: case CKA_SIGN: case CKA_SIGN_RECOVER:
    case CKA_VERIFY: case CKA_VERIFY_RECOVER: case CKA_DERIVE: case CKA_EXTRACTABLE: case CKA_LOCAL:
    case CKA_NEVER_EXTRACTABLE: case CKA_ALWAYS_SENSITIVE: case CKA_MODIFIABLE: case CKA_COPYABLE:
    case CKA_SECONDARY_AUTH: case CKA_ALWAYS_AUTHENTICATE: case CKA_WRAP_WITH_TRUSTED:
    case CKA_RESET_ON_INIT: case CKA_HAS_RESET: case CKA_COLOR:
        return KIND_BOOL;
    case CKA_CLASS: case CKA_CERTIFICATE_TYPE: case CKA_CERTIFICATE_CATEGORY:
    case CKA_JAVA_MIDP_SECURITY_DOMAIN: case CKA_KEY_TYPE: case CKA_MODULUS_BITS: case CKA_PRIME_BITS:
    case CKA_SUB_PRIME_BITS: case CKA_VALUE_BITS: case CKA_VALUE_LEN: case CKA_KEY_GEN_MECHANISM:
    case CKA_AUTH_PIN_FLAGS: case CKA_HW_FEATURE_TYPE: case CKA_PIXEL_X: case CKA_PIXEL_Y:
    case CKA_RESOLUTION: case CKA_CHAR_ROWS: case CKA_CHAR_COLUMNS: case CKA_BITS_PER_PIXEL:
    case CKA_MECHANISM_TYPE:
        return KIND_ULONG;
    case CKA_WRAP_TEMPLATE: case CKA_UNWRAP_TEMPLATE: case CKA_ALLOWED_MECHANISMS:
        return KIND_NESTED;
    default:
        return KIND_BYTES;
    }
}

/* ---- requests ------------------------------------------------------------------------------------
 * A request is written twice by the same code: the first pass only adds up its length (the header
 * needs it before the body) and checks the arguments, the second sends. */

typedef struct wr_t {
    int pass;     /* 0 measuring, 1 sending */
    bool started;
    uint32_t call;
    uint32_t len; /* body length, from pass 0 */
    CK_RV rv;     /* an argument refused in pass 0: nothing is sent */
    bool failed;  /* the link did not take a byte */
} wr_t;

static void w_raw(wr_t *w, const void *p, size_t n)
{
    if (w->pass == 0) {
        w->len += (uint32_t)n;
    } else if (!w->failed && n > 0u) {
        w->failed = !link_send(p, n);
    }
}

static void w_u8(wr_t *w, uint8_t v)
{
    w_raw(w, &v, 1);
}

static void w_u32(wr_t *w, uint32_t v)
{
    uint8_t b[4];
    be32(b, v);
    w_raw(w, b, 4);
}

static void w_ulong(wr_t *w, CK_ULONG v)
{
    uint8_t b[8];
    uint64_t x = (uint64_t)v;
    be32(b, (uint32_t)(x >> 32));
    be32(b + 4, (uint32_t)x);
    w_raw(w, b, 8);
}

static void w_array(wr_t *w, const void *p, CK_ULONG n)
{
    if (p == NULL) {
        w_u32(w, ARRAY_NULL);
        return;
    }
    if (n >= 0x7fffffffu) {
        w->rv = CKR_ARGUMENTS_BAD;
        return;
    }
    w_u32(w, (uint32_t)n);
    w_raw(w, p, (size_t)n);
}

/* ay in a request. */
static void w_in_bytes(wr_t *w, const void *p, CK_ULONG n)
{
    if (p == NULL && n != 0u) {
        w->rv = CKR_ARGUMENTS_BAD;
    }
    w_u8(w, p != NULL ? 1u : 0u);
    if (p != NULL) {
        w_array(w, p, n);
    } else {
        w_u32(w, 0);
    }
}

/* fy, fu: the size of the caller's buffer. */
static void w_room(wr_t *w, const void *buf, const CK_ULONG *n)
{
    if (n == NULL) {
        w->rv = CKR_ARGUMENTS_BAD;
        return;
    }
    w_u32(w, buf != NULL ? (uint32_t)*n : 0u);
}

#if CW_P11_RPC_MECH_ENCODING == CW_P11_RPC_MECH_BARE
/* Mechanisms without parameters that p11-kit 0.25.6+ writes bare; certwiz uses only these. */
static bool bare_mechanism(CK_MECHANISM_TYPE m)
{
    switch (m) {
    case CKM_RSA_PKCS_KEY_PAIR_GEN: case CKM_RSA_PKCS: case CKM_SHA1_RSA_PKCS: case CKM_SHA256_RSA_PKCS:
    case CKM_SHA384_RSA_PKCS: case CKM_SHA512_RSA_PKCS: case CKM_EC_KEY_PAIR_GEN: case CKM_ECDSA:
    case CKM_ECDSA_SHA1: case CKM_ECDSA_SHA256: case CKM_ECDSA_SHA384: case CKM_ECDSA_SHA512:
        return true;
    default:
        return false;
    }
}
#endif

static void w_mech(wr_t *w, const CK_MECHANISM *m)
{
    if (m == NULL || m->mechanism > 0xfffffffeu) {
        w->rv = CKR_ARGUMENTS_BAD;
        return;
    }
    if (m->pParameter != NULL || m->ulParameterLen != 0u) {
        w->rv = CKR_MECHANISM_PARAM_INVALID; /* certwiz's mechanisms take none; none are carried */
        return;
    }
    w_u32(w, (uint32_t)m->mechanism);
#if CW_P11_RPC_MECH_ENCODING == CW_P11_RPC_MECH_NULL_ARRAY
    w_u32(w, ARRAY_NULL);
#else
    if (!bare_mechanism(m->mechanism)) {
        w_u8(w, 0); /* "no parameter" for a mechanism p11-kit would expect one for */
    }
#endif
}

/* aA: a template with values. */
static void w_template(wr_t *w, const CK_ATTRIBUTE *a, CK_ULONG n)
{
    if (n != 0u && a == NULL) {
        w->rv = CKR_ARGUMENTS_BAD;
        return;
    }
    w_u32(w, (uint32_t)n);
    for (CK_ULONG i = 0; i < n; i++) {
        attr_kind k = kind_of(a[i].type);
        w_u32(w, (uint32_t)a[i].type);
        w_u8(w, 1);
        if (k == KIND_BOOL) {
            if (a[i].pValue == NULL || a[i].ulValueLen != 1u) {
                w->rv = CKR_ATTRIBUTE_VALUE_INVALID;
                return;
            }
            w_u32(w, 1);
            w_u8(w, *(const CK_BYTE *)a[i].pValue);
        } else if (k == KIND_ULONG) {
            if (a[i].pValue == NULL || a[i].ulValueLen != sizeof(CK_ULONG)) {
                w->rv = CKR_ATTRIBUTE_VALUE_INVALID;
                return;
            }
            CK_ULONG v;
            memcpy(&v, a[i].pValue, sizeof v);
            w_u32(w, 8); /* 8 on the wire whatever sizeof(CK_ULONG) is (p11-kit issue #376) */
            w_ulong(w, v);
        } else if (k == KIND_BYTES) {
            w_u32(w, (uint32_t)a[i].ulValueLen);
            w_array(w, a[i].pValue, a[i].ulValueLen);
        } else {
            w->rv = CKR_ATTRIBUTE_TYPE_INVALID;
            return;
        }
    }
}

/* fA: the types asked for and the room for each. */
static void w_template_room(wr_t *w, const CK_ATTRIBUTE *a, CK_ULONG n)
{
    if (n != 0u && a == NULL) {
        w->rv = CKR_ARGUMENTS_BAD;
        return;
    }
    w_u32(w, (uint32_t)n);
    for (CK_ULONG i = 0; i < n; i++) {
        attr_kind k = kind_of(a[i].type);
        uint32_t room = a[i].pValue != NULL ? (uint32_t)a[i].ulValueLen : 0u;
        if (k == KIND_NESTED) {
            w->rv = CKR_ATTRIBUTE_TYPE_INVALID;
            return;
        }
        if (k == KIND_ULONG && a[i].pValue != NULL && a[i].ulValueLen >= sizeof(CK_ULONG)) {
            room = 8; /* the server's CK_ULONG; we narrow it on the way back */
        }
        w_u32(w, (uint32_t)a[i].type);
        w_u32(w, room);
    }
}

static void w_begin(wr_t *w, uint32_t call)
{
    memset(w, 0, sizeof *w);
    w->call = call;
    w->len = 8u + (uint32_t)strlen(calls[call].req);
}

/* The loop condition of a request: true for the measuring pass, then (arguments accepted) once
 * more for the sending pass, which it starts with the header, the call id and the signature. */
static bool w_pass(wr_t *w)
{
    if (w->pass == 0 && !w->started) {
        w->started = true;
        return true;
    }
    if (w->pass++ != 0 || w->rv != CKR_OK) {
        return false;
    }
    uint8_t h[HEADER_LEN + 4];
    const char *sig = calls[w->call].req;
    rpc.seq++;
    rpc.stats.calls++;
    be32(h, rpc.seq);
    be32(h + 4, 0);
    be32(h + 8, w->len);
    be32(h + 12, calls[w->call].id);
    w->failed = !link_send(h, sizeof h);
    w_array(w, sig, strlen(sig));
    return true;
}

/* After the loop: the refusal of an argument, or the link's failure. */
static CK_RV w_end(const wr_t *w)
{
    if (w->rv != CKR_OK) {
        return w->rv;
    }
    return w->failed ? broken("the PC side takes no bytes (send failed or timed out)") : CKR_OK;
}

/* ---- replies ---------------------------------------------------------------------------------- */

typedef struct rd_t {
    uint32_t left;    /* body bytes not read yet */
    const char *bad;  /* first problem: the link is broken */
} rd_t;

static bool r_raw(rd_t *r, uint8_t *p, size_t n)
{
    if (r->bad != NULL) {
        return false;
    }
    if (n > r->left) {
        r->bad = "a reply shorter than its fields";
        return false;
    }
    if (n > 0u && link_recv(p, n, CW_P11_RPC_GAP_MS) != n) {
        r->bad = "a reply stopped midway";
        return false;
    }
    r->left -= (uint32_t)n;
    return true;
}

static void r_skip(rd_t *r, uint32_t n)
{
    uint8_t junk[16];
    while (n > 0u && r->bad == NULL) {
        uint32_t k = n < sizeof junk ? n : (uint32_t)sizeof junk;
        (void)r_raw(r, junk, k);
        n -= k;
    }
}

static uint8_t r_u8(rd_t *r)
{
    uint8_t v = 0;
    (void)r_raw(r, &v, 1);
    return v;
}

static uint32_t r_u32(rd_t *r)
{
    uint8_t b[4] = {0};
    (void)r_raw(r, b, 4);
    return get_be32(b);
}

/* A CK_ULONG: all ones is CK_UNAVAILABLE_INFORMATION at any width; another value too wide for
 * this CPU's CK_ULONG is refused. */
static CK_ULONG r_ulong(rd_t *r)
{
    uint8_t b[8] = {0};
    (void)r_raw(r, b, 8);
    uint64_t v = (uint64_t)get_be32(b) << 32 | get_be32(b + 4);
    if (v == UINT64_MAX) {
        return CK_UNAVAILABLE_INFORMATION;
    }
    if (v > (uint64_t)(CK_ULONG)-1 && r->bad == NULL) {
        r->bad = "a reply number too large for this CPU";
        return 0;
    }
    return (CK_ULONG)v;
}

/* A byte array's length (ARRAY_NULL for NULL), checked against what the body still holds. */
static uint32_t r_array_len(rd_t *r)
{
    uint32_t n = r_u32(r);
    if (n != ARRAY_NULL && n > r->left && r->bad == NULL) {
        r->bad = "a reply array longer than its body";
    }
    return r->bad != NULL ? 0u : n;
}

/* s: a fixed-length string. */
static void r_string(rd_t *r, CK_UTF8CHAR *dst, uint32_t n)
{
    if (r_array_len(r) != n) {
        if (r->bad == NULL) {
            r->bad = "a reply string of the wrong length";
        }
        return;
    }
    (void)r_raw(r, dst, n);
}

static void r_version(rd_t *r, CK_VERSION *v)
{
    v->major = r_u8(r);
    v->minor = r_u8(r);
}

/* ay in a reply, into buf of *len bytes (buf NULL: the length only). */
static CK_RV r_out_bytes(rd_t *r, CK_BYTE *buf, CK_ULONG *len)
{
    CK_ULONG cap = *len;
    if (r_u8(r) == 0u) {
        *len = r_u32(r);
        return buf != NULL ? CKR_BUFFER_TOO_SMALL : CKR_OK;
    }
    uint32_t n = r_array_len(r);
    if (n == ARRAY_NULL) {
        n = 0;
    }
    *len = n;
    if (buf == NULL || n > cap) {
        r_skip(r, n);
        return buf == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
    }
    (void)r_raw(r, buf, n);
    return CKR_OK;
}

/* au in a reply, into out of *count entries (out NULL: the count only). */
static CK_RV r_out_ulongs(rd_t *r, CK_ULONG *out, CK_ULONG *count)
{
    CK_ULONG cap = *count;
    uint8_t valid = r_u8(r);
    uint32_t n = r_u32(r);
    *count = n;
    if (valid == 0u) {
        return out != NULL ? CKR_BUFFER_TOO_SMALL : CKR_OK;
    }
    if (n > r->left / 8u || (out != NULL && n > cap)) {
        /* more than it holds, or than the room it was told of (a caller indexes by the count) */
        if (r->bad == NULL) {
            r->bad = "a reply list longer than its room";
        }
        *count = 0;
        return CKR_DEVICE_ERROR;
    }
    for (uint32_t i = 0; i < n; i++) {
        CK_ULONG v = r_ulong(r);
        if (out != NULL) {
            out[i] = v;
        }
    }
    return CKR_OK;
}

/* Reads the reply's header, call id and signature. CKR_OK: the fields of the call's reply follow.
 * A token error: the error frame has been read whole and the link goes on. CKR_DEVICE_ERROR: the
 * link is broken (why set). */
static CK_RV r_begin(rd_t *r, uint32_t call, uint32_t timeout_ms)
{
    uint8_t h[HEADER_LEN];
    char sig[SIG_MAX];

    r->bad = NULL;
    r->left = 0;
    if (link_recv(h, 1, timeout_ms) != 1u) {
        return broken("no reply in time (is the token server running?)");
    }
    if (link_recv(h + 1, HEADER_LEN - 1u, CW_P11_RPC_GAP_MS) != HEADER_LEN - 1u) {
        return broken("a reply header stopped midway");
    }
    uint32_t olen = get_be32(h + 4);
    uint32_t blen = get_be32(h + 8);
    if (get_be32(h) != rpc.seq) {
        return broken("a reply to another request");
    }
    if (olen > 0u || blen < 8u || blen > CW_P11_RPC_BODY_MAX) {
        return broken("a reply header with impossible lengths");
    }
    r->left = blen;
    uint32_t id = r_u32(r);
    uint32_t slen = r_array_len(r);
    const char *want = id == 0u ? "u" : calls[call].rep;
    if (r->bad == NULL && (id != 0u && id != calls[call].id)) {
        r->bad = "a reply for another call";
    }
    if (r->bad == NULL && (slen != strlen(want) || slen > SIG_MAX)) {
        r->bad = "a reply with the wrong signature";
    }
    if (r->bad == NULL && r_raw(r, (uint8_t *)sig, slen) && memcmp(sig, want, slen) != 0) {
        r->bad = "a reply with the wrong signature";
    }
    if (r->bad != NULL) {
        return broken(r->bad);
    }
    if (id == 0u) {
        CK_ULONG rv = r_ulong(r);
        if (r->bad == NULL && (rv == CKR_OK || r->left != 0u)) {
            r->bad = "a malformed error reply";
        }
        return r->bad != NULL ? broken(r->bad) : (CK_RV)rv;
    }
    return CKR_OK;
}

/* After the fields: a problem met while reading them breaks the link, as do bytes left over. */
static CK_RV r_end(rd_t *r, CK_RV rv)
{
    if (r->bad == NULL && r->left != 0u) {
        r->bad = "a reply longer than its fields";
    }
    return r->bad != NULL ? broken(r->bad) : rv;
}

/* ---- the link ------------------------------------------------------------------------------------ */

void cw_p11_rpc_init(const cw_p11_rpc_link_t *link)
{
    memset(&rpc, 0, sizeof rpc);
    rpc.link = link;
    rpc.state = CW_P11_RPC_DOWN;
    rpc.why = "no handshake yet";
}

CK_RV cw_p11_rpc_connect(void)
{
    uint8_t b[16];
    size_t n = 0;

    if (rpc.link == NULL) {
        rpc.why = "no link configured";
        return CKR_DEVICE_ERROR;
    }
    if (rpc.state == CW_P11_RPC_LINKED || rpc.state == CW_P11_RPC_READY) {
        return CKR_OK;
    }
    /* Whatever a previous server still had to say is not for this link. */
    for (int i = 0; i < 64 && link_recv(b, sizeof b, 0) > 0u; i++) {
    }
    b[0] = 0; /* the protocol version offered */
    if (!link_send(b, 1)) {
        rpc.state = CW_P11_RPC_DOWN;
        rpc.why = "the token link takes no bytes";
        return CKR_DEVICE_ERROR;
    }
    n = link_recv(b, 1, CW_P11_RPC_HANDSHAKE_MS);
    if (n != 1u) {
        rpc.state = CW_P11_RPC_DOWN;
        rpc.why = "nothing answered the p11-kit handshake on the token link";
        return CKR_DEVICE_ERROR;
    }
    if (b[0] != 0u) {
        return broken("a handshake answer other than version 0");
    }
    rpc.state = CW_P11_RPC_LINKED;
    rpc.why = "";
    return CKR_OK;
}

cw_p11_rpc_state_t cw_p11_rpc_state(void)
{
    return rpc.state;
}

const char *cw_p11_rpc_why(void)
{
    return rpc.why != NULL ? rpc.why : "";
}

void cw_p11_rpc_stats(cw_p11_rpc_stats_t *out)
{
    *out = rpc.stats;
}

void cw_p11_rpc_stats_reset(void)
{
    memset(&rpc.stats, 0, sizeof rpc.stats);
}

/* ---- Cryptoki --------------------------------------------------------------------------------- */

/* Sends a request whose arguments are all CK_ULONGs and starts reading its reply. */
/* Sends the request w holds and reads the answer's header: CKR_OK, then the caller reads the
 * answer's arguments from r and ends it with r_end. */
static CK_RV exchange(const wr_t *w, rd_t *r, uint32_t call, uint32_t timeout_ms)
{
    CK_RV rv = w_end(w);
    return rv != CKR_OK ? rv : r_begin(r, call, timeout_ms);
}

static CK_RV ask(uint32_t call, const CK_ULONG *in, size_t nin, rd_t *r)
{
    wr_t w;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    for (w_begin(&w, call); w_pass(&w);) {
        for (size_t i = 0; i < nin; i++) {
            w_ulong(&w, in[i]);
        }
    }
    return exchange(&w, r, call, CW_P11_RPC_REPLY_MS);
}

/* The calls whose arguments and answers are all CK_ULONGs. */
static CK_RV call_ulongs(uint32_t call, const CK_ULONG *in, size_t nin, CK_ULONG *out, size_t nout)
{
    rd_t r;
    CK_RV rv = ask(call, in, nin, &r);
    if (rv != CKR_OK) {
        return rv;
    }
    for (size_t i = 0; i < nout; i++) {
        out[i] = r_ulong(&r);
    }
    return r_end(&r, CKR_OK);
}

static CK_RV rpc_Initialize(CK_VOID_PTR args)
{
    wr_t w;
    rd_t r;
    (void)args; /* one thread: no locking to agree on; no reserved string is passed on */
    if (rpc.state == CW_P11_RPC_READY) {
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    CK_RV rv = cw_p11_rpc_connect();
    if (rv != CKR_OK) {
        return rv;
    }
    for (w_begin(&w, INITIALIZE); w_pass(&w);) {
        w_in_bytes(&w, greeting, sizeof greeting - 1u);
        w_u8(&w, 0);           /* no reserved string ... */
        w_in_bytes(&w, "", 1); /* ... sent as "" with its NUL, as p11-kit's own client does */
    }
    rv = exchange(&w, &r, INITIALIZE, CW_P11_RPC_REPLY_MS);
    if (rv == CKR_OK) {
        rv = r_end(&r, CKR_OK);
    }
    if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        rpc.state = CW_P11_RPC_READY;
    }
    return rv;
}

static CK_RV rpc_Finalize(CK_VOID_PTR reserved)
{
    if (reserved != NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (rpc.state == CW_P11_RPC_BROKEN) {
        return CKR_OK; /* nothing to tell a link that is gone; C_Initialize starts afresh */
    }
    CK_RV rv = call_ulongs(FINALIZE, NULL, 0, NULL, 0);
    if (rpc.state == CW_P11_RPC_READY) {
        rpc.state = CW_P11_RPC_LINKED;
    }
    return rv;
}

/* C_GetSlotList, C_GetMechanismList, C_FindObjects: one CK_ULONG (or byte) and a list back. */
static CK_RV call_list(uint32_t call, CK_ULONG first, CK_ULONG *out, CK_ULONG *count)
{
    wr_t w;
    rd_t r;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    for (w_begin(&w, call); w_pass(&w);) {
        if (call == GET_SLOT_LIST) {
            w_u8(&w, (uint8_t)first);
        } else {
            w_ulong(&w, first);
        }
        w_room(&w, out, count);
    }
    rv = exchange(&w, &r, call, CW_P11_RPC_REPLY_MS);
    return rv != CKR_OK ? rv : r_end(&r, r_out_ulongs(&r, out, count));
}

static CK_RV rpc_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR slots, CK_ULONG_PTR count)
{
    return call_list(GET_SLOT_LIST, present, slots, count);
}

static CK_RV rpc_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    rd_t r;
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    CK_RV rv = ask(GET_TOKEN_INFO, &slot, 1, &r);
    if (rv != CKR_OK) {
        return rv;
    }
    r_string(&r, info->label, sizeof info->label);
    r_string(&r, info->manufacturerID, sizeof info->manufacturerID);
    r_string(&r, info->model, sizeof info->model);
    r_string(&r, info->serialNumber, sizeof info->serialNumber);
    CK_ULONG *u[] = {&info->flags, &info->ulMaxSessionCount, &info->ulSessionCount,
                     &info->ulMaxRwSessionCount, &info->ulRwSessionCount, &info->ulMaxPinLen,
                     &info->ulMinPinLen, &info->ulTotalPublicMemory, &info->ulFreePublicMemory,
                     &info->ulTotalPrivateMemory, &info->ulFreePrivateMemory};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        *u[i] = r_ulong(&r);
    }
    r_version(&r, &info->hardwareVersion);
    r_version(&r, &info->firmwareVersion);
    r_string(&r, info->utcTime, sizeof info->utcTime);
    return r_end(&r, CKR_OK);
}

static CK_RV rpc_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
    return call_list(GET_MECHANISM_LIST, slot, list, count);
}

static CK_RV rpc_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
    CK_ULONG in[2] = {slot, type};
    CK_ULONG out[3];
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    CK_RV rv = call_ulongs(GET_MECHANISM_INFO, in, 2, out, 3);
    if (rv == CKR_OK) {
        info->ulMinKeySize = out[0];
        info->ulMaxKeySize = out[1];
        info->flags = out[2];
    }
    return rv;
}

static CK_RV rpc_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                             CK_SESSION_HANDLE_PTR session)
{
    CK_ULONG in[2] = {slot, flags};
    (void)app;
    (void)notify; /* p11-kit carries no callbacks */
    return session == NULL ? CKR_ARGUMENTS_BAD : call_ulongs(OPEN_SESSION, in, 2, session, 1);
}

static CK_RV rpc_CloseSession(CK_SESSION_HANDLE session)
{
    return call_ulongs(CLOSE_SESSION, &session, 1, NULL, 0);
}

static CK_RV rpc_CloseAllSessions(CK_SLOT_ID slot)
{
    return call_ulongs(CLOSE_ALL_SESSIONS, &slot, 1, NULL, 0);
}

static CK_RV rpc_GetSessionInfo(CK_SESSION_HANDLE session, CK_SESSION_INFO_PTR info)
{
    CK_ULONG out[4];
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    CK_RV rv = call_ulongs(GET_SESSION_INFO, &session, 1, out, 4);
    if (rv == CKR_OK) {
        info->slotID = out[0];
        info->state = out[1];
        info->flags = out[2];
        info->ulDeviceError = out[3];
    }
    return rv;
}

static CK_RV rpc_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    wr_t w;
    rd_t r;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    for (w_begin(&w, LOGIN); w_pass(&w);) {
        w_ulong(&w, session);
        w_ulong(&w, user);
        w_in_bytes(&w, pin, len); /* from the caller's buffer to the link: no copy to wipe */
    }
    rv = exchange(&w, &r, LOGIN, CW_P11_RPC_REPLY_MS);
    return rv != CKR_OK ? rv : r_end(&r, CKR_OK);
}

static CK_RV rpc_Logout(CK_SESSION_HANDLE session)
{
    return call_ulongs(LOGOUT, &session, 1, NULL, 0);
}

/* C_CreateObject, C_FindObjectsInit, C_SetAttributeValue: handles and a template; maybe a
 * handle back. */
static CK_RV call_template(uint32_t call, const CK_ULONG *in, size_t nin, const CK_ATTRIBUTE *t,
                           CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    wr_t w;
    rd_t r;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    for (w_begin(&w, call); w_pass(&w);) {
        for (size_t i = 0; i < nin; i++) {
            w_ulong(&w, in[i]);
        }
        w_template(&w, t, n);
    }
    rv = exchange(&w, &r, call, CW_P11_RPC_REPLY_MS);
    if (rv != CKR_OK) {
        return rv;
    }
    if (out != NULL) {
        *out = r_ulong(&r);
    }
    return r_end(&r, CKR_OK);
}

static CK_RV rpc_CreateObject(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                              CK_OBJECT_HANDLE_PTR object)
{
    return object == NULL ? CKR_ARGUMENTS_BAD : call_template(CREATE_OBJECT, &session, 1, t, n, object);
}

static CK_RV rpc_DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
{
    CK_ULONG in[2] = {session, object};
    return call_ulongs(DESTROY_OBJECT, in, 2, NULL, 0);
}

/* One attribute of C_GetAttributeValue's reply into the caller's a: the value when it fits, else
 * the length (buffer NULL) or CK_UNAVAILABLE_INFORMATION and BUFFER_TOO_SMALL. */
static CK_RV r_attribute(rd_t *r, CK_ATTRIBUTE *a)
{
    uint32_t type = r_u32(r);
    if (r->bad == NULL && type != (uint32_t)a->type) {
        r->bad = "a reply with other attributes than asked";
    }
    if (r_u8(r) == 0u) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION; /* sensitive, invalid or too small: rv says */
        return CKR_OK;
    }
    uint32_t declared = r_u32(r);
    attr_kind k = kind_of(a->type);
    if (k == KIND_BOOL || k == KIND_ULONG) {
        uint8_t b = 0;
        CK_ULONG v = 0;
        if (k == KIND_BOOL) {
            (void)r_raw(r, &b, 1);
        } else {
            v = r_ulong(r);
        }
        size_t size = k == KIND_BOOL ? 1u : sizeof(CK_ULONG);
        if (a->pValue == NULL) {
            a->ulValueLen = size;
        } else if (a->ulValueLen < size) {
            a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            return CKR_BUFFER_TOO_SMALL;
        } else {
            a->ulValueLen = size;
            if (k == KIND_BOOL) {
                *(CK_BYTE *)a->pValue = b;
            } else {
                memcpy(a->pValue, &v, sizeof v);
            }
        }
        return CKR_OK;
    }
    uint32_t n = r_array_len(r);
    if (n == ARRAY_NULL) {
        /* the server had no buffer either: the length is the declared one */
        if (a->pValue != NULL && r->bad == NULL) {
            r->bad = "a reply without a value asked for";
        }
        a->ulValueLen = declared;
        return CKR_OK;
    }
    if (a->pValue == NULL || n > a->ulValueLen) {
        r_skip(r, n);
        a->ulValueLen = a->pValue == NULL ? n : CK_UNAVAILABLE_INFORMATION;
        return a->pValue == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
    }
    (void)r_raw(r, a->pValue, n);
    a->ulValueLen = n;
    return CKR_OK;
}

static CK_RV rpc_GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR t,
                                   CK_ULONG n)
{
    wr_t w;
    rd_t r;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    for (w_begin(&w, GET_ATTRIBUTE_VALUE); w_pass(&w);) {
        w_ulong(&w, session);
        w_ulong(&w, object);
        w_template_room(&w, t, n);
    }
    rv = exchange(&w, &r, GET_ATTRIBUTE_VALUE, CW_P11_RPC_REPLY_MS);
    if (rv != CKR_OK) {
        return rv;
    }
    CK_RV mine = CKR_OK;
    if (r_u32(&r) != n && r.bad == NULL) {
        r.bad = "a reply with other attributes than asked";
    }
    for (CK_ULONG i = 0; i < n && r.bad == NULL; i++) {
        CK_RV e = r_attribute(&r, &t[i]);
        if (e != CKR_OK) {
            mine = e;
        }
    }
    rv = r_ulong(&r); /* the token's own answer: SENSITIVE, TYPE_INVALID, BUFFER_TOO_SMALL travel here */
    return r_end(&r, rv != CKR_OK ? rv : mine);
}

static CK_RV rpc_SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR t,
                                   CK_ULONG n)
{
    CK_ULONG in[2] = {session, object};
    return call_template(SET_ATTRIBUTE_VALUE, in, 2, t, n, NULL);
}

static CK_RV rpc_FindObjectsInit(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    return call_template(FIND_OBJECTS_INIT, &session, 1, t, n, NULL);
}

static CK_RV rpc_FindObjects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objects, CK_ULONG max,
                             CK_ULONG_PTR count)
{
    if (objects == NULL || count == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    *count = max;
    return call_list(FIND_OBJECTS, session, objects, count);
}

static CK_RV rpc_FindObjectsFinal(CK_SESSION_HANDLE session)
{
    return call_ulongs(FIND_OBJECTS_FINAL, &session, 1, NULL, 0);
}

/* C_SignInit, C_DecryptInit. */
static CK_RV call_init(uint32_t call, CK_SESSION_HANDLE session, const CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
    wr_t w;
    rd_t r;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    for (w_begin(&w, call); w_pass(&w);) {
        w_ulong(&w, session);
        w_mech(&w, m);
        w_ulong(&w, key);
    }
    rv = exchange(&w, &r, call, CW_P11_RPC_REPLY_MS);
    return rv != CKR_OK ? rv : r_end(&r, CKR_OK);
}

/* C_Sign, C_Decrypt: bytes in, bytes out (two-pass by the caller's buffer), and
 * C_GenerateRandom (in NULL). */
static CK_RV call_bytes(uint32_t call, CK_SESSION_HANDLE session, const CK_BYTE *in, CK_ULONG in_len,
                        CK_BYTE *out, CK_ULONG *out_len)
{
    wr_t w;
    rd_t r;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    if (out_len == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    for (w_begin(&w, call); w_pass(&w);) {
        w_ulong(&w, session);
        if (call != GENERATE_RANDOM) {
            w_in_bytes(&w, in, in_len);
        }
        w_room(&w, out, out_len);
    }
    rv = exchange(&w, &r, call, CW_P11_RPC_REPLY_MS);
    return rv != CKR_OK ? rv : r_end(&r, r_out_bytes(&r, out, out_len));
}

static CK_RV rpc_DecryptInit(CK_SESSION_HANDLE session, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    return call_init(DECRYPT_INIT, session, m, key);
}

static CK_RV rpc_Decrypt(CK_SESSION_HANDLE session, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                         CK_ULONG_PTR out_len)
{
    return call_bytes(DECRYPT, session, in, in_len, out, out_len);
}

static CK_RV rpc_SignInit(CK_SESSION_HANDLE session, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    return call_init(SIGN_INIT, session, m, key);
}

static CK_RV rpc_Sign(CK_SESSION_HANDLE session, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR sig,
                      CK_ULONG_PTR sig_len)
{
    return call_bytes(SIGN, session, in, in_len, sig, sig_len);
}

static CK_RV rpc_GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub,
                                 CK_ULONG npub, CK_ATTRIBUTE_PTR priv, CK_ULONG npriv,
                                 CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv)
{
    wr_t w;
    rd_t r;
    CK_RV rv = ready();
    if (rv != CKR_OK) {
        return rv;
    }
    if (hpub == NULL || hpriv == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    for (w_begin(&w, GENERATE_KEY_PAIR); w_pass(&w);) {
        w_ulong(&w, session);
        w_mech(&w, m);
        w_template(&w, pub, npub);
        w_template(&w, priv, npriv);
    }
    rv = exchange(&w, &r, GENERATE_KEY_PAIR, CW_P11_RPC_KEYGEN_MS);
    if (rv != CKR_OK) {
        return rv;
    }
    *hpub = r_ulong(&r);
    *hpriv = r_ulong(&r);
    return r_end(&r, CKR_OK);
}

static CK_RV rpc_GenerateRandom(CK_SESSION_HANDLE session, CK_BYTE_PTR out, CK_ULONG len)
{
    CK_ULONG n = len;
    if (out == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    CK_RV rv = call_bytes(GENERATE_RANDOM, session, NULL, 0, out, &n);
    return rv == CKR_OK && n != len ? broken("a reply with another number of random bytes") : rv;
}

/* const: in flash, not RAM; Cryptoki's prototypes want it writable, nobody writes it. */
static const CK_FUNCTION_LIST function_list = {
    .version = {2, 40},
    .C_Initialize = rpc_Initialize,
    .C_Finalize = rpc_Finalize,
    .C_GetSlotList = rpc_GetSlotList,
    .C_GetTokenInfo = rpc_GetTokenInfo,
    .C_GetMechanismList = rpc_GetMechanismList,
    .C_GetMechanismInfo = rpc_GetMechanismInfo,
    .C_OpenSession = rpc_OpenSession,
    .C_CloseSession = rpc_CloseSession,
    .C_CloseAllSessions = rpc_CloseAllSessions,
    .C_GetSessionInfo = rpc_GetSessionInfo,
    .C_Login = rpc_Login,
    .C_Logout = rpc_Logout,
    .C_CreateObject = rpc_CreateObject,
    .C_DestroyObject = rpc_DestroyObject,
    .C_GetAttributeValue = rpc_GetAttributeValue,
    .C_SetAttributeValue = rpc_SetAttributeValue,
    .C_FindObjectsInit = rpc_FindObjectsInit,
    .C_FindObjects = rpc_FindObjects,
    .C_FindObjectsFinal = rpc_FindObjectsFinal,
    .C_DecryptInit = rpc_DecryptInit,
    .C_Decrypt = rpc_Decrypt,
    .C_SignInit = rpc_SignInit,
    .C_Sign = rpc_Sign,
    .C_GenerateKeyPair = rpc_GenerateKeyPair,
    .C_GenerateRandom = rpc_GenerateRandom,
};

CK_FUNCTION_LIST *cw_p11_rpc_function_list(void)
{
    return (CK_FUNCTION_LIST *)(uintptr_t)&function_list;
}
