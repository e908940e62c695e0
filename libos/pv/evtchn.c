/* SPDX-License-Identifier: MIT */
/*
 * Event channels, the guest side: dispatch over the shared-info page (Xen's
 * 2-level scheme; the same code runs whoever sets the bits: hv's devices,
 * another domain, or a platform's interrupt handler), the EVTCHNOP_*
 * operations that make ports between domains, and sends through the
 * send ring that spares an exit.
 */
#include <errno.h>
#include <stddef.h>

#include "evtchn.h"
#include "kernel.h"
#include "libos.h"
#include "pv.h"

/* Tunable: how long a close or the domain's end waits for hv to take the sends in the ring. */
#define EVTCHN_FLUSH_NS 1000000000ull

/* What libos knows about a port it made; the ports it did not make (hv's devices) are FREE. */
enum port_state {
	PORT_FREE = 0,
	PORT_UNBOUND,	  /* allocated for a peer that may not have bound yet */
	PORT_INTERDOMAIN, /* connected (the peer may have closed since: hv then drops sends) */
	PORT_VIRQ,
};

/* Ports bound to a VIRQ (platform.h): the platform's block leaves such waits to hv. */
unsigned evtchn_virqs_bound;

static struct hv_shared_info *shared;
static struct hv_send_ring *send_ring;
static volatile uint32_t *send_doorbell;
static uint32_t send_prod; /* our copy of send_ring->prod: only we write it */
static struct evtchn_send_stats send_stats;
static struct {
	evtchn_handler_t fn;
	void *arg;
	enum port_state state;
} handlers[EVTCHN_MAX_PORTS];

void evtchn_init(const struct boot *boot)
{
	if (!boot->shared_info)
		panic("evtchn_init: the platform gave no shared-info page");
	shared = boot->shared_info;
	if (boot->send_ring && !boot->send_doorbell)
		panic("evtchn_init: a send ring at %p without a doorbell", (void *)boot->send_ring);
	send_ring = boot->send_ring;
	send_doorbell = boot->send_doorbell;
	if (send_ring)
		send_prod = __atomic_load_n(&send_ring->prod, __ATOMIC_RELAXED);
}

static uint64_t bit(evtchn_port_t port)
{
	return 1ull << (port % 64);
}

void evtchn_mask(evtchn_port_t port)
{
	__atomic_fetch_or(&shared->evtchn_mask[port / 64], bit(port), __ATOMIC_SEQ_CST);
}

/*
 * Unmasking does what Xen's unmask does for a pending port: raise the
 * selector bit and the upcall flag, so the next dispatch sees it.
 */
void evtchn_unmask(evtchn_port_t port)
{
	struct hv_vcpu_info *v = &shared->vcpu_info[0];

	__atomic_fetch_and(&shared->evtchn_mask[port / 64], ~bit(port), __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&shared->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) & bit(port)) {
		__atomic_fetch_or(&v->evtchn_pending_sel, 1ull << (port / 64), __ATOMIC_SEQ_CST);
		__atomic_store_n(&v->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	}
}

int evtchn_bind_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg)
{
	if (port == 0 || port >= EVTCHN_MAX_PORTS || !fn)
		return -EINVAL;
	if (handlers[port].fn)
		return -EBUSY;
	handlers[port].fn = fn;
	handlers[port].arg = arg;
	evtchn_unmask(port);
	return 0;
}

void evtchn_unbind_handler(evtchn_port_t port)
{
	if (port == 0 || port >= EVTCHN_MAX_PORTS)
		return;
	evtchn_mask(port);
	handlers[port].fn = NULL;
	handlers[port].arg = NULL;
}

int evtchn_upcall_pending(void)
{
	return __atomic_load_n(&shared->vcpu_info[0].evtchn_upcall_pending, __ATOMIC_ACQUIRE);
}

/*
 * Clear the upcall flag first, then take the selector, then each word's
 * pending-and-unmasked bits, clearing each bit before its handler runs: an
 * event sent while a handler runs sets the bit and the flag again, so it is
 * seen by the next dispatch, or makes the platform's block return at once.
 */
