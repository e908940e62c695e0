/* SPDX-License-Identifier: MIT */
/*
 * The send ring: event-channel sends without an exit. The guest appends
 * ports to struct hv_send_ring in its boot area and writes the doorbell,
 * a KVM ioeventfd, only when hv said it went idle; a thread of the
 * domain's own drains the ring in order and delivers each port to its
 * peer. A port that is not an interdomain port of the sender is dropped
 * and counted (EVTCHNOP_SEND is the way to hear about errors).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"
#include "hv.h"
#include "trace.h"

struct send_ring {
	int doorbell_fd; /* the ioeventfd, read by the ring's thread */
	int stop_fd;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock; /* who takes entries: the thread, or the vCPU about to block */
	uint32_t cons;   /* lock: hv's own; the ring's cons is a copy for the guest */
	/*
	 * Stats, read once the thread is joined: sent, dropped, wakeups under
	 * the lock; doorbells the thread's (no exit); hand_doorbells the vCPU's
	 * (doorbells that exited and were drained there).
	 */
	uint64_t sent, doorbells, hand_doorbells, dropped, wakeups;
};

static struct hv_send_ring *ring_of(struct hv_vm *vm)
{
	return (struct hv_send_ring *)(vm->mem + HV_L_SEND_RING);
}

int send_ring_init(struct hv_vm *vm)
{
	struct send_ring *r = calloc(1, sizeof(*r));

	if (!r) {
		vm_fail(vm, HV_EXIT_OSERR, "allocating its send ring: out of memory");
		return HV_EXIT_OSERR;
	}
	vm->ring = r;
	pthread_mutex_init(&r->lock, NULL);
	r->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->doorbell_fd < 0 || r->stop_fd < 0) {
		vm_fail(vm, HV_EXIT_OSERR, "send ring: eventfd: %s", strerror(errno));
		return HV_EXIT_OSERR;
	}
	/* Idle from the start: the guest's first send rings. */
	ring_of(vm)->hv_idle = 1;
	return 0;
}

/* One port the guest put in the ring. */
static void deliver(struct hv_vm *vm, struct send_ring *r, uint32_t port)
{
	bool woke = false;
	int rc = evtchn_deliver(vm, port, &woke);

	if (trace_on())
		trace_ring_send(vm, port, rc, woke);
	if (rc == 0) {
		r->sent++;
		r->wakeups += woke;
		return;
	}
	if (r->dropped++ < HV_RING_DROP_REPORTS)
		fprintf(stderr, "hv: %s: send ring: port %u is not an interdomain port of this domain, "
				"dropped%s\n", vm->name, port,
			r->dropped == HV_RING_DROP_REPORTS ? " (further ones are counted, not reported)"
							   : "");
	__atomic_store_n(&ring_of(vm)->dropped, (uint32_t)r->dropped, __ATOMIC_RELAXED);
}

/* Lock held: deliver every entry up to the guest's prod now; -EPROTO if prod is out of range. */
static int take_entries(struct hv_vm *vm, struct send_ring *r)
{
	struct hv_send_ring *ring = ring_of(vm);
	uint32_t prod = __atomic_load_n(&ring->prod, __ATOMIC_ACQUIRE);

	if (prod - r->cons > HV_SEND_RING_SIZE) {
		vm_fail(vm, HV_EXIT_GUEST_ABI, "send ring: prod %u is %u entries past cons %u "
			"(the ring has %u)", prod, prod - r->cons, r->cons, HV_SEND_RING_SIZE);
		return -EPROTO;
	}
	while (r->cons != prod) {
		/* Acquire on prod above: the entry was written before prod covered it. */
		uint32_t port = __atomic_load_n(&ring->ports[r->cons % HV_SEND_RING_SIZE],
						__ATOMIC_RELAXED);

		deliver(vm, r, port);
		r->cons++;
		/* Release: the slot is free for the guest only after we read it. */
		__atomic_store_n(&ring->cons, r->cons, __ATOMIC_RELEASE);
	}
	return 0;
}

/*
 * Take every entry, then go idle without losing one. The guest's side and
 * ours are Dekker's pattern over two words of the ring:
 *
 *   guest (a send)                     hv (here)
 *   W1: ports[prod % N] = p, prod++    W2: hv_idle = 1
 *   R1: read hv_idle                   R2: read prod
 *       1: write the doorbell              moved: hv_idle = 0, take the entries
 *                                          else wait for the doorbell
 *
 * With a full barrier between each side's write and its read (ours: the
 * sequentially consistent store and load, an mfence on x86), the two
 * writes and reads fall in one order in which W1 < R1 and W2 < R2. If R1
 * misses W2, then R1 < W2 < R2, so W1 < R2: we see the entry ourselves. If
 * R1 sees W2, the guest rings, and the doorbell eventfd stays readable
 * until we wait on it again. Either way no entry waits in the ring while we
 * sleep. A doorbell that comes while we drain costs one extra pass. The
 * guest may also clear hv_idle itself when it rings (an exchange), so that
 * its next sends before we wake do not ring again; we set it to 0 anyway
 * when we start. hv trusts none of the guest's words but prod, and checks
 * that prod stays within one ring of its own cons.
 */
