/* SPDX-License-Identifier: MIT */
/* The channel's byte rings: index checks, copies in page-sized pieces, and wait flags. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vchan_ring.h"

bool vchan_ring_pages_ok(uint32_t n)
{
	return n >= 1 && n <= VCHAN_MAX_RING_PAGES && (n & (n - 1)) == 0;
}

static int broken(struct vchan_ring *r, const char *fmt, uint32_t a, uint32_t b, uint32_t c)
{
	if (!r->broken) {
		r->broken = true;
		snprintf(r->why, sizeof(r->why), fmt, a, b, c);
	}
	return -EIO;
}

/* The peer's end of this ring. */
static uint32_t *peer_index(struct vchan_ring *r)
{
	return r->writer ? &r->sh->cons : &r->sh->prod;
}

int vchan_ring_attach(struct vchan_ring *r, struct vchan_ring_shared *sh, uint8_t *const *pages,
		      uint32_t nr_pages, bool writer)
{
	memset(r, 0, sizeof(*r));
	if (!vchan_ring_pages_ok(nr_pages))
		return broken(r, "%u pages per ring: want a power of two from %u to %u", nr_pages,
			      1, VCHAN_MAX_RING_PAGES);
	r->sh = sh;
	memcpy(r->pages, pages, nr_pages * sizeof(pages[0]));
	r->size = nr_pages * VCHAN_PAGE_BYTES;
	r->writer = writer;
	/* Read once here and never again: from now on only our copy counts. */
	r->mine = __atomic_load_n(writer ? &sh->prod : &sh->cons, __ATOMIC_RELAXED);
	/* Acquire, as at every look at the peer's index (vchan_ring_readable/_writable). */
	r->seen = __atomic_load_n(peer_index(r), __ATOMIC_ACQUIRE);
	/* The bytes in flight, prod - cons, must fit the ring. */
	if ((writer ? r->mine - r->seen : r->seen - r->mine) > r->size)
		return broken(r, "the ring starts with prod %u and cons %u, more than its %u bytes",
			      writer ? r->mine : r->seen, writer ? r->seen : r->mine, r->size);
	return 0;
}

/*
 * The peer's index may only move forward, and only as far as our own
 * index allows: the writer's prod at most to a full ring past our cons,
 * the reader's cons at most up to our prod. Measured from what we saw
 * last, "forward by at most room" also refuses any move back (it would
 * wrap to a huge distance). Returns the distance between the two indices.
 */
int vchan_ring_readable(struct vchan_ring *r)
{
	uint32_t prod, room;

	if (r->broken)
		return -EIO;
	/* Acquire: the bytes prod covers are read only after prod. */
	prod = __atomic_load_n(&r->sh->prod, __ATOMIC_ACQUIRE);
	room = r->size - (r->seen - r->mine);
	if (prod - r->seen > room)
		return broken(r, "the writer moved prod from %u to %u, with cons at %u", r->seen,
			      prod, r->mine);
	r->seen = prod;
	return (int)(prod - r->mine);
}

int vchan_ring_writable(struct vchan_ring *r)
{
	uint32_t cons;

	if (r->broken)
		return -EIO;
	/* Acquire: the reader took the bytes before it published cons; we overwrite them after. */
	cons = __atomic_load_n(&r->sh->cons, __ATOMIC_ACQUIRE);
	if (cons - r->seen > r->mine - r->seen)
		return broken(r, "the reader moved cons from %u to %u, with prod at %u", r->seen,
			      cons, r->mine);
	r->seen = cons;
	return (int)(r->size - (r->mine - cons));
}

/* Copy len bytes between buf and the ring at index idx, one page at a time. */
static void copy(struct vchan_ring *r, uint32_t idx, void *buf, size_t len, bool into_ring)
{
	uint8_t *p = buf;

	while (len) {
		uint32_t off = idx & (r->size - 1);
		uint8_t *page = r->pages[off / VCHAN_PAGE_BYTES] + off % VCHAN_PAGE_BYTES;
		size_t n = VCHAN_PAGE_BYTES - off % VCHAN_PAGE_BYTES;

		if (n > len)
			n = len;
		if (into_ring)
			memcpy(page, p, n);
		else
			memcpy(p, page, n);
		p += n;
		idx += (uint32_t)n;
		len -= n;
	}
}

size_t vchan_ring_read(struct vchan_ring *r, void *buf, size_t len)
{
	uint32_t avail = r->seen - r->mine;

	if (r->broken || r->writer)
		return 0;
	if (len > avail)
		len = avail;
	if (len == 0)
		return 0;
	copy(r, r->mine, buf, len, false);
	r->mine += (uint32_t)len;
	/* Release: our reads of the bytes are done before the writer may reuse their space. */
	__atomic_store_n(&r->sh->cons, r->mine, __ATOMIC_RELEASE);
	return len;
}

size_t vchan_ring_write(struct vchan_ring *r, const void *buf, size_t len)
{
	uint32_t space = r->size - (r->mine - r->seen);

	if (r->broken || !r->writer)
		return 0;
	if (len > space)
		len = space;
	if (len == 0)
		return 0;
	copy(r, r->mine, (void *)buf, len, true);
	r->mine += (uint32_t)len;
	/* Release: the bytes are in the ring before the prod that covers them. */
	__atomic_store_n(&r->sh->prod, r->mine, __ATOMIC_RELEASE);
	return len;
}

/* The flag the peer sets when it waits for what this end does. */
static uint32_t *peer_flag(struct vchan_ring *r)
{
	return r->writer ? &r->sh->want_data : &r->sh->want_space;
}

bool vchan_ring_peer_waiting(struct vchan_ring *r)
{
	uint32_t *flag = peer_flag(r);

	/*
	 * Full barrier: the index we just stored must be visible before we read
	 * the flag (store then load, which x86 may otherwise reorder). Paired
	 * with the one in vchan_ring_want_event(): either the peer's second
	 * look sees our index, or we see its flag.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* A plain read first: the exchange takes the line for writing, worth it only when set. */
	if (!__atomic_load_n(flag, __ATOMIC_RELAXED))
		return false;
	return __atomic_exchange_n(flag, 0, __ATOMIC_SEQ_CST) != 0;
}

void vchan_ring_want_event(struct vchan_ring *r)
{
	uint32_t *flag = r->writer ? &r->sh->want_space : &r->sh->want_data;

	__atomic_store_n(flag, 1, __ATOMIC_RELAXED);
	/* Full barrier: the flag is visible before our next look at the peer's index. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