void evtchn_dispatch(void)
{
	struct hv_vcpu_info *v = &shared->vcpu_info[0];
	uint64_t sel;

	if (!__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel) {
		unsigned word = (unsigned)__builtin_ctzll(sel);
		uint64_t ready;

		sel &= sel - 1;
		ready = __atomic_load_n(&shared->evtchn_pending[word], __ATOMIC_ACQUIRE) &
			~__atomic_load_n(&shared->evtchn_mask[word], __ATOMIC_ACQUIRE);
		while (ready) {
			unsigned b = (unsigned)__builtin_ctzll(ready);
			evtchn_port_t port = word * 64 + b;

			ready &= ready - 1;
			__atomic_fetch_and(&shared->evtchn_pending[word], ~(1ull << b),
					   __ATOMIC_SEQ_CST);
			if (port < EVTCHN_MAX_PORTS && handlers[port].fn)
				handlers[port].fn(port, handlers[port].arg);
		}
	}
}

/* --- Operations through hv (EVTCHNOP_*) ------------------------------------------------- */

static int evtchn_op(struct hv_evtchn_op *op)
{
	int rc = pv_call(HV_CALL_EVTCHN_OP, op);

	return rc ? rc : op->ret;
}

/*
 * A port hv just gave us: libos must be able to bind a handler to it, and
 * it must be new to us (else hv and libos disagree about who owns it).
 */
static int take_port(uint32_t port, enum port_state state)
{
	if (port == 0 || port >= EVTCHN_MAX_PORTS) {
		struct hv_evtchn_op close = {.cmd = HV_EVTCHNOP_CLOSE, .port = port};

		/* Beyond libos's table (a tunable): give it back rather than lose it. */
		(void)evtchn_op(&close);
		return -ENOSPC;
	}
	if (handlers[port].state != PORT_FREE || handlers[port].fn)
		panic("evtchn: hv gave port %u, which libos holds already (state %d)", port,
		      handlers[port].state);
	/* Masked until a handler is bound: an early event waits for it instead of being lost. */
	evtchn_mask(port);
	handlers[port].state = state;
	return (int)port;
}

int evtchn_alloc_unbound(domid_t remote)
{
	struct hv_evtchn_op op = {
	    .cmd = HV_EVTCHNOP_ALLOC_UNBOUND,
	    .dom = HV_DOMID_SELF,
	    .remote_dom = remote,
	};
	int rc = evtchn_op(&op);

	return rc ? rc : take_port(op.port, PORT_UNBOUND);
}

int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port)
{
	struct hv_evtchn_op op = {
	    .cmd = HV_EVTCHNOP_BIND_INTERDOMAIN,
	    .remote_dom = remote,
	    .remote_port = remote_port,
	};
	int rc = evtchn_op(&op);

	return rc ? rc : take_port(op.port, PORT_INTERDOMAIN);
}

int evtchn_bind_virq(uint32_t virq)
{
	struct hv_evtchn_op op = {.cmd = HV_EVTCHNOP_BIND_VIRQ, .virq = virq};
	int rc = evtchn_op(&op);

	rc = rc ? rc : take_port(op.port, PORT_VIRQ);
	if (rc > 0)
		evtchn_virqs_bound++;
	return rc;
}

static int ours(evtchn_port_t port)
{
	return port > 0 && port < EVTCHN_MAX_PORTS && handlers[port].state != PORT_FREE;
}

int evtchn_close(evtchn_port_t port)
{
	struct hv_evtchn_op op = {.cmd = HV_EVTCHNOP_CLOSE, .port = port};
	int rc;

	if (!ours(port))
		return -EINVAL;
	/* A send still in the ring would find the port closed and be dropped. */
	evtchn_flush_sends();
	evtchn_unbind_handler(port);
	rc = evtchn_op(&op);
	/* Whatever hv said, the port is no longer ours to use. */
	if (handlers[port].state == PORT_VIRQ)
		evtchn_virqs_bound--;
	handlers[port].state = PORT_FREE;
	/* An event left pending must not reach the next user of this port number. */
	__atomic_fetch_and(&shared->evtchn_pending[port / 64], ~bit(port), __ATOMIC_SEQ_CST);
	return rc;
}

int evtchn_unmask_op(evtchn_port_t port)
{
	struct hv_evtchn_op op = {.cmd = HV_EVTCHNOP_UNMASK, .port = port};

	return evtchn_op(&op);
}

int evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *st)
{
	struct hv_evtchn_op op = {.cmd = HV_EVTCHNOP_STATUS, .dom = dom, .port = port};
	int rc = evtchn_op(&op);

	if (rc)
		return rc;
	*st = (struct evtchn_status){
	    .state = op.status,
	    .remote_dom = op.remote_dom,
	    .remote_port = op.remote_port,
	    .virq = op.virq,
	};
	return 0;
}

/* --- Sending ---------------------------------------------------------------------------- */

