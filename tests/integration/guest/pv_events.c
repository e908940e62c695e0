/* SPDX-License-Identifier: MIT */
/*
 * Event channels between two domains, by hand (tests/integration/domains.sh):
 *
 *   pv_events.img serve PEER     allocates a port for PEER, then plays the script below
 *   pv_events.img connect PEER   binds it, and plays the other side
 *
 * The script: a send each way by EVTCHNOP_SEND; ping-pong rounds through the
 * send ring and through EVTCHNOP_SEND, timed; a burst of sends timed from the
 * sender's side; a domain blocked with no deadline woken by its peer; a
 * masked port pending without an upcall until UNMASK; the timer VIRQ; and a
 * close that leaves the peer's end unbound. Each side prints SUCCESS.
 *
 * Other roles for the domain tests: "survive PEER" waits for PEER to bind
 * and end, and exits 0 once its end of the channel is unbound; "crash PEER"
 * binds to it and dereferences a null pointer; "ring-exit PEER" binds to it,
 * sends through the ring and exits at once; "exit N" exits with N;
 * "args ..." prints its arguments.
 */
#include "pv_test.h"

#define ROUNDS 200

static domid_t me, peer;
static uint32_t port; /* our end */

static double us(uint64_t ns, unsigned n)
{
	return (double)ns / 1e3 / n;
}

static void send_by(int by_ring)
{
	if (by_ring)
		ring_send(port);
	else
		EXPECT_EQ(ev_send(port), 0);
}

static void wait_by(int spin)
{
	EXPECT(spin ? spin_event(port, 2000) : wait_event(port, 2000));
}

/*
 * ROUNDS round trips: we send, the peer echoes; through the ring or by
 * EVTCHNOP_SEND, each side waiting by spinning on its pending bit or by
 * blocking in hv. Strictly alternating, so no two events coalesce.
 */
static double ping(int by_ring, int spin)
{
	uint64_t t0 = clock_monotonic_ns();

	for (int i = 0; i < ROUNDS; i++) {
		send_by(by_ring);
		wait_by(spin);
	}
	return us(clock_monotonic_ns() - t0, ROUNDS);
}

static void pong(int by_ring, int spin)
{
	for (int i = 0; i < ROUNDS; i++) {
		wait_by(spin);
		send_by(by_ring);
	}
}

/* The sender's own cost of n sends, no waiting for the peer. */
static void burst(void)
{
	unsigned rang = 0;
	uint64_t t0 = clock_monotonic_ns(), t1;

	for (int i = 0; i < ROUNDS; i++)
		rang += (unsigned)ring_send(port);
	t1 = clock_monotonic_ns();
	ring_flush();
	printf("send cost: ring %.2f us a send (%u doorbells for %d sends)", us(t1 - t0, ROUNDS),
	       rang, ROUNDS);
	t0 = clock_monotonic_ns();
	for (int i = 0; i < ROUNDS; i++)
		EXPECT_EQ(ev_send(port), 0);
	printf(", hypercall %.2f us a send\n", us(clock_monotonic_ns() - t0, ROUNDS));
}

static void timer_virq(void)
{
	struct hv_evtchn_op st;
	int t = ev_bind_virq(HV_VIRQ_TIMER);

	EXPECT(t > 0);
	EXPECT_EQ(ev_bind_virq(HV_VIRQ_TIMER), -EBUSY);
	EXPECT_EQ(ev_bind_virq(7), -EINVAL);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, (uint32_t)t, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_VIRQ);
	EXPECT_EQ(st.virq, HV_VIRQ_TIMER);
	take_event((uint32_t)t);
	clear_upcall();
	EXPECT_EQ(pv_block(clock_monotonic_ns() + 2000000), HV_BLOCK_DEADLINE);
	EXPECT(take_event((uint32_t)t));
	/* A sender on a virq port: only interdomain ports send. */
	EXPECT_EQ(ev_send((uint32_t)t), -EINVAL);
	EXPECT_EQ(ev_close((uint32_t)t), 0);
	clear_upcall();
	EXPECT_EQ(pv_block(clock_monotonic_ns() + 1000000), HV_BLOCK_DEADLINE);
	EXPECT(!port_pending((uint32_t)t));
	printf("timer virq: pending at the deadline, not after close\n");
}

