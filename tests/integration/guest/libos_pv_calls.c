/* SPDX-License-Identifier: MIT */
/*
 * The paravirtual calls of libos (evtchn.h, gnttab.h, store.h) and their
 * error returns, between two domains (tests/integration/libos_pv.sh):
 *
 *   hv libos_pv_calls.img role=granter :: libos_pv_calls.img role=grantee
 *
 * The granter grants a writable and a read-only page and offers a port;
 * the grantee maps both, checks and writes them, copies through hv, binds
 * the port and signals it. Ending access while mapped must fail with
 * -EBUSY; maps of refs not granted, a read-only grant mapped writable, a
 * send on a closed port and the store's refusals must fail as documented.
 * role=alone (QEMU): every call must return -ENOSYS, cleanly.
 * Each check prints "ok - ..." or "FAIL - ..."; SUCCESS and 0 when all pass, else 1.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtchn.h"
#include "gnttab.h"
#include "libos.h"
#include "store.h"

#define PAGE	4096
#define WAIT_NS (20ull * 1000000000)

static int failures;
static uint16_t peer;

#define EXPECT(what, got, want)                                                                    \
	do {                                                                                       \
		long got_ = (long)(got), want_ = (long)(want);                                     \
		if (got_ == want_)                                                                 \
			printf("ok - %s\n", what);                                                 \
		else {                                                                             \
			printf("FAIL - %s: got %ld (%s), want %ld\n", what, got_,                  \
			       got_ < 0 ? strerror((int)-got_) : "", want_);                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define EXPECT_TRUE(what, cond) EXPECT(what, !!(cond), 1)

static struct wait_queue wq = WAIT_QUEUE_INIT;
static int events;

static void on_event(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	events++;
	wait_queue_wake_all(&wq);
}

static int wait_events(int n)
{
	uint64_t deadline = clock_monotonic_ns() + WAIT_NS;

	while (events < n)
		if (wait_queue_wait(&wq, deadline) == -ETIMEDOUT)
			return -ETIMEDOUT;
	return 0;
}

/* Our key "pvtest/<leaf>", or the peer's. */
static const char *key(uint16_t dom, const char *leaf)
{
	static char k[2][HV_STORE_KEY_MAX + 1];
	static int which;
	char rel[64];

	which ^= 1;
	snprintf(rel, sizeof(rel), "pvtest/%s", leaf);
	store_domain_path(k[which], sizeof(k[which]), dom, rel);
	return k[which];
}

static void put(const char *leaf, long value)
{
	char v[24];

	char what[64];

	snprintf(v, sizeof(v), "%ld", value);
	snprintf(what, sizeof(what), "store: publish %s", leaf);
	EXPECT(what, store_write(key(libos_domid(), leaf), v), 0);
}

/* The peer's value for leaf, waiting for it to appear. */
static long get(const char *leaf)
{
	char v[24];
	int rc = store_wait(key(peer, leaf), v, sizeof(v), clock_monotonic_ns() + WAIT_NS);

	if (rc < 0) {
		printf("FAIL - waiting for the peer's %s: %s\n", leaf, strerror(-rc));
		exit(1);
	}
	return atol(v);
}

