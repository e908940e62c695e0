/* SPDX-License-Identifier: MIT */
/*
 * The append-only log's on-disk format: the superblock, the two regions,
 * the records and their checks, and the replay scan that finds a log's end.
 * Host-buildable; the device side is aof.c and aof_rewrite.c.
 *
 * --- Layout (format 2) ---
 *
 *   sector 0                  the superblock: which region holds the log
 *   [4096, 4096 + R)          region 0
 *   [4096 + R, 4096 + 2 R)    region 1      R: half of the rest, in whole 4 KiB
 *
 * The log lives in the active region. A rewrite (aof_rewrite.c) writes the
 * new, compacted log into the other region, flushes it, then writes the
 * superblock naming that region and flushes again: that superblock write is
 * the commit point, and the only write that changes which bytes a replay
 * reads. Before it reaches the disk, replay reads the old log, which had
 * every write acknowledged so far; once it has, the new region was already
 * durable. A region's bytes past its log's end are whatever an earlier
 * generation or an aborted rewrite left there.
 *
 * The superblock, 512 bytes, little-endian:
 *
 *   offset  size  field
 *        0     4  magic       "KVS1" (0x3153564b)
 *        4     4  active      the region holding the log: 0 or 1
 *        8     8  generation  1 on a new disk, +1 at each rewrite's commit
 *       16     8  boots       lives that opened this log; each start writes it +1
 *                             (and flushes) before its first record
 *       24     4  seed        the active log's chain starts from this crc
 *       28     4  zero
 *       32    16  region 0    start, bytes (multiples of 4096; never overlap sector 0)
 *       48    16  region 1    start, bytes
 *       64   444  zero
 *      508     4  crc         CRC-32 (crc32.h) of bytes 0-507
 *
 * Sector 0 tells the disk's kind: a superblock whose crc checks; a record
 * (the magic "KVL1"), which is a format-1 disk from before the superblock,
 * replayed as one log from byte 0 with seed 0 and appended to as it was
 * (its first rewrite converts it: it needs the log to end before region 1,
 * where the new log goes, and its commit writes sector 0); "KVS1" with a
 * bad crc, a damaged superblock, which nothing is written over; or anything
 * else, a new disk, which is formatted: region 0 active, generation 1.
 *
 * --- Records ---
 *
 * A log is one byte stream from its region's first byte. Records follow
 * each other with no gaps and no padding. A record is a 24-byte header,
 * all fields little-endian:
 *
 *   offset  size  field
 *        0     4  magic    "KVL1" (0x314c564b)
 *        4     4  len      payload bytes, 1 .. AOF_PAYLOAD_MAX
 *        8     8  seq      1 for the log's first record, +1 for each next one
 *       16     4  boot     the life that wrote it: the superblock's boots then
 *                          (format 1: 1 + the boot of the last record replayed);
 *                          informative, and it makes two records written at one
 *                          place in two lives differ
 *       20     4  crc      CRC-32 over: the previous record's crc as 4 bytes (the
 *                          superblock's seed for the first record), header bytes
 *                          0-19, the payload
 *
 * followed by len bytes of payload: one write command's effect as a RESP
 * array of bulk strings, replayed through the command code itself. Effects,
 * not requests: SET ... PXAT <absolute ms> for SET EX/PX and INCR on a key
 * with an expiry, SET for INCR/DECR results, DEL of the keys that existed,
 * MSET, FLUSHALL. Replaying a record therefore never depends on the time or
 * the state it is replayed at beyond the records before it. A rewrite's log
 * begins with the keyspace as MSET and SET ... PXAT records (aof_snapshot.h)
 * and goes on with the writes that came during and after it.
 *
 * The log's end is the first record that fails a check, in this order: the
 * magic; len between 1 and AOF_PAYLOAD_MAX and within the region; seq =
 * previous seq + 1; crc. That record and everything after it are the torn
 * tail: discarded, and the next append goes exactly there, continuing the
 * sequence and the chain.
 *
 * Why the crc chains through the previous record's crc, and not only the
 * sequence number: after a crash, a record N may be lost while N+1 behind
 * it reached the disk. The next life writes a new record N at the same
 * place; if it happens to be as long as the old one, the stale N+1 sits
 * right behind it with the right sequence number and a crc that is valid
 * by itself. It was never acknowledged (acknowledging it would have needed
 * N durable), so replaying it would resurrect a write after newer ones.
 * Chained, its crc covers the old N's crc, which the new N does not have
 * (the boot field alone makes the two differ: every life has a boot number
 * of its own, the superblock's count), so it ends the log. The seed does
 * the same across generations: a region written again holds, past the new
 * log's end, records of an older log or of an aborted rewrite, with
 * sequence numbers that may follow; every rewrite draws a new seed, so
 * none of them continues the new chain.
 *
 * Writes rewrite the log's last, partial sector with more bytes each time,
 * and the commit rewrites sector 0; both assume a sector write is atomic
 * (old or new contents, never a mix), the assumption every write-ahead log
 * on a block device makes.
 */
