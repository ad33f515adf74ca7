/*
 * cw_scratch.c: who holds each part of the command scratch (cw_scratch.h).
 */
#include "cw/core/cw_scratch.h"

#include "hal_board.h"

static cw_scratch_owner owner[CW_SCRATCH_PARTS];

void *cw_scratch_try_claim(cw_scratch_part part, cw_scratch_owner who)
{
    if ((unsigned)part >= CW_SCRATCH_PARTS || owner[part] != CW_SCRATCH_FREE) {
        return NULL;
    }
    owner[part] = who;
    return cw_scratch_part_addr[part];
}

void *cw_scratch_claim(cw_scratch_part part, cw_scratch_owner who)
{
    void *p = cw_scratch_try_claim(part, who);
    if (p == NULL) {
        hal_board_assert_failed(__FILE__, __LINE__, "scratch part claimed twice");
    }
    return p;
}

void cw_scratch_release(cw_scratch_part part, cw_scratch_owner who)
{
    if ((unsigned)part >= CW_SCRATCH_PARTS || owner[part] != who) {
        hal_board_assert_failed(__FILE__, __LINE__, "scratch part released by a non-holder");
        return;
    }
    owner[part] = CW_SCRATCH_FREE;
}

cw_scratch_owner cw_scratch_holder(cw_scratch_part part)
{
    return (unsigned)part < CW_SCRATCH_PARTS ? owner[part] : CW_SCRATCH_FREE;
}

void cw_scratch_reset(void)
{
    for (unsigned i = 0; i < CW_SCRATCH_PARTS; i++) {
        owner[i] = CW_SCRATCH_FREE;
    }
}
