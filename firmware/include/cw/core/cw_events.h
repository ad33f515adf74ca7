/*
 * cw_events.h: telling every listener of cw_roles.h about a role's change (the core's side).
 */
#ifndef CW_EVENTS_H
#define CW_EVENTS_H

#include "cw/cw_roles.h"

/* Calls every listener with ev, in the order they were added. A listener may remove itself (or
 * any other) from its callback. */
void cw_events_emit(const cw_event_t *ev);

/* Forgets every listener (cw_init). */
void cw_events_reset(void);

#endif /* CW_EVENTS_H */
