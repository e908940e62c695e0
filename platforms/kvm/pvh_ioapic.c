/* SPDX-License-Identifier: MIT */
/*
 * The IO APICs (82093AA datasheet, section 3) route device interrupt lines
 * (GSIs) to LAPIC vectors; the legacy 8259 PICs are masked. QEMU microvm
 * has one IO APIC at 0xfec00000 for GSIs 0-23 and, with ACPI on and
 * ioapic2 not off, a second at 0xfec10000 for GSIs 24-47 (hw/i386/microvm.c,
 * x86-common.c).
 */
#include <errno.h>
#include <stdint.h>

#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define IOAPIC_PINS 24
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_REDIR(pin) (0x10 + 2 * (pin)) /* low word; the high word follows */
#define REDIR_LEVEL (1u << 15)
#define REDIR_MASKED (1u << 16)
#define VERSION_MAX_REDIR(v) (((v) >> 16) & 0xff)

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

static const uintptr_t ioapic_base[] = { 0xfec00000, 0xfec10000 };
#define NR_IOAPICS (sizeof(ioapic_base) / sizeof(ioapic_base[0]))

static unsigned nr_present; /* IO APICs that answered, from the first */

static uint32_t ioapic_read(uintptr_t base, uint32_t reg)
{
	mmio_write32(base + IOAPIC_REGSEL, reg);
	return mmio_read32(base + IOAPIC_WINDOW);
}

static void ioapic_write(uintptr_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base + IOAPIC_REGSEL, reg);
	mmio_write32(base + IOAPIC_WINDOW, v);
}

/* Nothing at the address reads as 0 (or all ones): no version, no 24 pins. */
static int answers(uintptr_t base)
{
	uint32_t v = ioapic_read(base, IOAPIC_REG_VERSION);

	return v != 0xffffffffu && VERSION_MAX_REDIR(v) + 1 == IOAPIC_PINS;
}

/* Mask every pin of every IO APIC, and both 8259s. Returns how many IO APICs there are. */
int pvh_ioapic_init(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	nr_present = 0;
	while (nr_present < NR_IOAPICS && answers(ioapic_base[nr_present])) {
		for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
			ioapic_write(ioapic_base[nr_present], IOAPIC_REG_REDIR(pin), REDIR_MASKED);
		nr_present++;
	}
	return (int)nr_present;
}

int pvh_ioapic_present(unsigned gsi)
{
	return gsi < nr_present * IOAPIC_PINS;
}

/*
 * Fixed delivery, physical destination, active high, level-triggered: a
 * virtio-mmio device holds its line up while InterruptStatus is non-zero
 * (QEMU's virtio_mmio_update_irq), so an interrupt that arrives while the
 * handler runs is delivered again after the EOI instead of being lost.
 */
int pvh_ioapic_route(unsigned gsi, uint8_t vector, uint32_t apic_id)
{
	uintptr_t base;
	unsigned pin;

	if (!pvh_ioapic_present(gsi))
		return -ENODEV;
	base = ioapic_base[gsi / IOAPIC_PINS];
	pin = gsi % IOAPIC_PINS;
	ioapic_write(base, IOAPIC_REG_REDIR(pin) + 1, apic_id << 24);
	ioapic_write(base, IOAPIC_REG_REDIR(pin), REDIR_LEVEL | vector);
	return 0;
}
