/* SPDX-License-Identifier: MIT */
/*
 * The raw frame API over whichever drivers registered devices: the list, and
 * the length checks; and so the drivers themselves, which an image has only
 * if it links this file (netdev_driver.h).
 */
#include <errno.h>
#include <string.h>

#include "netdev_driver.h"

#define MAX_NICS 16
#define ETH_HEADER_BYTES 14
#define VLAN_TAG_BYTES 4

static struct netdev *nics[MAX_NICS];
static unsigned nnics;

/* Named for the linker only: device discovery calls them through weak references. */
static const struct {
	int (*virtio)(struct virtio_dev *dev);
	int (*xen)(const char *dir);
} drivers __attribute__((used)) = { virtio_net_attach, xen_netfront_attach };

int netdev_register(struct netdev *dev)
{
	if (nnics == MAX_NICS)
		return -ENOSPC;
	nics[nnics++] = dev;
	return 0;
}

unsigned netdev_count(void)
{
	return nnics;
}

struct netdev *netdev_get(unsigned index)
{
	return index < nnics ? nics[index] : NULL;
}

const char *netdev_name(const struct netdev *dev)
{
	return dev->name;
}

void netdev_mac(const struct netdev *dev, uint8_t mac[6])
{
	memcpy(mac, dev->mac, 6);
}

unsigned netdev_mtu(const struct netdev *dev)
{
	return dev->mtu;
}

int netdev_send(struct netdev *dev, const void *frame, size_t len)
{
	struct netdev_part part = { frame, len };

	return netdev_sendv(dev, &part, 1);
}

unsigned netdev_offloads(const struct netdev *dev)
{
	return dev->offloads;
}

static int sendv(struct netdev *dev, const struct netdev_part *parts, unsigned nparts,
		 const struct netdev_tx_csum *csum)
{
	size_t len = 0;

	for (unsigned i = 0; i < nparts; i++)
		len += parts[i].len;
	if (len < ETH_HEADER_BYTES || len > dev->mtu + ETH_HEADER_BYTES + VLAN_TAG_BYTES)
		return -EMSGSIZE;
	if (csum && (!(dev->offloads & NETDEV_TX_CSUM) || csum->start + csum->offset + 2u > len))
		return -EINVAL;
	return dev->ops->sendv(dev, parts, nparts, len, csum);
}

int netdev_sendv(struct netdev *dev, const struct netdev_part *parts, unsigned nparts)
{
	return sendv(dev, parts, nparts, NULL);
}

int netdev_sendv_csum(struct netdev *dev, const struct netdev_part *parts, unsigned nparts,
		      const struct netdev_tx_csum *csum)
{
	return sendv(dev, parts, nparts, csum);
}

int netdev_receive(struct netdev *dev, struct netdev_frame *frame, uint64_t deadline_ns)
{
	return dev->ops->receive(dev, frame, deadline_ns);
}

void netdev_release(struct netdev *dev, struct netdev_frame *frame)
{
	dev->ops->release(dev, frame);
}
