/*
 * cw_opts.h: every build-time knob of certwiz, in layers (as lwIP's opt.h does).
 *
 * 1. The board's (or test build's) cw_config.h is included first and may set any knob.
 * 2. Every knob then gets a documented default here, under #ifndef.
 * 3. Impossible combinations are rejected with #error.
 *
 * Each board directory carries a cw_config.h; the Makefile puts it on the include path.
 */
#ifndef CW_OPTS_H
#define CW_OPTS_H

#include "cw_config.h"

/* ---- identity ---------------------------------------------------------------------------- */

/* Board name printed by `version` and `status`. */
#ifndef CW_PLATFORM_NAME
#define CW_PLATFORM_NAME "unnamed-board"
#endif

/* ---- token ------------------------------------------------------------------------------- */

/* 1: the board's token may refuse public data objects (a TPM through tpm2-pkcs11), so certwiz
 * reads its records again after the login when none was seen before it (docs/store.md,
 * docs/decisions.md 39). 0 on a board whose token always allows public records, or that has no
 * token yet: the re-read after the login is left out (about 1.1 KiB of flash on the Cortex-M
 * board); such a board's token must allow public records, as certwiz would never read private
 * ones. */
#ifndef CW_PRIVATE_RECORDS
#define CW_PRIVATE_RECORDS 1
#endif

/* ---- memory ------------------------------------------------------------------------------ */

/* Bytes of the one static arena that mbedTLS (and certwiz's own short-lived scratch) allocate
 * from. Sized per board; `mem` reports the high-water mark, which is the figure to size by. */
#ifndef CW_ARENA_SIZE
#define CW_ARENA_SIZE (48u * 1024u)
#endif

/* ---- console ----------------------------------------------------------------------------- */

/* Longest console input line, without its line end. 255 fits every command and a 64-column PEM
 * line with room to spare; longer lines are discarded and answered with ERR LINE_TOO_LONG. */
#ifndef CW_CONSOLE_LINE_MAX
#define CW_CONSOLE_LINE_MAX 255u
#endif

/* Longest single formatted output line. Longer output is written in pieces by the caller. */
#ifndef CW_CONSOLE_OUT_MAX
#define CW_CONSOLE_OUT_MAX 256u
#endif

/* Notices (lifecycle lines, cw_console_notice) kept while a command runs, and the longest. */
#ifndef CW_CONSOLE_NOTICES_MAX
#define CW_CONSOLE_NOTICES_MAX 1u
#endif
#ifndef CW_CONSOLE_NOTICE_MAX
#define CW_CONSOLE_NOTICE_MAX 160u
#endif

/* Most words (command + arguments) the console splits a line into. */
/* Command groups an appliance may add to the console's own (cw_config_t.extra). */
#ifndef CW_CONSOLE_EXTRA_GROUPS_MAX
#define CW_CONSOLE_EXTRA_GROUPS_MAX 4u
#endif

#ifndef CW_CONSOLE_ARGS_MAX
#define CW_CONSOLE_ARGS_MAX 8u
#endif

/* ---- PEM and import ------------------------------------------------------------------------ */

/* Most PEM blocks in one paste: a certificate, its intermediates and root, with room to spare. */
#ifndef CW_PEM_BLOCKS_MAX
#define CW_PEM_BLOCKS_MAX 8u
#endif

/* Most subjectAltName entries in one request: an edge certificate names a handful of services
 * per domain (sip., lyncdiscover., webcon. ...) for a few domains. At least what a topology set
 * can derive (CW_TOPO_DERIVED_SANS_MAX). */
#ifndef CW_CSR_SAN_MAX
#define CW_CSR_SAN_MAX 32u
#endif

