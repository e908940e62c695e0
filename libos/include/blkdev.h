/* SPDX-License-Identifier: MIT */
/*
 * Block devices: sector-addressed storage behind whatever driver found it
 * (virtio-blk today). Synchronous calls block the calling thread only;
 * blkdev_submit() queues a request and calls its done() from the scheduler;
 * blkdev_submit_batch() queues several and tells the device once.
 */
#ifndef LIBOS_BLKDEV_H
#define LIBOS_BLKDEV_H

#include <stddef.h>
#include <stdint.h>

struct blkdev;

unsigned blkdev_count(void);
/* The index-th block device in the order the platform listed them, or NULL. */
struct blkdev *blkdev_get(unsigned index);
const char *blkdev_name(const struct blkdev *dev);
uint64_t blkdev_sectors(const struct blkdev *dev);
unsigned blkdev_sector_size(const struct blkdev *dev);
int blkdev_read_only(const struct blkdev *dev);

/* Any number of sectors; 0 or -EINVAL (beyond the disk), -EROFS, -EIO. */
int blkdev_read(struct blkdev *dev, uint64_t sector, void *buf, size_t count);
int blkdev_write(struct blkdev *dev, uint64_t sector, const void *buf, size_t count);
/* Returns when everything written before it is on stable storage. */
int blkdev_flush(struct blkdev *dev);

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

/* An asynchronous request; the caller owns it and its buffer until done() runs. */
struct blk_request {
	enum blk_op op;
	uint64_t sector;
	void *buf;
	size_t count; /* sectors; at most BLK_MAX_REQUEST_SECTORS */
	void (*done)(struct blk_request *req);
	void *arg;
	int status; /* set before done(): 0, -EIO, -ENOTSUP */
	/* the driver's */
	uint8_t hdr[16];
	uint8_t vstatus;
};

#define BLK_MAX_REQUEST_SECTORS 2048 /* 1 MiB: larger sync calls are split */

/* Queue req (blocking while the device's ring is full). 0, -EINVAL, -EROFS, -EIO. */
int blkdev_submit(struct blkdev *dev, struct blk_request *req);

/*
 * Queue reqs[0..n) in order, with one notification of the device for all of
 * them (one doorbell where the device asks for one). Returns how many were
 * queued: n, or the index of the first that failed its checks or its
 * submission, whose status then holds the error; done() never runs for it
 * or for those after it, and those before it are in flight.
 */
unsigned blkdev_submit_batch(struct blkdev *dev, struct blk_request **reqs, unsigned n);

#endif /* LIBOS_BLKDEV_H */
