/* SPDX-License-Identifier: MIT */
/*
 * Unit test of kvstore's log and commands: the log's records and replay's
 * torn-tail rules, the superblock and the chain seeds of regions written
 * again, the commands' exact replies and logged effects, replayed into a
 * second store, and a rewrite's snapshot taken while writes go on, replayed
 * likewise. The wire and the keyspace: test_kvstore.c.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "aof_record.h"
#include "aof_snapshot.h"
#include "check.h"
#include "command.h"
#include "config.h"
#include "crc32.h"
#include "db.h"
#include "kvstore_test.h"
#include "reply.h"
#include "resp.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull; /* check.h's rnd() */
/* --- the log: records and replay ------------------------------------------------------- */

struct image {
	uint8_t *bytes;
	uint64_t size;
	struct aof_pos pos; /* where the next append goes */
	uint32_t boot;
	uint64_t applied[64]; /* sequence numbers replay applied */
	char payloads[64][32];
	int napplied;
};

static void img_append(struct image *im, const char *payload)
{
	uint32_t len = (uint32_t)strlen(payload);
	uint64_t at = im->pos.offset;

	memcpy(im->bytes + at + AOF_HEADER_BYTES, payload, len);
	aof_record_seal(im->bytes + at, im->bytes + at + AOF_HEADER_BYTES, len, im->boot, &im->pos);
}

static int img_read(void *arg, uint64_t offset, void *buf, size_t len)
{
	struct image *im = arg;

	if (offset % AOF_SECTOR || len % AOF_SECTOR || offset + len > im->size)
		return -EINVAL;
	memcpy(buf, im->bytes + offset, len);
	return 0;
}

static int img_apply(void *arg, const uint8_t *payload, uint32_t len, uint64_t seq)
{
	struct image *im = arg;

	if (im->napplied == 64)
		return -E2BIG; /* more than any case here writes */
	im->applied[im->napplied] = seq;
	snprintf(im->payloads[im->napplied++], 32, "%.*s", (int)len, (const char *)payload);
	return 0;
}

/* Replay the log of im that starts at start, in [start.offset, limit); returns the records. */
static uint64_t img_replay_at(struct image *im, struct aof_pos start, uint64_t limit,
			      size_t chunk, struct aof_pos *end)
{
	struct aof_replay r = { .start = start, .limit = limit, .chunk = chunk,
				.read = img_read, .apply = img_apply, .arg = im };
	uint64_t records = 0;

	im->napplied = 0;
	CHECK_EQ(aof_replay(&r, end, &records), 0);
	CHECK_EQ(records, im->napplied);
	return records;
}

/* A format-1 log: from byte 0, seed 0, to the device's end. */
static uint64_t img_replay(struct image *im, size_t chunk, struct aof_pos *end)
{
	return img_replay_at(im, (struct aof_pos){ 0 }, im->size, chunk, end);
}

