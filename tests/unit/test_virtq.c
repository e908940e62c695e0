/* SPDX-License-Identifier: MIT */
/*
 * Unit test of the split virtqueue's driver half against the test's own
 * device half: one that follows virtio 1.1 2.6, and one that lies about
 * indices, heads and lengths or scribbles on the descriptors it holds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "virtq.h"
#include "virtq_rig.h"

static void test_init(void)
{
	/* Byte offsets by 2.6: descriptors 16n, avail 6 + 2n, used 6 + 8n on a 4-byte boundary. */
	static const struct {
		uint16_t size;
		size_t avail, used, bytes;
	} good[] = {
		{ 1, 16, 24, 38 },
		{ 2, 32, 44, 66 },
		{ 256, 4096, 4616, 6670 },
		{ 32768, 524288, 589832, 851982 },
	};
	static const uint16_t bad[] = { 0, 3, 6, 100, 32767, 32769, 49152, 65535 };
	struct virtq_slot *slots = malloc(65535 * sizeof(*slots));
	uint8_t ring[64] __attribute__((aligned(16)));
	struct virtq q;

	for (size_t t = 0; t < ARRAY_LEN(good); t++) {
		uint16_t n = good[t].size;
		struct rig r;

		CHECK_EQ(virtq_ring_bytes(n), good[t].bytes);
		CHECK_EQ(good[t].used % VIRTQ_USED_ALIGN, 0);
		rig_open(&r, n, t & 1);
		CHECK_EQ(r.q.size, n);
		CHECK_EQ(r.q.num_free, n);
		CHECK_EQ(r.q.avail_idx | r.q.kicked_idx | r.q.last_used, 0);
		CHECK(!r.q.broken);
		CHECK_EQ(r.q.event_idx, t & 1);
		CHECK_PTR(virtq_desc_addr(&r.q), r.ring);
		CHECK_PTR(virtq_avail_addr(&r.q), r.ring + good[t].avail);
		CHECK_PTR(virtq_used_addr(&r.q), r.ring + good[t].used);
		CHECK(free_list_ok(&r.q, NULL)); /* every descriptor free, once */
		rig_close(&r);
	}
	/* Not a power of two (and none above 32768 fits 16 bits): refused, nothing written. */
	if (!slots)
		abort();
	for (size_t t = 0; t < ARRAY_LEN(bad); t++) {
		memset(ring, 0xa5, sizeof(ring));
		CHECK_EQ(virtq_init(&q, bad[t], ring, slots, false), -EINVAL);
		CHECK(ring[0] == 0xa5 && ring[63] == 0xa5);
	}
	free(slots);
}

