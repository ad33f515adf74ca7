/*
 * cw_err.h: the one error space of certwiz.
 *
 * Every fallible function returns a cw_err. CW_OK is 0. certwiz's own codes sit in one range per
 * module; foreign codes are wrapped with a base so the original value survives:
 *
 *   CW_ERR_P11_BASE     + CK_RV              (a PKCS#11 token's answer, e.g. CKR_PIN_INCORRECT)
 *   CW_ERR_MBEDTLS_BASE + (-ret)             (an mbedTLS error, always negative there)
 *   CW_ERR_LWIP_BASE    + (-err_t)           (an lwIP error, always negative there)
 *
 * cw_err_name() and cw_err_text() give every code a name (without the CW_ERR_ prefix, as the
 * console prints it: "ERR <NAME>: <text>") and one sentence. The table is stored compressed
 * (cw_err.c), so both decode into static buffers: copy a result to keep it (single-threaded use).
 */
#ifndef CW_ERR_H
#define CW_ERR_H

#include <stddef.h>
#include <stdint.h>

/* X-list of certwiz's own codes: (ENUM suffix, value, sentence). Names are the suffix. */
#define CW_ERR_LIST(X)                                                                            \
    /* generic: 1..99 */                                                                          \
    X(INVALID_ARG, 1, "An argument is out of range or missing.")                                 \
    X(TOO_LARGE, 2, "The input is larger than the limit this build allows.")                     \
    X(NO_MEMORY, 3, "The fixed arena has no room left for this operation.")                      \
    X(TRUNCATED, 4, "The input ends before the structure it announces is complete.")             \
    X(MALFORMED, 5, "The input is not well-formed.")                                             \
    X(BUFFER_SMALL, 6, "The output buffer is too small; the needed length was reported.")        \
    X(NOT_SUPPORTED, 7, "This build or board does not support the operation.")                   \
    X(NOT_FOUND, 8, "The requested object does not exist.")                                      \
    X(EXISTS, 9, "An object of that name already exists.")                                       \
    X(BUSY, 10, "Another operation is still in progress.")                                       \
    X(TIMEOUT, 11, "The operation did not complete in time.")                                    \
    X(INTERNAL, 12, "An internal invariant failed; please report this.")                         \
    X(IN_PROGRESS, 13, "The operation continues in the background.")                             \
    X(TIME_UNKNOWN, 14, "The time is not trusted yet (no RTC, no SNTP answer), so validity is not judged.") \
    /* console: 100..199 */                                                                       \
    X(UNKNOWN_COMMAND, 100, "No such command; type help for the list.")                          \
    X(LINE_TOO_LONG, 101, "The line is longer than the console accepts and was discarded.")      \
    X(USAGE, 102, "The command's arguments are wrong; type help for its usage.")                 \
    X(CANCELLED, 103, "The operator cancelled the command.")                                     \
    /* import and enrolment: 500..599 */                                                          \
    X(IMPORT_NO_CERT, 500, "The paste holds no certificate.")                                    \
    X(IMPORT_FORMAT, 501, "A block of the paste is neither a certificate nor a PKCS#7 certificate bundle.") \
    X(IMPORT_KEY_MISMATCH, 502, "No certificate in the paste is for the pending key of this set.") \
    X(IMPORT_NAME_MISSING, 503, "The certificate lacks a name the request asked for (CN or a SAN).") \
    X(IMPORT_EXPIRED, 504, "The certificate has expired by the device clock.")                    \
    X(IMPORT_NOT_YET_VALID, 505, "The certificate is not valid yet by the device clock.")         \
    X(IMPORT_EKU, 507, "The certificate's extended key usage does not allow what the set is for.") \
    X(IMPORT_UNTRUSTED, 508, "The certificate does not chain to a trusted CA certificate.")        \
    X(IMPORT_PIN_MISMATCH, 509, "The root CA does not match the CA profile's pinned fingerprint.") \
    X(IMPORT_NOT_CA, 510, "The certificate is not a CA certificate.")                              \
    X(NO_PENDING, 511, "This set has no pending request; use request first.")                     \
    X(NO_TOPOLOGY, 512, "No topology is loaded; use topology load first.")                        \
    X(UNKNOWN_SET, 513, "The topology has no certificate set of that name.")                     \
    X(UNKNOWN_ROLE, 514, "The topology has no role of that name.")                                \
    X(UNKNOWN_PROFILE, 515, "The topology has no CA profile of that name.")                       \
    X(NO_CERTIFICATE, 516, "The set has no valid certificate to assign.")                         \
    X(PASTE_LABEL, 517, "The pasted PEM block has a label this command does not take.")          \
    X(IMPORT_NOT_END_ENTITY, 518, "The certificate for the key is a CA's (cA, keyCertSign or cRLSign), not an end entity's.") \
    X(IMPORT_KEY_USAGE, 519, "The certificate's keyUsage does not allow digitalSignature.") \
    X(IMPORT_CRITICAL_EXTENSION, 520, "A certificate has a critical extension certwiz does not process.") \
    X(IMPORT_ROOT_UNCONFIRMED, 521, "The root CA is neither pinned nor trusted yet; the operator must accept it.") \
    X(IMPORT_ROOT_CHANGED, 522, "The root CA is not the one the profile trusts; ca forget that one first.") \
    X(PASTE_OPEN_BLOCK, 523, "The paste ended inside a PEM block, before its END line.") \
    X(RECORDS_LOCKED, 524, "This token keeps certwiz's records private: locked until login.") \
    /* CMS and SCEP: 600..699 */                                                                  \
    X(CMS_FORMAT, 600, "A CMS structure is malformed or uses a form certwiz does not read.")    \
    X(CMS_ALGORITHM, 601, "The CMS message uses an algorithm certwiz does not support.")         \
    X(CMS_SIGNATURE, 602, "The reply's signature does not verify with the CA's (or RA's) certificate.") \
    X(CMS_DECRYPT, 603, "The reply's envelope does not decrypt with the set's key.")            \
    X(CMS_NO_RECIPIENT, 604, "The envelope is not addressed to this key.")                      \
    X(SCEP_MESSAGE_TYPE, 605, "The reply is not a SCEP CertRep.")                               \
    X(SCEP_TRANSACTION, 606, "The reply's transactionID is not the request's.")                 \
    X(SCEP_NONCE, 607, "The reply's recipientNonce is not the request's senderNonce.")          \
    X(SCEP_STATUS, 608, "The reply's pkiStatus is missing or unknown.")                         \
    X(SCEP_BAD_ALG, 610, "The CA refused the request: badAlg (unrecognised or unsupported algorithm).") \
    X(SCEP_BAD_MESSAGE_CHECK, 611, "The CA refused the request: badMessageCheck (integrity check failed).") \
    X(SCEP_BAD_REQUEST, 612, "The CA refused the request: badRequest (not permitted or not supported; a wrong challenge password looks like this).") \
    X(SCEP_BAD_TIME, 613, "The CA refused the request: badTime (signingTime too far from the CA's clock).") \
    X(SCEP_BAD_CERT_ID, 614, "The CA refused the request: badCertId (no certificate matches).")  \
    X(SCEP_FAILURE, 615, "The CA refused the request without a failInfo certwiz knows.")        \
    X(SCEP_PENDING, 616, "The CA has not decided yet; the request stays pending and is polled.") \
    X(SCEP_CACERT, 617, "The GetCACert answer holds no usable CA certificate.")                 \
    X(SCEP_NOT_AUTHENTICATED, 618, "The profile's CA is not authenticated yet; use ca auth first.") \
    X(SCEP_NOT_SCEP, 619, "The set's CA profile does not use SCEP.")                            \
    X(SCEP_NO_RENEWAL, 620, "The CA does not offer renewal (no Renewal capability).")           \
    X(SCEP_CONTENT_TYPE, 621, "The SCEP server's answer has an unexpected content type.")       \
    X(SCEP_CA_CHANGED, 622, "The CA certificate the server sends is not the one authenticated.") \
    /* token: 200..299 */                                                                         \
    X(NO_TOKEN, 200, "No PKCS#11 token is available on this board.")                             \
    X(NOT_LOGGED_IN, 201, "This command needs the token user login; use login first.")           \
    X(TOKEN_NOT_FOUND, 202, "No token matches the configured token URI.")                        \
    X(MECHANISM, 203, "The token does not offer a mechanism this operation needs.")              \
    X(URI, 204, "The PKCS#11 URI is not valid.")                                                 \
    X(AMBIGUOUS, 205, "More than one object or token matches; name it by ID or label.")                            \
    X(TOKEN_ELSEWHERE, 206, "A set's tokenUri names another token than the board's.") \
    X(TOKEN_HANDLE_REUSED, 207, "A key's handle now names another object; nothing was removed.") \
    X(KEY_SIZE, 208, "The token does not make keys of this size.")                              \
    X(LOGIN_LOST, 209, "The token no longer holds the login; log in again.")                    \
    /* topology: 300..399 */                                                                     \
    X(TOPO_VERSION, 300, "The topology's version is not 1, the one this firmware reads.")        \
    X(TOPO_TAG, 301, "A topology element has a tag the format does not allow there.")            \
    X(TOPO_LENGTH, 302, "A DER length is indefinite, not minimal, or overruns its element.")     \
    X(TOPO_TRAILING, 303, "Bytes follow the end of the topology.")                               \
    X(TOPO_MISSING, 304, "A required element of the topology is missing.")                       \
    X(TOPO_DER_VALUE, 305, "An INTEGER, ENUMERATED or BIT STRING is not minimal DER.")           \
    X(TOPO_TEXT, 306, "A text field is empty or has control characters, braces or bad UTF-8.")   \
    X(TOPO_NAME, 307, "A name is empty or has characters other than A-Z a-z 0-9 . - _.")         \
    X(TOPO_HOST, 308, "The appliance host is not a fully qualified DNS name.")                   \
    X(TOPO_DOMAIN, 309, "A listed domain is not a valid DNS name of two or more labels.")        \
    X(TOPO_ADDRESS, 310, "An IP address is neither 4 (IPv4) nor 16 (IPv6) bytes long.")          \
    X(TOPO_COUNTRY, 311, "The country is not two upper-case letters (ISO 3166-1 alpha-2).")      \
    X(TOPO_PROTOCOL, 312, "A CA profile has a protocol other than offline, scep and acme.")      \
    X(TOPO_URL_MISSING, 313, "A scep or acme CA profile has no URL.")                            \
    X(TOPO_URL, 314, "A URL is not an http:// or https:// URL with a valid host.")               \
    X(TOPO_FINGERPRINT, 315, "A pinned CA fingerprint is not 32 bytes long (SHA-256).")          \
    X(TOPO_KEY_TYPE, 316, "A key type is not one certwiz generates.")                            \
    X(TOPO_KEY_PROTOCOL, 317, "A scep profile is given an EC key; SCEP needs an RSA key.")       \
    X(TOPO_RENEW_PERCENT, 318, "A renewal threshold is outside 1..99 percent of the lifetime.")  \
    X(TOPO_POLL_INTERVAL, 319, "A poll interval is outside 10..86400 seconds.")                  \
    X(TOPO_EKU, 320, "A set's key purposes are empty or not serverAuth/clientAuth.")             \
    X(TOPO_PLACEHOLDER, 321, "A template has an unknown placeholder or a stray brace.")          \
    X(TOPO_NO_DOMAINS, 322, "A template uses {domain} but the topology lists no domains.")       \
    X(TOPO_CN, 323, "A common name does not expand to a DNS name of at most 64 bytes.")          \
    X(TOPO_SAN, 324, "A SAN template does not expand to a valid DNS name.")                      \
    X(TOPO_TOKEN_URI, 325, "A token URI is not an RFC 7512 pkcs11: URI without a query.")        \
    X(TOPO_EMPTY_LIST, 326, "A list that needs at least one entry is empty.")                    \
    X(TOPO_DUPLICATE_DOMAIN, 327, "A domain is listed twice.")                                   \
    X(TOPO_DUPLICATE_PROFILE, 328, "Two CA profiles have the same name.")                        \
    X(TOPO_DUPLICATE_SET, 329, "Two certificate sets have the same name.")                       \
    X(TOPO_DUPLICATE_ROLE, 330, "A set lists the same role twice.")                              \
    X(TOPO_ROLE_TWO_SETS, 331, "A role is served by two certificate sets.")                      \
    X(TOPO_UNKNOWN_PROFILE, 332, "A set names a CA profile the topology does not define.")       \
    X(TOPO_TOO_LARGE, 340, "The topology blob is larger than CW_TOPO_DER_MAX bytes.")            \
    X(TOPO_TOO_MANY_PROFILES, 341, "More CA profiles than CW_TOPO_PROFILES_MAX.")                \
    X(TOPO_TOO_MANY_SETS, 342, "More certificate sets than CW_TOPO_SETS_MAX.")                   \
    X(TOPO_TOO_MANY_ROLES, 343, "A set serves more roles than CW_TOPO_ROLES_PER_SET_MAX.")       \
    X(TOPO_TOO_MANY_ROLES_TOTAL, 344, "More roles in all sets than CW_TOPO_ROLES_MAX.")          \
    X(TOPO_TOO_MANY_SANS, 345, "A set has more SAN entries than CW_TOPO_SANS_PER_SET_MAX.")      \
    X(TOPO_TOO_MANY_DOMAINS, 346, "More domains than CW_TOPO_DOMAINS_MAX.")                      \
    X(TOPO_TOO_MANY_ADDRESSES, 347, "More appliance addresses than CW_TOPO_ADDRESSES_MAX.")      \
    X(TOPO_NAME_TOO_LONG, 348, "A set, role or profile name is longer than CW_TOPO_NAME_MAX.")   \
    X(TOPO_TEXT_TOO_LONG, 349, "The site or a subject field is longer than CW_TOPO_TEXT_MAX.")   \
    X(TOPO_URL_TOO_LONG, 350, "A URL or token URI is longer than CW_TOPO_URL_MAX.")              \
    X(TOPO_TEMPLATE_TOO_LONG, 351, "A CN or SAN template is longer than 253 bytes.")             \
    X(TOPO_DERIVED_TOO_MANY, 352, "A set derives more names than CW_TOPO_DERIVED_SANS_MAX.")     \
    X(TOPO_DERIVED_TOO_LARGE, 353, "A set's derived names exceed CW_TOPO_DERIVED_TEXT_MAX bytes.") \
    /* network and HTTP: 400..499 */                                                             \
    X(NET_NO_INTERFACE, 400, "This board has no network interface.")                             \
    X(NET_DOWN, 401, "The network link is down or the interface has no address yet.")            \
    X(DNS_FAILED, 402, "The host name could not be resolved.")                                   \
    X(URL_MALFORMED, 410, "The URL is not of the form http://host[:port][/path][?query].")       \
    X(URL_USERINFO, 411, "The URL carries user:password@; certwiz refuses credentials in URLs.") \
    X(URL_TOO_LONG, 412, "The URL, its host or its path is longer than this build allows.")      \
    X(HTTP_NO_TLS, 420, "https:// needs TLS, which this build does not offer yet.")              \
    X(HTTP_REFUSED, 421, "The server refused the connection: nothing listens on that port.")     \
    X(HTTP_CONNECT_TIMEOUT, 422, "No connection to the server within the connect timeout.")      \
    X(HTTP_IDLE_TIMEOUT, 423, "The server sent nothing for longer than the idle timeout.")       \
    X(HTTP_CLOSED, 424, "The server closed the connection before the response was complete.")    \
    X(HTTP_MALFORMED, 425, "The server's response is not valid HTTP/1.1.")                       \
    X(HTTP_HEADER_TOO_LONG, 426, "A response line or the response headers exceed this build's bounds.") \
    X(HTTP_TOO_LARGE, 427, "The response body is larger than the buffer this request allows.")   \
    X(HTTP_BAD_CHUNK, 428, "A chunk of the chunked response is malformed.")                      \
    X(HTTP_TRANSFER_CODING, 429, "The response uses a transfer coding other than chunked.")      \
    X(HTTP_REQUEST_TOO_LARGE, 430, "The request's target, headers or body exceed the client's bounds.") \
    X(HTTP_STATUS, 431, "The server answered with a status other than 2xx.")

