/* SPDX-License-Identifier: MIT */
/* Page frames by bitmap: the heap break grows up, page runs come from the top down. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pagealloc.h"

static bool is_used(const struct page_pool *p, size_t i)
{
	return (p->used[i / 64] >> (i % 64)) & 1;
}

static void mark(struct page_pool *p, size_t first, size_t n, bool used)
{
	for (size_t i = first; i < first + n; i++) {
		if (used)
			p->used[i / 64] |= 1ull << (i % 64);
		else
			p->used[i / 64] &= ~(1ull << (i % 64));
	}
	if (used)
		p->nfree -= n;
	else
		p->nfree += n;
}

/* Pages the heap holds: those the break has entered. */
static size_t heap_pages(const struct page_pool *p)
{
	return (p->brk - p->base + PAGE_SIZE - 1) / PAGE_SIZE;
}

int page_pool_init(struct page_pool *p, uintptr_t start, size_t bytes)
{
	uintptr_t lo = (start + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);
	uintptr_t hi = (start + bytes) & ~(uintptr_t)(PAGE_SIZE - 1);
	size_t total, map_pages;

	if (hi <= lo)
		return -ENOMEM;
	total = (hi - lo) / PAGE_SIZE;
	map_pages = ((total + 63) / 64 * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
	if (total < map_pages + 1)
		return -ENOMEM;
	p->used = (uint64_t *)lo;
	memset(p->used, 0, map_pages * PAGE_SIZE);
	p->base = lo + map_pages * PAGE_SIZE;
	p->npages = total - map_pages;
	p->brk = p->base;
	p->nfree = p->npages;
	return 0;
}

void *page_alloc(struct page_pool *p, size_t n)
{
	size_t floor = heap_pages(p), run = 0;

	if (n == 0 || n > p->nfree)
		return NULL;
	for (size_t i = p->npages; i-- > floor;) {
		if (i % 64 == 63 && p->used[i / 64] == ~0ull) { /* skip a full word */
			run = 0;
			i -= 63;
			continue;
		}
		if (is_used(p, i)) {
			run = 0;
			continue;
		}
		if (++run == n) {
			mark(p, i, n, true);
			return (void *)(p->base + i * PAGE_SIZE);
		}
	}
	return NULL;
}

int page_free(struct page_pool *p, void *addr, size_t n)
{
	uintptr_t a = (uintptr_t)addr;
	size_t first;

	if (a % PAGE_SIZE || a < p->base || n == 0)
		return -EINVAL;
	first = (a - p->base) / PAGE_SIZE;
	if (first < heap_pages(p) || first > p->npages || n > p->npages - first)
		return -EINVAL;
	for (size_t i = first; i < first + n; i++)
		if (!is_used(p, i))
			return -EINVAL;
	mark(p, first, n, false);
	return 0;
}

void *page_pool_sbrk(struct page_pool *p, intptr_t incr)
{
	uintptr_t old = p->brk, brk = old + (uintptr_t)incr;
	size_t have = heap_pages(p), want;

	if ((incr > 0 && brk < old) || (incr < 0 && brk > old) || brk < p->base ||
	    brk > p->base + p->npages * PAGE_SIZE)
		return NULL;
	want = (brk - p->base + PAGE_SIZE - 1) / PAGE_SIZE;
	for (size_t i = have; i < want; i++)
		if (is_used(p, i))
			return NULL;
	if (want > have)
		mark(p, have, want - have, true);
	else if (want < have)
		mark(p, want, have - want, false);
	p->brk = brk;
	return (void *)old;
}
