/* SPDX-License-Identifier: MIT */
/*
 * Unit test of the split virtqueue's driver half in long randomized runs against the
 * device-half model: a well-behaved device completing chains in any order, and one that
 * scribbles on every descriptor it holds; the driver's accounting must stay exact.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "virtq.h"
#include "virtq_rig.h"


/* One chain the model test added: what the device must find, then where it stands. */
enum { M_IDLE, M_ADDED, M_HELD, M_DONE };

struct mchain {
	int state;
	unsigned n_out, n_in;
	struct virtq_buf buf[CHAIN_MAX];
	struct dev_chain seen; /* as the device found it */
	uint32_t seq;          /* order added, then order completed */
	uint32_t len;          /* what the device wrote */
};

struct model {
	struct rig *r;
	struct dev *d;
	uint16_t size;
	struct mchain *c;   /* size records: no more chains fit; &c[k] is the token */
	int *owner;         /* per descriptor: the record the device found it in, or -1 */
	unsigned in_flight; /* descriptors in chains added and not yet given back */
	uint32_t added, completed;
	bool scribble; /* the device scribbles on the descriptors of chains it holds */
};

/* The oldest record in state (lowest seq), or a random one when pick; -1 when none. */
static int model_find(const struct model *m, int state, bool pick)
{
	int best = -1;
	unsigned seen = 0;

	for (int k = 0; k < m->size; k++)
		if (m->c[k].state == state &&
		    (pick ? rnd_below(++seen) == 0 : best < 0 || m->c[k].seq < m->c[best].seq))
			best = k;
	return best;
}

static bool model_add(struct model *m, unsigned *refused, unsigned *invalid)
{
	int k = model_find(m, M_IDLE, false);
	struct mchain spare, *c = k >= 0 ? &m->c[k] : &spare;
	unsigned n_out = (unsigned)rnd_below(4), n_in = (unsigned)rnd_below(4), n = n_out + n_in;
	void *token = c;
	int want = n == 0 ? -EINVAL : n > m->size - m->in_flight ? -ENOSPC : 0;

	if (want == 0 && rnd_below(64) == 0)
		token = NULL, want = -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = 1 + (uint32_t)rnd_below(512);

		c->buf[i] = buf_at(rnd_below(sizeof(mem) - len + 1), len);
	}
	c->n_out = n_out;
	c->n_in = n_in;
	*refused += want == -ENOSPC;
	*invalid += want == -EINVAL;
	if (!CHECK_EQ(virtq_add_chain(&m->r->q, c->buf, n_out, c->buf + n_out, n_in, token), want))
		return false;
	if (want == 0) {
		c->state = M_ADDED;
		c->seq = m->added++;
		m->in_flight += n;
	}
	return true;
}

/* The device takes a chain: the oldest added, as added, on descriptors nobody holds. */
static bool model_pop(struct model *m)
{
	int k = model_find(m, M_ADDED, false);
	struct dev_chain none, *s = k >= 0 ? &m->c[k].seen : &none;
	bool ok = true;

	if (k < 0)
		return CHECK(!dev_pop(m->d, &none));
	if (!CHECK(dev_pop(m->d, s)) || !CHECK_EQ(s->n, m->c[k].n_out + m->c[k].n_in))
		return false;
	for (unsigned i = 0; i < s->n; i++) {
		const struct virtq_buf *b = &m->c[k].buf[i];
		unsigned flags = (i + 1 < s->n ? VIRTQ_DESC_F_NEXT : 0) |
				 (i >= m->c[k].n_out ? VIRTQ_DESC_F_WRITE : 0);

		ok &= CHECK(s->d[i].addr == (uintptr_t)b->addr && s->d[i].len == b->len &&
			    s->d[i].flags == flags && m->owner[s->id[i]] == -1);
		m->owner[s->id[i]] = k;
	}
	m->c[k].state = M_HELD;
	if (m->scribble && rnd_below(2))
		dev_scribble(m->d, s);
	return ok;
}

/* The device completes a random held chain, a random valid length; it publishes later. */
static void model_complete(struct model *m)
{
	int k = model_find(m, M_HELD, true);
	struct mchain *c = k >= 0 ? &m->c[k] : NULL;
	uint64_t pick, room;

	if (!c)
		return;
	pick = rnd_below(4); /* none, all, or any number of the bytes there is room for */
	room = c->seen.in_bytes;
	c->len = (uint32_t)(pick == 0 ? 0 : pick == 1 ? room : rnd_below(room + 1));
	dev_fill(&c->seen, c->len);
	dev_put(m->d, c->seen.head, c->len);
	c->state = M_DONE;
	c->seq = m->completed++;
}

/* The driver takes back a used chain: the oldest completed, with its token and length. */
static bool model_get(struct model *m)
{
	int k = model_find(m, M_DONE, false);
	struct mchain *c = k >= 0 ? &m->c[k] : NULL;
	bool ok;

	if (!c)
		return CHECK_USED(&m->r->q, NULL, 0xdeadbeef);
	ok = CHECK_USED(&m->r->q, c, c->len);
	if (m->r->q.event_idx)
		ok &= CHECK_EQ(*dev_used_event(m->d), m->r->q.last_used);
	for (unsigned i = 0; i < c->seen.n; i++)
		m->owner[c->seen.id[i]] = -1;
	m->in_flight -= c->seen.n;
	c->state = M_IDLE;
	return ok;
}

/*
 * Random adds, takes, out-of-order completions and collections on a live
 * queue: every token and length as the model expects, and after every step
 * num_free + descriptors in flight == size, with the free list whole and
 * disjoint from every chain the device holds.
 */
