/* SPDX-License-Identifier: MIT */
/* Unit test of hv's page tables: hv's real layout, a random-range oracle, and the error cases. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hv.h"
#include "paging.h"

#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull
#define SZ_4G 0x100000000ull
#define MEM_SIZE (64ull << 20) /* guest RAM; the pool is inside it, as in hv */

/* The x86-64 entry bits the scan below looks at (SDM vol. 3, 4.5). */
#define PTE_P (1ull << 0)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

static uint8_t *mem;

/* Zero the pool and build: paging_build requires zeroed table pages. */
static int build(uint64_t pool, uint64_t pool_end, const struct pg_range *r, unsigned n,
		 uint64_t *cr3)
{
	memset(mem + pool, 0, pool_end - pool);
	return paging_build(mem, pool, pool_end, r, n, cr3);
}

/* va must be mapped identity with exactly attr. */
static bool mapped(uint64_t cr3, uint64_t va, unsigned attr)
{
	uint64_t pa = ~0ull;
	unsigned got = ~0u;
	bool ok = CHECK_EQ(paging_walk(mem, MEM_SIZE, cr3, va, &pa, &got), 0);

	if (ok) {
		ok &= CHECK_EQ(pa, va);
		ok &= CHECK_EQ(got, attr);
	}
	if (!ok)
		fprintf(stderr, "    va 0x%llx\n", (unsigned long long)va);
	return ok;
}

static bool unmapped(uint64_t cr3, uint64_t va)
{
	uint64_t pa;
	unsigned attr;

	if (CHECK_EQ(paging_walk(mem, MEM_SIZE, cr3, va, &pa, &attr), -ENOENT))
		return true;
	fprintf(stderr, "    va 0x%llx\n", (unsigned long long)va);
	return false;
}

/* What the scan of a table tree found. */
struct tree {
	unsigned tables;     /* table pages, the root included */
	unsigned large;      /* 2 MiB leaves */
	unsigned small;      /* 4 KiB leaves */
	unsigned missing_ad; /* present entries without accessed (leaves: and dirty) set */
	unsigned outside;    /* table pages outside the pool */
};

/*
 * Walk every present entry of the tables from the root down. This reads the
 * tables as the CPU would, independently of paging_walk, to see how they
 * are shaped: large pages where promised, and the A/D bits the contract
 * says the CPU never has to set.
 */
static void scan(uint64_t table, int level, uint64_t pool, uint64_t pool_end, struct tree *t)
{
	t->tables++;
	if (table < pool || table >= pool_end) {
		t->outside++;
		return;
	}
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e;

		memcpy(&e, mem + table + i * 8, sizeof(e));
		if (!(e & PTE_P))
			continue;
		bool leaf = level == 0 || (level <= 2 && (e & PTE_PS));
		if (!(e & PTE_A) || (leaf && !(e & PTE_D)))
			t->missing_ad++;
		if (leaf && level == 1)
			t->large++;
		else if (leaf && level == 0)
			t->small++;
		else if (!leaf)
			scan(e & PTE_ADDR, level - 1, pool, pool_end, t);
	}
}

/* hv's layout for a 64 MiB guest, as vm.c builds it. */
#define TEXT_LO 0x100000ull
#define RODATA_LO 0x140000ull
#define DATA_LO 0x150000ull
#define HEAP_LO 0x158000ull
#define STACK_LO (MEM_SIZE - HV_STACK_SIZE)
#define GUARD_LO (STACK_LO - HV_STACK_GUARD)

