/*
 * mbedtls_config.h for the MPS2 AN386 board (Cortex-M4): the host board's set, tuned for size.
 *
 * Only what certwiz uses: ASN.1, X.509 certificate parsing, RSA (PKCS#1 v1.5, 2048 to 4096 bits)
 * and ECDSA (P-256, P-384) verification, RSA encryption to a public key (SCEP's key transport),
 * SHA-1, SHA-256, SHA-384, SHA-512, AES and DES/3DES in CBC mode (SCEP envelopes). certwiz
 * writes and reads PEM and base64 itself (cw_pem.c), writes and reads back its CSRs itself
 * (cw_csr.c) and takes random numbers from the token, so mbedTLS's PEM, CSR, key writer, DRBG and
 * generic cipher layer are left out (with link-time optimisation they cost no flash, as nothing calls them;
 * without it they would). Memory comes from one static arena (cw_arena.c) through
 * MBEDTLS_MEMORY_BUFFER_ALLOC_C; there is no libc allocation, no threading, no file system and
 * no network sockets (lwIP is the network). Private-key operations happen in the token, never
 * here.
 */
#ifndef CW_MBEDTLS_CONFIG_H
#define CW_MBEDTLS_CONFIG_H

/* ---- platform: static arena, no std allocation ------------------------------------------- */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS   /* no default calloc/free: the arena or nothing */
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG                /* used/high-water figures for `mem` */
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8
/* The formatted-output functions mbedTLS uses (X.509 info strings, allocator diagnostics). */
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf
#define MBEDTLS_PLATFORM_VSNPRINTF_MACRO vsnprintf
/* No stdio streams on this board (they would bring newlib's FILE buffers, and with them malloc):
 * the allocator's diagnostics go to the console through the board, the stream is dropped
 * unevaluated, and a corrupted arena stops the board as a failed assertion does. */
#define MBEDTLS_PLATFORM_PRINTF_MACRO board_mbedtls_printf
#define MBEDTLS_PLATFORM_FPRINTF_MACRO board_mbedtls_fprintf
#define board_mbedtls_fprintf(stream, ...) board_mbedtls_printf(__VA_ARGS__)
#define MBEDTLS_PLATFORM_EXIT_MACRO board_mbedtls_exit
#define MBEDTLS_PLATFORM_SETBUF_MACRO board_mbedtls_setbuf
#define board_mbedtls_setbuf(stream, buf) ((void)0)
int board_mbedtls_printf(const char *fmt, ...);
void board_mbedtls_exit(int status);
/* NO_STD_FUNCTIONS stops platform.h from including these; the macros above need them. */
#include <stdio.h>
#include <stdlib.h>

/* ---- what certwiz needs ------------------------------------------------------------------- */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
/* SHA-1's block function as a loop (firmware/src/cw_sha1_small.c) instead of mbedTLS's unrolled
 * one: -3.4 KB. */
#define MBEDTLS_SHA1_PROCESS_ALT
/* SHA-224 stays, as on the host board: certwiz makes no SHA-224 digest itself, but a CA may sign
 * with it (0.4 KB). */
/* No SHA-224: no CA certwiz has met signs with it, and certwiz's own requests use SHA-256 and
 * SHA-384; a certificate signed with SHA-224 is refused as an unknown signature algorithm
 * (flash -0.3 KB). The host keeps it. */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_CIPHER_MODE_CBC  /* mbedtls_aes_crypt_cbc, mbedtls_des(3)_crypt_cbc */
#define MBEDTLS_AES_C
#define MBEDTLS_DES_C
/* AES's and DES's key schedules and block functions written from FIPS-197 and FIPS 46-3, a
 * byte or a bit at a time over the standards' own small tables (firmware/src/mbedtls_alt/cw_aes_small.c,
 * cw_des_small.c), instead of mbedTLS's larger tables and unrolled code; the modes and contexts
 * stay mbedTLS's. AES 5 138 -> 1 200 bytes, DES 4 972 -> 1 664: image -7 356 bytes, for 7 to
 * 14 times the time a block (docs/decisions.md 21). */
