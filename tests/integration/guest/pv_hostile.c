/* SPDX-License-Identifier: MIT */
/*
 * What a domain must not do with event channels and the store, by hand
 * (tests/integration/domains.sh). Every refusal is an error code; nothing
 * ends the domain.
 *
 *   pv_hostile.img alone          one domain (run it with --disk: port 1 is a device's):
 *                                 bad ports and virqs, device ports, sends on unbound
 *                                 ports by hypercall and by the ring (dropped, counted),
 *                                 every port allocated until -ENOSPC, the store's rules
 *   pv_hostile.img owner 2 3      dom1: offers a port to dom3 and one to dom2
 *   pv_hostile.img thief 1 3      dom2: tries dom1's port offered to dom3, binds its own,
 *                                 binds it twice, reads dom1's status, allocates for dom1,
 *                                 writes dom1's keys
 *   pv_hostile.img third 1 2      dom3: binds the port offered to it
 *   pv_hostile.img ring-lie       moves its ring's prod 1000 entries on: hv ends it
 */
#include "pv_test.h"

static domid_t me;

static void bad_ports(void)
{
	struct hv_evtchn_op st;
	int p;

	EXPECT_EQ(ev_send(0), -EINVAL);
	EXPECT_EQ(ev_send(HV_NR_EVTCHN), -EINVAL);
	EXPECT_EQ(ev_send(0xffffffffu), -EINVAL);
	EXPECT_EQ(ev_close(4000), -EINVAL);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, 0, &st), -EINVAL);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, HV_NR_EVTCHN, &st), -EINVAL);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, 4000, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_CLOSED);
	EXPECT_EQ(ev_status(9, 5, &st), -ESRCH);
	EXPECT_EQ(ev_bind_virq(1), -EINVAL);
	EXPECT_EQ(ev_bind_virq(0xffffffffu), -EINVAL);
	EXPECT_EQ(ev_bind_interdomain(9, 5), -ESRCH);
	EXPECT_EQ(ev_alloc_unbound(9), -ESRCH);
	struct hv_evtchn_op op = { .cmd = HV_EVTCHNOP_ALLOC_UNBOUND, .dom = 9, .remote_dom = 1 };
	EXPECT_EQ(pv_evtchn(&op), -ESRCH);
	op = (struct hv_evtchn_op){ .cmd = 42 };
	EXPECT_EQ(pv_evtchn(&op), -EINVAL);

	/* Unbound (allocated, nobody bound it): no send; binding to it ourselves works. */
	p = ev_alloc_unbound(HV_DOMID_SELF);
	EXPECT(p > 1);
	EXPECT_EQ(ev_send((uint32_t)p), -EINVAL);
	EXPECT_EQ(ev_bind_interdomain(HV_DOMID_SELF, 0), -EINVAL);
	EXPECT_EQ(ev_bind_interdomain(HV_DOMID_SELF, HV_NR_EVTCHN), -EINVAL);
	int q = ev_bind_interdomain(HV_DOMID_SELF, (uint32_t)p);
	EXPECT(q > p);
	take_event((uint32_t)q);
	EXPECT_EQ(ev_send((uint32_t)q), 0);
	EXPECT(take_event((uint32_t)p));
	EXPECT_EQ(ev_close((uint32_t)p), 0);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, (uint32_t)q, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_UNBOUND);
	EXPECT_EQ(ev_close((uint32_t)q), 0);
	printf("bad ports, virqs and domains refused; a loopback pair works and closes\n");
}

/* Port 1 is the disk's first queue: hv's, refused by every operation but STATUS and UNMASK. */
static void device_ports(void)
{
	const struct hv_boot_info *bi = pv_boot_info();
	struct hv_evtchn_op st;

	EXPECT(bi->nr_devices >= 1);
	EXPECT_EQ(bi->devices[0].port, 1);
	EXPECT_EQ(ev_status(HV_DOMID_SELF, 1, &st), 0);
	EXPECT_EQ(st.status, HV_EVTCHNSTAT_DEVICE);
	EXPECT_EQ(ev_close(1), -EINVAL);
	EXPECT_EQ(ev_send(1), -EINVAL);
	EXPECT_EQ(ev_bind_interdomain(HV_DOMID_SELF, 1), -EINVAL);
	EXPECT_EQ(ev_unmask(1), 0);
	printf("device port 1 refused by close, send and bind\n");
}

/* Sends of ports that are not ours by the ring: dropped and counted, the domain unharmed. */
static void ring_drops(void)
{
	struct hv_send_ring *r = pv_ring();
	int p = ev_alloc_unbound(HV_DOMID_SELF);

	EXPECT(p > 0);
	ring_send(77);
	ring_send((uint32_t)p);
	ring_send(0);
	ring_send(0xfffffff0u);
	ring_flush();
	EXPECT_EQ(__atomic_load_n(&r->dropped, __ATOMIC_ACQUIRE), 4);
	EXPECT_EQ(ev_close((uint32_t)p), 0);
	printf("ring: 4 bad ports dropped and counted\n");
}

