/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net driver (virtio 1.1, 5.1) behind the raw frame API. Receive
 * buffers are posted once and lent to the caller without a copy; transmit
 * copies each frame into one of a fixed set of buffers. Neither direction
 * exits to hv per packet unless the device asked for a kick (event index).
 * Where the device offers them, the driver takes frames whose checksums the
 * host checked or left partial, TCP segments of up to 64 KiB spread over
 * several receive buffers (mergeable buffers), and leaves the TCP and UDP
 * checksums of what it sends to the device.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "libos.h"
#include "netdev.h"
#include "netdev_driver.h"
#include "virtio_drivers.h"
#include "virtio_mmio.h"

#define NET_QUEUE_SIZE 256
#define NET_BUF_BYTES 2048 /* header + the largest frame, two to a page */
#define NET_HDR_BYTES sizeof(struct virtio_net_hdr)
#define ETH_HEADER_BYTES 14

struct vnet {
	struct netdev dev; /* first: the frame API's view */
	struct virtio_dev vdev;
	struct virtq rx, tx;
	bool failed;
	uint8_t *rx_bufs, *tx_bufs;
	unsigned nrx, ntx;
	uint16_t *tx_free; /* a stack of free transmit buffer indices */
	unsigned ntx_free;
	unsigned rx_more; /* parts of the current frame still to hand out */
	struct wait_queue rx_wait, tx_wait;
};

static unsigned nnics;

static void fail_device(struct vnet *d, const char *why)
{
	char msg[160];

	if (d->failed)
		return;
	d->failed = true;
	snprintf(msg, sizeof(msg), "libos: %s: %s; the device is out of service\n", d->vdev.name, why);
	console_write(msg, strlen(msg));
	wait_queue_wake_all(&d->rx_wait);
	wait_queue_wake_all(&d->tx_wait);
}

static void check_queues(struct vnet *d)
{
	if (d->rx.broken)
		fail_device(d, d->rx.why);
	else if (d->tx.broken)
		fail_device(d, d->tx.why);
}

/* Events only wake the threads that wait; they take the buffers themselves. */
static void on_rx(evtchn_port_t port, void *arg)
{
	struct vnet *d = arg;

	(void)port;
	wait_queue_wake_all(&d->rx_wait);
}

static void on_tx(evtchn_port_t port, void *arg)
{
	struct vnet *d = arg;

	(void)port;
	wait_queue_wake_all(&d->tx_wait);
}

static int post_rx(struct vnet *d, uint8_t *buf)
{
	struct virtq_buf in = { buf, NET_BUF_BYTES };

	return virtq_add_chain(&d->rx, NULL, 0, &in, 1, buf);
}

static void reclaim_tx(struct vnet *d)
{
	uint8_t *buf;
	uint32_t len;

	while ((buf = virtq_get_used(&d->tx, &len)))
		d->tx_free[d->ntx_free++] = (uint16_t)((buf - d->tx_bufs) / NET_BUF_BYTES);
	check_queues(d);
}

/* The frame API checked len against the MTU, which attach kept within a buffer. */
static int vnet_sendv(struct netdev *dev, const struct netdev_part *parts, unsigned nparts,
		      size_t len, const struct netdev_tx_csum *csum)
{
	struct vnet *d = (struct vnet *)dev;
	struct virtio_net_hdr hdr = { 0 };
	struct virtq_buf out;
	size_t off = NET_HDR_BYTES;
	uint8_t *buf;
	int rc;

	if (len > NET_BUF_BYTES - NET_HDR_BYTES)
		return -EMSGSIZE;
	reclaim_tx(d);
	if (!d->ntx_free) {
		/* Out of buffers: hear of the next one given back, then quiet again. */
		virtq_used_events(&d->tx, true);
		for (reclaim_tx(d); !d->ntx_free && !d->failed; reclaim_tx(d))
			wait_queue_wait(&d->tx_wait, LIBOS_FOREVER);
		virtq_used_events(&d->tx, false);
	}
	if (d->failed)
		return -EIO;
	if (csum) { /* the frame API allowed it: the device offered CSUM */
		hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr.csum_start = csum->start;
		hdr.csum_offset = csum->offset;
	}
	buf = d->tx_bufs + (size_t)d->tx_free[--d->ntx_free] * NET_BUF_BYTES;
	memcpy(buf, &hdr, NET_HDR_BYTES);
	for (unsigned i = 0; i < nparts; off += parts[i].len, i++)
		memcpy(buf + off, parts[i].data, parts[i].len);
	out = (struct virtq_buf){ buf, (uint32_t)(NET_HDR_BYTES + len) };
	rc = virtq_add_chain(&d->tx, &out, 1, NULL, 0, buf);
	if (rc)
		return -EIO; /* cannot be -ENOSPC: one descriptor per buffer */
	if (virtq_kick_needed(&d->tx))
		virtio_mmio_notify(&d->vdev, VIRTIO_NET_Q_TX);
	return 0;
}

