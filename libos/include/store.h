/* SPDX-License-Identifier: MIT */
/*
 * The store: a small tree of text values that hv keeps for all its domains,
 * where they meet (Xen's xenstore in spirit). Keys are paths of at most
 * HV_STORE_KEY_MAX bytes, values at most HV_STORE_VALUE_MAX. Anyone reads;
 * a domain writes and removes only under its own "/local/domain/<id>/".
 * Each call is one exit to hv: for setting up, not for data.
 *
 * Keys are '/'-separated non-empty parts of [A-Za-z0-9_.:@-]; removing a
 * key removes the keys below it.
 *
 * 0 (or a length) or a negative errno: -ENOENT no such key, -EPERM outside
 * this domain's part, -E2BIG a value too long, -ENAMETOOLONG a key too
 * long, -EINVAL a malformed key, -ENOSPC this domain's quota of keys is
 * used up, -ENOSYS where the platform has no store.
 */
#ifndef LIBOS_STORE_H
#define LIBOS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"

/* Read key's value into buf as a string; its length, or -ERANGE if it needs more than size. */
int store_read(const char *key, char *buf, size_t size);
/* Set key to the string value. */
int store_write(const char *key, const char *value);
int store_remove(const char *key);

/*
 * store_read(), retried while the key does not exist (every
 * STORE_POLL_NS, sleeping, so other threads run) until deadline_ns on
 * the monotonic clock: then -ETIMEDOUT.
 */
#define STORE_POLL_NS 1000000
int store_wait(const char *key, char *buf, size_t size, uint64_t deadline_ns);

/*
 * Watches and transactions: Xen's xenstore has them; hv's store has
 * neither, and answers -EINVAL.
 *
 * store_watch: a change to key or a key below it queues the changed path
 * (Xen also queues key once when the watch is set). store_watch_wait takes
 * the next queued path into buf (its length, or -ERANGE), retrying every
 * STORE_POLL_NS until deadline_ns: then -ETIMEDOUT.
 *
 * A transaction sees one snapshot of the store: reads and writes with its
 * tx, then store_transaction_end commits them all (commit 1) or none
 * (commit 0); -EAGAIN when another change got in first: run it again.
 */
int store_watch(const char *key);
int store_unwatch(const char *key);
int store_watch_wait(char *buf, size_t size, uint64_t deadline_ns);
int store_transaction_start(uint32_t *tx);
int store_transaction_end(uint32_t tx, int commit);
int store_tx_read(uint32_t tx, const char *key, char *buf, size_t size);
int store_tx_write(uint32_t tx, const char *key, const char *value);
int store_tx_remove(uint32_t tx, const char *key);

/* "/local/domain/<dom>/<rel>" into buf; its length, or -ENAMETOOLONG. */
int store_domain_path(char *buf, size_t size, domid_t dom, const char *rel);

#endif /* LIBOS_STORE_H */
