/* SPDX-License-Identifier: MIT */
/* Unit test of libos's page allocator and heap break, checked against a reference model. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pagealloc.h"

#define PG ((uintptr_t)PAGE_SIZE)
#define MIB (1ull << 20)

static uint8_t *region(size_t bytes)
{
	uint8_t *r = aligned_alloc(PAGE_SIZE, bytes);

	if (!r)
		abort();
	return r;
}

static uintptr_t page_at(const struct page_pool *p, size_t i)
{
	return p->base + i * PG;
}

#define CHECK_PTR(got, want) CHECK_EQ((uintptr_t)(got), (uintptr_t)(want))

/* Bitmap pages for a region of total pages: one bit each, rounded to whole 64-bit words. */
static size_t map_pages(size_t total)
{
	return ((total + 63) / 64 * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
}

static void test_init(void)
{
	uint8_t *r = region(MIB), *big;
	struct page_pool p;

	memset(r, 0xa5, MIB); /* the bitmap must not inherit what was there */
	if (CHECK_EQ(page_pool_init(&p, (uintptr_t)r, MIB), 0)) {
		CHECK_PTR(p.used, r);
		CHECK_EQ(p.base, (uintptr_t)r + PG);
		CHECK_EQ(p.npages, 255);
		CHECK_EQ(p.nfree, 255);
		CHECK_EQ(p.brk, p.base);
		CHECK_EQ(p.used[0] | p.used[1] | p.used[2] | p.used[3], 0);
	}

	/* An unaligned start loses the partial page; an unaligned end too. */
	if (CHECK_EQ(page_pool_init(&p, (uintptr_t)r + 100, MIB - 100), 0)) {
		CHECK_EQ(p.base, (uintptr_t)r + 2 * PG);
		CHECK_EQ(p.npages, 254);
	}
	if (CHECK_EQ(page_pool_init(&p, (uintptr_t)r, MIB - 1), 0))
		CHECK_EQ(p.npages, 254);

	/* Too small for a bitmap page and one page to manage. */
	CHECK_EQ(page_pool_init(&p, (uintptr_t)r, 0), -ENOMEM);
	CHECK_EQ(page_pool_init(&p, (uintptr_t)r, PG), -ENOMEM);
	CHECK_EQ(page_pool_init(&p, (uintptr_t)r, 2 * PG - 1), -ENOMEM);
	CHECK_EQ(page_pool_init(&p, (uintptr_t)r + 1, 2 * PG), -ENOMEM);
	if (CHECK_EQ(page_pool_init(&p, (uintptr_t)r, 2 * PG), 0)) {
		CHECK_EQ(p.npages, 1);
		CHECK_PTR(page_alloc(&p, 1), r + PG);
	}
	free(r);

	/*
	 * One bitmap page covers 32768 pages (128 MiB); one page more takes a
	 * second. Only the bitmap is touched, so the big region costs little.
	 */
	const size_t big_bytes = 160 * MIB;
	big = region(big_bytes);
	if (CHECK_EQ(page_pool_init(&p, (uintptr_t)big, 128 * MIB), 0)) {
		CHECK_EQ(p.base, (uintptr_t)big + PG);
		CHECK_EQ(p.npages, 32767);
	}
	if (CHECK_EQ(page_pool_init(&p, (uintptr_t)big, 128 * MIB + PG), 0)) {
		CHECK_EQ(p.base, (uintptr_t)big + 2 * PG);
		CHECK_EQ(p.npages, 32767);
	}
	if (CHECK_EQ(page_pool_init(&p, (uintptr_t)big, big_bytes), 0)) {
		size_t total = big_bytes / PG;

		CHECK_EQ(map_pages(total), 2);
		CHECK_EQ(p.base, (uintptr_t)big + map_pages(total) * PG);
		CHECK_EQ(p.npages, total - map_pages(total));
		CHECK_EQ(p.nfree, p.npages);
		CHECK_PTR(page_alloc(&p, 1), page_at(&p, p.npages - 1));
	}
	free(big);
}

static void test_alloc(void)
{
	uint8_t *r = region(MIB);
	struct page_pool p;
	uint8_t *a, *b, *c;
	size_t got = 0;

	if (!CHECK_EQ(page_pool_init(&p, (uintptr_t)r, MIB), 0))
		return;
	/* From the top down, runs contiguous. */
	a = page_alloc(&p, 1);
	b = page_alloc(&p, 1);
	c = page_alloc(&p, 3);
	CHECK_PTR(a, page_at(&p, 254));
	CHECK_PTR(b, page_at(&p, 253));
	CHECK_PTR(c, page_at(&p, 250));
	CHECK_EQ(p.nfree, 255 - 5);
	if (a && b && c) { /* the pages are usable memory (ASan checks the bounds) */
		memset(a, 1, PG);
		memset(b, 2, PG);
		memset(c, 3, 3 * PG);
	}

	CHECK(page_alloc(&p, 0) == NULL);
	CHECK(page_alloc(&p, 251) == NULL);
	CHECK(page_alloc(&p, SIZE_MAX) == NULL);
	CHECK_EQ(p.nfree, 250);

	/* A one-page hole does not fit two pages; it takes the next single one. */
	CHECK_EQ(page_free(&p, b, 1), 0);
	CHECK_PTR(page_alloc(&p, 2), page_at(&p, 248));
	CHECK_PTR(page_alloc(&p, 1), b);

	/* All of what is left, exactly. */
	while (page_alloc(&p, 1))
		got++;
	CHECK_EQ(got, 255 - 7);
	CHECK_EQ(p.nfree, 0);
	CHECK(page_alloc(&p, 1) == NULL);

	/* Every other page free: plenty of pages, no run of two. */
	for (size_t i = 0; i < 100; i += 2)
		CHECK_EQ(page_free(&p, (void *)page_at(&p, i), 1), 0);
	CHECK_EQ(p.nfree, 50);
	CHECK(page_alloc(&p, 2) == NULL);
	CHECK_PTR(page_alloc(&p, 1), page_at(&p, 98));
	free(r);
}

static void test_free_errors(void)
{
	uint8_t *r = region(MIB);
	struct page_pool p;
	uint8_t *a, *top;

	if (!CHECK_EQ(page_pool_init(&p, (uintptr_t)r, MIB), 0))
		return;
	/* Never allocated. */
	CHECK_EQ(page_free(&p, (void *)p.base, 1), -EINVAL);
	CHECK_EQ(p.nfree, 255);

	top = page_alloc(&p, 1);
	a = page_alloc(&p, 2);
	CHECK_EQ(page_free(&p, a + 1, 2), -EINVAL);       /* unaligned */
	CHECK_EQ(page_free(&p, a + PG / 2, 1), -EINVAL);  /* unaligned, mid-page */
	CHECK_EQ(page_free(&p, a, 0), -EINVAL);           /* no pages */
	CHECK_EQ(page_free(&p, r, 1), -EINVAL);           /* the bitmap page */
	CHECK_EQ(page_free(&p, NULL, 1), -EINVAL);
	CHECK_EQ(page_free(&p, top + PG, 1), -EINVAL);    /* past the end */
	CHECK_EQ(page_free(&p, top, 2), -EINVAL);         /* a run crossing the end */
	CHECK_EQ(page_free(&p, top, SIZE_MAX), -EINVAL);
	CHECK_EQ(page_free(&p, a - PG, 2), -EINVAL);      /* half free, half allocated */
	CHECK_EQ(page_free(&p, a, 4), -EINVAL);           /* runs on past a into a free page */
	CHECK_EQ(p.nfree, 252);                           /* none of that freed anything */

	CHECK_EQ(page_free(&p, a, 2), 0);
	CHECK_EQ(page_free(&p, a, 2), -EINVAL); /* double free */
	CHECK_EQ(page_free(&p, top, 1), 0);
	CHECK_EQ(page_free(&p, top, 1), -EINVAL);
	CHECK_EQ(p.nfree, 255);

	/* Heap pages belong to sbrk, not page_free. */
	CHECK_PTR(page_pool_sbrk(&p, 2 * PG + 1), p.base);
	CHECK_EQ(page_free(&p, (void *)p.base, 1), -EINVAL);
	CHECK_EQ(page_free(&p, (void *)page_at(&p, 2), 1), -EINVAL);
	CHECK_EQ(p.nfree, 252);
	free(r);
}

static void test_sbrk(void)
{
	uint8_t *r = region(MIB);
	struct page_pool p;
	uintptr_t base;

	if (!CHECK_EQ(page_pool_init(&p, (uintptr_t)r, MIB), 0))
		return;
	base = p.base;
	CHECK_PTR(page_pool_sbrk(&p, 0), base);

	/* Growing marks each page the break enters; shrinking gives back each page it leaves. */
	CHECK_PTR(page_pool_sbrk(&p, PG), base);
	CHECK_EQ(p.nfree, 254);
	CHECK_PTR(page_pool_sbrk(&p, 100), base + PG);
	CHECK_EQ(p.nfree, 253);
	CHECK_PTR(page_pool_sbrk(&p, 100), base + PG + 100); /* same page */
	CHECK_EQ(p.nfree, 253);
	memset((void *)base, 0x5a, PG + 200);
	CHECK_PTR(page_pool_sbrk(&p, -200), base + PG + 200);
	CHECK_EQ(p.brk, base + PG);
	CHECK_EQ(p.nfree, 254);
	CHECK_PTR(page_pool_sbrk(&p, -(intptr_t)PG), base + PG);
	CHECK_EQ(p.nfree, 255);

	/* Not below the base, not past the end, not by a wrapping amount. */
	CHECK(page_pool_sbrk(&p, -1) == NULL);
	CHECK(page_pool_sbrk(&p, INTPTR_MIN) == NULL);
	CHECK(page_pool_sbrk(&p, INTPTR_MAX) == NULL);
	CHECK(page_pool_sbrk(&p, 255 * PG + 1) == NULL);
	CHECK_EQ(p.brk, base);
	CHECK_EQ(p.nfree, 255);

	/* The whole region as heap: nothing is left for page_alloc. */
	CHECK_PTR(page_pool_sbrk(&p, 255 * PG), base);
	CHECK_EQ(p.nfree, 0);
	CHECK(page_alloc(&p, 1) == NULL);
	CHECK(page_pool_sbrk(&p, 1) == NULL);
	CHECK_PTR(page_pool_sbrk(&p, -255 * (intptr_t)PG), base + 255 * PG);
	CHECK_EQ(p.nfree, 255);

	/* The break stops at allocated pages and takes none of the pages below them. */
	uint8_t *top = page_alloc(&p, 1);
	uint8_t *mid = page_alloc(&p, 1);
	CHECK_EQ(page_free(&p, top, 1), 0);
	CHECK_PTR(mid, page_at(&p, 253));
	CHECK(page_pool_sbrk(&p, 254 * PG) == NULL);
	CHECK(page_pool_sbrk(&p, 253 * PG + 1) == NULL);
	CHECK_EQ(p.brk, base);
	CHECK_EQ(p.nfree, 254);
	CHECK_PTR(page_pool_sbrk(&p, 253 * PG), base); /* up to mid's first byte is fine */
	CHECK_EQ(p.nfree, 1);
	CHECK(page_pool_sbrk(&p, 1) == NULL);
	CHECK_PTR(page_alloc(&p, 1), top); /* page_alloc still reaches above mid */
	CHECK_PTR(page_pool_sbrk(&p, -253 * (intptr_t)PG), base + 253 * PG);
	CHECK_EQ(page_free(&p, mid, 1), 0);
	CHECK_EQ(page_free(&p, top, 1), 0);
	CHECK_EQ(p.nfree, 255);

	/* page_alloc never hands out a page the heap has entered, partly or wholly. */
	size_t heap = 100, got = 0;
	CHECK_PTR(page_pool_sbrk(&p, (intptr_t)((heap - 1) * PG + 1)), base);
	for (uint8_t *a; (a = page_alloc(&p, 1)) != NULL; got++)
		if (!CHECK((uintptr_t)a >= page_at(&p, heap)))
			break;
	CHECK_EQ(got, 255 - heap);

	/* And after a shrink, the pages the heap left are page_alloc's again. */
	CHECK_PTR(page_pool_sbrk(&p, -(intptr_t)(10 * PG)), base + (heap - 1) * PG + 1);
	for (size_t i = 0; i < 10; i++)
		CHECK_PTR(page_alloc(&p, 1), page_at(&p, heap - 1 - i));
	CHECK(page_alloc(&p, 1) == NULL);
	free(r);
}

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t rng_state;

/*
 * The reference model: who owns each page. Its page_alloc is the contract
 * in its plainest form: the highest run of n free pages above the heap.
 */
enum { FREE = 0, HEAP = -1 }; /* owners; a positive owner is an allocation's id */

struct model {
	size_t npages;
	int32_t *owner;
	uintptr_t base, brk;
	size_t nfree;
};

struct live {
	uint8_t *addr;
	size_t n;
	int32_t id;
};

static size_t model_heap_pages(const struct model *m)
{
	return (m->brk - m->base + PG - 1) / PG;
}

/* The first page of the topmost free run of n pages above the heap, or SIZE_MAX. */
static size_t model_fit(const struct model *m, size_t n)
{
	size_t floor = model_heap_pages(m), run = 0;

	for (size_t i = m->npages; i-- > floor;) {
		run = m->owner[i] == FREE ? run + 1 : 0;
		if (run == n)
			return i;
	}
	return SIZE_MAX;
}

static void model_set(struct model *m, size_t first, size_t n, int32_t owner)
{
	for (size_t i = first; i < first + n; i++) {
		m->nfree += owner == FREE;
		m->nfree -= m->owner[i] == FREE;
		m->owner[i] = owner;
	}
}

/* Each page of an allocation carries its id, so an overlapping hand-out shows. */
static void tag(uint8_t *addr, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		memcpy(addr + i * PG, &id, sizeof(id));
}

static bool tagged(const uint8_t *addr, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++) {
		int32_t t;

		memcpy(&t, addr + i * PG, sizeof(t));
		if (t != id)
			return false;
	}
	return true;
}

