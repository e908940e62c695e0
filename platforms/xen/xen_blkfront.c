/* SPDX-License-Identifier: MIT */
/*
 * Xen's block frontend (the blkif protocol of Xen's io/blkif.h and the
 * shared ring of io/ring.h) behind libos's block API, the same API
 * virtio-blk serves, so the file system and kvstore run unchanged.
 *
 * Handshake through xenstore: the device's directory names its backend;
 * the frontend grants it the ring page, allocates an event channel for
 * it, writes both and goes Initialised; once the backend is Connected it
 * reads the disk's size and flags and goes Connected too.
 *
 * Data goes through bounce pages, 11 per ring slot (a request's most),
 * granted to the backend once at attach: libos's buffers need not be
 * sector-aligned, and no grant is made per request. A libos request of up
 * to BLK_MAX_REQUEST_SECTORS is split into ring requests of at most 88
 * sectors; it completes when all of them have.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev_driver.h"
#include "evtchn.h"
#include "gnttab.h"
#include "kernel.h"
#include "libos.h"
#include "pvh.h"
#include "xen.h"

#define PAGE 4096u
#define SECTOR 512u
#define SEGS 11u                          /* segments a request carries */
#define SLOT_SECTORS (SEGS * PAGE / SECTOR) /* 88 */
#define RING_ENTRIES 32u                  /* (4096 - 64) / 112, rounded down to a power of 2 */

#define BLKIF_OP_READ 0
#define BLKIF_OP_WRITE 1
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_RSP_OKAY 0
#define BLKIF_RSP_EOPNOTSUPP (-2)
#define VDISK_READONLY 4u
#define XENBUS_INITIALISED 3
#define XENBUS_CONNECTED 4

struct blkif_segment {
	uint32_t gref;
	uint8_t first_sect, last_sect;
	uint16_t pad;
};

struct blkif_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint32_t pad;
	uint64_t id;
	uint64_t sector_number;
	struct blkif_segment seg[SEGS];
};

struct blkif_response {
	uint64_t id;
	uint8_t operation;
	uint8_t pad;
	int16_t status;
	uint32_t pad2;
};

struct blkif_sring {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
	uint8_t pad[48];
	union {
		struct blkif_request req;
		struct blkif_response rsp;
	} ring[RING_ENTRIES];
};
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request (x86_64)");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response (x86_64)");
_Static_assert(sizeof(struct blkif_sring) <= PAGE, "the ring is one page");

/* A ring slot in use: which part of which libos request. */
struct slot {
	struct blk_request *req;
	size_t offset;   /* bytes into req->buf */
	size_t sectors;
	uint8_t *bounce; /* SEGS pages */
	int gref[SEGS];
	bool busy;
};

struct blkfront {
	struct blkdev dev; /* first: the block API's view */
	char dir[64];      /* device/vbd/N */
	domid_t backend;
	uint16_t handle;
	bool flush;
	struct blkif_sring *sring;
	uint32_t req_prod, rsp_cons;
	uint32_t req_pushed; /* req_prod as last published: push() signals for what follows it */
	evtchn_port_t port;
	struct slot slots[RING_ENTRIES];
	struct wait_queue space; /* waiting for a free slot */
};

/* Parts of a libos request still in flight: kept in its driver bytes (hdr). */
static unsigned *parts_left(struct blk_request *req)
{
	_Static_assert(sizeof(((struct blk_request *)0)->hdr) >= sizeof(unsigned), "room");
	return (unsigned *)(void *)req->hdr;
}

static void part_done(struct blk_request *req, int status)
{
	if (status && !req->status)
		req->status = status;
	if (--*parts_left(req) == 0)
		req->done(req);
}