static void serve(void)
{
	struct hv_evtchn_op st;
	double ring_rt, call_rt;
	int p = ev_alloc_unbound(peer);

	EXPECT(p > 0);
	port = (uint32_t)p;
	EXPECT_EQ(ev_status(HV_DOMID_SELF, port, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_UNBOUND);
	EXPECT_EQ(st.remote_dom, peer);
	store_put_number(pv_key(me, "port"), p);

	/* The peer binds and sends by hypercall; we answer the same way. */
	EXPECT(wait_event(port, 5000));
	EXPECT_EQ(ev_status(HV_DOMID_SELF, port, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_INTERDOMAIN);
	EXPECT_EQ(st.remote_dom, peer);
	EXPECT_EQ(st.remote_port, store_wait_number(pv_key(peer, "port")));
	EXPECT_EQ(ev_send(port), 0);
	printf("event from dom%u by EVTCHNOP_SEND, answered\n", peer);

	/* Events coalesce: each step waits for the peer to have taken the last one. */
	pv_phase_wait(peer, 1);
	ring_rt = ping(1, 1);
	call_rt = ping(0, 1);
	printf("round trip, both spinning: ring %.1f us, hypercall %.1f us\n", ring_rt, call_rt);
	ring_rt = ping(1, 0);
	call_rt = ping(0, 0);
	printf("round trip, both blocking: ring %.1f us, hypercall %.1f us\n", ring_rt, call_rt);
	pv_phase_set(me, 1);
	burst();
	pv_phase_set(me, 2);

	/* The peer blocks with no deadline; we let it sleep 20 ms, then wake it by the ring. */
	pv_phase_wait(peer, 3);
	pv_sleep(20000000);
	ring_send(port);
	/* The peer masks its port; a send sets it pending without an upcall until it unmasks. */
	pv_phase_wait(peer, 4);
	EXPECT_EQ(ev_send(port), 0);
	pv_phase_set(me, 5);

	timer_virq();
	/* Last word by hypercall (the ring is asynchronous), then close: the peer's end is unbound. */
	pv_phase_wait(peer, 6);
	EXPECT_EQ(ev_send(port), 0);
	EXPECT_EQ(ev_close(port), 0);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, port, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_CLOSED);
	EXPECT_EQ(ev_close(port), -EINVAL);
	EXPECT_EQ(ev_send(port), -EINVAL);
	printf("SUCCESS\n");
}

static void connect(void)
{
	struct hv_shared_info *si = pv_shared();
	struct hv_evtchn_op st;
	uint32_t rport = (uint32_t)store_wait_number(pv_key(peer, "port"));
	uint64_t t0;
	int p = ev_bind_interdomain(peer, rport);

	EXPECT(p > 0);
	port = (uint32_t)p;
	/* As Xen: a freshly bound port comes pending (an event may have been lost before). */
	EXPECT(take_event(port));
	store_put_number(pv_key(me, "port"), p);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, port, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_INTERDOMAIN);
	EXPECT_EQ(st.remote_dom, peer);
	EXPECT_EQ(st.remote_port, rport);
	/* The peer's port is bound now: a second bind is refused. */
	EXPECT_EQ(ev_bind_interdomain(peer, rport), -EBUSY);
	EXPECT_EQ(ev_send(port), 0);
	EXPECT(wait_event(port, 5000));
	printf("event from dom%u by EVTCHNOP_SEND\n", peer);
	pv_phase_set(me, 1);

	pong(1, 1);
	pong(0, 1);
	pong(1, 0);
	pong(0, 0);
	pv_phase_wait(peer, 2);
	take_event(port);

	/* Blocked with no deadline: only the peer's event can end it. */
	clear_upcall();
	pv_phase_set(me, 3);
	t0 = clock_monotonic_ns();
	while (!take_event(port)) {
		EXPECT_EQ(pv_block(HV_DEADLINE_NONE), HV_BLOCK_EVENT);
		clear_upcall();
	}
	EXPECT(clock_monotonic_ns() - t0 > 10000000);
	printf("blocked with no deadline, woken by dom%u after %.1f ms\n", peer,
	       (double)(clock_monotonic_ns() - t0) / 1e6);

	/* Masked: pending, no upcall; UNMASK raises the upcall (Xen's rule). */
	__atomic_fetch_or(&si->evtchn_mask[port / 64], 1ull << (port % 64), __ATOMIC_SEQ_CST);
	clear_upcall();
	pv_phase_set(me, 4);
	pv_phase_wait(peer, 5);
	EXPECT(port_pending(port));
	EXPECT_EQ(__atomic_load_n(&si->vcpu_info[0].evtchn_upcall_pending, __ATOMIC_SEQ_CST), 0);
	EXPECT_EQ(ev_unmask(port), 0);
	EXPECT_EQ(__atomic_load_n(&si->vcpu_info[0].evtchn_upcall_pending, __ATOMIC_SEQ_CST), 1);
	EXPECT(take_event(port));
	EXPECT_EQ(ev_unmask(0), -EINVAL);
	EXPECT_EQ(ev_unmask(HV_NR_EVTCHN), -EINVAL);
	printf("masked port: pending without an upcall until UNMASK\n");

	timer_virq();
	pv_phase_set(me, 6);
	EXPECT(wait_event(port, 5000));
	/* The peer closed its end: ours is unbound, offered to the peer again (Xen's rule). */
	for (t0 = clock_monotonic_ns();; pv_sleep(1000000)) {
		EXPECT_EQ(ev_status(HV_DOMID_SELF, port, &st), 0);
		if (st.status == HV_EVTCHNSTAT_UNBOUND)
			break;
		EXPECT(clock_monotonic_ns() - t0 < 5000000000ull);
	}
	EXPECT_EQ(st.remote_dom, peer);
	EXPECT_EQ(ev_send(port), -EINVAL);
	EXPECT_EQ(ev_close(port), 0);
	printf("SUCCESS\n");
}

