/* SPDX-License-Identifier: MIT */
/*
 * Unit test of hv's event-channel port tables: Xen's bind/close state
 * machine across domains, every refusal's errno, and a random model check
 * of the invariants (pairs point at each other, the wake count is exact).
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "evtchn_ports.h"

static struct evtchn_ports t1, t2, t3;
static struct evtchn_domains ds;

/* Three domains: 1 with two device ports (1, 2), 2 and 3 with none. */
static void reset(void)
{
	evtchn_ports_init(&t1, 1, 3);
	evtchn_ports_init(&t2, 2, 1);
	evtchn_ports_init(&t3, 3, 1);
	ds = (struct evtchn_domains){ 0 };
	ds.dom[1] = &t1;
	ds.dom[2] = &t2;
	ds.dom[3] = &t3;
}

static uint32_t status(domid_t caller, uint32_t port)
{
	struct hv_evtchn_op op = { 0 };

	if (!CHECK_EQ(evtchn_ports_status(&ds, caller, HV_DOMID_SELF, port, &op), 0))
		return 0xff;
	return op.status;
}

static void test_alloc_unbound(void)
{
	uint32_t p = 0;
	struct hv_evtchn_op op = { 0 };

	reset();
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 2, &p), 0);
	CHECK_EQ(p, 3); /* the lowest port above the device ports */
	CHECK_EQ(status(1, 3), HV_EVTCHNSTAT_UNBOUND);
	CHECK_EQ(evtchn_ports_status(&ds, 1, 1, 3, &op), 0);
	CHECK_EQ(op.remote_dom, 2);
	CHECK_EQ(t1.wake_ports, 1);
	/* dom: self by id works; another existing domain is EPERM, a missing one ESRCH. */
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, 1, HV_DOMID_SELF, &p), 0);
	CHECK_EQ(p, 4);
	CHECK_EQ(evtchn_ports_status(&ds, 1, 1, 4, &op), 0);
	CHECK_EQ(op.remote_dom, 1);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, 2, 1, &p), -EPERM);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, 9, 1, &p), -ESRCH);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 9, &p), -ESRCH);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 0, &p), -ESRCH);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, HV_MAX_DOMAINS + 1, &p), -ESRCH);
}

static void test_bind_interdomain(void)
{
	uint32_t a = 0, b = 0, c = 0, p = 0;
	struct hv_evtchn_op op = { 0 };

	reset();
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 2, &a), 0);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 3, &c), 0);
	/* Offered to 3, not to 2. */
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, c, &p), -EPERM);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, a, &b), 0);
	CHECK_EQ(b, 1);
	CHECK_EQ(status(1, a), HV_EVTCHNSTAT_INTERDOMAIN);
	CHECK_EQ(evtchn_ports_status(&ds, 2, HV_DOMID_SELF, b, &op), 0);
	CHECK_EQ(op.status, HV_EVTCHNSTAT_INTERDOMAIN);
	CHECK_EQ(op.remote_dom, 1);
	CHECK_EQ(op.remote_port, a);
	/* Bound already: by the same domain or another. */
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, a, &p), -EBUSY);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 3, 1, a, &p), -EBUSY);
	/* Closed, device, out of range, port 0; no such domain. */
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, 100, &p), -EINVAL);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, 1, &p), -EINVAL);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, 0, &p), -EINVAL);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, HV_NR_EVTCHN, &p), -EINVAL);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 9, a, &p), -ESRCH);
	/* A virq port is bound, not offered. */
	uint32_t v = 0;
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 1, HV_VIRQ_TIMER, &v), 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, v, &p), -EBUSY);
	/* Sends go to the peer. */
	domid_t to = 0;
	uint32_t tp = 0;
	CHECK_EQ(evtchn_ports_send(&ds, 1, a, &to, &tp), 0);
	CHECK_EQ(to, 2);
	CHECK_EQ(tp, b);
	CHECK_EQ(evtchn_ports_send(&ds, 2, b, &to, &tp), 0);
	CHECK_EQ(to, 1);
	CHECK_EQ(tp, a);
	CHECK_EQ(t1.wake_ports, 2);
	CHECK_EQ(t2.wake_ports, 1);
}

static void test_send_refusals(void)
{
	uint32_t a = 0, v = 0;
	domid_t to;
	uint32_t tp;

	reset();
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 2, &a), 0);
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 1, HV_VIRQ_TIMER, &v), 0);
	CHECK_EQ(evtchn_ports_send(&ds, 1, a, &to, &tp), -EINVAL); /* unbound */
	CHECK_EQ(evtchn_ports_send(&ds, 1, v, &to, &tp), -EINVAL); /* virq */
	CHECK_EQ(evtchn_ports_send(&ds, 1, 1, &to, &tp), -EINVAL); /* a device's */
	CHECK_EQ(evtchn_ports_send(&ds, 1, 0, &to, &tp), -EINVAL);
	CHECK_EQ(evtchn_ports_send(&ds, 1, 99, &to, &tp), -EINVAL); /* closed */
	CHECK_EQ(evtchn_ports_send(&ds, 1, HV_NR_EVTCHN, &to, &tp), -EINVAL);
	CHECK_EQ(evtchn_ports_send(&ds, 1, UINT32_MAX, &to, &tp), -EINVAL);
	/* Domain 2's port number, sent from domain 3's table: not 3's. */
	CHECK_EQ(evtchn_ports_send(&ds, 3, a, &to, &tp), -EINVAL);
}

