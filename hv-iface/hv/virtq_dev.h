/* SPDX-License-Identifier: MIT */
/* The device side of a split virtqueue, trusting nothing the driver wrote; pure, host-tested. */
#ifndef HV_VIRTQ_DEV_H
#define HV_VIRTQ_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hv.h"
#include "virtio.h"

/*
 * One queue as the device sees it [virtio 1.1, 2.6]. The three parts are
 * resolved to host addresses once, when the driver makes the queue ready;
 * everything else the driver wrote (indices, ring entries, descriptors) is
 * read once per use and checked before it is used. When the driver breaks
 * the ring, the call that found it returns -EPROTO and why says what broke
 * in one line ("descriptor 300 >= queue size 256"); the caller then stops
 * using the queue until the driver resets it.
 */
struct virtq_dev {
	struct hv_vm *vm;
	uint16_t num;   /* queue size, a power of two */
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
	const struct virtq_desc *desc;
	const struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;     /* the next avail ring entry to take */
	uint16_t used_idx;       /* our used->idx: only the device writes it */
	uint16_t signalled_used; /* used_idx when the driver was last considered for an event */
	char why[128];
};

/*
 * A chain taken from the avail ring: iov[0, nr_out) are the device-readable
 * buffers in order, iov[nr_out, nr_out + nr_in) the device-writable ones
 * (the spec puts all readable descriptors first). A chain that does not
 * loop has at most num descriptors, so the array always suffices.
 */
struct virtq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	uint64_t out_len, in_len; /* bytes in each part; together at most 4 GiB - 1 */
	struct iovec iov[HV_VIRTQ_SIZE_MAX];
};

/*
 * Bind q to the queue the driver described: num entries (a power of two, at
 * most HV_VIRTQ_SIZE_MAX), the descriptor table at desc, the driver (avail)
 * area at avail and the device (used) area at used, each aligned as the spec
 * says and inside guest memory (the used area where the device may write).
 * Returns 0, or -EINVAL with the reason in q->why.
 */
int virtq_dev_init(struct virtq_dev *q, struct hv_vm *vm, uint16_t num, uint64_t desc,
		   uint64_t avail, uint64_t used, bool event_idx);

/*
 * Take the next available chain into c. Returns 1 when one was taken, 0 when
 * the driver has made nothing new available, -EPROTO (q->why says what) when
 * the avail index moved more than the queue size, a head or next index is
 * past the table, a chain is longer than the queue (a loop), a descriptor is
 * indirect (never offered), a buffer lies outside guest memory or wraps, a
 * readable buffer follows a writable one, or the chain holds 4 GiB or more.
 */
int virtq_dev_pop(struct virtq_dev *q, struct virtq_chain *c);

/*
 * How many chains the driver has made available that the device has not
 * taken yet, as the driver's index says: above num the ring is broken, and
 * the next pop says so.
 */
uint16_t virtq_dev_available(const struct virtq_dev *q);

/* Put the last chain taken back, unused: the next pop takes it again. */
void virtq_dev_unpop(struct virtq_dev *q);

/* Give chain head back to the driver with len bytes written into it. */
void virtq_dev_push(struct virtq_dev *q, uint16_t head, uint32_t len);

/*
 * After pushes: should the driver be signalled now? Honours used_event with
 * EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT without; false when nothing was
 * pushed since the last call.
 */
bool virtq_dev_need_event(struct virtq_dev *q);

/*
 * Before the device waits for a kick on an empty ring: ask the driver (with
 * EVENT_IDX, through avail_event) to kick on its next buffer, then look
 * again. Returns true when buffers arrived meanwhile: pop them, do not wait.
 */
bool virtq_dev_enable_kicks(struct virtq_dev *q);

/*
 * The same when the n chains available are too few to serve and were put
 * back: ask for a kick when the driver makes one more available, then look
 * again. Returns true when it already has.
 */
bool virtq_dev_enable_kicks_after(struct virtq_dev *q, uint16_t n);

/* Copy up to len bytes from the chain's readable part at offset off; returns the bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len);

/* Copy up to len bytes into the chain's writable part at offset off; returns the bytes copied. */
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len);

/*
 * Describe bytes [off, off + len) of the n buffers iov as iovecs in out (room
 * for n entries), without copying. Returns how many were written; the range
 * is cut at the end of the buffers.
 */
unsigned virtq_iov_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
			 struct iovec *out);

#endif /* HV_VIRTQ_DEV_H */
