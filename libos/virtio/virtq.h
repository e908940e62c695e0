/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues, the driver half (virtio 1.1, 2.6): descriptor chains
 * in, used buffers out, notification suppression both ways. Pure code over
 * memory the caller provides, so the host unit tests run it against a
 * hostile device half.
 */
#ifndef LIBOS_VIRTQ_H
#define LIBOS_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

/* One buffer of a chain. Guest addresses are physical == virtual on every platform so far. */
struct virtq_buf {
	const void *addr;
	uint32_t len;
};

/* What the driver remembers per descriptor; the device cannot touch it. */
struct virtq_slot {
	void *token;     /* the caller's cookie, on a chain's head while in flight */
	uint32_t in_len; /* device-writable bytes of the chain, on its head */
	uint16_t ndesc;  /* descriptors in the chain, on its head */
	uint16_t next;   /* free-list and chain link, a copy of desc[i].next */
};

struct virtq {
	uint16_t size;       /* entries, a power of two */
	uint16_t num_free;
	uint16_t free_head;
	uint16_t avail_idx;  /* what we last published in avail->idx */
	uint16_t kicked_idx; /* avail_idx at the last notification */
	uint16_t last_used;  /* the next used entry to read */
	bool event_idx;      /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool quiet;          /* no event for used chains wanted (virtq_used_events) */
	bool broken;         /* the device broke the protocol: nothing moves any more */
	char why[96];        /* what it did */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct virtq_slot *slots; /* size entries */
};

/* Bytes of ring memory a queue of size entries needs (descriptors, avail, used). */
size_t virtq_ring_bytes(uint16_t size);

/*
 * Set up q over ring (virtq_ring_bytes(size) bytes, 16-byte aligned,
 * zeroed) and slots (size entries). 0, or -EINVAL when size is not a power
 * of two in [1, VIRTQ_MAX_SIZE].
 */
int virtq_init(struct virtq *q, uint16_t size, void *ring, struct virtq_slot *slots,
	       bool event_idx);

/*
 * Publish a chain: n_out device-readable buffers, then n_in device-writable
 * ones, with token (not NULL) handed back by virtq_get_used. Returns 0,
 * -ENOSPC when fewer than n_out + n_in descriptors are free, -EINVAL for an
 * empty chain or a NULL token, -EIO when the queue is broken.
 */
int virtq_add_chain(struct virtq *q, const struct virtq_buf *out, unsigned n_out,
		    const struct virtq_buf *in, unsigned n_in, void *token);

/* After adding chains: must the device be notified (virtio 1.1, 2.6.13.6)? */
bool virtq_kick_needed(struct virtq *q);

/*
 * The next used chain's token and the bytes the device wrote, or NULL when
 * there is none. A device that breaks the protocol (an index beyond the
 * ring, a chain not in flight, more bytes than the chain holds) breaks the
 * queue: NULL from then on, with the reason in q->why.
 */
void *virtq_get_used(struct virtq *q, uint32_t *len);

/* True when used chains are waiting (a cheap check before sleeping). */
bool virtq_has_used(const struct virtq *q);

/*
 * Whether the device should signal used chains (on by default). A driver
 * that takes them back only when it needs them (transmit buffers) turns
 * events off and on only to wait; after turning them on it must look at the
 * ring again before it sleeps, since a chain used meanwhile sent no event.
 */
void virtq_used_events(struct virtq *q, bool on);

/* The physical addresses to program into the transport. */
uint64_t virtq_desc_addr(const struct virtq *q);
uint64_t virtq_avail_addr(const struct virtq *q);
uint64_t virtq_used_addr(const struct virtq *q);

#endif /* LIBOS_VIRTQ_H */
