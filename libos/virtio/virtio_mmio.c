/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, driver side, as virtio 1.1 section 4.2.3
 * describes device initialisation. On hv every register access here but
 * QueueNotify is an exit to hv, so this runs at init, not per request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "libos.h"
#include "virtio_mmio.h"

static uint32_t rd(struct virtio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static void wr(struct virtio_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->base + off) = v;
}

int virtio_mmio_probe(struct virtio_dev *dev, const struct boot_device *bd)
{
	memset(dev, 0, sizeof(*dev));
	dev->base = (volatile uint8_t *)(uintptr_t)bd->base;
	dev->port = bd->port;
	dev->nr_ports = bd->nr_ports;
	dev->kick_fd = bd->kick_fd;
	if (rd(dev, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
		return -ENODEV;
	dev->device_id = rd(dev, VIRTIO_MMIO_DEVICE_ID);
	if (dev->device_id == 0)
		return -ENODEV;
	if (rd(dev, VIRTIO_MMIO_VERSION) != 2)
		return -ENOTSUP;
	return 0;
}

uint32_t virtio_mmio_status(struct virtio_dev *dev)
{
	return rd(dev, VIRTIO_MMIO_STATUS);
}

static void set_status(struct virtio_dev *d, uint32_t bits)
{
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | bits);
}

uint64_t virtio_mmio_offered(struct virtio_dev *dev)
{
	uint64_t offered;

	wr(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = (uint64_t)rd(dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return offered | rd(dev, VIRTIO_MMIO_DEVICE_FEATURES);
}

int virtio_mmio_negotiate(struct virtio_dev *dev, uint64_t wanted)
{
	uint64_t offered;

	wr(dev, VIRTIO_MMIO_STATUS, 0); /* reset */
	set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(dev, VIRTIO_STATUS_DRIVER);
	offered = virtio_mmio_offered(dev);
	if (!(offered & (1ull << VIRTIO_F_VERSION_1)))
		return -EIO;
	dev->features = offered & (wanted | (1ull << VIRTIO_F_VERSION_1));
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(dev->features >> 32));
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)dev->features);
	set_status(dev, VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -EIO;
	return 0;
}

int virtio_mmio_setup_queue(struct virtio_dev *dev, unsigned index, struct virtq *q,
			    uint16_t max_size)
{
	uint32_t offered;
	uint16_t size = max_size;
	size_t bytes, pages;
	struct virtq_slot *slots;
	void *ring;

	wr(dev, VIRTIO_MMIO_QUEUE_SEL, index);
	if (rd(dev, VIRTIO_MMIO_QUEUE_READY))
		return -EBUSY;
	offered = rd(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (offered == 0)
		return -ENODEV;
	while (size > offered)
		size /= 2;
	bytes = virtq_ring_bytes(size);
	pages = (bytes + PAGE_BYTES - 1) / PAGE_BYTES;
	ring = pages_alloc(pages);
	slots = calloc(size, sizeof(*slots));
	if (!ring || !slots) {
		if (ring)
			pages_free(ring, pages);
		free(slots);
		return -ENOMEM;
	}
	memset(ring, 0, pages * PAGE_BYTES);
	virtq_init(q, size, ring, slots, dev->features & (1ull << VIRTIO_F_RING_EVENT_IDX));
	wr(dev, VIRTIO_MMIO_QUEUE_NUM, size);
	wr(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)virtq_desc_addr(q));
	wr(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(virtq_desc_addr(q) >> 32));
	wr(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)virtq_avail_addr(q));
	wr(dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(virtq_avail_addr(q) >> 32));
	wr(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)virtq_used_addr(q));
	wr(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(virtq_used_addr(q) >> 32));
	wr(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

void virtio_mmio_driver_ok(struct virtio_dev *dev)
{
	set_status(dev, VIRTIO_STATUS_DRIVER_OK);
}

void virtio_mmio_fail(struct virtio_dev *dev)
{
	set_status(dev, VIRTIO_STATUS_FAILED);
}

void virtio_mmio_notify(struct virtio_dev *dev, unsigned index)
{
	if (dev->kick_fd && platform->kick(dev->kick_fd + (int)index))
		return;
	wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

/* Whole aligned 32-bit reads: on hv each read is an exit, so fewer and wider is cheaper. */
void virtio_mmio_config(struct virtio_dev *dev, unsigned off, void *buf, unsigned len)
{
	uint32_t words[16], gen;
	unsigned first = off & ~3u, n = (off + len - first + 3) / 4;

	if (n > 16)
		panic("virtio_mmio_config: %u bytes at %u is more than this reads", len, off);
	do {
		gen = rd(dev, VIRTIO_MMIO_CONFIG_GENERATION);
		for (unsigned i = 0; i < n; i++)
			words[i] = rd(dev, VIRTIO_MMIO_CONFIG + first + 4 * i);
	} while (rd(dev, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
	memcpy(buf, (uint8_t *)words + (off - first), len);
}
