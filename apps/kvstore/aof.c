/* SPDX-License-Identifier: MIT */
/*
 * The append-only log's device side: replay at boot, and group commit.
 * The on-disk format, and where replay stops, are at the top of
 * aof_record.h.
 *
 * A write command appends its record to the pending buffer (no I/O) and
 * its connection, before sending the reply, calls aof_wait() with the
 * record's end. One writer thread takes everything pending at once, writes
 * it with one request, then (appendfsync always) flushes the device and
 * wakes every connection whose records that covered. While it waits on the
 * device, other connections' records gather for the next batch: under load
 * one flush acknowledges many writes, and an idle log costs one write and
 * one flush per write. A write changes memory before its record is
 * durable, so other connections may read it before its writer hears +OK;
 * Redis behaves the same. What is never possible is an acknowledged write
 * that a crash or power cut takes back.
 *
 * The pending buffer holds the device bytes [active_base, end): it starts
 * with the part of the log's last sector already written, so each batch is
 * whole sectors, the first of them rewritten with more bytes. The writer
 * swaps buffers before blocking, so appends never touch the bytes being
 * written. Built with -DKVSTORE_SKIP_FLUSH it never flushes and behaves
 * otherwise the same: the deliberately broken build the power-loss test
 * must catch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "aof_record.h"
#include "config.h"
#include "libos.h"
#include "resp.h"

#define KEEP_BUF_BYTES (4u << 20) /* a batch buffer larger than this is given back after use */

struct aof {
	struct blkdev *dev;
	enum aof_fsync policy;
	uint64_t capacity; /* device bytes */
	uint32_t boot;     /* this life's number, in every record it writes */
	struct aof_pos pos; /* after the last appended record: pos.offset is the log's end */
	struct buf bufs[2], *active, *spare;
	uint64_t active_base; /* device offset of active->data[0], sector-aligned */
	uint64_t written;     /* the device has every byte before this */
	uint64_t durable;     /* ... and has flushed every byte before this */
	uint64_t last_flush_ns;
	struct wait_queue work; /* the writer waits here for records */
	struct wait_queue done; /* connections wait here for written and durable */
	uint64_t replayed, appended, batches, flushes;
	struct kv_log ops;
};

static struct aof the_log; /* one log per appliance */

const char *aof_fsync_name(enum aof_fsync policy)
{
	return policy == AOF_FSYNC_ALWAYS     ? "always"
	       : policy == AOF_FSYNC_EVERYSEC ? "everysec"
					      : "no";
}

/* A device error after writes were accepted: stop, rather than acknowledge what may be lost. */
static _Noreturn void die(const char *what, uint64_t offset, int rc)
{
	printf("kvstore: log: %s at byte %llu failed: %s; stopping so that no write is "
	       "acknowledged that the disk may not have\n",
	       what, (unsigned long long)offset, strerror(-rc));
	fflush(stdout);
	exit(3);
}

/* --- the kv_log interface the commands see --------------------------------------------- */

static int log_reserve(void *arg, size_t bytes)
{
	struct aof *l = arg;

	if (bytes > AOF_PAYLOAD_MAX || bytes > l->capacity - l->pos.offset)
		return -ENOSPC;
	/* A sector more than asked: the writer pads the batch to whole sectors in place. */
	if (buf_reserve(l->active, bytes + AOF_SECTOR)) {
		l->active->oom = false;
		return -ENOMEM;
	}
	return 0;
}

static uint64_t log_append(void *arg, int argc, const struct kv_str *argv)
{
	struct aof *l = arg;
	struct buf *b = l->active;
	size_t len = resp_command_size(argc, argv), at = b->len;

	/* log_reserve() made the room; running out here would be a broken invariant. */
	if (b->cap - b->len < AOF_HEADER_BYTES + len + AOF_SECTOR ||
	    AOF_HEADER_BYTES + len > l->capacity - l->pos.offset)
		panic("aof: record of %zu bytes beyond its reservation (buffer %zu of %zu)", len,
		      b->len, b->cap);
	b->len += AOF_HEADER_BYTES;
	resp_encode_command(b, argc, argv);
	aof_record_seal((uint8_t *)b->data + at, b->data + at + AOF_HEADER_BYTES, (uint32_t)len,
			l->boot, &l->pos);
	l->appended++;
	wait_queue_wake_one(&l->work);
	return l->pos.offset;
}

