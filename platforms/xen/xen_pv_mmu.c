/* SPDX-License-Identifier: MIT */
/*
 * A PV guest's page tables. Xen maps only the boot area (the image, the
 * start_info, the pseudo-physical-to-machine list, the boot page tables and
 * stack, and at least 512 KiB more), read-only where it holds page tables,
 * and lets the guest change them only through hypercalls that check each
 * entry: update_va_mapping for one page, mmu_update for an entry of a table.
 *
 * The rest of RAM is mapped here at virtual == pseudo-physical addresses,
 * 2 MiB at a time: a new level-1 table is filled while it is an ordinary
 * page, mapped read-only, then hooked into the level-2 table with
 * mmu_update, which Xen validates. The tables come from the pages above the
 * boot stack, and then from RAM already mapped. The tables Xen built are
 * found through the read-only machine-to-pseudo-physical map.
 */
#include <stdint.h>

#include "libos.h"
#include "pvh.h"
#include "xen.h"

#define PAGE 4096ull
#define CHUNK (2ull << 20) /* what one level-1 table maps */
#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_US 0x004ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define PTE_ADDR 0x000ffffffffff000ull
#define PTE_PAGE (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define PTE_PAGE_RO (PTE_P | PTE_US | PTE_A | PTE_D)
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)

int xen_pv_set_pte(uint64_t va, uint64_t pte)
{
	return xen_hc3(XEN_HC_UPDATE_VA_MAPPING, va, pte, UVMF_INVLPG) ? -1 : 0;
}

static uint64_t mfn_of_entry(uint64_t entry)
{
	return (entry & PTE_ADDR) >> 12;
}

/* Where a table of Xen's boot page tables is mapped: its pseudo-physical address. */
static uint64_t *table_of_entry(uint64_t entry)
{
	const uint64_t *m2p = (const uint64_t *)XEN_M2P_BASE;

	return (uint64_t *)(uintptr_t)(m2p[mfn_of_entry(entry)] * PAGE);
}

/*
 * Map pseudo-physical frames [0, pages) at their own addresses and make
 * level-1 tables for the grant window above them, taking the tables from
 * first_free up. RAM for libos is what is left: [*ram_lo, pages * 4096).
 */
static void map_first_gib(const struct xen_start_info *si, uint64_t first_free, uint64_t pages,
			  uint64_t *ram_lo)
{
	uint64_t *l4 = (uint64_t *)(uintptr_t)si->pt_base, *l3, *l2, l2_mfn;
	uint64_t chunks = (xen.grant_window + XEN_GRANT_MAPS * PAGE + CHUNK - 1) / CHUNK;
	uint64_t next = first_free, mapped = 0;

	if (!(l4[0] & PTE_P) || !((l3 = table_of_entry(l4[0]))[0] & PTE_P))
		xen_fail("Xen's boot page tables do not map the first GiB");
	l2_mfn = mfn_of_entry(l3[0]);
	l2 = table_of_entry(l3[0]);
	while (mapped < 512 && (l2[mapped] & PTE_P))
		mapped++; /* the boot area: whole 4 MiB steps */
	for (uint64_t c = mapped; c < chunks; c++) {
		uint64_t *l1 = (uint64_t *)(uintptr_t)next, l1_mfn = xen.p2m[next / PAGE];
		struct xen_mmu_update u = { .ptr = (l2_mfn * PAGE + c * 8) | MMU_NORMAL_PT_UPDATE,
					.val = (l1_mfn * PAGE) | PTE_TABLE };

		if (next + PAGE > c * CHUNK || next + PAGE > pages * PAGE)
			xen_fail("no mapped page left for a page table");
		next += PAGE;
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t pfn = c * 512 + i;

			l1[i] = pfn < pages ? xen.p2m[pfn] * PAGE | PTE_PAGE : 0;
		}
		if (xen_pv_set_pte((uintptr_t)l1, l1_mfn * PAGE | PTE_PAGE_RO) ||
		    xen_hc4(XEN_HC_MMU_UPDATE, &u, 1, NULL, XEN_DOMID_SELF))
			xen_fail("Xen refused a page table for RAM");
	}
	*ram_lo = next;
}

void xen_pv_map_ram(const struct xen_start_info *si, uint64_t first_free, uint64_t *ram_lo,
		    uint64_t *ram_end)
{
	uint64_t pages = si->nr_pages, window = XEN_GRANT_MAPS * PAGE;

	if (pages * PAGE + CHUNK + window > XEN_PV_MAX_RAM) {
		pages = (XEN_PV_MAX_RAM - CHUNK - window) / PAGE;
		pvh_printf("xen: PV maps %llu of this domain's %llu MiB of RAM (XEN_PV_MAX_RAM)\n",
			   (unsigned long long)(pages >> 8), (unsigned long long)(si->nr_pages >> 8));
	}
	xen.grant_window = (pages * PAGE + CHUNK - 1) & ~(CHUNK - 1);
	map_first_gib(si, (first_free + PAGE - 1) & ~(PAGE - 1), pages, ram_lo);
	*ram_end = pages * PAGE;
	if (*ram_lo >= *ram_end)
		xen_fail("no RAM left above the boot area");
}
