/* SPDX-License-Identifier: MIT */
/*
 * lwIP's network interface on a libos netdev. Received frames go up as
 * custom pbufs that point into the driver's buffers (no copy) and give them
 * back when lwIP frees them; when too many are held (a slow reader), frames
 * are copied instead so the device never runs out of receive buffers.
 * Where the device offers them, checksums the host checked or left partial
 * are not checked again, TCP segments of up to 64 KiB come up in one pbuf
 * chain, and the TCP and UDP checksums of what goes out are left to the
 * device (the frame carries the pseudo-header's sum in their place).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/prot/ip.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip4.h"
#include "lwip/tcpip.h"
#include "net.h"
#include "netif/ethernet.h"

/* Buffers lent to lwIP at most, before receiving copies: half the receive ring. */
#define NIC_MAX_LENT 128
#define NIC_MAX_PARTS 16
#define NIC_MAX_RX_PARTS 72 /* buffers one received frame may take: a 64 KiB segment in 1 KiB */

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

/* One received buffer, from byte skip on, lent to lwIP as a custom pbuf; NULL if none is left. */
static struct pbuf *lend(struct netdev *dev, struct netdev_frame *f, size_t skip)
{
	struct rx_pbuf *r = free_rx;

	if (!r && !(r = malloc(sizeof(*r))))
		return NULL;
	if (r == free_rx)
		free_rx = r->next_free;
	r->dev = dev;
	r->frame = *f;
	r->pc.custom_free_function = rx_pbuf_free;
	lent++;
	return pbuf_alloced_custom(PBUF_RAW, (u16_t)(f->len - skip), PBUF_REF, &r->pc,
				   f->data + skip, (u16_t)(f->len - skip));
}

/*
 * A frame's n parts as one pbuf chain, from byte skip of the first part
 * (which holds at least the Ethernet and IP headers). Lent while few are,
 * else copied into lwIP's pool; every part goes back to the device either
 * way (lent ones when lwIP frees them). NULL when there is no memory.
 */
static struct pbuf *wrap(struct netdev *dev, struct netdev_frame *f, unsigned n, size_t skip,
			 size_t total)
{
	struct pbuf *head = NULL;

	if (lent + n > NIC_MAX_LENT) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)total, PBUF_POOL);
		size_t off = 0;

		for (unsigned i = 0; i < n; i++) {
			size_t from = i == 0 ? skip : 0;

			if (p)
				pbuf_take_at(p, f[i].data + from, (u16_t)(f[i].len - from), (u16_t)off);
			off += f[i].len - from;
			netdev_release(dev, &f[i]);
		}
		return p;
	}
	for (unsigned i = 0; i < n; i++) {
		struct pbuf *q = lend(dev, &f[i], i == 0 ? skip : 0);

		if (!q) {
			while (i < n)
				netdev_release(dev, &f[i++]);
			break;
		}
		if (head)
			pbuf_cat(head, q);
		else
			head = q;
	}
	if (head && head->tot_len != total) { /* a part could not be had: the frame is lost */
		pbuf_free(head);
		return NULL;
	}
	return head;
}

/*
 * An IPv4 TCP or UDP frame whose checksum nobody checked, on an interface
 * where lwIP does not check them (the device usually does): check it here.
 * p starts at the Ethernet header. True if it is good or not ours to check.
 */
static bool transport_sum_ok(struct pbuf *p)
{
	const struct eth_hdr *eth = p->payload;
	const struct ip_hdr *ip = (const struct ip_hdr *)((const u8_t *)p->payload + SIZEOF_ETH_HDR);
	u16_t ihl, len;
	ip_addr_t src, dst;
	bool ok;

	if (p->len < SIZEOF_ETH_HDR + IP_HLEN || eth->type != PP_HTONS(ETHTYPE_IP) ||
	    IPH_V(ip) != 4 || (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)))
		return true; /* not IPv4, or a fragment: lwIP's reassembly checks the whole */
	if (IPH_PROTO(ip) != IP_PROTO_TCP && IPH_PROTO(ip) != IP_PROTO_UDP)
		return true;
	ihl = (u16_t)(IPH_HL_BYTES(ip));
	len = lwip_ntohs(IPH_LEN(ip));
	if (ihl < IP_HLEN || len < ihl || SIZEOF_ETH_HDR + (size_t)len > p->tot_len ||
	    p->len < SIZEOF_ETH_HDR + ihl)
		return true; /* malformed: lwIP drops it */
	ip_addr_copy_from_ip4(src, ip->src);
	ip_addr_copy_from_ip4(dst, ip->dest);
	pbuf_remove_header(p, SIZEOF_ETH_HDR + ihl);
	ok = ip_chksum_pseudo_partial(p, IPH_PROTO(ip), (u16_t)(len - ihl), (u16_t)(len - ihl),
				      &src, &dst) == 0;
	pbuf_add_header_force(p, SIZEOF_ETH_HDR + ihl); /* a lent pbuf grows back only by force */
	return ok;
}

