/* SPDX-License-Identifier: MIT */
/*
 * Event channels, host side: mark a port pending in a domain's shared-info
 * page with Xen's 2-level rules and wake the domain's vCPU if it sleeps;
 * the guest's EVTCHNOP_* calls over the port tables of evtchn_ports.c; the
 * timer VIRQ. The senders are hv's devices, other domains' send rings
 * (send_ring.c) and EVTCHNOP_SEND.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "evtchn_ports.h"
#include "hv.h"
#include "virtio_dev.h"

static struct hv_shared_info *shared_info(struct hv_vm *vm)
{
	return (struct hv_shared_info *)(vm->mem + HV_L_SHARED);
}

/*
 * Waking a blocked vCPU without losing a wake-up, and without a system call
 * when the vCPU is running (it sees the event at its next scheduling point):
 *
 *   vCPU, block hypercall              a sender (device, ring, peer), here
 *   W1: blocked = true                 W2: evtchn_upcall_pending = 1
 *   R1: read evtchn_upcall_pending     R2: read blocked
 *       set: return at once                set: write the wake eventfd
 *       clear: sleep on the eventfd
 *
 * All four accesses are sequentially consistent, so they fall in one total
 * order in which W1 comes before R1 and W2 before R2. If R2 misses W1 then
 * R2 < W1 < R1, so W2 < R1: the vCPU sees the flag and does not sleep. If R2
 * sees W1, the eventfd is written; it stays readable until the vCPU drains
 * it, so a vCPU that has not reached its poll yet returns from it at once. A
 * wake-up written just after the vCPU left costs it one extra turn of its
 * loop at the next block, nothing more.
 */
static bool wake_if_blocked(struct hv_vm *vm)
{
	uint32_t *wait = &shared_info(vm)->vcpu_info[0].wait;
	uint64_t one = 1;

	/*
	 * A guest that blocks by a futex (HV_BOOT_LINUX_CALLS) follows the same
	 * order with its wait word as W1, and the load is R2; taking the 1 makes
	 * its FUTEX_WAIT, if it has not begun, return at once, and only one
	 * sender wakes it. The load first keeps a locked write of the guest's
	 * line off every event of a guest that is running.
	 */
	if (vm->linux_calls && __atomic_load_n(wait, __ATOMIC_SEQ_CST) == 1 &&
	    __atomic_exchange_n(wait, 0, __ATOMIC_SEQ_CST) == 1) {
		(void)syscall(SYS_futex, wait, FUTEX_WAKE, 1, NULL, NULL, 0);
		return true;
	}
	if (!__atomic_load_n(&vm->blocked, __ATOMIC_SEQ_CST))
		return false;
	/* A full eventfd counter (EAGAIN) is a pending wake-up too. */
	(void)!write(vm->wake_fd, &one, sizeof(one));
	return true;
}

enum evtchn_result evtchn_set_pending(struct hv_vm *vm, uint32_t port)
{
	struct hv_shared_info *si = shared_info(vm);
	uint64_t bit = 1ull << (port % 64);
	unsigned word = port / 64;

	if (port >= HV_NR_EVTCHN)
		return EVTCHN_WAS_PENDING;
	/* Already pending: the guest has not yet taken the earlier event, and will see this. */
	if (__atomic_fetch_or(&si->evtchn_pending[word], bit, __ATOMIC_SEQ_CST) & bit)
		return EVTCHN_WAS_PENDING;
	/* Masked: it stays pending; unmasking is what delivers it. */
	if (__atomic_load_n(&si->evtchn_mask[word], __ATOMIC_SEQ_CST) & bit)
		return EVTCHN_SET;
	__atomic_fetch_or(&si->vcpu_info[0].evtchn_pending_sel, 1ull << word, __ATOMIC_SEQ_CST);
	__atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	return wake_if_blocked(vm) ? EVTCHN_SET_WOKE : EVTCHN_SET;
}

int evtchn_domain_init(struct hv_vm *vm)
{
	uint32_t device_end = 1;

	vm->ports = malloc(sizeof(*vm->ports));
	if (!vm->ports) {
		vm_fail(vm, HV_EXIT_OSERR, "allocating its event-channel table: out of memory");
		return HV_EXIT_OSERR;
	}
	for (unsigned i = 0; i < vm->nr_devices; i++)
		device_end = vm->devices[i]->port + vm->devices[i]->be->nr_queues;
	evtchn_ports_init(vm->ports, vm->domid, device_end);
	pthread_mutex_lock(&vm->host->lock);
	vm->host->evtchn->dom[vm->domid] = vm->ports;
	pthread_mutex_unlock(&vm->host->lock);
	return 0;
}

