/* SPDX-License-Identifier: MIT */
/*
 * The append-only log's device side: opening the disk (its superblock) and
 * replay at boot, and group commit. The on-disk format, and where replay
 * stops, are at the top of aof_record.h; rewrites are aof_rewrite.c's.
 *
 * A write command appends its record to the pending buffer (no I/O) and
 * its connection, before sending the reply, calls aof_wait() with the
 * record's ticket. One writer thread takes everything pending at once,
 * writes it with one request, then (appendfsync always) flushes the device
 * and wakes every connection whose records that covered. While it waits on
 * the device, other connections' records gather for the next batch: under
 * load one flush acknowledges many writes, and an idle log costs one write
 * and one flush per write. A write changes memory before its record is
 * durable, so other connections may read it before its writer hears +OK;
 * Redis behaves the same. What is never possible is an acknowledged write
 * that a crash or power cut takes back.
 *
 * A stream's pending buffer holds the device bytes [active_base, end): it
 * starts with the part of the log's last sector already written, so each
 * batch is whole sectors, the first of them rewritten with more bytes. The
 * writer swaps buffers before blocking, so appends never touch the bytes
 * being written. While a rewrite runs, each record also goes to the new
 * log (aof_rewrite.c says when and why). Built with -DKVSTORE_SKIP_FLUSH it
 * never flushes and behaves otherwise the same: the deliberately broken
 * build the power-loss test must catch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof_log.h"
#include "config.h"
#include "crc32.h"
#include "resp.h"

#define KEEP_BUF_BYTES (4u << 20) /* a batch buffer larger than this is given back after use */

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

/* --- streams ------------------------------------------------------------------------------ */

struct stream *stream_new(uint64_t start, uint64_t limit, struct aof_pos pos)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->start = start;
	s->limit = limit;
	s->pos = pos;
	s->active = &s->bufs[0];
	s->spare = &s->bufs[1];
	s->active_base = pos.offset - pos.offset % AOF_SECTOR;
	s->written = s->durable = pos.offset;
	/* The writer swaps in the spare with the last partial sector: it always has that room. */
	if (buf_reserve(s->spare, AOF_SECTOR) || buf_reserve(s->active, AOF_SECTOR)) {
		stream_free(s);
		return NULL;
	}
	return s;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	buf_free(&s->bufs[0]);
	buf_free(&s->bufs[1]);
	free(s);
}

uint64_t stream_size(const struct stream *s)
{
	return s->pos.offset - s->start;
}

uint64_t stream_room(const struct stream *s, bool frees)
{
	uint64_t room = s->limit - s->pos.offset;
	uint64_t keep = (s->limit - s->start) / KV_LOG_FREE_SHARE;

	if (keep > KV_LOG_FREE_RESERVE)
		keep = KV_LOG_FREE_RESERVE;
	if (frees)
		return room;
	return room > keep ? room - keep : 0;
}

int stream_reserve(struct stream *s, size_t bytes)
{
	/* A sector more than asked: the writer pads the batch to whole sectors in place. */
	if (buf_reserve(s->active, bytes + AOF_SECTOR)) {
		s->active->oom = false;
		return -ENOMEM;
	}
	return 0;
}

void stream_append(struct aof *l, struct stream *s, int argc, const struct kv_str *argv,
		   uint64_t ticket)
{
	struct buf *b = s->active;
	size_t len = resp_command_size(argc, argv), at = b->len;

	/* The reservation made the room; running out here would be a broken invariant. */
	if (b->cap - b->len < AOF_HEADER_BYTES + len + AOF_SECTOR ||
	    AOF_HEADER_BYTES + len > s->limit - s->pos.offset)
		panic("aof: record of %zu bytes beyond its reservation (buffer %zu of %zu)", len,
		      b->len, b->cap);
	b->len += AOF_HEADER_BYTES;
	resp_encode_command(b, argc, argv);
	aof_record_seal((uint8_t *)b->data + at, b->data + at + AOF_HEADER_BYTES, (uint32_t)len,
			l->boot, &s->pos);
	if (ticket)
		s->ticket = ticket;
}

