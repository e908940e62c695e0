/* SPDX-License-Identifier: MIT */
/* x86-64 identity page tables: large pages where one range covers 2 MiB, 4 KiB pages elsewhere. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "paging.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull
#define LIMIT_4G 0x100000000ull

struct builder {
	uint8_t *mem;
	uint64_t next, end; /* the pool */
	const struct pg_range *r;
	unsigned n;
};

static uint64_t *table(uint8_t *mem, uint64_t gpa)
{
	return (uint64_t *)(mem + gpa);
}

static int alloc_table(struct builder *b, uint64_t *gpa)
{
	if (b->end - b->next < SZ_4K)
		return -ENOSPC;
	*gpa = b->next;
	b->next += SZ_4K;
	return 0;
}

/* Entry bits for a leaf with these attributes. */
static uint64_t leaf_bits(unsigned attr)
{
	uint64_t e = PTE_P | PTE_A | PTE_D;

	if (attr & PG_USER)
		e |= PTE_US;
	if (attr & PG_WRITE)
		e |= PTE_RW;
	if (!(attr & PG_EXEC))
		e |= PTE_NX;
	return e;
}

/*
 * Entry bits for a table pointer: the most permissive, so the leaf alone
 * decides (x86 takes the most restrictive combination on the walk).
 */
static const uint64_t dir_bits = PTE_P | PTE_RW | PTE_US | PTE_A;

/* How [lo, hi) relates to the ranges: -1 none touches it, i when range i covers all of it, -2 mixed. */
static int cover(const struct builder *b, uint64_t lo, uint64_t hi)
{
	int found = -1;

	for (unsigned i = 0; i < b->n; i++) {
		uint64_t rlo = b->r[i].gpa, rhi = b->r[i].gpa + b->r[i].size;

		if (rhi <= lo || rlo >= hi)
			continue;
		if (rlo <= lo && rhi >= hi)
			return (int)i;
		found = -2;
	}
	return found;
}

static int build_2m(struct builder *b, uint64_t *pde, uint64_t base)
{
	int c = cover(b, base, base + SZ_2M);
	uint64_t pt;

	if (c == -1)
		return 0;
	if (c >= 0) {
		*pde = base | leaf_bits(b->r[c].attr) | PTE_PS;
		return 0;
	}
	if (alloc_table(b, &pt))
		return -ENOSPC;
	*pde = pt | dir_bits;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t va = base + i * SZ_4K;
		int r = cover(b, va, va + SZ_4K);

		if (r >= 0)
			table(b->mem, pt)[i] = va | leaf_bits(b->r[r].attr);
	}
	return 0;
}

static bool ranges_ok(const struct pg_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if ((r[i].gpa | r[i].size) & (SZ_4K - 1) || r[i].size == 0 ||
		    r[i].gpa >= LIMIT_4G || r[i].size > LIMIT_4G - r[i].gpa)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (r[i].gpa < r[j].gpa + r[j].size && r[j].gpa < r[i].gpa + r[i].size)
				return false;
	}
	return true;
}

int paging_build(uint8_t *mem, uint64_t pool, uint64_t pool_end, const struct pg_range *ranges,
		 unsigned nr_ranges, uint64_t *cr3)
{
	struct builder b = { mem, pool, pool_end, ranges, nr_ranges };
	uint64_t pml4, pdpt;

	if (!ranges_ok(ranges, nr_ranges))
		return -EINVAL;
	if (alloc_table(&b, &pml4) || alloc_table(&b, &pdpt))
		return -ENOSPC;
	table(mem, pml4)[0] = pdpt | dir_bits;
	for (unsigned g = 0; g < 4; g++) {
		uint64_t pd;

		if (cover(&b, g * SZ_1G, (g + 1) * SZ_1G) == -1)
			continue;
		if (alloc_table(&b, &pd))
			return -ENOSPC;
		table(mem, pdpt)[g] = pd | dir_bits;
		for (unsigned i = 0; i < 512; i++)
			if (build_2m(&b, &table(mem, pd)[i], g * SZ_1G + i * SZ_2M))
				return -ENOSPC;
	}
	*cr3 = pml4;
	return 0;
}

static unsigned attr_of(uint64_t e)
{
	return ((e & PTE_US) ? PG_USER : 0) | ((e & PTE_RW) ? PG_WRITE : 0) |
	       ((e & PTE_NX) ? 0 : PG_EXEC);
}

int paging_walk(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t va, uint64_t *pa,
		unsigned *attr)
{
	uint64_t t = cr3 & PTE_ADDR;
	unsigned eff = PG_USER | PG_WRITE | PG_EXEC;

	/* Bits 63:47 must all equal bit 47, or no walk happens at all. */
	if ((uint64_t)((int64_t)(va << 16) >> 16) != va)
		return -ENOENT;

	for (int level = 3; level >= 0; level--) {
		uint64_t e;

		if (t > mem_size - SZ_4K)
			return -EFAULT;
		memcpy(&e, mem + t + ((va >> (12 + 9 * level)) & 511) * 8, sizeof(e));
		if (!(e & PTE_P))
			return -ENOENT;
		eff &= attr_of(e);
		if (level == 0 || (level <= 2 && (e & PTE_PS))) {
			uint64_t span = 1ull << (12 + 9 * level);

			*pa = (e & PTE_ADDR & ~(span - 1)) | (va & (span - 1));
			*attr = eff;
			return 0;
		}
		t = e & PTE_ADDR;
	}
	return -ENOENT;
}
