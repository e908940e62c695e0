/* SPDX-License-Identifier: MIT */
/*
 * For the guest tests of hv's paravirtual ABI between domains (event
 * channels, the send ring, grants, the store): each call made by hand, a
 * raw hypercall, so a test sees exactly what hv answers, without libos's
 * event-channel and grant code in between. A test must not sleep or yield
 * through libos while it watches event bits (libos's dispatcher would take
 * them); it blocks with pv_block() instead.
 */
#ifndef TESTS_PV_TEST_H
#define TESTS_PV_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_abi.h"
#include "libos.h"

#include "../../guest/hv_test.h"

#define PV_BOOT_INFO HV_TEST_BOOT_INFO
#define pv_boot_info hv_test_boot_info
#define pv_hypercall hv_test_hypercall
#define pv_block hv_test_block

static inline domid_t pv_domid(void)
{
	return (domid_t)pv_boot_info()->domid;
}

static inline struct hv_shared_info *pv_shared(void)
{
	return (struct hv_shared_info *)(uintptr_t)pv_boot_info()->shared_info;
}

/* Sleep in hv for ns, whatever events come meanwhile (they stay pending). */
static inline void pv_sleep(uint64_t ns)
{
	struct hv_shared_info *si = (struct hv_shared_info *)(uintptr_t)pv_boot_info()->shared_info;
	uint64_t deadline = clock_monotonic_ns() + ns;

	do
		__atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	while (pv_block(deadline) != HV_BLOCK_DEADLINE);
}

/* --- event channels ---------------------------------------------------------------------- */

static inline int pv_evtchn(struct hv_evtchn_op *op)
{
	static struct hv_evtchn_op block __attribute__((aligned(8)));

	block = *op;
	block.ret = 1; /* hv always writes it */
	pv_hypercall(HV_CALL_EVTCHN_OP, &block);
	*op = block;
	return block.ret;
}

/* Each returns the port (> 0) or -errno. */
static inline int ev_alloc_unbound(domid_t remote)
{
	struct hv_evtchn_op op = { .cmd = HV_EVTCHNOP_ALLOC_UNBOUND, .dom = HV_DOMID_SELF,
				   .remote_dom = remote };
	int rc = pv_evtchn(&op);

	return rc ? rc : (int)op.port;
}

static inline int ev_bind_interdomain(domid_t remote, uint32_t rport)
{
	struct hv_evtchn_op op = { .cmd = HV_EVTCHNOP_BIND_INTERDOMAIN, .remote_dom = remote,
				   .remote_port = rport };
	int rc = pv_evtchn(&op);

	return rc ? rc : (int)op.port;
}

static inline int ev_bind_virq(uint32_t virq)
{
	struct hv_evtchn_op op = { .cmd = HV_EVTCHNOP_BIND_VIRQ, .virq = virq };
	int rc = pv_evtchn(&op);

	return rc ? rc : (int)op.port;
}

static inline int ev_simple(uint32_t cmd, uint32_t port)
{
	struct hv_evtchn_op op = { .cmd = cmd, .port = port };

	return pv_evtchn(&op);
}

#define ev_close(port) ev_simple(HV_EVTCHNOP_CLOSE, (port))
#define ev_send(port) ev_simple(HV_EVTCHNOP_SEND, (port))
#define ev_unmask(port) ev_simple(HV_EVTCHNOP_UNMASK, (port))

/* STATUS of dom's port: 0 with op filled, or -errno. */
static inline int ev_status(domid_t dom, uint32_t port, struct hv_evtchn_op *op)
{
	*op = (struct hv_evtchn_op){ .cmd = HV_EVTCHNOP_STATUS, .dom = dom, .port = port };
	return pv_evtchn(op);
}

