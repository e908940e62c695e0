/* SPDX-License-Identifier: MIT */
/*
 * Log rewrites (compaction): on BGREWRITEAOF, when the log has grown past
 * its threshold (auto-aof-rewrite-*), and when a write finds it full. The
 * new log goes into the region the committed log is not in (the layout is
 * at the top of aof_record.h) while the connections go on writing:
 *
 *  1. Start, at time T: a new stream at the other region's start, with a
 *     chain seed of its own. From now on log_append() (aof.c) seals every
 *     client record into both logs, each into its own chain. Replies still
 *     wait for the old log only.
 *  2. Snapshot: the keyspace a step at a time (aof_snapshot.h), each step's
 *     commands appended to the new log at once, between the client records,
 *     so that the new log is in time order; written out whenever
 *     KV_REWRITE_WRITE_BYTES are pending. Connections run between steps.
 *  3. Switch, at S: the snapshot is complete. From here on client records
 *     go to the new log only, and their replies wait for the commit.
 *  4. Commit: write what the new log has pending, flush, wait until the
 *     writer has written the old log to its end (no write to it is pending
 *     or in flight, so none can land after the commit: a format-1 log's may
 *     be in sector 0), write the superblock naming the new region with the
 *     next generation, flush. The writer (aof.c) then owns the new log; the
 *     old region is where the next rewrite goes.
 *
 * Nothing acknowledged is lost: a reply goes out once its record is durable
 * in the committed log. Until the superblock write reaches the disk, a
 * replay reads the old log, which has every record acknowledged so far
 * (none after S is, yet). From then on it reads the new log, which was
 * flushed up to S and beyond before the superblock was written: the
 * snapshot, holding every write before T (in memory before T, acknowledged
 * or not), and the record of every write since T.
 *
 * Nothing superseded comes back: replaying the new log ends with each key's
 * last value (aof_snapshot.h); the bytes past its end in its region, left by
 * older logs or aborted rewrites, cannot continue its chain (a fresh seed);
 * and the old region is not read again.
 *
 * A rewrite gives up when its region fills (the data does not fit in half
 * the disk) or memory runs out, before S; the old log goes on as if it had
 * never started. Built with -DKVSTORE_EARLY_COMMIT it writes the superblock
 * before flushing the new log: the deliberately broken build the rewrite's
 * power-cut test must catch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof_log.h"
#include "config.h"

static int64_t now_ms(void)
{
	return (int64_t)(clock_realtime_ns() / 1000000);
}

static unsigned long long kib(uint64_t bytes)
{
	return (unsigned long long)((bytes + 1023) >> 10);
}

/* The snapshot's commands, into the new log. */
static int emit(void *arg, int argc, const struct kv_str *argv)
{
	struct aof *l = arg;
	size_t bytes = AOF_HEADER_BYTES + resp_command_size(argc, argv);

	if (!l->next)
		return -ECANCELED; /* given up meanwhile (rewrite_abort) */
	if (stream_room(l->next, true) < bytes)
		return -ENOSPC;
	if (stream_reserve(l->next, bytes))
		return -ENOMEM;
	stream_append(l, l->next, argc, argv, 0);
	return 0;
}

/* The rewrite is over, one way or the other. */
static void finish(struct aof *l, struct stream *next, bool ok)
{
	struct rewrite *rw = &l->rw;
	uint64_t ms = (clock_monotonic_ns() - rw->start_ns) / 1000000;

	rw->last_ok = ok;
	rw->last_ns = clock_monotonic_ns() - rw->start_ns;
	rw->running = false;
	if (ok) {
		rw->done++;
		rw->last_keys = rw->snap.keys;
		rw->base_size = rw->tried_at = rw->last_after = stream_size(next);
		printf("kvstore: log rewritten (%s): %llu keys, %llu KiB -> %llu KiB in %llu ms; "
		       "generation %llu in region %u at byte %llu\n",
		       rw->cause, (unsigned long long)rw->last_keys, kib(rw->last_before),
		       kib(rw->last_after), (unsigned long long)ms,
		       (unsigned long long)l->sb.generation, l->sb.active,
		       (unsigned long long)next->start);
	} else {
		rw->failed++;
		/* Not again until the log grows as much once more. */
		rw->base_size = rw->tried_at = stream_size(l->cur);
		stream_free(next);
		printf("kvstore: log rewrite (%s) given up after %llu ms: %s; the log goes on "
		       "where it was\n",
		       rw->cause, (unsigned long long)ms, rw->failure);
	}
	aof_snapshot_free(&rw->snap);
}