/* Most bytes of subjectAltName values in one request: the characters of its DNS names and 16 per
 * IP address. It bounds a CSR (CW_CSR_DER_MAX) and with it every buffer that holds one. Default:
 * CW_CSR_SAN_MAX DNS names of 253 characters. A board whose requests come from the topology can
 * bound it by what a set derives: CW_TOPO_DERIVED_TEXT_MAX + 16 * CW_TOPO_DERIVED_SANS_MAX. */
#ifndef CW_CSR_NAMES_TEXT_MAX
#define CW_CSR_NAMES_TEXT_MAX (CW_CSR_SAN_MAX * 253u)
#endif

/* Most certificates in one answer: the leaf, intermediates and a root, from PEM blocks and
 * PKCS#7 bundles together. */
#ifndef CW_IMPORT_CERTS_MAX
#define CW_IMPORT_CERTS_MAX 8u
#endif

/* Longest subject, issuer or serial shown as text ("CN=..., O=..."). */
#ifndef CW_CERT_TEXT_MAX
#define CW_CERT_TEXT_MAX 160u
#endif

/* ---- records in the token ------------------------------------------------------------------- */

/* Longest role or set name certwiz keeps in its records (the topology's limit for names). */
#ifndef CW_STORE_NAME_MAX
#define CW_STORE_NAME_MAX 32u
#endif

/* Most roles in the role table (the topology's limit for roles). */
#ifndef CW_STORE_ROLES_MAX
#define CW_STORE_ROLES_MAX 16u
#endif

/* Most certwiz records in a token at once: a topology, a role table, a pending request per set,
 * and the leftovers of a cut (two of each sequenced kind). */
#ifndef CW_STORE_RECORDS_MAX
#define CW_STORE_RECORDS_MAX 48u
#endif

/* Largest answer pasted for `import` or `ca import`, as DER: a leaf, two intermediates and a
 * root with RSA-4096 keys are about 6 KiB. A paste beyond it is refused as a whole. */
#ifndef CW_PASTE_DER_MAX
#define CW_PASTE_DER_MAX (12u * 1024u)
#endif

/* Largest single certificate certwiz reads back from the token: an RSA-4096 certificate with a
 * long SAN list is under 3 KiB. */
#ifndef CW_CERT_DER_MAX
#define CW_CERT_DER_MAX (4u * 1024u)
#endif

/* All CA certificates of one profile read back from the token to build a chain. */
#ifndef CW_TRUST_DER_MAX
#define CW_TRUST_DER_MAX (8u * 1024u)
#endif

/* ---- token ------------------------------------------------------------------------------- */

/* Log the token user out after this many ms without a token operation (0 = never). Five minutes:
 * long enough for an operator pasting a response, short enough that a console left open does not
 * stay privileged. A board may set another value at run time (hal_token_t). */
#ifndef CW_TOKEN_IDLE_LOGOUT_MS
#define CW_TOKEN_IDLE_LOGOUT_MS (5u * 60u * 1000u)
#endif

/* Most key pairs `keys` lists; more are counted but not shown. */
#ifndef CW_TOKEN_KEYS_LIST_MAX
#define CW_TOKEN_KEYS_LIST_MAX 64u
#endif

/* ---- topology (docs/topology.md, "Limits") ----------------------------------------------- */

/* Largest topology blob the device takes, in DER bytes. The example edge appliance (three sets,
 * two domains) is about 800 bytes; 4096 leaves room for every other limit below filled with short
 * names, and is one PEM paste of 87 lines and one small CKO_DATA record. At most 65535: the
 * decoded form keeps 16-bit offsets into the blob. */
#ifndef CW_TOPO_DER_MAX
#define CW_TOPO_DER_MAX 4096u
#endif

/* CA profiles: an internal CA, a public (offline) CA, an ACME CA, and one spare. */
#ifndef CW_TOPO_PROFILES_MAX
#define CW_TOPO_PROFILES_MAX 4u
#endif

/* Certificate sets: an edge server uses three or four (Default/WebServices, EdgeInternal,
 * EdgeExternal, OAuthTokenIssuer); eight is twice that. */
