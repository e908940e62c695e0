/* SPDX-License-Identifier: MIT */
/*
 * Xen's network frontend (the netif protocol of Xen's io/netif.h, on the
 * shared rings of io/ring.h) behind libos's raw frame API, the same API
 * virtio-net serves, so lwIP and the apps run unchanged.
 *
 * Receive: one page per ring slot, granted to the backend once, which
 * copies each frame into it (request-rx-copy); the frame is lent to the
 * caller in place and its slot posted again on release. Transmit: a frame
 * is copied into one of the ring's 2 KiB buffers (two per page, each page
 * granted read-only once) and sent by grant and offset. No checksum
 * offload either way: the backend is told so, and sends whole checksums.
 *
 * Handshake through xenstore: wait for the backend to be InitWait, write
 * both rings' refs, the event channel and the features, go Connected, wait
 * for the backend to be Connected.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtchn.h"
#include "gnttab.h"
#include "kernel.h"
#include "libos.h"
#include "netdev_driver.h"
#include "pvh.h"
#include "xen.h"

#define PAGE 4096u
#define TX_BUF 2048u
#define RING_ENTRIES 256u /* both rings: (4096 - 64) / 12 and / 8, rounded down to a power of 2 */
#define ETH_MTU 1500u
#define NETRXF_MORE_DATA 4u
#define XENBUS_INITWAIT 2
#define XENBUS_CONNECTED 4

struct netif_tx_request {
	uint32_t gref;
	uint16_t offset;
	uint16_t flags;
	uint16_t id;
	uint16_t size;
};
struct netif_tx_response {
	uint16_t id;
	int16_t status;
};
struct netif_rx_request {
	uint16_t id;
	uint16_t pad;
	uint32_t gref;
};
struct netif_rx_response {
	uint16_t id;
	uint16_t offset;
	uint16_t flags;
	int16_t status; /* bytes, or a negative NETIF_RSP_* */
};

struct ring_header {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
	uint8_t pad[48];
};
struct tx_sring {
	struct ring_header h;
	union {
		struct netif_tx_request req;
		struct netif_tx_response rsp;
	} ring[RING_ENTRIES];
};
struct rx_sring {
	struct ring_header h;
	union {
		struct netif_rx_request req;
		struct netif_rx_response rsp;
	} ring[RING_ENTRIES];
};
_Static_assert(sizeof(struct tx_sring) <= PAGE && sizeof(struct rx_sring) <= PAGE, "one page");

struct netfront {
	struct netdev dev; /* first: the frame API's view */
	domid_t backend;
	evtchn_port_t port;
	struct tx_sring *tx;
	struct rx_sring *rx;
	uint32_t tx_prod, tx_cons, rx_prod, rx_cons;
	uint8_t *rx_pages;   /* RING_ENTRIES pages */
	int rx_gref[RING_ENTRIES];
	uint8_t *tx_bufs;    /* RING_ENTRIES buffers of TX_BUF */
	int tx_gref[RING_ENTRIES / 2];
	uint16_t tx_free[RING_ENTRIES];
	unsigned ntx_free;
	struct wait_queue rx_wait, tx_wait;
};

static void on_event(evtchn_port_t port, void *arg)
{
	struct netfront *f = arg;

	(void)port;
	wait_queue_wake_all(&f->rx_wait);
	wait_queue_wake_all(&f->tx_wait);
}

/* Publish requests, and signal the backend if it asked to be (io/ring.h's rule). */
static void push(struct netfront *f, struct ring_header *h, uint32_t prod, uint32_t old)
{
	uint32_t event;

	__atomic_store_n(&h->req_prod, prod, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&h->req_event, __ATOMIC_ACQUIRE);
	if ((uint32_t)(prod - event) < (uint32_t)(prod - old))
		evtchn_send_sync(f->port);
}

static void post_rx(struct netfront *f, uint16_t id)
{
	struct netif_rx_request *r = &f->rx->ring[f->rx_prod % RING_ENTRIES].req;

	r->id = id;
	r->gref = (uint32_t)f->rx_gref[id];
	f->rx_prod++;
}