typedef enum cw_err {
    CW_OK = 0,
#define CW_ERR_ENUM_(name, value, text) CW_ERR_##name = (value),
    CW_ERR_LIST(CW_ERR_ENUM_)
#undef CW_ERR_ENUM_
    /* Bases of wrapped foreign codes. Each range is 0x01000000 wide. */
    CW_ERR_P11_BASE = 0x01000000,
    CW_ERR_MBEDTLS_BASE = 0x02000000,
    CW_ERR_LWIP_BASE = 0x03000000
} cw_err;

#define CW_ERR_RANGE 0x01000000L

/* Wrap a PKCS#11 CK_RV. Vendor-defined values (>= 0x80000000) keep their low 24 bits. */
#define CW_ERR_FROM_P11(rv) ((rv) == 0 ? CW_OK : (cw_err)(CW_ERR_P11_BASE + (long)((rv) & 0xFFFFFFUL)))
/* Wrap an mbedTLS return value (0 or negative). */
#define CW_ERR_FROM_MBEDTLS(ret) ((ret) == 0 ? CW_OK : (cw_err)(CW_ERR_MBEDTLS_BASE + (long)(-(ret))))
/* Wrap an lwIP err_t (0 or negative). */
#define CW_ERR_FROM_LWIP(e) ((e) == 0 ? CW_OK : (cw_err)(CW_ERR_LWIP_BASE + (long)(-(e))))

