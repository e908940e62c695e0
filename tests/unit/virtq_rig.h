/* SPDX-License-Identifier: MIT */
/*
 * The harness test_virtq.c and test_virtq_model.c share: guest memory for buffers, a queue
 * opened over it (the rig), checks of the driver's private state, and the device-half model.
 * Included once per test, after check.h and virtq.h.
 */
#ifndef TEST_VIRTQ_RIG_H
#define TEST_VIRTQ_RIG_H

#define CHECK_PTR(got, want) CHECK_EQ((uintptr_t)(got), (uintptr_t)(want))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define CHAIN_MAX 8 /* descriptors in the longest chain a test builds */

/* The next used chain is token's, with n bytes written. */
#define CHECK_USED(q, token, n)                                                              \
	({                                                                                   \
		uint32_t len_ = 0xdeadbeef;                                                  \
		void *t_ = virtq_get_used((q), &len_);                                       \
		CHECK_PTR(t_, (token)) && CHECK_EQ(len_, (n));                               \
	})

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t rng_state;

/* Guest memory the buffers live in (the device writes into the writable ones), and tokens. */
static uint8_t mem[1 << 16];
static char tokens[256];
#define TOK(i) ((void *)&tokens[(i)&255])

static inline struct virtq_buf buf_at(size_t off, uint32_t len)
{
	return (struct virtq_buf){ mem + off, len };
}

/* A queue over heap memory of exactly the sizes asked for, so ASan sees any step past them. */
struct rig {
	struct virtq q;
	uint8_t *ring;
	struct virtq_slot *slots;
};

static inline void rig_open(struct rig *r, uint16_t size, bool event_idx)
{
	size_t bytes = virtq_ring_bytes(size);
	void *ring;

	r->slots = malloc(size * sizeof(*r->slots));
	if (posix_memalign(&ring, VIRTQ_DESC_ALIGN, bytes) != 0 || !r->slots)
		abort();
	r->ring = memset(ring, 0, bytes);
	if (!CHECK_EQ(virtq_init(&r->q, size, ring, r->slots, event_idx), 0))
		abort(); /* nothing after this could mean anything */
}

static inline void rig_close(struct rig *r)
{
	free(r->ring);
	free(r->slots);
}

/*
 * The driver's free list, walked by its own links: num_free distinct
 * descriptors, none of them in a chain the device holds (owner[i] >= 0).
 */
static inline bool free_list_ok(const struct virtq *q, const int *owner)
{
	uint8_t *seen = calloc(q->size, 1);
	uint16_t i = q->free_head;
	bool ok = seen != NULL;

	for (unsigned k = 0; ok && k < q->num_free; k++) {
		ok = i < q->size && !seen[i] && (!owner || owner[i] < 0);
		if (ok) {
			seen[i] = 1;
			i = q->slots[i].next;
		}
	}
	free(seen);
	return ok;
}

/* Everything of the driver's state but the verdict. */
static inline bool same_state(const struct virtq *a, const struct virtq *b)
{
	return a->size == b->size && a->num_free == b->num_free && a->free_head == b->free_head &&
	       a->avail_idx == b->avail_idx && a->kicked_idx == b->kicked_idx &&
	       a->last_used == b->last_used && a->event_idx == b->event_idx &&
	       a->desc == b->desc && a->avail == b->avail && a->used == b->used &&
	       a->slots == b->slots;
}

#include "virtq_device_model.h"

#endif /* TEST_VIRTQ_RIG_H */