static void test_close(void)
{
	uint32_t a = 0, b = 0, p = 0;
	struct hv_evtchn_op op = { 0 };
	domid_t to;
	uint32_t tp;

	reset();
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 2, &a), 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, a, &b), 0);
	/* Closing one end: the other is unbound, offered to the closer (Xen's rule). */
	CHECK_EQ(evtchn_ports_close(&ds, 1, a), 0);
	CHECK_EQ(status(1, a), HV_EVTCHNSTAT_CLOSED);
	CHECK_EQ(evtchn_ports_status(&ds, 2, HV_DOMID_SELF, b, &op), 0);
	CHECK_EQ(op.status, HV_EVTCHNSTAT_UNBOUND);
	CHECK_EQ(op.remote_dom, 1);
	CHECK_EQ(evtchn_ports_send(&ds, 2, b, &to, &tp), -EINVAL);
	CHECK_EQ(t1.wake_ports, 0);
	CHECK_EQ(t2.wake_ports, 1);
	/* ... so the closer may bind to it again, and nobody else. */
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 3, 2, b, &p), -EPERM);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 1, 2, b, &p), 0);
	CHECK_EQ(p, a); /* the lowest free port again */
	/* Close twice, close device ports and nonsense. */
	CHECK_EQ(evtchn_ports_close(&ds, 2, b), 0);
	CHECK_EQ(evtchn_ports_close(&ds, 2, b), -EINVAL);
	CHECK_EQ(evtchn_ports_close(&ds, 1, 1), -EINVAL);
	CHECK_EQ(evtchn_ports_close(&ds, 1, 0), -EINVAL);
	CHECK_EQ(evtchn_ports_close(&ds, 1, HV_NR_EVTCHN), -EINVAL);
	/* The device port keeps its state for STATUS. */
	CHECK_EQ(status(1, 1), HV_EVTCHNSTAT_DEVICE);
	CHECK_EQ(status(1, 2), HV_EVTCHNSTAT_DEVICE);
}

static void test_loopback(void)
{
	uint32_t a = 0, b = 0;
	domid_t to;
	uint32_t tp;

	reset();
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 2, HV_DOMID_SELF, HV_DOMID_SELF, &a), 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, HV_DOMID_SELF, a, &b), 0);
	CHECK_EQ(evtchn_ports_send(&ds, 2, a, &to, &tp), 0);
	CHECK_EQ(to, 2);
	CHECK_EQ(tp, b);
	CHECK_EQ(evtchn_ports_close(&ds, 2, b), 0);
	CHECK_EQ(status(2, a), HV_EVTCHNSTAT_UNBOUND);
	CHECK_EQ(evtchn_ports_close(&ds, 2, a), 0);
	CHECK_EQ(t2.wake_ports, 0);
}

static void test_virq(void)
{
	uint32_t v = 0, p = 0;
	struct hv_evtchn_op op = { 0 };

	reset();
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 3, HV_VIRQ_TIMER, &v), 0);
	CHECK_EQ(t3.virq_port[HV_VIRQ_TIMER], v);
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 3, HV_VIRQ_TIMER, &p), -EBUSY);
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 3, 1, &p), -EINVAL);
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 3, UINT32_MAX, &p), -EINVAL);
	CHECK_EQ(evtchn_ports_status(&ds, 3, 3, v, &op), 0);
	CHECK_EQ(op.status, HV_EVTCHNSTAT_VIRQ);
	CHECK_EQ(op.virq, HV_VIRQ_TIMER);
	CHECK_EQ(t3.wake_ports, 0); /* a timer does not end a block with no deadline */
	CHECK_EQ(evtchn_ports_close(&ds, 3, v), 0);
	CHECK_EQ(t3.virq_port[HV_VIRQ_TIMER], 0);
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 3, HV_VIRQ_TIMER, &p), 0);
}

static void test_status_refusals(void)
{
	struct hv_evtchn_op op = { 0 };

	reset();
	CHECK_EQ(evtchn_ports_status(&ds, 1, 2, 1, &op), -EPERM);
	CHECK_EQ(evtchn_ports_status(&ds, 1, 9, 1, &op), -ESRCH);
	CHECK_EQ(evtchn_ports_status(&ds, 1, HV_DOMID_SELF, 0, &op), -EINVAL);
	CHECK_EQ(evtchn_ports_status(&ds, 1, HV_DOMID_SELF, HV_NR_EVTCHN, &op), -EINVAL);
	CHECK_EQ(status(1, HV_NR_EVTCHN - 1), HV_EVTCHNSTAT_CLOSED);
}