static void model_run(struct rig *r, struct dev *d, unsigned ops, uint64_t seed, bool scribble,
		      unsigned wraps)
{
	struct model m = { r, d, r->q.size, calloc(r->q.size, sizeof(*m.c)),
			   malloc(r->q.size * sizeof(int)), 0, 0, 0, scribble };
	unsigned adds = 0, refused = 0, invalid = 0, full = 0, mismatches = 0, peak = 0;
	uint32_t base = r->q.avail_idx;

	if (!m.c || !m.owner)
		abort();
	rng_state = seed;
	for (unsigned i = 0; i < m.size; i++)
		m.owner[i] = -1;
	for (unsigned op = 0; op < ops && mismatches < 4; op++) {
		unsigned kind = (unsigned)rnd_below(20), burst = 1 + (unsigned)rnd_below(3);
		bool ok = true;

		if (kind < 8) {
			adds++;
			ok &= model_add(&m, &refused, &invalid);
			full += r->q.num_free == 0;
		} else if (kind < 13) {
			while (ok && burst--)
				ok &= model_pop(&m);
		} else if (kind < 17) {
			while (burst--)
				model_complete(&m);
			dev_publish(d);
		} else {
			while (ok && burst--)
				ok &= model_get(&m);
		}
		peak = m.in_flight > peak ? m.in_flight : peak;
		ok &= CHECK(!r->q.broken && r->q.num_free + m.in_flight == m.size);
		ok &= CHECK(free_list_ok(&r->q, m.owner));
		ok &= CHECK_EQ(virtq_has_used(&r->q), model_find(&m, M_DONE, false) >= 0);
		if (!ok) {
			fprintf(stderr, "    model test (size %u, seed 0x%llx): op %u\n", m.size,
				(unsigned long long)seed, op);
			mismatches++;
		}
	}

	/* The device finishes everything; every descriptor comes back. */
	while (model_find(&m, M_ADDED, false) >= 0 && model_pop(&m))
		;
	while (model_find(&m, M_HELD, false) >= 0)
		model_complete(&m);
	dev_publish(d);
	while (model_find(&m, M_DONE, false) >= 0 && model_get(&m))
		;
	CHECK(model_get(&m)); /* and nothing more */
	CHECK_EQ(m.in_flight, 0);
	CHECK_EQ(r->q.num_free, m.size);
	CHECK(free_list_ok(&r->q, NULL));

	/* The mix must have reached the interesting cases, or it proved little. */
	printf("# model: queue of %u%s%s, %u ops: %u adds (%u refused for space, %u invalid), "
	       "%u completions, full %u times, peak %u in flight, avail index wrapped %u times\n",
	       m.size, r->q.event_idx ? ", event_idx" : "", scribble ? ", device scribbling" : "",
	       ops, adds, refused, invalid, m.completed, full, peak, (base + m.added) >> 16);
	CHECK(refused > 0 && refused < adds);
	CHECK(full > 0);
	CHECK((base + m.added) >> 16 >= wraps);
	free(m.c);
	free(m.owner);
}

/*
 * The device scribbles over every field of every descriptor it holds before
 * completing the chains out of order: the driver frees by its own links, so
 * exactly the right descriptors come back, and heavy use afterwards (the
 * device still scribbling on what it holds) finds every one of them.
 */
static void test_scribble(void)
{
	static const unsigned lens[6] = { 3, 1, 4, 2, 5, 1 }, order[6] = { 3, 0, 5, 2, 1, 4 };
	struct dev_chain held[6];
	int owner[16];
	unsigned nfree = 0;
	struct rig r;
	struct dev d;

	rig_open(&r, 16, true);
	dev_attach(&d, &r.q);
	rng_state = 0x452821e638d01377ull;
	memset(owner, 0xff, sizeof(owner));
	for (unsigned k = 0; k < 6; k++) {
		unsigned n_out = lens[k] / 2;
		struct virtq_buf b[5];

		for (unsigned i = 0; i < lens[k]; i++)
			b[i] = buf_at(1024 * k + 128 * i, 100);
		CHECK_EQ(virtq_add_chain(&r.q, b, n_out, b + n_out, lens[k] - n_out, TOK(k)), 0);
		if (CHECK(dev_pop(&d, &held[k])) && CHECK_EQ(held[k].n, lens[k]))
			for (unsigned i = 0; i < lens[k]; i++)
				owner[held[k].id[i]] = (int)k;
	}
	CHECK_EQ(r.q.num_free, 0);
	for (unsigned k = 0; k < 6; k++)
		dev_scribble(&d, &held[k]);
	for (unsigned j = 0; j < 6; j++) {
		unsigned k = order[j];

		dev_complete(&d, &held[k], (uint32_t)held[k].in_bytes);
		CHECK_USED(&r.q, TOK(k), held[k].in_bytes);
		for (unsigned i = 0; i < held[k].n; i++)
			owner[held[k].id[i]] = -1;
		nfree += lens[k];
		CHECK_EQ(r.q.num_free, nfree);
		CHECK(free_list_ok(&r.q, owner));
	}
	CHECK(!r.q.broken);
	model_run(&r, &d, 20000, 0x13198a2e03707344ull, true, 0);
	rig_close(&r);
}

static void test_model(uint16_t size, bool event_idx, unsigned ops, uint64_t seed, unsigned wraps)
{
	struct rig r;
	struct dev d;

	rig_open(&r, size, event_idx);
	dev_attach(&d, &r.q);
	model_run(&r, &d, ops, seed, false, wraps);
	rig_close(&r);
}


int main(void)
{
	test_scribble();
	test_model(2, false, 5000, 0x9e3779b97f4a7c15ull, 0);
	test_model(16, false, 400000, 0xc2b2ae3d27d4eb4full, 1); /* 16-bit indices wrap */
	test_model(64, true, 30000, 0x165667b19e3779f9ull, 0);
	return check_finish("test_virtq_model");
}