/* Write everything pending as whole sectors, with one request. */
void stream_write(struct aof *l, struct stream *s)
{
	struct buf *b = s->active;
	uint64_t base = s->active_base, end = s->pos.offset, ticket = s->ticket;
	/* The last, partial sector is written again, with more, by the next batch. */
	uint64_t tail = end - end % AOF_SECTOR;
	size_t padded = (b->len + AOF_SECTOR - 1) / AOF_SECTOR * AOF_SECTOR;
	int rc;

	if (end == s->written) {
		s->written_ticket = ticket; /* every record appended is written */
		return;
	}
	/* The spare always has a sector's room (stream_new, and below), so this cannot fail. */
	s->spare->len = 0;
	buf_append(s->spare, b->data + (tail - base), (size_t)(end - tail));
	s->active = s->spare;
	s->active_base = tail;
	s->spare = b;

	memset(b->data + b->len, 0, padded - b->len); /* room reserved by stream_reserve() */
	s->busy = true;
	rc = blkdev_write(l->dev, base / AOF_SECTOR, b->data, padded / AOF_SECTOR);
	s->busy = false;
	if (rc)
		die("write", base, rc);
	s->written = end;
	s->written_ticket = ticket;
	l->batches++;
	if (b->cap > KEEP_BUF_BYTES) { /* one huge value must not pin its buffer forever */
		struct buf small = { 0 };

		if (buf_reserve(&small, AOF_SECTOR) == 0) {
			buf_free(b);
			*b = small;
		}
	}
}

void stream_flush(struct aof *l, struct stream *s)
{
	/* What the device had when the flush was asked. */
	uint64_t upto = s->written, ticket = s->written_ticket;

#ifndef KVSTORE_SKIP_FLUSH
	s->busy = true;
	int rc = blkdev_flush(l->dev);
	s->busy = false;

	if (rc)
		die("flush", upto, rc);
#endif
	s->durable = upto;
	s->durable_ticket = ticket;
	l->flushes++;
	l->last_flush_ns = clock_monotonic_ns();
}

void super_write(struct aof *l, const struct aof_super *sb)
{
	uint8_t sector[AOF_SECTOR];
	int rc;

	aof_super_encode(sb, sector);
	rc = blkdev_write(l->dev, 0, sector, 1);
	if (rc)
		die("superblock write", 0, rc);
}

/* --- the kv_log interface the commands see ------------------------------------------------ */

static int log_reserve(void *arg, size_t bytes, bool frees)
{
	struct aof *l = arg;
	int rc;

	if (bytes > AOF_PAYLOAD_MAX)
		return -ENOSPC;
	/* The committed log takes every record until a rewrite switches ... */
	if (!l->switched) {
		if (stream_room(l->cur, frees) < bytes)
			goto full;
		rc = stream_reserve(l->cur, bytes);
		if (rc)
			return rc;
	}
	/* ... and a rewrite's log each one too: if it cannot, the rewrite gives up (before S). */
	if (l->next) {
		rc = stream_room(l->next, frees) < bytes ? -ENOSPC : stream_reserve(l->next, bytes);
		if (rc == -ENOSPC && l->switched)
			goto full;
		if (rc && l->switched)
			return rc;
		if (rc)
			rewrite_abort(l, rc == -ENOSPC ? "its region filled up before it was done"
						       : "out of memory");
	}
	return 0;

full:
	l->refused++;
	rewrite_when_full(l);
	return -ENOSPC;
}

static uint64_t log_append(void *arg, int argc, const struct kv_str *argv)
{
	struct aof *l = arg;
	uint64_t ticket = ++l->tickets;

	if (!l->switched)
		stream_append(l, l->cur, argc, argv, ticket);
	if (l->next)
		stream_append(l, l->next, argc, argv, ticket);
	l->appended++;
	wait_queue_wake_one(&l->work);
	return ticket;
}

static int log_rewrite(void *arg, char *why, size_t len)
{
	return rewrite_start(arg, "BGREWRITEAOF", why, len);
}

static void log_info(void *arg, struct buf *out)
{
	const struct aof *l = arg;
	const struct stream *s = l->cur;
	char line[800];
	int n = snprintf(
		line, sizeof(line),
		"aof_device:%s\r\naof_device_size:%llu\r\naof_format:%d\r\naof_generation:%llu\r\n"
		"aof_region_start:%llu\r\naof_region_size:%llu\r\naof_current_size:%llu\r\n"
		"aof_end_offset:%llu\r\naof_written_size:%llu\r\naof_durable_size:%llu\r\n"
		"aof_boot:%u\r\naof_records_replayed:%llu\r\naof_records_appended:%llu\r\n"
		"aof_batches:%llu\r\naof_flushes:%llu\r\naof_writes_refused_full:%llu\r\n"
		"aof_flush_disabled:%d\r\n",
		blkdev_name(l->dev), (unsigned long long)l->capacity, l->format1 ? 1 : 2,
		(unsigned long long)(l->format1 ? 0 : l->sb.generation),
		(unsigned long long)s->start, (unsigned long long)(s->limit - s->start),
		(unsigned long long)stream_size(s), (unsigned long long)s->pos.offset,
		(unsigned long long)(s->written - s->start),
		(unsigned long long)(s->durable - s->start), l->boot,
		(unsigned long long)l->replayed, (unsigned long long)l->appended,
		(unsigned long long)l->batches, (unsigned long long)l->flushes,
		(unsigned long long)l->refused,
#ifdef KVSTORE_SKIP_FLUSH
		1
#else
		0
#endif
	);

	buf_append(out, line, (size_t)n);
	rewrite_info(l, out);
}

