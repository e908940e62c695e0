/* SPDX-License-Identifier: MIT */
/*
 * The keyspace: binary-safe keys to byte-string values, each with an
 * optional expiry in absolute Unix milliseconds, in a chained hash table
 * that doubles when full and halves when mostly empty. Expired entries go
 * away when touched (db_find and friends) or by db_expire_step; everything
 * that lists keys skips them. Host-buildable: the time is an argument.
 */
#ifndef KVSTORE_DB_H
#define KVSTORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_NO_EXPIRY 0 /* expire_ms of a key that lives until deleted */

struct db_entry {
	struct db_entry *next; /* in its bucket */
	uint64_t hash;
	int64_t expire_ms; /* DB_NO_EXPIRY or the Unix time in ms when it goes */
	char *val;
	size_t vlen, klen;
	char key[];
};

struct db {
	struct db_entry **buckets;
	size_t mask;     /* buckets - 1; the count is a power of two */
	size_t count;    /* entries, expired ones not yet removed included */
	size_t expiring; /* entries with an expiry */
	uint64_t seed[2];
	uint64_t expire_cursor; /* where db_expire_step goes on */
};

/* seed keys the hash (SipHash-2-4), so clients cannot aim keys at one bucket. 0 or -ENOMEM. */
int db_init(struct db *db, uint64_t seed0, uint64_t seed1);
void db_free(struct db *db);

bool db_expired(const struct db_entry *e, int64_t now_ms);
/* The live entry of key, or NULL; an expired one is removed on the way. */
struct db_entry *db_find(struct db *db, const char *key, size_t klen, int64_t now_ms);
/*
 * Set key to val with expire_ms (DB_NO_EXPIRY or absolute). An expiry at
 * or before now_ms deletes the key instead: that is what it means. 0 or
 * -ENOMEM, with the old value left in place.
 */
int db_set(struct db *db, const char *key, size_t klen, const char *val, size_t vlen,
	   int64_t expire_ms, int64_t now_ms);
/* Remove key. 1 if a live entry went, 0 if there was none (or only an expired one). */
int db_delete(struct db *db, const char *key, size_t klen, int64_t now_ms);
/* Remove everything and go back to the smallest table. */
void db_clear(struct db *db);
/* Live entries: O(1) while no key has an expiry, a walk of the table otherwise. */
size_t db_live_count(const struct db *db, int64_t now_ms);

/*
 * One SCAN step: visit buckets from cursor on (in reverse-binary order) and
 * call fn on each live entry, until at least count entries were seen or
 * 10 * count buckets visited. Returns the next cursor, 0 when done. Every
 * key present from a scan's first call to its last is reported at least
 * once, even when the table grows or shrinks between calls. fn must not
 * change the table.
 */
uint64_t db_scan(const struct db *db, uint64_t cursor, size_t count, int64_t now_ms,
		 void (*fn)(void *arg, const struct db_entry *e), void *arg);

/* Remove the expired entries of the next `buckets` buckets. Returns how many went. */
size_t db_expire_step(struct db *db, int64_t now_ms, size_t buckets);

#endif /* KVSTORE_DB_H */
