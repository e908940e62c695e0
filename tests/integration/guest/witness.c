/* SPDX-License-Identifier: MIT */
/*
 * The bystander of tests/integration/hostile.sh: a domain that runs beside a hostile one and
 * proves it came to no harm. It offers the hostile domain what a peer would (an unbound
 * port, a read-only grant of a page, keys in the store), then works in rounds for as long as
 * that domain lives: a 1 ms sleep in hv, a slice of its memory checked, its store key read,
 * its granted page checked, a disk sector read back. When the hostile domain has ended it
 * checks everything once more and prints how many rounds it ran and the slowest, so a storm
 * that starved it shows as a number the script bounds.
 *
 *   witness.img PEER [--no-disk]   PEER: the hostile domain's id (or one that does not exist,
 *                                  for a run alone); its first disk gets a known pattern
 *
 * Store keys it writes under /local/domain/<its id>/: port (unbound, for PEER), gref (a
 * read-only grant to PEER), secret. Prints "witness: ... SUCCESS" and exits 0, or FAILURE.
 */
#include "pv_test.h"

#include "blkdev.h"

#define MEM_BYTES (4u << 20)
#define DISK_SECTORS 64u
#define ROUNDS_MIN 20
#define LIFE_NS 60000000000ull /* the hostile domain must end within a minute */
#define MS 1000000ull

static uint8_t *mem;
static uint8_t page[HV_PAGE_SIZE] __attribute__((aligned(HV_PAGE_SIZE)));
static struct hv_grant_entry table[16] __attribute__((aligned(HV_PAGE_SIZE)));
static struct blkdev *disk;

static uint8_t pattern(uint64_t i, uint64_t salt)
{
	uint64_t x = (i + salt) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> 56);
}

static void check_mem(uint64_t lo, uint64_t hi)
{
	for (uint64_t i = lo; i < hi; i++)
		if (mem[i] != pattern(i, 1)) {
			printf("FAILURE: witness memory changed at offset 0x%llx\n",
			       (unsigned long long)i);
			exit(1);
		}
}

static void check_page(void)
{
	for (unsigned i = 0; i < sizeof(page); i++)
		if (page[i] != pattern(i, 2)) {
			printf("FAILURE: the page granted read-only changed at offset %u\n", i);
			exit(1);
		}
}

static void check_sector(uint64_t s)
{
	static uint8_t buf[512];

	EXPECT_EQ(blkdev_read(disk, s, buf, 1), 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		if (buf[i] != pattern(s * 512 + i, 3)) {
			printf("FAILURE: disk sector %llu changed at byte %u\n", (unsigned long long)s,
			       i);
			exit(1);
		}
}

static void check_secret(void)
{
	char buf[32];

	EXPECT_EQ(store_get(pv_key(pv_domid(), "secret"), buf, sizeof(buf)), 0);
	EXPECT(strcmp(buf, "witness") == 0);
}

static void set_up(domid_t peer)
{
	static uint8_t sector[512];
	int port;

	mem = malloc(MEM_BYTES);
	EXPECT(mem != NULL);
	for (uint64_t i = 0; i < MEM_BYTES; i++)
		mem[i] = pattern(i, 1);
	for (unsigned i = 0; i < sizeof(page); i++)
		page[i] = pattern(i, 2);
	if (disk) {
		for (uint64_t s = 0; s < DISK_SECTORS; s++) {
			for (unsigned i = 0; i < sizeof(sector); i++)
				sector[i] = pattern(s * 512 + i, 3);
			EXPECT_EQ(blkdev_write(disk, s, sector, 1), 0);
		}
		EXPECT_EQ(blkdev_flush(disk), 0);
	}
	EXPECT_EQ(gnt_setup(table, 16), HV_GNTST_OKAY);
	grant(&table[3], peer, page, 1);
	EXPECT_EQ(store_put(pv_key(pv_domid(), "secret"), "witness"), 0); /* before port: */
	port = ev_alloc_unbound(peer); /* a peer that read port may read the rest */
	if (port == -ESRCH)
		port = ev_alloc_unbound(HV_DOMID_SELF); /* alone: nobody to offer it to */
	EXPECT(port > 0);
	store_put_number(pv_key(pv_domid(), "port"), port);
	store_put_number(pv_key(pv_domid(), "gref"), 3);
}

static int alive(domid_t peer)
{
	struct hv_evtchn_op st;

	return ev_status(peer, 1, &st) != -ESRCH;
}

int main(int argc, char **argv)
{
	domid_t peer;
	uint64_t start, worst = 0, slice = 64 << 10;
	unsigned rounds = 0;

	EXPECT(argc >= 2);
	peer = (domid_t)strtoul(argv[1], NULL, 0);
	if (argc < 3 || strcmp(argv[2], "--no-disk")) {
		disk = blkdev_get(0);
		EXPECT(disk != NULL && blkdev_sectors(disk) >= DISK_SECTORS);
	}
	set_up(peer);
	start = clock_monotonic_ns();
	while (rounds < ROUNDS_MIN || alive(peer)) {
		uint64_t t0 = clock_monotonic_ns(), off = rounds * slice % MEM_BYTES;

		if (t0 - start > LIFE_NS) {
			printf("FAILURE: dom%u still runs after %llu s\n", peer, LIFE_NS / 1000000000ull);
			return 1;
		}
		pv_sleep(MS);
		check_mem(off, off + slice);
		check_secret();
		check_page();
		if (disk)
			check_sector(rounds % DISK_SECTORS);
		if (clock_monotonic_ns() - t0 > worst)
			worst = clock_monotonic_ns() - t0;
		rounds++;
	}
	check_mem(0, MEM_BYTES);
	check_page();
	check_secret();
	EXPECT_EQ(table[3].flags & (HV_GTF_READING | HV_GTF_WRITING), 0); /* no map left behind */
	EXPECT_EQ(end_access(&table[3]), 0);
	for (uint64_t s = 0; disk && s < DISK_SECTORS; s++)
		check_sector(s);
	printf("witness: %u rounds while dom%u ran, the slowest %llu us; memory, granted page, "
	       "store key%s intact; SUCCESS\n", rounds, peer,
	       (unsigned long long)(worst / 1000), disk ? " and disk" : "");
	return 0;
}
