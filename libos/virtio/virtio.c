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