static void log_info(void *arg, struct buf *out)
{
	const struct aof *l = arg;
	char s[640];
	int n = snprintf(
		s, sizeof(s),
		"aof_device:%s\r\naof_device_size:%llu\r\naof_current_size:%llu\r\n"
		"aof_written_size:%llu\r\naof_durable_size:%llu\r\naof_boot:%u\r\n"
		"aof_records_replayed:%llu\r\naof_records_appended:%llu\r\naof_batches:%llu\r\n"
		"aof_flushes:%llu\r\naof_flush_disabled:%d\r\n",
		blkdev_name(l->dev), (unsigned long long)l->capacity,
		(unsigned long long)l->pos.offset, (unsigned long long)l->written,
		(unsigned long long)l->durable, l->boot, (unsigned long long)l->replayed,
		(unsigned long long)l->appended, (unsigned long long)l->batches,
		(unsigned long long)l->flushes,
#ifdef KVSTORE_SKIP_FLUSH
		1
#else
		0
#endif
	);

	buf_append(out, s, (size_t)n);
}

/* --- the writer ------------------------------------------------------------------------ */

/* Write everything pending as whole sectors, with one request. */
static void write_batch(struct aof *l)
{
	struct buf *b = l->active;
	uint64_t base = l->active_base, end = l->pos.offset;
	/* The last, partial sector is written again, with more, by the next batch. */
	uint64_t tail = end - end % AOF_SECTOR;
	size_t padded = (b->len + AOF_SECTOR - 1) / AOF_SECTOR * AOF_SECTOR;
	int rc;

	/* The spare always has a sector's room (aof_start, and below), so this cannot fail. */
	l->spare->len = 0;
	buf_append(l->spare, b->data + (tail - base), (size_t)(end - tail));
	l->active = l->spare;
	l->active_base = tail;
	l->spare = b;

	memset(b->data + b->len, 0, padded - b->len); /* room reserved by log_reserve() */
	rc = blkdev_write(l->dev, base / AOF_SECTOR, b->data, padded / AOF_SECTOR);
	if (rc)
		die("write", base, rc);
	l->written = end;
	l->batches++;
	if (b->cap > KEEP_BUF_BYTES) { /* one huge value must not pin its buffer forever */
		struct buf small = { 0 };

		if (buf_reserve(&small, AOF_SECTOR) == 0) {
			buf_free(b);
			*b = small;
		}
	}
}

static void flush(struct aof *l)
{
	uint64_t upto = l->written; /* what the device had when the flush was asked */

#ifndef KVSTORE_SKIP_FLUSH
	int rc = blkdev_flush(l->dev);

	if (rc)
		die("flush", upto, rc);
#endif
	l->durable = upto;
	l->flushes++;
	l->last_flush_ns = clock_monotonic_ns();
}

static bool flush_due(const struct aof *l)
{
	if (l->durable == l->written)
		return false;
	return l->policy == AOF_FSYNC_ALWAYS ||
	       (l->policy == AOF_FSYNC_EVERYSEC &&
		clock_monotonic_ns() >= l->last_flush_ns + KV_LOG_EVERYSEC_NS);
}

static void *writer(void *arg)
{
	struct aof *l = arg;

	for (;;) {
		if (l->pos.offset > l->written) {
			write_batch(l);
			if (l->policy != AOF_FSYNC_ALWAYS)
				wait_queue_wake_all(&l->done);
		}
		if (flush_due(l)) {
			flush(l);
			if (l->policy == AOF_FSYNC_ALWAYS)
				wait_queue_wake_all(&l->done);
		}
		if (l->pos.offset == l->written && !flush_due(l)) {
			bool timed = l->policy == AOF_FSYNC_EVERYSEC && l->durable < l->written;
			uint64_t deadline = timed ? l->last_flush_ns + KV_LOG_EVERYSEC_NS
						  : LIBOS_FOREVER;

			wait_queue_wait(&l->work, deadline);
		}
	}
	return NULL;
}

void aof_wait(uint64_t offset)
{
	struct aof *l = &the_log;

	while ((l->policy == AOF_FSYNC_ALWAYS ? l->durable : l->written) < offset)
		wait_queue_wait(&l->done, LIBOS_FOREVER);
}

/* --- replay ---------------------------------------------------------------------------- */

struct replay {
	struct kv_server *srv;
	struct resp_parser parser;
	struct buf scratch; /* the replies, looked at for errors only */
	int64_t now_ms;
};

static int replay_read(void *arg, uint64_t offset, void *buf, size_t len)
{
	(void)arg;
	return blkdev_read(the_log.dev, offset / AOF_SECTOR, buf, len / AOF_SECTOR);
}