#define MBEDTLS_AES_SETKEY_ENC_ALT
#define MBEDTLS_AES_SETKEY_DEC_ALT
#define MBEDTLS_AES_ENCRYPT_ALT
#define MBEDTLS_AES_DECRYPT_ALT
#define MBEDTLS_DES_SETKEY_ALT
#define MBEDTLS_DES_CRYPT_ECB_ALT
#define MBEDTLS_DES3_CRYPT_ECB_ALT

/* Reading a certificate's validity needs no clock in mbedTLS: certwiz compares notBefore and
 * notAfter with the board's clock itself (hal_clock_utc), so MBEDTLS_HAVE_TIME stays off. */

/* ---- size: smaller code and tables, slower where it does not matter ----------------------- */
/* (AES's table options are gone: its block functions are certwiz's own, above.) */
/* SHA-256 and SHA-512 as loops, not unrolled; their block functions are certwiz's own
 * (firmware/src/mbedtls_alt/cw_sha2_small.c: one table of round constants for both, the sigma
 * functions' rotations in a loop; docs/decisions.md 44). */
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_SMALLER
#define MBEDTLS_SHA256_PROCESS_ALT
#define MBEDTLS_SHA512_PROCESS_ALT
/* ECDSA verification only (private keys live in the token): small windows, no fixed-point
 * tables in RAM. */
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
/* ECDSA signing replaced by a function that refuses (mps2_mbedtls_alt.c): keys sign in the
 * token, but mbedTLS's key table links its signing path in (-640 bytes). */
#define MBEDTLS_ECDSA_SIGN_ALT
/* ECDSA verification of our own (firmware/src/mbedtls_alt/cw_ecdsa_small.c, SEC 1 4.1.4): one
 * pass of double-and-add over both scalars in Jacobian coordinates, inverses by Fermat, instead of
 * mbedTLS's comb method and constant-time inversion, which serve signing with a secret scalar
 * (docs/decisions.md 44). */
#define MBEDTLS_ECDSA_VERIFY_ALT
/* Bignum: RSA up to 4096 bits (a CA key). Window 1: a public exponent (65537) of fewer than 80
 * bits is raised with a window of 1 whatever this says (bignum_core.c); larger windows would
 * only serve private exponents, which never come here (-0.1 KB). */
#define MBEDTLS_MPI_WINDOW_SIZE 1
#define MBEDTLS_MPI_MAX_SIZE 512
/* bignum's one double-width division (mbedtls_int_div_int, in mbedtls_mpi_div_mpi) done with
 * 32-bit divisions: the 64-bit library routine it would pull in is 0.9 KB, and certwiz's own code
 * divides only 32-bit numbers on this board (cw_time.c, the board's printf). */
#define MBEDTLS_NO_UDBL_DIVISION
/* Bignum's multiply-accumulate in Thumb-2 assembly (UMAAL, bn_mul.h) rather than C: smaller
 * (-0.3 KB) and faster for every RSA and ECDSA operation; mbedTLS's constant-time helpers then
 * hide values from the compiler with an empty asm statement instead of a volatile load. */
#define MBEDTLS_HAVE_ASM
/* RSA private-key operations without the Chinese Remainder Theorem (-1.0 KB). None runs here:
 * keys are in the token, but mbedTLS's key table links the private-key path in. */
#define MBEDTLS_RSA_NO_CRT
/* X.509: no text descriptions of certificates, CSRs and OIDs (mbedtls_x509_crt_info and the
 * names in the OID tables, -1.7 KB). certwiz prints what it shows itself; it uses
 * mbedtls_x509_dn_gets and mbedtls_x509_serial_gets, which stay. */
#define MBEDTLS_X509_REMOVE_INFO

#endif /* CW_MBEDTLS_CONFIG_H */
