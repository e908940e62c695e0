/* SPDX-License-Identifier: MIT */
/*
 * A PV guest of Xen (dom0 by default, or a domU of type pv): ring 3 by
 * Xen's design, entered at xen_pv_entry (xen_entry.S) with the boot area
 * mapped. From the start_info to a struct boot, one step per line in
 * xen_pv_start(). Upcalls stay masked except while blocked: SCHEDOP_block
 * unmasks them, and the event callback returns with them masked again.
 */
#include <string.h>

#include "libos.h"
#include "pvh.h"
#include "pvh_cmdline.h"
#include "xen.h"

/* In the image only with what uses them (xen.h); NULL otherwise. */
#pragma weak xen_store_init
#pragma weak xen_store_domid
#pragma weak xen_attach_devices

#define PAGE 4096ull
#define PTE_SHARED_INFO 0x067ull /* a shared page: present, writable, user, accessed, dirty */

extern char pvh_stack_guard[];  /* pvh_entry.S: the page below the boot stack */
void xen_pv_event_callback(void); /* xen_entry.S */
void xen_pv_failsafe_callback(void);
_Noreturn void xen_pv_start(const struct xen_start_info *si, uint64_t xen_stack_top);
_Noreturn void xen_pv_failsafe(void);
_Noreturn void xen_pv_trap(const struct pvh_trap_frame *f);
#define TRAP(v) void xen_pv_trap_##v(void);
TRAP(0) TRAP(1) TRAP(3) TRAP(4) TRAP(5) TRAP(6) TRAP(7) TRAP(10) TRAP(11) TRAP(12) TRAP(13)
TRAP(14) TRAP(16) TRAP(17) TRAP(19)
#undef TRAP

static struct boot boot;
/* Where a domU's console and xenstore pages are mapped: pages of the image's own. */
static char console_page[4096] __attribute__((aligned(4096)));
static char store_page[4096] __attribute__((aligned(4096)));

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

_Noreturn void xen_pv_failsafe(void)
{
	xen_fail("Xen's failsafe callback: a return to the guest could not load its segments");
}

/* Xen's #PF leaves the faulting address in vcpu_info, where a PV guest reads its CR2. */
_Noreturn void xen_pv_trap(const struct pvh_trap_frame *f)
{
	pvh_fault_cr2(f, xen.shared->vcpu_info[0].arch_cr2);
}

/*
 * Every exception goes to the fault report, as on hv and QEMU; int3 may be
 * raised from our own ring. A stack overflow cannot be reported: Xen would
 * put the frame on the overflowed stack, and crashes the domain instead.
 */
static void trap_table_init(void)
{
#define T(v, dpl) { v, dpl, FLAT_KERNEL_CS64, 0, (uintptr_t)xen_pv_trap_##v }
	static const struct xen_trap_info table[] = {
		T(0, 0), T(1, 0), T(3, 3), T(4, 0), T(5, 0), T(6, 0), T(7, 0), T(10, 0), T(11, 0),
		T(12, 0), T(13, 0), T(14, 0), T(16, 0), T(17, 0), T(19, 0), { 0, 0, 0, 0, 0 },
	};
#undef T

	if (xen_hc1(XEN_HC_SET_TRAP_TABLE, table))
		xen_fail("set_trap_table failed");
}

static void xen_pv_block(uint64_t deadline_ns)
{
	struct hv_vcpu_info *v = &xen.shared->vcpu_info[0];

	if (__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
		return;
	if (deadline_ns != HV_DEADLINE_NONE) {
		if (clock_monotonic_ns() >= deadline_ns)
			return;
		xen_set_deadline(deadline_ns);
	}
	xen_hc2(XEN_HC_SCHED_OP, SCHEDOP_BLOCK, 0);
	__atomic_store_n(&v->evtchn_upcall_mask, 1, __ATOMIC_SEQ_CST);
}

static uint64_t xen_pv_frame_of(const void *va)
{
	return xen_frame_of((uintptr_t)va);
}

static const struct platform xen_pv_platform = {
	.name = "xen-pv",
	.console_write = xen_console_write,
	.wallclock = xen_wallclock,
	.block = xen_pv_block,
	.pv_call = xen_pv_call,
	.attach_devices = xen_attach_devices,
	.frame_of = xen_pv_frame_of,
	.exit = xen_exit,
};

/* The shared-info page at pvh_shared_info (a page of the image's that nothing else uses). */
static void shared_info_init(const struct xen_start_info *si)
{
	if (xen_pv_set_pte((uintptr_t)&pvh_shared_info, si->shared_info | PTE_SHARED_INFO))
		xen_fail("the shared-info page could not be mapped");
	xen.shared = &pvh_shared_info;
}

static void callbacks_init(void)
{
	if (xen_hc3(XEN_HC_SET_CALLBACKS, (uintptr_t)xen_pv_event_callback,
		    (uintptr_t)xen_pv_failsafe_callback, 0))
		xen_fail("set_callbacks failed");
}

/* A domU's console ring and xenstore, from the start_info; dom0 has console_io and no store. */
static void domu_rings_init(const struct xen_start_info *si)
{
	if (xen.dom0)
		return;
	if (si->console_mfn && !xen_pv_set_pte((uintptr_t)console_page,
					      si->console_mfn * PAGE | PTE_SHARED_INFO))
		xen_console_ring_init(console_page, si->console_evtchn);
	if (!xen_store_init)
		return; /* nothing in this image uses the store */
	if (si->store_mfn && !xen_pv_set_pte((uintptr_t)store_page,
					    si->store_mfn * PAGE | PTE_SHARED_INFO))
		xen_store_init(store_page, si->store_evtchn);
	if (xen_store_domid(&xen.domid))
		xen_fail("xenstore gave no domid for this domain");
}

/* A null pointer and a run off the boot stack fault, as on hv. */
static void guard_pages(void)
{
	if (xen_pv_set_pte(0, 0) || xen_pv_set_pte((uintptr_t)pvh_stack_guard, 0))
		xen_fail("page 0 or the stack guard could not be unmapped");
}

_Noreturn void xen_pv_start(const struct xen_start_info *si, uint64_t xen_stack_top)
{
	struct pvh_cmdline cl; /* on the boot stack, which outlives libos_start() */
	uint64_t tsc_base = rdtsc(), ram_lo, ram_end;

	libos_clear_bss();
	pvh_on_xen = 1;
	xen.pv = 1;
	xen.dom0 = (si->flags & SIF_INITDOMAIN) != 0;
	if (strncmp(si->magic, "xen-3.0-x86_64", 14))
		xen_fail("%rsi does not point at a 64-bit start_info (wrong magic)");
	xen.p2m = (const uint64_t *)(uintptr_t)si->mfn_list;
	xen.nr_pages = si->nr_pages;
	xen.domid = xen.dom0 ? 0 : XEN_DOMID_SELF;
	shared_info_init(si);
	domu_rings_init(si);
	trap_table_init();
	callbacks_init();
	pvh_take_args(si->cmd_line, "xen", &cl, &boot);
	xen_pv_map_ram(si, xen_stack_top, &ram_lo, &ram_end);
	boot.ram[boot.nr_ram++] = (struct boot_ram){ ram_lo, ram_end - ram_lo };
	pvh_fault_set_ram_top(ram_end);
	guard_pages();
	xen_boot_finish(&boot, &xen_pv_platform, tsc_base);
}
