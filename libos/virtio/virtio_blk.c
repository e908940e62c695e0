/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk driver (virtio 1.1, 5.2) behind the block API: one request
 * is a chain of header, data and status byte; completions arrive through
 * the queue's event-channel port and finish requests from the scheduler.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev.h"
#include "kernel.h"
#include "libos.h"
#include "virtio_drivers.h"
#include "virtio_mmio.h"

#define BLK_QUEUE_SIZE 128

struct blkdev {
	struct virtio_dev vdev;
	struct virtq q;
	uint64_t sectors;
	bool read_only;
	bool failed;
	unsigned in_flight;
	struct wait_queue space; /* waiting for descriptors */
};

static struct blkdev *disks[BOOT_MAX_DEVICES];
static unsigned ndisks;

unsigned blkdev_count(void)
{
	return ndisks;
}

struct blkdev *blkdev_get(unsigned index)
{
	return index < ndisks ? disks[index] : NULL;
}

const char *blkdev_name(const struct blkdev *dev)
{
	return dev->vdev.name;
}

uint64_t blkdev_sectors(const struct blkdev *dev)
{
	return dev->sectors;
}

unsigned blkdev_sector_size(const struct blkdev *dev)
{
	(void)dev;
	return VIRTIO_BLK_SECTOR_SIZE;
}

int blkdev_read_only(const struct blkdev *dev)
{
	return dev->read_only;
}

static void finish(struct blk_request *req, int status)
{
	req->status = status;
	req->done(req);
}

/* The device broke the protocol or needs a reset: fail what is in flight, and all later calls. */
static void fail_device(struct blkdev *d, const char *why)
{
	char msg[160];

	if (d->failed)
		return;
	d->failed = true;
	snprintf(msg, sizeof(msg), "libos: %s: %s; failing its requests\n", d->vdev.name, why);
	console_write(msg, strlen(msg));
	for (unsigned i = 0; i < d->q.size; i++)
		if (d->q.slots[i].token) {
			struct blk_request *req = d->q.slots[i].token;

			d->q.slots[i].token = NULL;
			finish(req, -EIO);
		}
	d->in_flight = 0;
	wait_queue_wake_all(&d->space);
}

static void on_event(evtchn_port_t port, void *arg)
{
	struct blkdev *d = arg;
	struct blk_request *req;
	uint32_t len;
	bool any = false;

	(void)port;
	while ((req = virtq_get_used(&d->q, &len))) {
		any = true;
		d->in_flight--;
		if (len < 1)
			finish(req, -EIO); /* the device wrote no status byte */
		else
			finish(req, req->vstatus == VIRTIO_BLK_S_OK	    ? 0
				    : req->vstatus == VIRTIO_BLK_S_UNSUPP ? -ENOTSUP
									  : -EIO);
	}
	if (d->q.broken)
		fail_device(d, d->q.why);
	else if (!any && d->in_flight &&
		 (virtio_mmio_status(&d->vdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		fail_device(d, "the device needs a reset");
	if (any)
		wait_queue_wake_all(&d->space);
}

int blkdev_submit(struct blkdev *d, struct blk_request *req)
{
	struct virtio_blk_req_hdr hdr = { .sector = req->sector };
	struct virtq_buf out[2], in[2];
	unsigned n_out = 1, n_in = 1;
	int rc;

	if (req->op != BLK_FLUSH &&
	    (req->count == 0 || req->count > BLK_MAX_REQUEST_SECTORS || req->sector > d->sectors ||
	     req->count > d->sectors - req->sector))
		return -EINVAL;
	if (req->op == BLK_WRITE && d->read_only)
		return -EROFS;
	hdr.type = req->op == BLK_READ ? VIRTIO_BLK_T_IN
		   : req->op == BLK_WRITE ? VIRTIO_BLK_T_OUT
					  : VIRTIO_BLK_T_FLUSH;
	memcpy(req->hdr, &hdr, sizeof(hdr));
	req->vstatus = 0xff;
	out[0] = (struct virtq_buf){ req->hdr, sizeof(hdr) };
	in[0] = (struct virtq_buf){ &req->vstatus, 1 };
	if (req->op == BLK_READ) {
		in[1] = in[0];
		in[0] = (struct virtq_buf){ req->buf, (uint32_t)(req->count * VIRTIO_BLK_SECTOR_SIZE) };
		n_in = 2;
	} else if (req->op == BLK_WRITE) {
		out[1] = (struct virtq_buf){ req->buf, (uint32_t)(req->count * VIRTIO_BLK_SECTOR_SIZE) };
		n_out = 2;
	}
	for (;;) {
		if (d->failed)
			return -EIO;
		rc = virtq_add_chain(&d->q, out, n_out, in, n_in, req);
		if (rc != -ENOSPC)
			break;
		wait_queue_wait(&d->space, LIBOS_FOREVER);
	}
	if (rc)
		return rc;
	d->in_flight++;
	if (virtq_kick_needed(&d->q))
		virtio_mmio_notify(&d->vdev, 0);
	return 0;
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

/* Split into requests of at most BLK_MAX_REQUEST_SECTORS, all in flight at once, and wait. */
static int sync_io(struct blkdev *d, enum blk_op op, uint64_t sector, void *buf, size_t count)
{
	size_t nreq = op == BLK_FLUSH ? 1 : (count + BLK_MAX_REQUEST_SECTORS - 1) / BLK_MAX_REQUEST_SECTORS;
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
			.buf = (char *)buf + first * VIRTIO_BLK_SECTOR_SIZE,
			.count = n, .done = sync_done, .arg = &s,
		};
		rc = blkdev_submit(d, &reqs[i]);
		if (!rc)
			s.pending++;
	}
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

int virtio_blk_attach(struct virtio_dev *vdev)
{
	struct blkdev *d;
	uint64_t want = (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_FLUSH) |
			(1ull << VIRTIO_F_RING_EVENT_IDX);
	int rc;

	if (ndisks == BOOT_MAX_DEVICES)
		return -ENOSPC;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vdev = *vdev;
	snprintf(d->vdev.name, sizeof(d->vdev.name), "virtio-blk%u", ndisks);
	rc = virtio_mmio_negotiate(&d->vdev, want);
	if (!rc)
		rc = virtio_mmio_setup_queue(&d->vdev, 0, &d->q, BLK_QUEUE_SIZE);
	if (!rc)
		rc = evtchn_bind_handler(d->vdev.port, on_event, d);
	if (rc) {
		virtio_mmio_fail(&d->vdev);
		free(d);
		return rc;
	}
	virtio_mmio_config(&d->vdev, 0, &d->sectors, sizeof(d->sectors));
	d->read_only = (d->vdev.features >> VIRTIO_BLK_F_RO) & 1;
	virtio_mmio_driver_ok(&d->vdev);
	disks[ndisks++] = d;
	return 0;
}
