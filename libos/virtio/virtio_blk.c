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
#include "blkdev_driver.h"
#include "kernel.h"
#include "libos.h"
#include "virtio_drivers.h"
#include "virtio_mmio.h"

#define BLK_QUEUE_SIZE 256 /* descriptors: 85 reads or writes in flight, 3 each */

struct vblk {
	struct blkdev dev; /* first: the block API's view */
	struct virtio_dev vdev;
	struct virtq q;
	bool failed;
	unsigned in_flight;
	struct wait_queue space; /* waiting for descriptors */
};

static unsigned ndisks;

static void finish(struct blk_request *req, int status)
{
	req->status = status;
	req->done(req);
}

/* The device broke the protocol or needs a reset: fail what is in flight, and all later calls. */
static void fail_device(struct vblk *d, const char *why)
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
	sched_owed(-(int)d->in_flight);
	d->in_flight = 0;
	wait_queue_wake_all(&d->space);
}

static void on_event(evtchn_port_t port, void *arg)
{
	struct vblk *d = arg;
	struct blk_request *req;
	uint32_t len;
	bool any = false;

	(void)port;
	while ((req = virtq_get_used(&d->q, &len))) {
		any = true;
		d->in_flight--;
		sched_owed(-1);
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

static void vblk_notify(struct blkdev *dev)
{
	struct vblk *d = (struct vblk *)dev;

	/* With event index, kick_needed asks about every chain added since the last ask. */
	if (!d->failed && virtq_kick_needed(&d->q))
		virtio_mmio_notify(&d->vdev, 0);
}

/* The block API checked req: bounds, size, read-only. */
static int vblk_queue(struct blkdev *dev, struct blk_request *req)
{
	struct vblk *d = (struct vblk *)dev;
	struct virtio_blk_req_hdr hdr = { .sector = req->sector };
	struct virtq_buf out[2], in[2];
	unsigned n_out = 1, n_in = 1;
	int rc;

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
		vblk_notify(dev); /* what is queued must be on its way, or no space comes */
		wait_queue_wait(&d->space, LIBOS_FOREVER);
	}
	if (rc)
		return rc;
	d->in_flight++;
	sched_owed(1);
	return 0;
}

static const struct blkdev_ops vblk_ops = { .queue = vblk_queue, .notify = vblk_notify };

/* Named for the linker only: libos_start() calls device discovery through a weak reference. */
static void (*const discovery)(const struct boot *boot) __attribute__((used)) = virtio_init;

int virtio_blk_attach(struct virtio_dev *vdev)
{
	struct vblk *d;
	uint64_t want = (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_FLUSH) |
			(1ull << VIRTIO_F_RING_EVENT_IDX);
	int rc;

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
	d->dev.ops = &vblk_ops;
	snprintf(d->dev.name, sizeof(d->dev.name), "%s", d->vdev.name);
	d->dev.sector_size = VIRTIO_BLK_SECTOR_SIZE;
	virtio_mmio_config(&d->vdev, 0, &d->dev.sectors, sizeof(d->dev.sectors));
	d->dev.read_only = (d->vdev.features >> VIRTIO_BLK_F_RO) & 1;
	rc = blkdev_register(&d->dev);
	if (rc) {
		evtchn_unbind_handler(d->vdev.port);
		virtio_mmio_fail(&d->vdev);
		free(d);
		return rc;
	}
	virtio_mmio_driver_ok(&d->vdev);
	ndisks++;
	return 0;
}
