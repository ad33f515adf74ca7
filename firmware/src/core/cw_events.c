/*
 * cw_events.c: role events to caller-declared listener nodes (cw_roles.h, cw_events.h).
 */
#include "cw/core/cw_events.h"

#include <stddef.h>

static cw_listener_t *head;

void cw_roles_listen(cw_listener_t *node, cw_event_fn fn, void *arg)
{
    cw_listener_t **p = &head;

    cw_roles_unlisten(node); /* never twice in the list */
    node->fn = fn;
    node->arg = arg;
    node->next = NULL;
    while (*p != NULL) {
        p = &(*p)->next;
    }
    *p = node;
}

void cw_roles_unlisten(cw_listener_t *node)
{
    for (cw_listener_t **p = &head; *p != NULL; p = &(*p)->next) {
        if (*p == node) {
            *p = node->next;
            node->next = NULL;
            return;
        }
    }
}

void cw_events_emit(const cw_event_t *ev)
{
    cw_listener_t *n = head;
    while (n != NULL) {
        cw_listener_t *next = n->next; /* the callback may unlisten n */
        n->fn(ev, n->arg);
        n = next;
    }
}

void cw_events_reset(void)
{
    head = NULL;
}
