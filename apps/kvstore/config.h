/* SPDX-License-Identifier: MIT */
/* The kvstore appliance's tunables in one place: protocol limits, sizes, periods, with units. */
#ifndef KVSTORE_CONFIG_H
#define KVSTORE_CONFIG_H

#define KV_VERSION "0.1.0"
#define KV_DEFAULT_PORT 6379

/* Protocol limits, Redis' own: past them the request is refused and the connection closed. */
#define KV_BULK_MAX (512ull << 20)    /* bytes in one bulk string (proto-max-bulk-len) */
#define KV_MULTIBULK_MAX (1024 * 1024) /* arguments in one request */
#define KV_INLINE_MAX (64 * 1024)      /* bytes in an inline command or a "*n"/"$n" line */
#define KV_QUERY_MAX (1ull << 30)      /* bytes of one request buffered (a query buffer limit) */

/* Connections. */
#define KV_MAX_CLIENTS 256          /* more are told so and closed */
#define KV_READ_CHUNK (16 * 1024)   /* bytes asked of each recv() at least */
#define KV_REPLY_FLUSH (64 * 1024)  /* in a long pipeline, send the replies so far past this */
#define KV_CONN_STACK (64 * 1024)   /* bytes of stack per connection thread */

/* The keyspace: buckets at start and after FLUSHALL (a power of two). */
#define KV_DB_MIN_BUCKETS 16
#define KV_EXPIRE_PERIOD_MS 100     /* the active expiry step runs this often ... */
#define KV_EXPIRE_BUCKETS 256       /* ... and looks at this many buckets each time */

/* The append-only log. */
#define KV_LOG_READ_CHUNK (1u << 20) /* bytes read at a time while replaying */
#define KV_LOG_EVERYSEC_NS 1000000000ull /* appendfsync everysec: at most one flush this often */
#define KV_LOG_RECORD_SLACK 160 /* bytes a record may need beyond its request (header, PXAT) */
/* Room in a log's region kept back for writes that only remove keys (DEL, FLUSHALL), so a
 * full log can still be emptied: this many bytes, or 1/KV_LOG_FREE_SHARE of the region if less. */
#define KV_LOG_FREE_RESERVE (64u << 10)
#define KV_LOG_FREE_SHARE 16

/* Rewrites (compaction): automatic ones, as Redis' auto-aof-rewrite-* (kvstore.c's options),
 * and one when a write finds the log full. */
#define KV_REWRITE_PERCENTAGE 100      /* start one once the log grew this much since the last
					* (percent of its size then; 0: never automatically,
					* not even when full) ... */
#define KV_REWRITE_MIN_BYTES (1u << 20) /* ... and is at least this many bytes */
/* How a rewrite works. */
#define KV_REWRITE_SCAN_KEYS 256          /* keys read per step; connections run between steps */
#define KV_REWRITE_WRITE_BYTES (256u << 10) /* the new log is written once this much is pending */
#define KV_REWRITE_MSET_BYTES (64u << 10) /* keys and values per MSET record of the snapshot */

#endif /* KVSTORE_CONFIG_H */