/* Steps 3 and 4: switch, flush, and make the new log the committed one. */
static void commit(struct aof *l, struct stream *next)
{
	struct rewrite *rw = &l->rw;
	struct stream *old = l->cur;

	rw->last_before = stream_size(old);
	l->switched = true;
	stream_write(l, next);
#ifndef KVSTORE_EARLY_COMMIT
	stream_flush(l, next);
#endif
	while (old->written < old->pos.offset) /* its writes set written once they are back */
		wait_queue_wait(&l->quiet, LIBOS_FOREVER);
	/* The commit point: once this sector is on the disk, replay reads the new log. */
	super_write(l, &rw->sb);
	stream_flush(l, next);

	l->sb = rw->sb;
	l->format1 = false;
	l->cur = next;
	l->next = NULL;
	l->switched = false;
	if (old->busy)
		old->retired = true; /* the writer frees it when its I/O is back */
	else
		stream_free(old);
	stream_ack(l, next);
	wait_queue_wake_one(&l->work); /* records since S are pending: the writer's now */
	finish(l, next, true);
}

/* Step 2, then 3 and 4. */
static void *rewriter(void *arg)
{
	struct aof *l = arg;
	struct rewrite *rw = &l->rw;
	struct stream *next = l->next;
	int rc = 0;

	while (!rw->abort && (rc = aof_snapshot_step(&rw->snap, &l->srv->db, KV_REWRITE_SCAN_KEYS,
						     now_ms())) > 0) {
		if (next->pos.offset - next->written >= KV_REWRITE_WRITE_BYTES)
			stream_write(l, next); /* the connections run meanwhile */
		else
			thread_yield();
	}
	if (!rw->abort && rc < 0)
		rewrite_abort(l, rc == -ENOSPC ? "the data does not fit in the other region"
					       : "out of memory");
	if (rw->abort)
		finish(l, next, false);
	else
		commit(l, next);
	return NULL;
}

void rewrite_abort(struct aof *l, const char *why)
{
	struct rewrite *rw = &l->rw;

	if (!rw->running || l->switched || rw->abort)
		return;
	rw->abort = true;
	rw->failure = why;
	l->next = NULL; /* records stop going there now; the rewrite frees it */
	if (l->format1)
		l->cur->limit = rw->old_limit;
}