static void exhaust_ports(void)
{
	static int ports[HV_NR_EVTCHN];
	int n = 0, p;

	while ((p = ev_alloc_unbound(HV_DOMID_SELF)) > 0) {
		EXPECT(n < HV_NR_EVTCHN);
		ports[n++] = p;
	}
	EXPECT_EQ(p, -ENOSPC);
	EXPECT_EQ(ev_bind_virq(HV_VIRQ_TIMER), -ENOSPC);
	/* Every port but 0 and the device's (a disk: one queue). */
	EXPECT_EQ(n, HV_NR_EVTCHN - 1 - 1);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(ev_close((uint32_t)ports[i]), 0);
	p = ev_alloc_unbound(HV_DOMID_SELF);
	EXPECT_EQ(p, ports[0]);
	EXPECT_EQ(ev_close((uint32_t)p), 0);
	printf("ports: %d allocated, then -ENOSPC; all closed and allocated again\n", n);
}

static void store_rules(void)
{
	static char big[HV_STORE_VALUE_MAX + 2];
	char buf[64], k[HV_STORE_KEY_MAX + 8];
	uint32_t len;

	EXPECT_EQ(store_get(pv_key(me, "name"), buf, sizeof(buf)), 0);
	EXPECT(strcmp(buf, "lonely") == 0);
	EXPECT_EQ(store_put(pv_key(me, "name"), "impostor"), -EPERM);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, pv_key(me, "name"), NULL, NULL), -EPERM);
	EXPECT_EQ(store_put(pv_key(me, "a/b"), "1"), 0);
	EXPECT_EQ(store_put(pv_key(me, "a/c"), ""), 0);
	EXPECT_EQ(store_get(pv_key(me, "a/c"), buf, sizeof(buf)), 0);
	EXPECT_EQ(buf[0], '\0');
	EXPECT_EQ(store_put(pv_key(me, "ab"), "kept"), 0);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, pv_key(me, "a"), NULL, NULL), 0);
	EXPECT_EQ(store_get(pv_key(me, "a/b"), buf, sizeof(buf)), -ENOENT);
	EXPECT_EQ(store_get(pv_key(me, "ab"), buf, sizeof(buf)), 0);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, pv_key(me, "a"), NULL, NULL), -ENOENT);
	EXPECT_EQ(store_put("/local/domain/2/x", "1"), -EPERM);
	EXPECT_EQ(store_put("/x", "1"), -EPERM);
	EXPECT_EQ(store_put(pv_key(me, ""), "1"), -EINVAL);
	EXPECT_EQ(store_put("/local/domain/1", "1"), -EPERM);
	EXPECT_EQ(store_put("relative", "1"), -EINVAL);
	EXPECT_EQ(store_put("/local//domain", "1"), -EINVAL);
	EXPECT_EQ(store_put("/local/domain/1/sp ace", "1"), -EINVAL);
	memset(k, 'k', sizeof(k));
	k[0] = '/';
	k[sizeof(k) - 1] = '\0';
	EXPECT_EQ(store_put(k, "1"), -E2BIG);
	memset(big, 'v', sizeof(big) - 1);
	EXPECT_EQ(store_put(pv_key(me, "big"), big), -E2BIG);
	big[HV_STORE_VALUE_MAX] = '\0';
	EXPECT_EQ(store_put(pv_key(me, "big"), big), 0);
	/* A buffer too small: -E2BIG and the length needed, nothing copied. */
	len = 10;
	EXPECT_EQ(pv_store(HV_STORE_READ, pv_key(me, "big"), buf, &len), -E2BIG);
	EXPECT_EQ(len, HV_STORE_VALUE_MAX);
	/* Pointers outside guest memory are refused, not fatal. */
	EXPECT_EQ(pv_store(HV_STORE_READ, (const char *)(uintptr_t)0xbffffff0u, buf, &len), -EINVAL);
	len = 4;
	EXPECT_EQ(pv_store(HV_STORE_WRITE, pv_key(me, "p"), (void *)(uintptr_t)0x1000, &len), -EINVAL);
	len = 100;
	EXPECT_EQ(pv_store(HV_STORE_READ, pv_key(me, "ab"), (void *)(uintptr_t)0x2000, &len), -EINVAL);
	EXPECT_EQ(pv_store(99, pv_key(me, "ab"), buf, &len), -EINVAL);
	/* The quota of keys. */
	int i, rc = 0;
	for (i = 0; i < 1000 && rc == 0; i++) {
		char name[32];

		snprintf(name, sizeof(name), "q/%d", i);
		rc = store_put(pv_key(me, name), "x");
	}
	EXPECT_EQ(rc, -ENOSPC);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, pv_key(me, "q"), NULL, NULL), 0);
	EXPECT_EQ(store_put(pv_key(me, "q/again"), "x"), 0);
	printf("store: name read-only, subtree removal, other domains' keys, bad keys, sizes and "
	       "pointers refused as documented; -ENOSPC after %d more keys\n", i - 1);
}

