/* SPDX-License-Identifier: MIT */
/* The keyspace: a keyed-hash chained table with expiry and a resize-proof SCAN cursor (db.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"

/* --- SipHash-2-4 (Aumasson and Bernstein, 2012), as Redis keys its dict ------------------ */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                            \
	do {                                                                                \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                   \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                      \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                      \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                   \
	} while (0)

static uint64_t siphash(const uint64_t k[2], const char *p, size_t n)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ull, v1 = k[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ull, v3 = k[1] ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)n << 56;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&m, p + i, 8); /* x86-64 is little-endian, as SipHash reads words */
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < n; j++)
		b |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* --- the table ------------------------------------------------------------------------ */

int db_init(struct db *db, uint64_t seed0, uint64_t seed1)
{
	memset(db, 0, sizeof(*db));
	db->seed[0] = seed0;
	db->seed[1] = seed1;
	db->buckets = calloc(KV_DB_MIN_BUCKETS, sizeof(*db->buckets));
	if (!db->buckets)
		return -ENOMEM;
	db->mask = KV_DB_MIN_BUCKETS - 1;
	return 0;
}

static void free_entry(struct db_entry *e)
{
	free(e->val);
	free(e);
}

static void free_all(struct db *db)
{
	for (size_t i = 0; i <= db->mask; i++)
		for (struct db_entry *e = db->buckets[i], *next; e; e = next) {
			next = e->next;
			free_entry(e);
		}
}

void db_free(struct db *db)
{
	if (db->buckets)
		free_all(db);
	free(db->buckets);
	db->buckets = NULL;
}

/*
 * Move every entry into a table of `size` buckets. All at once: threads
 * are cooperative, so nobody sees the table half-moved. A table that
 * cannot be allocated is simply not resized: chains get longer, nothing
 * breaks.
 */
static void resize(struct db *db, size_t size)
{
	struct db_entry **nb = calloc(size, sizeof(*nb));

	if (!nb)
		return;
	for (size_t i = 0; i <= db->mask; i++)
		for (struct db_entry *e = db->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = nb[e->hash & (size - 1)];
			nb[e->hash & (size - 1)] = e;
		}
	free(db->buckets);
	db->buckets = nb;
	db->mask = size - 1;
}

bool db_expired(const struct db_entry *e, int64_t now_ms)
{
	return e->expire_ms != DB_NO_EXPIRY && e->expire_ms <= now_ms;
}

/* The link that points at key's entry (or the bucket's terminating NULL). */
static struct db_entry **find_link(const struct db *db, const char *key, size_t klen,
				   uint64_t h)
{
	struct db_entry **link = &db->buckets[h & db->mask];

	for (; *link; link = &(*link)->next)
		if ((*link)->hash == h && (*link)->klen == klen && !memcmp((*link)->key, key, klen))
			break;
	return link;
}

static void unlink_entry(struct db *db, struct db_entry **link)
{
	struct db_entry *e = *link;

	*link = e->next;
	db->count--;
	db->expiring -= e->expire_ms != DB_NO_EXPIRY;
	free_entry(e);
}

static void maybe_shrink(struct db *db)
{
	if (db->mask + 1 > KV_DB_MIN_BUCKETS && db->count < (db->mask + 1) / 8)
		resize(db, (db->mask + 1) / 2);
}

struct db_entry *db_find(struct db *db, const char *key, size_t klen, int64_t now_ms)
{
	struct db_entry **link = find_link(db, key, klen, siphash(db->seed, key, klen));

	if (*link && db_expired(*link, now_ms)) {
		unlink_entry(db, link);
		maybe_shrink(db);
		return NULL;
	}
	return *link;
}

int db_delete(struct db *db, const char *key, size_t klen, int64_t now_ms)
{
	struct db_entry **link = find_link(db, key, klen, siphash(db->seed, key, klen));
	int live;

	if (!*link)
		return 0;
	live = !db_expired(*link, now_ms);
	unlink_entry(db, link);
	maybe_shrink(db);
	return live;
}

