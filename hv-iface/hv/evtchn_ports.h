/* SPDX-License-Identifier: MIT */
/* Every domain's event-channel port table and Xen's rules for binding, closing and sending; pure. */
#ifndef HV_EVTCHN_PORTS_H
#define HV_EVTCHN_PORTS_H

#include <stdint.h>

#include "hv_abi.h"

#define EVTCHN_NR_VIRQS 1 /* HV_VIRQ_TIMER */

/* One port of one domain; state is an enum hv_evtchnstat. */
struct evtchn_port {
	uint8_t state;
	uint8_t virq;         /* VIRQ: which */
	domid_t remote_dom;   /* UNBOUND: who may bind it; INTERDOMAIN: the peer */
	uint32_t remote_port; /* INTERDOMAIN: the peer's port */
};

/*
 * A domain's ports. Ports [1, device_end) are hv's virtqueue ports (state
 * DEVICE), bound at boot and refused by every operation but STATUS and
 * UNMASK; port 0 is never used (Xen's rule).
 */
struct evtchn_ports {
	domid_t domid;
	uint32_t device_end;
	uint32_t virq_port[EVTCHN_NR_VIRQS]; /* 0: the virq is not bound */
	uint32_t wake_ports; /* UNBOUND and INTERDOMAIN ports: a peer may send; atomic reads */
	struct evtchn_port port[HV_NR_EVTCHN];
};

/*
 * All the tables, by domain id; NULL for an id no domain has or a domain
 * that ended (its ports closed). The caller serialises every call below
 * with one lock: the rules span two domains' tables.
 */
struct evtchn_domains {
	struct evtchn_ports *dom[HV_MAX_DOMAINS + 1];
};

/* A fresh table: every port closed but the device ports. */
void evtchn_ports_init(struct evtchn_ports *t, domid_t domid, uint32_t device_end);

/*
 * The operations, for the domain caller (its table must be in ds). Each
 * returns 0 or the ABI's -errno: -EINVAL a bad, closed, device or unbound
 * port, or a bad virq; -ESRCH no such domain; -EPERM a port of another
 * domain, an allocation for a third one, or a remote port offered to
 * another domain; -ENOSPC no free port; -EBUSY a remote port or a virq
 * bound already. (Xen answers -EINVAL where this says -EPERM or -EBUSY
 * for a remote port, and -EEXIST for a virq bound twice.)
 */

/* A port remote (HV_DOMID_SELF: caller) may bind; dom must name the caller. */
int evtchn_ports_alloc_unbound(struct evtchn_domains *ds, domid_t caller, domid_t dom,
			       domid_t remote, uint32_t *port);
/* Bind a new port of caller to remote's port rport, which must be unbound for caller. */
int evtchn_ports_bind_interdomain(struct evtchn_domains *ds, domid_t caller, domid_t remote,
				  uint32_t rport, uint32_t *port);
int evtchn_ports_bind_virq(struct evtchn_domains *ds, domid_t caller, uint32_t virq,
			   uint32_t *port);
/* Close a port; the peer's end of an interdomain pair becomes unbound for caller. */
int evtchn_ports_close(struct evtchn_domains *ds, domid_t caller, uint32_t port);
/* Where a send on port goes: the peer and its port, or -EINVAL (not an interdomain port). */
int evtchn_ports_send(struct evtchn_domains *ds, domid_t caller, uint32_t port, domid_t *to_dom,
		      uint32_t *to_port);
/* STATUS: dom's port (dom HV_DOMID_SELF or caller), into op's out fields. */
int evtchn_ports_status(struct evtchn_domains *ds, domid_t caller, domid_t dom, uint32_t port,
			struct hv_evtchn_op *op);
/* The domain ended: close every port it has and take its table out of ds. */
void evtchn_ports_remove(struct evtchn_domains *ds, domid_t domid);

#endif /* HV_EVTCHN_PORTS_H */