static const struct pg_range hv_layout[] = {
	{ HV_L_GDT, 0x1000, PG_WRITE },
	{ HV_L_IDT, 0x1000, 0 },
	{ HV_L_TSS, HV_L_STUBS - HV_L_TSS, PG_WRITE },
	{ HV_L_STUBS, 0x1000, PG_EXEC },
	{ HV_L_FSTACK, HV_L_FSTACK_TOP - HV_L_FSTACK, PG_WRITE },
	{ HV_L_BOOT_INFO, HV_L_SHARED - HV_L_BOOT_INFO, PG_USER },
	{ HV_L_SHARED, 0x1000, PG_USER | PG_WRITE },
	{ STACK_LO, HV_STACK_SIZE, PG_USER | PG_WRITE },
	{ TEXT_LO, RODATA_LO - TEXT_LO, PG_USER | PG_EXEC },
	{ RODATA_LO, DATA_LO - RODATA_LO, PG_USER },
	{ DATA_LO, HEAP_LO - DATA_LO, PG_USER | PG_WRITE },
	{ HEAP_LO, GUARD_LO - HEAP_LO, PG_USER | PG_WRITE },
};
#define HV_NR (sizeof(hv_layout) / sizeof(hv_layout[0]))

/*
 * Tables the layout needs: PML4, PDPT, one PD, and a page table for each of
 * the two 2 MiB regions that mix ranges: [0, 2M) (hv's area and the image)
 * and the last one (heap end, guard, stack). The heap between gets large pages.
 */
#define HV_TABLES 5u
#define HV_LARGE ((unsigned)((MEM_SIZE - 2 * SZ_2M) / SZ_2M))

static void test_hv_layout(void)
{
	uint64_t cr3 = 0;
	struct tree t = { 0 };

	if (!CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, hv_layout, HV_NR, &cr3), 0))
		return;
	CHECK(cr3 >= HV_L_PT_POOL && cr3 < HV_L_BOOT_INFO && cr3 % SZ_4K == 0);

	/* Page 0 stays unmapped, so a guest null pointer faults. */
	unmapped(cr3, 0);
	unmapped(cr3, 0xfff);

	/* Every range, at its first byte, a middle page and its last byte. */
	for (unsigned i = 0; i < HV_NR; i++) {
		const struct pg_range *r = &hv_layout[i];

		mapped(cr3, r->gpa, r->attr);
		mapped(cr3, r->gpa + (r->size / 2 & ~(SZ_4K - 1)) + 0x123, r->attr);
		mapped(cr3, r->gpa + r->size - 1, r->attr);
	}

	/* hv's own tables and the page between the fault stack and the boot info. */
	for (uint64_t va = HV_L_PT_POOL; va < HV_L_BOOT_INFO; va += 0x10000)
		unmapped(cr3, va);
	unmapped(cr3, HV_L_BOOT_INFO - 1);

	/* The guard below the stack, every page of it: a stack overflow must fault. */
	for (uint64_t va = GUARD_LO; va < STACK_LO; va += SZ_4K)
		unmapped(cr3, va);
	unmapped(cr3, STACK_LO - 1);

	/* Nothing past the end of RAM, up to 4 GiB, above it, or in the upper half. */
	unmapped(cr3, MEM_SIZE);
	unmapped(cr3, MEM_SIZE + SZ_4K);
	unmapped(cr3, MEM_SIZE + SZ_2M);
	unmapped(cr3, SZ_1G);
	unmapped(cr3, 3 * SZ_1G + 0x1234);
	unmapped(cr3, SZ_4G - 1);
	unmapped(cr3, SZ_4G);
	unmapped(cr3, 512 * SZ_1G); /* PML4 slot 1 */
	unmapped(cr3, 0xffff800000000000ull);
	unmapped(cr3, 0xffffffffffffffffull);

	/* The heap's fully covered 2 MiB regions are large pages: pa follows va inside them. */
	static const uint64_t large_va[] = { SZ_2M, SZ_2M + 0x1234, 0x3000000 + 0x1fffff,
					      GUARD_LO - SZ_2M + 0x80000 - 1, 0x2345678 };
	for (unsigned i = 0; i < sizeof(large_va) / sizeof(large_va[0]); i++)
		mapped(cr3, large_va[i], PG_USER | PG_WRITE);

	scan(cr3, 3, HV_L_PT_POOL, HV_L_BOOT_INFO, &t);
	CHECK_EQ(t.tables, HV_TABLES);
	CHECK_EQ(t.large, HV_LARGE);
	CHECK_EQ(t.missing_ad, 0);
	CHECK_EQ(t.outside, 0);

	/* The pool it needs, exactly: one page less is -ENOSPC at every step. */
	for (unsigned k = 0; k <= HV_TABLES; k++) {
		int want = k < HV_TABLES ? -ENOSPC : 0;

		if (!CHECK_EQ(build(HV_L_PT_POOL, HV_L_PT_POOL + k * SZ_4K, hv_layout, HV_NR, &cr3),
			      want))
			fprintf(stderr, "    pool of %u pages\n", k);
	}
}

