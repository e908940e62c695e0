/* SPDX-License-Identifier: MIT */
/*
 * Unit test of hv's grant-entry rules (Xen's v1): who may pin an entry,
 * read-only entries, the in-use flags that pins set and the last unpin
 * clears, the granter's end of access losing to a pin and winning after,
 * an entry that keeps changing, and which frames a grant may name.
 */
#include <pthread.h>

#include "check.h"
#include "grant_entry.h"

static struct hv_grant_entry entry(uint16_t flags, domid_t domid, uint32_t frame)
{
	return (struct hv_grant_entry){ .flags = flags, .domid = domid, .frame = frame };
}

/* Xen's end of access by the granter: clear the flags unless hv marked the entry in use. */
static int end_access(struct hv_grant_entry *e)
{
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if (flags & (HV_GTF_READING | HV_GTF_WRITING))
			return -1;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, 0, __ATOMIC_SEQ_CST,
					      __ATOMIC_ACQUIRE));
	return 0;
}

static void test_who_may_pin(void)
{
	struct grant_pins pins = { 0 };
	struct hv_grant_entry e;

	e = entry(HV_GTF_PERMIT_ACCESS, 2, 300);
	CHECK_EQ(grant_entry_pin(&e, &pins, 3, true), HV_GNTST_GENERAL_ERROR); /* not ours */
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS);
	CHECK_EQ(pins.readers + pins.writers, 0);
	e = entry(HV_GTF_INVALID, 2, 300);
	CHECK_EQ(grant_entry_pin(&e, &pins, 2, true), HV_GNTST_GENERAL_ERROR);
	e = entry(2 /* GTF_accept_transfer */, 2, 300);
	CHECK_EQ(grant_entry_pin(&e, &pins, 2, true), HV_GNTST_GENERAL_ERROR);
	e = entry(3, 2, 300);
	CHECK_EQ(grant_entry_pin(&e, &pins, 2, true), HV_GNTST_GENERAL_ERROR);
	/* Read-only: a read-only pin only. */
	e = entry(HV_GTF_PERMIT_ACCESS | HV_GTF_READONLY, 2, 300);
	CHECK_EQ(grant_entry_pin(&e, &pins, 2, false), HV_GNTST_GENERAL_ERROR);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READONLY);
	CHECK_EQ(grant_entry_pin(&e, &pins, 2, true), HV_GNTST_OKAY);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READONLY | HV_GTF_READING);
	CHECK_EQ(e.domid, 2);
	CHECK_EQ(e.frame, 300);
}

static void test_flags_follow_pins(void)
{
	struct grant_pins pins = { 0 };
	struct hv_grant_entry e = entry(HV_GTF_PERMIT_ACCESS, 5, 256);

	CHECK_EQ(grant_entry_pin(&e, &pins, 5, false), HV_GNTST_OKAY);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READING | HV_GTF_WRITING);
	CHECK_EQ(grant_entry_pin(&e, &pins, 5, true), HV_GNTST_OKAY);
	CHECK_EQ(grant_entry_pin(&e, &pins, 5, false), HV_GNTST_OKAY);
	CHECK_EQ(pins.writers, 2);
	CHECK_EQ(pins.readers, 1);
	CHECK_EQ(end_access(&e), -1);
	grant_entry_unpin(&e, &pins, false);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READING | HV_GTF_WRITING);
	grant_entry_unpin(&e, &pins, false);
	/* The last writer gone: reading stays while a reader holds it. */
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READING);
	CHECK_EQ(end_access(&e), -1);
	grant_entry_unpin(&e, &pins, true);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS);
	CHECK_EQ(end_access(&e), 0);
	CHECK_EQ(e.flags, 0);
	/* Ended: no more pins. */
	CHECK_EQ(grant_entry_pin(&e, &pins, 5, true), HV_GNTST_GENERAL_ERROR);
	/* An unpin with nothing pinned changes no count below zero. */
	grant_entry_unpin(&e, &pins, true);
	CHECK_EQ(pins.readers, 0);
}

