/* SPDX-License-Identifier: MIT */
/*
 * Event channels, host side: mark a port pending in a domain's shared-info
 * page with Xen's 2-level rules, and wake the domain's vCPU if it sleeps.
 * For now hv's devices are the only senders; interdomain channels, VIRQs and
 * the guest's send/unmask operations grow here.
 */
#include <unistd.h>

#include "hv.h"

/*
 * Waking a blocked vCPU without losing a wake-up, and without a system call
 * when the vCPU is running (it sees the event at its next scheduling point):
 *
 *   vCPU, block hypercall              device thread, here
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
	uint64_t one = 1;

	if (!__atomic_load_n(&vm->blocked, __ATOMIC_SEQ_CST))
		return false;
	/* A full eventfd counter (EAGAIN) is a pending wake-up too. */
	(void)!write(vm->wake_fd, &one, sizeof(one));
	return true;
}

enum evtchn_result evtchn_set_pending(struct hv_vm *vm, uint32_t port)
{
	struct hv_shared_info *si = (struct hv_shared_info *)(vm->mem + HV_L_SHARED);
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
