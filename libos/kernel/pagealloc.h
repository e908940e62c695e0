/* SPDX-License-Identifier: MIT */
/*
 * The page-frame allocator and the heap break over one RAM region. The heap
 * (sbrk) grows up from the bottom, page allocations are taken from the top
 * down, and they meet in the middle. Pure code, unit-tested on the host.
 */
#ifndef LIBOS_PAGEALLOC_H
#define LIBOS_PAGEALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096u

struct page_pool {
	uintptr_t base;  /* first managed page */
	size_t npages;
	uint64_t *used;  /* one bit per page, set while in use (bitmap lives in the region) */
	uintptr_t brk;   /* heap break: [base, brk) belongs to the heap */
	size_t nfree;
};

/*
 * Manage [start, start + bytes): the bitmap takes the first pages. Returns 0,
 * or -ENOMEM when the region cannot hold its own bitmap and one page.
 */
int page_pool_init(struct page_pool *p, uintptr_t start, size_t bytes);

/* n contiguous pages (contents undefined), or NULL when no such run is free. */
void *page_alloc(struct page_pool *p, size_t n);

/* Give back n pages from page_alloc. Returns 0, or -EINVAL when they were not allocated. */
int page_free(struct page_pool *p, void *addr, size_t n);

/*
 * Move the heap break by incr bytes (sbrk). Returns the old break, or NULL
 * (and the break unchanged) when the pages above it are taken or it would
 * leave the region.
 */
void *page_pool_sbrk(struct page_pool *p, intptr_t incr);

#endif /* LIBOS_PAGEALLOC_H */
