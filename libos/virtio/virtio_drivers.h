/* SPDX-License-Identifier: MIT */
/*
 * The probe that hands each virtio device to its driver. The drivers'
 * entry points are declared with their device class (blkdev_driver.h,
 * netdev_driver.h): an attach fails with -errno after marking the device
 * FAILED.
 */
#ifndef LIBOS_VIRTIO_DRIVERS_H
#define LIBOS_VIRTIO_DRIVERS_H

#include "blkdev_driver.h"
#include "netdev_driver.h"
#include "platform.h"
#include "virtio_mmio.h"

/*
 * Probe every device the platform listed and attach the drivers the image has; an init step.
 * In the image with a virtio driver, which names it; init.c refers to it weakly, and without
 * one the devices stay untouched.
 */
void virtio_init(const struct boot *boot);

#endif /* LIBOS_VIRTIO_DRIVERS_H */