static int drain(struct hv_vm *vm, struct send_ring *r)
{
	struct hv_send_ring *ring = ring_of(vm);
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	__atomic_store_n(&ring->hv_idle, 0, __ATOMIC_SEQ_CST);
	for (;;) {
		rc = take_entries(vm, r);
		if (rc)
			break;
		__atomic_store_n(&ring->hv_idle, 1, __ATOMIC_SEQ_CST); /* W2 */
		if (__atomic_load_n(&ring->prod, __ATOMIC_SEQ_CST) == r->cons) /* R2 */
			break;
		__atomic_store_n(&ring->hv_idle, 0, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/*
 * The vCPU is about to block: deliver what it sent by the ring itself
 * rather than leave it to the thread, whose wake-up is one more host thread
 * hop (a round trip of send-then-block is the common pattern). hv_idle is
 * left to the thread, which still wakes for the doorbell and finds the ring
 * empty, or takes entries that come later.
 */
void send_ring_flush(struct hv_vm *vm)
{
	struct send_ring *r = vm->ring;
	struct hv_send_ring *ring = ring_of(vm);

	/* Only a hint, read without the lock: a missed entry is the thread's to take. */
	if (!r || !r->running ||
	    __atomic_load_n(&ring->prod, __ATOMIC_ACQUIRE) ==
		    __atomic_load_n(&ring->cons, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&r->lock);
	take_entries(vm, r);
	pthread_mutex_unlock(&r->lock);
}

static void *ring_thread(void *arg)
{
	struct hv_vm *vm = arg;
	struct send_ring *r = vm->ring;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = r->doorbell_fd, .events = POLLIN },
			{ .fd = r->stop_fd, .events = POLLIN },
		};
		uint64_t rings;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			vm_fail(vm, HV_EXIT_OSERR, "send ring: poll: %s", strerror(errno));
			return NULL;
		}
		if (pfd[1].revents)
			return NULL;
		/* The count is the doorbells since the last read: no exit each. */
		if (read(r->doorbell_fd, &rings, sizeof(rings)) != sizeof(rings))
			continue;
		r->doorbells += rings;
		if (trace_on())
			trace_ring_doorbell(vm, rings);
		if (drain(vm, r))
			return NULL;
	}
}

/*
 * At the first doorbell, which exits to here: the thread, and the doorbell
 * as the backend's (on KVM an ioeventfd with no datamatch: a 32-bit write of
 * anything rings; other sizes keep exiting). Not at boot: registering an
 * ioeventfd waits for a KVM SRCU grace period, which a domain that never
 * sends should not pay for. Without one (proc) every ring exits to here.
 */
static int send_ring_start(struct hv_vm *vm)
{
	struct send_ring *r = vm->ring;
	int rc = pthread_create(&r->thread, NULL, ring_thread, vm);

	if (rc) {
		vm_fail(vm, HV_EXIT_OSERR, "send ring: starting its thread: %s", strerror(rc));
		return HV_EXIT_OSERR;
	}
	r->running = true;
	rc = vm->be->doorbell(vm, HV_SEND_DOORBELL, true, 0, r->doorbell_fd);
	if (rc && rc != -EOPNOTSUPP)
		fprintf(stderr, "hv: %s: send ring: doorbell: %s (doorbells will exit to hv)\n",
			vm->name, strerror(-rc));
	return 0;
}

void send_ring_stop(struct hv_vm *vm)
{
	struct send_ring *r = vm->ring;
	uint64_t one = 1;

	if (!r || !r->running)
		return;
	(void)!write(r->stop_fd, &one, sizeof(one));
	pthread_join(r->thread, NULL);
	r->running = false;
	/* What the guest sent before it ended is delivered, as a send by hypercall would be. */
	pthread_mutex_lock(&r->lock);
	take_entries(vm, r);
	pthread_mutex_unlock(&r->lock);
}

void send_ring_free(struct hv_vm *vm)
{
	struct send_ring *r = vm->ring;

	if (!r)
		return;
	send_ring_stop(vm);
	if (r->doorbell_fd >= 0)
		close(r->doorbell_fd);
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	pthread_mutex_destroy(&r->lock);
	free(r);
	vm->ring = NULL;
}

void send_ring_mmio(struct hv_vm *vm, bool is_write, uint8_t *data, unsigned len)
{
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (!vm->ring->running && send_ring_start(vm))
		return;
	/*
	 * Out of the guest already: deliver on this thread rather than wake the
	 * ring's (one more host thread hop; on a backend without doorbells, every
	 * ring comes here). drain() leaves hv_idle as the protocol wants it.
	 */
	vm->ring->hand_doorbells++;
	drain(vm, vm->ring);
}

void send_ring_stats_print(const struct hv_vm *vm)
{
	const struct send_ring *r = vm->ring;
	const struct hv_stats *s = &vm->stats;

	if (!r || (!r->sent && !r->doorbells && !r->dropped && !s->evtchn_sends))
		return;
	fprintf(stderr, "hv: %s: stats: event channels: %llu sent by ring (%llu doorbells, %llu of "
			"them exits), %llu by hypercall, %llu dropped, %llu wake-ups by ring\n",
		vm->name, (unsigned long long)r->sent,
		(unsigned long long)(r->doorbells + r->hand_doorbells),
		(unsigned long long)r->hand_doorbells, (unsigned long long)s->evtchn_sends,
		(unsigned long long)r->dropped, (unsigned long long)r->wakeups);
}
