/*
 * cw_fault.h: named points in multi-step token updates, where a test may cut the power.
 *
 * The points, in the order an import passes them:
 *   "import:cas-stored"     CA certificates stored, the set's certificate not yet
 *   "import:cert-stored"    the set's certificate stored, roles not yet switched
 *   "roles:written"         the new role table written, the old one not yet removed
 *   "import:assigned"       roles switched, the pending request not yet removed
 *   "topology:written"      the new topology written, the old one not yet removed
 * The host board stops the process at one of them with --crash-at NAME (SIGKILL).
 */
#ifndef CW_FAULT_H
#define CW_FAULT_H

#include "hal_board.h"

static inline void cw_fault_point(const char *name)
{
    hal_board_fault_point(name);
}

#endif /* CW_FAULT_H */
