/* SPDX-License-Identifier: MIT */
/*
 * Event-channel dispatch over the shared-info page: the guest half of Xen's
 * 2-level scheme. The same code runs whoever sets the bits: hv's devices,
 * another domain, or a platform's interrupt handler.
 */
#include <errno.h>
#include <stddef.h>

#include "evtchn.h"
#include "kernel.h"
#include "libos.h"

static struct hv_shared_info *shared;
static struct {
	evtchn_handler_t fn;
	void *arg;
} handlers[EVTCHN_MAX_PORTS];

void evtchn_init(struct hv_shared_info *shared_info)
{
	if (!shared_info)
		panic("evtchn_init: the platform gave no shared-info page");
	shared = shared_info;
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