static void test_log_records(void)
{
	struct image im = { .size = 8 * AOF_SECTOR, .boot = 1 };
	struct aof_pos end, at3 = { 0 };
	uint64_t ends[6];

	im.bytes = calloc(1, im.size);
	CHECK_EQ(img_replay(&im, AOF_SECTOR, &end), 0); /* a zeroed disk is an empty log */
	CHECK_EQ(end.offset, 0);
	for (int i = 0; i < 6; i++) {
		char p[32];

		snprintf(p, sizeof(p), "record %d %s", i, i == 3 ? "with a longer payload" : "");
		img_append(&im, p);
		ends[i] = im.pos.offset;
		if (i == 2)
			at3 = im.pos;
	}
	/* All six back, whatever the read size; records straddle sector boundaries. */
	CHECK_EQ(img_replay(&im, AOF_SECTOR, &end), 6);
	CHECK_EQ(end.offset, ends[5]);
	CHECK_EQ(end.seq, 6);
	CHECK_EQ(img_replay(&im, 4 * AOF_SECTOR, &end), 6);
	CHECK_STR_EQ(im.payloads[3], "record 3 with a longer payload");
	CHECK_EQ(im.applied[5], 6);

	/* Each kind of damage to record 4 (index 3) ends the log after record 3. */
	static const struct {
		const char *what;
		size_t at; /* byte within record 4 */
		uint8_t flip;
	} damage[] = { { "magic", 0, 0x01 }, { "len", 5, 0x40 },      { "seq", 8, 0x02 },
		       { "boot", 16, 0x01 }, { "crc", 21, 0x80 },     { "payload", 30, 0x20 } };
	for (size_t d = 0; d < sizeof(damage) / sizeof(damage[0]); d++) {
		im.bytes[at3.offset + damage[d].at] ^= damage[d].flip;
		if (!CHECK_EQ(img_replay(&im, AOF_SECTOR, &end), 3))
			fprintf(stderr, "    damage to the %s\n", damage[d].what);
		CHECK_EQ(end.offset, at3.offset);
		CHECK_EQ(end.seq, 3);
		im.bytes[at3.offset + damage[d].at] ^= damage[d].flip;
	}

	/* A record cut short by the device's end: a length beyond the device ends the log. */
	struct image small = im;
	small.size = (ends[5] / AOF_SECTOR) * AOF_SECTOR;
	uint64_t n = img_replay(&small, AOF_SECTOR, &end);
	CHECK_EQ(n, end.seq);
	CHECK(end.offset <= small.size);
	CHECK(end.seq < 6);

	/*
	 * The stale-record case the chained crc is for: record 4 is lost
	 * (zeroed), records 5 and 6 survive. The next life appends a new
	 * record 4 exactly as long as the old one at the same place; the old
	 * record 5 behind it has the right sequence number and its own crc
	 * checks, but it does not follow the new record 4. Replay must stop.
	 */
	memset(im.bytes + at3.offset, 0, ends[3] - at3.offset);
	CHECK_EQ(img_replay(&im, AOF_SECTOR, &end), 3);
	im.pos = end;
	im.boot = end.boot + 1;
	img_append(&im, "record 3 with a longer payload");
	CHECK_EQ(im.pos.offset, ends[3]);
	CHECK_EQ(img_replay(&im, AOF_SECTOR, &end), 4);
	CHECK_EQ(end.offset, ends[3]);
	CHECK_EQ(end.boot, 2);
	/* Appends continue from the end and replay through the seam. */
	img_append(&im, "after the seam");
	CHECK_EQ(img_replay(&im, AOF_SECTOR, &end), 5);
	CHECK_STR_EQ(im.payloads[4], "after the seam");
	free(im.bytes);
}

