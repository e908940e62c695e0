/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hv's event-channel port tables (evtchn_ports.c), Xen's
 * bind/close rules across domains, driven by a sequence of operations the
 * input spells out. After each operation its own result is checked (the
 * port it returned is in the state it says, a pair points both ways); after
 * the sequence, every table's invariants as test_evtchn_ports.c states them.
 *
 * Input: one byte per domain, its device ports (a few, or so many that
 * only the top ports are the guest's and the table fills at once); then
 * operations, each a byte (modulo NR_OPS) and its arguments: domain ids and
 * ports are a byte each, small values mostly, edges and raw values sometimes.
 */
#include <errno.h>

#include "evtchn_ports.h"
#include "fuzz.h"

#define NR_DOMS 4 /* domains 1 to NR_DOMS */

enum { OP_ALLOC, OP_BIND, OP_VIRQ, OP_CLOSE, OP_SEND, OP_STATUS, OP_REMOVE, NR_OPS };

static struct evtchn_domains ds;
static struct evtchn_ports *table[NR_DOMS + 1]; /* removed ones too: they must stay closed */

static domid_t pick_dom(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	switch (b % 8) {
	case 4: return 0;
	case 5: return NR_DOMS + 1; /* no such domain */
	case 6: return HV_DOMID_SELF;
	case 7: return fuzz_u16(in);
	default: return (domid_t)(1 + b % 8);
	}
}

static uint32_t pick_port(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	if (b < 0xe0)
		return b % 48;
	if (b < 0xf0)
		return HV_NR_EVTCHN - 1 - (b & 0xf);
	switch (b % 5) {
	case 0: return 0;
	case 1: return HV_NR_EVTCHN - 1;
	case 2: return HV_NR_EVTCHN;
	case 3: return UINT32_MAX;
	default: return fuzz_u32(in);
	}
}

static struct evtchn_ports *live(domid_t id)
{
	return id >= 1 && id <= HV_MAX_DOMAINS ? ds.dom[id] : NULL;
}

static domid_t self(domid_t id, domid_t caller)
{
	return id == HV_DOMID_SELF ? caller : id;
}

static int errno_ok(int rc)
{
	return rc == 0 || rc == -EINVAL || rc == -ESRCH || rc == -EPERM || rc == -ENOSPC ||
	       rc == -EBUSY;
}

/* Port p of t is one end of an interdomain pair whose other end points back. */
static void check_pair(const struct evtchn_ports *t, uint32_t p)
{
	const struct evtchn_port *c = &t->port[p];
	const struct evtchn_ports *r = live(c->remote_dom);

	FUZZ_CHECK(c->state == HV_EVTCHNSTAT_INTERDOMAIN);
	FUZZ_CHECK(r != NULL && c->remote_port >= r->device_end && c->remote_port < HV_NR_EVTCHN);
	FUZZ_CHECK(r->port[c->remote_port].state == HV_EVTCHNSTAT_INTERDOMAIN);
	FUZZ_CHECK(r->port[c->remote_port].remote_dom == t->domid);
	FUZZ_CHECK(r->port[c->remote_port].remote_port == p);
}

/* A port an allocation returned: a guest port, the lowest that was closed, now in state. */
static void check_new_port(const struct evtchn_ports *t, uint32_t p, uint8_t state)
{
	FUZZ_CHECK(p >= t->device_end && p < HV_NR_EVTCHN);
	FUZZ_CHECK(t->port[p].state == state);
	for (uint32_t q = t->device_end; q < p; q++)
		FUZZ_CHECK(t->port[q].state != HV_EVTCHNSTAT_CLOSED);
}

/* Everything test_evtchn_ports.c's model check asserts, over one whole table. */
static void check_table(const struct evtchn_ports *t, int removed)
{
	uint32_t wake = 0;

	FUZZ_CHECK(t->device_end >= 1 && t->device_end <= HV_NR_EVTCHN);
	FUZZ_CHECK(t->port[0].state == HV_EVTCHNSTAT_CLOSED);
	for (uint32_t p = 1; p < HV_NR_EVTCHN; p++) {
		const struct evtchn_port *c = &t->port[p];

		if (p < t->device_end) {
			FUZZ_CHECK(c->state == HV_EVTCHNSTAT_DEVICE);
			continue;
		}
		FUZZ_CHECK(!removed || c->state == HV_EVTCHNSTAT_CLOSED);
		switch (c->state) {
		case HV_EVTCHNSTAT_CLOSED:
			break;
		case HV_EVTCHNSTAT_UNBOUND:
			FUZZ_CHECK(c->remote_dom >= 1 && c->remote_dom <= NR_DOMS);
			break;
		case HV_EVTCHNSTAT_INTERDOMAIN:
			check_pair(t, p);
			break;
		case HV_EVTCHNSTAT_VIRQ:
			FUZZ_CHECK(c->virq < EVTCHN_NR_VIRQS && t->virq_port[c->virq] == p);
			break;
		default:
			FUZZ_CHECK(!"a guest port in a state no operation sets");
		}
		wake += c->state == HV_EVTCHNSTAT_UNBOUND || c->state == HV_EVTCHNSTAT_INTERDOMAIN;
	}
	for (unsigned v = 0; v < EVTCHN_NR_VIRQS; v++)
		FUZZ_CHECK(t->virq_port[v] == 0 ||
			   (t->port[t->virq_port[v]].state == HV_EVTCHNSTAT_VIRQ &&
			    t->port[t->virq_port[v]].virq == v));
	FUZZ_CHECK(t->wake_ports == wake);
}

static void op_status(struct fuzz_in *in, domid_t caller)
{
	domid_t dom = pick_dom(in);
	uint32_t port = pick_port(in);
	struct hv_evtchn_op op;
	int rc;

	memset(&op, 0xff, sizeof(op));
	rc = evtchn_ports_status(&ds, caller, dom, port, &op);
	FUZZ_CHECK(errno_ok(rc));
	if (rc == 0) {
		const struct evtchn_port *c = &live(caller)->port[port];

		FUZZ_CHECK(self(dom, caller) == caller && port >= 1 && port < HV_NR_EVTCHN);
		FUZZ_CHECK(op.status == c->state);
		if (c->state == HV_EVTCHNSTAT_INTERDOMAIN)
			FUZZ_CHECK(op.remote_dom == c->remote_dom &&
				   op.remote_port == c->remote_port);
	}
}

/* A table's device ports [1, n): a few, or all but the top few ports (or more: clamped). */
static uint32_t pick_device_end(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	if (b < 0xf0)
		return b % 24;
	return HV_NR_EVTCHN + 2 - (b & 0xf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	memset(&ds, 0, sizeof(ds));
	for (domid_t d = 1; d <= NR_DOMS; d++) {
		table[d] = malloc(sizeof(*table[d]));
		if (!table[d])
			abort();
		evtchn_ports_init(table[d], d, pick_device_end(&in));
		ds.dom[d] = table[d];
	}
	while (in.left) {
		uint8_t op = fuzz_u8(&in) % NR_OPS;
		domid_t caller = pick_dom(&in), to = 0;
		struct evtchn_ports *t = live(caller);
		uint32_t port = 0, p = 0, to_port = 0;
		int rc = 0;

		switch (op) {
		case OP_ALLOC: {
			domid_t dom = pick_dom(&in), remote = pick_dom(&in);

			rc = evtchn_ports_alloc_unbound(&ds, caller, dom, remote, &p);
			if (rc == 0) {
				check_new_port(t, p, HV_EVTCHNSTAT_UNBOUND);
				FUZZ_CHECK(t->port[p].remote_dom == self(remote, caller));
				FUZZ_CHECK(live(t->port[p].remote_dom) != NULL);
			}
			break;
		}
		case OP_BIND: {
			domid_t remote = pick_dom(&in);

			port = pick_port(&in);
			rc = evtchn_ports_bind_interdomain(&ds, caller, remote, port, &p);
			if (rc == 0) {
				check_new_port(t, p, HV_EVTCHNSTAT_INTERDOMAIN);
				check_pair(t, p);
				FUZZ_CHECK(t->port[p].remote_dom == self(remote, caller) &&
					   t->port[p].remote_port == port);
			}
			break;
		}
		case OP_VIRQ: {
			uint32_t virq = fuzz_u8(&in) < 0xf0 ? 0 : pick_port(&in);

			rc = evtchn_ports_bind_virq(&ds, caller, virq, &p);
			if (rc == 0) {
				check_new_port(t, p, HV_EVTCHNSTAT_VIRQ);
				FUZZ_CHECK(t->virq_port[virq] == p && t->port[p].virq == virq);
			}
			break;
		}
		case OP_CLOSE:
			port = pick_port(&in);
			rc = evtchn_ports_close(&ds, caller, port);
			if (rc == 0)
				FUZZ_CHECK(t->port[port].state == HV_EVTCHNSTAT_CLOSED);
			break;
		case OP_SEND:
			port = pick_port(&in);
			rc = evtchn_ports_send(&ds, caller, port, &to, &to_port);
			if (rc == 0) {
				check_pair(t, port);
				FUZZ_CHECK(to == t->port[port].remote_dom &&
					   to_port == t->port[port].remote_port);
			}
			break;
		case OP_STATUS:
			op_status(&in, caller);
			continue;
		case OP_REMOVE:
			evtchn_ports_remove(&ds, caller);
			FUZZ_CHECK(live(caller) == NULL);
			continue;
		}
		FUZZ_CHECK(errno_ok(rc));
		FUZZ_CHECK(rc != 0 || t != NULL);
	}
	for (domid_t d = 1; d <= NR_DOMS; d++)
		check_table(table[d], ds.dom[d] == NULL);
	for (domid_t d = 1; d <= NR_DOMS; d++)
		free(table[d]);
	return 0;
}