static void alone(void)
{
	bad_ports();
	device_ports();
	ring_drops();
	exhaust_ports();
	store_rules();
	printf("SUCCESS\n");
}

static void owner(domid_t thief, domid_t third)
{
	int for_third, for_thief;

	/* Ports of ours whose numbers the others do not have. */
	for (int i = 0; i < 10; i++)
		EXPECT(ev_alloc_unbound(HV_DOMID_SELF) > 0);
	for_third = ev_alloc_unbound(third);
	for_thief = ev_alloc_unbound(thief);

	EXPECT(for_third > 0 && for_thief > 0);
	/* An allocation in another domain's name. */
	struct hv_evtchn_op op = { .cmd = HV_EVTCHNOP_ALLOC_UNBOUND, .dom = thief,
				   .remote_dom = me };
	EXPECT_EQ(pv_evtchn(&op), -EPERM);
	store_put_number(pv_key(me, "for-third"), for_third);
	store_put_number(pv_key(me, "for-thief"), for_thief);
	EXPECT_EQ(store_wait_number(pv_key(thief, "done")), 1);
	EXPECT_EQ(store_wait_number(pv_key(third, "done")), 1);
	printf("SUCCESS\n");
}

static void thief(domid_t owner_dom, domid_t third)
{
	uint32_t for_third = (uint32_t)store_wait_number(pv_key(owner_dom, "for-third"));
	uint32_t for_thief = (uint32_t)store_wait_number(pv_key(owner_dom, "for-thief"));
	struct hv_evtchn_op st;
	int p;

	/* Offered to dom3, not to us (Xen says -EINVAL; hv says who it is for). */
	EXPECT_EQ(ev_bind_interdomain(owner_dom, for_third), -EPERM);
	store_put_number(pv_key(me, "tried"), 1);
	p = ev_bind_interdomain(owner_dom, for_thief);
	EXPECT(p > 0);
	EXPECT_EQ(ev_bind_interdomain(owner_dom, for_thief), -EBUSY);
	/* A port number that is the owner's, not ours. */
	EXPECT_EQ(ev_send(for_third), -EINVAL);
	EXPECT_EQ(ev_status(owner_dom, for_thief, &st), -EPERM);
	struct hv_evtchn_op op = { .cmd = HV_EVTCHNOP_ALLOC_UNBOUND, .dom = owner_dom,
				   .remote_dom = third };
	EXPECT_EQ(pv_evtchn(&op), -EPERM);
	EXPECT_EQ(store_put(pv_key(owner_dom, "for-third"), "1"), -EPERM);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, pv_key(owner_dom, "for-third"), NULL, NULL), -EPERM);
	/* Wait until dom3 bound its port: then it is busy for us too. */
	EXPECT_EQ(store_wait_number(pv_key(third, "done")), 1);
	EXPECT_EQ(ev_bind_interdomain(owner_dom, for_third), -EBUSY);
	EXPECT_EQ(ev_send((uint32_t)p), 0);
	store_put_number(pv_key(me, "done"), 1);
	printf("thief: foreign ports, binds, status, allocations and keys refused; SUCCESS\n");
}

static void third(domid_t owner_dom, domid_t thief_dom)
{
	uint32_t for_third = (uint32_t)store_wait_number(pv_key(owner_dom, "for-third"));
	int p;

	/* The thief tries our port first, while it is still offered to us. */
	EXPECT_EQ(store_wait_number(pv_key(thief_dom, "tried")), 1);
	p = ev_bind_interdomain(owner_dom, for_third);
	EXPECT(p > 0);
	EXPECT_EQ(ev_send((uint32_t)p), 0);
	store_put_number(pv_key(me, "done"), 1);
	/* Stay until the thief has seen our port bound: ending would unbind it again. */
	EXPECT_EQ(store_wait_number(pv_key(thief_dom, "done")), 1);
	printf("third: bound the port offered to us; SUCCESS\n");
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "";
	domid_t a = argc > 2 ? (domid_t)atoi(argv[2]) : 0, b = argc > 3 ? (domid_t)atoi(argv[3]) : 0;

	me = pv_domid();
	if (strcmp(role, "alone") == 0)
		alone();
	else if (strcmp(role, "owner") == 0)
		owner(a, b);
	else if (strcmp(role, "thief") == 0)
		thief(a, b);
	else if (strcmp(role, "third") == 0)
		third(a, b);
	else if (strcmp(role, "ring-lie") == 0) {
		struct hv_send_ring *r = pv_ring();

		__atomic_store_n(&r->prod, r->prod + 1000, __ATOMIC_RELEASE);
		*(volatile uint32_t *)(uintptr_t)pv_boot_info()->send_doorbell = 1;
		pv_sleep(1000000000);
		printf("FAILURE: hv took a prod 1000 entries ahead\n");
		return 1;
	}
	else
		return printf("usage: pv_hostile.img alone | ring-lie | owner|thief|third DOM DOM\n"), 2;
	return 0;
}
