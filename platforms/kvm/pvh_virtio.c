/* SPDX-License-Identifier: MIT */
/*
 * Virtio-mmio devices on QEMU microvm: where they are, which event ports
 * they get, and their interrupt handler, which turns a device interrupt
 * into pending ports in the shared-info page, as hv's devices set them.
 *
 * Where: the command line's virtio_mmio.device= entries (QEMU writes them
 * with acpi=off, one per slot that has a device), else a probe of the slots.
 * QEMU 10's microvm (hw/i386/microvm.c) has 512-byte slots from 0xfeb00000:
 *   acpi=off:                   8 slots, GSIs 5-12 (IO APIC 0)
 *   ACPI on, second IO APIC:   24 slots, GSIs 24-47 (IO APIC 1; the default)
 *   ACPI on, ioapic2=off:       8 slots, GSIs 16-23
 * ACPI is on exactly when the loader found an RSDP (hvm_start_info).
 *
 * Ports: a device's queue count is known only once its driver runs, so
 * each gets PVH_PORTS_PER_DEVICE ports, numbered from 1 in the order found;
 * queue q signals port + q. One interrupt says "some queue has used
 * buffers" (virtio 1.1 4.2.2, InterruptStatus), so it raises all of them.
 */
#include <stdint.h>

#include "pvh.h"
#include "pvh_cmdline.h"
#include "pvh_cpu_x86_64.h"
#include "virtio.h"

#define SLOTS_BASE 0xfeb00000u
#define SLOT_SIZE 512u
#define FIRST_PORT 1

struct slot_layout {
	unsigned slots;
	unsigned first_gsi;
};

struct pvh_virtio_dev {
	uintptr_t base;
	uint32_t port;
};

static struct pvh_virtio_dev devs[BOOT_MAX_DEVICES];

/*
 * Virtio 1.1 4.2.3.4 (and 4.2.2 for the registers): read which kinds of
 * notification are pending, acknowledge exactly those, which lowers the
 * interrupt line, then raise every port of the device.
 */
static void virtio_irq(void *arg)
{
	struct pvh_virtio_dev *d = arg;
	uint32_t status = mmio_read32(d->base + VIRTIO_MMIO_INTERRUPT_STATUS);

	if (!status)
		return;
	mmio_write32(d->base + VIRTIO_MMIO_INTERRUPT_ACK, status);
	for (uint32_t q = 0; q < PVH_PORTS_PER_DEVICE; q++)
		pvh_event_raise(d->port + q);
}

static const char *device_name(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_NET: return "net";
	case VIRTIO_ID_BLOCK: return "block";
	case 3: return "console";
	case 4: return "entropy";
	case 5: return "balloon";
	default: return "other";
	}
}

static void add_device(struct boot *boot, uint64_t base, uint64_t size, unsigned gsi)
{
	struct pvh_virtio_dev *d;
	uint32_t id, version;

	if (mmio_read32(base + VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
		return;
	id = mmio_read32(base + VIRTIO_MMIO_DEVICE_ID);
	if (id == 0) /* a slot with no device behind it */
		return;
	version = mmio_read32(base + VIRTIO_MMIO_VERSION);
	if (boot->nr_devices == BOOT_MAX_DEVICES) {
		pvh_printf("pvh: more than %d virtio-mmio devices: the one at 0x%llx is ignored\n",
			   BOOT_MAX_DEVICES, (unsigned long long)base);
		return;
	}
	d = &devs[boot->nr_devices];
	d->base = (uintptr_t)base;
	d->port = FIRST_PORT + boot->nr_devices * PVH_PORTS_PER_DEVICE;
	if (pvh_irq_bind(gsi, virtio_irq, d)) {
		pvh_printf("pvh: virtio-mmio device at 0x%llx: its IRQ %u has no IO APIC pin here; "
			   "device ignored\n", (unsigned long long)base, gsi);
		return;
	}
	boot->devices[boot->nr_devices++] = (struct boot_device){
		.base = base, .size = size, .port = d->port, .nr_ports = PVH_PORTS_PER_DEVICE,
	};
	if (pvh_debug)
		pvh_printf("pvh: virtio-mmio at 0x%llx: device %u (%s), %s, GSI %u -> vector 0x%x, "
			   "ports %u-%u\n", (unsigned long long)base, id, device_name(id),
			   version == 1 ? "legacy (libos refuses it: -global "
					  "virtio-mmio.force-legacy=off)" : "virtio 1.x",
			   gsi, PVH_VECTOR_GSI_BASE + gsi, d->port,
			   d->port + PVH_PORTS_PER_DEVICE - 1);
}

static struct slot_layout microvm_layout(int have_acpi)
{
	if (!have_acpi)
		return (struct slot_layout){ 8, 5 };
	if (pvh_ioapic_present(24))
		return (struct slot_layout){ 24, 24 };
	return (struct slot_layout){ 8, 16 };
}

void pvh_virtio_find(const struct pvh_cmdline *cl, int have_acpi, struct boot *boot)
{
	struct slot_layout l;

	if (cl->nr_mmio) {
		for (unsigned i = 0; i < cl->nr_mmio; i++)
			add_device(boot, cl->mmio[i].base, cl->mmio[i].size, cl->mmio[i].irq);
		return;
	}
	l = microvm_layout(have_acpi);
	if (pvh_debug)
		pvh_printf("pvh: no virtio_mmio.device= entries: probing %u slots from 0x%x, "
			   "GSIs %u-%u\n",
			   l.slots, SLOTS_BASE, l.first_gsi, l.first_gsi + l.slots - 1);
	for (unsigned i = 0; i < l.slots; i++)
		add_device(boot, SLOTS_BASE + SLOT_SIZE * i, SLOT_SIZE, l.first_gsi + i);
}
