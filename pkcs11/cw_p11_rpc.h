/*
 * cw_p11_rpc.h: a PKCS#11 token reached over a byte stream with p11-kit's RPC protocol.
 *
 * The other end is `p11-kit remote MODULE` (or `p11-kit server`, which forks one per connection)
 * on a PC, serving any PKCS#11 module: SoftHSM2 in the lab, a hardware token in the field. The
 * protocol is defined only by p11-kit's sources (rpc-message.c, rpc-transport.c, rpc-client.c,
 * rpc-server.c); ../shared/notes/mcu-token-over-uart.md and docs/decisions.md 42 describe what this
 * client speaks of it. This file offers a CK_FUNCTION_LIST with the C_* functions certwiz calls
 * (every other entry is NULL: nothing in certwiz calls it) over a link the board provides.
 *
 * Memory: no allocation and no message buffer. A request is measured, then written field by field
 * straight from the caller's arguments to the link; a reply is read field by field straight into
 * the caller's buffers. The one instance's state is static (Cryptoki's functions take no
 * context): one link per firmware.
 *
 * Trust: the PC is outside the board's trust boundary. Every reply is checked against the call's
 * signature, its declared lengths and the caller's capacities; anything else (a short or long
 * body, a wrong call id or signature string, a length over a bound, silence past the timeout, a
 * link that refuses bytes) marks the link broken: every call then answers CKR_DEVICE_ERROR at once
 * and cw_p11_rpc_why() says what happened, until C_Initialize starts afresh with the version byte
 * (after C_Finalize, or directly: a broken link counts as finalised). A token's own error is an
 * error frame and leaves the link working.
 *
 * Secrets: the PIN of C_Login goes from the caller's buffer to the link as it is (the protocol has
 * no confidentiality: it crosses the line in clear, docs/security.md); nothing here copies it.
 * Private keys stay in the token: this client only carries what C_* calls carry.
 */
#ifndef CW_P11_RPC_H
#define CW_P11_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cw/base/cw_opts.h"
#include "cw_p11_cryptoki.h"

/* ---- build-time choices ------------------------------------------------------------------- */

/* How a mechanism without parameters travels (`M`). p11-kit changed it in 0.25.6 without a new
 * protocol version (p11-kit issue #733): up to 0.25.5 (Debian 12's 0.24.1, Debian 13's 0.25.5)
 * the type is followed by a NULL byte array; from 0.25.6 by nothing. A client with the wrong
 * one fails its first C_SignInit or C_GenerateKeyPair: pair it with the PC's package. */
#define CW_P11_RPC_MECH_NULL_ARRAY 1 /* p11-kit 0.23.x .. 0.25.5 */
#define CW_P11_RPC_MECH_BARE 2       /* p11-kit 0.25.6 and later */
#ifndef CW_P11_RPC_MECH_ENCODING
#define CW_P11_RPC_MECH_ENCODING CW_P11_RPC_MECH_NULL_ARRAY
#endif
#if CW_P11_RPC_MECH_ENCODING == CW_P11_RPC_MECH_NULL_ARRAY
#define CW_P11_RPC_WIRE_NAME "p11-kit RPC v0, mechanisms as up to p11-kit 0.25.5"
#elif CW_P11_RPC_MECH_ENCODING == CW_P11_RPC_MECH_BARE
#define CW_P11_RPC_WIRE_NAME "p11-kit RPC v0, mechanisms as from p11-kit 0.25.6"
#else
#error "CW_P11_RPC_MECH_ENCODING: CW_P11_RPC_MECH_NULL_ARRAY or CW_P11_RPC_MECH_BARE"
#endif

/* How long the other end may take to answer the version byte. A board whose second serial port
 * has nothing behind it learns so this quickly and boots without a token. */
#ifndef CW_P11_RPC_HANDSHAKE_MS
#define CW_P11_RPC_HANDSHAKE_MS 500u
#endif
/* How long a reply may take to start: the token works meanwhile (a C_Sign with RSA-4096 in
 * SoftHSM2 takes tens of ms, a TPM's a second). A dead PC side is reported after this. */
#ifndef CW_P11_RPC_REPLY_MS
#define CW_P11_RPC_REPLY_MS 5000u
#endif
/* C_GenerateKeyPair's: RSA-4096 in SoftHSM2 takes up to ~10 s, on a TPM longer. */
#ifndef CW_P11_RPC_KEYGEN_MS
#define CW_P11_RPC_KEYGEN_MS 60000u
#endif
/* Longest pause inside a message once it has started, and for the link to take each field. */
#ifndef CW_P11_RPC_GAP_MS
#define CW_P11_RPC_GAP_MS 1000u
#endif
/* Longest reply body accepted: the largest certwiz reads is a certificate or a record value
 * (CW_CERT_DER_MAX, a few KiB) plus framing; 64 KiB bounds what a wrong peer can make us read. */
#ifndef CW_P11_RPC_BODY_MAX
#define CW_P11_RPC_BODY_MAX 65536u
#endif

/* ---- the link the board provides -------------------------------------------------------------- */

typedef struct cw_p11_rpc_link_t {
    /* Sends len bytes; false when they could not all be taken within timeout_ms. */
    bool (*send)(void *arg, const uint8_t *buf, size_t len, uint32_t timeout_ms);
    /* Receives up to len bytes into buf, returning as soon as len have arrived or timeout_ms has
     * passed (0: only what has already arrived); returns how many arrived. A link that knows the
     * other end is gone (EOF on a pipe) returns 0 at once. */
    size_t (*recv)(void *arg, uint8_t *buf, size_t len, uint32_t timeout_ms);
    void *arg;
} cw_p11_rpc_link_t;

typedef enum cw_p11_rpc_state_t {
    CW_P11_RPC_DOWN,   /* no handshake yet (or the last one got no answer) */
    CW_P11_RPC_LINKED, /* version byte answered; not initialised (C_Finalize, or before C_Initialize) */
    CW_P11_RPC_READY,  /* C_Initialize answered */
    CW_P11_RPC_BROKEN  /* a framing error or a timeout: cw_p11_rpc_why() */
} cw_p11_rpc_state_t;

/* What the link carried since the last reset: for `make bench` and the tests. */
typedef struct cw_p11_rpc_stats_t {
    uint32_t calls;     /* requests sent */
    uint32_t bytes_out; /* including the version byte and message headers */
    uint32_t bytes_in;
} cw_p11_rpc_stats_t;

/* Takes the link (linked, not copied: it must outlive every call) and forgets any previous
 * state: the next C_Initialize handshakes. */
void cw_p11_rpc_init(const cw_p11_rpc_link_t *link);

/* The function list for hal_token_t.fl; lives for the program. */
CK_FUNCTION_LIST *cw_p11_rpc_function_list(void);

/* The version-byte handshake now, if the link is not linked yet (C_Initialize does it too): lets a
 * board tell "nothing answers" at boot within CW_P11_RPC_HANDSHAKE_MS. CKR_OK, or
 * CKR_DEVICE_ERROR with cw_p11_rpc_why() saying what happened. */
CK_RV cw_p11_rpc_connect(void);

cw_p11_rpc_state_t cw_p11_rpc_state(void);

/* One sentence: why the link is down or broken ("" while it works). Static. */
const char *cw_p11_rpc_why(void);

void cw_p11_rpc_stats(cw_p11_rpc_stats_t *out);
void cw_p11_rpc_stats_reset(void);

#endif /* CW_P11_RPC_H */