int db_set(struct db *db, const char *key, size_t klen, const char *val, size_t vlen,
	   int64_t expire_ms, int64_t now_ms)
{
	uint64_t h = siphash(db->seed, key, klen);
	struct db_entry **link = find_link(db, key, klen, h), *e = *link;
	char *copy;

	if (expire_ms != DB_NO_EXPIRY && expire_ms <= now_ms) {
		db_delete(db, key, klen, now_ms);
		return 0;
	}
	copy = malloc(vlen ? vlen : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, val, vlen);
	if (!e) {
		e = malloc(sizeof(*e) + klen);
		if (!e) {
			free(copy);
			return -ENOMEM;
		}
		memcpy(e->key, key, klen);
		e->klen = klen;
		e->hash = h;
		e->val = NULL;
		e->expire_ms = DB_NO_EXPIRY;
		e->next = *link;
		*link = e;
		db->count++;
	}
	free(e->val);
	e->val = copy;
	e->vlen = vlen;
	if (e->expire_ms != DB_NO_EXPIRY)
		db->expiring--;
	if (expire_ms != DB_NO_EXPIRY)
		db->expiring++;
	e->expire_ms = expire_ms;
	if (db->count > db->mask + 1) /* load factor 1 */
		resize(db, (db->mask + 1) * 2);
	return 0;
}

void db_clear(struct db *db)
{
	struct db_entry **nb = calloc(KV_DB_MIN_BUCKETS, sizeof(*nb));

	free_all(db);
	if (nb) {
		free(db->buckets);
		db->buckets = nb;
		db->mask = KV_DB_MIN_BUCKETS - 1;
	} else { /* keep the big table, emptied */
		memset(db->buckets, 0, (db->mask + 1) * sizeof(*db->buckets));
	}
	db->count = db->expiring = 0;
	db->expire_cursor = 0;
}

size_t db_live_count(const struct db *db, int64_t now_ms)
{
	size_t n = 0;

	if (db->expiring == 0)
		return db->count;
	for (size_t i = 0; i <= db->mask; i++)
		for (const struct db_entry *e = db->buckets[i]; e; e = e->next)
			n += !db_expired(e, now_ms);
	return n;
}

static uint64_t reverse_bits(uint64_t v)
{
	uint64_t r = 0;

	for (int i = 0; i < 64; i++, v >>= 1)
		r = (r << 1) | (v & 1);
	return r;
}

/*
 * The cursor counts through bucket indexes with its bits reversed (Redis'
 * dictScan). Doubling the table splits bucket b into b and b + size, both
 * still ahead of the reversed count; halving merges them into one that
 * covers both. So no key present throughout is skipped; some may repeat
 * after a shrink.
 */
static uint64_t next_cursor(uint64_t v, uint64_t mask)
{
	v |= ~mask; /* set the bits above the table so the increment carries through them */
	v = reverse_bits(v);
	v++;
	return reverse_bits(v);
}

uint64_t db_scan(const struct db *db, uint64_t cursor, size_t count, int64_t now_ms,
		 void (*fn)(void *arg, const struct db_entry *e), void *arg)
{
	size_t seen = 0, budget;

	if (count == 0)
		count = 1;
	budget = count * 10;
	do {
		const struct db_entry *e = db->buckets[cursor & db->mask];

		for (; e; e = e->next, seen++)
			if (!db_expired(e, now_ms))
				fn(arg, e);
		cursor = next_cursor(cursor, db->mask);
	} while (cursor != 0 && seen < count && --budget > 0);
	return cursor;
}

size_t db_expire_step(struct db *db, int64_t now_ms, size_t buckets)
{
	size_t removed = 0;

	if (db->expiring == 0)
		return 0;
	while (buckets--) {
		struct db_entry **link = &db->buckets[db->expire_cursor & db->mask];

		while (*link) {
			if (db_expired(*link, now_ms)) {
				unlink_entry(db, link);
				removed++;
			} else {
				link = &(*link)->next;
			}
		}
		db->expire_cursor = (db->expire_cursor + 1) & db->mask;
	}
	maybe_shrink(db);
	return removed;
}