/*
 * A frame longer than a pbuf chain can say (64 KiB with its Ethernet header):
 * only a long TCP segment to us is, and it goes straight to IP without that
 * header, under the core lock as tcpip_input would take it.
 */
static void input_long(struct netif *netif, struct netdev *dev, struct netdev_frame *f,
		       unsigned n, size_t total)
{
	const struct eth_hdr *eth = (const struct eth_hdr *)f[0].data;
	struct pbuf *p;

	if (f[0].len < SIZEOF_ETH_HDR + IP_HLEN || eth->type != PP_HTONS(ETHTYPE_IP) ||
	    memcmp(eth->dest.addr, netif->hwaddr, ETH_HWADDR_LEN) ||
	    total - SIZEOF_ETH_HDR > 0xffff) {
		for (unsigned i = 0; i < n; i++)
			netdev_release(dev, &f[i]);
		return;
	}
	p = wrap(dev, f, n, SIZEOF_ETH_HDR, total - SIZEOF_ETH_HDR);
	if (!p)
		return;
	LOCK_TCPIP_CORE();
	if (ip4_input(p, netif) != ERR_OK)
		pbuf_free(p);
	UNLOCK_TCPIP_CORE();
}

/* The next received frame's parts into f (NIC_MAX_RX_PARTS of room): how many, or -errno. */
static int receive_frame(struct netdev *dev, struct netdev_frame *f, size_t *total)
{
	unsigned n = 1, want;
	int rc = netdev_receive(dev, &f[0], LIBOS_FOREVER);

	if (rc)
		return rc;
	want = 1 + f[0].more;
	*total = f[0].len;
	for (; n < want; n++) {
		struct netdev_frame *to = &f[n < NIC_MAX_RX_PARTS ? n : NIC_MAX_RX_PARTS - 1];

		rc = netdev_receive(dev, to, LIBOS_FOREVER);
		if (rc)
			break;
		*total += to->len;
		if (n >= NIC_MAX_RX_PARTS - 1 && n + 1 < want)
			netdev_release(dev, to); /* longer than any frame: it goes, part by part */
	}
	if (n == want && want <= NIC_MAX_RX_PARTS)
		return (int)n;
	for (unsigned i = 0; i < n && i < NIC_MAX_RX_PARTS - 1; i++)
		netdev_release(dev, &f[i]);
	if (!rc && want > NIC_MAX_RX_PARTS)
		netdev_release(dev, &f[NIC_MAX_RX_PARTS - 1]);
	return rc ? rc : 0;
}

static void *rx_thread(void *arg)
{
	struct netif *netif = arg;
	struct netdev *dev = netif->state;
	struct netdev_frame *f = calloc(NIC_MAX_RX_PARTS, sizeof(*f));

	for (;;) {
		struct pbuf *p;
		size_t total = 0;
		int n = f ? receive_frame(dev, f, &total) : -ENOMEM;

		if (n < 0) {
			printf("libos: net: %s: receive failed (%d); the interface stops\n",
			       netdev_name(dev), n);
			netif_set_link_down(netif);
			return NULL;
		}
		if (n == 0)
			continue; /* a frame in more parts than any: dropped */
		if (total > 0xffff) {
			input_long(netif, dev, f, (unsigned)n, total);
			continue;
		}
		p = wrap(dev, f, (unsigned)n, 0, total);
		if (!p)
			continue;
		if (f[0].csum == NETDEV_CSUM_UNCHECKED && (netdev_offloads(dev) & NETDEV_RX_CSUM) &&
		    !transport_sum_ok(p)) {
			pbuf_free(p);
			continue;
		}
		if (netif->input(p, netif) != ERR_OK)
			pbuf_free(p);
	}
}

/*
 * For a device that completes checksums: where an IPv4 TCP or UDP frame's
 * checksum goes, with the pseudo-header's sum written there (lwIP left 0).
 * False when the frame is something else, or its headers are not all in
 * the first pbuf; lwIP computed nothing, so the caller then sums it itself.
 */