/* Large pages elsewhere: all 4 GiB in one range needs one PD per GiB and no page table. */
static void test_whole_4g(void)
{
	const struct pg_range all = { 0, SZ_4G, PG_USER | PG_WRITE | PG_EXEC };
	const struct pg_range top = { SZ_4G - SZ_4K, SZ_4K, PG_USER };
	uint64_t cr3;
	struct tree t = { 0 };

	if (CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, &all, 1, &cr3), 0)) {
		mapped(cr3, 0, all.attr);
		mapped(cr3, SZ_1G + 0x1234567, all.attr);
		mapped(cr3, SZ_4G - 1, all.attr);
		unmapped(cr3, SZ_4G);
		scan(cr3, 3, HV_L_PT_POOL, HV_L_BOOT_INFO, &t);
		CHECK_EQ(t.tables, 2 + 4);
		CHECK_EQ(t.large, 4 * 512);
		CHECK_EQ(t.small, 0);
	}

	/* The last page below 4 GiB is a valid range. */
	if (CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, &top, 1, &cr3), 0)) {
		mapped(cr3, SZ_4G - 1, PG_USER);
		unmapped(cr3, SZ_4G - SZ_4K - 1);
	}

	/* No ranges: a root with nothing under it. */
	if (CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, NULL, 0, &cr3), 0)) {
		unmapped(cr3, 0);
		unmapped(cr3, HEAP_LO);
	}
}

static void test_walk_efault(void)
{
	uint64_t cr3, pa;
	unsigned attr;

	if (!CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, hv_layout, HV_NR, &cr3), 0))
		return;
	/* A root outside guest memory, or tables past the memory the walker may read. */
	CHECK_EQ(paging_walk(mem, MEM_SIZE, MEM_SIZE, HEAP_LO, &pa, &attr), -EFAULT);
	CHECK_EQ(paging_walk(mem, MEM_SIZE, 1ull << 40, HEAP_LO, &pa, &attr), -EFAULT);
	CHECK_EQ(paging_walk(mem, cr3 + SZ_4K, cr3, HEAP_LO, &pa, &attr), -EFAULT);
}

