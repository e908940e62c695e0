/* SPDX-License-Identifier: MIT */
/* The log's superblock and records: encoding, checking, and the replay scan (aof_record.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aof_record.h"
#include "crc32.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* The crc of a record: chained through the previous one's, over header bytes 0-19 and payload. */
static uint32_t record_crc(uint32_t prev_crc, const uint8_t *hdr, const void *payload, uint32_t len)
{
	uint8_t prev[4];

	put32(prev, prev_crc);
	return crc32_update(crc32_update(crc32_update(0, prev, 4), hdr, 20), payload, len);
}

void aof_record_seal(uint8_t hdr[AOF_HEADER_BYTES], const void *payload, uint32_t len,
		     uint32_t boot, struct aof_pos *pos)
{
	put32(hdr, AOF_MAGIC);
	put32(hdr + 4, len);
	put64(hdr + 8, pos->seq + 1);
	put32(hdr + 16, boot);
	put32(hdr + 20, record_crc(pos->crc, hdr, payload, len));
	pos->offset += AOF_HEADER_BYTES + (uint64_t)len;
	pos->seq++;
	pos->crc = get32(hdr + 20);
	pos->boot = boot;
}

enum aof_check aof_record_check(const uint8_t *buf, size_t avail, uint64_t room,
				const struct aof_pos *prev, uint32_t *len, size_t *need,
				struct aof_pos *next)
{
	uint32_t n;

	if (room < AOF_HEADER_BYTES)
		return AOF_END;
	if (avail < AOF_HEADER_BYTES) {
		*need = AOF_HEADER_BYTES;
		return AOF_SHORT;
	}
	n = get32(buf + 4);
	if (get32(buf) != AOF_MAGIC || n == 0 || n > AOF_PAYLOAD_MAX ||
	    n > room - AOF_HEADER_BYTES || get64(buf + 8) != prev->seq + 1)
		return AOF_END;
	if (avail - AOF_HEADER_BYTES < n) {
		*need = AOF_HEADER_BYTES + (size_t)n;
		return AOF_SHORT;
	}
	if (get32(buf + 20) != record_crc(prev->crc, buf, buf + AOF_HEADER_BYTES, n))
		return AOF_END;
	*len = n;
	*next = (struct aof_pos){ prev->offset + AOF_HEADER_BYTES + n, prev->seq + 1,
				  get32(buf + 20), get32(buf + 16) };
	return AOF_VALID;
}

/* --- the superblock --------------------------------------------------------------------- */

#define SUPER_CRC_AT (AOF_SECTOR - 4)

int aof_super_new(struct aof_super *sb, uint64_t capacity, uint32_t seed)
{
	uint64_t half;

	if (capacity < AOF_DEVICE_MIN)
		return -ENOSPC;
	half = (capacity - AOF_REGION_ALIGN) / 2 / AOF_REGION_ALIGN * AOF_REGION_ALIGN;
	*sb = (struct aof_super){ .active = 0, .generation = 1, .boots = 0, .seed = seed };
	sb->start[0] = AOF_REGION_ALIGN;
	sb->start[1] = AOF_REGION_ALIGN + half;
	sb->bytes[0] = sb->bytes[1] = half;
	return 0;
}

void aof_super_encode(const struct aof_super *sb, uint8_t sector[AOF_SECTOR])
{
	memset(sector, 0, AOF_SECTOR);
	put32(sector, AOF_SUPER_MAGIC);
	put32(sector + 4, sb->active);
	put64(sector + 8, sb->generation);
	put64(sector + 16, sb->boots);
	put32(sector + 24, sb->seed);
	for (int i = 0; i < 2; i++) {
		put64(sector + 32 + 16 * i, sb->start[i]);
		put64(sector + 40 + 16 * i, sb->bytes[i]);
	}
	put32(sector + SUPER_CRC_AT, crc32_update(0, sector, SUPER_CRC_AT));
}

