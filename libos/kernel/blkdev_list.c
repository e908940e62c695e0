/* SPDX-License-Identifier: MIT */
/*
 * The block devices: the list drivers register with and apps look devices up
 * in, and so the drivers themselves. A file of its own, because an image has
 * the drivers only if it links this file (blkdev_driver.h): reading a device
 * someone else found (the file system does) brings in no driver.
 */
#include <errno.h>

#include "blkdev_driver.h"

#define MAX_DISKS 16

static struct blkdev *disks[MAX_DISKS];
static unsigned ndisks;

/* Named for the linker only: device discovery calls them through weak references. */
static const struct {
	int (*virtio)(struct virtio_dev *dev);
	int (*xen)(const char *dir);
} drivers __attribute__((used)) = { virtio_blk_attach, xen_blkfront_attach };

int blkdev_register(struct blkdev *dev)
{
	if (ndisks == MAX_DISKS)
		return -ENOSPC;
	disks[ndisks++] = dev;
	return 0;
}

unsigned blkdev_count(void)
{
	return ndisks;
}

struct blkdev *blkdev_get(unsigned index)
{
	return index < ndisks ? disks[index] : NULL;
}