static void on_event(evtchn_port_t port, void *arg)
{
	struct blkfront *f = arg;

	(void)port;
	for (;;) {
		uint32_t prod = __atomic_load_n(&f->sring->rsp_prod, __ATOMIC_ACQUIRE);

		if (prod - f->rsp_cons > RING_ENTRIES) {
			pvh_printf("xen: %s: the backend's response index moved by %u; ignoring it\n",
				   f->dev.name, prod - f->rsp_cons);
			return;
		}
		while (f->rsp_cons != prod) {
			struct blkif_response r = f->sring->ring[f->rsp_cons % RING_ENTRIES].rsp;
			struct slot *s;

			f->rsp_cons++;
			if (r.id >= RING_ENTRIES || !f->slots[r.id].busy)
				continue; /* not ours: a backend's mistake, dropped */
			s = &f->slots[r.id];
			if (r.status == BLKIF_RSP_OKAY && s->req->op == BLK_READ)
				memcpy((char *)s->req->buf + s->offset, s->bounce, s->sectors * SECTOR);
			s->busy = false;
			part_done(s->req, r.status == BLKIF_RSP_OKAY       ? 0
					  : r.status == BLKIF_RSP_EOPNOTSUPP ? -ENOTSUP
									     : -EIO);
		}
		f->sring->rsp_event = f->rsp_cons + 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&f->sring->rsp_prod, __ATOMIC_ACQUIRE) == f->rsp_cons)
			break;
	}
	wait_queue_wake_all(&f->space);
}

static struct slot *free_slot(struct blkfront *f, unsigned *id)
{
	for (unsigned i = 0; i < RING_ENTRIES; i++)
		if (!f->slots[i].busy) {
			*id = i;
			return &f->slots[i];
		}
	return NULL;
}

/* Put one ring request for sectors [first, first + n) of req, in slot id. */
static void put(struct blkfront *f, unsigned id, struct blk_request *req, size_t first, size_t n)
{
	struct slot *s = &f->slots[id];
	struct blkif_request *r = &f->sring->ring[f->req_prod % RING_ENTRIES].req;

	s->req = req;
	s->offset = first * SECTOR;
	s->sectors = n;
	s->busy = true;
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->handle = f->handle;
	if (req->op == BLK_FLUSH) {
		r->operation = BLKIF_OP_FLUSH_DISKCACHE;
	} else {
		r->operation = req->op == BLK_READ ? BLKIF_OP_READ : BLKIF_OP_WRITE;
		r->sector_number = req->sector + first;
		r->nr_segments = (uint8_t)((n * SECTOR + PAGE - 1) / PAGE);
		for (unsigned i = 0; i < r->nr_segments; i++) {
			size_t in_page = n * SECTOR - i * PAGE < PAGE ? n * SECTOR - i * PAGE : PAGE;

			r->seg[i] = (struct blkif_segment){ .gref = (uint32_t)s->gref[i], .first_sect = 0,
							    .last_sect = (uint8_t)(in_page / SECTOR - 1) };
		}
		if (req->op == BLK_WRITE)
			memcpy(s->bounce, (char *)req->buf + first * SECTOR, n * SECTOR);
	}
	f->req_prod++;
}

/* Publish the requests put, and signal the backend if it asked to be (io/ring.h's rule). */
static void push(struct blkfront *f)
{
	uint32_t event, old = f->req_pushed;

	f->req_pushed = f->req_prod;
	__atomic_store_n(&f->sring->req_prod, f->req_prod, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&f->sring->req_event, __ATOMIC_ACQUIRE);
	if ((uint32_t)(f->req_prod - event) < (uint32_t)(f->req_prod - old))
		evtchn_send_sync(f->port);
}

static void blkfront_notify(struct blkdev *dev)
{
	push((struct blkfront *)dev);
}

static int blkfront_queue(struct blkdev *dev, struct blk_request *req)
{
	struct blkfront *f = (struct blkfront *)dev;
	size_t parts = req->op == BLK_FLUSH ? 1 : (req->count + SLOT_SECTORS - 1) / SLOT_SECTORS;

	if (req->op == BLK_FLUSH && !f->flush)
		return -ENOTSUP;
	req->status = 0;
	*parts_left(req) = (unsigned)parts;
	for (size_t p = 0; p < parts;) {
		unsigned id;

		while (p < parts && free_slot(f, &id)) {
			size_t first = p * SLOT_SECTORS;
			size_t n = req->op == BLK_FLUSH ? 0
				   : req->count - first < SLOT_SECTORS ? req->count - first : SLOT_SECTORS;

			put(f, id, req, first, n);
			p++;
		}
		if (p < parts) {
			push(f); /* what is queued must be on its way, or no slot frees */
			wait_queue_wait(&f->space, LIBOS_FOREVER);
		}
	}
	return 0;
}