static void test_exhaustion(void)
{
	uint32_t p = 0, n = 0;
	int rc;

	reset();
	while ((rc = evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 2, &p)) == 0)
		n++;
	CHECK_EQ(rc, -ENOSPC);
	CHECK_EQ(n, HV_NR_EVTCHN - 3); /* not 0, not the two device ports */
	CHECK_EQ(evtchn_ports_bind_virq(&ds, 1, HV_VIRQ_TIMER, &p), -ENOSPC);
	/* Binding needs a free local port too; the remote's port stays offered. */
	uint32_t r = 0;
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 2, HV_DOMID_SELF, 1, &r), 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 1, 2, r, &p), -ENOSPC);
	CHECK_EQ(t2.port[r].state, HV_EVTCHNSTAT_UNBOUND);
	CHECK_EQ(evtchn_ports_close(&ds, 1, 1000), 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 1, 2, r, &p), 0);
	CHECK_EQ(p, 1000);
	CHECK_EQ(t1.wake_ports, HV_NR_EVTCHN - 3);
}

/* A domain ends: its ports close, its peers' ends become unbound, binds to it are refused. */
static void test_remove(void)
{
	uint32_t a = 0, b = 0, c = 0, d = 0, p = 0;
	struct hv_evtchn_op op = { 0 };

	reset();
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 2, &a), 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 1, a, &b), 0);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 3, HV_DOMID_SELF, 2, &c), 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 2, 3, c, &d), 0);
	evtchn_ports_remove(&ds, 2);
	CHECK(ds.dom[2] == NULL);
	CHECK_EQ(evtchn_ports_status(&ds, 1, HV_DOMID_SELF, a, &op), 0);
	CHECK_EQ(op.status, HV_EVTCHNSTAT_UNBOUND);
	CHECK_EQ(op.remote_dom, 2);
	CHECK_EQ(status(3, c), HV_EVTCHNSTAT_UNBOUND);
	CHECK_EQ(t2.wake_ports, 0);
	CHECK_EQ(evtchn_ports_bind_interdomain(&ds, 1, 2, b, &p), -ESRCH);
	CHECK_EQ(evtchn_ports_alloc_unbound(&ds, 1, HV_DOMID_SELF, 2, &p), -ESRCH);
	evtchn_ports_remove(&ds, 2); /* twice: nothing */
	evtchn_ports_remove(&ds, 0);
	evtchn_ports_remove(&ds, HV_DOMID_SELF);
}

/*
 * Random operations by random domains: afterwards every interdomain port's
 * peer points back at it, every unbound port names an existing domain,
 * virq_port agrees with the table, and wake_ports counts what it says.
 */
static uint64_t rng_state = 0x5eed1234abcdull;

static void check_invariants(struct evtchn_ports *t)
{
	uint32_t wake = 0;

	for (uint32_t p = 1; p < HV_NR_EVTCHN; p++) {
		const struct evtchn_port *c = &t->port[p];

		if (p < t->device_end) {
			CHECK_EQ(c->state, HV_EVTCHNSTAT_DEVICE);
			continue;
		}
		if (c->state == HV_EVTCHNSTAT_INTERDOMAIN) {
			const struct evtchn_ports *r = ds.dom[c->remote_dom];

			if (CHECK(r != NULL)) {
				CHECK_EQ(r->port[c->remote_port].state, HV_EVTCHNSTAT_INTERDOMAIN);
				CHECK_EQ(r->port[c->remote_port].remote_dom, t->domid);
				CHECK_EQ(r->port[c->remote_port].remote_port, p);
			}
		}
		if (c->state == HV_EVTCHNSTAT_VIRQ)
			CHECK_EQ(t->virq_port[c->virq], p);
		wake += c->state == HV_EVTCHNSTAT_UNBOUND || c->state == HV_EVTCHNSTAT_INTERDOMAIN;
	}
	CHECK_EQ(t->wake_ports, wake);
}

static void test_model(void)
{
	reset();
	for (int i = 0; i < 20000; i++) {
		domid_t caller = (domid_t)(1 + rnd_below(3)), other = (domid_t)(1 + rnd_below(4));
		uint32_t port = (uint32_t)rnd_below(24), p;
		domid_t to;
		uint32_t tp;

		switch (rnd_below(5)) {
		case 0: evtchn_ports_alloc_unbound(&ds, caller, HV_DOMID_SELF, other, &p); break;
		case 1: evtchn_ports_bind_interdomain(&ds, caller, other, port, &p); break;
		case 2: evtchn_ports_close(&ds, caller, port); break;
		case 3: evtchn_ports_bind_virq(&ds, caller, (uint32_t)rnd_below(2), &p); break;
		case 4: evtchn_ports_send(&ds, caller, port, &to, &tp); break;
		}
	}
	check_invariants(&t1);
	check_invariants(&t2);
	check_invariants(&t3);
}

int main(void)
{
	test_alloc_unbound();
	test_bind_interdomain();
	test_send_refusals();
	test_close();
	test_loopback();
	test_virq();
	test_status_refusals();
	test_exhaustion();
	test_remove();
	test_model();
	return check_finish("test_evtchn_ports");
}
