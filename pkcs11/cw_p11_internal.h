/*
 * cw_p11_internal.h: helpers shared by the pkcs11/ implementation files. Not a public API.
 */
#ifndef CW_P11_INTERNAL_H
#define CW_P11_INTERNAL_H

#include "cw_p11.h"

/* Every C_* call goes through this: it counts the call (cw_p11_calls) and yields the function
 * pointer, so a call reads CW_P11_FN(ctx, C_Sign)(session, ...). */
#define CW_P11_FN(ctx, name) (cw_p11__count(), (ctx)->fl->name)
void cw_p11__count(void);

/* Wraps a token answer, remembering which function gave it (call is a static string). */
cw_err cw_p11__rv(cw_p11_ctx *ctx, const char *call, CK_RV rv);

/* True when ctx holds an open session. */
bool cw_p11__ready(const cw_p11_ctx *ctx);

/* One attribute's value, two-pass: out NULL or cap short gives CW_ERR_BUFFER_SMALL and the
 * length in *len; a missing or sensitive attribute gives the token's answer. No class check. */
cw_err cw_p11__get_attr(cw_p11_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t *out,
                        size_t cap, size_t *len);

/* Overwrites n bytes in a way the compiler keeps. */
void cw_p11__wipe(void *p, size_t n);

/* The const-free pointer Cryptoki's prototypes want for input buffers they do not modify. */
#define CW_P11_IN(p) ((CK_VOID_PTR)(uintptr_t)(const void *)(p))

/* A CK_ATTRIBUTE with a value of a given size. */
#define CW_P11_ATTR(type, ptr, size) {(type), CW_P11_IN(ptr), (CK_ULONG)(size)}

#endif /* CW_P11_INTERNAL_H */
