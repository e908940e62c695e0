/* SPDX-License-Identifier: MIT */
/*
 * A rewrite's snapshot: the keyspace as write commands whose replay
 * recreates it: MSET for keys without an expiry, many pairs to a command,
 * and SET key value PXAT <ms> for each key with one. Host-buildable.
 *
 * It is taken a step at a time, and the keyspace may change between steps
 * (aof_rewrite.c lets the connections run while it writes). Every command a
 * step reads is emitted before the step returns: the caller appends it to
 * the new log at once, in line with the records of the writes that come
 * between steps, so the new log is in time order. Each snapshot command
 * then holds a key's value as of its place in the log, and replaying the
 * log ends with each key's last value, whether or not a write changed it
 * after the rewrite began. The scan (db_scan) reports every key present
 * from the first step to the last at least once; a key added or removed
 * in between has the record of that write after the step that began.
 */
#ifndef KVSTORE_AOF_SNAPSHOT_H
#define KVSTORE_AOF_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "reply.h"

/* Takes one command; argv points into the keyspace, valid during the call. 0 or -errno. */
typedef int (*aof_snapshot_emit_fn)(void *arg, int argc, const struct kv_str *argv);

struct aof_snapshot {
	aof_snapshot_emit_fn emit;
	void *arg;
	size_t mset_bytes; /* an MSET is emitted once its keys and values pass this */
	uint64_t cursor;   /* db_scan's */
	bool done;
	int error;         /* the first emit's, or -ENOMEM */
	struct kv_str *argv; /* the MSET being gathered: "MSET", then keys and values */
	int argc, cap;
	size_t bytes;
	char at[24];       /* a SET's PXAT argument */
	uint64_t keys, commands; /* emitted so far */
};

void aof_snapshot_init(struct aof_snapshot *s, aof_snapshot_emit_fn emit, void *arg,
		       size_t mset_bytes);
void aof_snapshot_free(struct aof_snapshot *s);

/*
 * Read about count more keys of db (live at now_ms) and emit their commands.
 * Returns 1 while keys remain, 0 once the whole keyspace has been emitted,
 * or the -errno that stopped it (and stops every later step).
 */
int aof_snapshot_step(struct aof_snapshot *s, const struct db *db, size_t count, int64_t now_ms);

#endif /* KVSTORE_AOF_SNAPSHOT_H */
