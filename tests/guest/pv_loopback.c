/* SPDX-License-Identifier: MIT */
/*
 * libos's paravirtual calls within one domain, through libos's own API only,
 * so the same image checks them on hv and on Xen (tests/integration/xen.sh
 * boots it as Xen's dom0, PV and PVH):
 *   - console and time: a sleep lasts as long as asked, the wall clock is
 *     past 2020;
 *   - event channels: two local ports joined (alloc_unbound for ourselves,
 *     bind_interdomain to it), an event each way, STATUS of each end, the
 *     other end unbound after a close; the timer VIRQ goes pending when a
 *     sleep's deadline passes;
 *   - grant tables: a page granted to ourselves, mapped (the same memory
 *     both ways), copied from and to, access not ended while mapped, ended
 *     after the unmap, then copies and maps refused; a read-only grant maps
 *     only read-only. With the argument "no-self-map" (Xen PVH, where a map
 *     of one's own grant would move the page), the map must be refused and
 *     the rest holds.
 * Each check prints "ok - ..." or "FAIL - ..."; SUCCESS and status 0 when
 * all pass, else status 1.
 * expect-status: 0
 * expect-stdout: ok - a sleep's deadline makes the timer VIRQ pending
 * expect-stdout: ok - writes show through both ways
 * expect-stdout: SUCCESS
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtchn.h"
#include "gnttab.h"
#include "libos.h"

#define PAGE 4096
#define MS 1000000ull
#define WAIT_NS (5000 * MS)
#define YEAR_2020_NS (1577836800ull * 1000000000ull)

static int failures;

static void check(int ok, const char *what, long got)
{
	if (ok)
		printf("ok - %s\n", what);
	else {
		printf("FAIL - %s (got %ld)\n", what, got);
		failures++;
	}
}

static void time_checks(void)
{
	uint64_t t0 = clock_monotonic_ns(), slept;

	sleep_until(t0 + 50 * MS);
	slept = clock_monotonic_ns() - t0;
	check(slept >= 50 * MS && slept < 2000 * MS, "a 50 ms sleep lasts 50 ms to 2 s",
	      (long)(slept / 1000));
	check(clock_realtime_ns() > YEAR_2020_NS, "the wall clock is past 2020",
	      (long)(clock_realtime_ns() / 1000000000ull));
}

struct counter {
	struct wait_queue wq;
	unsigned n;
};

static void count_event(evtchn_port_t port, void *arg)
{
	struct counter *c = arg;

	(void)port;
	c->n++;
	wait_queue_wake_all(&c->wq);
}

/* Wait until c has counted more than before, or WAIT_NS. */
static int counted(struct counter *c, unsigned before)
{
	uint64_t deadline = clock_monotonic_ns() + WAIT_NS;

	while (c->n <= before)
		if (wait_queue_wait(&c->wq, deadline) == -ETIMEDOUT)
			return 0;
	return 1;
}

static void event_checks(void)
{
	static struct counter ca = { WAIT_QUEUE_INIT, 0 }, cb = { WAIT_QUEUE_INIT, 0 };
	static struct counter ct = { WAIT_QUEUE_INIT, 0 };
	domid_t me = libos_domid();
	struct evtchn_status st;
	int a, b, t, rc;

	a = evtchn_alloc_unbound(me);
	check(a > 0, "alloc_unbound for ourselves gives a port", a);
	b = evtchn_bind_interdomain(me, (evtchn_port_t)a);
	check(b > 0 && b != a, "bind_interdomain to it gives another port", b);
	if (a <= 0 || b <= 0)
		return;
	rc = evtchn_status(HV_DOMID_SELF, (evtchn_port_t)a, &st);
	check(rc == 0 && st.state == HV_EVTCHNSTAT_INTERDOMAIN && st.remote_port == (unsigned)b,
	      "STATUS: the first end is joined to the second", rc ? rc : (long)st.remote_port);
	check(evtchn_bind_handler((evtchn_port_t)a, count_event, &ca) == 0 &&
		      evtchn_bind_handler((evtchn_port_t)b, count_event, &cb) == 0,
	      "handlers bound to both ends", 0);
	rc = evtchn_send((evtchn_port_t)b);
	check(rc == 0 && counted(&ca, 0), "a send on the second end runs the first's handler", rc);
	rc = evtchn_send((evtchn_port_t)a);
	check(rc == 0 && counted(&cb, 0), "a send on the first end runs the second's handler", rc);
	evtchn_unbind_handler((evtchn_port_t)b);
	rc = evtchn_close((evtchn_port_t)b);
	check(rc == 0, "the second end closes", rc);
	rc = evtchn_status(HV_DOMID_SELF, (evtchn_port_t)a, &st);
	check(rc == 0 && st.state == HV_EVTCHNSTAT_UNBOUND,
	      "STATUS: after the close the first end is unbound", rc ? rc : (long)st.state);
	evtchn_unbind_handler((evtchn_port_t)a);
	check(evtchn_close((evtchn_port_t)a) == 0, "the first end closes", 0);

	t = evtchn_bind_virq(HV_VIRQ_TIMER);
	check(t > 0, "the timer VIRQ binds", t);
	if (t <= 0)
		return;
	check(evtchn_bind_handler((evtchn_port_t)t, count_event, &ct) == 0, "its handler binds", 0);
	sleep_until(clock_monotonic_ns() + 20 * MS);
	check(ct.n > 0, "a sleep's deadline makes the timer VIRQ pending", (long)ct.n);
	evtchn_unbind_handler((evtchn_port_t)t);
	check(evtchn_close((evtchn_port_t)t) == 0, "the timer VIRQ's port closes", 0);
}

