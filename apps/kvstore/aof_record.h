/* SPDX-License-Identifier: MIT */
/*
 * The append-only log's on-disk format, its record checks and the replay
 * scan that finds the log's end. Host-buildable; the device side is aof.c.
 *
 * The device is one byte stream from byte 0 of sector 0. Records follow
 * each other with no gaps and no padding; bytes past the last record are
 * whatever the device held (zeros on a new disk, stale records after a
 * crash). A record is a 24-byte header, all fields little-endian:
 *
 *   offset  size  field
 *        0     4  magic    "KVL1" (0x314c564b)
 *        4     4  len      payload bytes, 1 .. AOF_PAYLOAD_MAX
 *        8     8  seq      1 for the first record on the device, +1 for each next one
 *       16     4  boot     the boot that wrote it: 1 + the boot of the last record
 *                          replayed (1 on an empty log); informative, and it makes
 *                          two records written at one place in two lives differ
 *       20     4  crc      CRC-32 (crc32.h) over: the previous record's crc as 4 bytes
 *                          (0 for the first record), header bytes 0-19, the payload
 *
 * followed by len bytes of payload: one write command's effect as a RESP
 * array of bulk strings, replayed through the command code itself. Effects,
 * not requests: SET ... PXAT <absolute ms> for SET EX/PX and INCR on a key
 * with an expiry, SET for INCR/DECR results, DEL of the keys that existed,
 * MSET, FLUSHALL. Replaying a record therefore never depends on the time or
 * the state it is replayed at beyond the records before it.
 *
 * The log's end is the first record that fails a check, in this order: the
 * magic; len between 1 and AOF_PAYLOAD_MAX and within the device; seq =
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
 * (the boot field alone makes the two differ), so it ends the log.
 *
 * Writes rewrite the log's last, partial sector with more bytes each time;
 * that assumes a sector write is atomic (old or new contents, never a mix),
 * the assumption every write-ahead log on a block device makes.
 */
#ifndef KVSTORE_AOF_RECORD_H
#define KVSTORE_AOF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define AOF_MAGIC 0x314c564bu
#define AOF_HEADER_BYTES 24
#define AOF_PAYLOAD_MAX (1u << 31) /* a sanity bound: requests stop at KV_QUERY_MAX */
#define AOF_SECTOR 512             /* the unit of device reads and writes */

/* The chain: where the next record goes and what it must follow. */
struct aof_pos {
	uint64_t offset; /* byte offset of the next record */
	uint64_t seq;    /* the last record's; 0 on an empty log */
	uint32_t crc;    /* the last record's; 0 on an empty log */
	uint32_t boot;   /* the last record's; 0 on an empty log */
};

enum aof_check {
	AOF_VALID, /* a record: *len and *next are set */
	AOF_SHORT, /* *need bytes from buf are needed to decide (the device has them) */
	AOF_END,   /* not a record that follows prev: the log ends here */
};

/*
 * Check the record at buf[0, avail), which lies room bytes before the
 * device's end, as the successor of *prev.
 */
enum aof_check aof_record_check(const uint8_t *buf, size_t avail, uint64_t room,
				const struct aof_pos *prev, uint32_t *len, size_t *need,
				struct aof_pos *next);

/* Fill in hdr for payload[0, len) written by boot as the successor of *pos; advance *pos. */
void aof_record_seal(uint8_t hdr[AOF_HEADER_BYTES], const void *payload, uint32_t len,
		     uint32_t boot, struct aof_pos *pos);

/* How replay reaches the device and the keyspace. */
struct aof_replay {
	uint64_t capacity; /* device bytes, a multiple of AOF_SECTOR */
	size_t chunk;      /* bytes to read at a time, a multiple of AOF_SECTOR */
	/* Read len bytes at offset (both multiples of AOF_SECTOR). 0 or -errno. */
	int (*read)(void *arg, uint64_t offset, void *buf, size_t len);
	/* Apply one record's payload. 0, or -errno to stop the replay with it. */
	int (*apply)(void *arg, const uint8_t *payload, uint32_t len, uint64_t seq);
	void *arg;
};

/*
 * Apply every record from offset 0 up to the log's end. *end is the chain
 * after the last good record, *records their count. 0, or the first
 * -errno of read or apply (-ENOMEM when a record does not fit in memory).
 */
int aof_replay(const struct aof_replay *r, struct aof_pos *end, uint64_t *records);

#endif /* KVSTORE_AOF_RECORD_H */