/* Is e a wrapped token answer with this CK_RV? */
#define CW_ERR_IS_P11(e, rv) ((long)(e) == CW_ERR_P11_BASE + (long)(rv))

/* The code's name as the console prints it ("NO_MEMORY", "CKR_PIN_INCORRECT",
 * "MBEDTLS_ERR_ASN1_OUT_OF_DATA"). Unknown foreign codes get a generic name of their range
 * ("CKR_UNKNOWN", "MBEDTLS_ERR", "LWIP_ERR"); use cw_err_format() to see their value.
 * Never NULL. The name lives in one of two static buffers used in turn: it stays valid until the
 * second-next call of cw_err_name() or cw_err_format(), so one printf may show two names. */
const char *cw_err_name(cw_err e);

/* One sentence saying what the code means. Never NULL. The sentence lives in a static buffer: it
 * stays valid until the next call of cw_err_text() or cw_err_format(). */
const char *cw_err_text(cw_err e);

/* Writes "<NAME>: <text>" into out (always NUL-terminated when cap > 0); for a foreign code the
 * text also carries its original value in hex. Returns the number of characters written. */
size_t cw_err_format(cw_err e, char *out, size_t cap);

/* The console's own lines share the table's compressed stream (tools/gen-err-table.py reads the
 * formats of cw_console_say in the console's sources, cw_console.h). Writes line `row` into out,
 * NUL-terminated, and returns out; out holds CW_SAY_MAX bytes (the generated cw_say_rows.h). */
const char *cw_err_say_line(unsigned row, char *out);

#endif /* CW_ERR_H */
