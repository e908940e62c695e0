/* SPDX-License-Identifier: MIT */
/*
 * What a block driver gives libos's block API (blkdev.h): a struct blkdev
 * to embed, filled and registered once the device is ready, and the one
 * operation that differs between drivers, submit. The API checks a request
 * (bounds, read-only) before it reaches the driver, and builds the
 * synchronous calls on submit. Drivers: virtio-blk (libos/virtio), Xen's
 * blkfront (platforms/xen).
 */
#ifndef LIBOS_BLKDEV_DRIVER_H
#define LIBOS_BLKDEV_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "blkdev.h"

struct blkdev_ops {
	/*
	 * Put a checked request on the ring, blocking while the ring is full
	 * (after notifying the device, or it would never make space); done()
	 * runs later. The device need not hear of it before notify.
	 */
	int (*queue)(struct blkdev *dev, struct blk_request *req);
	/* Tell the device about the requests queued, where it asked to be told. */
	void (*notify)(struct blkdev *dev);
};

struct blkdev {
	const struct blkdev_ops *ops;
	char name[24];
	uint64_t sectors;
	unsigned sector_size;
	bool read_only;
};

/* Make dev one of the block API's devices, in the order registered. 0 or -ENOSPC. */
int blkdev_register(struct blkdev *dev);

#endif /* LIBOS_BLKDEV_DRIVER_H */