static inline void clear_upcall(void)
{
	__atomic_store_n(&pv_shared()->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
}

/* Take the port's event: clear its bit; 1 if it was pending. */
static inline int take_event(uint32_t port)
{
	uint64_t bit = 1ull << (port % 64);

	return (__atomic_fetch_and(&pv_shared()->evtchn_pending[port / 64], ~bit,
				   __ATOMIC_SEQ_CST) & bit) != 0;
}

/*
 * The idle loop of a driver: clear the upcall flag, look, block. Returns 1
 * when port's event came (taking it), 0 after timeout_ms.
 */
static inline int wait_event(uint32_t port, unsigned timeout_ms)
{
	struct hv_shared_info *si = pv_shared();
	uint64_t deadline = clock_monotonic_ns() + timeout_ms * 1000000ull;

	for (;;) {
		__atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		if (take_event(port))
			return 1;
		if (pv_block(deadline) == HV_BLOCK_DEADLINE && !take_event(port))
			return 0;
	}
}

/* Spin (no exit) until port's event comes; for timing round trips. 1, or 0 after timeout_ms. */
static inline int spin_event(uint32_t port, unsigned timeout_ms)
{
	uint64_t deadline = clock_monotonic_ns() + timeout_ms * 1000000ull;

	while (!take_event(port))
		if (clock_monotonic_ns() > deadline)
			return 0;
	return 1;
}

/* --- the send ring ----------------------------------------------------------------------- */

static inline struct hv_send_ring *pv_ring(void)
{
	return (struct hv_send_ring *)(uintptr_t)pv_boot_info()->send_ring;
}

/* Append port and ring if hv is idle (the ABI's protocol); returns whether it rang. */
static inline int ring_send(uint32_t port)
{
	struct hv_send_ring *r = pv_ring();
	uint32_t prod = r->prod;

	while (prod - __atomic_load_n(&r->cons, __ATOMIC_ACQUIRE) >= HV_SEND_RING_SIZE)
		; /* full: hv is draining */
	r->ports[prod % HV_SEND_RING_SIZE] = port;
	__atomic_store_n(&r->prod, prod + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->hv_idle, __ATOMIC_RELAXED)) {
		*(volatile uint32_t *)(uintptr_t)pv_boot_info()->send_doorbell = 1;
		return 1;
	}
	return 0;
}

/* Wait until hv took everything in the ring. */
static inline void ring_flush(void)
{
	struct hv_send_ring *r = pv_ring();
	uint64_t deadline = clock_monotonic_ns() + 2000000000ull;

	while (__atomic_load_n(&r->cons, __ATOMIC_ACQUIRE) != r->prod)
		EXPECT(clock_monotonic_ns() < deadline);
}

/* --- grants -------------------------------------------------------------------------------- */

static inline int pv_gnttab(struct hv_gnttab_op *op)
{
	static struct hv_gnttab_op block __attribute__((aligned(8)));

	block = *op;
	block.status = 1;
	pv_hypercall(HV_CALL_GNTTAB_OP, &block);
	*op = block;
	return block.status;
}

static inline int gnt_setup(void *table, uint32_t nr)
{
	struct hv_gnttab_op op = { .cmd = HV_GNTTABOP_SETUP_TABLE, .table = (uintptr_t)table,
				   .nr_entries = nr };

	return pv_gnttab(&op);
}

/* MAP: the GNTST status; *addr and *handle on success. */
static inline int gnt_map(domid_t dom, uint32_t ref, int readonly, volatile uint8_t **addr,
			  uint32_t *handle)
{
	struct hv_gnttab_op op = { .cmd = HV_GNTTABOP_MAP_GRANT_REF, .dom = dom, .ref = ref,
				   .flags = readonly ? HV_GNTMAP_READONLY : 0 };
	int st = pv_gnttab(&op);

	if (st == HV_GNTST_OKAY) {
		*addr = (volatile uint8_t *)(uintptr_t)op.addr;
		*handle = op.handle;
	}
	return st;
}

static inline int gnt_unmap(uint32_t handle)
{
	struct hv_gnttab_op op = { .cmd = HV_GNTTABOP_UNMAP_GRANT_REF, .handle = handle };

	return pv_gnttab(&op);
}

/* A grant ref end of a copy: the offset in the granted page above bit 32. */
static inline struct hv_gnttab_copy_ptr gref(domid_t dom, uint32_t ref, uint32_t offset)
{
	return (struct hv_gnttab_copy_ptr){ .where = (uint64_t)offset << 32 | ref, .dom = dom };
}

static inline struct hv_gnttab_copy_ptr local(const void *p)
{
	return (struct hv_gnttab_copy_ptr){ .where = (uintptr_t)p, .dom = HV_DOMID_SELF };
}

