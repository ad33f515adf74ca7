/*
 * cw_p11_session.c: library initialisation, token selection, session, login, idle logout,
 * token information, random bytes.
 */
#include <string.h>

#include "cw_p11_internal.h"

static uint32_t calls;

void cw_p11__count(void)
{
    calls++;
}

uint32_t cw_p11_calls(void)
{
    return calls;
}

void cw_p11_calls_reset(void)
{
    calls = 0;
}

/* Answers that mean the login (or the session that held it) is gone. */
static bool ends_login(CK_RV rv)
{
    return rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
           rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT;
}

cw_err cw_p11__rv(cw_p11_ctx *ctx, const char *call, CK_RV rv)
{
    if (rv != CKR_OK && ctx != NULL) {
        ctx->last_call = call;
        if (ctx->logged_in && ends_login(rv)) {
            ctx->logged_in = false;
            ctx->login_lost = true;
            ctx->idle_armed = false;
            return CW_ERR_LOGIN_LOST; /* the token's own word is in cw_p11_last_call's call */
        }
    }
    return CW_ERR_FROM_P11(rv);
}

bool cw_p11__ready(const cw_p11_ctx *ctx)
{
    return ctx != NULL && ctx->open && ctx->fl != NULL;
}

void cw_p11__wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0u) {
        *v++ = 0;
    }
}

const char *cw_p11_last_call(const cw_p11_ctx *ctx)
{
    return (ctx != NULL && ctx->last_call != NULL) ? ctx->last_call : "";
}

/* The one slot holding an initialised token that the URI's token attributes match: the first
 * when the URI names no token attribute, CW_ERR_AMBIGUOUS when it does and several match. */
static cw_err find_slot(cw_p11_ctx *ctx, const cw_p11_uri_t *uri, CK_SLOT_ID *slot)
{
    CK_SLOT_ID slots[CW_P11_SLOTS_MAX];
    CK_ULONG n = CW_P11_SLOTS_MAX;
    bool found = false;
    bool any = uri == NULL || (uri->present & (CW_P11_URI_HAS_TOKEN | CW_P11_URI_HAS_MANUFACTURER |
                                               CW_P11_URI_HAS_SERIAL | CW_P11_URI_HAS_MODEL)) == 0u;
    CK_RV rv = CW_P11_FN(ctx, C_GetSlotList)(CK_TRUE, slots, &n);
    if (rv == CKR_BUFFER_TOO_SMALL) {
        return CW_ERR_TOO_LARGE;
    }
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_GetSlotList", rv);
    }
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO info;
        rv = CW_P11_FN(ctx, C_GetTokenInfo)(slots[i], &info);
        if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED) {
            continue; /* removed between the two calls, or unusable: not the one */
        }
        if (rv != CKR_OK) {
            return cw_p11__rv(ctx, "C_GetTokenInfo", rv);
        }
        if ((info.flags & CKF_TOKEN_INITIALIZED) == 0u || (!any && !cw_p11_uri_match_token(uri, &info))) {
            continue;
        }
        if (found) {
            return CW_ERR_AMBIGUOUS;
        }
        *slot = slots[i];
        found = true;
        if (any) {
            break;
        }
    }
    return found ? CW_OK : CW_ERR_TOKEN_NOT_FOUND;
}

cw_err cw_p11_open(cw_p11_ctx *ctx, CK_FUNCTION_LIST *fl, const cw_p11_uri_t *token)
{
    if (ctx == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->last_call = "";
    if (fl == NULL) {
        return CW_ERR_NO_TOKEN;
    }
    ctx->fl = fl;
    CK_RV rv = CW_P11_FN(ctx, C_Initialize)(NULL_PTR);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        cw_err e = cw_p11__rv(ctx, "C_Initialize", rv);
        ctx->fl = NULL;
        return e;
    }
    ctx->own_init = (rv == CKR_OK);

    cw_err e = find_slot(ctx, token, &ctx->slot);
    if (e == CW_OK) {
        rv = CW_P11_FN(ctx, C_OpenSession)(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL_PTR, NULL_PTR,
                               &ctx->session);
        e = cw_p11__rv(ctx, "C_OpenSession", rv);
    }
    if (e != CW_OK) {
        const char *call = ctx->last_call;
        if (ctx->own_init) {
            (void)CW_P11_FN(ctx, C_Finalize)(NULL_PTR);
        }
        memset(ctx, 0, sizeof *ctx);
        ctx->last_call = call;
        return e;
    }
    ctx->open = true;
    return CW_OK;
}

