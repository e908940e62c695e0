/* SPDX-License-Identifier: MIT */
/* The virtio drivers libos has, and the probe that hands each device to its driver. */
#ifndef LIBOS_VIRTIO_DRIVERS_H
#define LIBOS_VIRTIO_DRIVERS_H

#include "platform.h"
#include "virtio_mmio.h"

/* Take over a probed device; 0 or -errno (the device is then marked FAILED). */
int virtio_blk_attach(struct virtio_dev *dev);
int virtio_net_attach(struct virtio_dev *dev);

/* Probe every device the platform listed and attach the drivers; an init step. */
void virtio_init(const struct boot *boot);

#endif /* LIBOS_VIRTIO_DRIVERS_H */