/* Run one record's command as if a client sent it; a record that checks but fails stops it. */
static int replay_apply(void *arg, const uint8_t *payload, uint32_t len, uint64_t seq)
{
	struct replay *r = arg;
	struct kv_client c = { .srv = r->srv, .out = &r->scratch, .now_ms = r->now_ms,
			       .replaying = true };
	int rc;

	resp_parser_reset(&r->parser);
	rc = resp_parse(&r->parser, (const char *)payload, len);
	if (rc != RESP_DONE || r->parser.pos != len || r->parser.argc == 0) {
		printf("kvstore: log: record %llu has a valid checksum but is not one command\n",
		       (unsigned long long)seq);
		return -EINVAL;
	}
	buf_reset(&r->scratch, 64 << 10);
	command_run(&c, r->parser.argc, r->parser.argv);
	if (r->scratch.len && r->scratch.data[0] == '-') {
		printf("kvstore: log: record %llu (%.*s) failed: %.*s\n", (unsigned long long)seq,
		       (int)(r->parser.argv[0].len < 32 ? r->parser.argv[0].len : 32),
		       r->parser.argv[0].ptr, (int)(r->scratch.len - 3), r->scratch.data + 1);
		return r->scratch.data[1] == 'O' ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/* Load the log's last partial sector into the pending buffer; say whether a tail was cut. */
static int load_tail(struct aof *l, bool *torn)
{
	uint8_t sec[2 * AOF_SECTOR];
	uint64_t base = l->pos.offset - l->pos.offset % AOF_SECTOR;
	size_t in = (size_t)(l->pos.offset - base);
	size_t n = l->capacity - base >= 2 * AOF_SECTOR ? 2 : 1;
	int rc;

	*torn = false;
	l->active_base = base;
	if (base == l->capacity)
		return 0; /* the log fills the device */
	rc = blkdev_read(l->dev, base / AOF_SECTOR, sec, n);
	if (rc)
		return rc;
	buf_append(l->active, sec, in);
	/* Anything but zeros where the next header would be: a torn or stale tail, discarded. */
	for (size_t i = in; i < n * AOF_SECTOR && i < in + AOF_HEADER_BYTES; i++)
		*torn |= sec[i] != 0;
	return l->active->oom ? -ENOMEM : 0;
}

int aof_start(struct kv_server *srv, struct blkdev *dev, enum aof_fsync policy)
{
	struct aof *l = &the_log;
	struct replay r = { .srv = srv, .now_ms = (int64_t)(clock_realtime_ns() / 1000000) };
	struct aof_replay how = { .chunk = KV_LOG_READ_CHUNK, .read = replay_read,
				  .apply = replay_apply, .arg = &r };
	uint64_t t0 = clock_monotonic_ns();
	bool torn;
	int rc;

	if (blkdev_sector_size(dev) != AOF_SECTOR || blkdev_read_only(dev)) {
		printf(
		    "kvstore: log: %s is %s; the log needs a writable disk of 512-byte sectors\n",
		    blkdev_name(dev), blkdev_read_only(dev) ? "read-only" : "not 512-byte sectors");
		return -EINVAL;
	}
	l->dev = dev;
	l->policy = policy;
	l->capacity = blkdev_sectors(dev) * AOF_SECTOR;
	l->active = &l->bufs[0];
	l->spare = &l->bufs[1];
	how.capacity = l->capacity;
	resp_parser_init(&r.parser);
	rc = aof_replay(&how, &l->pos, &l->replayed);
	resp_parser_free(&r.parser);
	buf_free(&r.scratch);
	if (rc) {
		printf("kvstore: log: replay stopped at byte %llu, after %llu records: %s\n",
		       (unsigned long long)l->pos.offset, (unsigned long long)l->replayed,
		       strerror(-rc));
		return rc;
	}
	if (buf_reserve(l->spare, AOF_SECTOR) || buf_reserve(l->active, AOF_SECTOR))
		return -ENOMEM;
	rc = load_tail(l, &torn);
	if (rc)
		return rc;
	l->boot = l->pos.boot + 1;
	l->written = l->durable = l->pos.offset;
	l->last_flush_ns = clock_monotonic_ns();
	l->ops = (struct kv_log){ log_reserve, log_append, log_info, l };
	printf("kvstore: log on %s (%llu KiB): %llu records replayed in %llu ms; %s"
	       "appending at byte %llu as boot %u, appendfsync %s\n",
	       blkdev_name(dev), (unsigned long long)(l->capacity >> 10),
	       (unsigned long long)l->replayed,
	       (unsigned long long)((clock_monotonic_ns() - t0) / 1000000),
	       torn ? "a torn tail after them was discarded; " : "",
	       (unsigned long long)l->pos.offset, l->boot, aof_fsync_name(policy));
#ifdef KVSTORE_SKIP_FLUSH
	printf("kvstore: built with KVSTORE_SKIP_FLUSH: the log is never flushed, acknowledged "
	       "writes are NOT durable (a test build)\n");
#endif
	struct thread *t = thread_create("aof-writer", writer, l, 0);
	if (!t)
		return -errno;
	thread_detach(t);
	srv->log = &l->ops;
	return 0;
}
