/* SPDX-License-Identifier: MIT */
/*
 * The device half of a split virtqueue, for test_virtq.c: a model that is
 * well-behaved or hostile on demand. Included once, after the test's guest
 * memory (mem), its random numbers (rnd) and the virtq headers.
 */
#ifndef TEST_VIRTQ_DEVICE_MODEL_H
#define TEST_VIRTQ_DEVICE_MODEL_H

/*
 * The device half. It finds the rings at the addresses the transport would
 * be given, reads descriptors and the avail ring as a device reads guest
 * memory, and writes used entries. Buffer addresses are host pointers: the
 * driver stores (uintptr_t)addr.
 */
struct dev {
	uint16_t size;
	uint16_t last_avail; /* the next avail entry to take */
	uint16_t used_idx;   /* used entries written; used->idx once published */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
};

/* A chain as the device found it. */
struct dev_chain {
	uint16_t head, n;
	uint16_t id[CHAIN_MAX];
	struct virtq_desc d[CHAIN_MAX];
	uint64_t in_bytes;
};

static inline void dev_attach(struct dev *d, const struct virtq *q)
{
	*d = (struct dev){
		.size = q->size,
		.desc = (struct virtq_desc *)(uintptr_t)virtq_desc_addr(q),
		.avail = (struct virtq_avail *)(uintptr_t)virtq_avail_addr(q),
		.used = (struct virtq_used *)(uintptr_t)virtq_used_addr(q),
	};
}

/* The event fields by their byte offsets in 2.6.6 and 2.6.8, not by the driver's arithmetic. */
static inline uint16_t *dev_used_event(const struct dev *d)
{
	return (uint16_t *)((uint8_t *)d->avail + 4 + 2 * d->size);
}

static inline uint16_t *dev_avail_event(const struct dev *d)
{
	return (uint16_t *)((uint8_t *)d->used + 4 + 8 * d->size);
}

/* Take the next available chain: false when there is none, or (a failed check) a bad one. */
static inline bool dev_pop(struct dev *d, struct dev_chain *c)
{
	uint16_t idx = __atomic_load_n(&d->avail->idx, __ATOMIC_ACQUIRE), i;

	*c = (struct dev_chain){ 0 };
	if (idx == d->last_avail)
		return false;
	c->head = i = d->avail->ring[d->last_avail++ & (d->size - 1)];
	for (;;) {
		if (i >= d->size || c->n == CHAIN_MAX)
			return CHECK(!"the chain runs off the table, or on and on");
		struct virtq_desc e = d->desc[i];

		/* Device-writable buffers follow the readable ones [2.6.4.2]. */
		if (c->n > 0 && (c->d[c->n - 1].flags & ~e.flags & VIRTQ_DESC_F_WRITE))
			return CHECK(!"a readable buffer after a writable one");
		c->id[c->n] = i;
		c->d[c->n++] = e;
		c->in_bytes += e.flags & VIRTQ_DESC_F_WRITE ? e.len : 0;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return true;
		i = e.next;
	}
}

/* Write len bytes into a chain's writable buffers, as the device's work would: only into mem. */
static inline void dev_fill(const struct dev_chain *c, uint32_t len)
{
	for (unsigned k = 0; k < c->n && len > 0; k++) {
		uintptr_t a = (uintptr_t)c->d[k].addr;
		uint32_t part = c->d[k].len < len ? c->d[k].len : len;

		if (!(c->d[k].flags & VIRTQ_DESC_F_WRITE))
			continue;
		if (!CHECK(a >= (uintptr_t)mem && a - (uintptr_t)mem <= sizeof(mem) - part))
			return;
		memset((void *)a, 0xd5, part);
		len -= part;
	}
}

/* A used entry, written but not yet published: a batch goes out under one index store. */
static inline void dev_put(struct dev *d, uint32_t id, uint32_t len)
{
	d->used->ring[d->used_idx++ & (d->size - 1)] = (struct virtq_used_elem){ id, len };
}

static inline void dev_publish(struct dev *d)
{
	__atomic_store_n(&d->used->idx, d->used_idx, __ATOMIC_RELEASE);
}

static inline void dev_complete(struct dev *d, const struct dev_chain *c, uint32_t len)
{
	dev_fill(c, len);
	dev_put(d, c->head, len);
	dev_publish(d);
}

/* Overwrite every field of a held chain's descriptors: the driver must never read them back. */
static inline void dev_scribble(struct dev *d, const struct dev_chain *c)
{
	for (unsigned k = 0; k < c->n; k++) {
		uint16_t next = (uint16_t)(rnd_below(3) ? rnd() : c->id[k]); /* or a loop */
		uint32_t len = (uint32_t)rnd();

		d->desc[c->id[k]] = (struct virtq_desc){ rnd(), len, (uint16_t)rnd(), next };
	}
}

#endif /* TEST_VIRTQ_DEVICE_MODEL_H */