/* --- the writer --------------------------------------------------------------------------- */

void stream_ack(struct aof *l, struct stream *s)
{
	uint64_t upto = l->policy == AOF_FSYNC_ALWAYS ? s->durable_ticket : s->written_ticket;

	if (s == l->cur && upto > l->acked) {
		l->acked = upto;
		wait_queue_wake_all(&l->done);
	}
}

static bool flush_due(const struct aof *l, const struct stream *s)
{
	if (s->durable == s->written)
		return false;
	return l->policy == AOF_FSYNC_ALWAYS ||
	       (l->policy == AOF_FSYNC_EVERYSEC &&
		clock_monotonic_ns() >= l->last_flush_ns + KV_LOG_EVERYSEC_NS);
}

static void *writer(void *arg)
{
	struct aof *l = arg;

	for (;;) {
		struct stream *s = l->cur;

		if (s->pos.offset > s->written) {
			stream_write(l, s);
			stream_ack(l, s);
			wait_queue_wake_all(&l->quiet);
		}
		if (!s->retired && flush_due(l, s)) {
			stream_flush(l, s);
			stream_ack(l, s);
		}
		if (s->retired) { /* a rewrite committed while this was in flight */
			stream_free(s);
			continue;
		}
		rewrite_check(l);
		if (s == l->cur && s->pos.offset == s->written && !flush_due(l, s)) {
			bool timed = l->policy == AOF_FSYNC_EVERYSEC && s->durable < s->written;
			uint64_t deadline = timed ? l->last_flush_ns + KV_LOG_EVERYSEC_NS
						  : LIBOS_FOREVER;

			wait_queue_wait(&l->work, deadline);
		}
	}
	return NULL;
}

void aof_wait(uint64_t ticket)
{
	struct aof *l = &the_log;

	while (l->acked < ticket)
		wait_queue_wait(&l->done, LIBOS_FOREVER);
}

/* --- opening the disk, and replay --------------------------------------------------------- */

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
static int load_tail(struct aof *l, struct stream *s, bool *torn)
{
	uint8_t sec[2 * AOF_SECTOR];
	uint64_t base = s->active_base;
	size_t in = (size_t)(s->pos.offset - base);
	size_t n = s->limit - base >= 2 * AOF_SECTOR ? 2 : 1;
	int rc;

	*torn = false;
	if (base == s->limit)
		return 0; /* the log fills its region */
	rc = blkdev_read(l->dev, base / AOF_SECTOR, sec, n);
	if (rc)
		return rc;
	buf_append(s->active, sec, in);
	/* Anything but zeros where the next header would be: a torn or stale tail, discarded. */
	for (size_t i = in; i < n * AOF_SECTOR && i < in + AOF_HEADER_BYTES; i++)
		*torn |= sec[i] != 0;
	return s->active->oom ? -ENOMEM : 0;
}

/* A chain seed no earlier log on this disk is likely to have used. */
uint32_t aof_new_seed(void)
{
	static uint64_t draws;
	uint64_t v[3] = { clock_realtime_ns(), clock_monotonic_ns(), ++draws };
	uint32_t seed = crc32_update(0, v, sizeof(v));

	return seed ? seed : 1;
}

/*
 * Read sector 0 and decide where the log is: *start is the chain before its
 * first record, *limit its region's end. Formats a new disk, and counts this
 * life in the superblock (written and flushed before any record is).
 */