static inline int gnt_copy(struct hv_gnttab_copy_ptr src, struct hv_gnttab_copy_ptr dst,
			   uint16_t flags, uint32_t len)
{
	struct hv_gnttab_op op = { .cmd = HV_GNTTABOP_COPY, .flags = flags, .len = len,
				   .src = src, .dst = dst };

	return pv_gnttab(&op);
}

/* Fill a grant entry: domid and frame first, the flags last (hv checks the flags first). */
static inline void grant(struct hv_grant_entry *e, domid_t to, const void *page, int readonly)
{
	e->domid = to;
	e->frame = (uint32_t)((uintptr_t)page / HV_PAGE_SIZE);
	__atomic_store_n(&e->flags, HV_GTF_PERMIT_ACCESS | (readonly ? HV_GTF_READONLY : 0),
			 __ATOMIC_RELEASE);
}

/* Xen's end of access: clear the flags unless hv marked the entry in use. 0 or -EBUSY. */
static inline int end_access(struct hv_grant_entry *e)
{
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if (flags & (HV_GTF_READING | HV_GTF_WRITING))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, 0, __ATOMIC_SEQ_CST,
					      __ATOMIC_ACQUIRE));
	return 0;
}

/* --- the store ----------------------------------------------------------------------------- */

static inline int pv_store(uint32_t cmd, const char *key, void *buf, uint32_t *len)
{
	static struct hv_store_op op __attribute__((aligned(8)));

	op = (struct hv_store_op){ .cmd = cmd, .key = (uintptr_t)key, .buf = (uintptr_t)buf,
				   .len = len ? *len : 0, .ret = 1 };
	pv_hypercall(HV_CALL_STORE, &op);
	if (len)
		*len = op.len;
	return op.ret;
}

static inline int store_put(const char *key, const char *value)
{
	uint32_t len = (uint32_t)strlen(value);

	return pv_store(HV_STORE_WRITE, key, (void *)value, &len);
}

/* Read key as a string into buf[size]: 0 or -errno. */
static inline int store_get(const char *key, char *buf, uint32_t size)
{
	uint32_t len = size - 1;
	int rc = pv_store(HV_STORE_READ, key, buf, &len);

	if (rc == 0)
		buf[len] = '\0';
	return rc;
}

/* Wait (blocking in hv, 1 ms at a time) until key exists; its value as a number. */
static inline long store_wait_number(const char *key)
{
	uint64_t deadline = clock_monotonic_ns() + 10000000000ull;
	char buf[32];

	while (store_get(key, buf, sizeof(buf)) != 0) {
		EXPECT(clock_monotonic_ns() < deadline);
		pv_sleep(500000);
	}
	return strtol(buf, NULL, 0);
}

static inline void store_put_number(const char *key, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	EXPECT_EQ(store_put(key, buf), 0);
}

/* "/local/domain/<dom>/<rel>" in a static buffer of its own per call site's need. */
static inline const char *dom_key(char *buf, size_t size, domid_t dom, const char *rel)
{
	snprintf(buf, size, "/local/domain/%u/%s", dom, rel);
	return buf;
}

/* "/local/domain/<dom>/<rel>", from a ring of four buffers: a few may be used at once. */
static inline const char *pv_key(domid_t dom, const char *rel)
{
	static char buf[4][64];
	static unsigned next;

	next = (next + 1) % 4;
	return dom_key(buf[next], sizeof(buf[next]), dom, rel);
}

/* Two domains keep in step through the store: each says its phase, and waits for the other's. */
static inline void pv_phase_set(domid_t me, long n)
{
	store_put_number(pv_key(me, "phase"), n);
}

static inline void pv_phase_wait(domid_t peer, long n)
{
	uint64_t deadline = clock_monotonic_ns() + 20000000000ull;
	char buf[32];

	while (store_get(pv_key(peer, "phase"), buf, sizeof(buf)) != 0 || strtol(buf, NULL, 0) < n) {
		EXPECT(clock_monotonic_ns() < deadline);
		pv_sleep(200000);
	}
}

#endif /* TESTS_PV_TEST_H */
