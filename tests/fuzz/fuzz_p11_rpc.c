/*
 * fuzz_p11_rpc.c: arbitrary bytes as the PC side's replies to the RPC client (cw_p11_rpc.c): the
 * board's token link crosses its trust boundary. The client sends a fixed conversation
 * (p11_rpc_drive.h); the input is everything the link receives, version byte included.
 * Properties: no crash or sanitizer report (every reply is decoded into caller buffers of
 * certwiz's sizes); a call that answers OK never reports more items or bytes than its room; a link marked broken answers CKR_DEVICE_ERROR without reading; the client
 * never reads more than it was given (the link counts).
 * Seeds (tests/fuzz/corpus/p11_rpc/): the replies of a real `p11-kit remote` 0.24.1 serving SoftHSM2
 * 2.6.1 to this conversation, captured by test_p11_rpc (CW_RPC_SEED_DIR=...).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p11_rpc_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    const uint8_t *data;
    size_t size, off;
} in;

static bool fuzz_send(void *arg, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)arg;
    (void)buf;
    (void)len;
    (void)timeout_ms;
    return true;
}

static size_t fuzz_recv(void *arg, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)arg;
    if (timeout_ms == 0u) {
        return 0; /* nothing arrives before it is asked for (the client drains stale input so) */
    }
    size_t n = in.size - in.off < len ? in.size - in.off : len;
    memcpy(buf, in.data + in.off, n);
    in.off += n;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cw_p11_rpc_link_t link = {fuzz_send, fuzz_recv, NULL};
    in.data = data;
    in.size = size;
    in.off = 0;
    cw_p11_rpc_init(&link);
    /* the conversation, and again after a break while input remains (C_Initialize starts afresh) */
    for (int round = 0; round < 3 && (round == 0 || in.off < in.size); round++) {
        size_t before = in.off;
        if (p11_rpc_drive() < 0) {
            abort(); /* OK with a count or length past the caller's room */
        }
        if (cw_p11_rpc_state() == CW_P11_RPC_BROKEN) {
            CK_ULONG n = 0;
            size_t at = in.off;
            if (cw_p11_rpc_function_list()->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_DEVICE_ERROR || in.off != at) {
                abort(); /* broken means no more reading */
            }
        }
        if (in.off == before) {
            break;
        }
    }
    cw_p11_rpc_stats_t st;
    cw_p11_rpc_stats(&st);
    if (st.bytes_in != in.off || in.off > size) {
        abort();
    }
    return 0;
}
