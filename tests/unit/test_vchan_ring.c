/* SPDX-License-Identifier: MIT */
/*
 * Unit test of the channel's byte rings (libos/pv/vchan_ring.c): a stream
 * through both ends against a model, across the 2^32 wrap of the indices;
 * the wait flags that decide notifications; and a hostile peer that moves
 * its index past the ring, backwards, or anywhere at random, which must
 * break the ring with a reason and never touch memory outside its pages.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vchan_ring.h"

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* A ring's shared indices and its pages, each page its own allocation so ASan sees a step out. */
struct rig {
	struct vchan_ring_shared *sh;
	uint8_t *pages[VCHAN_MAX_RING_PAGES];
	uint32_t nr_pages;
	struct vchan_ring w, r; /* the writer's end and the reader's end */
};

static void rig_open(struct rig *g, uint32_t nr_pages, uint32_t start)
{
	g->sh = calloc(1, sizeof(*g->sh));
	g->nr_pages = nr_pages;
	for (uint32_t i = 0; i < nr_pages; i++)
		g->pages[i] = malloc(VCHAN_PAGE_BYTES);
	g->sh->prod = g->sh->cons = start;
	CHECK_EQ(vchan_ring_attach(&g->w, g->sh, g->pages, nr_pages, true), 0);
	CHECK_EQ(vchan_ring_attach(&g->r, g->sh, g->pages, nr_pages, false), 0);
}

static void rig_close(struct rig *g)
{
	for (uint32_t i = 0; i < g->nr_pages; i++)
		free(g->pages[i]);
	free(g->sh);
}

/* The byte at position i of the test stream. */
static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 9) * 7 + 1);
}

static void test_pages_ok(void)
{
	CHECK(!vchan_ring_pages_ok(0));
	CHECK(vchan_ring_pages_ok(1));
	CHECK(vchan_ring_pages_ok(2));
	CHECK(!vchan_ring_pages_ok(3));
	CHECK(vchan_ring_pages_ok(VCHAN_MAX_RING_PAGES));
	CHECK(!vchan_ring_pages_ok(VCHAN_MAX_RING_PAGES * 2));
	CHECK(!vchan_ring_pages_ok(UINT32_MAX));
}

/*
 * Random writes and reads through one ring, every byte checked against the
 * pattern, and the sizes the ends report checked against the model: the
 * bytes in flight.
 */
