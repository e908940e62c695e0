/* SPDX-License-Identifier: MIT */
/*
 * Network devices, raw Ethernet frames (without FCS). Receiving hands out
 * the driver's own buffer, no copy, until netdev_release(); sending copies
 * the frame into a transmit buffer, so the caller's is free on return.
 * A device may do work for the stack above it (netdev_offloads()): say
 * which received checksums it checked, take TCP/UDP checksums over on
 * sending, and hand over TCP segments longer than its MTU in several parts.
 */
#ifndef LIBOS_NETDEV_H
#define LIBOS_NETDEV_H

#include <stddef.h>
#include <stdint.h>

struct netdev;

/* Whether a received frame's TCP or UDP checksum still needs checking. */
enum netdev_csum {
	NETDEV_CSUM_UNCHECKED, /* nobody checked it: the receiver must */
	NETDEV_CSUM_VALID,     /* the device checked it */
	NETDEV_CSUM_PARTIAL,   /* the sender is on this host and left it partial: nothing to check */
};

/*
 * One received buffer. A frame longer than a buffer (NETDEV_RX_LARGE) comes
 * as its first part, whose more says how many parts follow, each from a
 * receive of its own and each released on its own.
 */
struct netdev_frame {
	uint8_t *data;
	size_t len;
	void *priv;            /* the driver's */
	unsigned more;         /* parts of this frame still to come (first part only) */
	enum netdev_csum csum; /* first part only */
};

#define NETDEV_RX_CSUM 1u  /* receive sets csum; without it, every frame is UNCHECKED */
#define NETDEV_TX_CSUM 2u  /* netdev_sendv_csum() may leave a checksum to the device */
#define NETDEV_RX_LARGE 4u /* TCP segments may arrive longer than the MTU, in parts */

/* Which of the NETDEV_* offloads the device does. */
unsigned netdev_offloads(const struct netdev *dev);

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

/*
 * The same, with the frame's TCP or UDP checksum left to a NETDEV_TX_CSUM
 * device: it sums the frame from byte start to the end and stores the sum
 * at start + offset, where the caller put the pseudo-header's sum (the
 * partial-checksum convention, virtio 1.1 5.1.6.2). -EINVAL on another device.
 */
struct netdev_tx_csum {
	uint16_t start, offset;
};
int netdev_sendv_csum(struct netdev *dev, const struct netdev_part *parts, unsigned nparts,
		      const struct netdev_tx_csum *csum);

/* The next received frame, waiting until deadline_ns. 0, -ETIMEDOUT, -EIO. */
int netdev_receive(struct netdev *dev, struct netdev_frame *frame, uint64_t deadline_ns);

/* Give a received frame's buffer back to the device. */
void netdev_release(struct netdev *dev, struct netdev_frame *frame);

#endif /* LIBOS_NETDEV_H */