static const struct blkdev_ops blkfront_ops = { .queue = blkfront_queue,
						.notify = blkfront_notify };

static int grant_pages(struct blkfront *f)
{
	for (unsigned i = 0; i < RING_ENTRIES; i++) {
		struct slot *s = &f->slots[i];

		s->bounce = pages_alloc(SEGS);
		if (!s->bounce)
			return -ENOMEM;
		for (unsigned j = 0; j < SEGS; j++) {
			s->gref[j] = gnttab_grant_access(f->backend, s->bounce + j * PAGE, 0);
			if (s->gref[j] < 0)
				return s->gref[j];
		}
	}
	return 0;
}

/* Named for the linker only: the platforms call device discovery through a weak reference. */
static void (*const discovery)(void) __attribute__((used)) = xen_attach_devices;

int xen_blkfront_attach(const char *dir)
{
	static unsigned ndisks;
	struct blkfront *f = calloc(1, sizeof(*f));
	char backend[96], path[128];
	unsigned long long v;
	int ring_ref, rc, port;

	if (!f)
		return -ENOMEM;
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	snprintf(f->dev.name, sizeof(f->dev.name), "xen-vbd%u", ndisks);
	snprintf(path, sizeof(path), "%s/backend", dir);
	if ((rc = xen_store_read(path, backend, sizeof(backend))) < 0 ||
	    (rc = xen_store_read_number(dir, "backend-id", &v)) < 0)
		goto fail;
	f->backend = (domid_t)v;
	f->handle = (uint16_t)strtoul(strrchr(dir, '/') + 1, NULL, 10);
	f->sring = pages_alloc(1);
	if (!f->sring || (rc = grant_pages(f)) < 0) {
		rc = rc < 0 ? rc : -ENOMEM;
		goto fail;
	}
	memset(f->sring, 0, PAGE);
	f->sring->req_event = f->sring->rsp_event = 1;
	ring_ref = gnttab_grant_access(f->backend, f->sring, 0);
	port = evtchn_alloc_unbound(f->backend);
	if ((rc = ring_ref) < 0 || (rc = port) < 0)
		goto fail;
	f->port = (evtchn_port_t)port;
	if ((rc = evtchn_bind_handler(f->port, on_event, f)) < 0 ||
	    (rc = xen_store_write_number(dir, "ring-ref", (unsigned)ring_ref)) < 0 ||
	    (rc = xen_store_write_number(dir, "event-channel", f->port)) < 0 ||
	    (rc = xen_store_write(strcat(strcpy(path, dir), "/protocol"), "x86_64-abi")) < 0 ||
	    (rc = xen_store_write_number(dir, "state", XENBUS_INITIALISED)) < 0 ||
	    (rc = xen_store_wait_state(backend, XENBUS_CONNECTED)) < 0 ||
	    (rc = xen_store_read_number(backend, "sectors", &v)) < 0)
		goto fail;
	f->dev.sectors = v;
	f->dev.sector_size = SECTOR;
	if (xen_store_read_number(backend, "sector-size", &v) == 0)
		f->dev.sector_size = (unsigned)v;
	if (f->dev.sector_size != SECTOR) {
		rc = -ENOTSUP;
		goto fail;
	}
	f->dev.read_only = xen_store_read_number(backend, "info", &v) == 0 && (v & VDISK_READONLY);
	f->flush = xen_store_read_number(backend, "feature-flush-cache", &v) == 0 && v;
	f->dev.ops = &blkfront_ops;
	if ((rc = xen_store_write_number(dir, "state", XENBUS_CONNECTED)) < 0 ||
	    (rc = blkdev_register(&f->dev)) < 0)
		goto fail;
	ndisks++;
	return 0;
fail:
	pvh_printf("xen: %s: blkfront could not attach: %s\n", dir, strerror(-rc));
	return rc; /* what was granted stays granted: the domain cannot use the device anyway */
}
