/* SPDX-License-Identifier: MIT */
/*
 * Event channels, the guest side: ports that become pending in the
 * shared-info page (Xen's 2-level layout) and the handlers bound to them.
 * Handlers run from the scheduler, between threads, on whatever stack is
 * current: they must not block; they wake the threads that do the work.
 */
#ifndef LIBOS_EVTCHN_H
#define LIBOS_EVTCHN_H

#include <stdint.h>

typedef uint32_t evtchn_port_t;
typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);

/* Ports libos can bind handlers to (a tunable; the shared page holds HV_NR_EVTCHN). */
#define EVTCHN_MAX_PORTS 1024

/* Run fn(port, arg) whenever port becomes pending, and unmask it. 0, -EINVAL or -EBUSY. */
int evtchn_bind_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg);
/* Mask the port and forget its handler. */
void evtchn_unbind_handler(evtchn_port_t port);
void evtchn_mask(evtchn_port_t port);
/* Unmask; an event that came while masked is delivered at the next dispatch. */
void evtchn_unmask(evtchn_port_t port);

#endif /* LIBOS_EVTCHN_H */