static void test_errors(void)
{
	static const struct {
		struct pg_range r[2];
		unsigned n;
		const char *what;
	} bad[] = {
		{ { { 0x1001, 0x1000, 0 } }, 1, "unaligned gpa" },
		{ { { 0x1000, 0x1001, 0 } }, 1, "unaligned size" },
		{ { { 0x1000, 0x800, 0 } }, 1, "size below a page" },
		{ { { 0x1000, 0, 0 } }, 1, "zero size" },
		{ { { 0x2000, 0x1000, 0 }, { 0x3000, 0, 0 } }, 2, "second range empty" },
		{ { { 0x1000, 0x2000, 0 }, { 0x2000, 0x1000, 0 } }, 2, "overlap by a page" },
		{ { { 0x1000, 0x1000, 0 }, { 0x1000, 0x1000, 0 } }, 2, "the same range twice" },
		{ { { 0x3000, 0x1000, 0 }, { 0x1000, 0x8000, 0 } }, 2, "one inside the other" },
		{ { { SZ_4G - SZ_4K, 2 * SZ_4K, 0 } }, 1, "crossing 4 GiB" },
		{ { { SZ_4G, SZ_4K, 0 } }, 1, "at 4 GiB" },
		{ { { 0x1000, 0xfffffffffffff000ull, 0 } }, 1, "size wraps" },
	};
	uint64_t cr3;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, bad[i].r, bad[i].n, &cr3), -EINVAL))
			fprintf(stderr, "    case: %s\n", bad[i].what);

	/*
	 * Ranges a page short of a 2 MiB region, or sharing it with another,
	 * must not get a large page: the odd page keeps its own mapping.
	 */
	const struct pg_range short_end[] = { { SZ_2M, SZ_2M - SZ_4K, PG_USER } };
	const struct pg_range late_start[] = { { SZ_2M + SZ_4K, SZ_2M - SZ_4K, PG_USER } };
	const struct pg_range shared[] = { { SZ_2M, SZ_2M - SZ_4K, PG_USER },
					   { 2 * SZ_2M - SZ_4K, SZ_4K, PG_WRITE } };
	if (CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, short_end, 1, &cr3), 0)) {
		mapped(cr3, 2 * SZ_2M - SZ_4K - 1, PG_USER);
		unmapped(cr3, 2 * SZ_2M - SZ_4K);
	}
	if (CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, late_start, 1, &cr3), 0)) {
		unmapped(cr3, SZ_2M);
		mapped(cr3, SZ_2M + SZ_4K, PG_USER);
	}
	if (CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, shared, 2, &cr3), 0)) {
		mapped(cr3, SZ_2M, PG_USER);
		mapped(cr3, 2 * SZ_2M - 1, PG_WRITE);
	}

	/* Touching ranges do not overlap. */
	const struct pg_range touching[] = { { 0x1000, 0x1000, 0 }, { 0x2000, 0x1000, PG_USER } };
	if (CHECK_EQ(build(HV_L_PT_POOL, HV_L_BOOT_INFO, touching, 2, &cr3), 0)) {
		mapped(cr3, 0x1fff, 0);
		mapped(cr3, 0x2000, PG_USER);
	}

	/* Pools too small even for the root, or for the top two levels. */
	CHECK_EQ(build(HV_L_PT_POOL, HV_L_PT_POOL, hv_layout, HV_NR, &cr3), -ENOSPC);
	CHECK_EQ(build(HV_L_PT_POOL, HV_L_PT_POOL + SZ_4K - 1, hv_layout, HV_NR, &cr3), -ENOSPC);
	CHECK_EQ(build(HV_L_PT_POOL, HV_L_PT_POOL + SZ_4K, hv_layout, HV_NR, &cr3), -ENOSPC);
}

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

/* Pages of a range: mostly short, some long enough to cover whole 2 MiB regions. */
static uint64_t rnd_pages(void)
{
	switch (rnd_below(8)) {
	case 0:
	case 1:
	case 2:
	case 3:
		return 1 + rnd_below(8);
	case 4:
	case 5:
	case 6:
		return 1 + rnd_below(512);
	default:
		return 512 + rnd_below(2048);
	}
}

#define NR_PAGES (MEM_SIZE / SZ_4K)
#define MAX_RANGES 256

/*
 * Random non-overlapping ranges over [0, MEM_SIZE), listed in random order;
 * owner[p] is the range holding page p or -1. Returns the number of ranges.
 */
