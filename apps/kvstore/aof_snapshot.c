/* SPDX-License-Identifier: MIT */
/* The keyspace as MSET and SET ... PXAT commands, a scan step at a time (aof_snapshot.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "aof_snapshot.h"

void aof_snapshot_init(struct aof_snapshot *s, aof_snapshot_emit_fn emit, void *arg,
		       size_t mset_bytes)
{
	*s = (struct aof_snapshot){ .emit = emit, .arg = arg, .mset_bytes = mset_bytes };
}

void aof_snapshot_free(struct aof_snapshot *s)
{
	free(s->argv);
	s->argv = NULL;
	s->argc = s->cap = 0;
}

static void emit(struct aof_snapshot *s, int argc, const struct kv_str *argv)
{
	int rc;

	if (s->error)
		return;
	rc = s->emit(s->arg, argc, argv);
	if (rc)
		s->error = rc;
	s->commands++;
}

/* Send the MSET gathered so far, if it has a pair. */
static void emit_mset(struct aof_snapshot *s)
{
	if (s->argc > 1)
		emit(s, s->argc, s->argv);
	s->argc = 0;
	s->bytes = 0;
}

static void add_pair(struct aof_snapshot *s, const struct db_entry *e)
{
	if (s->argc + 2 > s->cap) {
		int cap = s->cap ? 2 * s->cap : 64;
		struct kv_str *a = realloc(s->argv, (size_t)cap * sizeof(*a));

		if (!a) {
			s->error = -ENOMEM;
			return;
		}
		s->argv = a;
		s->cap = cap;
	}
	if (s->argc == 0)
		s->argv[s->argc++] = (struct kv_str){ "MSET", 4 };
	s->argv[s->argc++] = (struct kv_str){ e->key, e->klen };
	s->argv[s->argc++] = (struct kv_str){ e->val, e->vlen };
	s->bytes += e->klen + e->vlen;
	if (s->bytes >= s->mset_bytes)
		emit_mset(s);
}

/* db_scan's callback: one live entry. */
static void take(void *arg, const struct db_entry *e)
{
	struct aof_snapshot *s = arg;

	if (s->error)
		return;
	s->keys++;
	if (e->expire_ms == DB_NO_EXPIRY) {
		add_pair(s, e);
		return;
	}
	struct kv_str set[5] = { { "SET", 3 }, { e->key, e->klen }, { e->val, e->vlen },
				 { "PXAT", 4 }, { s->at, 0 } };
	set[4].len = (size_t)snprintf(s->at, sizeof(s->at), "%lld", (long long)e->expire_ms);
	emit(s, 5, set);
}

int aof_snapshot_step(struct aof_snapshot *s, const struct db *db, size_t count, int64_t now_ms)
{
	if (s->error || s->done)
		return s->error;
	s->cursor = db_scan(db, s->cursor, count, now_ms, take, s);
	/* Nothing read may wait past the step: a write after it must follow it in the log. */
	emit_mset(s);
	s->done = s->cursor == 0;
	return s->error ? s->error : !s->done;
}