static int open_disk(struct aof *l, struct aof_pos *start, uint64_t *limit)
{
	uint8_t sector[AOF_SECTOR];
	int rc = blkdev_read(l->dev, 0, sector, 1);

	if (rc)
		return rc;
	switch (aof_disk_kind(sector, l->capacity, &l->sb)) {
	case AOF_DISK_FORMAT1:
		l->format1 = true;
		*start = (struct aof_pos){ 0 };
		*limit = l->capacity;
		return 0;
	case AOF_DISK_DAMAGED:
		printf("kvstore: log: %s has a damaged superblock (or one for a larger disk); "
		       "not touching it\n",
		       blkdev_name(l->dev));
		return -EINVAL;
	case AOF_DISK_NEW:
		if (aof_super_new(&l->sb, l->capacity, aof_new_seed())) {
			printf("kvstore: log: %s is smaller than %u bytes\n", blkdev_name(l->dev),
			       AOF_DEVICE_MIN);
			return -ENOSPC;
		}
		printf("kvstore: log: %s holds no log: formatting it (two regions of %llu KiB)\n",
		       blkdev_name(l->dev), (unsigned long long)(l->sb.bytes[0] >> 10));
		break;
	case AOF_DISK_SUPER:
		break;
	}
	l->sb.boots++;
	super_write(l, &l->sb);
#ifndef KVSTORE_SKIP_FLUSH
	rc = blkdev_flush(l->dev);
	if (rc)
		die("flush", 0, rc);
#endif
	*start = (struct aof_pos){ .offset = l->sb.start[l->sb.active], .crc = l->sb.seed };
	*limit = l->sb.start[l->sb.active] + l->sb.bytes[l->sb.active];
	return 0;
}

int aof_start(struct kv_server *srv, struct blkdev *dev, enum aof_fsync policy)
{
	struct aof *l = &the_log;
	struct replay r = { .srv = srv, .now_ms = (int64_t)(clock_realtime_ns() / 1000000) };
	struct aof_replay how = { .chunk = KV_LOG_READ_CHUNK, .read = replay_read,
				  .apply = replay_apply, .arg = &r };
	uint64_t t0 = clock_monotonic_ns();
	struct aof_pos end;
	bool torn;
	int rc;

	if (blkdev_sector_size(dev) != AOF_SECTOR || blkdev_read_only(dev)) {
		printf(
		    "kvstore: log: %s is %s; the log needs a writable disk of 512-byte sectors\n",
		    blkdev_name(dev), blkdev_read_only(dev) ? "read-only" : "not 512-byte sectors");
		return -EINVAL;
	}
	l->dev = dev;
	l->srv = srv;
	l->policy = policy;
	l->capacity = blkdev_sectors(dev) * AOF_SECTOR;
	rc = open_disk(l, &how.start, &how.limit);
	if (rc)
		return rc;
	resp_parser_init(&r.parser);
	rc = aof_replay(&how, &end, &l->replayed);
	resp_parser_free(&r.parser);
	buf_free(&r.scratch);
	if (rc) {
		printf("kvstore: log: replay stopped at byte %llu, after %llu records: %s\n",
		       (unsigned long long)end.offset, (unsigned long long)l->replayed,
		       strerror(-rc));
		return rc;
	}
	l->cur = stream_new(how.start.offset, how.limit, end);
	if (!l->cur)
		return -ENOMEM;
	rc = load_tail(l, l->cur, &torn);
	if (rc)
		return rc;
	l->boot = l->format1 ? end.boot + 1 : (uint32_t)l->sb.boots;
	l->rw.base_size = l->rw.tried_at = stream_size(l->cur);
	l->last_flush_ns = clock_monotonic_ns();
	l->ops = (struct kv_log){ log_reserve, log_append, log_info, log_rewrite, l };
	printf("kvstore: log on %s (%llu KiB, format %d, region of %llu KiB at %llu): %llu "
	       "records replayed in %llu ms; %sappending at byte %llu as boot %u, appendfsync %s\n",
	       blkdev_name(dev), (unsigned long long)(l->capacity >> 10), l->format1 ? 1 : 2,
	       (unsigned long long)((how.limit - how.start.offset) >> 10),
	       (unsigned long long)how.start.offset, (unsigned long long)l->replayed,
	       (unsigned long long)((clock_monotonic_ns() - t0) / 1000000),
	       torn ? "a torn or stale tail after them was discarded; " : "",
	       (unsigned long long)end.offset, l->boot, aof_fsync_name(policy));
#ifdef KVSTORE_SKIP_FLUSH
	printf("kvstore: built with KVSTORE_SKIP_FLUSH: the log is never flushed, acknowledged "
	       "writes are NOT durable (a test build)\n");
#endif
#ifdef KVSTORE_EARLY_COMMIT
	printf("kvstore: built with KVSTORE_EARLY_COMMIT: a rewrite commits before its log is "
	       "flushed, a power cut then may lose acknowledged writes (a test build)\n");
#endif
	struct thread *t = thread_create("aof-writer", writer, l, 0);
	if (!t)
		return -errno;
	thread_detach(t);
	srv->log = &l->ops;
	return 0;
}