static size_t rnd_run(size_t npages)
{
	switch (rnd_below(16)) {
	case 0:
		return 1 + rnd_below(npages / 4 + 1); /* big: fails often, fragments the rest */
	case 1:
	case 2:
	case 3:
		return 1 + rnd_below(64);
	default:
		return 1 + rnd_below(4);
	}
}

static intptr_t rnd_incr(size_t npages)
{
	intptr_t mag;

	switch (rnd_below(4)) {
	case 0:
		mag = (intptr_t)rnd_below(PG * 2); /* bytes: within a page or across one */
		break;
	case 1:
		mag = (intptr_t)(rnd_below(npages / 8 + 1) * PG);
		break;
	case 2:
		mag = (intptr_t)rnd_below(npages / 8 * PG + 1);
		break;
	default:
		mag = (intptr_t)(rnd_below(npages + 2) * PG); /* often past the end or below base */
		break;
	}
	return rnd_below(2) ? mag : -mag;
}

/*
 * Thousands of random allocs, frees, bad frees and sbrks against the model:
 * every result, the break and nfree must match it after every step.
 */
static void test_model(size_t bytes, unsigned ops, uint64_t seed)
{
	uint8_t *r = region(bytes);
	struct page_pool p;
	struct model m;
	struct live *live;
	size_t nlive = 0, mismatches = 0;
	int32_t next_id = 1;
	unsigned counts[4] = { 0 }, failed_allocs = 0, blocked_sbrks = 0;

	rng_state = seed;
	if (!CHECK_EQ(page_pool_init(&p, (uintptr_t)r, bytes), 0))
		return;
	m = (struct model){ p.npages, calloc(p.npages, sizeof(int32_t)), p.base, p.base, p.npages };
	live = calloc(p.npages, sizeof(*live));
	if (!m.owner || !live)
		abort();

	for (unsigned op = 0; op < ops && mismatches < 4; op++) {
		unsigned kind = (unsigned)rnd_below(20);
		bool ok = true;

		if (kind < 8) { /* alloc */
			size_t n = rnd_run(p.npages), want = model_fit(&m, n);
			uint8_t *a = page_alloc(&p, n);

			counts[0]++;
			if (want == SIZE_MAX) {
				failed_allocs++;
				ok &= CHECK(a == NULL);
			} else if ((ok &= CHECK_PTR(a, page_at(&p, want)))) {
				/* No page of the run may be handed out already. */
				for (size_t i = want; i < want + n; i++)
					ok &= CHECK_EQ(m.owner[i], FREE);
				model_set(&m, want, n, next_id);
				tag(a, n, next_id);
				live[nlive++] = (struct live){ a, n, next_id++ };
			}
		} else if (kind < 14) { /* free a live allocation */
			counts[1]++;
			if (nlive == 0)
				continue;
			size_t k = rnd_below(nlive);
			struct live l = live[k];

			ok &= CHECK(tagged(l.addr, l.n, l.id));
			ok &= CHECK_EQ(page_free(&p, l.addr, l.n), 0);
			model_set(&m, ((uintptr_t)l.addr - m.base) / PG, l.n, FREE);
			live[k] = live[--nlive];
		} else if (kind < 16) { /* a free the model calls invalid */
			size_t first = rnd_below(m.npages + 4), n = 1 + rnd_below(8);
			uintptr_t addr = m.base + first * PG - 2 * PG + (rnd_below(4) ? 0 : 1 + rnd_below(PG));
			bool valid = addr % PG == 0 && addr >= m.base;

			counts[2]++;
			if (valid) {
				first = (addr - m.base) / PG;
				valid = first >= model_heap_pages(&m) && first + n <= m.npages;
				for (size_t i = first; valid && i < first + n; i++)
					valid = m.owner[i] > 0;
			}
			if (valid) /* a partial free of live runs would desynchronise the list */
				continue;
			ok &= CHECK_EQ(page_free(&p, (void *)addr, n), -EINVAL);
		} else { /* sbrk */
			intptr_t incr = rnd_incr(m.npages);
			uintptr_t old = m.brk, brk = old + (uintptr_t)incr;
			uintptr_t end = m.base + m.npages * PG;
			bool fits = incr >= 0 ? brk >= old && brk <= end : brk <= old && brk >= m.base;
			size_t have = model_heap_pages(&m), want = 0;

			counts[3]++;
			if (fits) {
				want = (brk - m.base + PG - 1) / PG;
				for (size_t i = have; fits && i < want; i++)
					fits = m.owner[i] == FREE;
			}
			void *got = page_pool_sbrk(&p, incr);
			if (!fits) {
				blocked_sbrks++;
				ok &= CHECK(got == NULL);
			} else if ((ok &= CHECK_PTR(got, old))) {
				if (want > have)
					model_set(&m, have, want - have, HEAP);
				else
					model_set(&m, want, have - want, FREE);
				m.brk = brk;
			}
		}
		ok &= CHECK_EQ(p.brk, m.brk);
		ok &= CHECK_EQ(p.nfree, m.nfree);
		if (op % 512 == 0) { /* the model's own count, recounted */
			size_t n = 0;

			for (size_t i = 0; i < m.npages; i++)
				n += m.owner[i] == FREE;
			ok &= CHECK_EQ(n, m.nfree);
		}
		if (!ok) {
			fprintf(stderr, "    model test (%zu bytes, seed 0x%llx): op %u\n", bytes,
				(unsigned long long)seed, op);
			mismatches++;
		}
	}

	/* Everything given back, the region is whole again: one run of every page. */
	while (nlive > 0) {
		nlive--;
		CHECK(tagged(live[nlive].addr, live[nlive].n, live[nlive].id));
		CHECK_EQ(page_free(&p, live[nlive].addr, live[nlive].n), 0);
	}
	CHECK_PTR(page_pool_sbrk(&p, -(intptr_t)(m.brk - m.base)), m.brk);
	CHECK_EQ(p.nfree, p.npages);
	CHECK_PTR(page_alloc(&p, p.npages), p.base);

	/* The mix must have reached the interesting cases, or it proved little. */
	printf("# model %zu KiB: %u allocs (%u found no run), %u frees, %u bad frees, %u sbrks "
	       "(%u refused)\n",
	       bytes >> 10, counts[0], failed_allocs, counts[1], counts[2], counts[3],
	       blocked_sbrks);
	CHECK(failed_allocs > 0 && failed_allocs < counts[0]);
	CHECK(blocked_sbrks > 0 && blocked_sbrks < counts[3]);
	free(live);
	free(m.owner);
	free(r);
}

int main(void)
{
	test_init();
	test_alloc();
	test_free_errors();
	test_sbrk();
	test_model(MIB, 20000, 0x9e3779b97f4a7c15ull);
	test_model(64 * MIB, 20000, 0xc2b2ae3d27d4eb4full);
	return check_finish("test_pagealloc");
}
