/* SPDX-License-Identifier: MIT */
/*
 * Unit test of libos's side of a grant entry (libos/pv/gnttab_entry.c)
 * against hv's side (hv-iface/hv/grant_entry.c): the two halves of Xen's
 * v1 rule, each by its real code. Alone: fill and end; with hv's pins: an
 * entry held for a map cannot end, a read-only grant takes no writable pin,
 * an ended one no pin at all; and racing on two threads, libos ending and
 * granting again while hv pins and unpins, where a page must never be taken
 * back while a pin holds it, nor pinned once taken back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gnttab_entry.h"
#include "grant_entry.h"

#define GRANTEE	    2
#define RACE_MIN    20000 /* ends and pins each side must win, at least */
#define RACE_MAX_NS (5ull * 1000000000)

static void test_alone(void)
{
	struct hv_grant_entry e = {0};

	gnttab_entry_fill(&e, GRANTEE, 0x1234, false);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS);
	CHECK_EQ(e.domid, GRANTEE);
	CHECK_EQ(e.frame, 0x1234);
	CHECK_EQ(gnttab_entry_end(&e), 0);
	CHECK_EQ(e.flags, HV_GTF_INVALID);
	gnttab_entry_fill(&e, GRANTEE, 0x99, true);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READONLY);
	CHECK_EQ(gnttab_entry_end(&e), 0);
	CHECK_EQ(e.flags, HV_GTF_INVALID);
}

static void test_with_pins(void)
{
	struct hv_grant_entry e = {0};
	struct grant_pins pins = {0};

	/* A writable grant, mapped writable: it cannot end until the map goes. */
	gnttab_entry_fill(&e, GRANTEE, 0x1000, false);
	CHECK_EQ(grant_entry_pin(&e, &pins, GRANTEE + 1, false), HV_GNTST_GENERAL_ERROR);
	CHECK_EQ(grant_entry_pin(&e, &pins, GRANTEE, false), HV_GNTST_OKAY);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READING | HV_GTF_WRITING);
	CHECK_EQ(gnttab_entry_end(&e), -EBUSY);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READING | HV_GTF_WRITING);
	/* A second, read-only map; the first goes: still reading, still busy. */
	CHECK_EQ(grant_entry_pin(&e, &pins, GRANTEE, true), HV_GNTST_OKAY);
	grant_entry_unpin(&e, &pins, false);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READING);
	CHECK_EQ(gnttab_entry_end(&e), -EBUSY);
	grant_entry_unpin(&e, &pins, true);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS);
	CHECK_EQ(gnttab_entry_end(&e), 0);
	/* Ended: no pin of any kind. */
	CHECK_EQ(grant_entry_pin(&e, &pins, GRANTEE, true), HV_GNTST_GENERAL_ERROR);

	/* A read-only grant takes only read-only pins. */
	gnttab_entry_fill(&e, GRANTEE, 0x2000, true);
	CHECK_EQ(grant_entry_pin(&e, &pins, GRANTEE, false), HV_GNTST_GENERAL_ERROR);
	CHECK_EQ(grant_entry_pin(&e, &pins, GRANTEE, true), HV_GNTST_OKAY);
	CHECK_EQ(gnttab_entry_end(&e), -EBUSY);
	grant_entry_unpin(&e, &pins, true);
	CHECK_EQ(gnttab_entry_end(&e), 0);
}

/*
 * The race. hv's thread pins and unpins as fast as it can, counting the
 * pins it holds; libos's thread ends access and grants again. Whenever
 * libos's end succeeds, hv must hold no pin; whenever hv's pin succeeds,
 * the entry must be granted (libos has not taken it back).
 */
static struct hv_grant_entry race_entry;
static struct grant_pins race_pins;
static int held, granted_now, stop;
static unsigned long pins_ok, ends_ok, ends_busy, bad_pins, bad_ends;

static void *hv_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		bool ro = __atomic_load_n(&pins_ok, __ATOMIC_RELAXED) & 1;

		if (grant_entry_pin(&race_entry, &race_pins, GRANTEE, ro) != HV_GNTST_OKAY)
			continue;
		__atomic_fetch_add(&pins_ok, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&held, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&granted_now, __ATOMIC_SEQ_CST))
			bad_pins++;
		__atomic_store_n(&held, 0, __ATOMIC_SEQ_CST);
		grant_entry_unpin(&race_entry, &race_pins, ro);
	}
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Both sides have won often enough for the race to prove something, or time is up. */
static bool race_done(uint64_t deadline)
{
	return (ends_ok >= RACE_MIN && __atomic_load_n(&pins_ok, __ATOMIC_RELAXED) >= RACE_MIN) ||
	       now_ns() > deadline;
}

static void test_race(void)
{
	uint64_t deadline = now_ns() + RACE_MAX_NS;
	pthread_t t;

	gnttab_entry_fill(&race_entry, GRANTEE, 0x3000, false);
	__atomic_store_n(&granted_now, 1, __ATOMIC_SEQ_CST);
	if (!CHECK_EQ(pthread_create(&t, NULL, hv_thread, NULL), 0))
		return;
	for (unsigned long i = 0; !race_done(deadline); i++) {
		if (gnttab_entry_end(&race_entry) != 0) {
			ends_busy++;
			continue;
		}
		ends_ok++;
		/* Taken back: from here no pin may hold or succeed until the next grant. */
		__atomic_store_n(&granted_now, 0, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&held, __ATOMIC_SEQ_CST))
			bad_ends++;
		__atomic_store_n(&granted_now, 1, __ATOMIC_SEQ_CST);
		gnttab_entry_fill(&race_entry, GRANTEE, 0x3000, i & 1);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK_EQ(bad_ends, 0);
	CHECK_EQ(bad_pins, 0);
	CHECK_EQ(race_pins.readers + race_pins.writers, 0);
	CHECK(ends_ok >= RACE_MIN && pins_ok >= RACE_MIN);
	printf("race: %lu ends, %lu refused as busy; %lu pins\n", ends_ok, ends_busy, pins_ok);
}

int main(void)
{
	test_alone();
	test_with_pins();
	test_race();
	return check_finish("grant entry, libos against hv");
}
