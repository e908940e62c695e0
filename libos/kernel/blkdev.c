/* SPDX-License-Identifier: MIT */
/*
 * The block API over whichever drivers registered devices (the list is in
 * blkdev_list.c): the checks every request gets, and the synchronous calls,
 * each split into requests of at most BLK_MAX_REQUEST_SECTORS that are all in
 * flight at once, announced to the device together.
 */
#include <errno.h>
#include <stdlib.h>

#include "blkdev_driver.h"
#include "kernel.h"
#include "libos.h"

const char *blkdev_name(const struct blkdev *dev)
{
	return dev->name;
}

uint64_t blkdev_sectors(const struct blkdev *dev)
{
	return dev->sectors;
}

unsigned blkdev_sector_size(const struct blkdev *dev)
{
	return dev->sector_size;
}

int blkdev_read_only(const struct blkdev *dev)
{
	return dev->read_only;
}

static int check_and_queue(struct blkdev *d, struct blk_request *req)
{
	if (req->op != BLK_FLUSH &&
	    (req->count == 0 || req->count > BLK_MAX_REQUEST_SECTORS || req->sector > d->sectors ||
	     req->count > d->sectors - req->sector))
		return -EINVAL;
	if (req->op == BLK_WRITE && d->read_only)
		return -EROFS;
	return d->ops->queue(d, req);
}

int blkdev_submit(struct blkdev *d, struct blk_request *req)
{
	int rc = check_and_queue(d, req);

	if (!rc)
		d->ops->notify(d);
	return rc;
}

unsigned blkdev_submit_batch(struct blkdev *d, struct blk_request **reqs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		int rc = check_and_queue(d, reqs[i]);

		if (rc) {
			reqs[i]->status = rc;
			break;
		}
	}
	if (i > 0)
		d->ops->notify(d);
	return i;
}

struct sync {
	struct wait_queue wq;
	unsigned pending;
	int status;
};

static void sync_done(struct blk_request *req)
{
	struct sync *s = req->arg;

	if (req->status && !s->status)
		s->status = req->status;
	if (--s->pending == 0)
		wait_queue_wake_all(&s->wq);
}

static int sync_io(struct blkdev *d, enum blk_op op, uint64_t sector, void *buf, size_t count)
{
	size_t nreq = op == BLK_FLUSH ? 1
				      : (count + BLK_MAX_REQUEST_SECTORS - 1) / BLK_MAX_REQUEST_SECTORS;
	struct blk_request *reqs;
	struct sync s = { WAIT_QUEUE_INIT, 0, 0 };
	int rc = 0;

	if (op != BLK_FLUSH && (count == 0 || sector > d->sectors || count > d->sectors - sector))
		return count == 0 ? 0 : -EINVAL;
	reqs = calloc(nreq, sizeof(*reqs));
	if (!reqs)
		return -ENOMEM;
	for (size_t i = 0; i < nreq && !rc; i++) {
		size_t first = i * BLK_MAX_REQUEST_SECTORS;
		size_t n = count - first < BLK_MAX_REQUEST_SECTORS ? count - first
								   : BLK_MAX_REQUEST_SECTORS;

		reqs[i] = (struct blk_request){
			.op = op, .sector = sector + first,
			.buf = (char *)buf + first * d->sector_size,
			.count = n, .done = sync_done, .arg = &s,
		};
		rc = check_and_queue(d, &reqs[i]);
		if (!rc)
			s.pending++;
	}
	if (s.pending)
		d->ops->notify(d); /* once for the lot */
	while (s.pending)
		wait_queue_wait(&s.wq, LIBOS_FOREVER);
	free(reqs);
	return rc ? rc : s.status;
}

int blkdev_read(struct blkdev *dev, uint64_t sector, void *buf, size_t count)
{
	return sync_io(dev, BLK_READ, sector, buf, count);
}

int blkdev_write(struct blkdev *dev, uint64_t sector, const void *buf, size_t count)
{
	if (dev->read_only)
		return -EROFS;
	return sync_io(dev, BLK_WRITE, sector, (void *)buf, count);
}

int blkdev_flush(struct blkdev *dev)
{
	return sync_io(dev, BLK_FLUSH, 0, NULL, 0);
}