static void fill(unsigned char *p, unsigned seed)
{
	for (unsigned i = 0; i < PAGE; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

/* Map our own grant: the same memory both ways, and its access cannot end while mapped. */
static void self_map_checks(unsigned char *page, int ref)
{
	unsigned char *map = NULL;
	int h = gnttab_map(libos_domid(), (grant_ref_t)ref, 0, (void **)&map), rc;

	check(h >= 0 && map && map != page, "our grant maps at another address", h);
	if (h < 0)
		return;
	check(memcmp(map, page, PAGE) == 0, "the map reads the page", 0);
	map[10] = 0xab;
	page[20] = 0xcd;
	check(page[10] == 0xab && map[20] == 0xcd, "writes show through both ways", 0);
	check(gnttab_end_access((grant_ref_t)ref) == -EBUSY, "access cannot end while mapped", 0);
	rc = gnttab_unmap(h);
	check(rc == 0, "the map is undone", rc);
}

static void read_only_checks(unsigned char *ro, int self_map)
{
	unsigned char *map = NULL;
	int ref = gnttab_grant_access(libos_domid(), ro, 1), h;

	check(ref > 0, "a read-only grant", ref);
	if (ref <= 0)
		return;
	h = gnttab_map(libos_domid(), (grant_ref_t)ref, 0, (void **)&map);
	check(h < 0, "a read-only grant does not map writable", h);
	if (h >= 0)
		gnttab_unmap(h);
	if (self_map) {
		h = gnttab_map(libos_domid(), (grant_ref_t)ref, 1, (void **)&map);
		check(h >= 0 && memcmp(map, ro, PAGE) == 0, "it maps read-only and reads the page", h);
		if (h >= 0)
			check(gnttab_unmap(h) == 0, "that map is undone", 0);
	}
	check(gnttab_end_access((grant_ref_t)ref) == 0, "its access ends", 0);
}

static void grant_checks(int self_map)
{
	domid_t me = libos_domid();
	unsigned char *page = memalign(PAGE, PAGE), *ro = memalign(PAGE, PAGE), buf[200];
	int ref, rc;

	if (!page || !ro) {
		check(0, "two pages to grant", 0);
		return;
	}
	fill(page, 1);
	fill(ro, 2);
	ref = gnttab_grant_access(me, page, 0);
	check(ref > 0, "a page granted to ourselves", ref);
	if (ref <= 0)
		return;
	if (self_map)
		self_map_checks(page, ref);
	else {
		void *map;

		rc = gnttab_map(me, (grant_ref_t)ref, 0, &map);
		check(rc == -EACCES, "a map of our own grant is refused (Xen PVH)", rc);
	}
	rc = gnttab_copy_from(me, (grant_ref_t)ref, 100, buf, sizeof(buf));
	check(rc == 0 && memcmp(buf, page + 100, sizeof(buf)) == 0, "a copy from the grant", rc);
	memset(buf, 0x5a, sizeof(buf));
	rc = gnttab_copy_to(me, (grant_ref_t)ref, PAGE - 64, buf, 64);
	check(rc == 0 && page[PAGE - 64] == 0x5a && page[PAGE - 1] == 0x5a,
	      "a copy to the grant's last 64 bytes", rc);
	rc = gnttab_end_access((grant_ref_t)ref);
	check(rc == 0, "access ends (the grant is revoked)", rc);
	rc = gnttab_copy_from(me, (grant_ref_t)ref, 0, buf, 8);
	check(rc < 0, "a copy after the revoke is refused", rc);
	if (self_map) {
		void *map;

		rc = gnttab_map(me, (grant_ref_t)ref, 0, &map);
		check(rc < 0, "a map after the revoke is refused", rc);
	}
	read_only_checks(ro, self_map);
}

/* "no-self-map": a map of our own grant must be refused (Xen PVH: platforms/xen/xen_gnttab.c). */
int main(int argc, char **argv)
{
	int self_map = !(argc > 1 && strcmp(argv[1], "no-self-map") == 0);

	printf("pv_loopback: domain %u%s\n", libos_domid(), self_map ? "" : ", no self-map");
	time_checks();
	event_checks();
	grant_checks(self_map);
	if (failures) {
		printf("FAILURE: %d checks failed\n", failures);
		return 1;
	}
	printf("SUCCESS\n");
	return 0;
}