static bool leave_sum(struct pbuf *p, struct netdev_tx_csum *c)
{
	u8_t *b = p->payload;
	struct ip_hdr *ip = (struct ip_hdr *)(b + SIZEOF_ETH_HDR);
	u16_t ihl, len, field;
	ip_addr_t src, dst;

	if (p->len < SIZEOF_ETH_HDR + IP_HLEN ||
	    ((struct eth_hdr *)b)->type != PP_HTONS(ETHTYPE_IP) || IPH_V(ip) != 4 ||
	    (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)))
		return false;
	ihl = (u16_t)IPH_HL_BYTES(ip);
	len = lwip_ntohs(IPH_LEN(ip));
	if (IPH_PROTO(ip) == IP_PROTO_TCP)
		c->offset = 16;
	else if (IPH_PROTO(ip) == IP_PROTO_UDP)
		c->offset = 6;
	else
		return false;
	c->start = (uint16_t)(SIZEOF_ETH_HDR + ihl);
	if (len < ihl || p->len < c->start + c->offset + 2u)
		return false;
	ip_addr_copy_from_ip4(src, ip->src);
	ip_addr_copy_from_ip4(dst, ip->dest);
	field = (u16_t)~ip_chksum_pseudo_partial(p, IPH_PROTO(ip), (u16_t)(len - ihl), 0, &src,
						 &dst);
	memcpy(b + c->start + c->offset, &field, 2);
	return true;
}

/* An IPv4 TCP or UDP checksum lwIP left to the device, summed here (the rare frame leave_sum
 * cannot hand over). The frame is flat, at least its IP length long. */
static void sum_here(u8_t *frame, size_t len)
{
	struct pbuf *p = pbuf_alloc_reference(frame, (u16_t)len, PBUF_REF);
	struct ip_hdr *ip = (struct ip_hdr *)(frame + SIZEOF_ETH_HDR);
	u16_t ihl, plen, off, sum;
	ip_addr_t src, dst;

	if (!p || len < SIZEOF_ETH_HDR + IP_HLEN || IPH_V(ip) != 4 ||
	    (IPH_PROTO(ip) != IP_PROTO_TCP && IPH_PROTO(ip) != IP_PROTO_UDP)) {
		if (p)
			pbuf_free(p);
		return;
	}
	ihl = (u16_t)IPH_HL_BYTES(ip);
	plen = (u16_t)(lwip_ntohs(IPH_LEN(ip)) - ihl);
	off = IPH_PROTO(ip) == IP_PROTO_TCP ? 16 : 6;
	if (SIZEOF_ETH_HDR + (size_t)ihl + plen > len || plen < off + 2u) {
		pbuf_free(p);
		return;
	}
	ip_addr_copy_from_ip4(src, ip->src);
	ip_addr_copy_from_ip4(dst, ip->dest);
	memset(frame + SIZEOF_ETH_HDR + ihl + off, 0, 2);
	pbuf_remove_header(p, SIZEOF_ETH_HDR + ihl);
	sum = ip_chksum_pseudo_partial(p, IPH_PROTO(ip), plen, plen, &src, &dst);
	if (sum == 0 && IPH_PROTO(ip) == IP_PROTO_UDP)
		sum = 0xffff; /* 0 means "no checksum" in UDP */
	memcpy(frame + SIZEOF_ETH_HDR + ihl + off, &sum, 2);
	pbuf_free(p);
}

/* The frame in its pbuf parts, copied once into the transmit buffer by the driver. */
static err_t link_output(struct netif *netif, struct pbuf *p)
{
	struct netdev *dev = netif->state;
	struct netdev_part parts[NIC_MAX_PARTS];
	struct netdev_tx_csum c;
	bool offload = netdev_offloads(dev) & NETDEV_TX_CSUM;
	bool left = offload && leave_sum(p, &c);
	uint8_t flat[2048];
	unsigned n = 0;
	struct pbuf *q;

	for (q = p; q && n < NIC_MAX_PARTS; q = q->next)
		parts[n++] = (struct netdev_part){ q->payload, q->len };
	if (q || (offload && !left)) { /* a longer chain than parts, or a sum to do: flatten */
		if (p->tot_len > sizeof(flat))
			return ERR_IF;
		pbuf_copy_partial(p, flat, p->tot_len, 0);
		if (offload && !left)
			sum_here(flat, p->tot_len);
		parts[0] = (struct netdev_part){ flat, p->tot_len };
		n = 1;
	}
	if (left)
		return netdev_sendv_csum(dev, parts, n, &c) ? ERR_IF : ERR_OK;
	return netdev_sendv(dev, parts, n) ? ERR_IF : ERR_OK;
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
	/* What the device does, lwIP does not do again. */
	NETIF_SET_CHECKSUM_CTRL(netif, NETIF_CHECKSUM_ENABLE_ALL &
		~((netdev_offloads(dev) & NETDEV_RX_CSUM ? NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP : 0) |
		  (netdev_offloads(dev) & NETDEV_TX_CSUM ? NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_GEN_UDP : 0)));
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
