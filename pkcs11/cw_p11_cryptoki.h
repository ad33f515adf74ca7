/*
 * cw_p11_cryptoki.h: the one place certwiz includes the PKCS#11 (Cryptoki) header.
 *
 * The header is p11-kit's copy of the OASIS definitions (Debian's libp11-kit-dev puts it under
 * /usr/include/p11-kit-1, which the Makefile adds to the include path). Only the header is used:
 * nothing in pkcs11/ links p11-kit or loads a module; the board hands over a CK_FUNCTION_LIST.
 * A board without p11-kit installed can put any PKCS#11 v2.40 pkcs11.h at the same include name.
 */
#ifndef CW_P11_CRYPTOKI_H
#define CW_P11_CRYPTOKI_H

#include <p11-kit/pkcs11.h>

#endif /* CW_P11_CRYPTOKI_H */
