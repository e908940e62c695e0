/* SPDX-License-Identifier: MIT */
/*
 * Grant tables between two domains, by hand (tests/integration/domains.sh):
 *
 *   pv_grants.img granter PEER   sets up a table, grants pages to PEER (and one to 3)
 *   pv_grants.img grantee PEER   maps them, writes, copies, and tries what it must not
 *
 * Checked: a writable map is the granter's memory both ways; a read-only
 * map reads it; the in-use flags make the granter's end of access fail
 * while mapped and succeed after; every refusal's GNTST code (bad table,
 * not granted to us, beyond the table, hv's frames, read-only as writable,
 * bad handle, bad copies); a race of maps against ends of access that
 * only one side wins each time; the window running out
 * (GNTST_no_device_space); the cost of a map+unmap pair.
 *
 * For the domain tests: "write-ro PEER" maps a read-only grant and writes
 * to it (hv ends it); "granter-simple PEER" grants and waits until its end
 * of access succeeds (the grantee's maps undone when it ends); "granter-exit
 * PEER" grants, then exits while mapped; "grantee-outlive PEER" keeps using
 * that page after its granter ended. "granter-dma PEER" and "grantee-dma
 * PEER" (with a disk whose sector 0 begins with DMA_TEXT): the grantee's
 * disk reads into a writable map and writes from a read-only one, and a read
 * into the read-only map is refused by the device.
 */
#include "blkdev.h"
#include "pv_test.h"

#define DMA_TEXT "sector 0 of the grantee's disk"

#define NR_ENTRIES 64
#define RACE_ROUNDS 1000 /* the grantee's maps */
#define COST_PAIRS 200
#define WINDOW_PAGES 16384 /* hv's 64 MiB grant window */

enum { REF_RW = 1, REF_RO, REF_OTHER, REF_HV_FRAME, REF_BEYOND, REF_COPY, REF_COPY_RO, REF_RACE,
       REF_KEEP };

static domid_t me, peer;
static struct hv_grant_entry table[512] __attribute__((aligned(4096)));
static uint8_t pages[8][4096] __attribute__((aligned(4096)));
static uint32_t handles[WINDOW_PAGES + 1];

static uint16_t flags(uint32_t ref)
{
	return __atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE);
}