#ifndef CW_TOPO_SETS_MAX
#define CW_TOPO_SETS_MAX 8u
#endif

/* Roles one set serves: the widest combined certificate known to us serves three (Default,
 * WebServicesInternal, WebServicesExternal); eight leaves room. */
#ifndef CW_TOPO_ROLES_PER_SET_MAX
#define CW_TOPO_ROLES_PER_SET_MAX 8u
#endif

/* Roles in all sets together: twice the roles of the largest server topology we know (eight). */
#ifndef CW_TOPO_ROLES_MAX
#define CW_TOPO_ROLES_MAX 16u
#endif

/* SAN entries (templates and addresses) of one set before expansion. An external edge
 * certificate lists sip., webconf., av., lyncdiscover., meet., dialin. templates and a few
 * literals; sixteen covers that. */
#ifndef CW_TOPO_SANS_PER_SET_MAX
#define CW_TOPO_SANS_PER_SET_MAX 16u
#endif

/* SIP/DNS domains the appliance serves. */
#ifndef CW_TOPO_DOMAINS_MAX
#define CW_TOPO_DOMAINS_MAX 8u
#endif

/* IP addresses of the appliance (an IPv4 and an IPv6 address on each of two interfaces). */
#ifndef CW_TOPO_ADDRESSES_MAX
#define CW_TOPO_ADDRESSES_MAX 4u
#endif

/* Set, role and CA profile names, in bytes: they are console words and CKA_LABELs; the longest
 * role name we know (WebServicesExternal) is 19. */
#ifndef CW_TOPO_NAME_MAX
#define CW_TOPO_NAME_MAX 32u
#endif

/* Site name and subject attributes (O, OU, L, ST), in UTF-8 bytes: X.520's ub-organization-name
 * and ub-organizational-unit-name are 64 characters (L and ST allow 128; certwiz keeps one
 * bound, counted in bytes, so it is never above X.520's). */
#ifndef CW_TOPO_TEXT_MAX
#define CW_TOPO_TEXT_MAX 64u
#endif

/* CA URLs and token URIs, in bytes: a URL with a 63-byte host, a port and a path, or an RFC 7512
 * URI naming token, manufacturer, serial and object (32+32+16+64 bytes plus keys), fits. */
#ifndef CW_TOPO_URL_MAX
#define CW_TOPO_URL_MAX 255u
#endif

/* Names one set derives (the CN plus every SAN entry, a {domain} template once per domain),
 * counted before duplicates are dropped: 6 templates x 4 domains + CN + addresses stays below. */
#ifndef CW_TOPO_DERIVED_SANS_MAX
#define CW_TOPO_DERIVED_SANS_MAX 32u
#endif

/* Bytes of the derived DNS names of one set, each with its NUL (cw_topology_derived.text):
 * 32 names of 63 bytes average; one name of the DNS maximum (253) always fits. */
#ifndef CW_TOPO_DERIVED_TEXT_MAX
#define CW_TOPO_DERIVED_TEXT_MAX 2048u
#endif

/* ---- network and HTTP (docs/network.md) -------------------------------------------------- */

/* Longest URL text the parser takes, in bytes: the same bound as a CA URL in the topology. */
#ifndef CW_URL_MAX
#define CW_URL_MAX 255u
#endif

/* Longest host: a DNS name in text form is at most 253 bytes (RFC 1035 2.3.4, without the
 * trailing dot). The board's lwipopts.h must let lwIP's resolver take it (DNS_MAX_NAME_LENGTH). */
#ifndef CW_URL_HOST_MAX
#define CW_URL_HOST_MAX 253u
#endif

/* Longest request target (path and query) kept from a URL: a whole CW_URL_MAX URL is at least
 * "http://a" (8 bytes) plus its target, so this never refuses a URL the text bound accepts. */
#ifndef CW_URL_PATH_MAX
#define CW_URL_PATH_MAX 247u
#endif

