/* SPDX-License-Identifier: MIT */
/*
 * Event-channel port tables: Xen's EVTCHNOP rules (xen/common/event_channel.c)
 * as pure functions over every domain's table, so that the state machine,
 * the cross-domain rules included, is unit-tested on the host. Sending and
 * waking are evtchn.c's; the caller holds the one lock over all tables.
 */
#include <errno.h>
#include <string.h>

#include "evtchn_ports.h"

static struct evtchn_ports *table_of(struct evtchn_domains *ds, domid_t id)
{
	return id >= 1 && id <= HV_MAX_DOMAINS ? ds->dom[id] : NULL;
}

static int counts_for_wake(uint8_t state)
{
	return state == HV_EVTCHNSTAT_UNBOUND || state == HV_EVTCHNSTAT_INTERDOMAIN;
}

/* Every state change goes through here, so wake_ports stays exact. */
static void set_port(struct evtchn_ports *t, uint32_t p, struct evtchn_port v)
{
	int delta = counts_for_wake(v.state) - counts_for_wake(t->port[p].state);

	t->port[p] = v;
	if (delta)
		__atomic_store_n(&t->wake_ports, t->wake_ports + (uint32_t)delta, __ATOMIC_RELAXED);
}

static void free_port(struct evtchn_ports *t, uint32_t p)
{
	set_port(t, p, (struct evtchn_port){ .state = HV_EVTCHNSTAT_CLOSED });
}

/* A port the guest may operate on: not 0, not beyond the table, not hv's. */
static int guest_port(const struct evtchn_ports *t, uint32_t p)
{
	return p >= t->device_end && p < HV_NR_EVTCHN;
}

/* The lowest closed port, as Xen's get_free_port(). */
static int lowest_free(const struct evtchn_ports *t, uint32_t *port)
{
	for (uint32_t p = t->device_end; p < HV_NR_EVTCHN; p++)
		if (t->port[p].state == HV_EVTCHNSTAT_CLOSED) {
			*port = p;
			return 0;
		}
	return -ENOSPC;
}

void evtchn_ports_init(struct evtchn_ports *t, domid_t domid, uint32_t device_end)
{
	memset(t, 0, sizeof(*t));
	t->domid = domid;
	t->device_end = device_end < 1 ? 1 : device_end;
	if (t->device_end > HV_NR_EVTCHN)
		t->device_end = HV_NR_EVTCHN;
	for (uint32_t p = 1; p < t->device_end; p++)
		t->port[p].state = HV_EVTCHNSTAT_DEVICE;
}

int evtchn_ports_alloc_unbound(struct evtchn_domains *ds, domid_t caller, domid_t dom,
			       domid_t remote, uint32_t *port)
{
	struct evtchn_ports *t = table_of(ds, caller);
	int rc;

	if (dom == HV_DOMID_SELF)
		dom = caller;
	if (remote == HV_DOMID_SELF)
		remote = caller;
	if (dom != caller)
		return table_of(ds, dom) ? -EPERM : -ESRCH;
	if (!t || !table_of(ds, remote))
		return -ESRCH;
	rc = lowest_free(t, port);
	if (rc)
		return rc;
	set_port(t, *port, (struct evtchn_port){ .state = HV_EVTCHNSTAT_UNBOUND,
						 .remote_dom = remote });
	return 0;
}

int evtchn_ports_bind_interdomain(struct evtchn_domains *ds, domid_t caller, domid_t remote,
				  uint32_t rport, uint32_t *port)
{
	struct evtchn_ports *t = table_of(ds, caller), *rt;
	struct evtchn_port *r;
	int rc;

	if (remote == HV_DOMID_SELF)
		remote = caller;
	rt = table_of(ds, remote);
	if (!t || !rt)
		return -ESRCH;
	if (!guest_port(rt, rport))
		return -EINVAL;
	r = &rt->port[rport];
	switch (r->state) {
	case HV_EVTCHNSTAT_UNBOUND:
		if (r->remote_dom != caller)
			return -EPERM;
		break;
	case HV_EVTCHNSTAT_INTERDOMAIN:
	case HV_EVTCHNSTAT_VIRQ:
		return -EBUSY;
	default:
		return -EINVAL;
	}
	rc = lowest_free(t, port);
	if (rc)
		return rc;
	set_port(t, *port, (struct evtchn_port){ .state = HV_EVTCHNSTAT_INTERDOMAIN,
						 .remote_dom = remote, .remote_port = rport });
	set_port(rt, rport, (struct evtchn_port){ .state = HV_EVTCHNSTAT_INTERDOMAIN,
						  .remote_dom = caller, .remote_port = *port });
	return 0;
}