/* Take the transmit responses: their buffers are free again. */
static void reclaim_tx(struct netfront *f)
{
	uint32_t prod = __atomic_load_n(&f->tx->h.rsp_prod, __ATOMIC_ACQUIRE);

	if (prod - f->tx_cons > RING_ENTRIES)
		return; /* a backend's mistake: take nothing */
	for (; f->tx_cons != prod; f->tx_cons++) {
		uint16_t id = f->tx->ring[f->tx_cons % RING_ENTRIES].rsp.id;

		if (id < RING_ENTRIES && f->ntx_free < RING_ENTRIES)
			f->tx_free[f->ntx_free++] = id;
	}
	f->tx->h.rsp_event = f->tx_cons + 1;
}

static int nf_sendv(struct netdev *dev, const struct netdev_part *parts, unsigned nparts,
		    size_t len, const struct netdev_tx_csum *csum)
{
	struct netfront *f = (struct netfront *)dev;
	struct netif_tx_request *r;
	uint8_t *buf;
	size_t off = 0;
	uint16_t id;

	(void)csum; /* never asked for: netfront offers no offload */
	if (len > TX_BUF)
		return -EMSGSIZE;
	for (;;) {
		reclaim_tx(f);
		if (f->ntx_free)
			break;
		wait_queue_wait(&f->tx_wait, LIBOS_FOREVER);
	}
	id = f->tx_free[--f->ntx_free];
	buf = f->tx_bufs + (size_t)id * TX_BUF;
	for (unsigned i = 0; i < nparts; off += parts[i].len, i++)
		memcpy(buf + off, parts[i].data, parts[i].len);
	r = &f->tx->ring[f->tx_prod % RING_ENTRIES].req;
	*r = (struct netif_tx_request){ .gref = (uint32_t)f->tx_gref[id / 2],
					.offset = (uint16_t)((id % 2) * TX_BUF),
					.id = id, .size = (uint16_t)len };
	f->tx_prod++;
	push(f, &f->tx->h, f->tx_prod, f->tx_prod - 1);
	return 0;
}

static int nf_receive(struct netdev *dev, struct netdev_frame *frame, uint64_t deadline_ns)
{
	struct netfront *f = (struct netfront *)dev;

	for (;;) {
		uint32_t prod = __atomic_load_n(&f->rx->h.rsp_prod, __ATOMIC_ACQUIRE);

		if (prod - f->rx_cons > RING_ENTRIES)
			return -EIO; /* a backend's mistake */
		while (f->rx_cons != prod) {
			struct netif_rx_response r = f->rx->ring[f->rx_cons % RING_ENTRIES].rsp;
			uint32_t old = f->rx_prod;

			f->rx_cons++;
			if (r.id >= RING_ENTRIES)
				continue;
			if (r.status > 0 && r.offset + (unsigned)r.status <= PAGE &&
			    !(r.flags & NETRXF_MORE_DATA)) {
				frame->data = f->rx_pages + (size_t)r.id * PAGE + r.offset;
				frame->len = (size_t)r.status;
				frame->priv = (void *)(uintptr_t)r.id;
				frame->more = 0;
				frame->csum = NETDEV_CSUM_UNCHECKED;
				return 0;
			}
			post_rx(f, r.id); /* an error or a fragment: the slot goes straight back */
			push(f, &f->rx->h, f->rx_prod, old);
		}
		f->rx->h.rsp_event = f->rx_cons + 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&f->rx->h.rsp_prod, __ATOMIC_ACQUIRE) != f->rx_cons)
			continue;
		if (wait_queue_wait(&f->rx_wait, deadline_ns) == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
}

static void nf_release(struct netdev *dev, struct netdev_frame *frame)
{
	struct netfront *f = (struct netfront *)dev;
	uint32_t old = f->rx_prod;

	post_rx(f, (uint16_t)(uintptr_t)frame->priv);
	push(f, &f->rx->h, f->rx_prod, old);
}

static const struct netdev_ops netfront_ops = {
	.sendv = nf_sendv,
	.receive = nf_receive,
	.release = nf_release,
};

/* "xx:xx:xx:xx:xx:xx" (no scanf: it would double the size of every image). */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		char *end;
		unsigned long v = strtoul(s, &end, 16);

		if (end == s || v > 0xff || *end != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)v;
		s = end + 1;
	}
	return 0;
}

