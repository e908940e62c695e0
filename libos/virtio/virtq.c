/* SPDX-License-Identifier: MIT */
/* Split virtqueues, the driver half: chains in, used buffers out, every device value checked. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtq.h"

/* Where the used ring starts: after the descriptors and avail ring, 4-byte aligned. */
static size_t used_offset(uint16_t size)
{
	size_t off = VIRTQ_DESC_SIZE(size) + VIRTQ_AVAIL_SIZE(size);

	return (off + VIRTQ_USED_ALIGN - 1) & ~(size_t)(VIRTQ_USED_ALIGN - 1);
}

size_t virtq_ring_bytes(uint16_t size)
{
	return used_offset(size) + VIRTQ_USED_SIZE(size);
}

/* used_event sits after the avail ring's entries, avail_event after the used ring's. */
static volatile uint16_t *used_event(struct virtq *q)
{
	return &q->avail->ring[q->size];
}

/*
 * A used_event no index the device can publish will pass: at most size
 * entries are in flight past last_used, so used->idx - event - 1 stays
 * at 0x7fff or more, above any batch the device signals [2.6.7.2].
 */
static uint16_t quiet_event(const struct virtq *q)
{
	return (uint16_t)(q->last_used + 0x8000);
}

static volatile uint16_t *avail_event(struct virtq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->size];
}

int virtq_init(struct virtq *q, uint16_t size, void *ring, struct virtq_slot *slots, bool event_idx)
{
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->num_free = size;
	q->event_idx = event_idx;
	q->desc = ring;
	q->avail = (struct virtq_avail *)((char *)ring + VIRTQ_DESC_SIZE(size));
	q->used = (struct virtq_used *)((char *)ring + used_offset(size));
	q->slots = slots;
	for (uint16_t i = 0; i < size; i++)
		slots[i] = (struct virtq_slot){ .next = (uint16_t)(i + 1) };
	return 0;
}

uint64_t virtq_desc_addr(const struct virtq *q)
{
	return (uint64_t)(uintptr_t)q->desc;
}

uint64_t virtq_avail_addr(const struct virtq *q)
{
	return (uint64_t)(uintptr_t)q->avail;
}

uint64_t virtq_used_addr(const struct virtq *q)
{
	return (uint64_t)(uintptr_t)q->used;
}

static void set_desc(struct virtq *q, uint16_t i, const struct virtq_buf *b, uint16_t flags)
{
	q->desc[i].addr = (uint64_t)(uintptr_t)b->addr;
	q->desc[i].len = b->len;
	q->desc[i].flags = flags;
	q->desc[i].next = q->slots[i].next;
}

int virtq_add_chain(struct virtq *q, const struct virtq_buf *out, unsigned n_out,
		    const struct virtq_buf *in, unsigned n_in, void *token)
{
	unsigned n = n_out + n_in;
	uint16_t head = q->free_head, i = head, last = head;
	uint32_t in_len = 0;

	if (q->broken)
		return -EIO;
	if (n == 0 || !token)
		return -EINVAL;
	if (n_out > q->num_free || n_in > q->num_free - n_out) /* no overflow in n_out + n_in */
		return -ENOSPC;
	for (unsigned k = 0; k < n; k++) {
		bool writable = k >= n_out;
		const struct virtq_buf *b = writable ? &in[k - n_out] : &out[k];
		uint16_t flags = (uint16_t)((writable ? VIRTQ_DESC_F_WRITE : 0) |
					    (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));

		/* Saturate: past 4 GiB every 32-bit used length fits, and a wrapped sum would not. */
		if (writable)
			in_len = b->len > UINT32_MAX - in_len ? UINT32_MAX : in_len + b->len;
		set_desc(q, i, b, flags);
		last = i;
		i = q->slots[i].next;
	}
	q->free_head = q->slots[last].next;
	q->num_free = (uint16_t)(q->num_free - n);
	q->slots[head].token = token;
	q->slots[head].in_len = in_len;
	q->slots[head].ndesc = (uint16_t)n;

	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	/* The descriptors and the ring entry must be visible before the index that publishes them. */
	__atomic_store_n(&q->avail->idx, (uint16_t)(q->avail_idx + 1), __ATOMIC_RELEASE);
	q->avail_idx++;
	return 0;
}

bool virtq_kick_needed(struct virtq *q)
{
	uint16_t old = q->kicked_idx, now = q->avail_idx;
	bool need;

	/*
	 * Store-load order: our avail->idx store must be visible before we read
	 * the device's suppression state, or a device that is just going idle
	 * could miss the new buffers while we skip the kick.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		need = virtq_need_event(*avail_event(q), now, old);
	else
		need = !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY);
	q->kicked_idx = now;
	return need;
}

static void *broken(struct virtq *q, const char *fmt, unsigned a, unsigned b)
{
	q->broken = true;
	snprintf(q->why, sizeof(q->why), fmt, a, b);
	return NULL;
}

bool virtq_has_used(const struct virtq *q)
{
	return !q->broken && __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used;
}

void *virtq_get_used(struct virtq *q, uint32_t *len)
{
	uint16_t used_idx, head, i;
	struct virtq_used_elem e;
	void *token;

	if (q->broken)
		return NULL;
	/* Acquire: the entry the index covers is read only after the index. */
	used_idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == q->last_used)
		return NULL;
	if ((uint16_t)(used_idx - q->last_used) > q->size)
		return broken(q, "used index moved from %u to %u, past the ring", q->last_used,
			      used_idx);
	/* One read of the entry through volatile: the checks below and the use after them see
	 * the same values, whatever the device writes meanwhile. */
	const volatile struct virtq_used_elem *ve = &q->used->ring[q->last_used & (q->size - 1)];
	e.id = ve->id;
	e.len = ve->len;
	if (e.id >= q->size || !q->slots[e.id].token)
		return broken(q, "used entry %u names descriptor %u, which is not in flight",
			      q->last_used, e.id);
	if (e.len > q->slots[e.id].in_len)
		return broken(q, "device wrote %u bytes into a chain of %u writable bytes", e.len,
			      q->slots[e.id].in_len);
	head = (uint16_t)e.id;
	token = q->slots[head].token;
	*len = e.len;

	/* Free the chain by our own copy of its links: the device may have scribbled on desc[]. */
	i = head;
	for (uint16_t k = 1; k < q->slots[head].ndesc; k++)
		i = q->slots[i].next;
	q->slots[i].next = q->free_head;
	q->free_head = head;
	q->num_free = (uint16_t)(q->num_free + q->slots[head].ndesc);
	q->slots[head].token = NULL;
	q->last_used++;
	/*
	 * Ask for an event at the next entry. Sequentially consistent (a full
	 * barrier on x86): the caller's next look at used->idx must not pass this
	 * store, or an entry published meanwhile could go without an event. A
	 * quiet queue moves its wish half the index space ahead instead.
	 */
	if (q->event_idx && !q->quiet)
		__atomic_store_n(used_event(q), q->last_used, __ATOMIC_SEQ_CST);
	else if (q->event_idx)
		__atomic_store_n(used_event(q), quiet_event(q), __ATOMIC_RELAXED);
	return token;
}

void virtq_used_events(struct virtq *q, bool on)
{
	q->quiet = !on;
	if (q->event_idx) {
		__atomic_store_n(used_event(q), on ? q->last_used : quiet_event(q), __ATOMIC_SEQ_CST);
		return;
	}
	/* avail->flags is the driver's alone; the same full barrier for the caller's next look. */
	__atomic_store_n(&q->avail->flags, on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT, __ATOMIC_SEQ_CST);
}