static void test_log_super(void)
{
	struct aof_super sb, back;
	uint8_t sec[AOF_SECTOR];

	CHECK_EQ(aof_super_new(&sb, AOF_DEVICE_MIN - AOF_SECTOR, 7), -ENOSPC);
	CHECK_EQ(aof_super_new(&sb, AOF_DEVICE_MIN, 7), 0);
	CHECK_EQ(sb.bytes[0], AOF_REGION_ALIGN);
	CHECK_EQ(aof_super_new(&sb, (16u << 20) + 1000, 0xabcdef01u), 0);
	CHECK_EQ(sb.start[0], AOF_REGION_ALIGN);
	CHECK_EQ(sb.start[1], sb.start[0] + sb.bytes[0]);
	CHECK_EQ(sb.bytes[0], sb.bytes[1]);
	CHECK_EQ(sb.bytes[0] % AOF_REGION_ALIGN, 0);
	CHECK(sb.start[1] + sb.bytes[1] <= (16u << 20) + 1000);
	CHECK(sb.start[1] + sb.bytes[1] + 2 * AOF_REGION_ALIGN > (16u << 20)); /* little unused */
	CHECK_EQ(sb.generation, 1);
	CHECK_EQ(sb.active, 0);

	sb.active = 1;
	sb.generation = 0x1122334455667788ull;
	sb.boots = 9;
	aof_super_encode(&sb, sec);
	CHECK(!memcmp(sec, "KVS1", 4));
	memset(&back, 0, sizeof(back));
	if (CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back), AOF_DISK_SUPER))
		CHECK(back.active == 1 && back.generation == sb.generation && back.boots == 9 &&
		      back.seed == 0xabcdef01u && back.start[1] == sb.start[1] &&
		      back.bytes[0] == sb.bytes[0]);
	/* Any flipped byte, even in the zeros, is a damaged superblock, never a new disk. */
	for (size_t at = 0; at < AOF_SECTOR; at += 37) {
		sec[at] ^= 0x10;
		if (!CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back),
			      at < 4 ? AOF_DISK_NEW : AOF_DISK_DAMAGED))
			fprintf(stderr, "    byte %zu flipped\n", at);
		sec[at] ^= 0x10;
	}
	/* A disk smaller than the regions say (truncated since): damaged, left alone. */
	CHECK_EQ(aof_disk_kind(sec, 8u << 20, &back), AOF_DISK_DAMAGED);
	/* Regions that overlap, or cover sector 0: damaged, with a good crc. */
	back = sb;
	back.start[1] = sb.start[0] + AOF_REGION_ALIGN;
	aof_super_encode(&back, sec);
	CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back), AOF_DISK_DAMAGED);
	back = sb;
	back.start[0] = 0;
	aof_super_encode(&back, sec);
	CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back), AOF_DISK_DAMAGED);
	back = sb;
	back.active = 2;
	aof_super_encode(&back, sec);
	CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back), AOF_DISK_DAMAGED);
	/* A new disk, whatever else it holds; a format-1 log's first record. */
	memset(sec, 0, sizeof(sec));
	CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back), AOF_DISK_NEW);
	memcpy(sec, "hello", 5);
	CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back), AOF_DISK_NEW);
	struct aof_pos pos = { 0 };
	memset(sec, 0, sizeof(sec));
	memcpy(sec + AOF_HEADER_BYTES, "x", 1);
	aof_record_seal(sec, sec + AOF_HEADER_BYTES, 1, 1, &pos);
	CHECK_EQ(aof_disk_kind(sec, 16u << 20, &back), AOF_DISK_FORMAT1);
}

/*
 * A region written again: the new log is shorter than the one before it in
 * the same place, written by the same boot with the same payloads, so the
 * old records past its end have the very sequence numbers that follow.
 * Only the new seed ends the new log where it ends.
 */
static void test_log_regions(void)
{
	struct image im = { .size = 64 * AOF_SECTOR, .boot = 3 };
	const uint64_t start = 8 * AOF_SECTOR, limit = 28 * AOF_SECTOR;
	struct aof_pos end, a = { .offset = start, .crc = 0x1234 };
	struct aof_pos b = { .offset = start, .crc = 0x5678 };

	im.bytes = calloc(1, im.size);
	im.pos = a;
	for (int i = 0; i < 5; i++)
		img_append(&im, i < 2 ? "same in both" : "older generation");
	CHECK_EQ(img_replay_at(&im, a, limit, AOF_SECTOR, &end), 5);
	CHECK_EQ(end.offset, im.pos.offset);
	CHECK_EQ(img_replay_at(&im, b, limit, AOF_SECTOR, &end), 0); /* another seed */
	CHECK_EQ(end.offset, start);
	im.pos = b;
	img_append(&im, "same in both");
	img_append(&im, "same in both");
	CHECK_EQ(img_replay_at(&im, b, limit, 4 * AOF_SECTOR, &end), 2);
	CHECK_EQ(end.seq, 2);
	CHECK_EQ(end.offset, im.pos.offset);
	CHECK_STR_EQ(im.payloads[1], "same in both");
	/* The seed 0 of a format-1 log does not read a region's log either. */
	CHECK_EQ(img_replay_at(&im, (struct aof_pos){ .offset = start }, limit, AOF_SECTOR, &end),
		 0);

	/* A record that would cross the region's end ends the log; nothing past it is read. */
	memset(im.bytes, 0, im.size);
	im.pos = a;
	while (im.pos.offset + AOF_HEADER_BYTES + 200 <= limit + AOF_SECTOR)
		img_append(&im, "a record of some length, repeated until it runs past the region's "
				"end: a region is a log's whole world, and its neighbour's bytes are "
				"never read as its own, whatever they hold.");
	uint64_t n = img_replay_at(&im, a, limit, 3 * AOF_SECTOR, &end);
	CHECK(end.offset <= limit);
	CHECK(end.offset + 200 > limit);
	CHECK_EQ(n, end.seq);
	free(im.bytes);
}

