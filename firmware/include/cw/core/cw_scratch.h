/*
 * cw_scratch.h: the command scratch: two parts of static memory that the users who never need
 * them at the same time share, each part one user at a time.
 *
 * A command's large buffers (a paste, a CSR, a SCEP job, an `http get`) and the role model's
 * workspace are never all needed at once, so they overlap. Each part is the union of its users'
 * contexts, each context declared in its own module's header (cw_model.h, cw_job.h, the console's
 * cw_cmd.h); firmware/src/cw_firmware.c, which sees every module, defines the union. Who may use a
 * part is decided here, by claim and release: a user claims a part before touching it and releases
 * it when done; claiming a part someone else holds is a broken invariant and ends in the board's
 * assertion hook (a unit test fails, the host board aborts), so an overlap cannot go unnoticed.
 *
 * Part A: the role model's workspace (cw_model_ws_t), or the job slot's exchange buffers
 * (cw_job_exchange_t): a job gives part A back before the model accepts what it brought.
 * Part B: a command's own buffers (the console's), or the job slot's context (cw_job_ctx_t).
 * One command may hold both: an import holds its paste in B while the model works in A.
 *
 * Nothing in the scratch survives its holder: what must outlive a command is elsewhere (the
 * topology and role table in the model, the job slot's schedule).
 */
#ifndef CW_SCRATCH_H
#define CW_SCRATCH_H

#include <stddef.h>

typedef enum cw_scratch_part {
    CW_SCRATCH_A = 0,
    CW_SCRATCH_B = 1
} cw_scratch_part;

#define CW_SCRATCH_PARTS 2u

typedef enum cw_scratch_owner {
    CW_SCRATCH_FREE = 0,
    CW_SCRATCH_MODEL,   /* A: the role model's workspace */
    CW_SCRATCH_JOB,     /* A: the job's exchange buffers; B: the job slot's context */
    CW_SCRATCH_CONSOLE, /* A, B: a console word's buffers */
    CW_SCRATCH_API,     /* B: an integrator API call's (cw_roles.h) */
    CW_SCRATCH_LIFE     /* B: the lifecycle's offline renewal (cw_life.h) */
} cw_scratch_owner;

/* The part for who, or NULL (after the board's assertion hook) when someone else holds it. A part
 * is never claimed twice, not even by the same owner. */
void *cw_scratch_claim(cw_scratch_part part, cw_scratch_owner who);

/* The same, for a user that may find the part taken and try later (a background poll): NULL, no
 * assertion. */
void *cw_scratch_try_claim(cw_scratch_part part, cw_scratch_owner who);

/* Gives the part back; who must hold it (else the assertion hook). */
void cw_scratch_release(cw_scratch_part part, cw_scratch_owner who);

/* Who holds the part now. */
cw_scratch_owner cw_scratch_holder(cw_scratch_part part);

/* Forgets every claim (cw_init: the firmware starts with the scratch free). */
void cw_scratch_reset(void);

/* The storage, defined by the composition (cw_firmware.c): where each part is and its size. */
extern void *const cw_scratch_part_addr[CW_SCRATCH_PARTS];
extern const size_t cw_scratch_part_size[CW_SCRATCH_PARTS];

#endif /* CW_SCRATCH_H */