void cw_p11_close(cw_p11_ctx *ctx)
{
    if (ctx == NULL) {
        return;
    }
    if (cw_p11__ready(ctx)) {
        if (ctx->logged_in) {
            (void)CW_P11_FN(ctx, C_Logout)(ctx->session);
        }
        (void)CW_P11_FN(ctx, C_CloseSession)(ctx->session);
        if (ctx->own_init) {
            (void)CW_P11_FN(ctx, C_Finalize)(NULL_PTR);
        }
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->last_call = "";
}

cw_err cw_p11_login(cw_p11_ctx *ctx, const char *pin, size_t pin_len)
{
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    if (pin == NULL && pin_len != 0u) {
        return CW_ERR_INVALID_ARG;
    }
    CK_RV rv = CW_P11_FN(ctx, C_Login)(ctx->session, CKU_USER, (CK_UTF8CHAR_PTR)CW_P11_IN(pin),
                                (CK_ULONG)pin_len);
    if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED) {
        /* the token ended the session (restarted, or closed all of them): a new one, once */
        rv = CW_P11_FN(ctx, C_OpenSession)(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL_PTR, NULL_PTR,
                                           &ctx->session);
        if (rv == CKR_OK) {
            rv = CW_P11_FN(ctx, C_Login)(ctx->session, CKU_USER, (CK_UTF8CHAR_PTR)CW_P11_IN(pin), (CK_ULONG)pin_len);
        }
    }
    if (rv == CKR_USER_ALREADY_LOGGED_IN) {
        rv = CKR_OK;
    }
    if (rv == CKR_OK) {
        ctx->logged_in = true;
        ctx->login_lost = false;
        ctx->idle_armed = false;
        ctx->key_work = false;
    }
    return cw_p11__rv(ctx, "C_Login", rv);
}

void cw_p11_set_relogin(cw_p11_ctx *ctx, cw_err (*fn)(cw_p11_ctx *ctx, void *arg), void *arg)
{
    ctx->relogin_fn = fn;
    ctx->relogin_arg = arg;
}

cw_err cw_p11_relogin(cw_p11_ctx *ctx, const char *pin, size_t pin_len)
{
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    if (pin == NULL && pin_len != 0u) {
        return CW_ERR_INVALID_ARG;
    }
    (void)CW_P11_FN(ctx, C_Logout)(ctx->session);
    ctx->logged_in = false;
    ctx->idle_armed = false;
    ctx->gen++; /* key handles read before are stale (SoftHSM2 drops them at logout already) */
    if (ctx->own_init) {
        /* what the library keeps for the process (operations a failed call left behind, keys it
         * holds loaded) goes only with C_Finalize; the slot keeps its ID across it */
        (void)CW_P11_FN(ctx, C_CloseSession)(ctx->session);
        (void)CW_P11_FN(ctx, C_Finalize)(NULL_PTR);
        CK_RV rv = CW_P11_FN(ctx, C_Initialize)(NULL_PTR);
        if (rv == CKR_OK) {
            rv = CW_P11_FN(ctx, C_OpenSession)(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL_PTR,
                                               NULL_PTR, &ctx->session);
        }
        if (rv != CKR_OK) {
            ctx->open = false; /* every later call answers CW_ERR_NO_TOKEN until reopened */
            return cw_p11__rv(ctx, rv == CKR_OK ? "C_OpenSession" : "C_Initialize", rv);
        }
    }
    return cw_p11_login(ctx, pin, pin_len);
}

cw_err cw_p11_logout(cw_p11_ctx *ctx)
{
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    CK_RV rv = CW_P11_FN(ctx, C_Logout)(ctx->session);
    if (rv == CKR_USER_NOT_LOGGED_IN) {
        rv = CKR_OK;
    }
    if (rv == CKR_OK) {
        ctx->logged_in = false;
        ctx->login_lost = false;
        ctx->idle_armed = false;
    }
    return cw_p11__rv(ctx, "C_Logout", rv);
}

bool cw_p11_logged_in(const cw_p11_ctx *ctx)
{
    return cw_p11__ready(ctx) && ctx->logged_in;
}

bool cw_p11_login_lost(const cw_p11_ctx *ctx)
{
    return ctx != NULL && ctx->login_lost;
}

bool cw_p11_login_check(cw_p11_ctx *ctx)
{
    if (!cw_p11__ready(ctx)) {
        return false;
    }
    CK_SESSION_INFO si;
    CK_RV rv = CW_P11_FN(ctx, C_GetSessionInfo)(ctx->session, &si);
    if (rv != CKR_OK) {
        if (ctx->logged_in) { /* whatever the answer, a session that cannot say is no login */
            ctx->login_lost = true;
            ctx->logged_in = false;
        }
        (void)cw_p11__rv(ctx, "C_GetSessionInfo", rv);
        return false;
    }
    bool in = (si.state == CKS_RO_USER_FUNCTIONS || si.state == CKS_RW_USER_FUNCTIONS);
    if (ctx->logged_in && !in) {
        ctx->login_lost = true;
    }
    ctx->logged_in = in;
    return in;
}

