/* SPDX-License-Identifier: MIT */
/*
 * A PVH guest of Xen (a domU of type pvh, or dom0 with dom0=pvh): the PVH
 * entry's page tables and IDT as on QEMU, then Xen's ways for the rest:
 *   - hypercalls through the page Xen writes when its MSR is given the
 *     page's address (ring 0: Xen refuses them from ring 3 of a PVH guest);
 *   - RAM from XENMEM_memory_map (dom0's hvm_start_info has no memory map);
 *   - the shared-info page put at pvh_shared_info's frame;
 *   - upcalls as an IDT vector, level-triggered on evtchn_upcall_pending:
 *     the guest runs with interrupts off and opens them only in block()'s
 *     `sti; hlt`, whose handler returns with them off again;
 *   - grant maps into a hole above every entry of the memory map.
 */
#include <stdint.h>
#include <string.h>

#include "libos.h"
#include "pvh.h"
#include "pvh_cmdline.h"
#include "pvh_cpu_x86_64.h"
#include "pvh_start_info.h"
#include "xen.h"

/* In the image only with what uses them (xen.h); NULL otherwise. */
#pragma weak xen_store_init
#pragma weak xen_store_domid
#pragma weak xen_attach_devices

#define PAGE 4096ull
#define MAX_MAP 128
#define WINDOW_ALIGN (2ull << 20)
#define WINDOW_LIMIT 0xc0000000ull /* pvh_entry.S maps the top GiB uncached: devices only */
#define RFLAGS_IF 0x200ull
#define MAPPED_PAGES (0x100000000ull / PAGE) /* pvh_entry.S maps the low 4 GiB */

/* "XenVMMXenVMM" in ebx, ecx, edx of the first leaf; Xen may start at any 0x100 step. */
uint32_t xen_cpuid_base(void)
{
	uint32_t r[4];

	for (uint32_t base = 0x40000000u; base < 0x40010000u; base += 0x100) {
		cpuid(base, 0, r);
		if (r[1] == 0x566e6558 && r[2] == 0x65584d4d && r[3] == 0x4d4d566e &&
		    r[0] - base >= 2)
			return base;
	}
	return 0;
}

static struct boot boot;
static struct hvm_memmap_table_entry memmap[MAX_MAP];
static unsigned long upcalls;

void xen_pvh_upcall(uint64_t *rflags)
{
	*rflags &= ~RFLAGS_IF;
	upcalls++;
}

static void xen_pvh_block(uint64_t deadline_ns)
{
	if (__atomic_load_n(&xen.shared->vcpu_info[0].evtchn_upcall_pending, __ATOMIC_SEQ_CST))
		return;
	if (deadline_ns != HV_DEADLINE_NONE) {
		if (clock_monotonic_ns() >= deadline_ns)
			return;
		xen_set_deadline(deadline_ns);
	}
	irq_enable_and_halt();
	irq_disable();
}

static const struct platform xen_pvh_platform = {
	.name = "xen-pvh",
	.console_write = xen_console_write,
	.wallclock = xen_wallclock,
	.block = xen_pvh_block,
	.pv_call = xen_pv_call,
	.attach_devices = xen_attach_devices,
	.frame_of = NULL, /* guest frames */
	.exit = xen_exit,
};

/* Hypercalls: Xen writes its page of call stubs where the MSR that leaf base+2 names points. */
static void hypercall_page_init(uint32_t base)
{
	uint32_t r[4];

	cpuid(base + 2, 0, r);
	wrmsr(r[1], (uintptr_t)xen_hypercall_page);
}

