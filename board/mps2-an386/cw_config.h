/*
 * cw_config.h for the MPS2 AN386 board (Cortex-M4). Every knob and its default is documented in
 * firmware/include/cw/base/cw_opts.h.
 */
#ifndef CW_CONFIG_H
#define CW_CONFIG_H

#define CW_PLATFORM_NAME "mps2-an386"

/* No re-read of private records after a login (decision 39): the token on UART1 is SoftHSM2 on
 * the PC (mps2_token.c), which allows public records. The re-read costs about 1.1 KiB of flash, and
 * the image is over its 144 KiB target already with the RPC client (docs/decisions.md 43); a PC
 * side serving a token that refuses public data objects (a TPM) needs it set to 1. */
#define CW_PRIVATE_RECORDS 0

/* The arena holds mbedTLS's X.509 parsing and verification (a chain of three certificates with
 * RSA-2048 or P-256 keys) and certwiz's short-lived scratch. The host board measures with 48 KiB;
 * `mem` shows the high-water mark after real use, which is the figure to size by. */
/* Sized for this board from measurements rather than the host board's generous bounds
 * (docs/mps2-an386.md, "Memory"). Each is a cw_opts.h knob; the core is unchanged. */

/* The whole offline story (three key pairs, CSRs, imports with chain checks) peaks at 10.5 KiB
 * on the host board; the on-target tests at 1.2 KiB. */
#define CW_ARENA_SIZE (16u * 1024u)

/* `http post` is a diagnostic: a few KiB of request and answer prove the path to the CA (`http get`
 * streams any size and needs no buffer). */
#define CW_NET_DIAG_BODY_MAX (4u * 1024u)

/* A CA answer of leaf + intermediate + root with RSA-2048 keys is about 4 KiB of DER. */
#define CW_PASTE_DER_MAX (6u * 1024u)
#define CW_TRUST_DER_MAX (4u * 1024u)
#define CW_CERT_DER_MAX (3u * 1024u)

/* The stored topology blob: the example (docs/examples/edge-appliance.der, three sets, two CA
 * profiles) is 632 bytes; 2 KiB holds three times that. */
#define CW_TOPO_DER_MAX 2048u

/* 8 names per certificate (the example's largest set derives 6). */
#define CW_TOPO_DERIVED_SANS_MAX 8u
#define CW_CSR_SAN_MAX 8u
#define CW_TOPO_DERIVED_TEXT_MAX 1024u
/* The board's requests name what a set derives: its text and 16 bytes per IP address. A CSR is
 * then at most 3 264 bytes (CW_CSR_DER_MAX), its pending record 3 456. */
#define CW_CSR_NAMES_TEXT_MAX (CW_TOPO_DERIVED_TEXT_MAX + 16u * CW_TOPO_DERIVED_SANS_MAX)

/* SCEP with RSA-2048 device keys (docs/scep.md): a PKCSReq with its signer certificate is about
 * 2.6 KiB (2 599 bytes measured with test_scep's topology; 2 855 enveloped to an RSA-4096 CA),
 * checked against its own size, not a sum of bounds (cw_scep_request_encode); a CertRep from an
 * RSA-4096 CA about 5 KiB; a GetCACert of CA + two RA certificates about 4 KiB; a GET query is
 * 1.42 times the message. */
#define CW_SCEP_MESSAGE_MAX (4u * 1024u)
#define CW_SCEP_REPLY_MAX (6u * 1024u)
#define CW_SCEP_CACERT_MAX (4u * 1024u)
#define CW_SCEP_QUERY_MAX (6u * 1024u)
#define CW_HTTP_REQUEST_BODY_MAX CW_SCEP_MESSAGE_MAX
/* The lines the HTTP client keeps whole: a status line, a chunk size, and Content-Type (up to
 * CW_HTTP_CTYPE_MAX = 127), Content-Length, Transfer-Encoding and Connection; longer lines of other
 * fields are checked and dropped, not kept. 256 instead of 1024: -0.75 KiB in each HTTP client. */
#define CW_HTTP_LINE_MAX 256u

#endif /* CW_CONFIG_H */