/* The pointer comes from a variable, so the compiler cannot see it is null. */
__attribute__((noinline)) static void write_through(volatile int *p)
{
	*p = 1;
}

/* Bind to PEER's port, say so, then fault: the peer must see its end unbound and carry on. */
static void crash(void)
{
	uint32_t rport = (uint32_t)store_wait_number(pv_key(peer, "port"));
	int p = ev_bind_interdomain(peer, rport);

	EXPECT(p > 0);
	EXPECT_EQ(ev_send((uint32_t)p), 0);
	printf("crash: bound to dom%u port %u, now faulting\n", peer, rport);
	fflush(stdout);
	write_through((volatile int *)(uintptr_t)(peer - peer));
}

/* A send by the ring just before the exit: hv delivers what was in the ring. */
static void ring_exit(void)
{
	uint32_t rport = (uint32_t)store_wait_number(pv_key(peer, "port"));
	int p = ev_bind_interdomain(peer, rport);

	EXPECT(p > 0);
	ring_send((uint32_t)p);
}

static void survive(void)
{
	struct hv_evtchn_op st;
	uint64_t t0;
	int p = ev_alloc_unbound(peer);

	EXPECT(p > 0);
	port = (uint32_t)p;
	store_put_number(pv_key(me, "port"), p);
	EXPECT(wait_event(port, 5000));
	for (t0 = clock_monotonic_ns();; pv_sleep(1000000)) {
		EXPECT_EQ(ev_status(HV_DOMID_SELF, port, &st), 0);
		if (st.status == HV_EVTCHNSTAT_UNBOUND)
			break;
		EXPECT(clock_monotonic_ns() - t0 < 5000000000ull);
	}
	/* The ended peer is gone: nothing binds to it or allocates for it. */
	EXPECT_EQ(ev_alloc_unbound(peer), -ESRCH);
	EXPECT_EQ(ev_bind_interdomain(peer, 1), -ESRCH);
	printf("survive: dom%u ended, our port %u is unbound again; SUCCESS\n", peer, port);
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "";

	me = pv_domid();
	peer = argc > 2 ? (domid_t)atoi(argv[2]) : 0;
	if (strcmp(role, "serve") == 0)
		serve();
	else if (strcmp(role, "connect") == 0)
		connect();
	else if (strcmp(role, "crash") == 0)
		crash();
	else if (strcmp(role, "ring-exit") == 0)
		ring_exit();
	else if (strcmp(role, "survive") == 0)
		survive();
	else if (strcmp(role, "exit") == 0)
		return argc > 2 ? atoi(argv[2]) : 0;
	else if (strcmp(role, "args") == 0)
		for (int i = 0; i < argc; i++)
			printf("dom%u argv[%d] = \"%s\"\n", me, i, argv[i]);
	else
		return printf("usage: pv_events.img serve|connect|crash|ring-exit|survive PEER, exit N, "
			      "args ...\n"), 2;
	return 0;
}
