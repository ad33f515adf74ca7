/*
 * p11_rpc_drive.h: one fixed conversation of certwiz's kind through the RPC client's function
 * list: what fuzz_p11_rpc.c feeds arbitrary replies to, and what test_p11_rpc.c runs against a
 * real `p11-kit remote` to check the conversation works and to capture the seed replies
 * (tests/fuzz/corpus/p11_rpc/).
 *
 * Every buffer is sized as certwiz sizes its own; a reply that overflows one is the decoder's
 * bug, which ASan reports. Returns how many calls answered as expected, or -1 when a call answered
 * OK with a count or length past the room it was given (a caller would index past its buffer).
 */
#ifndef P11_RPC_DRIVE_H
#define P11_RPC_DRIVE_H

#include <string.h>

#include "cw_p11_rpc.h"

/* The line of the first call that answered otherwise (0: none), for the test's message. */
static int p11_rpc_drive_first_miss;

static int step(int line, CK_RV got, CK_RV want)
{
    if (got != want && p11_rpc_drive_first_miss == 0) {
        p11_rpc_drive_first_miss = line;
    }
    return got == want;
}

static int p11_rpc_drive(void)
{
    CK_FUNCTION_LIST *f = cw_p11_rpc_function_list();
    CK_SLOT_ID slots[4] = {0};
    CK_ULONG n = 4;
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE s = 0;
    CK_SESSION_INFO si;
    CK_MECHANISM_TYPE mechs[96];
    CK_MECHANISM_INFO mi;
    CK_OBJECT_HANDLE pub = 0, priv = 0, found[4];
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE, flag = 0;
    CK_ULONG cls = 0, bits = 0;
    CK_KEY_TYPE kt = CKK_EC;
    static const CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_BYTE point[100], id[20], sig[72], small[8], rnd[16], label[16];
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0}, ecdsa = {CKM_ECDSA, NULL, 0};
    CK_ATTRIBUTE pubt[] = {{CKA_TOKEN, &no, 1}, {CKA_EC_PARAMS, (void *)(uintptr_t)p256, sizeof p256},
                           {CKA_VERIFY, &yes, 1}, {CKA_LABEL, "drive", 5}};
    CK_ATTRIBUTE privt[] = {{CKA_TOKEN, &no, 1}, {CKA_SENSITIVE, &yes, 1}, {CKA_SIGN, &yes, 1},
                            {CKA_KEY_TYPE, &kt, sizeof kt}};
    CK_ATTRIBUTE get[] = {{CKA_EC_POINT, point, sizeof point}, {CKA_CLASS, &cls, sizeof cls},
                          {CKA_TOKEN, &flag, 1}, {CKA_LABEL, NULL, 0}, {CKA_ID, id, sizeof id},
                          {CKA_MODULUS_BITS, &bits, sizeof bits}};
    CK_ATTRIBUTE secret = {CKA_VALUE, point, sizeof point};
    CK_ATTRIBUTE lab = {CKA_LABEL, label, 2};
    CK_ULONG priv_class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE find = {CKA_CLASS, &priv_class, sizeof priv_class};
    static const CK_BYTE digest[32] = {1, 2, 3};
    int ok = 0;

    p11_rpc_drive_first_miss = 0;

    ok += step(__LINE__, f->C_Initialize(NULL), CKR_OK);
    if (step(__LINE__, f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK)) {
        ok++;
        if (n > 4) {
            return -1; /* a count past the room the caller gave: it would index past it */
        }
    }
    ok += step(__LINE__, f->C_GetTokenInfo(slots[0], &ti), CKR_OK);
    ok += step(__LINE__, f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
    ok += step(__LINE__, f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4), CKR_OK);
    n = 96;
    if (step(__LINE__, f->C_GetMechanismList(slots[0], mechs, &n), CKR_OK)) {
        ok++;
        if (n > 96) {
            return -1;
        }
    }
    ok += step(__LINE__, f->C_GetMechanismInfo(slots[0], CKM_EC_KEY_PAIR_GEN, &mi), CKR_OK);
    ok += step(__LINE__, f->C_GenerateKeyPair(s, &gen, pubt, 4, privt, 4, &pub, &priv), CKR_OK);
    ok += step(__LINE__, f->C_GetAttributeValue(s, pub, get, 6), CKR_ATTRIBUTE_TYPE_INVALID); /* no modulus bits */
    ok += step(__LINE__, f->C_GetAttributeValue(s, priv, &secret, 1), CKR_ATTRIBUTE_SENSITIVE);
    ok += step(__LINE__, f->C_GetAttributeValue(s, pub, &lab, 1), CKR_BUFFER_TOO_SMALL);
    ok += step(__LINE__, f->C_SetAttributeValue(s, pub, pubt + 3, 1), CKR_OK);
    ok += step(__LINE__, f->C_SignInit(s, &ecdsa, priv), CKR_OK);
    n = sizeof small;
    ok += step(__LINE__, f->C_Sign(s, (CK_BYTE_PTR)(uintptr_t)digest, sizeof digest, small, &n), CKR_BUFFER_TOO_SMALL);
    n = sizeof sig;
    if (step(__LINE__, f->C_Sign(s, (CK_BYTE_PTR)(uintptr_t)digest, sizeof digest, sig, &n), CKR_OK)) {
        ok++;
        if (n > sizeof sig) {
            return -1;
        }
    }
    ok += step(__LINE__, f->C_FindObjectsInit(s, &find, 1), CKR_OK);
    if (step(__LINE__, f->C_FindObjects(s, found, 4, &n), CKR_OK)) {
        ok++;
        if (n > 4) {
            return -1;
        }
    }
    ok += step(__LINE__, f->C_FindObjectsFinal(s), CKR_OK);
    ok += step(__LINE__, f->C_GenerateRandom(s, rnd, sizeof rnd), CKR_OK);
    ok += step(__LINE__, f->C_GetSessionInfo(s, &si), CKR_OK);
    ok += step(__LINE__, f->C_DestroyObject(s, 0xdead), CKR_OBJECT_HANDLE_INVALID);
    ok += step(__LINE__, f->C_DestroyObject(s, priv), CKR_OK);
    ok += step(__LINE__, f->C_Logout(s), CKR_OK);
    ok += step(__LINE__, f->C_CloseSession(s), CKR_OK);
    ok += step(__LINE__, f->C_Finalize(NULL), CKR_OK);
    return ok;
}

/* How many calls p11_rpc_drive makes, each expected to answer as written there. */
#define P11_RPC_DRIVE_CALLS 25

#endif /* P11_RPC_DRIVE_H */
