/* SPDX-License-Identifier: MIT */
/*
 * The PVH platform's own interfaces: how its files (entry, serial console,
 * clocks, interrupt controllers, traps, devices) call each other, and its
 * tunables. Used on QEMU -M microvm; nothing in libos includes this.
 */
#ifndef PVH_H
#define PVH_H

/* Tunables. */
#define PVH_STACK_SIZE (256 * 1024) /* bytes: the boot (main) stack, in the image */
#define PVH_PORTS_PER_DEVICE 4      /* event-channel ports each virtio device gets */
#define PVH_CALIBRATE_US 5000       /* how long the PIT measures the TSC and LAPIC timer */

/* Exit statuses of the platform itself (the guest's own come through exit()). */
#define PVH_EXIT_FAULT 80           /* a CPU exception, as on hv */
#define PVH_EXIT_HANG 82            /* blocked forever with nothing to wake it, as on hv */

/* Interrupt vectors: IRQ by GSI from PVH_VECTOR_GSI_BASE; the LAPIC's own at the top. */
#define PVH_VECTOR_GSI_BASE 0x20
#define PVH_NR_GSIS 48 /* two IO APICs */
#define PVH_VECTOR_TIMER 0xf0
#define PVH_VECTOR_XEN_UPCALL 0xf3 /* on Xen: an event is pending */
#define PVH_VECTOR_SPURIOUS 0xff
/* What the stub of every other vector pushes: no such vector exists. */
#define PVH_VECTOR_OTHER 0x100

/* The selectors of the entry's GDT: 64-bit code, data, and the TSS that gives #DF its stack. */
#define PVH_SEL_CODE 0x08
#define PVH_SEL_DATA 0x10
#define PVH_SEL_TSS 0x18

#ifdef __ASSEMBLER__
/* The general registers of struct pvh_trap_frame, pushed below what the CPU (or Xen) pushed. */
.macro pvh_push_gprs
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
.endm
#else
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

/* The frame pvh_traps.S builds for every vector: general registers, then what the CPU pushed. */
struct pvh_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error; /* the CPU's error code, or 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Take page 0 out of the page tables (pvh_entry.S). */
void pvh_unmap_page0(void);

/* Set by the pvh.debug command-line flag: say what the platform found at boot. */
extern int pvh_debug;

/* Console: COM1, polled (pvh_serial.c). */
void pvh_serial_init(void);
void pvh_serial_write(const char *buf, size_t len);
/* printf to the console without stdio or malloc, for boot messages and fault reports. */
void pvh_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* End QEMU with status (pvh_exit.c). */
_Noreturn void pvh_exit(int status);

/* Traps: the IDT, and the C side of every vector (pvh_idt.c, pvh_traps.S). */
void pvh_idt_init(void);
void pvh_trap(struct pvh_trap_frame *f);
void pvh_idt_report(void); /* says how many interrupts of each kind came */
/* A device interrupt handler for a GSI; runs with interrupts off, before the EOI. */
typedef void (*pvh_irq_handler_t)(void *arg);
int pvh_irq_bind(unsigned gsi, pvh_irq_handler_t fn, void *arg);

/* CPU exceptions: report and end the guest (pvh_fault.c); reports read RAM below ram_top only. */
_Noreturn void pvh_fault(const struct pvh_trap_frame *f);
_Noreturn void pvh_fault_cr2(const struct pvh_trap_frame *f, uint64_t cr2); /* CR2 given: Xen PV */
void pvh_fault_set_ram_top(uint64_t ram_top);

/* Local APIC (pvh_lapic.c): its timer is one-shot, in its own ticks. */
void pvh_lapic_init(void);
void pvh_lapic_eoi(void);
uint32_t pvh_lapic_id(void);
void pvh_lapic_timer_start(uint32_t ticks, int masked);
uint32_t pvh_lapic_timer_count(void);
void pvh_lapic_timer_stop(void);

/* IO APICs (pvh_ioapic.c): route a GSI to a vector on this CPU, level-triggered. */
int pvh_ioapic_init(void);
int pvh_ioapic_route(unsigned gsi, uint8_t vector, uint32_t apic_id);
int pvh_ioapic_present(unsigned gsi);

/* TSC and LAPIC timer rates, measured against the PIT (pvh_calibrate.c); pvh_tsc_hz is 0 before. */
void pvh_calibrate(uint64_t *tsc_hz, uint64_t *lapic_hz);
extern uint64_t pvh_tsc_hz;

/* Wall clock from the CMOS RTC (pvh_rtc.c): ns since the Unix epoch. */
uint64_t pvh_rtc_read_ns(void);

/* The shared-info page events are raised in (pvh_events.c; a page in pvh_entry.S). */
extern struct hv_shared_info pvh_shared_info;
void pvh_events_init(void);
void pvh_event_raise(uint32_t port);

/*
 * Virtio-mmio devices (pvh_virtio.c): from the command line's entries, else by probing. Only
 * in the image with libos's device discovery (libos/virtio/virtio.c names it), which a virtio
 * driver brings in; without one the devices are not looked for.
 */
struct pvh_cmdline;
void pvh_virtio_find(const struct pvh_cmdline *cl, int have_acpi, struct boot *boot);

/*
 * Xen (platforms/xen/): pvh_start() hands a PVH guest of Xen to
 * xen_pvh_start(); from then on pvh_on_xen is set, the console and the exit
 * go through Xen, and its upcall vector ends a halt. A Xen PV guest uses the
 * console and fault reports here too.
 */
extern int pvh_on_xen;
uint32_t xen_cpuid_base(void);
struct hvm_start_info;
_Noreturn void xen_pvh_start(const struct hvm_start_info *si, uint64_t tsc_base);
void xen_pvh_upcall(uint64_t *rflags);
void xen_console_write(const char *buf, size_t len);
_Noreturn void xen_exit(int status);

/* Boot steps Xen's PVH boot shares (pvh_boot.c): arguments and RAM into boot. */
struct pvh_cmdline;
struct hvm_memmap_table_entry;
void pvh_take_args(const char *line, const char *argv0, struct pvh_cmdline *cl, struct boot *boot);
void pvh_take_ram(const struct hvm_memmap_table_entry *map, uint32_t n, struct boot *boot);

/* The platform ops on QEMU (pvh_platform.c): console, wall clock, block, exit. */
void pvh_platform_init(uint64_t lapic_hz, int irq_sources);
extern const struct platform pvh_platform;

#endif /* __ASSEMBLER__ */
#endif /* PVH_H */
