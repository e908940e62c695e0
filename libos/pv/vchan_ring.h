/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory channel's wire format (the control page two domains
 * share) and its byte rings: pure code over memory the caller provides,
 * so the host unit tests run it against a hostile peer.
 *
 * A channel is a control page and two data rings of the same power-of-two
 * number of pages, all granted by the server and mapped once by the client:
 *
 *   control page  magic, version, ring_pages, the closed flags, the
 *                 indices and wait flags of both rings, the data pages' refs
 *   to_client     ring_pages pages the server writes and the client reads
 *   to_server     ring_pages pages the client writes and the server reads
 *
 * Indices count bytes since the start and wrap at 2^32; a ring holds
 * prod - cons bytes, at offset index % size. Each side writes only its own
 * index and keeps a private copy of it, so nothing the peer writes can move
 * it; the peer's index is read once per look and checked against what it
 * may be (a hostile peer breaks the ring, never our memory).
 *
 * Notifications are suppressed the way virtio's flags do it: a side about
 * to sleep sets its wait flag (want_data as a reader, want_space as a
 * writer), then looks at the ring once more; the other side, after it moves
 * its index, clears the flag with an atomic exchange and sends an event only
 * if it was set. So a stream that never waits sends no events at all.
 */
#ifndef LIBOS_VCHAN_RING_H
#define LIBOS_VCHAN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VCHAN_MAGIC	     0x6e616863u /* "chan" */
#define VCHAN_VERSION	     1u
#define VCHAN_PAGE_BYTES     4096u
#define VCHAN_MAX_RING_PAGES 64u /* per direction: 256 KiB */

/*
 * One direction's indices and flags, the writer's on one cache line and the
 * reader's on the next, so a stream in flight does not bounce one line.
 */
struct vchan_ring_shared {
	uint32_t prod;	     /* the writer's: bytes written */
	uint32_t want_space; /* set by the writer before it sleeps on a full ring */
	uint8_t pad0[56];
	uint32_t cons;	    /* the reader's: bytes taken */
	uint32_t want_data; /* set by the reader before it sleeps on an empty ring */
	uint8_t pad1[56];
};

/* The control page. Fixed-width fields, little-endian (both ends are x86-64). */
struct vchan_ctrl {
	uint32_t magic;		/* VCHAN_MAGIC, written by the server before it publishes */
	uint32_t version;	/* VCHAN_VERSION */
	uint32_t ring_pages;	/* pages per direction: a power of two, 1..VCHAN_MAX_RING_PAGES */
	uint32_t server_closed; /* nonzero once the server closed its end */
	uint32_t client_closed; /* nonzero once the client closed its end */
	uint8_t pad[44];
	struct vchan_ring_shared to_client;
	struct vchan_ring_shared to_server;
	uint32_t refs[2 * VCHAN_MAX_RING_PAGES]; /* to_client's pages, then to_server's */
};

_Static_assert(sizeof(struct vchan_ring_shared) == 128, "ring indices: two cache lines");
_Static_assert(sizeof(struct vchan_ctrl) <= VCHAN_PAGE_BYTES, "the control page is one page");

/* One end of one direction, as this side sees it. */
struct vchan_ring {
	struct vchan_ring_shared *sh;
	uint8_t *pages[VCHAN_MAX_RING_PAGES];
	uint32_t size; /* bytes: pages * VCHAN_PAGE_BYTES */
	uint32_t mine; /* our index (prod as the writer, cons as the reader): only we move it */
	uint32_t seen; /* the peer's index, as last read and found sound */
	bool writer;   /* which end we are */
	bool broken;   /* the peer broke the ring: nothing moves any more */
	char why[112]; /* what it did */
};

/* Is n a valid page count per direction (a power of two in 1..VCHAN_MAX_RING_PAGES)? */
bool vchan_ring_pages_ok(uint32_t n);

/*
 * Take up one end of a ring over nr_pages pages (vchan_ring_pages_ok). The
 * indices are read once from sh: the server zeroes them before it publishes
 * the channel. -EIO (with the reason in r->why) when they do not describe a
 * ring of that size.
 */
int vchan_ring_attach(struct vchan_ring *r, struct vchan_ring_shared *sh, uint8_t *const *pages,
		      uint32_t nr_pages, bool writer);

/* The reader: bytes ready to read, or -EIO if the writer's index is impossible (r->why). */
int vchan_ring_readable(struct vchan_ring *r);
/* The writer: bytes free to write, or -EIO if the reader's index is impossible (r->why). */
int vchan_ring_writable(struct vchan_ring *r);

/*
 * Copy out up to len of the bytes the last vchan_ring_readable() found, and
 * publish the new cons; the bytes copied. The data may be changing under us
 * (the peer can write anything into its pages): the copy is just bytes.
 */
size_t vchan_ring_read(struct vchan_ring *r, void *buf, size_t len);
/* Copy in up to len bytes of the space the last vchan_ring_writable() found; publish prod. */
size_t vchan_ring_write(struct vchan_ring *r, const void *buf, size_t len);

/*
 * After moving our index: should the peer get an event? True when it set
 * its wait flag (which this clears), that is when it may be asleep waiting
 * for what we just did.
 */
bool vchan_ring_peer_waiting(struct vchan_ring *r);

/*
 * Before sleeping: ask the peer for an event when it moves its index. The
 * caller then looks at the ring once more and sleeps only if nothing moved
 * (the peer's move and our flag are each seen by at least one side).
 */
void vchan_ring_want_event(struct vchan_ring *r);

#endif /* LIBOS_VCHAN_RING_H */