/* --- commands -------------------------------------------------------------------------- */

/* A log in memory: each record's RESP payload, back to back. */
struct fake_log {
	struct buf records;
	int count;
	bool full; /* room only for writes that free */
	bool rewriting;
};

static int fake_reserve(void *arg, size_t bytes, bool frees)
{
	struct fake_log *f = arg;

	(void)bytes;
	return f->full && !frees ? -ENOSPC : 0;
}

static int fake_rewrite(void *arg, char *why, size_t len)
{
	struct fake_log *f = arg;

	if (f->full) {
		snprintf(why, len, "no room");
		return -ENOSPC;
	}
	if (f->rewriting)
		return -EALREADY;
	f->rewriting = true;
	return 0;
}

static uint64_t fake_append(void *arg, int argc, const struct kv_str *argv)
{
	struct fake_log *f = arg;

	resp_encode_command(&f->records, argc, argv);
	f->count++;
	return f->records.len;
}

static void fake_info(void *arg, struct buf *out)
{
	(void)arg;
	buf_append(out, "aof_fake:1\r\n", 12);
}

static struct fake_log flog;
static const struct kv_log fake_ops = { fake_reserve, fake_append, fake_info, fake_rewrite,
					&flog };
static struct kv_server srv;
static struct buf out;
static struct kv_client cl = { .srv = &srv, .out = &out, .now_ms = 1700000000000 };

/* Run an inline command line as c; the reply is left in c->out. */
static void exec_line(struct kv_client *c, const char *line)
{
	struct resp_parser p;
	char req[256], *copy;
	int n = snprintf(req, sizeof(req), "%s\r\n", line);

	resp_parser_init(&p);
	buf_reset(c->out, 0);
	if (CHECK_EQ(parse_exact(&p, req, (size_t)n, &copy), RESP_DONE) && p.argc > 0)
		command_run(c, p.argc, p.argv);
	free(copy);
	resp_parser_free(&p);
}

/* Run an inline command line and compare the whole reply. */
static void run(const char *line, const char *want)
{
	exec_line(&cl, line);
	if (!CHECK(out.len == strlen(want) && !memcmp(out.data, want, out.len)))
		fprintf(stderr, "    %s\n    got  \"%.*s\"\n    want \"%s\"\n", line, (int)out.len,
			out.data, want);
}

/* Replay records into dst as the log's replay does; returns the records run. */
static int replay_records(const struct buf *records, struct kv_server *dst, int64_t now_ms)
{
	struct buf scratch = { 0 };
	struct kv_client rc = { .srv = dst, .out = &scratch, .now_ms = now_ms, .replaying = true };
	struct resp_parser p;
	size_t at = 0;
	int n = 0;

	resp_parser_init(&p);
	while (at < records->len) {
		resp_parser_reset(&p);
		if (!CHECK_EQ(resp_parse(&p, records->data + at, records->len - at), RESP_DONE))
			break;
		buf_reset(&scratch, 0);
		command_run(&rc, p.argc, p.argv);
		CHECK(scratch.len > 0 && scratch.data[0] != '-');
		at += p.pos;
		n++;
	}
	resp_parser_free(&p);
	buf_free(&scratch);
	return n;
}

/* b holds exactly a's live keys, with the same values and expiries. */
static void same_keyspace(struct db *a, struct db *b, int64_t now_ms)
{
	CHECK_EQ(db_live_count(b, now_ms), db_live_count(a, now_ms));
	for (size_t i = 0; i <= a->mask; i++)
		for (struct db_entry *e = a->buckets[i]; e; e = e->next) {
			struct db_entry *f;

			if (db_expired(e, now_ms))
				continue;
			f = db_find(b, e->key, e->klen, now_ms);
			if (!CHECK(f))
				fprintf(stderr, "    key %.*s missing\n", (int)e->klen, e->key);
			else
				CHECK(f->vlen == e->vlen && !memcmp(f->val, e->val, e->vlen) &&
				      f->expire_ms == e->expire_ms);
		}
}

