/* SPDX-License-Identifier: MIT */
/* Device discovery: each virtio-mmio window the platform found goes to the driver for its ID. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libos.h"
#include "virtio_drivers.h"

/* In the image only with their device class (blkdev_driver.h, netdev_driver.h); else NULL. */
#pragma weak virtio_blk_attach
#pragma weak virtio_net_attach

/*
 * Named for the linker only: QEMU's PVH boot finds the virtio-mmio windows this probes through
 * a weak reference (platforms/kvm/pvh.h); hv lists them in its boot info.
 */
struct pvh_cmdline;
void pvh_virtio_find(const struct pvh_cmdline *cl, int have_acpi, struct boot *boot);
static void (*const platform_discovery)(const struct pvh_cmdline *cl, int have_acpi,
					struct boot *boot) __attribute__((used)) = pvh_virtio_find;

static void say(const char *msg)
{
	console_write(msg, strlen(msg));
}

void virtio_init(const struct boot *boot)
{
	char msg[200];

	for (unsigned i = 0; i < boot->nr_devices; i++) {
		const struct boot_device *bd = &boot->devices[i];
		struct virtio_dev dev;
		int rc = virtio_mmio_probe(&dev, bd);

		if (rc == -ENOTSUP) {
			snprintf(msg, sizeof(msg),
				 "libos: virtio device at 0x%llx is legacy (version 1); this driver "
				 "speaks virtio 1.x (on QEMU: -global virtio-mmio.force-legacy=off)\n",
				 (unsigned long long)bd->base);
			say(msg);
			continue;
		}
		if (rc)
			continue; /* an empty slot */
		if (dev.device_id == VIRTIO_ID_BLOCK && virtio_blk_attach)
			rc = virtio_blk_attach(&dev);
		else if (dev.device_id == VIRTIO_ID_NET && virtio_net_attach)
			rc = virtio_net_attach(&dev);
		else
			continue; /* no driver in this image: leave the device alone */
		if (rc) {
			snprintf(msg, sizeof(msg), "libos: virtio device %u at 0x%llx: driver failed (%d)\n",
				 dev.device_id, (unsigned long long)bd->base, rc);
			say(msg);
		}
	}
}