#ifndef KVSTORE_AOF_RECORD_H
#define KVSTORE_AOF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define AOF_MAGIC 0x314c564bu
#define AOF_HEADER_BYTES 24
#define AOF_PAYLOAD_MAX (1u << 31) /* a sanity bound: requests stop at KV_QUERY_MAX */
#define AOF_SECTOR 512             /* the unit of device reads and writes */

#define AOF_SUPER_MAGIC 0x3153564bu
#define AOF_REGION_ALIGN 4096 /* regions start and end on these; region 0 starts at one */
#define AOF_DEVICE_MIN (3 * AOF_REGION_ALIGN) /* the superblock and two regions of 4 KiB */

/* The chain: where the next record goes and what it must follow. */
struct aof_pos {
	uint64_t offset; /* device byte offset of the next record */
	uint64_t seq;    /* the last record's; 0 on an empty log */
	uint32_t crc;    /* the last record's; the seed on an empty log */
	uint32_t boot;   /* the last record's; 0 on an empty log */
};

enum aof_check {
	AOF_VALID, /* a record: *len and *next are set */
	AOF_SHORT, /* *need bytes from buf are needed to decide (the device has them) */
	AOF_END,   /* not a record that follows prev: the log ends here */
};

/*
 * Check the record at buf[0, avail), which lies room bytes before the
 * log's bound (its region's end), as the successor of *prev.
 */
enum aof_check aof_record_check(const uint8_t *buf, size_t avail, uint64_t room,
				const struct aof_pos *prev, uint32_t *len, size_t *need,
				struct aof_pos *next);

/* Fill in hdr for payload[0, len) written by boot as the successor of *pos; advance *pos. */
void aof_record_seal(uint8_t hdr[AOF_HEADER_BYTES], const void *payload, uint32_t len,
		     uint32_t boot, struct aof_pos *pos);

/* The superblock's fields (the layout above). */
struct aof_super {
	uint32_t active;     /* 0 or 1 */
	uint64_t generation;
	uint64_t boots;
	uint32_t seed;
	uint64_t start[2], bytes[2]; /* the regions */
};

/*
 * The superblock of a new log on a device of capacity bytes: region 0
 * active, generation 1, boots 0, the given seed. 0, or -ENOSPC when the
 * device is smaller than AOF_DEVICE_MIN.
 */
int aof_super_new(struct aof_super *sb, uint64_t capacity, uint32_t seed);
void aof_super_encode(const struct aof_super *sb, uint8_t sector[AOF_SECTOR]);

enum aof_disk {
	AOF_DISK_NEW,     /* neither a superblock nor a record: format it */
	AOF_DISK_FORMAT1, /* a record at byte 0: one log from there, seed 0 */
	AOF_DISK_SUPER,   /* a superblock: *sb is filled in */
	AOF_DISK_DAMAGED, /* "KVS1" with a bad crc, or regions that do not fit the device */
};

/* What sector 0 of a device of capacity bytes says the disk is. */
enum aof_disk aof_disk_kind(const uint8_t sector[AOF_SECTOR], uint64_t capacity,
			    struct aof_super *sb);

/* How replay reaches the device and the keyspace. */
struct aof_replay {
	struct aof_pos start; /* before the first record: its offset, and the seed as crc */
	uint64_t limit;       /* the region's end, a multiple of AOF_SECTOR */
	size_t chunk;         /* bytes to read at a time, a multiple of AOF_SECTOR */
	/* Read len bytes at offset (both multiples of AOF_SECTOR). 0 or -errno. */
	int (*read)(void *arg, uint64_t offset, void *buf, size_t len);
	/* Apply one record's payload. 0, or -errno to stop the replay with it. */
	int (*apply)(void *arg, const uint8_t *payload, uint32_t len, uint64_t seq);
	void *arg;
};

/*
 * Apply every record from r->start up to the log's end. *end is the chain
 * after the last good record, *records their count. 0, or the first
 * -errno of read or apply (-ENOMEM when a record does not fit in memory).
 */
int aof_replay(const struct aof_replay *r, struct aof_pos *end, uint64_t *records);

#endif /* KVSTORE_AOF_RECORD_H */