void evtchn_domain_end(struct hv_vm *vm)
{
	pthread_mutex_lock(&vm->host->lock);
	evtchn_ports_remove(vm->host->evtchn, vm->domid);
	pthread_mutex_unlock(&vm->host->lock);
}

void evtchn_domain_free(struct hv_vm *vm)
{
	free(vm->ports);
	vm->ports = NULL;
}

void evtchn_timer_fired(struct hv_vm *vm)
{
	/* Bound and closed only on this (the vCPU) thread: no lock needed to read it. */
	uint32_t port = vm->ports ? vm->ports->virq_port[HV_VIRQ_TIMER] : 0;

	if (port)
		evtchn_set_pending(vm, port);
}

bool evtchn_may_wake(const struct hv_vm *vm)
{
	return vm->ports && __atomic_load_n(&vm->ports->wake_ports, __ATOMIC_RELAXED) > 0;
}

/*
 * The pending bit is set under the lock, as Xen does, so an event never
 * lands on a port the receiver has closed and allocated again meanwhile.
 */
int evtchn_deliver(struct hv_vm *from, uint32_t port, bool *woke)
{
	struct hv_host *h = from->host;
	domid_t to;
	uint32_t to_port;
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = evtchn_ports_send(h->evtchn, from->domid, port, &to, &to_port);
	if (rc == 0)
		*woke = evtchn_set_pending(h->dom[to], to_port) == EVTCHN_SET_WOKE;
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* Xen's 2-level unmask: a port pending while masked is delivered now. The caller is the vCPU. */
static int unmask(struct hv_vm *vm, uint32_t port)
{
	struct hv_shared_info *si = shared_info(vm);
	uint64_t bit = 1ull << (port % 64);
	unsigned word = port / 64;

	if (port == 0 || port >= HV_NR_EVTCHN)
		return -EINVAL;
	if ((__atomic_fetch_and(&si->evtchn_mask[word], ~bit, __ATOMIC_SEQ_CST) & bit) &&
	    (__atomic_load_n(&si->evtchn_pending[word], __ATOMIC_SEQ_CST) & bit)) {
		__atomic_fetch_or(&si->vcpu_info[0].evtchn_pending_sel, 1ull << word, __ATOMIC_SEQ_CST);
		__atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	}
	return 0;
}

/* A closed port forgets an event it had not taken (Xen clears it in evtchn_free). */
static void clear_pending(struct hv_vm *vm, uint32_t port)
{
	__atomic_fetch_and(&shared_info(vm)->evtchn_pending[port / 64], ~(1ull << (port % 64)),
			   __ATOMIC_SEQ_CST);
}

void evtchn_op(struct hv_vm *vm, void *arg)
{
	struct hv_evtchn_op *op = arg;
	struct hv_host *h = vm->host;
	bool woke = false;

	switch (op->cmd) {
	case HV_EVTCHNOP_SEND:
		op->ret = evtchn_deliver(vm, op->port, &woke);
		if (op->ret == 0)
			vm->stats.evtchn_sends++;
		return;
	case HV_EVTCHNOP_UNMASK:
		op->ret = unmask(vm, op->port);
		return;
	default:
		break;
	}
	pthread_mutex_lock(&h->lock);
	switch (op->cmd) {
	case HV_EVTCHNOP_ALLOC_UNBOUND:
		op->ret = evtchn_ports_alloc_unbound(h->evtchn, vm->domid, op->dom, op->remote_dom,
						     &op->port);
		break;
	case HV_EVTCHNOP_BIND_INTERDOMAIN:
		op->ret = evtchn_ports_bind_interdomain(h->evtchn, vm->domid, op->remote_dom,
							op->remote_port, &op->port);
		/* As Xen: an event sent to the unbound end before the bind may be lost; say one came. */
		if (op->ret == 0)
			evtchn_set_pending(vm, op->port);
		break;
	case HV_EVTCHNOP_BIND_VIRQ:
		op->ret = evtchn_ports_bind_virq(h->evtchn, vm->domid, op->virq, &op->port);
		break;
	case HV_EVTCHNOP_CLOSE:
		op->ret = evtchn_ports_close(h->evtchn, vm->domid, op->port);
		if (op->ret == 0)
			clear_pending(vm, op->port);
		break;
	case HV_EVTCHNOP_STATUS:
		op->ret = evtchn_ports_status(h->evtchn, vm->domid, op->dom, op->port, op);
		break;
	default:
		/* Xen says -ENOSYS, whose number newlib does not share: the ABI keeps to -EINVAL. */
		op->ret = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&h->lock);
}