int evtchn_ports_bind_virq(struct evtchn_domains *ds, domid_t caller, uint32_t virq,
			   uint32_t *port)
{
	struct evtchn_ports *t = table_of(ds, caller);
	int rc;

	if (!t)
		return -ESRCH;
	if (virq >= EVTCHN_NR_VIRQS)
		return -EINVAL;
	if (t->virq_port[virq])
		return -EBUSY;
	rc = lowest_free(t, port);
	if (rc)
		return rc;
	set_port(t, *port, (struct evtchn_port){ .state = HV_EVTCHNSTAT_VIRQ, .virq = (uint8_t)virq });
	t->virq_port[virq] = *port;
	return 0;
}

/* Close port p of t, whatever its state; the peer's end becomes unbound for t's domain. */
static void close_port(struct evtchn_domains *ds, struct evtchn_ports *t, uint32_t p)
{
	struct evtchn_port *c = &t->port[p];
	struct evtchn_ports *rt;

	switch (c->state) {
	case HV_EVTCHNSTAT_VIRQ:
		t->virq_port[c->virq] = 0;
		break;
	case HV_EVTCHNSTAT_INTERDOMAIN:
		rt = table_of(ds, c->remote_dom);
		/* A loopback pair (both ends ours) frees this end; the other becomes unbound. */
		if (rt && c->remote_port < HV_NR_EVTCHN &&
		    rt->port[c->remote_port].state == HV_EVTCHNSTAT_INTERDOMAIN &&
		    rt->port[c->remote_port].remote_dom == t->domid &&
		    rt->port[c->remote_port].remote_port == p)
			set_port(rt, c->remote_port, (struct evtchn_port){
				.state = HV_EVTCHNSTAT_UNBOUND, .remote_dom = t->domid });
		break;
	default:
		break;
	}
	free_port(t, p);
}

int evtchn_ports_close(struct evtchn_domains *ds, domid_t caller, uint32_t port)
{
	struct evtchn_ports *t = table_of(ds, caller);

	if (!t)
		return -ESRCH;
	if (!guest_port(t, port) || t->port[port].state == HV_EVTCHNSTAT_CLOSED)
		return -EINVAL;
	close_port(ds, t, port);
	return 0;
}

int evtchn_ports_send(struct evtchn_domains *ds, domid_t caller, uint32_t port, domid_t *to_dom,
		      uint32_t *to_port)
{
	struct evtchn_ports *t = table_of(ds, caller);

	if (!t)
		return -ESRCH;
	if (!guest_port(t, port) || t->port[port].state != HV_EVTCHNSTAT_INTERDOMAIN)
		return -EINVAL;
	*to_dom = t->port[port].remote_dom;
	*to_port = t->port[port].remote_port;
	return 0;
}

int evtchn_ports_status(struct evtchn_domains *ds, domid_t caller, domid_t dom, uint32_t port,
			struct hv_evtchn_op *op)
{
	struct evtchn_ports *t;
	const struct evtchn_port *c;

	if (dom == HV_DOMID_SELF)
		dom = caller;
	t = table_of(ds, dom);
	if (dom != caller)
		return t ? -EPERM : -ESRCH;
	if (!t)
		return -ESRCH;
	if (port == 0 || port >= HV_NR_EVTCHN)
		return -EINVAL;
	c = &t->port[port];
	op->status = c->state;
	op->remote_dom = 0;
	op->remote_port = 0;
	op->virq = 0;
	switch (c->state) {
	case HV_EVTCHNSTAT_UNBOUND:
		op->remote_dom = c->remote_dom;
		break;
	case HV_EVTCHNSTAT_INTERDOMAIN:
		op->remote_dom = c->remote_dom;
		op->remote_port = c->remote_port;
		break;
	case HV_EVTCHNSTAT_VIRQ:
		op->virq = c->virq;
		break;
	default:
		break;
	}
	return 0;
}

void evtchn_ports_remove(struct evtchn_domains *ds, domid_t domid)
{
	struct evtchn_ports *t = table_of(ds, domid);

	if (!t)
		return;
	for (uint32_t p = t->device_end; p < HV_NR_EVTCHN; p++)
		if (t->port[p].state != HV_EVTCHNSTAT_CLOSED)
			close_port(ds, t, p);
	ds->dom[domid] = NULL;
}