void cw_p11_set_idle_logout(cw_p11_ctx *ctx, uint32_t ms)
{
    if (ctx != NULL) {
        ctx->idle_ms = ms;
    }
}

void cw_p11_touch(cw_p11_ctx *ctx, uint32_t now_ms)
{
    if (ctx != NULL) {
        ctx->last_use_ms = now_ms;
        ctx->idle_armed = true;
    }
}

/* Closing the last session of an application ends its login (PKCS#11 v2.40, 5.6, C_CloseSession). */
static void drop_login_by_reopening(cw_p11_ctx *ctx)
{
    (void)CW_P11_FN(ctx, C_CloseSession)(ctx->session);
    CK_RV rv = CW_P11_FN(ctx, C_OpenSession)(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL_PTR,
                                      NULL_PTR, &ctx->session);
    if (rv != CKR_OK) {
        (void)cw_p11__rv(ctx, "C_OpenSession", rv);
        ctx->open = false; /* every later call answers CW_ERR_NO_TOKEN until reopened */
    }
}

bool cw_p11_poll(cw_p11_ctx *ctx, uint32_t now_ms)
{
    if (!cw_p11__ready(ctx) || !ctx->logged_in || ctx->idle_ms == 0u) {
        return false;
    }
    if (!ctx->idle_armed) {
        cw_p11_touch(ctx, now_ms);
        return false;
    }
    if ((uint32_t)(now_ms - ctx->last_use_ms) < ctx->idle_ms) {
        return false;
    }
    if (cw_p11_logout(ctx) != CW_OK) {
        drop_login_by_reopening(ctx);
    }
    ctx->logged_in = false;
    ctx->idle_armed = false;
    return true;
}

/* Copies a space-padded CK_TOKEN_INFO field into a NUL-terminated string without padding. */
static void trim_field(char *dst, const CK_UTF8CHAR *src, size_t width)
{
    size_t n = width;
    while (n > 0u && (src[n - 1u] == ' ' || src[n - 1u] == '\0')) {
        n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

cw_err cw_p11_token_info(cw_p11_ctx *ctx, cw_p11_token_info_t *out)
{
    if (out == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    CK_TOKEN_INFO info;
    CK_RV rv = CW_P11_FN(ctx, C_GetTokenInfo)(ctx->slot, &info);
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_GetTokenInfo", rv);
    }
    trim_field(out->label, info.label, sizeof info.label);
    trim_field(out->manufacturer, info.manufacturerID, sizeof info.manufacturerID);
    trim_field(out->model, info.model, sizeof info.model);
    trim_field(out->serial, info.serialNumber, sizeof info.serialNumber);
    out->free_public_known = info.ulFreePublicMemory != CK_UNAVAILABLE_INFORMATION;
    out->free_private_known = info.ulFreePrivateMemory != CK_UNAVAILABLE_INFORMATION;
    out->free_public = out->free_public_known ? info.ulFreePublicMemory : 0u;
    out->free_private = out->free_private_known ? info.ulFreePrivateMemory : 0u;
    out->pin_count_low = (info.flags & CKF_USER_PIN_COUNT_LOW) != 0u;
    out->pin_final_try = (info.flags & CKF_USER_PIN_FINAL_TRY) != 0u;
    out->pin_locked = (info.flags & CKF_USER_PIN_LOCKED) != 0u;
    out->pin_min = info.ulMinPinLen;
    out->pin_max = info.ulMaxPinLen;
    return CW_OK;
}

cw_err cw_p11_is_this_token(cw_p11_ctx *ctx, const cw_p11_uri_t *uri, bool *same)
{
    if (uri == NULL || same == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    *same = false;
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    CK_TOKEN_INFO info;
    CK_RV rv = CW_P11_FN(ctx, C_GetTokenInfo)(ctx->slot, &info);
    if (rv != CKR_OK) {
        return cw_p11__rv(ctx, "C_GetTokenInfo", rv);
    }
    *same = cw_p11_uri_match_token(uri, &info);
    return CW_OK;
}

cw_err cw_p11_random(cw_p11_ctx *ctx, uint8_t *buf, size_t len)
{
    if (!cw_p11__ready(ctx)) {
        return CW_ERR_NO_TOKEN;
    }
    if (len == 0u) {
        return CW_OK;
    }
    if (buf == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    return cw_p11__rv(ctx, "C_GenerateRandom",
                      CW_P11_FN(ctx, C_GenerateRandom)(ctx->session, buf, (CK_ULONG)len));
}
