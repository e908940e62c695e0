/* SPDX-License-Identifier: MIT */
/* The store: one tree of keys and values for all domains, with the ABI's permissions. */
#ifndef HV_STORE_H
#define HV_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"

#define STORE_HV 0 /* the writer id of hv itself: it may write anywhere */

struct store_entry;

/*
 * Keys are absolute paths ("/local/domain/1/name": '/'-separated, non-empty
 * components of [A-Za-z0-9_.:@-], no '/' at the end) of at most
 * HV_STORE_KEY_MAX characters; values are bytes, at most HV_STORE_VALUE_MAX.
 * Removing a key removes the keys below it too. Thread-safe.
 */
struct store {
	pthread_mutex_t lock;
	struct store_entry *e;
	size_t n, cap;
	unsigned keys[HV_MAX_DOMAINS + 1]; /* keys each domain wrote, against its quota */
};

void store_init(struct store *s);
void store_destroy(struct store *s);

/*
 * The operations, for domain dom (STORE_HV: hv). 0 or -errno: -EINVAL a
 * malformed key, -E2BIG a key or value too long, -EPERM a key outside
 * "/local/domain/<dom>/" or one hv wrote there ("name"), -ENOSPC the
 * domain's quota of keys is used up, -ENOENT no such key.
 */
int store_write(struct store *s, domid_t dom, const char *key, const void *value, size_t len);
int store_remove(struct store *s, domid_t dom, const char *key);
/*
 * Read key's value into buf of size bytes and its length into *len; -E2BIG
 * (with *len set) when it does not fit, and then nothing is copied.
 */
int store_read(struct store *s, const char *key, void *buf, size_t size, size_t *len);

#endif /* HV_STORE_H */
