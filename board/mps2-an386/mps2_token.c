/*
 * mps2_token.c: the token of the MPS2 AN386 board: PKCS#11 over UART1 with p11-kit's RPC protocol
 * (pkcs11/cw_p11_rpc.h), served on the PC by `p11-kit server` or `p11-kit remote` with any module
 * (SoftHSM2 under `make run`; docs/mps2-an386.md, docs/decisions.md 42 and 43).
 *
 * A real appliance would reach a secure element over a serial bus; QEMU emulates none, so the
 * token lives on the PC and the board reaches it as it would a chip: bytes on a UART. Nothing
 * behind UART1 (no second -serial) means no answer to the handshake within
 * CW_P11_RPC_HANDSHAKE_MS: the board says why on the console and runs without a token.
 */
#include "hal_token.h"

#include "cw_p11_rpc.h"
#include "mps2_board.h"

static bool link_send(void *arg, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)arg;
    return board_uart1_send(buf, len, timeout_ms);
}

static size_t link_recv(void *arg, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)arg;
    return board_uart1_recv(buf, len, timeout_ms);
}

static const cw_p11_rpc_link_t uart1 = {link_send, link_recv, NULL};

cw_err hal_token_get(hal_token_t *out)
{
    static bool started;
    if (!started) {
        board_uart1_init();
        cw_p11_rpc_init(&uart1);
        started = true;
    }
    /* at boot, and at a login after the link broke (cw_token.c): is anyone there? */
    if (cw_p11_rpc_state() == CW_P11_RPC_BROKEN) {
        board_uart_puts("\r\nmps2-an386: the token link broke: ");
        board_uart_puts(cw_p11_rpc_why());
        board_uart_puts("; reconnecting\r\n");
    }
    if (cw_p11_rpc_connect() != CKR_OK) {
        board_uart_puts("\r\nmps2-an386: no token on UART1: ");
        board_uart_puts(cw_p11_rpc_why());
        board_uart_puts(" (`make run` starts p11-kit server behind it)\r\n");
        return CW_ERR_NO_TOKEN;
    }
    out->fl = cw_p11_rpc_function_list();
    out->uri = NULL; /* the server exports the one token it was started with */
    out->idle_logout_ms = CW_TOKEN_IDLE_LOGOUT_MS;
    return CW_OK;
}