static void setup_refusals(void)
{
	EXPECT_EQ(gnt_setup((uint8_t *)table + 8, NR_ENTRIES), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(gnt_setup(table, 0), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_setup(table, HV_MAX_GRANT_ENTRIES + 1), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_setup((void *)(uintptr_t)0xfb000, 8), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(gnt_setup((void *)(uintptr_t)0xbf000000u, 8), HV_GNTST_BAD_VIRT_ADDR);
}

static void query_size(void)
{
	struct hv_gnttab_op op = { .cmd = HV_GNTTABOP_QUERY_SIZE, .dom = HV_DOMID_SELF };

	EXPECT_EQ(pv_gnttab(&op), HV_GNTST_OKAY);
	EXPECT_EQ(op.nr_entries, NR_ENTRIES);
	EXPECT_EQ(op.max_entries, HV_MAX_GRANT_ENTRIES);
	op = (struct hv_gnttab_op){ .cmd = HV_GNTTABOP_QUERY_SIZE, .dom = peer };
	EXPECT_EQ(pv_gnttab(&op), HV_GNTST_PERMISSION_DENIED);
	op = (struct hv_gnttab_op){ .cmd = HV_GNTTABOP_QUERY_SIZE, .dom = 9 };
	EXPECT_EQ(pv_gnttab(&op), HV_GNTST_BAD_DOMAIN);
}

/*
 * The granter's side of the race: grant, wait a moment, end access (which
 * fails while the peer has it mapped). After each end, scribble the page:
 * a grantee that still had it mapped would see the scribble.
 */
static void spin_us(unsigned us)
{
	uint64_t until = clock_monotonic_ns() + us * 1000ull;

	while (clock_monotonic_ns() < until)
		;
}

static void race_granter(void)
{
	unsigned ended_at_once = 0, busy = 0;
	char buf[8];

	/* Until the grantee is done: granted for 0-400 us, then not granted for 100 us. */
	for (int i = 0; store_get(pv_key(peer, "race-done"), buf, sizeof(buf)) != 0; i++) {
		memcpy(pages[6], "race page", 10);
		grant(&table[REF_RACE], peer, pages[6], 0);
		spin_us(100 * (unsigned)(i % 5));
		if (end_access(&table[REF_RACE]) == 0) {
			ended_at_once++;
		} else {
			busy++;
			while (end_access(&table[REF_RACE]) != 0)
				;
		}
		memcpy(pages[6], "REVOKED!!", 10);
		spin_us(100);
	}
	printf("race: %u ends of access won at once, %u waited for the peer's unmap\n",
	       ended_at_once, busy);
}

static void granter(void)
{
	setup_refusals();
	EXPECT_EQ(gnt_setup(table, NR_ENTRIES), HV_GNTST_OKAY);
	query_size();
	memcpy(pages[1], "read-only page", 15);
	grant(&table[REF_RW], peer, pages[0], 0);
	grant(&table[REF_RO], peer, pages[1], 1);
	grant(&table[REF_OTHER], 3, pages[2], 0);
	grant(&table[REF_HV_FRAME], peer, (void *)(uintptr_t)0xfb000, 1);
	grant(&table[REF_BEYOND], peer, (void *)(uintptr_t)0xbf000000u, 1);
	grant(&table[REF_COPY], peer, pages[3], 0);
	grant(&table[REF_COPY_RO], peer, pages[4], 1);
	grant(&table[REF_KEEP], peer, pages[5], 0);
	pv_phase_set(me, 1);

	/* The peer mapped ref 1 writable (twice) and ref 2 read-only, and wrote through the first. */
	pv_phase_wait(peer, 1);
	EXPECT(strcmp((char *)pages[0], "written by the grantee") == 0);
	EXPECT_EQ(flags(REF_RW), HV_GTF_PERMIT_ACCESS | HV_GTF_READING | HV_GTF_WRITING);
	EXPECT_EQ(flags(REF_RO), HV_GTF_PERMIT_ACCESS | HV_GTF_READONLY | HV_GTF_READING);
	EXPECT_EQ(end_access(&table[REF_RW]), -EBUSY);
	EXPECT_EQ(end_access(&table[REF_RO]), -EBUSY);
	strcpy((char *)pages[0] + 2048, "reply from the granter");
	printf("granter: the grantee's write is in our page; ending access while mapped fails\n");
	pv_phase_set(me, 2);

	/* The peer copied and unmapped everything. */
	pv_phase_wait(peer, 2);
	EXPECT(memcmp(pages[3] + 100, "copied!", 8) == 0);
	EXPECT_EQ(flags(REF_RW), HV_GTF_PERMIT_ACCESS);
	EXPECT_EQ(flags(REF_RO), HV_GTF_PERMIT_ACCESS | HV_GTF_READONLY);
	EXPECT_EQ(end_access(&table[REF_RW]), 0);
	EXPECT_EQ(end_access(&table[REF_RO]), 0);
	printf("granter: unmapped: the in-use flags are clear and access ends\n");
	pv_phase_set(me, 3);

	race_granter();
	pv_phase_set(me, 4);
	pv_phase_wait(peer, 4);
	printf("SUCCESS\n");
}

static void map_refusals(void)
{
	volatile uint8_t *a;
	uint32_t h;

	EXPECT_EQ(gnt_map(peer, REF_RO, 0, &a, &h), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_map(peer, REF_OTHER, 0, &a, &h), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_map(peer, REF_OTHER, 1, &a, &h), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_map(peer, NR_ENTRIES, 1, &a, &h), HV_GNTST_BAD_GNTREF);
	EXPECT_EQ(gnt_map(peer, 0xffffffffu, 1, &a, &h), HV_GNTST_BAD_GNTREF);
	EXPECT_EQ(gnt_map(peer, 0, 1, &a, &h), HV_GNTST_GENERAL_ERROR); /* an empty entry */
	EXPECT_EQ(gnt_map(peer, REF_HV_FRAME, 1, &a, &h), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_map(peer, REF_BEYOND, 1, &a, &h), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_map(9, REF_RW, 0, &a, &h), HV_GNTST_BAD_DOMAIN);
	EXPECT_EQ(gnt_map(HV_DOMID_SELF, REF_RW, 0, &a, &h), HV_GNTST_BAD_DOMAIN);
	EXPECT_EQ(gnt_map(me, 1, 0, &a, &h), HV_GNTST_BAD_GNTREF); /* we have no table */
	struct hv_gnttab_op op = { .cmd = HV_GNTTABOP_MAP_GRANT_REF, .dom = peer, .ref = REF_RW,
				   .flags = 0x80 };
	EXPECT_EQ(pv_gnttab(&op), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_unmap(99999), HV_GNTST_BAD_HANDLE);
	EXPECT_EQ(gnt_unmap(12), HV_GNTST_BAD_HANDLE);
	op = (struct hv_gnttab_op){ .cmd = 77 };
	EXPECT_EQ(pv_gnttab(&op), HV_GNTST_GENERAL_ERROR);
}

static void copies(void)
{
	static char buf[4096] __attribute__((aligned(4096)));

	strcpy(buf, "copied!");
	EXPECT_EQ(gnt_copy(local(buf), gref(peer, REF_COPY, 100), HV_GNTCOPY_DEST_GREF, 8),
		  HV_GNTST_OKAY);
	memset(buf, 0, 8);
	EXPECT_EQ(gnt_copy(gref(peer, REF_COPY, 100), local(buf + 16), HV_GNTCOPY_SOURCE_GREF, 8),
		  HV_GNTST_OKAY);
	EXPECT(strcmp(buf + 16, "copied!") == 0);
	/* Grant to grant, both ends the peer's. */
	EXPECT_EQ(gnt_copy(gref(peer, REF_COPY, 100), gref(peer, REF_COPY, 200),
			   HV_GNTCOPY_SOURCE_GREF | HV_GNTCOPY_DEST_GREF, 8), HV_GNTST_OKAY);
	EXPECT_EQ(gnt_copy(local(buf), gref(peer, REF_COPY_RO, 0), HV_GNTCOPY_DEST_GREF, 8),
		  HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_copy(gref(peer, REF_COPY_RO, 0), local(buf), HV_GNTCOPY_SOURCE_GREF, 8),
		  HV_GNTST_OKAY);
	EXPECT_EQ(gnt_copy(local(buf), gref(peer, REF_COPY, 4090), HV_GNTCOPY_DEST_GREF, 10),
		  HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(local(buf), gref(peer, REF_COPY, 5000), HV_GNTCOPY_DEST_GREF, 1),
		  HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(local(buf + 4090), gref(peer, REF_COPY, 0), HV_GNTCOPY_DEST_GREF, 10),
		  HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(gref(peer, REF_OTHER, 0), local(buf), HV_GNTCOPY_SOURCE_GREF, 8),
		  HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_copy(gref(peer, NR_ENTRIES, 0), local(buf), HV_GNTCOPY_SOURCE_GREF, 8),
		  HV_GNTST_BAD_GNTREF);
	EXPECT_EQ(gnt_copy(gref(9, REF_COPY, 0), local(buf), HV_GNTCOPY_SOURCE_GREF, 8),
		  HV_GNTST_BAD_DOMAIN);
	struct hv_gnttab_copy_ptr foreign = local(buf);
	foreign.dom = peer;
	EXPECT_EQ(gnt_copy(gref(peer, REF_COPY, 0), foreign, HV_GNTCOPY_SOURCE_GREF, 8),
		  HV_GNTST_BAD_DOMAIN);
	EXPECT_EQ(gnt_copy(gref(peer, REF_COPY, 0), local((void *)(uintptr_t)0x1000),
			   HV_GNTCOPY_SOURCE_GREF, 8), HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(gref(peer, REF_COPY, 0), local((void *)(uintptr_t)0xbffff000u),
			   HV_GNTCOPY_SOURCE_GREF, 8), HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(local(buf), local(buf + 100), 0x40, 8), HV_GNTST_BAD_COPY_ARG);
	printf("grantee: copies to and from grants, and every bad copy refused\n");
}

/* The grantee's side of the race: map and check the page, unmap; or be refused. */
static void race_grantee(void)
{
	unsigned mapped = 0, refused = 0;

	for (int i = 0; i < RACE_ROUNDS; i++) {
		volatile uint8_t *a;
		uint32_t h;
		int st = gnt_map(peer, REF_RACE, 1, &a, &h);

		if (st != HV_GNTST_OKAY) {
			EXPECT_EQ(st, HV_GNTST_GENERAL_ERROR);
			refused++;
			continue;
		}
		/* While we hold the map, the granter cannot have revoked it. */
		EXPECT(memcmp((const void *)a, "race page", 10) == 0);
		mapped++;
		EXPECT_EQ(gnt_unmap(h), HV_GNTST_OKAY);
	}
	store_put_number(pv_key(me, "race-done"), 1);
	printf("race: %u maps won, %u refused (access ended)\n", mapped, refused);
}

/* Map one grant until the window runs out; time map+unmap pairs on the way. */
static void exhaust(void)
{
	volatile uint8_t *a;
	uint64_t t0;
	unsigned n = 0;
	int st;

	uint64_t t_map = 0, t_unmap = 0, t_touch = 0;

	for (int i = 0; i < COST_PAIRS; i++) {
		t0 = clock_monotonic_ns();
		EXPECT_EQ(gnt_map(peer, REF_KEEP, 0, &a, &handles[0]), HV_GNTST_OKAY);
		t_map += clock_monotonic_ns() - t0;
		t0 = clock_monotonic_ns();
		a[0] = 1; /* the first touch of the new slot's page */
		t_touch += clock_monotonic_ns() - t0;
		t0 = clock_monotonic_ns();
		EXPECT_EQ(gnt_unmap(handles[0]), HV_GNTST_OKAY);
		t_unmap += clock_monotonic_ns() - t0;
	}
	printf("map+unmap pair: %.1f us: map %.1f us, first touch %.1f us, unmap %.1f us "
	       "(%d pairs, hypercalls included)\n", (double)(t_map + t_unmap) / 1e3 / COST_PAIRS,
	       (double)t_map / 1e3 / COST_PAIRS, (double)t_touch / 1e3 / COST_PAIRS,
	       (double)t_unmap / 1e3 / COST_PAIRS, COST_PAIRS);
	t0 = clock_monotonic_ns();
	while ((st = gnt_map(peer, REF_KEEP, 0, &a, &handles[n])) == HV_GNTST_OKAY) {
		EXPECT(n < WINDOW_PAGES);
		a[n % 4096] = 1;
		n++;
	}
	EXPECT_EQ(st, HV_GNTST_NO_DEVICE_SPACE);
	printf("window full after %u maps (%.1f us a map)\n", n,
	       (double)(clock_monotonic_ns() - t0) / 1e3 / n);
	EXPECT_EQ(n, WINDOW_PAGES);
	t0 = clock_monotonic_ns();
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(gnt_unmap(handles[i]), HV_GNTST_OKAY);
	printf("all unmapped (%.1f us an unmap)\n", (double)(clock_monotonic_ns() - t0) / 1e3 / n);
	/* The page saw every map's write: all the maps were the same memory. */
	EXPECT_EQ(gnt_map(peer, REF_KEEP, 1, &a, &handles[0]), HV_GNTST_OKAY);
	for (unsigned i = 0; i < 4096 && i < n; i++)
		EXPECT_EQ(a[i], 1);
	EXPECT_EQ(gnt_unmap(handles[0]), HV_GNTST_OKAY);
}

static void grantee(void)
{
	volatile uint8_t *rw, *rw2, *ro;
	uint32_t h_rw, h_rw2, h_ro;
	const struct hv_boot_info *bi = pv_boot_info();

	pv_phase_wait(peer, 1);
	map_refusals();
	EXPECT_EQ(gnt_map(peer, REF_RW, 0, &rw, &h_rw), HV_GNTST_OKAY);
	EXPECT((uintptr_t)rw >= bi->grant_window &&
	       (uintptr_t)rw < bi->grant_window + bi->grant_window_size);
	EXPECT_EQ(gnt_map(peer, REF_RW, 0, &rw2, &h_rw2), HV_GNTST_OKAY);
	EXPECT(rw2 != rw && h_rw2 != h_rw);
	EXPECT_EQ(gnt_map(peer, REF_RO, 1, &ro, &h_ro), HV_GNTST_OKAY);
	EXPECT(strcmp((const char *)ro, "read-only page") == 0);
	strcpy((char *)rw, "written by the grantee");
	EXPECT(strcmp((const char *)rw2, "written by the grantee") == 0);
	printf("grantee: mapped ref %d writable at %p (twice) and ref %d read-only\n", REF_RW,
	       (void *)rw, REF_RO);
	pv_phase_set(me, 1);

	pv_phase_wait(peer, 2);
	EXPECT(strcmp((const char *)rw + 2048, "reply from the granter") == 0);
	copies();
	EXPECT_EQ(gnt_unmap(h_rw), HV_GNTST_OKAY);
	EXPECT_EQ(gnt_unmap(h_rw), HV_GNTST_BAD_HANDLE);
	/* One map of the entry is left: it is still in use. */
	EXPECT_EQ(gnt_unmap(h_rw2), HV_GNTST_OKAY);
	EXPECT_EQ(gnt_unmap(h_ro), HV_GNTST_OKAY);
	pv_phase_set(me, 2);

	pv_phase_wait(peer, 3);
	EXPECT_EQ(gnt_map(peer, REF_RW, 0, &rw, &h_rw), HV_GNTST_GENERAL_ERROR);
	printf("grantee: a grant whose access ended cannot be mapped\n");
	race_grantee();
	exhaust();
	pv_phase_set(me, 4);
	pv_phase_wait(peer, 4);
	printf("SUCCESS\n");
}

/* Grant; once the peer mapped, wait until the end of access succeeds (the peer ended). */
static void granter_simple(int exit_while_mapped)
{
	uint64_t t0;

	EXPECT_EQ(gnt_setup(table, NR_ENTRIES), HV_GNTST_OKAY);
	strcpy((char *)pages[0], "granted page");
	grant(&table[REF_RW], peer, pages[0], 0);
	grant(&table[REF_RO], peer, pages[0], 1);
	pv_phase_set(me, 1);
	pv_phase_wait(peer, 1);
	if (exit_while_mapped) {
		printf("granter: exiting while dom%u has our page mapped\n", peer);
		return;
	}
	for (t0 = clock_monotonic_ns(); end_access(&table[REF_RO]) != 0; pv_sleep(1000000))
		EXPECT(clock_monotonic_ns() - t0 < 10000000000ull);
	EXPECT_EQ(end_access(&table[REF_RW]), 0);
	printf("granter: dom%u ended, its maps undone, access ended; SUCCESS\n", peer);
}

static void write_ro(void)
{
	volatile uint8_t *ro;
	uint32_t h;

	pv_phase_wait(peer, 1);
	EXPECT_EQ(gnt_map(peer, REF_RO, 1, &ro, &h), HV_GNTST_OKAY);
	EXPECT(strcmp((const char *)ro, "granted page") == 0);
	pv_phase_set(me, 1);
	printf("write-ro: writing to the read-only grant at %p\n", (void *)ro);
	fflush(stdout);
	ro[8] = 'X';
	printf("FAILURE: the write to a read-only grant went through\n");
	exit(1);
}

static void grantee_outlive(void)
{
	volatile uint8_t *rw;
	uint32_t h;
	uint64_t t0;

	pv_phase_wait(peer, 1);
	EXPECT_EQ(gnt_map(peer, REF_RW, 0, &rw, &h), HV_GNTST_OKAY);
	pv_phase_set(me, 1);
	/* An allocation for a domain that ended is refused: that is how we see it go. */
	for (t0 = clock_monotonic_ns(); ev_alloc_unbound(peer) != -ESRCH; pv_sleep(1000000))
		EXPECT(clock_monotonic_ns() - t0 < 10000000000ull);
	EXPECT(strcmp((const char *)rw, "granted page") == 0);
	strcpy((char *)rw, "still here");
	EXPECT(strcmp((const char *)rw, "still here") == 0);
	EXPECT_EQ(gnt_map(peer, REF_RO, 1, &rw, &h), HV_GNTST_BAD_DOMAIN);
	EXPECT_EQ(gnt_unmap(h), HV_GNTST_OKAY);
	printf("grantee: dom%u ended; its page stayed mapped and usable until we unmapped; "
	       "SUCCESS\n", peer);
}

static void granter_dma(void)
{
	EXPECT_EQ(gnt_setup(table, NR_ENTRIES), HV_GNTST_OKAY);
	memcpy(pages[1], "read-only page", 15);
	grant(&table[REF_RW], peer, pages[0], 0);
	grant(&table[REF_RO], peer, pages[1], 1);
	pv_phase_set(me, 1);
	pv_phase_wait(peer, 2);
	EXPECT(memcmp(pages[0], DMA_TEXT, sizeof(DMA_TEXT)) == 0);
	EXPECT(memcmp(pages[1], "read-only page", 15) == 0);
	EXPECT_EQ(end_access(&table[REF_RW]), 0);
	EXPECT_EQ(end_access(&table[REF_RO]), 0);
	printf("granter: dom%u's disk read landed in our page; SUCCESS\n", peer);
}

static void grantee_dma(void)
{
	static uint8_t back[4096] __attribute__((aligned(4096)));
	struct blkdev *disk = blkdev_get(0);
	volatile uint8_t *rw, *ro;
	uint32_t h_rw, h_ro;

	EXPECT(disk != NULL);
	pv_phase_wait(peer, 1);
	EXPECT_EQ(gnt_map(peer, REF_RW, 0, &rw, &h_rw), HV_GNTST_OKAY);
	EXPECT_EQ(gnt_map(peer, REF_RO, 1, &ro, &h_ro), HV_GNTST_OKAY);
	/* The device writes into the granter's page, and reads from a read-only one. */
	EXPECT_EQ(blkdev_read(disk, 0, (void *)rw, 8), 0);
	EXPECT(memcmp((const void *)rw, DMA_TEXT, sizeof(DMA_TEXT)) == 0);
	EXPECT_EQ(blkdev_write(disk, 8, (const void *)ro, 8), 0);
	EXPECT_EQ(blkdev_read(disk, 8, back, 8), 0);
	EXPECT(memcmp(back, "read-only page", 15) == 0);
	printf("grantee: a disk read into a writable grant and a write from a read-only one\n");
	/* The device may not write into a read-only map: it says so and needs a reset. */
	EXPECT_EQ(blkdev_read(disk, 0, (void *)ro, 8), -EIO);
	EXPECT(memcmp((const void *)ro, "read-only page", 15) == 0);
	EXPECT_EQ(gnt_unmap(h_rw), HV_GNTST_OKAY);
	EXPECT_EQ(gnt_unmap(h_ro), HV_GNTST_OKAY);
	pv_phase_set(me, 2);
	printf("grantee: a disk read into a read-only grant refused; SUCCESS\n");
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "";

	me = pv_domid();
	peer = argc > 2 ? (domid_t)atoi(argv[2]) : 0;
	if (strcmp(role, "granter") == 0)
		granter();
	else if (strcmp(role, "grantee") == 0)
		grantee();
	else if (strcmp(role, "granter-simple") == 0)
		granter_simple(0);
	else if (strcmp(role, "granter-exit") == 0)
		granter_simple(1);
	else if (strcmp(role, "write-ro") == 0)
		write_ro();
	else if (strcmp(role, "grantee-outlive") == 0)
		grantee_outlive();
	else if (strcmp(role, "granter-dma") == 0)
		granter_dma();
	else if (strcmp(role, "grantee-dma") == 0)
		grantee_dma();
	else
		return printf("usage: pv_grants.img granter|grantee|granter-simple|granter-exit|"
			      "write-ro|grantee-outlive|granter-dma|grantee-dma PEER\n"), 2;
	return 0;
}
