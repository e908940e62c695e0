/* SPDX-License-Identifier: MIT */
/*
 * Event channels, the guest side: ports that become pending in the
 * shared-info page (Xen's 2-level layout), the handlers bound to them, and
 * the operations that make ports between domains (Xen's EVTCHNOP_*).
 * Handlers run from the scheduler, between threads, on whatever stack is
 * current: they must not block; they wake the threads that do the work.
 *
 * Every call returns 0 (or a port) or a negative errno; -ENOSYS where the
 * platform has no domains (QEMU). Ports are never 0.
 */
#ifndef LIBOS_EVTCHN_H
#define LIBOS_EVTCHN_H

#include <stdint.h>

#include "hv_abi.h"

typedef uint32_t evtchn_port_t;
typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);

/* Ports libos can bind handlers to (a tunable; the shared page holds HV_NR_EVTCHN). */
#define EVTCHN_MAX_PORTS 1024

/* Run fn(port, arg) whenever port becomes pending, and unmask it. 0, -EINVAL or -EBUSY. */
int evtchn_bind_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg);
/* Mask the port and forget its handler. */
void evtchn_unbind_handler(evtchn_port_t port);
void evtchn_mask(evtchn_port_t port);
/*
 * Unmask; an event that came while masked is delivered at the next dispatch.
 * Done in the shared page, without an exit: with one vCPU it is all that
 * EVTCHNOP_UNMASK would do.
 */
void evtchn_unmask(evtchn_port_t port);

/*
 * Ports between domains. A new port starts masked, so an event that comes
 * before its handler is bound waits for evtchn_bind_handler().
 *
 * evtchn_alloc_unbound: a port that domain remote may bind to; the port,
 * or -ESRCH (no such domain), -ENOSPC (no free port, here or in hv).
 * evtchn_bind_interdomain: connect to remote's unbound port remote_port;
 * the local port (pending at once, as on Xen: the peer may have signalled
 * before), or -ESRCH, -EBUSY (bound already), -EPERM (offered to another
 * domain), -EINVAL (no such unbound port), -ENOSPC.
 * evtchn_bind_virq: a port for virtual interrupt virq (HV_VIRQ_*); the
 * port, or -EINVAL (unknown virq), -EBUSY (bound already), -ENOSPC.
 */
int evtchn_alloc_unbound(domid_t remote);
int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port);
int evtchn_bind_virq(uint32_t virq);

/*
 * Close a port this domain made with one of the calls above, unbinding its
 * handler; the peer's end becomes unbound (Xen's rule). 0, or -EINVAL for a
 * port libos did not make (hv is not asked).
 */
int evtchn_close(evtchn_port_t port);

/* EVTCHNOP_UNMASK through hv: 0, or -EINVAL for a port that is not this domain's. */
int evtchn_unmask_op(evtchn_port_t port);

/* What hv says about a port of domain dom (HV_DOMID_SELF: ours). */
struct evtchn_status {
	uint32_t state;		   /* enum hv_evtchnstat */
	domid_t remote_dom;	   /* INTERDOMAIN: the peer; UNBOUND: who may bind */
	evtchn_port_t remote_port; /* INTERDOMAIN: the peer's port */
	uint32_t virq;		   /* VIRQ: which */
};
int evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *st);

/*
 * Signal the peer of an interdomain port: the peer's port becomes pending.
 * No exit in the common case: the port goes into the send ring in shared
 * memory, and the doorbell is written only when hv went idle (hv_abi.h); a
 * full ring falls back to the EVTCHNOP_SEND hypercall. 0, -EINVAL for a
 * port libos knows is not interdomain (closed, a device's, a VIRQ; hv is
 * not asked), -ENOTCONN for an unbound port the peer has not bound yet.
 * An event to a peer that closed its end meanwhile is dropped (hv counts it).
 */
int evtchn_send(evtchn_port_t port);

/*
 * evtchn_send() through EVTCHNOP_SEND only: an exit, but the peer's port is
 * pending when it returns, and no thread of hv's has to wake to deliver it
 * (which matters where the host has no idle CPU for one). Same returns.
 */
int evtchn_send_sync(evtchn_port_t port);

/* What evtchn_send did since boot, for measurements. */
struct evtchn_send_stats {
	uint64_t ring;	    /* sends through the send ring */
	uint64_t doorbells; /* of those, ones that wrote the doorbell */
	uint64_t hypercall; /* sends through EVTCHNOP_SEND (ring full, no ring, or _sync) */
};
void evtchn_get_send_stats(struct evtchn_send_stats *st);

#endif /* LIBOS_EVTCHN_H */
