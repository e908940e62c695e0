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

/*
 * The drivers, as device discovery calls them (virtio_init, the Xen platforms'
 * attach_devices): take the device over and register it; 0 or -errno. An
 * image has them only if it looks block devices up: blkdev_list.c, which
 * blkdev_count() and blkdev_get() bring in, names them, and discovery calls
 * them through weak references, NULL in an image without them, whose disks
 * then stay untouched.
 */
struct virtio_dev;
int virtio_blk_attach(struct virtio_dev *dev);
int xen_blkfront_attach(const char *dir); /* dir: the device's xenstore folder */

#endif /* LIBOS_BLKDEV_DRIVER_H */