static unsigned random_ranges(struct pg_range *r, int16_t *owner)
{
	struct pg_range in_order[MAX_RANGES];
	int16_t slot[MAX_RANGES];
	unsigned n = 0;
	uint64_t page = 0;

	for (uint64_t p = 0; p < NR_PAGES; p++)
		owner[p] = -1;
	while (n < MAX_RANGES) {
		if (rnd_below(3)) /* a gap, or none: touching ranges with different attributes */
			page += rnd_below(4) ? rnd_pages() : 0;
		if (rnd_below(8) == 0) /* start on a 2 MiB boundary now and then */
			page = (page + 511) & ~511ull;
		uint64_t pages = rnd_below(8) == 0 ? 512 * (1 + rnd_below(3)) : rnd_pages();
		if (rnd_below(6) == 0) { /* end a page before, on, or a page after a 2 MiB boundary */
			uint64_t end = ((page + pages + 511) & ~511ull) + rnd_below(3) - 1;

			pages = end > page ? end - page : 1;
		}
		if (page >= NR_PAGES)
			break;
		if (pages > NR_PAGES - page)
			pages = NR_PAGES - page;
		in_order[n] = (struct pg_range){ page * SZ_4K, pages * SZ_4K, (unsigned)rnd_below(8) };
		for (uint64_t p = page; p < page + pages; p++)
			owner[p] = (int16_t)n;
		n++;
		page += pages;
	}
	/* Shuffle: the builder may not rely on the ranges' order. */
	for (unsigned i = 0; i < n; i++)
		slot[i] = (int16_t)i;
	for (unsigned i = n; i > 1; i--) {
		unsigned j = (unsigned)rnd_below(i);
		int16_t t = slot[i - 1];

		slot[i - 1] = slot[j];
		slot[j] = t;
	}
	for (unsigned i = 0; i < n; i++)
		r[slot[i]] = in_order[i];
	for (uint64_t p = 0; p < NR_PAGES; p++)
		if (owner[p] >= 0)
			owner[p] = slot[owner[p]];
	return n;
}

/* The table pages a set of ranges needs: root, PDPT, one PD, one table per mixed 2 MiB region. */
static unsigned tables_needed(const int16_t *owner)
{
	unsigned tables = 2, mixed = 0;
	bool any = false;

	for (uint64_t region = 0; region < NR_PAGES; region += 512) {
		bool touched = false, whole = owner[region] >= 0;

		for (uint64_t p = region; p < region + 512; p++) {
			touched |= owner[p] >= 0;
			whole &= owner[p] == owner[region];
		}
		any |= touched;
		mixed += touched && !whole;
	}
	return tables + any + mixed;
}

/* The oracle: for every page of RAM, paging_walk agrees with the ranges that were asked for. */
static void test_oracle(void)
{
	static struct pg_range r[MAX_RANGES];
	static int16_t owner[NR_PAGES];
	/* The pool sits in RAM that the ranges may also map: tables are just data to them. */
	const uint64_t pool = MEM_SIZE - (1ull << 20), pool_end = MEM_SIZE;

	for (unsigned set = 0; set < 32; set++) {
		unsigned n = random_ranges(r, owner), bad = 0;
		uint64_t cr3;
		struct tree t = { 0 };

		if (!CHECK_EQ(build(pool, pool_end, r, n, &cr3), 0))
			continue;
		for (uint64_t p = 0; p < NR_PAGES && bad < 4; p++) {
			/* A different byte of each page, so offsets inside pages count too. */
			uint64_t va = p * SZ_4K + ((p * 0x9e5) & (SZ_4K - 1));
			bool ok = owner[p] < 0 ? unmapped(cr3, va) : mapped(cr3, va, r[owner[p]].attr);

			if (!ok) {
				fprintf(stderr, "    oracle set %u: %u ranges\n", set, n);
				bad++;
			}
		}
		unmapped(cr3, MEM_SIZE);
		scan(cr3, 3, pool, pool_end, &t);
		CHECK_EQ(t.tables, tables_needed(owner));
		CHECK_EQ(t.missing_ad, 0);
		CHECK_EQ(t.outside, 0);
	}
}

int main(void)
{
	mem = calloc(1, MEM_SIZE);
	if (!mem)
		return 1;
	test_hv_layout();
	test_whole_4g();
	test_walk_efault();
	test_errors();
	test_oracle();
	free(mem);
	return check_finish("test_paging");
}