static void vnet_release(struct netdev *dev, struct netdev_frame *frame);

/* What the header says of a frame's checksum (only a GUEST_CSUM device says anything). */
static enum netdev_csum rx_csum(const struct vnet *d, const struct virtio_net_hdr *h)
{
	if (!(d->dev.offloads & NETDEV_RX_CSUM))
		return NETDEV_CSUM_UNCHECKED;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return NETDEV_CSUM_PARTIAL;
	return h->flags & VIRTIO_NET_HDR_F_DATA_VALID ? NETDEV_CSUM_VALID : NETDEV_CSUM_UNCHECKED;
}

/*
 * One buffer: a frame's first part (after the header, which says how many
 * buffers the frame took), or the next part of the frame under way.
 */
static int vnet_receive(struct netdev *dev, struct netdev_frame *frame, uint64_t deadline_ns)
{
	struct vnet *d = (struct vnet *)dev;

	for (;;) {
		uint32_t len;
		uint8_t *buf = d->failed ? NULL : virtq_get_used(&d->rx, &len);

		check_queues(d);
		if (d->failed)
			return -EIO;
		if (buf && d->rx_more) {
			*frame = (struct netdev_frame){ .data = buf, .len = len, .priv = buf };
			d->rx_more--;
			return 0;
		}
		if (buf && len > NET_HDR_BYTES) {
			struct virtio_net_hdr h;

			memcpy(&h, buf, sizeof(h));
			if (h.num_buffers > 1 && !(d->vdev.features & (1ull << VIRTIO_NET_F_MRG_RXBUF)))
				h.num_buffers = 1; /* not negotiated: meaningless [5.1.6.4] */
			if (h.num_buffers == 0 || h.num_buffers > d->nrx) {
				fail_device(d, "a frame in more receive buffers than were posted");
				continue;
			}
			*frame = (struct netdev_frame){ .data = buf + NET_HDR_BYTES,
							.len = len - NET_HDR_BYTES, .priv = buf,
							.more = h.num_buffers - 1u,
							.csum = rx_csum(d, &h) };
			d->rx_more = frame->more;
			return 0;
		}
		if (buf) { /* a runt: give it straight back */
			struct netdev_frame f = { .priv = buf };
			vnet_release(dev, &f);
			continue;
		}
		if (wait_queue_wait(&d->rx_wait, deadline_ns) == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
}

static void vnet_release(struct netdev *dev, struct netdev_frame *frame)
{
	struct vnet *d = (struct vnet *)dev;

	if (d->failed || post_rx(d, frame->priv))
		return;
	if (virtq_kick_needed(&d->rx))
		virtio_mmio_notify(&d->vdev, VIRTIO_NET_Q_RX);
}

static const struct netdev_ops vnet_ops = {
	.sendv = vnet_sendv,
	.receive = vnet_receive,
	.release = vnet_release,
};

static int alloc_buffers(struct vnet *d)
{
	size_t rx_pages = (size_t)d->rx.size * NET_BUF_BYTES / PAGE_BYTES;
	size_t tx_pages = (size_t)d->tx.size * NET_BUF_BYTES / PAGE_BYTES;

	d->nrx = d->rx.size;
	d->ntx = d->tx.size;
	d->rx_bufs = pages_alloc(rx_pages ? rx_pages : 1);
	d->tx_bufs = pages_alloc(tx_pages ? tx_pages : 1);
	d->tx_free = calloc(d->ntx, sizeof(*d->tx_free));
	if (!d->rx_bufs || !d->tx_bufs || !d->tx_free)
		return -ENOMEM;
	for (unsigned i = 0; i < d->ntx; i++)
		d->tx_free[d->ntx_free++] = (uint16_t)i;
	for (unsigned i = 0; i < d->nrx; i++)
		if (post_rx(d, d->rx_bufs + (size_t)i * NET_BUF_BYTES))
			return -EIO;
	return 0;
}

/* Named for the linker only: libos_start() calls device discovery through a weak reference. */
static void (*const discovery)(const struct boot *boot) __attribute__((used)) = virtio_init;

int virtio_net_attach(struct virtio_dev *vdev)
{
	struct virtio_net_config cfg;
	struct vnet *d;
	/* Long segments only together with mergeable buffers: a receive buffer holds 2 KiB. */
	uint64_t want = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_MTU) |
			(1ull << VIRTIO_F_RING_EVENT_IDX) | (1ull << VIRTIO_NET_F_CSUM) |
			(1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_MRG_RXBUF);
	int rc;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vdev = *vdev;
	snprintf(d->vdev.name, sizeof(d->vdev.name), "virtio-net%u", nnics);
	if (virtio_mmio_offered(&d->vdev) & (1ull << VIRTIO_NET_F_MRG_RXBUF))
		want |= 1ull << VIRTIO_NET_F_GUEST_TSO4;
	rc = virtio_mmio_negotiate(&d->vdev, want);
	if (!rc)
		rc = virtio_mmio_setup_queue(&d->vdev, VIRTIO_NET_Q_RX, &d->rx, NET_QUEUE_SIZE);
	if (!rc)
		rc = virtio_mmio_setup_queue(&d->vdev, VIRTIO_NET_Q_TX, &d->tx, NET_QUEUE_SIZE);
	if (!rc) {
		/*
		 * Sent buffers are taken back when the next frame goes, so the
		 * device signals none unless a sender waits: on proc, one TCP
		 * stream's ACKs woke the guest once more for every two frames.
		 */
		virtq_used_events(&d->tx, false);
		rc = alloc_buffers(d);
	}
	if (!rc && !(d->vdev.features & (1ull << VIRTIO_NET_F_MAC)))
		rc = -ENOTSUP;
	if (!rc)
		rc = evtchn_bind_handler(d->vdev.port + VIRTIO_NET_Q_RX, on_rx, d);
	if (!rc)
		rc = evtchn_bind_handler(d->vdev.port + VIRTIO_NET_Q_TX, on_tx, d);
	if (rc) {
		virtio_mmio_fail(&d->vdev);
		return rc; /* what was allocated stays: a failed NIC at boot is rare and small */
	}
	virtio_mmio_config(&d->vdev, 0, &cfg, sizeof(cfg));
	d->dev.ops = &vnet_ops;
	if (d->vdev.features & (1ull << VIRTIO_NET_F_GUEST_CSUM))
		d->dev.offloads |= NETDEV_RX_CSUM;
	if (d->vdev.features & (1ull << VIRTIO_NET_F_CSUM))
		d->dev.offloads |= NETDEV_TX_CSUM;
	if (d->vdev.features & (1ull << VIRTIO_NET_F_GUEST_TSO4))
		d->dev.offloads |= NETDEV_RX_LARGE;
	snprintf(d->dev.name, sizeof(d->dev.name), "%s", d->vdev.name);
	memcpy(d->dev.mac, cfg.mac, 6);
	d->dev.mtu = (d->vdev.features & (1ull << VIRTIO_NET_F_MTU)) && cfg.mtu ? cfg.mtu : 1500;
	if (d->dev.mtu > NET_BUF_BYTES - NET_HDR_BYTES - ETH_HEADER_BYTES - 4)
		d->dev.mtu = NET_BUF_BYTES - NET_HDR_BYTES - ETH_HEADER_BYTES - 4;
	if (netdev_register(&d->dev)) {
		virtio_mmio_fail(&d->vdev);
		return -ENOSPC;
	}
	virtio_mmio_driver_ok(&d->vdev);
	/* Buffers were posted before DRIVER_OK; tell the device they are there. */
	virtio_mmio_notify(&d->vdev, VIRTIO_NET_Q_RX);
	nnics++;
	return 0;
}