int rewrite_start(struct aof *l, const char *cause, char *why, size_t len)
{
	struct rewrite *rw = &l->rw;
	struct aof_super sb = l->sb;
	uint32_t seed = aof_new_seed();
	struct stream *next;
	struct thread *t;

	if (rw->running)
		return -EALREADY;
	if (l->format1) {
		/* The first rewrite of a format-1 disk lays out the regions and takes region 1. */
		if (aof_super_new(&sb, l->capacity, seed)) {
			snprintf(why, len, "the disk is too small for two regions");
			return -ENOSPC;
		}
		if (l->cur->pos.offset > sb.start[1]) {
			snprintf(why, len,
				 "the format-1 log reaches past the middle of the disk, where the "
				 "new log would go");
			return -ENOSPC;
		}
		sb.active = 1;
		sb.boots = l->boot;
	} else {
		sb.active = 1 - sb.active;
		sb.generation++;
		sb.seed = seed;
	}
	next = stream_new(sb.start[sb.active], sb.start[sb.active] + sb.bytes[sb.active],
			  (struct aof_pos){ .offset = sb.start[sb.active], .crc = seed });
	if (!next) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	t = thread_create("aof-rewrite", rewriter, l, 0);
	if (!t) {
		stream_free(next);
		snprintf(why, len, "out of memory for its thread");
		return -ENOMEM;
	}
	thread_detach(t);
	/* Once the snapshot is complete, it holds every write so far. */
	next->ticket = l->tickets;
	if (l->format1) { /* the old log may not grow into the new one's region */
		rw->old_limit = l->cur->limit;
		l->cur->limit = sb.start[1];
	}
	l->next = next;
	rw->sb = sb;
	rw->running = true;
	rw->abort = false;
	rw->cause = cause;
	rw->start_ns = clock_monotonic_ns();
	aof_snapshot_init(&rw->snap, emit, l, KV_REWRITE_MSET_BYTES);
	return 0;
}

void rewrite_check(struct aof *l)
{
	struct rewrite *rw = &l->rw;
	uint64_t size = stream_size(l->cur), base = rw->base_size;
	unsigned pct = l->srv->rewrite_percentage;
	char why[160];

	if (rw->running || pct == 0 || size < l->srv->rewrite_min_bytes || size <= base ||
	    (size - base) * 100 < base * pct)
		return;
	if (rewrite_start(l, "auto", why, sizeof(why))) {
		printf("kvstore: log: no automatic rewrite: %s\n", why);
		rw->base_size = size; /* not again until it grows as much once more */
	}
}

void rewrite_when_full(struct aof *l)
{
	char why[160];

	/* Only when something was appended since the last rewrite, which may be freed. */
	if (l->rw.running || l->srv->rewrite_percentage == 0 ||
	    stream_size(l->cur) <= l->rw.tried_at)
		return;
	if (rewrite_start(l, "disk full", why, sizeof(why))) {
		printf("kvstore: log: full, and no rewrite: %s\n", why);
		l->rw.tried_at = stream_size(l->cur);
	}
}

void rewrite_info(const struct aof *l, struct buf *out)
{
	const struct rewrite *rw = &l->rw;
	bool any = rw->done + rw->failed > 0;
	char line[800];
	int n = snprintf(
		line, sizeof(line),
		"aof_rewrite_in_progress:%d\r\naof_rewrites:%llu\r\naof_rewrites_failed:%llu\r\n"
		"aof_last_bgrewrite_status:%s\r\naof_last_rewrite_cause:%s\r\n"
		"aof_last_rewrite_time_sec:%lld\r\naof_last_rewrite_ms:%lld\r\n"
		"aof_current_rewrite_time_sec:%lld\r\naof_last_rewrite_size_before:%llu\r\n"
		"aof_last_rewrite_size_after:%llu\r\naof_last_rewrite_keys:%llu\r\n"
		"aof_base_size:%llu\r\n",
		rw->running, (unsigned long long)rw->done, (unsigned long long)rw->failed,
		!any || rw->last_ok ? "ok" : "err", any || rw->running ? rw->cause : "none",
		any ? (long long)(rw->last_ns / 1000000000) : -1LL,
		any ? (long long)(rw->last_ns / 1000000) : -1LL,
		rw->running ? (long long)((clock_monotonic_ns() - rw->start_ns) / 1000000000)
			    : -1LL,
		(unsigned long long)rw->last_before, (unsigned long long)rw->last_after,
		(unsigned long long)rw->last_keys, (unsigned long long)rw->base_size);

	buf_append(out, line, (size_t)n);
	if (any && !rw->last_ok) {
		n = snprintf(line, sizeof(line), "aof_last_rewrite_error:%s\r\n", rw->failure);
		buf_append(out, line, (size_t)n);
	}
}