static void fill(uint8_t *p, uint8_t seed)
{
	for (int i = 0; i < PAGE; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static int same(const uint8_t *p, uint8_t seed)
{
	for (int i = 0; i < PAGE; i++)
		if (p[i] != (uint8_t)(seed + i * 7))
			return 0;
	return 1;
}

static void store_checks(void)
{
	char big[HV_STORE_VALUE_MAX + 2], small[4], buf[64], longkey[HV_STORE_KEY_MAX + 8];

	EXPECT("store: write under our folder", store_write(key(libos_domid(), "x"), "hello"), 0);
	EXPECT("store: read it back", store_read(key(libos_domid(), "x"), buf, sizeof(buf)), 5);
	EXPECT("store: the value", strcmp(buf, "hello"), 0);
	EXPECT("store: a buffer too small",
	       store_read(key(libos_domid(), "x"), small, sizeof(small)), -ERANGE);
	EXPECT("store: remove", store_remove(key(libos_domid(), "x")), 0);
	EXPECT("store: read after remove", store_read(key(libos_domid(), "x"), buf, sizeof(buf)),
	       -ENOENT);
	EXPECT("store: write under another domain's folder", store_write(key(peer, "x"), "no"),
	       -EPERM);
	EXPECT("store: write outside /local/domain", store_write("/tool/x", "no"), -EPERM);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT("store: a value too long", store_write(key(libos_domid(), "x"), big), -E2BIG);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[0] = '/';
	longkey[sizeof(longkey) - 1] = '\0';
	EXPECT("store: a key too long", store_read(longkey, buf, sizeof(buf)), -ENAMETOOLONG);
	EXPECT("store: waiting for a key that never comes",
	       store_wait(key(libos_domid(), "never"), buf, sizeof(buf),
			  clock_monotonic_ns() + 20000000),
	       -ETIMEDOUT);
	store_domain_path(longkey, sizeof(longkey), libos_domid(), "name");
	EXPECT_TRUE("store: hv named us", store_read(longkey, buf, sizeof(buf)) > 0);
}

static void evtchn_checks(void)
{
	struct evtchn_status st;
	int p;

	EXPECT("evtchn: send on port 0", evtchn_send(0), -EINVAL);
	EXPECT("evtchn: send on a port never made", evtchn_send(900), -EINVAL);
	EXPECT("evtchn: send beyond the table", evtchn_send(100000), -EINVAL);
	EXPECT("evtchn: close a port never made", evtchn_close(901), -EINVAL);
	EXPECT("evtchn: alloc for a domain that does not exist", evtchn_alloc_unbound(60), -ESRCH);
	p = evtchn_alloc_unbound(peer);
	EXPECT_TRUE("evtchn: alloc_unbound", p > 0);
	EXPECT("evtchn: status of an unbound port",
	       evtchn_status(HV_DOMID_SELF, (evtchn_port_t)p, &st), 0);
	EXPECT("evtchn: it is unbound", st.state, HV_EVTCHNSTAT_UNBOUND);
	EXPECT("evtchn: for the peer", st.remote_dom, peer);
	EXPECT("evtchn: send before the peer bound it", evtchn_send((evtchn_port_t)p), -ENOTCONN);
	EXPECT("evtchn: close", evtchn_close((evtchn_port_t)p), 0);
	EXPECT("evtchn: send on a closed port", evtchn_send((evtchn_port_t)p), -EINVAL);
	EXPECT("evtchn: close it again", evtchn_close((evtchn_port_t)p), -EINVAL);
	EXPECT("evtchn: bind to a port not offered", evtchn_bind_interdomain(peer, 902), -EINVAL);
	p = evtchn_bind_virq(HV_VIRQ_TIMER);
	EXPECT_TRUE("evtchn: bind the timer VIRQ", p > 0);
	EXPECT("evtchn: status of the VIRQ port",
	       evtchn_status(HV_DOMID_SELF, (evtchn_port_t)p, &st), 0);
	EXPECT("evtchn: it is a VIRQ", st.state, HV_EVTCHNSTAT_VIRQ);
	EXPECT("evtchn: send on a VIRQ port", evtchn_send((evtchn_port_t)p), -EINVAL);
	EXPECT("evtchn: unmask through hv", evtchn_unmask_op((evtchn_port_t)p), 0);
	EXPECT("evtchn: close the VIRQ port", evtchn_close((evtchn_port_t)p), 0);
}

static void granter(void)
{
	uint8_t *rw = memalign(PAGE, PAGE), *ro = memalign(PAGE, PAGE);
	int rw_ref, ro_ref, port;

	EXPECT("gnttab: end access to a ref never granted", gnttab_end_access(100), -EINVAL);
	EXPECT("gnttab: grant an unaligned address", gnttab_grant_access(peer, rw + 1, 0), -EINVAL);
	fill(rw, 1);
	fill(ro, 2);
	rw_ref = gnttab_grant_access(peer, rw, 0);
	ro_ref = gnttab_grant_access(peer, ro, 1);
	EXPECT_TRUE("gnttab: grant a page", rw_ref >= GNTTAB_RESERVED);
	EXPECT_TRUE("gnttab: grant a page read-only",
		    ro_ref >= GNTTAB_RESERVED && ro_ref != rw_ref);
	port = evtchn_alloc_unbound(peer);
	EXPECT_TRUE("evtchn: offer a port", port > 0);
	EXPECT("evtchn: bind our handler", evtchn_bind_handler((evtchn_port_t)port, on_event, NULL),
	       0);
	put("rw-ref", rw_ref);
	put("ro-ref", ro_ref);
	put("port", port);

	get("mapped");
	EXPECT("gnttab: end access while mapped (writable)", gnttab_end_access((grant_ref_t)rw_ref),
	       -EBUSY);
	EXPECT("gnttab: end access while mapped (read-only)",
	       gnttab_end_access((grant_ref_t)ro_ref), -EBUSY);
	EXPECT("evtchn: the grantee's event", wait_events(1), 0);
	EXPECT("evtchn: the port is connected now", evtchn_send((evtchn_port_t)port), 0);
	put("busy-checked", 1);

	get("unmapped");
	EXPECT_TRUE("gnttab: the grantee's writes are in our page", same(rw, 3));
	EXPECT("gnttab: end access after the unmap", gnttab_end_access((grant_ref_t)rw_ref), 0);
	EXPECT("gnttab: end access after the unmap (read-only)",
	       gnttab_end_access((grant_ref_t)ro_ref), 0);
	EXPECT("gnttab: end access twice", gnttab_end_access((grant_ref_t)rw_ref), -EINVAL);
	put("ended", 1);
	get("tried");
	EXPECT("evtchn: close our end", evtchn_close((evtchn_port_t)port), 0);
}

static void grantee(void)
{
	grant_ref_t rw_ref = (grant_ref_t)get("rw-ref"), ro_ref = (grant_ref_t)get("ro-ref");
	evtchn_port_t remote = (evtchn_port_t)get("port");
	uint8_t buf[PAGE], *rw = NULL, *ro = NULL;
	void *addr;
	int h_rw, h_ro, port;

	EXPECT_TRUE("gnttab: map a ref not granted", gnttab_map(peer, 200, 0, &addr) < 0);
	EXPECT("gnttab: map a ref beyond the table", gnttab_map(peer, 100000, 0, &addr), -ENOENT);
	EXPECT("gnttab: map from a domain that does not exist", gnttab_map(60, rw_ref, 0, &addr),
	       -ESRCH);
	EXPECT_TRUE("gnttab: map a read-only grant writable",
		    gnttab_map(peer, ro_ref, 0, &addr) < 0);
	EXPECT("gnttab: unmap a bad handle", gnttab_unmap(-1), -EINVAL);
	EXPECT("gnttab: unmap a handle never given", gnttab_unmap(12345), -EINVAL);
	h_rw = gnttab_map(peer, rw_ref, 0, &addr);
	EXPECT_TRUE("gnttab: map the writable grant", h_rw >= 0);
	rw = addr;
	h_ro = gnttab_map(peer, ro_ref, 1, &addr);
	EXPECT_TRUE("gnttab: map the read-only grant", h_ro >= 0);
	ro = addr;
	if (h_rw < 0 || h_ro < 0)
		exit(1);
	EXPECT_TRUE("gnttab: the granter's bytes", same(rw, 1) && same(ro, 2));
	EXPECT("gnttab: copy from a grant", gnttab_copy_from(peer, ro_ref, 0, buf, PAGE), 0);
	EXPECT_TRUE("gnttab: the copied bytes", same(buf, 2));
	memset(buf, 0, sizeof(buf));
	EXPECT("gnttab: copy from the middle of a grant",
	       gnttab_copy_from(peer, ro_ref, 100, buf, 200), 0);
	EXPECT_TRUE("gnttab: the bytes from the middle", memcmp(buf, ro + 100, 200) == 0);
	EXPECT("gnttab: copy past the granted page", gnttab_copy_from(peer, ro_ref, 1, buf, PAGE),
	       -EINVAL);
	EXPECT_TRUE("gnttab: copy into a read-only grant",
		    gnttab_copy_to(peer, ro_ref, 0, buf, 8) < 0);
	fill(buf, 3);
	memcpy(rw, buf, PAGE / 2);
	EXPECT("gnttab: copy into a grant", gnttab_copy_to(peer, rw_ref, 0, buf, PAGE), 0);
	EXPECT_TRUE("gnttab: seen through the map", same(rw, 3));

	port = evtchn_bind_interdomain(peer, remote);
	EXPECT_TRUE("evtchn: bind the granter's port", port > 0);
	EXPECT("evtchn: bind our handler", evtchn_bind_handler((evtchn_port_t)port, on_event, NULL),
	       0);
	/* Xen's rule: a port is pending as it is bound (the peer may have signalled before). */
	thread_yield();
	EXPECT("evtchn: the event a bind brings", events, 1);
	EXPECT("evtchn: bind it twice", evtchn_bind_interdomain(peer, remote), -EBUSY);
	EXPECT("evtchn: send", evtchn_send((evtchn_port_t)port), 0);
	put("mapped", 1);
	get("busy-checked");
	EXPECT("evtchn: the granter's event", wait_events(2), 0);
	EXPECT("gnttab: unmap", gnttab_unmap(h_rw), 0);
	EXPECT("gnttab: unmap the read-only map", gnttab_unmap(h_ro), 0);
	EXPECT("gnttab: unmap twice", gnttab_unmap(h_rw), -EINVAL);
	put("unmapped", 1);
	get("ended");
	EXPECT_TRUE("gnttab: map after the grant ended", gnttab_map(peer, rw_ref, 0, &addr) < 0);
	EXPECT("evtchn: close", evtchn_close((evtchn_port_t)port), 0);
	EXPECT("evtchn: send on the closed port", evtchn_send((evtchn_port_t)port), -EINVAL);
	put("tried", 1);
}

/* Where the platform has no domains, every call says so and nothing breaks. */
static void alone(void)
{
	static uint8_t page[PAGE] __attribute__((aligned(PAGE)));
	char buf[16];
	void *addr;

	EXPECT("alone: alloc_unbound", evtchn_alloc_unbound(1), -ENOSYS);
	EXPECT("alone: bind_interdomain", evtchn_bind_interdomain(1, 1), -ENOSYS);
	EXPECT("alone: bind_virq", evtchn_bind_virq(HV_VIRQ_TIMER), -ENOSYS);
	EXPECT("alone: send on a port never made", evtchn_send(5), -EINVAL);
	EXPECT("alone: grant", gnttab_grant_access(1, page, 0), -ENOSYS);
	EXPECT("alone: map", gnttab_map(1, 8, 0, &addr), -ENOSYS);
	EXPECT("alone: copy", gnttab_copy_from(1, 8, 0, buf, 8), -ENOSYS);
	EXPECT("alone: store_read", store_read("/local/domain/1/name", buf, sizeof(buf)), -ENOSYS);
	EXPECT("alone: store_write", store_write("/local/domain/1/x", "y"), -ENOSYS);
	EXPECT("alone: store_wait", store_wait("/local/domain/1/x", buf, sizeof(buf), 0), -ENOSYS);
	EXPECT("alone: domain id", libos_domid(), 0);
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "";

	if (strcmp(role, "role=alone") == 0) {
		alone();
	} else {
		peer = libos_domid() == 1 ? 2 : 1;
		printf("libos_pv_calls: domain %u, %s, peer %u\n", libos_domid(), role, peer);
		if (strcmp(role, "role=granter") == 0) {
			store_checks();
			evtchn_checks();
			granter();
		} else if (strcmp(role, "role=grantee") == 0) {
			grantee();
		} else {
			printf("FAIL - say role=granter, role=grantee or role=alone\n");
			return 1;
		}
	}
	if (failures) {
		printf("FAILURE: %d checks failed\n", failures);
		return 1;
	}
	printf("SUCCESS\n");
	return 0;
}
