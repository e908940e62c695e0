/* SPDX-License-Identifier: MIT */
/*
 * Network devices, raw Ethernet frames (without FCS). Receiving hands out
 * the driver's own buffer, no copy, until netdev_release(); sending copies
 * the frame into a transmit buffer, so the caller's is free on return.
 */
#ifndef LIBOS_NETDEV_H
#define LIBOS_NETDEV_H

#include <stddef.h>
#include <stdint.h>

struct netdev;

struct netdev_frame {
	uint8_t *data;
	size_t len;
	void *priv; /* the driver's */
};

unsigned netdev_count(void);
struct netdev *netdev_get(unsigned index);
const char *netdev_name(const struct netdev *dev);
void netdev_mac(const struct netdev *dev, uint8_t mac[6]);
unsigned netdev_mtu(const struct netdev *dev);

/* Send one frame; blocks while the transmit ring is full. 0, -EMSGSIZE, -EIO. */
int netdev_send(struct netdev *dev, const void *frame, size_t len);

/* Send one frame given in parts (e.g. a chain of protocol buffers), copied once. */
struct netdev_part {
	const void *data;
	size_t len;
};
int netdev_sendv(struct netdev *dev, const struct netdev_part *parts, unsigned nparts);

/* The next received frame, waiting until deadline_ns. 0, -ETIMEDOUT, -EIO. */
int netdev_receive(struct netdev *dev, struct netdev_frame *frame, uint64_t deadline_ns);

/* Give a received frame's buffer back to the device. */
void netdev_release(struct netdev *dev, struct netdev_frame *frame);

#endif /* LIBOS_NETDEV_H */