static int grant_buffers(struct netfront *f)
{
	f->rx_pages = pages_alloc(RING_ENTRIES);
	f->tx_bufs = pages_alloc(RING_ENTRIES * TX_BUF / PAGE);
	if (!f->rx_pages || !f->tx_bufs)
		return -ENOMEM;
	for (unsigned i = 0; i < RING_ENTRIES; i++)
		if ((f->rx_gref[i] = gnttab_grant_access(f->backend, f->rx_pages + i * PAGE, 0)) < 0)
			return f->rx_gref[i];
	for (unsigned i = 0; i < RING_ENTRIES / 2; i++)
		if ((f->tx_gref[i] = gnttab_grant_access(f->backend, f->tx_bufs + i * PAGE, 1)) < 0)
			return f->tx_gref[i];
	for (unsigned i = 0; i < RING_ENTRIES; i++)
		f->tx_free[f->ntx_free++] = (uint16_t)i;
	return 0;
}

/* Named for the linker only: the platforms call device discovery through a weak reference. */
static void (*const discovery)(void) __attribute__((used)) = xen_attach_devices;

int xen_netfront_attach(const char *dir)
{
	static unsigned nnics;
	struct netfront *f = calloc(1, sizeof(*f));
	char backend[96], path[128], mac[32];
	unsigned long long id;
	int tx_ref, rx_ref, port, rc;

	if (!f)
		return -ENOMEM;
	snprintf(f->dev.name, sizeof(f->dev.name), "xen-vif%u", nnics);
	snprintf(path, sizeof(path), "%s/backend", dir);
	if ((rc = xen_store_read(path, backend, sizeof(backend))) < 0)
		goto fail;
	if ((rc = xen_store_read_number(dir, "backend-id", &id)) < 0)
		goto fail;
	f->backend = (domid_t)id;
	snprintf(path, sizeof(path), "%s/mac", dir);
	if ((rc = xen_store_read(path, mac, sizeof(mac))) < 0 || (rc = parse_mac(mac, f->dev.mac)) < 0)
		goto fail;
	f->tx = pages_alloc(1);
	f->rx = pages_alloc(1);
	if (!f->tx || !f->rx || (rc = grant_buffers(f)) < 0) {
		rc = rc < 0 ? rc : -ENOMEM;
		goto fail;
	}
	memset(f->tx, 0, PAGE);
	memset(f->rx, 0, PAGE);
	f->tx->h.req_event = f->tx->h.rsp_event = 1;
	f->rx->h.req_event = f->rx->h.rsp_event = 1;
	for (unsigned i = 0; i < RING_ENTRIES; i++)
		post_rx(f, (uint16_t)i);
	f->rx->h.req_prod = f->rx_prod;
	tx_ref = gnttab_grant_access(f->backend, f->tx, 0);
	rx_ref = gnttab_grant_access(f->backend, f->rx, 0);
	port = evtchn_alloc_unbound(f->backend);
	if ((rc = tx_ref) < 0 || (rc = rx_ref) < 0 || (rc = port) < 0)
		goto fail;
	f->port = (evtchn_port_t)port;
	if ((rc = evtchn_bind_handler(f->port, on_event, f)) < 0 ||
	    (rc = xen_store_wait_state(backend, XENBUS_INITWAIT)) < 0 ||
	    (rc = xen_store_write_number(dir, "tx-ring-ref", (unsigned)tx_ref)) < 0 ||
	    (rc = xen_store_write_number(dir, "rx-ring-ref", (unsigned)rx_ref)) < 0 ||
	    (rc = xen_store_write_number(dir, "event-channel", f->port)) < 0 ||
	    (rc = xen_store_write_number(dir, "request-rx-copy", 1)) < 0 ||
	    (rc = xen_store_write_number(dir, "feature-rx-notify", 1)) < 0 ||
	    (rc = xen_store_write_number(dir, "feature-no-csum-offload", 1)) < 0 ||
	    (rc = xen_store_write_number(dir, "state", XENBUS_CONNECTED)) < 0 ||
	    (rc = xen_store_wait_state(backend, XENBUS_CONNECTED)) < 0)
		goto fail;
	f->dev.mtu = ETH_MTU;
	f->dev.ops = &netfront_ops;
	if ((rc = netdev_register(&f->dev)) < 0)
		goto fail;
	nnics++;
	return 0;
fail:
	pvh_printf("xen: %s: netfront could not attach: %s\n", dir, strerror(-rc));
	return rc; /* what was granted stays granted: the domain cannot use the device anyway */
}
