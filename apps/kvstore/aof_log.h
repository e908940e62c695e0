/* SPDX-License-Identifier: MIT */
/*
 * What aof.c and aof_rewrite.c share: the log's state and its streams'
 * I/O. Private to those two files; the appliance uses aof.h.
 */
#ifndef KVSTORE_AOF_LOG_H
#define KVSTORE_AOF_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "aof.h"
#include "aof_record.h"
#include "aof_snapshot.h"
#include "blkdev.h"
#include "libos.h"
#include "reply.h"

/*
 * One log being appended to, in one region, and its writes in flight.
 * Device offsets throughout. A stream is written by one thread at a time:
 * the committed log's by the writer (aof.c), a rewrite's new log by the
 * rewrite until it commits (aof_rewrite.c).
 */
struct stream {
	uint64_t start, limit; /* its region; a format-1 log's is [0, the device's end) */
	struct aof_pos pos;    /* after the last appended record: pos.offset is the log's end */
	struct buf bufs[2], *active, *spare;
	uint64_t active_base; /* device offset of active->data[0], sector-aligned */
	uint64_t written;     /* the device has every byte before this */
	uint64_t durable;     /* ... and has flushed every byte before this */
	/* Tickets (struct aof): the last appended here, and the last written and flushed. */
	uint64_t ticket, written_ticket, durable_ticket;
	bool busy;    /* a write or flush of it is in flight */
	bool retired; /* replaced by a rewrite's log while busy: freed once idle */
};

/* A rewrite (aof_rewrite.c): the one running, and what the last ones did. */
struct rewrite {
	bool running;
	bool abort;        /* set by whoever finds the new log full; the rewrite cleans up */
	const char *cause; /* what started it: "BGREWRITEAOF", "auto", "disk full" */
	const char *failure; /* why the last one failed */
	struct aof_super sb; /* the superblock its commit writes */
	uint64_t old_limit;  /* a format-1 log's end bound before the rewrite lowered it */
	struct aof_snapshot snap;
	uint64_t start_ns;
	uint64_t base_size; /* the log's size after the last rewrite, or at boot */
	uint64_t tried_at;  /* the log's size when the last rewrite started */
	uint64_t done, failed;
	bool last_ok;
	uint64_t last_ns, last_before, last_after, last_keys;
};

/*
 * The log. Each client record gets a ticket, one more than the last; a
 * reply waits until acked has reached its record's ticket, which happens
 * once the record is durable (appendfsync always; written for the other
 * policies) in the committed log, the one a replay after a crash would
 * read. A rewrite's log becomes the committed one at its commit, and it
 * holds the effect of every ticket up to its durable_ticket then.
 */
struct aof {
	struct blkdev *dev;
	struct kv_server *srv;
	enum aof_fsync policy;
	uint64_t capacity; /* device bytes */
	bool format1;      /* no superblock: a log from byte 0, until a rewrite commits */
	struct aof_super sb; /* the committed superblock (format 2) */
	uint32_t boot;       /* this life's number, in every record it writes */
	struct stream *cur;  /* the committed log, the writer's */
	struct stream *next; /* a rewrite's new log; NULL when none runs */
	bool switched;       /* a rewrite is committing: appends go to next only */
	uint64_t tickets;    /* client records appended since boot */
	uint64_t acked;      /* replies for tickets up to this may go out */
	uint64_t last_flush_ns;
	struct wait_queue work; /* the writer waits here for records */
	struct wait_queue done; /* connections wait here for acked */
	struct wait_queue quiet; /* a commit waits here for the old log's last write */
	uint64_t replayed, appended, batches, flushes, refused;
	struct rewrite rw;
	struct kv_log ops;
};

/* aof.c's, for the rewrite. */
struct stream *stream_new(uint64_t start, uint64_t limit, struct aof_pos pos);
void stream_free(struct stream *s);
/* Bytes a record may still take in s; frees: a write that only removes keys. */
uint64_t stream_room(const struct stream *s, bool frees);
/* Make room in s's buffer for a record of bytes. 0 or -ENOMEM. */
int stream_reserve(struct stream *s, size_t bytes);
/* Seal a record into s (room reserved); ticket 0 for a rewrite's own records. */
void stream_append(struct aof *l, struct stream *s, int argc, const struct kv_str *argv,
		   uint64_t ticket);
/* Write what s has pending, then flush the device; a device error ends the appliance. */
void stream_write(struct aof *l, struct stream *s);
void stream_flush(struct aof *l, struct stream *s);
/* Let the replies s covers now go out, if s is the committed log. */
void stream_ack(struct aof *l, struct stream *s);
/* Write sb to sector 0. A device error ends the appliance. */
void super_write(struct aof *l, const struct aof_super *sb);
/* The log's size: the bytes of its records. */
uint64_t stream_size(const struct stream *s);
/* A chain seed that no earlier log on this disk is likely to have used (never 0). */
uint32_t aof_new_seed(void);

/* aof_rewrite.c's, for aof.c. */
/* Start a rewrite. 0, -EALREADY, or -errno with the reason in why. */
int rewrite_start(struct aof *l, const char *cause, char *why, size_t len);
/* A batch was written: start a rewrite if the log passed its auto-rewrite threshold. */
void rewrite_check(struct aof *l);
/* A write was refused for room: start a rewrite if one could free some. */
void rewrite_when_full(struct aof *l);
/* The new log has no room for a client's record before the switch: give the rewrite up. */
void rewrite_abort(struct aof *l, const char *why);
void rewrite_info(const struct aof *l, struct buf *out);

#endif /* KVSTORE_AOF_LOG_H */
