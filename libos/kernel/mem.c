/* SPDX-License-Identifier: MIT */
/* The guest's memory: one page pool over the platform's largest RAM region, and sbrk for malloc. */
#include <errno.h>
#include <stdint.h>

#include "kernel.h"
#include "libos.h"
#include "pagealloc.h"

static struct page_pool pool;

void memory_init(const struct boot *boot)
{
	const struct boot_ram *best = NULL;
	int rc;

	for (unsigned i = 0; i < boot->nr_ram; i++)
		if (!best || boot->ram[i].size > best->size)
			best = &boot->ram[i];
	if (!best)
		panic("memory_init: the platform reported no RAM");
	rc = page_pool_init(&pool, (uintptr_t)best->base, (size_t)best->size);
	if (rc)
		panic("memory_init: RAM [0x%llx, +0x%llx) too small for the page pool (%d)",
		      (unsigned long long)best->base, (unsigned long long)best->size, rc);
}

void *pages_alloc(size_t n)
{
	return page_alloc(&pool, n);
}

void pages_free(void *addr, size_t n)
{
	if (page_free(&pool, addr, n))
		panic("pages_free: %p (+%zu pages) was not allocated", addr, n);
}

size_t pages_free_count(void)
{
	return pool.nfree;
}

/* newlib's malloc grows its arena here. */
void *sbrk(intptr_t incr)
{
	void *old = page_pool_sbrk(&pool, incr);

	if (!old) {
		errno = ENOMEM;
		return (void *)-1;
	}
	return old;
}