/* The memory map Xen keeps for this domain, as the PVH memory map's entries. */
static uint32_t memory_map(void)
{
	static struct xen_e820_entry e820[MAX_MAP];
	struct xen_memory_map m = { .nr_entries = MAX_MAP, .buffer = (uintptr_t)e820 };
	long rc = xen_hc2(XEN_HC_MEMORY_OP, XENMEM_MEMORY_MAP, &m);

	if (rc || m.nr_entries == 0 || m.nr_entries > MAX_MAP)
		xen_fail("XENMEM_memory_map gave no memory map");
	for (uint32_t i = 0; i < m.nr_entries; i++) {
		memmap[i] = (struct hvm_memmap_table_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
		if (pvh_debug)
			pvh_printf("xen: memory %#llx-%#llx type %u\n",
				   (unsigned long long)e820[i].addr,
				   (unsigned long long)(e820[i].addr + e820[i].size), e820[i].type);
	}
	return m.nr_entries;
}

static uint64_t align_up(uint64_t a)
{
	return (a + WINDOW_ALIGN - 1) & ~(WINDOW_ALIGN - 1);
}

/*
 * Grant maps take guest frames nothing else uses: the first aligned range
 * above the last RAM (or unusable RAM, which dom0's map shows for the host
 * RAM it does not have) that overlaps no entry of the map, below 3 GiB.
 */
static void grant_window(uint32_t n)
{
	uint64_t size = XEN_GRANT_MAPS * PAGE, w = 0;
	int moved = 1;

	for (uint32_t i = 0; i < n; i++)
		if (memmap[i].type == XEN_HVM_MEMMAP_TYPE_RAM ||
		    memmap[i].type == XEN_HVM_MEMMAP_TYPE_UNUSABLE)
			if (memmap[i].addr + memmap[i].size > w)
				w = memmap[i].addr + memmap[i].size;
	for (w = align_up(w); moved && w + size <= WINDOW_LIMIT;) {
		moved = 0;
		for (uint32_t i = 0; i < n; i++)
			if (memmap[i].addr < w + size && memmap[i].addr + memmap[i].size > w) {
				w = align_up(memmap[i].addr + memmap[i].size);
				moved = 1;
			}
	}
	if (w + size > WINDOW_LIMIT)
		xen_fail("no hole below 3 GiB for the grant window");
	xen.grant_window = w;
}

static void shared_info_init(void)
{
	struct xen_add_to_physmap a = { .domid = XEN_DOMID_SELF, .space = XENMAPSPACE_SHARED_INFO,
					.idx = 0, .gpfn = (uintptr_t)&pvh_shared_info / PAGE };

	if (xen_hc2(XEN_HC_MEMORY_OP, XENMEM_ADD_TO_PHYSMAP, &a))
		xen_fail("XENMEM_add_to_physmap of the shared-info page failed");
	xen.shared = &pvh_shared_info;
}

static uint64_t hvm_param(uint32_t index)
{
	struct xen_hvm_param p = { .domid = XEN_DOMID_SELF, .index = index };

	return xen_hc2(XEN_HC_HVM_OP, HVMOP_GET_PARAM, &p) ? 0 : p.value;
}

/* A domU's console ring and xenstore: guest frames the toolstack filled, mapped below 4 GiB. */
static void domu_rings_init(void)
{
	uint64_t console = hvm_param(HVM_PARAM_CONSOLE_PFN), store = hvm_param(HVM_PARAM_STORE_PFN);

	if (xen.dom0)
		return;
	if (console && console < MAPPED_PAGES)
		xen_console_ring_init((void *)(uintptr_t)(console * PAGE),
				      (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN));
	if (!xen_store_init)
		return; /* nothing in this image uses the store */
	if (store && store < MAPPED_PAGES)
		xen_store_init((void *)(uintptr_t)(store * PAGE),
			       (uint32_t)hvm_param(HVM_PARAM_STORE_EVTCHN));
	if (xen_store_domid(&xen.domid))
		xen_fail("xenstore gave no domid for this domain");
}

static void upcall_vector_init(void)
{
	struct xen_hvm_param p = { .domid = XEN_DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
				   .value = HVM_CALLBACK_VECTOR(PVH_VECTOR_XEN_UPCALL) };

	if (xen_hc2(XEN_HC_HVM_OP, HVMOP_SET_PARAM, &p))
		xen_fail("HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ) failed");
}

_Noreturn void xen_pvh_start(const struct hvm_start_info *si, uint64_t tsc_base)
{
	struct pvh_cmdline cl; /* on the boot stack, which outlives libos_start() */
	uint32_t n;

	hypercall_page_init(xen_cpuid_base());
	pvh_on_xen = 1;
	xen.dom0 = xen_is_dom0();
	xen.domid = xen.dom0 ? 0 : XEN_DOMID_SELF;
	domu_rings_init();
	pvh_idt_init();
	if (si->magic != XEN_HVM_START_MAGIC_VALUE)
		xen_fail("%ebx does not point at an hvm_start_info (wrong magic)");
	pvh_take_args((const char *)(uintptr_t)si->cmdline_paddr, "xen", &cl, &boot);
	n = memory_map();
	pvh_take_ram(memmap, n, &boot);
	grant_window(n);
	pvh_unmap_page0();
	shared_info_init();
	upcall_vector_init();
	xen_boot_finish(&boot, &xen_pvh_platform, tsc_base);
}