static void test_add_chain(void)
{
	struct virtq_buf out[2] = { buf_at(0, 10), buf_at(100, 20) };
	struct virtq_buf in[3] = { buf_at(200, 30), buf_at(300, 40), buf_at(400, 50) };
	struct virtq_buf one = buf_at(500, 8);
	static const uint8_t order[8] = { 5, 2, 7, 0, 3, 6, 1, 4 };
	uint8_t ring_copy[222]; /* virtq_ring_bytes(8): 128 + 22 + 2 (alignment) + 70 */
	struct dev_chain c1, c2, c3, c, held[8];
	struct virtq_slot slot_copy[8];
	struct virtq q_copy;
	unsigned mask = 0;
	struct rig r;
	struct dev d;

	rig_open(&r, 8, false);
	dev_attach(&d, &r.q);
	memset(d.desc, 0xa5, VIRTQ_DESC_SIZE(8)); /* the driver writes every field it publishes */

	/* Two out, three in, in that order: NEXT on all but the last, WRITE on the last three. */
	CHECK_EQ(virtq_add_chain(&r.q, out, 2, in, 3, TOK(1)), 0);
	CHECK_EQ(d.avail->idx, 1);
	CHECK_EQ(r.q.num_free, 3);
	if (CHECK(dev_pop(&d, &c1)) && CHECK_EQ(c1.n, 5)) {
		CHECK_EQ(c1.head, d.avail->ring[0]);
		for (unsigned k = 0; k < 5; k++) {
			const struct virtq_buf *b = k < 2 ? &out[k] : &in[k - 2];

			CHECK_PTR(c1.d[k].addr, b->addr);
			CHECK_EQ(c1.d[k].len, b->len);
			CHECK_EQ(c1.d[k].flags, (k < 4 ? VIRTQ_DESC_F_NEXT : 0) |
							(k >= 2 ? VIRTQ_DESC_F_WRITE : 0));
			mask |= 1u << c1.id[k];
		}
		CHECK_EQ(c1.in_bytes, 120);
	}
	CHECK(!dev_pop(&d, &c)); /* one chain, one avail entry */

	/* A one-descriptor chain: no flags, a descriptor of its own. */
	CHECK_EQ(virtq_add_chain(&r.q, &one, 1, NULL, 0, TOK(2)), 0);
	if (CHECK(dev_pop(&d, &c2)) && CHECK_EQ(c2.n, 1)) {
		CHECK_EQ(c2.d[0].flags, 0);
		CHECK_EQ(c2.head, d.avail->ring[1]);
		CHECK(!(mask & 1u << c2.head));
	}

	/* Refusals publish nothing and change nothing: empty chain, no token, too long. */
	if (!CHECK_EQ(virtq_ring_bytes(8), sizeof(ring_copy)))
		abort(); /* a layout test_init has reported already */
	memcpy(ring_copy, r.ring, sizeof(ring_copy));
	memcpy(slot_copy, r.slots, sizeof(slot_copy));
	q_copy = r.q;
	CHECK_EQ(virtq_add_chain(&r.q, NULL, 0, NULL, 0, TOK(3)), -EINVAL);
	CHECK_EQ(virtq_add_chain(&r.q, &one, 1, NULL, 0, NULL), -EINVAL);
	CHECK_EQ(virtq_add_chain(&r.q, out, 2, &one, 1, TOK(3)), -ENOSPC); /* 3 > 2 free */
	CHECK_EQ(virtq_add_chain(&r.q, NULL, 0, in, 3, TOK(3)), -ENOSPC);
	CHECK(memcmp(ring_copy, r.ring, sizeof(ring_copy)) == 0);
	CHECK(memcmp(slot_copy, r.slots, sizeof(slot_copy)) == 0);
	CHECK(same_state(&q_copy, &r.q));

	/* Exactly the two that are left fit; then nothing does. */
	CHECK_EQ(virtq_add_chain(&r.q, NULL, 0, in, 2, TOK(3)), 0);
	CHECK_EQ(r.q.num_free, 0);
	CHECK_EQ(virtq_add_chain(&r.q, &one, 1, NULL, 0, TOK(4)), -ENOSPC);
	CHECK_EQ(d.avail->idx, 3);
	if (CHECK(dev_pop(&d, &c3)) && CHECK_EQ(c3.n, 2)) {
		CHECK_EQ(c3.d[0].flags, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
		CHECK_EQ(c3.d[1].flags, VIRTQ_DESC_F_WRITE);
	}

	/* The device completes the last first and the first last. */
	CHECK(!virtq_has_used(&r.q));
	CHECK_USED(&r.q, NULL, 0xdeadbeef);
	dev_complete(&d, &c3, 70);
	dev_complete(&d, &c2, 0);
	CHECK(virtq_has_used(&r.q));
	CHECK_USED(&r.q, TOK(3), 70);
	CHECK_EQ(r.q.num_free, 2);
	CHECK_USED(&r.q, TOK(2), 0);
	CHECK_EQ(r.q.num_free, 3);
	CHECK(!virtq_has_used(&r.q));
	dev_complete(&d, &c1, 120);
	CHECK_USED(&r.q, TOK(1), 120);
	CHECK_EQ(r.q.num_free, 8);
	CHECK(free_list_ok(&r.q, NULL));

	/* Full of one-descriptor chains, completed shuffled under one index store: a jump of 8. */
	for (unsigned k = 0; k < 8; k++) {
		struct virtq_buf b = buf_at(1024 + 64 * k, 64);

		CHECK_EQ(virtq_add_chain(&r.q, NULL, 0, &b, 1, TOK(10 + k)), 0);
		CHECK(dev_pop(&d, &held[k]));
	}
	CHECK_EQ(virtq_add_chain(&r.q, &one, 1, NULL, 0, TOK(4)), -ENOSPC);
	for (unsigned k = 0; k < 8; k++) {
		dev_fill(&held[order[k]], 3 * order[k]);
		dev_put(&d, held[order[k]].head, 3 * order[k]);
	}
	dev_publish(&d);
	for (unsigned k = 0; k < 8; k++)
		CHECK_USED(&r.q, TOK(10 + order[k]), 3 * order[k]);

	/* The free list those made, in shuffled order, carries one chain over all eight. */
	struct virtq_buf eight[8] = { out[0], out[1], in[0], in[1], in[2], one, one, one };
	CHECK_EQ(virtq_add_chain(&r.q, eight, 5, eight + 5, 3, TOK(5)), 0);
	mask = 0;
	if (CHECK(dev_pop(&d, &c)) && CHECK_EQ(c.n, 8)) {
		for (unsigned k = 0; k < 8; k++) {
			CHECK_PTR(c.d[k].addr, eight[k].addr);
			mask |= 1u << c.id[k];
		}
		CHECK_EQ(mask, 0xff);
	}
	dev_complete(&d, &c, 24);
	CHECK_USED(&r.q, TOK(5), 24);
	CHECK_EQ(r.q.num_free, 8);
	CHECK(free_list_ok(&r.q, NULL));
	CHECK(!r.q.broken);
	rig_close(&r);
}

/*
 * A chain of more than 4 GiB of writable buffers: every 32-bit used length
 * fits in it, so none may break the queue (the driver's sum must not wrap).
 * The device writes nothing: the buffers are only as big as the descriptors say.
 */
static void test_wide_chain(void)
{
	struct virtq_buf in[3] = { buf_at(0, 0x80000000u), buf_at(0, 0x80000000u),
				   buf_at(0, 0xffffffffu) };
	struct dev_chain c;
	struct rig r;
	struct dev d;

	rig_open(&r, 8, false);
	dev_attach(&d, &r.q);
	CHECK_EQ(virtq_add_chain(&r.q, NULL, 0, in, 2, TOK(1)), 0); /* 4 GiB: 0 in 32 bits */
	CHECK_EQ(virtq_add_chain(&r.q, NULL, 0, in, 3, TOK(2)), 0);
	if (CHECK(dev_pop(&d, &c)) && CHECK_EQ(c.in_bytes, 1ull << 32))
		dev_put(&d, c.head, 0xffffffffu);
	if (CHECK(dev_pop(&d, &c)) && CHECK_EQ(c.in_bytes, 0x1ffffffffull))
		dev_put(&d, c.head, 0x90000000u);
	dev_publish(&d);
	CHECK_USED(&r.q, TOK(1), 0xffffffffu);
	CHECK_USED(&r.q, TOK(2), 0x90000000u);
	CHECK(!r.q.broken);
	CHECK_STR_EQ(r.q.why, "");
	rig_close(&r);
}

/* Add n one-descriptor chains; true when all went in. */
static bool add_some(struct rig *r, unsigned n)
{
	struct virtq_buf b = buf_at(0, 16);
	bool ok = true;

	while (n-- > 0)
		ok &= virtq_add_chain(&r->q, NULL, 0, &b, 1, TOK(n)) == 0;
	return CHECK(ok);
}

/* The device takes and completes every available chain, newest first; the driver collects. */
static bool drain(struct rig *r, struct dev *d)
{
	struct dev_chain c[16];
	unsigned n = 0;
	uint32_t len;
	bool ok = true;

	while (n < 16 && dev_pop(d, &c[n]))
		n++;
	while (n-- > 0)
		dev_complete(d, &c[n], 0);
	while (virtq_get_used(&r->q, &len)) /* asking each time to hear of the next entry */
		ok &= !r->q.event_idx || *dev_used_event(d) == r->q.last_used;
	return CHECK(ok) && CHECK_EQ(r->q.num_free, r->q.size);
}

static void test_notify(void)
{
	unsigned batches = 0, kicks = 0, skipped = 0;
	uint16_t old;
	struct rig r;
	struct dev d;
	bool ok = true;

	/* Without event_idx the NO_NOTIFY flag alone decides, and used_event is left alone. */
	rig_open(&r, 8, false);
	dev_attach(&d, &r.q);
	*dev_used_event(&d) = 0x5a5a;
	*dev_avail_event(&d) = 1000; /* would suppress, were it read */
	add_some(&r, 1);
	CHECK(virtq_kick_needed(&r.q));
	d.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	add_some(&r, 2);
	CHECK(!virtq_kick_needed(&r.q));
	d.used->flags = 0;
	add_some(&r, 1);
	CHECK(virtq_kick_needed(&r.q));
	CHECK(drain(&r, &d));
	CHECK_EQ(*dev_used_event(&d), 0x5a5a);
	rig_close(&r);

	/* With event_idx avail_event alone decides: a kick when the index passes it, only then. */
	rig_open(&r, 16, true);
	dev_attach(&d, &r.q);
	d.used->flags = VIRTQ_USED_F_NO_NOTIFY; /* to be ignored */
	add_some(&r, 1);
	CHECK(virtq_kick_needed(&r.q)); /* avail_event 0: entry 0 is out */
	add_some(&r, 1);
	CHECK(!virtq_kick_needed(&r.q));
	CHECK(drain(&r, &d));
	CHECK_EQ(*dev_used_event(&d), 2);
	*dev_avail_event(&d) = 5;
	for (unsigned idx = 3; idx <= 8; idx++) { /* entries 2 .. 7, one at a time */
		add_some(&r, 1);
		CHECK_EQ(virtq_kick_needed(&r.q), idx == 6);
	}
	CHECK(!virtq_kick_needed(&r.q)); /* nothing new */
	CHECK(drain(&r, &d));
	*dev_avail_event(&d) = 10;
	add_some(&r, 3); /* 8 -> 11 passes 10 in one batch: one kick */
	CHECK(virtq_kick_needed(&r.q));
	*dev_avail_event(&d) = 11; /* asked for as the index got there: entry 11 is still due */
	add_some(&r, 2);
	CHECK(virtq_kick_needed(&r.q));
	CHECK(drain(&r, &d));

	/* Random batches and re-arming over three wraps of the index, against the plain rule. */
	rng_state = 0x243f6a8885a308d3ull;
	old = r.q.kicked_idx;
	while (ok && batches < 3 * 65536 / 2) {
		uint16_t now, ev;
		bool want = false;

		if (rnd_below(2))
			*dev_avail_event(&d) = (uint16_t)(d.avail->idx + rnd_below(8) - 2);
		ok &= add_some(&r, 1 + (unsigned)rnd_below(4));
		batches++;
		if (rnd_below(4) == 0) { /* the driver may add more before it asks */
			skipped++;
			ok &= drain(&r, &d);
			continue;
		}
		now = d.avail->idx;
		ev = *dev_avail_event(&d);
		for (uint16_t i = old; i != now; i++) /* entry ev published since the last ask? */
			want |= i == ev;
		kicks += want;
		ok &= CHECK_EQ(virtq_kick_needed(&r.q), want);
		old = now;
		ok &= drain(&r, &d);
	}
	printf("# notify: %u batches (%u not asked about), %u kicks, avail index at %u\n", batches,
	       skipped, kicks, d.avail->idx);
	CHECK(r.q.avail_idx != 0 && kicks > 1000 && kicks < batches - skipped);
	rig_close(&r);
}

/* Three chains in flight on a queue of eight, taken by the device; two descriptors free. */
struct scene {
	struct rig r;
	struct dev d;
	struct dev_chain a; /* 1 out, 2 in: 70 writable bytes, TOK(1) */
	struct dev_chain b; /* 1 in: 16 bytes, TOK(2) */
	struct dev_chain c; /* 2 out, TOK(3) */
	uint16_t free_desc;
};

static bool scene_open(struct scene *s)
{
	struct virtq_buf out[2] = { buf_at(0, 20), buf_at(64, 24) };
	struct virtq_buf in[2] = { buf_at(128, 30), buf_at(192, 40) }, b = buf_at(256, 16);
	unsigned used;

	rig_open(&s->r, 8, true);
	dev_attach(&s->d, &s->r.q);
	if (!(CHECK_EQ(virtq_add_chain(&s->r.q, out, 1, in, 2, TOK(1)), 0) &&
	      CHECK_EQ(virtq_add_chain(&s->r.q, NULL, 0, &b, 1, TOK(2)), 0) &&
	      CHECK_EQ(virtq_add_chain(&s->r.q, out, 2, NULL, 0, TOK(3)), 0) &&
	      CHECK(dev_pop(&s->d, &s->a)) && CHECK(dev_pop(&s->d, &s->b)) &&
	      CHECK(dev_pop(&s->d, &s->c)) && CHECK_EQ(s->a.n + s->b.n + s->c.n, 6)))
		return false;
	used = 1u << s->a.id[0] | 1u << s->a.id[1] | 1u << s->a.id[2] | 1u << s->b.id[0] |
	       1u << s->c.id[0] | 1u << s->c.id[1];
	s->free_desc = (uint16_t)__builtin_ctz(~used);
	return CHECK_EQ(s->r.q.num_free, 2) && CHECK(s->free_desc < 8);
}

/*
 * The device has just done something wrong: the next virtq_get_used breaks
 * the queue, with a reason naming gist and detail. Nothing moves after
 * that, whatever the device does, and the driver's state, slots and free
 * list are as they were: the bad entry consumed, freed and wrote nothing.
 */
static void expect_broken(struct scene *s, const char *gist, const char *detail)
{
	struct virtq before = s->r.q;
	struct virtq_slot slots[8];
	struct virtq_buf one = buf_at(0, 1);
	uint16_t avail_idx = s->d.avail->idx;

	memcpy(slots, s->r.slots, sizeof(slots));
	CHECK_USED(&s->r.q, NULL, 0xdeadbeef);
	CHECK(s->r.q.broken);
	CHECK_STR_CONTAINS(s->r.q.why, gist);
	CHECK_STR_CONTAINS(s->r.q.why, detail);
	CHECK_EQ(*dev_used_event(&s->d), before.last_used);

	/* The device carries on as if nothing happened; the driver no longer listens. */
	dev_put(&s->d, s->a.head, 0);
	dev_publish(&s->d);
	CHECK(!virtq_has_used(&s->r.q));
	CHECK_USED(&s->r.q, NULL, 0xdeadbeef);
	CHECK_EQ(virtq_add_chain(&s->r.q, &one, 1, NULL, 0, TOK(9)), -EIO);
	CHECK_EQ(s->d.avail->idx, avail_idx);
	CHECK(same_state(&before, &s->r.q));
	CHECK(memcmp(slots, s->r.slots, sizeof(slots)) == 0);
	CHECK(free_list_ok(&s->r.q, NULL));
}

enum hostile {
	JUMP_AHEAD,	 /* used->idx one past what the ring can hold */
	JUMP_BACK,	 /* used->idx one behind: 65535 ahead */
	STALE_ENTRIES,	 /* a jump within the ring, over entries never written */
	ID_PAST_TABLE,	 /* id == size */
	ID_HUGE,	 /* id far beyond 16 bits */
	ID_FREE,	 /* a descriptor in no chain */
	ID_MIDDLE,	 /* the second descriptor of a chain */
	ID_LAST,	 /* the last descriptor of a chain */
	DOUBLE_LATER,	 /* a chain completed again after the driver took it back */
	DOUBLE_IN_BATCH, /* a chain completed twice in one batch */
	LEN_TOO_BIG,	 /* one byte more than the chain's writable buffers hold */
	LEN_NO_ROOM,	 /* bytes written into a chain with no writable buffer */
	N_HOSTILE
};

/*
 * The device's side of used-buffer events, as hv decides them [2.6.7.2]:
 * whether publishing used entries old .. now-1 signals the driver.
 */
static bool dev_signals(const struct dev *d, const struct virtq *q, uint16_t old, uint16_t now)
{
	if (q->event_idx)
		return virtq_need_event(*dev_used_event(d), now, old);
	return !(q->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/*
 * A quiet queue (transmit buffers, taken back only when needed) hears of no
 * used chain, however many the device publishes before the driver looks,
 * and hears of the next one once events are on again.
 */
static void test_quiet(void)
{
	for (int idx = 0; idx <= 1; idx++) {
		struct rig r;
		struct dev d;
		struct dev_chain c;
		uint32_t len;
		uint16_t used = 0;
		bool heard = false;

		rig_open(&r, 16, idx);
		dev_attach(&d, &r.q);
		virtq_used_events(&r.q, false);
		/* Three hundred chains, in rounds of up to the whole ring, index wrapping past 256. */
		for (unsigned round = 0; round < 40; round++) {
			unsigned n = round % 2 ? 16 : 3;
			uint16_t start = used;

			add_some(&r, n);
			for (unsigned i = 0; i < n && dev_pop(&d, &c); i++) {
				dev_complete(&d, &c, 0);
				heard |= dev_signals(&d, &r.q, used, (uint16_t)(used + 1));
				used++;
			}
			heard |= dev_signals(&d, &r.q, start, used); /* the round as one batch */
			while (virtq_get_used(&r.q, &len))
				;
		}
		CHECK(!heard);
		CHECK_EQ(r.q.num_free, r.q.size);
		/* On again: the very next used chain is heard of, and the one after it too. */
		virtq_used_events(&r.q, true);
		add_some(&r, 2);
		CHECK(dev_pop(&d, &c));
		dev_complete(&d, &c, 0);
		CHECK(dev_signals(&d, &r.q, used, (uint16_t)(used + 1)));
		used++;
		CHECK(virtq_get_used(&r.q, &len) != NULL);
		CHECK(dev_pop(&d, &c));
		dev_complete(&d, &c, 0);
		CHECK(dev_signals(&d, &r.q, used, (uint16_t)(used + 1)));
		CHECK(drain(&r, &d));
		rig_close(&r);
	}
}

static void test_hostile(void)
{
	for (int h = 0; h < N_HOSTILE; h++) {
		const char *gist = "not in flight";
		char detail[64];
		struct scene s;
		uint32_t id = h == ID_PAST_TABLE ? 8 : 0xffffffffu;

		if (!scene_open(&s)) {
			rig_close(&s.r);
			continue;
		}
		switch (h) {
		case JUMP_AHEAD:
		case JUMP_BACK:
			s.d.used_idx = h == JUMP_AHEAD ? 9 : 0xffff;
			dev_publish(&s.d);
			gist = "past the ring";
			snprintf(detail, sizeof(detail), "from 0 to %u", s.d.used_idx);
			break;
		case STALE_ENTRIES: /* one honest entry, then zeroes: descriptor 0, a's head */
			dev_put(&s.d, s.a.head, 70);
			s.d.used_idx += 6;
			dev_publish(&s.d);
			CHECK_USED(&s.r.q, TOK(1), 70);
			snprintf(detail, sizeof(detail), "entry 1 names descriptor %u", s.a.head);
			break;
		case ID_FREE:
		case ID_MIDDLE:
		case ID_LAST:
			id = h == ID_FREE ? s.free_desc : s.a.id[h == ID_MIDDLE ? 1 : 2];
			/* fall through */
		case ID_PAST_TABLE:
		case ID_HUGE:
			dev_put(&s.d, id, 0);
			dev_publish(&s.d);
			snprintf(detail, sizeof(detail), "entry 0 names descriptor %u", id);
			break;
		case DOUBLE_LATER:
			dev_complete(&s.d, &s.b, 16);
			CHECK_USED(&s.r.q, TOK(2), 16);
			dev_complete(&s.d, &s.b, 16);
			snprintf(detail, sizeof(detail), "entry 1 names descriptor %u", s.b.head);
			break;
		case DOUBLE_IN_BATCH:
			dev_put(&s.d, s.c.head, 0);
			dev_put(&s.d, s.c.head, 0);
			dev_publish(&s.d);
			CHECK_USED(&s.r.q, TOK(3), 0);
			snprintf(detail, sizeof(detail), "entry 1 names descriptor %u", s.c.head);
			break;
		case LEN_TOO_BIG: /* after an honest completion to the last byte */
			dev_complete(&s.d, &s.b, 16);
			CHECK_USED(&s.r.q, TOK(2), 16);
			dev_put(&s.d, s.a.head, 71);
			dev_publish(&s.d);
			gist = "writable bytes";
			snprintf(detail, sizeof(detail), "wrote 71 bytes into a chain of 70");
			break;
		case LEN_NO_ROOM:
			dev_put(&s.d, s.c.head, 1);
			dev_publish(&s.d);
			gist = "writable bytes";
			snprintf(detail, sizeof(detail), "wrote 1 bytes into a chain of 0");
			break;
		}
		expect_broken(&s, gist, detail);
		rig_close(&s.r);
	}
}
int main(void)
{
	test_init();
	test_add_chain();
	test_wide_chain();
	test_notify();
	test_quiet();
	test_hostile();
	return check_finish("test_virtq");
}
