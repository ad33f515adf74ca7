/*
 * mps2_token.c: the token provider of the MPS2 AN386 board: none yet.
 *
 * Until a secure element is attached (or SoftHSM2 is reached over a second UART with p11-kit's
 * RPC protocol), this board has no PKCS#11 provider; token commands answer ERR NO_TOKEN.
 */
#include "hal_token.h"

#include "mps2_board.h"

cw_err hal_token_get(hal_token_t *out)
{
    (void)out;
    return CW_ERR_NO_TOKEN;
}