/* Longest response line the client keeps whole, without its CR LF: the status line, a chunk-size
 * line with its extensions, and the line of a field it reads (Content-Type, Content-Length,
 * Transfer-Encoding, Connection). nginx and Python's http.server write lines under 100 bytes; a
 * SCEP or ACME server's longest is a Location or Link header with a URL (< 300). 1024 leaves room;
 * such longer lines are refused (CW_ERR_HTTP_HEADER_TOO_LONG). A field the client does not read
 * may be longer: the part past the buffer is checked and dropped (cw_http_parser.c). The parser
 * keeps one line buffer of this size. */
#ifndef CW_HTTP_LINE_MAX
#define CW_HTTP_LINE_MAX 1024u
#endif

/* Most bytes of one response's header section (status line, headers, any 1xx responses before
 * it, and the chunked trailer), CR LF included. Bounds a server that never stops sending headers;
 * the servers we meet send 150..400 bytes. */
#ifndef CW_HTTP_HEADER_MAX
#define CW_HTTP_HEADER_MAX 8192u
#endif

/* Reason phrase kept for display. RFC 9112 section 4: a client ignores its content, so a longer one
 * is kept to its first CW_HTTP_REASON_MAX bytes (the only place the client shortens text). */
#ifndef CW_HTTP_REASON_MAX
#define CW_HTTP_REASON_MAX 63u
#endif

/* Content-Type value, in bytes ("application/x-x509-ca-ra-cert", "text/html; charset=utf-8").
 * Longer values are refused (CW_ERR_HTTP_HEADER_TOO_LONG): a SCEP client decides by this value. */
#ifndef CW_HTTP_CTYPE_MAX
#define CW_HTTP_CTYPE_MAX 127u
#endif

/* Request line and headers the client writes, in bytes: the request line with a target of up to
 * 700 bytes (a SCEP GET with a short query), Host with a 253-byte name, and about 150 bytes of
 * fixed headers. The client keeps the head in its context and sends it from there. */
#ifndef CW_HTTP_REQUEST_HEAD_MAX
#define CW_HTTP_REQUEST_HEAD_MAX 1024u
#endif

/* Largest POST body, in bytes. The body is sent from the caller's memory (not copied), so this
 * bounds only what a caller may ask for: a SCEP PKCSReq for an RSA-4096 key with its signer
 * certificate, enveloped and signed, is about 6 KiB; 16 KiB is above any request we build. */
#ifndef CW_HTTP_REQUEST_BODY_MAX
#define CW_HTTP_REQUEST_BODY_MAX (16u * 1024u)
#endif

/* SCEP (scep/cw_scep_job.c). A pkiMessage certwiz builds: an RSA-4096 key's CSR with every SAN a set
 * derives, enveloped to an RSA-4096 CA, signed, with the signer certificate: about 6 KiB. */
#ifndef CW_SCEP_MESSAGE_MAX
#define CW_SCEP_MESSAGE_MAX (8u * 1024u)
#endif

/* A CertRep: the issued certificate (and any chain the CA adds) in a certs-only PKCS#7, enveloped
 * and signed. micromdm's reply for an RSA-4096 CA is about 5 KiB; also bounds the decrypted
 * PKCS#7. */
#ifndef CW_SCEP_REPLY_MAX
#define CW_SCEP_REPLY_MAX (12u * 1024u)
#endif

/* A GetCACert answer: the CA certificate, or a PKCS#7 with it and up to two RA certificates. */
#ifndef CW_SCEP_CACERT_MAX
#define CW_SCEP_CACERT_MAX (8u * 1024u)
#endif

/* The query of a GET PKIOperation: the message in base64 (4/3) with '+', '/' and '=' as %XX;
 * those are about 1 in 32 base64 characters (so about 1.42 times the message); twice the
 * message leaves room for any unlucky one. */