static int send_hypercall(evtchn_port_t port)
{
	struct hv_evtchn_op op = {.cmd = HV_EVTCHNOP_SEND, .port = port};

	send_stats.hypercall++;
	return evtchn_op(&op);
}

/*
 * Append port to the send ring, and write the doorbell if hv went idle.
 * -ENOSPC when the ring is full. The protocol with hv is Dekker's:
 *
 *   guest, here                      hv's drainer
 *   W1: prod = prod + 1              W2: hv_idle = 1
 *   R1: read hv_idle (and clear it)  R2: read prod; if it moved: hv_idle = 0, drain
 *       1: write the doorbell            else wait for the doorbell
 *
 * With a full barrier between each write and the read after it, R1 misses
 * W2 only if R2 comes after W1, and then hv sees the new entry itself; an
 * entry is never left in the ring while hv waits.
 */
static int send_ring_put(evtchn_port_t port)
{
	/* Acquire: hv read the slots up to cons before it published cons; we may refill them. */
	uint32_t cons = __atomic_load_n(&send_ring->cons, __ATOMIC_ACQUIRE);

	/* Also "full" when hv's cons is not within a ring of prod: the hypercall still works. */
	if (send_prod - cons >= HV_SEND_RING_SIZE)
		return -ENOSPC;
	send_ring->ports[send_prod % HV_SEND_RING_SIZE] = port;
	send_prod++;
	/* Release: the port is in its slot before hv can see the prod that covers it. */
	__atomic_store_n(&send_ring->prod, send_prod, __ATOMIC_RELEASE);
	/* Full barrier (W1 before R1 above): a store may otherwise pass a later load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	send_stats.ring++;
	/*
	 * Taking the flag (the ABI lets the guest clear it as it rings) spares a
	 * doorbell for each further send before hv's drainer is up; a plain read
	 * first keeps the common case, hv busy, free of a locked instruction.
	 */
	if (__atomic_load_n(&send_ring->hv_idle, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&send_ring->hv_idle, 0, __ATOMIC_SEQ_CST)) {
		/* An ioeventfd: hv's drainer wakes without an exit to hv's user space. */
		*send_doorbell = 1;
		send_stats.doorbells++;
	}
	return 0;
}

/*
 * A port we allocated is unbound until the peer binds it, which hv does
 * not tell us: ask once, and use the ring from then on.
 */
static int connected(evtchn_port_t port)
{
	struct evtchn_status st;
	int rc = evtchn_status(HV_DOMID_SELF, port, &st);

	if (rc)
		return rc;
	if (st.state != HV_EVTCHNSTAT_INTERDOMAIN)
		return -ENOTCONN;
	handlers[port].state = PORT_INTERDOMAIN;
	return 0;
}

/* May port carry a send? 0, -EINVAL (not interdomain) or -ENOTCONN (not bound yet). */
static int sendable(evtchn_port_t port)
{
	if (!ours(port))
		return -EINVAL;
	switch (handlers[port].state) {
	case PORT_INTERDOMAIN: return 0;
	case PORT_UNBOUND: return connected(port);
	default: return -EINVAL;
	}
}

int evtchn_send(evtchn_port_t port)
{
	int rc = sendable(port);

	if (rc)
		return rc;
	if (send_ring && send_ring_put(port) == 0)
		return 0;
	return send_hypercall(port);
}

int evtchn_send_sync(evtchn_port_t port)
{
	int rc = sendable(port);

	return rc ? rc : send_hypercall(port);
}

/*
 * The ring is asynchronous where EVTCHNOP_SEND is not: hv's drainer takes
 * the entries a little later. Before a close or the end of the domain, wait
 * (without an exit: it is a few microseconds) until it has taken them all;
 * a drainer that does not within the bound is hv's failure, not ours to wait
 * out.
 */
void evtchn_flush_sends(void)
{
	uint64_t deadline;

	/* Acquire: hv publishes cons after it delivered the entries before it. */
	if (!send_ring || __atomic_load_n(&send_ring->cons, __ATOMIC_ACQUIRE) == send_prod)
		return;
	deadline = clock_monotonic_ns() + EVTCHN_FLUSH_NS;
	while (__atomic_load_n(&send_ring->cons, __ATOMIC_ACQUIRE) != send_prod &&
	       clock_monotonic_ns() < deadline)
		__builtin_ia32_pause();
}

void evtchn_get_send_stats(struct evtchn_send_stats *st)
{
	*st = send_stats;
}
