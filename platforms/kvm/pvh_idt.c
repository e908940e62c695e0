/* SPDX-License-Identifier: MIT */
/*
 * The PVH platform's IDT and trap dispatch: exceptions (vectors 0-31) end
 * the guest with a report, device interrupts (by GSI) run their handler,
 * the LAPIC timer only wakes a halted CPU, and spurious or unknown vectors
 * are counted and ignored (those no device uses share one stub). A TSS gives #DF a stack of its own, so a stack
 * overflow is reported instead of shutting the CPU down.
 */
#include <errno.h>
#include <stdint.h>

#include "libos.h"
#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define NR_VECTORS 256
#define NR_EXCEPTIONS 32
#define VECTOR_DF 8
#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */
#define TSS_AVAILABLE 0x89  /* present, DPL 0, available 64-bit TSS */
#define IST_DF 1

/* SDM vol. 3A 6.14.1, figure 6-8. */
struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

/* SDM vol. 3A 8.7, figure 8-11. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "an IDT gate is 16 bytes");
_Static_assert(sizeof(struct tss64) == 104, "the 64-bit TSS is 104 bytes");

/* In pvh_entry.S (page-sized, NOLOAD) and pvh_traps.S. */
extern struct idt_gate pvh_idt[NR_VECTORS];
extern uint64_t pvh_gdt[];
extern char pvh_fault_stack_top[];
extern char pvh_trap_stubs[], pvh_trap_stubs_end[];

static struct tss64 tss;
static struct {
	pvh_irq_handler_t fn;
	void *arg;
} irq_handlers[PVH_NR_GSIS];
static unsigned long device_count, timer_count, spurious_count, unknown_count;

/* pvh_traps.S's stubs, in order: vectors 0 to the last GSI's, the LAPIC's three, the rest. */
#define NR_OWN_STUBS (PVH_VECTOR_GSI_BASE + PVH_NR_GSIS)
#define NR_STUBS (NR_OWN_STUBS + 4)

static unsigned stub_of(unsigned vector)
{
	if (vector < NR_OWN_STUBS)
		return vector;
	switch (vector) {
	case PVH_VECTOR_TIMER:
		return NR_OWN_STUBS;
	case PVH_VECTOR_XEN_UPCALL:
		return NR_OWN_STUBS + 1;
	case PVH_VECTOR_SPURIOUS:
		return NR_OWN_STUBS + 2;
	default:
		return NR_OWN_STUBS + 3;
	}
}

static void set_gate(unsigned vector, uintptr_t handler, uint8_t ist)
{
	pvh_idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)handler,
		.selector = PVH_SEL_CODE,
		.ist = ist,
		.type = GATE_INTERRUPT,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_high = (uint32_t)(handler >> 32),
	};
}

/* The 16-byte system descriptor of the TSS at PVH_SEL_TSS (SDM vol. 3A 8.2.3). */
static void load_tss(void)
{
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;

	tss.ist[IST_DF - 1] = (uintptr_t)pvh_fault_stack_top;
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 0 needs none */
	pvh_gdt[PVH_SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
				   (uint64_t)TSS_AVAILABLE << 40 | ((limit >> 16) & 0xf) << 48 |
				   ((base >> 24) & 0xff) << 56;
	pvh_gdt[PVH_SEL_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)PVH_SEL_TSS));
}

void pvh_idt_init(void)
{
	static struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;

	if (pvh_trap_stubs_end - pvh_trap_stubs != 16 * NR_STUBS) {
		pvh_printf("pvh: the trap stubs are not 16 bytes each\n"); /* a build bug */
		pvh_exit(LIBOS_PANIC_STATUS);
	}
	load_tss();
	for (unsigned v = 0; v < NR_VECTORS; v++)
		set_gate(v, (uintptr_t)pvh_trap_stubs + 16 * stub_of(v), v == VECTOR_DF ? IST_DF : 0);
	idtr.limit = sizeof(struct idt_gate) * NR_VECTORS - 1;
	idtr.base = (uintptr_t)pvh_idt;
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

int pvh_irq_bind(unsigned gsi, pvh_irq_handler_t fn, void *arg)
{
	if (gsi >= PVH_NR_GSIS || irq_handlers[gsi].fn)
		return -EBUSY;
	irq_handlers[gsi].fn = fn;
	irq_handlers[gsi].arg = arg;
	return pvh_ioapic_route(gsi, (uint8_t)(PVH_VECTOR_GSI_BASE + gsi), pvh_lapic_id());
}

void pvh_trap(struct pvh_trap_frame *f)
{
	uint64_t v = f->vector;

	if (v < NR_EXCEPTIONS)
		pvh_fault(f);
	if (v == PVH_VECTOR_XEN_UPCALL && pvh_on_xen) { /* no LAPIC involved: no EOI */
		xen_pvh_upcall(&f->rflags);
		return;
	}
	if (v == PVH_VECTOR_SPURIOUS) { /* not in service: no EOI (SDM vol. 3A 11.9) */
		spurious_count++;
		return;
	}
	if (v >= PVH_VECTOR_GSI_BASE && v < PVH_VECTOR_GSI_BASE + PVH_NR_GSIS &&
	    irq_handlers[v - PVH_VECTOR_GSI_BASE].fn) {
		irq_handlers[v - PVH_VECTOR_GSI_BASE].fn(irq_handlers[v - PVH_VECTOR_GSI_BASE].arg);
		device_count++;
	} else if (v == PVH_VECTOR_TIMER) { /* it only ends a hlt: nothing to do */
		timer_count++;
	} else {
		unknown_count++;
	}
	pvh_lapic_eoi();
}

void pvh_idt_report(void)
{
	pvh_printf("pvh: interrupts: %lu from devices, %lu from the timer, %lu spurious and %lu "
		   "unknown (ignored)\n",
		   device_count, timer_count, spurious_count, unknown_count);
}
