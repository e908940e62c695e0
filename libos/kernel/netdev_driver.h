/* SPDX-License-Identifier: MIT */
/*
 * What a network driver gives libos's raw frame API (netdev.h): a struct
 * netdev to embed, filled and registered once the device is ready, and its
 * three operations. The API checks a frame's length against the MTU before
 * the driver sees it. Drivers: virtio-net (libos/virtio), Xen's netfront
 * (platforms/xen).
 */
#ifndef LIBOS_NETDEV_DRIVER_H
#define LIBOS_NETDEV_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "netdev.h"

struct netdev_ops {
	/*
	 * Send a frame of len bytes in parts, copied once; blocks while the ring
	 * is full. csum: NULL, or (with NETDEV_TX_CSUM) the checksum to leave
	 * to the device.
	 */
	int (*sendv)(struct netdev *dev, const struct netdev_part *parts, unsigned nparts,
		     size_t len, const struct netdev_tx_csum *csum);
	int (*receive)(struct netdev *dev, struct netdev_frame *frame, uint64_t deadline_ns);
	void (*release)(struct netdev *dev, struct netdev_frame *frame);
};

struct netdev {
	const struct netdev_ops *ops;
	char name[24];
	uint8_t mac[6];
	unsigned mtu;
	unsigned offloads; /* NETDEV_RX_CSUM ... */
};

/* Make dev one of the API's devices, in the order registered. 0 or -ENOSPC. */
int netdev_register(struct netdev *dev);

/*
 * The drivers, as device discovery calls them (virtio_init, the Xen platforms'
 * attach_devices): take the device over and register it; 0 or -errno. An
 * image has them only if it uses network devices (sockets do): netdev.c,
 * which every user of the API links, names them, and discovery calls them
 * through weak references, NULL in an image without them, whose NICs then
 * stay untouched.
 */
struct virtio_dev;
int virtio_net_attach(struct virtio_dev *dev);
int xen_netfront_attach(const char *dir); /* dir: the device's xenstore folder */

#endif /* LIBOS_NETDEV_DRIVER_H */