/* A region: aligned, not empty, past sector 0's 4 KiB, within the device. */
static bool region_fits(uint64_t start, uint64_t bytes, uint64_t capacity)
{
	return start % AOF_REGION_ALIGN == 0 && bytes % AOF_REGION_ALIGN == 0 && bytes > 0 &&
	       start >= AOF_REGION_ALIGN && start <= capacity && bytes <= capacity - start;
}

enum aof_disk aof_disk_kind(const uint8_t sector[AOF_SECTOR], uint64_t capacity,
			    struct aof_super *sb)
{
	if (get32(sector) == AOF_MAGIC)
		return AOF_DISK_FORMAT1;
	if (get32(sector) != AOF_SUPER_MAGIC)
		return AOF_DISK_NEW;
	if (get32(sector + SUPER_CRC_AT) != crc32_update(0, sector, SUPER_CRC_AT))
		return AOF_DISK_DAMAGED;
	sb->active = get32(sector + 4);
	sb->generation = get64(sector + 8);
	sb->boots = get64(sector + 16);
	sb->seed = get32(sector + 24);
	for (int i = 0; i < 2; i++) {
		sb->start[i] = get64(sector + 32 + 16 * i);
		sb->bytes[i] = get64(sector + 40 + 16 * i);
		if (!region_fits(sb->start[i], sb->bytes[i], capacity))
			return AOF_DISK_DAMAGED;
	}
	/* The regions must not overlap: each lies wholly before or after the other. */
	if (sb->active > 1 || (sb->start[0] < sb->start[1] + sb->bytes[1] &&
			       sb->start[1] < sb->start[0] + sb->bytes[0]))
		return AOF_DISK_DAMAGED;
	return AOF_DISK_SUPER;
}

/* --- replay ------------------------------------------------------------------------------ */

/* The device bytes [win_off, win_off + win_len) held in memory while scanning. */
struct window {
	uint8_t *buf;
	size_t cap, len;
	uint64_t off;
};

/* Load a window that starts at offset's sector and holds at least need bytes from offset. */
static int load(const struct aof_replay *r, struct window *w, uint64_t offset, size_t need)
{
	uint64_t start = offset - offset % AOF_SECTOR;
	size_t want = (size_t)(offset - start) + need;
	uint64_t left = r->limit - start;
	size_t len;
	int rc;

	want = want < r->chunk ? r->chunk : (want + AOF_SECTOR - 1) / AOF_SECTOR * AOF_SECTOR;
	len = left < want ? (size_t)left : want;
	if (len > w->cap) {
		uint8_t *b = realloc(w->buf, len);

		if (!b)
			return -ENOMEM;
		w->buf = b;
		w->cap = len;
	}
	rc = r->read(r->arg, start, w->buf, len);
	if (rc)
		return rc;
	w->off = start;
	w->len = len;
	return 0;
}

int aof_replay(const struct aof_replay *r, struct aof_pos *end, uint64_t *records)
{
	struct window w = { 0 };
	struct aof_pos pos = r->start, next;
	int rc = 0;

	*records = 0;
	for (;;) {
		const uint8_t *at = NULL;
		size_t avail = 0, need = 0;
		uint32_t len;
		enum aof_check c;

		if (w.buf && pos.offset >= w.off && pos.offset - w.off <= w.len) {
			at = w.buf + (pos.offset - w.off);
			avail = w.len - (size_t)(pos.offset - w.off);
		}
		c = aof_record_check(at, avail, r->limit - pos.offset, &pos, &len, &need, &next);

		if (c == AOF_END)
			break;
		if (c == AOF_SHORT) {
			/* check() asks only for bytes the device has: each load makes progress. */
			rc = load(r, &w, pos.offset, need);
			if (rc)
				break;
			continue;
		}
		rc = r->apply(r->arg, at + AOF_HEADER_BYTES, len, next.seq);
		if (rc)
			break;
		pos = next;
		(*records)++;
	}
	free(w.buf);
	*end = pos;
	return rc;
}
