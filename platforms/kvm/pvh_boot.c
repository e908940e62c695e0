/* SPDX-License-Identifier: MIT */
/*
 * The PVH platform's boot: from the hvm_start_info the loader left to a
 * struct boot for libos, one step per line in pvh_start(). pvh_entry.S calls
 * it in 64-bit ring 0 with interrupts off, on the boot stack.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "libos.h"
#include "pvh.h"
#include "pvh_cmdline.h"
#include "pvh_cpu_x86_64.h"
#include "pvh_start_info.h"

/* In the image only with a virtio driver (pvh.h); NULL otherwise. */
#pragma weak pvh_virtio_find

#define PAGE_SIZE 4096ull
#define MAPPED_LIMIT 0x100000000ull /* pvh_entry.S maps the low 4 GiB */
#define DEFAULT_ARGV0 "qemu" /* when the command line names no BOOT_IMAGE= */

int pvh_debug;
int pvh_on_xen;
extern char __image_end[]; /* image.ld: the end of everything the image occupies */

static struct boot boot;

static _Noreturn void fail(const char *msg)
{
	pvh_printf("pvh: %s\n", msg);
	pvh_exit(LIBOS_PANIC_STATUS);
}

static const char *cmdline_problem(int rc)
{
	if (rc == -E2BIG)
		return "arguments longer than PVH_ARGS_MAX bytes";
	if (rc == -ENOSPC)
		return "too many virtio_mmio.device= entries";
	return "bad virtio_mmio.device= entry";
}

void pvh_take_args(const char *line, const char *argv0, struct pvh_cmdline *cl, struct boot *b)
{
	const char *bad = NULL;
	int rc = pvh_cmdline_parse(line, argv0, cl, &bad);

	if (rc) {
		pvh_printf("pvh: kernel command line: %s at \"%.40s\"\n", cmdline_problem(rc),
			   bad ? bad : "");
		pvh_exit(LIBOS_PANIC_STATUS);
	}
	pvh_debug = cl->debug;
	b->args = cl->args;
	b->argc = cl->argc;
	b->args_size = cl->args_size;
}

/* RAM from the memory map (type 1), above the image and below what is mapped, in whole pages. */
void pvh_take_ram(const struct hvm_memmap_table_entry *map, uint32_t n, struct boot *b)
{
	uint64_t floor = ((uintptr_t)__image_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), top = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t lo = map[i].addr, hi = map[i].addr + map[i].size;

		if (map[i].type != XEN_HVM_MEMMAP_TYPE_RAM || hi <= lo)
			continue;
		lo = lo < floor ? floor : (lo + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		hi = (hi > MAPPED_LIMIT ? MAPPED_LIMIT : hi) & ~(PAGE_SIZE - 1);
		if (hi <= lo)
			continue;
		if (b->nr_ram == BOOT_MAX_RAM)
			fail("more RAM regions than libos takes");
		b->ram[b->nr_ram++] = (struct boot_ram){ lo, hi - lo };
		top = hi > top ? hi : top;
	}
	if (!b->nr_ram)
		fail("no RAM above the image");
	pvh_fault_set_ram_top(top);
}

static void say_clocks(uint64_t tsc_hz, uint64_t lapic_hz)
{
	uint32_t r[4];
	int deadline, x2apic;

	cpuid(1, 0, r);
	deadline = (r[2] >> 24) & 1;
	x2apic = (r[2] >> 21) & 1;
	cpuid(0, 0, r);
	if (r[0] >= 0x15)
		cpuid(0x15, 0, r);
	else
		r[0] = r[1] = r[2] = 0;
	pvh_printf("pvh: TSC %llu Hz, LAPIC timer %llu Hz (PIT, %u us); cpuid: tsc-deadline %s, "
		   "x2apic %s, leaf 0x15 %u/%u x %u Hz\n",
		   (unsigned long long)tsc_hz, (unsigned long long)lapic_hz, PVH_CALIBRATE_US,
		   deadline ? "yes" : "no", x2apic ? "yes" : "no", r[1], r[0], r[2]);
}

_Noreturn void pvh_start(const struct hvm_start_info *si);

_Noreturn void pvh_start(const struct hvm_start_info *si)
{
	struct pvh_cmdline cl; /* on the boot stack, which outlives libos_start() */
	uint64_t tsc_base = rdtsc(), lapic_hz;
	int nr_ioapics, have_acpi;

	libos_clear_bss();
	if (xen_cpuid_base())
		xen_pvh_start(si, tsc_base);
	pvh_serial_init();
	pvh_idt_init();
	if (si->magic != XEN_HVM_START_MAGIC_VALUE)
		fail("%ebx does not point at an hvm_start_info (wrong magic)");
	pvh_take_args((const char *)(uintptr_t)si->cmdline_paddr, DEFAULT_ARGV0, &cl, &boot);
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
		fail("the loader gave no memory map (hvm_start_info version 1)");
	pvh_take_ram((const struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr,
		     si->memmap_entries, &boot);
	have_acpi = si->rsdp_paddr != 0;
	pvh_unmap_page0(); /* the start info is read: from now on a null pointer faults */
	pvh_lapic_init();
	nr_ioapics = pvh_ioapic_init();
	pvh_calibrate(&boot.tsc_hz, &lapic_hz);
	if (lapic_hz == 0 || lapic_hz > UINT32_MAX)
		fail("the LAPIC timer's rate is out of range");
	if (pvh_debug)
		say_clocks(boot.tsc_hz, lapic_hz);
	pvh_events_init();
	if (pvh_virtio_find)
		pvh_virtio_find(&cl, have_acpi, &boot);
	pvh_platform_init(lapic_hz, boot.nr_devices > 0);
	if (pvh_debug)
		pvh_printf("pvh: %d IO APIC(s), %u virtio-mmio device(s), ACPI %s\n", nr_ioapics,
			   boot.nr_devices, have_acpi ? "on" : "off");
	boot.platform = &pvh_platform;
	boot.tsc_base = tsc_base;
	boot.shared_info = &pvh_shared_info;
	irq_enable();
	libos_start(&boot);
}