static void stream(uint32_t nr_pages, uint32_t start, uint64_t total)
{
	struct rig g;
	uint64_t written = 0, read = 0;
	uint32_t size = nr_pages * VCHAN_PAGE_BYTES;
	uint8_t *buf = malloc(3 * size);
	unsigned bad = 0;

	rig_open(&g, nr_pages, start);
	while (read < total) {
		int space = vchan_ring_writable(&g.w), ready;
		size_t want = (size_t)(rnd() % (3 * size)) + 1, n;

		if (!CHECK_EQ(space, size - (written - read)))
			break;
		if (want > total - written)
			want = total - written;
		for (size_t i = 0; i < want; i++)
			buf[i] = pattern(written + i);
		n = vchan_ring_write(&g.w, buf, want);
		CHECK_EQ(n, want < (size_t)space ? want : (size_t)space);
		written += n;

		ready = vchan_ring_readable(&g.r);
		if (!CHECK_EQ(ready, written - read))
			break;
		want = (size_t)(rnd() % (3 * size)) + 1;
		n = vchan_ring_read(&g.r, buf, want);
		CHECK_EQ(n, want < (size_t)ready ? want : (size_t)ready);
		for (size_t i = 0; i < n; i++)
			bad += buf[i] != pattern(read + i);
		read += n;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(read, total);
	CHECK_EQ(g.sh->prod, (uint32_t)(start + total));
	CHECK_EQ(g.sh->cons, (uint32_t)(start + total));
	CHECK(!g.w.broken && !g.r.broken);
	free(buf);
	rig_close(&g);
}

static void test_streams(void)
{
	stream(1, 0, 1 << 20);
	stream(4, 0, 4 << 20);
	/* Across the wrap of the 32-bit indices, at and off a page boundary. */
	stream(2, UINT32_MAX - 3 * VCHAN_PAGE_BYTES, 1 << 20);
	stream(16, UINT32_MAX - 12345, 8 << 20);
	stream(VCHAN_MAX_RING_PAGES, UINT32_MAX - 100000, 16 << 20);
}

/* An event goes only to a peer that said it waits, and once per wait. */
static void test_wait_flags(void)
{
	struct rig g;
	uint8_t b[VCHAN_PAGE_BYTES] = {0};

	rig_open(&g, 1, 0);
	/* Nobody waits: writing and reading send nothing. */
	CHECK_EQ(vchan_ring_writable(&g.w), VCHAN_PAGE_BYTES);
	CHECK_EQ(vchan_ring_write(&g.w, b, 10), 10);
	CHECK(!vchan_ring_peer_waiting(&g.w));
	CHECK_EQ(vchan_ring_readable(&g.r), 10);
	CHECK_EQ(vchan_ring_read(&g.r, b, 10), 10);
	CHECK(!vchan_ring_peer_waiting(&g.r));

	/* The reader sleeps on an empty ring: the next write wakes it, the one after does not. */
	CHECK_EQ(vchan_ring_readable(&g.r), 0);
	vchan_ring_want_event(&g.r);
	CHECK_EQ(g.sh->want_data, 1);
	CHECK_EQ(vchan_ring_writable(&g.w), VCHAN_PAGE_BYTES);
	CHECK_EQ(vchan_ring_write(&g.w, b, 1), 1);
	CHECK(vchan_ring_peer_waiting(&g.w));
	CHECK_EQ(g.sh->want_data, 0);
	CHECK_EQ(vchan_ring_write(&g.w, b, 1), 1);
	CHECK(!vchan_ring_peer_waiting(&g.w));

	/* The writer sleeps on a full ring: the reader's next read wakes it. */
	CHECK_EQ(vchan_ring_writable(&g.w), VCHAN_PAGE_BYTES - 2);
	CHECK_EQ(vchan_ring_write(&g.w, b, sizeof(b)), VCHAN_PAGE_BYTES - 2);
	CHECK_EQ(vchan_ring_writable(&g.w), 0);
	CHECK_EQ(vchan_ring_write(&g.w, b, 1), 0);
	vchan_ring_want_event(&g.w);
	CHECK_EQ(g.sh->want_space, 1);
	CHECK_EQ(vchan_ring_readable(&g.r), VCHAN_PAGE_BYTES);
	CHECK_EQ(vchan_ring_read(&g.r, b, 100), 100);
	CHECK(vchan_ring_peer_waiting(&g.r));
	CHECK(!vchan_ring_peer_waiting(&g.r));
	CHECK_EQ(vchan_ring_writable(&g.w), 100);
	/* A read of nothing publishes nothing (the sentinel stays). */
	g.sh->cons = 0x5555;
	CHECK_EQ(vchan_ring_read(&g.r, b, 0), 0);
	CHECK_EQ(g.sh->cons, 0x5555);
	rig_close(&g);
}

/* A reader facing a hostile writer: each lie breaks the ring, with a reason; nothing is read. */
static void hostile_writer(uint32_t start, uint32_t lie, const char *why)
{
	struct rig g;
	uint8_t b[128] = {0};

	rig_open(&g, 2, start);
	CHECK_EQ(vchan_ring_writable(&g.w), 2 * VCHAN_PAGE_BYTES);
	CHECK_EQ(vchan_ring_write(&g.w, b, 100), 100);
	CHECK_EQ(vchan_ring_readable(&g.r), 100);
	CHECK_EQ(vchan_ring_read(&g.r, b, 40), 40);
	g.sh->prod = lie;
	CHECK_EQ(vchan_ring_readable(&g.r), -EIO);
	CHECK(g.r.broken);
	CHECK_STR_CONTAINS(g.r.why, why);
	/* Broken for good: even an honest index now moves nothing. */
	g.sh->prod = start + 100;
	CHECK_EQ(vchan_ring_readable(&g.r), -EIO);
	CHECK_EQ(vchan_ring_read(&g.r, b, sizeof(b)), 0);
	CHECK_EQ(g.sh->cons, start + 40);
	rig_close(&g);
}

/* A writer facing a hostile reader. */
static void hostile_reader(uint32_t start, uint32_t lie, const char *why)
{
	struct rig g;
	uint8_t b[64] = {0};

	rig_open(&g, 2, start);
	CHECK_EQ(vchan_ring_writable(&g.w), 2 * VCHAN_PAGE_BYTES);
	CHECK_EQ(vchan_ring_write(&g.w, b, 64), 64);
	CHECK_EQ(vchan_ring_readable(&g.r), 64);
	CHECK_EQ(vchan_ring_read(&g.r, b, 16), 16);
	CHECK_EQ(vchan_ring_writable(&g.w), 2 * VCHAN_PAGE_BYTES - 48);
	g.sh->cons = lie;
	CHECK_EQ(vchan_ring_writable(&g.w), -EIO);
	CHECK_STR_CONTAINS(g.w.why, why);
	CHECK_EQ(vchan_ring_write(&g.w, b, sizeof(b)), 0);
	CHECK_EQ(g.sh->prod, start + 64);
	rig_close(&g);
}

static void test_hostile(void)
{
	const uint32_t size = 2 * VCHAN_PAGE_BYTES;
	const uint32_t starts[] = {0, UINT32_MAX - 50, 0x80000000u};

	for (unsigned i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		uint32_t s = starts[i];

		/* prod beyond a full ring past cons (cons is at s + 40). */
		hostile_writer(s, s + 40 + size + 1, "the writer moved prod from");
		hostile_writer(s, s + 40 + UINT32_MAX / 2, "the writer moved prod from");
		/* prod back: below what it already published, and below cons. */
		hostile_writer(s, s + 99, "the writer moved prod from");
		hostile_writer(s, s + 10, "the writer moved prod from");
		/* cons past prod (prod is at s + 64), and back. */
		hostile_reader(s, s + 65, "the reader moved cons from");
		hostile_reader(s, s + 15, "the reader moved cons from");
		hostile_reader(s, s - 1, "the reader moved cons from");
	}

	/* A full ring exactly is fine; one byte more is not. */
	struct rig g;

	rig_open(&g, 1, 7);
	g.sh->prod = 7 + VCHAN_PAGE_BYTES;
	CHECK_EQ(vchan_ring_readable(&g.r), VCHAN_PAGE_BYTES);
	g.sh->prod = 8 + VCHAN_PAGE_BYTES;
	CHECK_EQ(vchan_ring_readable(&g.r), -EIO);
	rig_close(&g);

	/* Indices that are already impossible when the ring is taken up. */
	struct vchan_ring_shared sh = {.prod = 5 + VCHAN_PAGE_BYTES + 1, .cons = 5};
	uint8_t *pages[1] = {NULL};
	struct vchan_ring r;

	CHECK_EQ(vchan_ring_attach(&r, &sh, pages, 1, false), -EIO);
	CHECK_STR_CONTAINS(r.why, "more than its 4096 bytes");
	CHECK_EQ(vchan_ring_attach(&r, &sh, pages, 1, true), -EIO);
	sh.prod = 4;
	CHECK_EQ(vchan_ring_attach(&r, &sh, pages, 1, true), -EIO);
	CHECK_EQ(vchan_ring_attach(&r, &sh, pages, 3, true), -EIO);
	CHECK_STR_CONTAINS(r.why, "3 pages per ring");
	CHECK_EQ(vchan_ring_readable(&r), -EIO);
}

/*
 * The peer writes random values into its index between our steps; often
 * near the true value, so that some lies are plausible. Whatever it does,
 * the ring stays within its pages (ASan), what we accept is consistent
 * with a ring of this size, and once broken it stays broken.
 */
static void test_fuzz(void)
{
	for (int round = 0; round < 2000; round++) {
		struct rig g;
		uint32_t nr = 1u << (rnd() % 4), size = nr * VCHAN_PAGE_BYTES;
		uint8_t buf[5 * VCHAN_PAGE_BYTES];
		bool hostile_is_writer = rnd() & 1;

		rig_open(&g, nr, (uint32_t)rnd());
		for (int step = 0; step < 40; step++) {
			struct vchan_ring *me = hostile_is_writer ? &g.r : &g.w;
			uint32_t *lie = hostile_is_writer ? &g.sh->prod : &g.sh->cons;
			uint32_t before = me->seen;
			int n;

			switch (rnd() % 3) {
			case 0: *lie = (uint32_t)rnd(); break;
			case 1: *lie += (uint32_t)(rnd() % (2 * size)) - size; break;
			default: /* an honest step of the other end */
				if (hostile_is_writer)
					(void)(vchan_ring_writable(&g.w) >= 0 &&
					       vchan_ring_write(&g.w, buf, rnd() % sizeof(buf)));
				else
					(void)(vchan_ring_readable(&g.r) >= 0 &&
					       vchan_ring_read(&g.r, buf, rnd() % sizeof(buf)));
			}
			n = hostile_is_writer ? vchan_ring_readable(me) : vchan_ring_writable(me);
			if (n == -EIO) {
				CHECK(me->broken && me->why[0]);
				break;
			}
			CHECK(n >= 0 && (uint32_t)n <= size);
			/* The peer's index moved forward, not past what our index allows. */
			CHECK(me->seen - before <= size);
			if (hostile_is_writer)
				CHECK(vchan_ring_read(me, buf, rnd() % sizeof(buf)) <= (size_t)n);
			else
				CHECK(vchan_ring_write(me, buf, rnd() % sizeof(buf)) <= (size_t)n);
		}
		rig_close(&g);
	}
}

int main(void)
{
	test_pages_ok();
	test_streams();
	test_wait_flags();
	test_hostile();
	test_fuzz();
	return check_finish("vchan ring");
}
