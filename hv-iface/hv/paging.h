/* SPDX-License-Identifier: MIT */
/* x86-64 identity page tables, built once before the first entry; pure, unit-tested on the host. */
#ifndef HV_PAGING_H
#define HV_PAGING_H

#include <stdint.h>

/* Mapping attributes; a range with none of them is mapped read-only, supervisor, no-exec. */
#define PG_USER 1u
#define PG_WRITE 2u
#define PG_EXEC 4u

/* A 4 KiB-aligned guest-physical range mapped at the same virtual address. */
struct pg_range {
	uint64_t gpa;
	uint64_t size;
	unsigned attr; /* PG_* */
};

/*
 * Build identity page tables for the given ranges (4 KiB aligned, below
 * 4 GiB, not overlapping); everything else is left unmapped. A 2 MiB region
 * that one range covers entirely gets a large page; any other region with a
 * mapped byte gets a table of 4 KiB pages. Table pages are taken from
 * [pool, pool_end) in guest memory mem (host address of gpa 0), which must
 * be zeroed. Every entry is created with its accessed and dirty bits set so
 * the CPU never has to write them. Returns 0 and the root in *cr3, -EINVAL
 * for a bad range, or -ENOSPC when the pool is too small.
 */
int paging_build(uint8_t *mem, uint64_t pool, uint64_t pool_end, const struct pg_range *ranges,
		 unsigned nr_ranges, uint64_t *cr3);

/*
 * Translate va through the tables rooted at cr3, reading guest memory
 * [0, mem_size). Returns 0 with the physical address and the effective PG_*
 * attributes, or -ENOENT when va is not mapped (-EFAULT when a table
 * pointer leaves guest memory).
 */
int paging_walk(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t va, uint64_t *pa,
		unsigned *attr);

#endif /* HV_PAGING_H */
