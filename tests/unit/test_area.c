/* SPDX-License-Identifier: MIT */
/*
 * area.c: a domain's own-area check passes over an untouched area and over bits the CPU
 * sets (descriptor accessed and busy, page-table accessed and dirty), and names the page of
 * any other change: each watched page, its first and last byte.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv.h"

static struct hv_vm vm = { .name = "t" };

static void fill(void)
{
	for (uint64_t i = HV_L_GDT; i < HV_L_SHARED; i++)
		vm.mem[i] = (uint8_t)(i * 7 + (i >> 12));
}

int main(void)
{
	unsigned changes = 0;

	vm.mem = calloc(1, HV_IMAGE_BASE);
	assert(vm.mem);
	fill();
	area_seal(&vm);
	assert(area_check(&vm) == 0);

	/* What the CPU writes is no change. */
	vm.mem[HV_L_GDT + 8 + 5] ^= 1 | 2;        /* a descriptor's accessed bit, TSS busy */
	vm.mem[HV_L_PT_POOL + 0x5000 + 8] ^= 0x60; /* a PTE's accessed and dirty bits */
	assert(area_check(&vm) == 0);
	/* Neither is the fault stack, the send ring or the shared-info page. */
	vm.mem[HV_L_FSTACK + 100] ^= 0xff;
	vm.mem[HV_L_SEND_RING + 3] ^= 0xff;
	vm.mem[HV_L_SHARED + 9] ^= 0xff;
	assert(area_check(&vm) == 0);

	/* Any other bit in a watched page is; the first report shows, the others go unprinted. */
	vm.mem[HV_L_TSS + 0x30] ^= 4;
	assert(area_check(&vm) == -1);
	vm.mem[HV_L_TSS + 0x30] ^= 4;
	assert(freopen("/dev/null", "w", stderr));
	for (uint64_t page = HV_L_GDT; page < HV_L_SHARED; page += HV_PAGE_SIZE) {
		if ((page >= HV_L_FSTACK && page < HV_L_PT_POOL) || page == HV_L_SEND_RING)
			continue;
		for (uint64_t at = page; at < page + HV_PAGE_SIZE; at += HV_PAGE_SIZE - 1) {
			vm.mem[at] ^= 0x80;
			assert(area_check(&vm) == -1);
			vm.mem[at] ^= 0x80;
			assert(area_check(&vm) == 0);
			changes++;
		}
	}
	assert(changes == 2 * HV_AREA_PAGES);
	printf("area: %u changes in %u watched pages each found; CPU-set bits ignored\n", changes,
	       (unsigned)HV_AREA_PAGES);
	return 0;
}
