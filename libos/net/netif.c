/* SPDX-License-Identifier: MIT */
/*
 * lwIP's network interface on a libos netdev. Received frames go up as
 * custom pbufs that point into the driver's buffer (no copy) and give it
 * back when lwIP frees them; when too many are held (a slow reader), frames
 * are copied instead so the device never runs out of receive buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "net.h"
#include "netif/ethernet.h"

/* Frames lent to lwIP at most, before receiving copies: half the receive ring. */
#define NIC_MAX_LENT 128
#define NIC_MAX_PARTS 16

struct rx_pbuf {
	struct pbuf_custom pc; /* first: lwIP hands this pointer back */
	struct netdev *dev;
	struct netdev_frame frame;
	struct rx_pbuf *next_free;
};

static struct rx_pbuf *free_rx;
static unsigned lent;

static void rx_pbuf_free(struct pbuf *p)
{
	struct rx_pbuf *r = (struct rx_pbuf *)p;

	netdev_release(r->dev, &r->frame);
	r->next_free = free_rx;
	free_rx = r;
	lent--;
}

static struct pbuf *wrap(struct netdev *dev, struct netdev_frame *f)
{
	struct rx_pbuf *r = free_rx;
	struct pbuf *p;

	if (lent >= NIC_MAX_LENT || (!r && !(r = malloc(sizeof(*r))))) {
		p = pbuf_alloc(PBUF_RAW, (u16_t)f->len, PBUF_POOL);
		if (p)
			pbuf_take(p, f->data, (u16_t)f->len);
		netdev_release(dev, f);
		return p;
	}
	if (r == free_rx)
		free_rx = r->next_free;
	r->dev = dev;
	r->frame = *f;
	r->pc.custom_free_function = rx_pbuf_free;
	lent++;
	return pbuf_alloced_custom(PBUF_RAW, (u16_t)f->len, PBUF_REF, &r->pc, f->data,
				   (u16_t)f->len);
}

static void *rx_thread(void *arg)
{
	struct netif *netif = arg;
	struct netdev *dev = netif->state;

	for (;;) {
		struct netdev_frame f;
		struct pbuf *p;
		int rc = netdev_receive(dev, &f, LIBOS_FOREVER);

		if (rc) {
			printf("libos: net: %s: receive failed (%d); the interface stops\n",
			       netdev_name(dev), rc);
			netif_set_link_down(netif);
			return NULL;
		}
		p = wrap(dev, &f);
		if (p && netif->input(p, netif) != ERR_OK)
			pbuf_free(p);
	}
}

/* The frame in its pbuf parts, copied once into the transmit buffer by the driver. */
static err_t link_output(struct netif *netif, struct pbuf *p)
{
	struct netdev_part parts[NIC_MAX_PARTS];
	uint8_t flat[2048];
	unsigned n = 0;
	struct pbuf *q;

	for (q = p; q && n < NIC_MAX_PARTS; q = q->next)
		parts[n++] = (struct netdev_part){ q->payload, q->len };
	if (q) { /* a longer chain than parts: flatten it */
		if (p->tot_len > sizeof(flat))
			return ERR_IF;
		pbuf_copy_partial(p, flat, p->tot_len, 0);
		parts[0] = (struct netdev_part){ flat, p->tot_len };
		n = 1;
	}
	return netdev_sendv(netif->state, parts, n) ? ERR_IF : ERR_OK;
}

static err_t nic_init(struct netif *netif)
{
	struct netdev *dev = netif->state;

	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->hwaddr_len = ETH_HWADDR_LEN;
	netdev_mac(dev, netif->hwaddr);
	netif->mtu = (u16_t)netdev_mtu(dev);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->linkoutput = link_output;
	return ERR_OK;
}

int nic_attach(struct netif *netif, struct netdev *dev)
{
	struct thread *t;

	if (!netif_add(netif, NULL, NULL, NULL, dev, nic_init, tcpip_input))
		return -EIO;
	t = thread_create("net-rx", rx_thread, netif, 0);
	if (!t)
		return -ENOMEM;
	thread_detach(t);
	return 0;
}
