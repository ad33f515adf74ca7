/*
 * target_check.h: the on-target tests' one check macro and their suites (tests/target/).
 *
 * No framework: a failed check prints "FAIL file:line: condition" (and, inside a table, which
 * case) on the board's console; target_tests.c's main() counts and reports.
 */
#ifndef TARGET_CHECK_H
#define TARGET_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counts one check; prints the failure with its location and, when not NULL, the case. */
void target_check(bool ok, const char *file, int line, const char *cond, const char *where);

#define CHECK(cond) target_check((cond), __FILE__, __LINE__, #cond, NULL)
#define CHECK_IN(where, cond) target_check((cond), __FILE__, __LINE__, #cond, (where))

/* A self-signed P-256 CA certificate (target_tests.c says where it came from). */
extern const uint8_t target_cert_p256[];
extern const size_t target_cert_p256_len;

/* The suites, one per file. */
void target_test_http(void);     /* target_http.c: the HTTP/1.1 response parser */
void target_test_topology(void); /* target_topology.c: the example blob, derivation, refusals */
void target_test_scep(void);     /* target_scep.c: GetCACaps and GetCACert from a real server */
void target_test_scep_rsa4096(void); /* target_scep.c: a CertRep and an import, RSA-4096 CA */
void target_test_libc(void);     /* target_libc.c: the board's snprintf, strcmp, strlen */
void target_test_pk_refusals(void); /* target_pk_refusals.c: no private-key code in mbedTLS */
void target_test_ecdsa(void);    /* target_ecdsa.c: ECDSA verification, P-256 and P-384 */
/* A suite that resets the arena's high-water mark to measure one step reports the mark first,
 * so that the run's final figure stays the highest of all (target_tests.c). */
void target_arena_seen(size_t high_water);

#endif /* TARGET_CHECK_H */