#ifndef CW_SCEP_QUERY_MAX
#define CW_SCEP_QUERY_MAX (2u * CW_SCEP_MESSAGE_MAX)
#endif

/* Longest target tail a GET may send from the caller's memory (cw_http_request_t.target_tail):
 * a SCEP PKIOperation by GET carries the whole pkiMessage, base64 and percent-encoded, in the
 * query; twice the largest POST body covers the encoding's growth. */
#ifndef CW_HTTP_TARGET_TAIL_MAX
#define CW_HTTP_TARGET_TAIL_MAX (2u * CW_HTTP_REQUEST_BODY_MAX)
#endif

/* Time from the start of a request (name resolution included) to an established connection. */
#ifndef CW_HTTP_CONNECT_TIMEOUT_MS
#define CW_HTTP_CONNECT_TIMEOUT_MS 10000u
#endif

/* Longest silence (nothing received, nothing acknowledged) once connected. Below cwctl's default
 * 30 s so that a silent server is reported by the device, not by cwctl giving up. */
#ifndef CW_HTTP_IDLE_TIMEOUT_MS
#define CW_HTTP_IDLE_TIMEOUT_MS 20000u
#endif

/* Name lookups the HTTP clients may have waiting in lwIP's resolver at once (one per client
 * context, plus one whose owner gave up and whose answer has not come yet). */
#ifndef CW_HTTP_DNS_SLOTS
#define CW_HTTP_DNS_SLOTS 2u
#endif

/* The `http post` diagnostic's one buffer: the request body (at most half of it), then the
 * response, kept bounded as SCEP keeps its answers: a GetCACert reply with an RA pair is under
 * 4 KiB; 16 KiB shows that a CA answers with the sizes certwiz expects. Responses over the rest end
 * with CW_ERR_HTTP_TOO_LARGE. `http get` needs none: it streams a body of any size through a
 * SHA-256 sink (cw_http.h, docs/network.md). */
#ifndef CW_NET_DIAG_BODY_MAX
#define CW_NET_DIAG_BODY_MAX (16u * 1024u)
#endif

#if CW_URL_MAX < 16u || CW_URL_HOST_MAX < 1u || CW_URL_HOST_MAX > 253u || CW_URL_PATH_MAX < 1u
#error "CW_URL_MAX must be at least 16, CW_URL_HOST_MAX 1..253, CW_URL_PATH_MAX at least 1"
#endif
#if CW_HTTP_LINE_MAX < 64u || CW_HTTP_HEADER_MAX < CW_HTTP_LINE_MAX
#error "CW_HTTP_LINE_MAX must be at least 64 and CW_HTTP_HEADER_MAX at least one line"
#endif
#if CW_HTTP_LINE_MAX < CW_HTTP_CTYPE_MAX + 32u
#error "CW_HTTP_LINE_MAX must hold a Content-Type line with a CW_HTTP_CTYPE_MAX value"
#endif
#if CW_HTTP_REQUEST_HEAD_MAX < CW_URL_PATH_MAX + CW_URL_HOST_MAX + 200u
#error "CW_HTTP_REQUEST_HEAD_MAX must hold a request for the longest URL target and host"
#endif
#if CW_HTTP_DNS_SLOTS < 1u
#error "CW_HTTP_DNS_SLOTS must be at least 1"
#endif

/* ---- sanity ------------------------------------------------------------------------------ */

#if CW_ARENA_SIZE < 4096u
#error "CW_ARENA_SIZE below 4 KiB cannot hold even one X.509 parse"
#endif
#if CW_CONSOLE_LINE_MAX < 80u
#error "CW_CONSOLE_LINE_MAX must hold at least an 80-column line (PEM lines are 64)"
#endif
#if CW_CONSOLE_ARGS_MAX < 2u
#error "CW_CONSOLE_ARGS_MAX must allow a command and one argument"
#endif