static void test_commands(void)
{
	db_init(&srv.db, 3, 4);
	srv.log = &fake_ops;
	srv.appendfsync = "always";
	srv.port = 6379;
	srv.rewrite_percentage = 100;
	srv.rewrite_min_bytes = 1u << 20;

	run("PING", "+PONG\r\n");
	run("ping hi", "$2\r\nhi\r\n");
	run("PING a b", "-ERR wrong number of arguments for 'ping' command\r\n");
	run("ECHO x", "$1\r\nx\r\n");
	run("GET k", "$-1\r\n");
	run("SET k v", "+OK\r\n");
	run("GET k", "$1\r\nv\r\n");
	run("SET k w NX", "$-1\r\n");
	run("SET k w XX", "+OK\r\n");
	run("SET n w XX", "$-1\r\n");
	run("SET k v NX XX", "-ERR syntax error\r\n");
	run("SET k v EX", "-ERR syntax error\r\n");
	run("SET k v EX 10 PX 5", "-ERR syntax error\r\n");
	run("SET k v FOO", "-ERR syntax error\r\n");
	run("SET k v EX x", "-ERR value is not an integer or out of range\r\n");
	run("SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n");
	run("SET k v PX -5", "-ERR invalid expire time in 'set' command\r\n");
	run("SET k v EX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n");
	run("SET t v EX 10", "+OK\r\n");
	run("TTL t", ":10\r\n");
	run("PTTL t", ":10000\r\n");
	run("TTL k", ":-1\r\n");
	run("TTL none", ":-2\r\n");
	run("SET t v2 KEEPTTL", "+OK\r\n");
	run("PTTL t", ":10000\r\n");
	run("SET old v PXAT 5", "+OK\r\n"); /* already past: gone */
	run("EXISTS old", ":0\r\n");
	run("SET", "-ERR wrong number of arguments for 'set' command\r\n");
	run("INCR c", ":1\r\n");
	run("INCRBY c 41", ":42\r\n");
	run("DECR c", ":41\r\n");
	run("DECRBY c 50", ":-9\r\n");
	run("INCR k", "-ERR value is not an integer or out of range\r\n");
	run("INCRBY c 1x", "-ERR value is not an integer or out of range\r\n");
	run("SET big 9223372036854775807", "+OK\r\n");
	run("INCR big", "-ERR increment or decrement would overflow\r\n");
	run("DECRBY c -9223372036854775808", "-ERR decrement would overflow\r\n");
	run("SET small -9223372036854775808", "+OK\r\n");
	run("DECR small", "-ERR increment or decrement would overflow\r\n");
	run("INCR t", "-ERR value is not an integer or out of range\r\n");
	run("MSET a 1 b 2", "+OK\r\n");
	run("MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n");
	run("MGET a nope b", "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
	run("EXISTS a a nope", ":2\r\n");
	run("DEL a nope b", ":2\r\n");
	run("DEL a", ":0\r\n");
	run("KEYS b*", "*1\r\n$3\r\nbig\r\n");
	run("KEYS sm?ll", "*1\r\n$5\r\nsmall\r\n");
	run("DBSIZE", ":5\r\n"); /* k t c big small */
	run("SELECT 0", "+OK\r\n");
	run("SELECT 1", "-ERR DB index is out of range\r\n");
	run("SELECT x", "-ERR value is not an integer or out of range\r\n");
	run("COMMAND DOCS", "*0\r\n");
	run("CONFIG GET appendfsync", "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n");
	run("CONFIG GET save", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
	run("CONFIG GET APPEND*", "*4\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n$11\r\nappendfsync\r\n"
				  "$6\r\nalways\r\n");
	run("CONFIG GET nothing", "*0\r\n");
	run("CONFIG GET auto-aof-*", "*4\r\n$27\r\nauto-aof-rewrite-percentage\r\n$3\r\n100\r\n"
				     "$25\r\nauto-aof-rewrite-min-size\r\n$7\r\n1048576\r\n");
	run("BGREWRITEAOF", "+Background append only file rewriting started\r\n");
	run("bgrewriteaof", "-ERR Background append only file rewriting already in progress\r\n");
	run("BGREWRITEAOF now", "-ERR wrong number of arguments for 'bgrewriteaof' command\r\n");
	run("CONFIG SET a b", "-ERR unknown subcommand 'SET'. Try CONFIG HELP.\r\n");
	run("SCAN x", "-ERR invalid cursor\r\n");
	run("SCAN 0 COUNT 0", "-ERR syntax error\r\n");
	run("SCAN 0 TYPE hash", "*2\r\n$1\r\n0\r\n*0\r\n");
	run("FOO a b", "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
	run("QUIT", "+OK\r\n");
	CHECK(cl.quit);
	cl.quit = false;
}

/* Everything the fake log recorded, replayed into a second store, gives the same keyspace. */
static void test_commands_replay(void)
{
	struct kv_server again = { .appendfsync = "always" };

	run("SET e v EX 100", "+OK\r\n");
	run("FLUSHALL", "+OK\r\n");
	run("SET e v EX 100", "+OK\r\n");
	run("INCR e", "-ERR value is not an integer or out of range\r\n");
	run("SET n 5 PX 60000", "+OK\r\n");
	run("INCR n", ":6\r\n");
	run("MSET m1 a m2 b", "+OK\r\n");
	run("DEL m1", ":1\r\n");
	db_init(&again.db, 9, 9);
	CHECK_EQ(replay_records(&flog.records, &again, cl.now_ms), flog.count);
	same_keyspace(&srv.db, &again.db, cl.now_ms);
	/* INCR on a key with an expiry is logged as SET ... PXAT, absolute. */
	static const char pxat[] = "$4\r\nPXAT\r\n$13\r\n1700000060000";
	CHECK(memmem(flog.records.data, flog.records.len, pxat, sizeof(pxat) - 1) != NULL);
	/* Writes are refused, and not run, when the log has no room; reads and deletes go on. */
	run("SET gone v", "+OK\r\n");
	flog.full = true;
	int logged = flog.count;
	run("SET full v", "-ERR disk full: the append-only log has no room, the write was not run "
			  "(DEL, FLUSHALL or BGREWRITEAOF can make room)\r\n");
	run("INCR n", "-ERR disk full: the append-only log has no room, the write was not run "
		      "(DEL, FLUSHALL or BGREWRITEAOF can make room)\r\n");
	run("EXISTS full", ":0\r\n");
	run("GET n", "$1\r\n6\r\n");
	CHECK_EQ(flog.count, logged);
	run("DEL gone", ":1\r\n");
	CHECK_EQ(flog.count, logged + 1);
	run("BGREWRITEAOF", "-ERR cannot rewrite the append-only log: no room\r\n");
	flog.full = false;
	const struct kv_log *log = srv.log;
	srv.log = NULL;
	run("BGREWRITEAOF", "-ERR no append-only log to rewrite: kvstore runs memory only\r\n");
	srv.log = log;
	db_free(&again.db);
}

/* --- a rewrite's snapshot ------------------------------------------------------------------ */

/* The snapshot's commands go into the same record stream as the writes between its steps. */
static int snap_emit(void *arg, int argc, const struct kv_str *argv)
{
	struct fake_log *f = arg;

	resp_encode_command(&f->records, argc, argv);
	f->count++;
	return 0;
}

/*
 * A snapshot taken while writes go on between its steps (sets, deletes, new
 * keys, expiries that lapse; if flush, a FLUSHALL halfway and a keyspace
 * of new values after it), each recorded
 * after the step before it as aof_rewrite.c does: replaying the stream
 * gives the keyspace as it is at the end. The keys that were there before
 * the snapshot are in no record but the snapshot's.
 */
static void snapshot_under_writes(bool flush)
{
	static struct fake_log slog;
	const struct kv_log ops = { fake_reserve, fake_append, fake_info, fake_rewrite, &slog };
	struct kv_server live = { .appendfsync = "always" }, again = { .appendfsync = "always" };
	struct buf o = { 0 };
	struct kv_client c = { .srv = &live, .out = &o, .now_ms = 1700000000000 };
	struct aof_snapshot snap;
	int steps = 0, rc;
	char line[96];

	memset(&slog, 0, sizeof(slog));
	db_init(&live.db, 5, 6);
	for (int i = 0; i < 3000; i++) { /* the keyspace before: not in slog */
		char k[16], v[32];
		int64_t exp = i % 7 == 0 ? c.now_ms + 100000 : i % 13 == 0 ? c.now_ms + 50 : 0;

		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d-before", i);
		CHECK_EQ(db_set(&live.db, k, strlen(k), v, strlen(v), exp, c.now_ms), 0);
	}
	live.log = &ops; /* from here on, writes are recorded, in line with the snapshot */
	aof_snapshot_init(&snap, snap_emit, &slog, 300);
	while ((rc = aof_snapshot_step(&snap, &live.db, 16, c.now_ms)) > 0) {
		for (int j = 0; j < 4; j++) {
			int k = (int)(rnd() % 3500);

			snprintf(line, sizeof(line), "SET k%d v%d-at-step-%d", k, k, steps);
			exec_line(&c, line);
		}
		snprintf(line, sizeof(line), "DEL k%d k%d", (int)(rnd() % 3500), (int)(rnd() % 3500));
		exec_line(&c, line);
		snprintf(line, sizeof(line), "SET n%d new PX %d", steps, steps % 2 ? 100000 : 60);
		exec_line(&c, line);
		if (flush && steps == 60) { /* and a new keyspace for the rest of the scan */
			exec_line(&c, "FLUSHALL");
			for (int k = 0; k < 2000; k++) {
				snprintf(line, sizeof(line), "SET k%d v%d-after-flushall", k, k);
				exec_line(&c, line);
			}
		}
		c.now_ms += 1; /* the 50 ms expiries lapse halfway, the 60 ms ones later */
		steps++;
	}
	CHECK_EQ(rc, 0);
	CHECK(steps > 100);
	CHECK(snap.keys > 0);
	CHECK(snap.commands < snap.keys); /* MSETs of many keys */
	CHECK_EQ(aof_snapshot_step(&snap, &live.db, 16, c.now_ms), 0); /* done stays done */
	aof_snapshot_free(&snap);

	db_init(&again.db, 7, 8);
	CHECK_EQ(replay_records(&slog.records, &again, c.now_ms), slog.count);
	same_keyspace(&live.db, &again.db, c.now_ms);
	CHECK(db_live_count(&live.db, c.now_ms) > (flush ? 1900u : 2500u));
	db_free(&again.db);
	db_free(&live.db);
	buf_free(&slog.records);
	buf_free(&o);
}

/* An empty keyspace is a snapshot of no commands; an emit error stops it and stays. */
static int failing_emit(void *arg, int argc, const struct kv_str *argv)
{
	(void)arg;
	(void)argc;
	(void)argv;
	return -ENOSPC;
}

static void test_snapshot(void)
{
	struct db db;
	struct aof_snapshot snap;

	snapshot_under_writes(false);
	snapshot_under_writes(true);
	db_init(&db, 1, 1);
	aof_snapshot_init(&snap, failing_emit, NULL, 100);
	CHECK_EQ(aof_snapshot_step(&snap, &db, 10, 0), 0);
	CHECK_EQ(snap.commands, 0);
	aof_snapshot_free(&snap);
	CHECK_EQ(db_set(&db, "a", 1, "1", 1, DB_NO_EXPIRY, 0), 0);
	aof_snapshot_init(&snap, failing_emit, NULL, 100);
	CHECK_EQ(aof_snapshot_step(&snap, &db, 10, 0), -ENOSPC);
	CHECK_EQ(aof_snapshot_step(&snap, &db, 10, 0), -ENOSPC);
	aof_snapshot_free(&snap);
	db_free(&db);
}

int main(void)
{
	test_log_records();
	test_log_super();
	test_log_regions();
	test_commands();
	test_commands_replay();
	test_snapshot();
	db_free(&srv.db);
	buf_free(&out);
	buf_free(&flog.records);
	return check_finish("kvstore log: records, superblock, regions, commands, snapshot");
}