/* Unpinning clears only hv's bits: a readonly flag the granter set meanwhile stays. */
static void test_unpin_keeps_granter_bits(void)
{
	struct grant_pins pins = { 0 };
	struct hv_grant_entry e = entry(HV_GTF_PERMIT_ACCESS, 5, 256);

	CHECK_EQ(grant_entry_pin(&e, &pins, 5, true), HV_GNTST_OKAY);
	__atomic_fetch_or(&e.flags, HV_GTF_READONLY, __ATOMIC_SEQ_CST);
	CHECK_EQ(grant_entry_pin(&e, &pins, 5, false), HV_GNTST_GENERAL_ERROR);
	grant_entry_unpin(&e, &pins, true);
	CHECK_EQ(e.flags, HV_GTF_PERMIT_ACCESS | HV_GTF_READONLY);
	CHECK_EQ(e.domid, 5);
}

/*
 * A granter ending access against hv pinning, on two threads, many times:
 * each round exactly one wins, and never both: if the pin won, the end
 * failed and the flags say in use; if the end won, the pin failed.
 */
struct race {
	struct hv_grant_entry e;
	int ready, go, pin_rc, end_rc;
};

static void *granter_thread(void *arg)
{
	struct race *r = arg;

	__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		;
	r->end_rc = end_access(&r->e);
	return NULL;
}

static void test_race_with_end_access(void)
{
	unsigned pins_won = 0, ends_won = 0;

	for (int i = 0; i < 2000; i++) {
		struct race r = { .e = entry(HV_GTF_PERMIT_ACCESS, 7, 400) };
		struct grant_pins pins = { 0 };
		pthread_t t;

		pthread_create(&t, NULL, granter_thread, &r);
		while (!__atomic_load_n(&r.ready, __ATOMIC_ACQUIRE))
			;
		__atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
		r.pin_rc = grant_entry_pin(&r.e, &pins, 7, (i & 1) != 0);
		pthread_join(t, NULL);
		if (r.pin_rc == HV_GNTST_OKAY) {
			pins_won++;
			CHECK_EQ(r.end_rc, -1);
			CHECK(r.e.flags & HV_GTF_READING);
		} else {
			ends_won++;
			CHECK_EQ(r.end_rc, 0);
			CHECK_EQ(r.e.flags, 0);
		}
	}
	CHECK_EQ(pins_won + ends_won, 2000);
	printf("race: %u pins won, %u ends of access won\n", pins_won, ends_won);
}

/* A granter flipping its entry all the time makes a pin give up, not spin. */
static void *flipper(void *arg)
{
	struct race *r = arg;

	/* The domid flips between 7 and 6: the pin's compare-and-swap keeps losing. */
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		__atomic_fetch_xor((uint32_t *)(void *)&r->e, 1u << 16, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_unstable_entry(void)
{
	struct race r = { .e = entry(HV_GTF_PERMIT_ACCESS, 7, 400) };
	struct grant_pins pins = { 0 };
	pthread_t t;
	int ok = 0, refused = 0;

	pthread_create(&t, NULL, flipper, &r);
	for (int i = 0; i < 20000; i++) {
		int rc = grant_entry_pin(&r.e, &pins, 7, true);

		if (rc == HV_GNTST_OKAY) {
			ok++;
			grant_entry_unpin(&r.e, &pins, true);
		} else {
			refused++;
			CHECK_EQ(rc, HV_GNTST_GENERAL_ERROR);
		}
	}
	__atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK_EQ(ok + refused, 20000);
	CHECK_EQ(pins.readers, 0);
}

static void test_frames(void)
{
	uint64_t mem = 32ull << 20;

	CHECK(!grant_frame_ok(0, mem));
	CHECK(!grant_frame_ok(0xff, mem)); /* the shared-info page: hv's area */
	CHECK(!grant_frame_ok(0xfb, mem));
	CHECK(grant_frame_ok(0x100, mem));
	CHECK(grant_frame_ok((uint32_t)(mem / 4096) - 1, mem));
	CHECK(!grant_frame_ok((uint32_t)(mem / 4096), mem));
	CHECK(!grant_frame_ok(UINT32_MAX, mem));
}

int main(void)
{
	test_who_may_pin();
	test_flags_follow_pins();
	test_unpin_keeps_granter_bits();
	test_race_with_end_access();
	test_unstable_entry();
	test_frames();
	return check_finish("test_grant_entry");
}