#if CW_TOPO_DER_MAX < 64u || CW_TOPO_DER_MAX > 65535u
#error "CW_TOPO_DER_MAX must be 64..65535 (the decoded topology keeps 16-bit offsets)"
#endif
#if CW_TOPO_PROFILES_MAX < 1u || CW_TOPO_SETS_MAX < 1u || CW_TOPO_ROLES_PER_SET_MAX < 1u || \
    CW_TOPO_ROLES_MAX < 1u || CW_TOPO_SANS_PER_SET_MAX < 1u || CW_TOPO_DERIVED_SANS_MAX < 1u
#error "every CW_TOPO_*_MAX count must be at least 1"
#endif
#if CW_TOPO_PROFILES_MAX > 255u || CW_TOPO_SETS_MAX > 255u || CW_TOPO_ROLES_PER_SET_MAX > 255u || \
    CW_TOPO_ROLES_MAX > 255u || CW_TOPO_SANS_PER_SET_MAX > 255u || CW_TOPO_DOMAINS_MAX > 255u || \
    CW_TOPO_ADDRESSES_MAX > 255u || CW_TOPO_DERIVED_SANS_MAX > 255u
#error "CW_TOPO_* counts are kept in 8 bits: at most 255"
#endif
#if CW_TOPO_NAME_MAX < 1u || CW_TOPO_NAME_MAX > 255u || CW_TOPO_TEXT_MAX < 2u || \
    CW_TOPO_TEXT_MAX > 255u || CW_TOPO_URL_MAX < 16u || CW_TOPO_URL_MAX > 1024u
#error "CW_TOPO_NAME_MAX must be 1..255, CW_TOPO_TEXT_MAX 2..255, CW_TOPO_URL_MAX 16..1024"
#endif
#if CW_TOPO_DERIVED_TEXT_MAX < 254u || CW_TOPO_DERIVED_TEXT_MAX > 65535u
#error "CW_TOPO_DERIVED_TEXT_MAX must hold one 253-byte DNS name and its NUL, and fit 16 bits"
#endif
#if CW_CSR_NAMES_TEXT_MAX < CW_TOPO_DERIVED_TEXT_MAX + 16u * CW_TOPO_DERIVED_SANS_MAX && \
    CW_CSR_NAMES_TEXT_MAX < CW_CSR_SAN_MAX * 253u
#error "CW_CSR_NAMES_TEXT_MAX must hold what a topology set derives (its text and 16 bytes per IP)"
#endif

/* ---- CMS and SCEP messages (cw_cms.h, cw_scep_msg.h) ---------------------------------------- */

/* Deepest nesting of indefinite-length BER elements the CMS reader follows. A SCEP reply nests
 * ContentInfo > [0] > SignedData > encapContentInfo > [0] > OCTET STRING (6); a BER EnvelopedData
 * inside adds as many again at most when read on its own. 8 takes both; deeper is refused. */
#ifndef CW_CMS_BER_DEPTH_MAX
#define CW_CMS_BER_DEPTH_MAX 8u
#endif

/* Most RecipientInfos an envelope may carry that are tried with the token key: one C_Decrypt
 * each, so this bounds the token time a hostile reply can cost. SCEP replies carry one. */
#ifndef CW_CMS_RECIPIENTS_MAX
#define CW_CMS_RECIPIENTS_MAX 4u
#endif

#if CW_CMS_BER_DEPTH_MAX < 2u || CW_CMS_RECIPIENTS_MAX < 1u
#error "CW_CMS_BER_DEPTH_MAX must be at least 2 and CW_CMS_RECIPIENTS_MAX at least 1"
#endif

/* Keeps a function out of line. Under link-time optimisation GCC's -Os inliner copies some small
 * functions into every caller; where that costs flash on the Cortex-M image, measured function by
 * function, the function says so with this (docs/decisions.md 34). */
#if defined(__GNUC__)
#define CW_NOINLINE __attribute__((noinline))
#else
#define CW_NOINLINE
#endif

#endif /* CW_OPTS_H */
