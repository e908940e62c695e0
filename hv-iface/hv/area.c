/* SPDX-License-Identifier: MIT */
/*
 * A watch on hv's own area of each domain's memory. What hv wrote below the
 * image before the guest's first instruction (descriptor tables, TSS and
 * I/O bitmap, fault stubs, page tables, boot info, arguments) must read the
 * same once the guest and its devices have stopped: the guest cannot write
 * there (the pages are supervisor-only or read-only to it), and neither may
 * any hypercall or device hv serves for it. A difference is a bug in hv, so
 * the check runs at every domain's end, not only in tests; it costs a pass
 * over about 1 MiB.
 *
 * The CPU itself writes three kinds of bits there on the kvm backend: the
 * accessed bit of a segment descriptor when it loads one, the busy bit of
 * the TSS descriptor when it loads TR, and the accessed and dirty bits of
 * page-table entries. Those are masked; nothing else may change.
 */
#include <stdio.h>

#include "hv.h"

/* The watched pages, in order, each with the bits of every 8-byte word the CPU may set. */
static const struct {
	uint64_t gpa, end, cpu_bits;
	const char *what;
} watched[] = {
	{ HV_L_GDT, HV_L_GDT + HV_PAGE_SIZE, 3ull << 40, "GDT" }, /* accessed; TSS busy */
	{ HV_L_IDT, HV_L_IDT + HV_PAGE_SIZE, 0, "IDT" },
	{ HV_L_TSS, HV_L_STUBS, 0, "TSS and I/O bitmap" },
	{ HV_L_STUBS, HV_L_FSTACK, 0, "fault stubs" },
	{ HV_L_PT_POOL, HV_L_SEND_RING, 3ull << 5, "page tables" }, /* accessed, dirty */
	{ HV_L_BOOT_INFO, HV_L_ARGS, 0, "boot info" },
	{ HV_L_ARGS, HV_L_SHARED, 0, "argument strings" },
};

static uint64_t page_digest(const uint8_t *page, uint64_t cpu_bits)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < HV_PAGE_SIZE / 8; i++) {
		h ^= w[i] & ~cpu_bits;
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

/* Seal: record each watched page's digest. Check: compare, naming the first that differs. */
static int walk(struct hv_vm *vm, bool seal)
{
	unsigned n = 0;

	for (unsigned r = 0; r < sizeof(watched) / sizeof(watched[0]); r++)
		for (uint64_t gpa = watched[r].gpa; gpa < watched[r].end; gpa += HV_PAGE_SIZE, n++) {
			uint64_t d = page_digest(vm->mem + gpa, watched[r].cpu_bits);

			if (seal) {
				vm->area_digest[n] = d;
			} else if (d != vm->area_digest[n]) {
				fprintf(stderr, "hv: %s: hv's own page at 0x%llx (%s) changed while "
					"the domain ran: a bug in hv\n", vm->name,
					(unsigned long long)gpa, watched[r].what);
				return -1;
			}
		}
	return 0;
}

void area_seal(struct hv_vm *vm)
{
	walk(vm, true);
}

int area_check(struct hv_vm *vm)
{
	return walk(vm, false);
}
