/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, driver side (virtio 1.1, 4.2): probing a
 * device window, feature negotiation, queue setup and notification. Modern
 * (version 2) devices only.
 */
#ifndef LIBOS_VIRTIO_MMIO_H
#define LIBOS_VIRTIO_MMIO_H

#include <stdint.h>

#include "evtchn.h"
#include "platform.h"
#include "virtq.h"

struct virtio_dev {
	volatile uint8_t *base;
	uint32_t device_id;
	uint64_t features;  /* negotiated */
	evtchn_port_t port; /* queue q signals port + q */
	uint32_t nr_ports;
	int kick_fd;        /* boot_device's: 0, or queue q's kick is platform->kick(kick_fd + q) */
	char name[16];      /* "virtio-blk0" ... for messages */
};

/*
 * Look at the device window of bd. Returns 0 with dev filled, -ENODEV when
 * no device is there, -ENOTSUP for a legacy (version 1) device.
 */
int virtio_mmio_probe(struct virtio_dev *dev, const struct boot_device *bd);

/*
 * Reset the device and negotiate: the driver accepts wanted & offered,
 * VIRTIO_F_VERSION_1 always. 0 or -EIO (the device refused FEATURES_OK).
 */
int virtio_mmio_negotiate(struct virtio_dev *dev, uint64_t wanted);
/* The features the device offers (a read of its registers; no state changes). */
uint64_t virtio_mmio_offered(struct virtio_dev *dev);

/*
 * Give queue index its ring: at most max_size entries (the device may
 * offer fewer). Allocates the ring and slots and initialises q. 0, -ENODEV
 * (no such queue), -ENOMEM.
 */
int virtio_mmio_setup_queue(struct virtio_dev *dev, unsigned index, struct virtq *q,
			    uint16_t max_size);

/* Tell the device the driver is ready (DRIVER_OK). */
void virtio_mmio_driver_ok(struct virtio_dev *dev);

/* Mark the device FAILED: the driver gives up on it. */
void virtio_mmio_fail(struct virtio_dev *dev);

/* Kick queue index: a write to QueueNotify, or the platform's kick where it has one. */
void virtio_mmio_notify(struct virtio_dev *dev, unsigned index);

/* Read len bytes of device configuration at off, consistently (ConfigGeneration). */
void virtio_mmio_config(struct virtio_dev *dev, unsigned off, void *buf, unsigned len);

/* Device status, for drivers that watch for DEVICE_NEEDS_RESET. */
uint32_t virtio_mmio_status(struct virtio_dev *dev);

#endif /* LIBOS_VIRTIO_MMIO_H */
