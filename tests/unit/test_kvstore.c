/* SPDX-License-Identifier: MIT */
/*
 * Unit test of kvstore's host-buildable parts: CRC-32, glob patterns, the
 * RESP parser (with a fuzz loop), reply encoding, the log's records and
 * replay's torn-tail rules, the keyspace (SCAN across resizes), and the
 * commands' exact replies and logged effects, replayed into a second store.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "aof_record.h"
#include "check.h"
#include "command.h"
#include "config.h"
#include "crc32.h"
#include "db.h"
#include "glob.h"
#include "reply.h"
#include "resp.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* --- CRC-32 ---------------------------------------------------------------------------- */

static void test_crc32(void)
{
	CHECK_EQ(crc32_update(0, "123456789", 9), 0xcbf43926u);
	CHECK_EQ(crc32_update(0, "", 0), 0);
	CHECK_EQ(crc32_update(crc32_update(0, "1234", 4), "56789", 5), 0xcbf43926u);
	CHECK_EQ(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
}

/* --- glob ------------------------------------------------------------------------------ */

static void glob_case(const char *pat, const char *s, bool want)
{
	if (!CHECK_EQ(glob_match(pat, strlen(pat), s, strlen(s)), want))
		fprintf(stderr, "    pattern \"%s\" string \"%s\"\n", pat, s);
}

static void test_glob(void)
{
	glob_case("*", "", true);
	glob_case("*", "anything", true);
	glob_case("", "", true);
	glob_case("", "a", false);
	glob_case("h?llo", "hello", true);
	glob_case("h?llo", "hllo", false);
	glob_case("h*llo", "hllo", true);
	glob_case("h*llo", "heeeello", true);
	glob_case("h[ae]llo", "hallo", true);
	glob_case("h[ae]llo", "hillo", false);
	glob_case("h[^e]llo", "hallo", true);
	glob_case("h[^e]llo", "hello", false);
	glob_case("h[a-b]llo", "hbllo", true);
	glob_case("h[a-b]llo", "hcllo", false);
	glob_case("h[b-a]llo", "hallo", true); /* reversed range */
	glob_case("h\\*llo", "h*llo", true);
	glob_case("h\\*llo", "hello", false);
	glob_case("[\\]]", "]", true);
	glob_case("[a-]", "-", true);
	glob_case("a\\", "a\\", true); /* a trailing backslash is itself */
	glob_case("[abc", "b", true);  /* unclosed: the rest is the set */
	glob_case("key:*:x", "key:1:x", true);
	glob_case("key:*:x", "key:1:y", false);
	glob_case("*a*b*c*", "xxaxxbxxcxx", true);
	glob_case("*a*b*c*", "xxaxxcxxbxx", false);
	glob_case("a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  false);
	CHECK(glob_match("a?c", 3, "a\0c", 3)); /* binary-safe */
}

/* --- the RESP parser ------------------------------------------------------------------- */

/* Parse one command from a malloc'ed copy of exactly n bytes (so ASan sees over-reads). */
static int parse_exact(struct resp_parser *p, const char *s, size_t n, char **copy)
{
	*copy = malloc(n ? n : 1);
	memcpy(*copy, s, n);
	resp_parser_reset(p);
	return resp_parse(p, *copy, n);
}

/* pos: the command's length, 0 for all of s. */
static void parses(const char *s, int argc, const char *const *want, size_t pos)
{
	struct resp_parser p;
	size_t n = strlen(s);
	char *copy;

	if (pos == 0)
		pos = n;
	resp_parser_init(&p);
	if (CHECK_EQ(parse_exact(&p, s, n, &copy), RESP_DONE) && CHECK_EQ(p.argc, argc)) {
		CHECK_EQ(p.pos, pos);
		for (int i = 0; i < argc; i++)
			CHECK(p.argv[i].len == strlen(want[i]) &&
			      !memcmp(p.argv[i].ptr, want[i], p.argv[i].len));
	}
	free(copy);
	resp_parser_free(&p);
}

static void refuses(const char *s, const char *error)
{
	struct resp_parser p;
	char *copy;

	resp_parser_init(&p);
	if (!CHECK_EQ(parse_exact(&p, s, strlen(s), &copy), RESP_ERROR))
		fprintf(stderr, "    input \"%s\"\n", s);
	else
		CHECK_STR_EQ(p.error, error);
	free(copy);
	resp_parser_free(&p);
}

static void test_resp_requests(void)
{
	static const char *const set[] = { "SET", "k", "v" }, *const ping[] = { "PING" };
	static const char *const spaced[] = { "set", "a", "b" };

	parses("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", 3, set, 0);
	parses("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 1, ping, 14); /* pipelined */
	parses("PING\r\n", 1, ping, 0);
	parses("PING\n", 1, ping, 0);
	parses("  set \t a  b \r\n", 3, spaced, 0);
	parses("*0\r\n", 0, NULL, 0);
	parses("*-1\r\n", 0, NULL, 0);
	parses("\r\n", 0, NULL, 0);

	/* Binary-safe: NUL, CR and LF inside a bulk string are data. */
	static const char bin[] = "*2\r\n$3\r\nGET\r\n$5\r\na\0\r\nb\r\n";
	struct resp_parser p;
	char *copy;

	resp_parser_init(&p);
	if (CHECK_EQ(parse_exact(&p, bin, sizeof(bin) - 1, &copy), RESP_DONE) &&
	    CHECK_EQ(p.argc, 2))
		CHECK(p.argv[1].len == 5 && !memcmp(p.argv[1].ptr, "a\0\r\nb", 5));
	free(copy);

	/* Incomplete requests ask for more, with a hint of how much for a bulk string. */
	CHECK_EQ(parse_exact(&p, "*2\r\n$3\r\nGET\r\n$10\r\nabc", 21, &copy), RESP_MORE);
	CHECK_EQ(p.need, 30);
	free(copy);
	CHECK_EQ(parse_exact(&p, "*2\r", 3, &copy), RESP_MORE);
	free(copy);
	CHECK_EQ(parse_exact(&p, "GET k", 5, &copy), RESP_MORE);
	free(copy);
	resp_parser_free(&p);

	refuses("*abc\r\n", "ERR Protocol error: invalid multibulk length");
	refuses("*1048577\r\n", "ERR Protocol error: invalid multibulk length");
	refuses("*01\r\n", "ERR Protocol error: invalid multibulk length");
	refuses("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length");
	refuses("*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length");
	refuses("*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length");
	refuses("*1\r\n$99999999999999999999\r\n", "ERR Protocol error: invalid bulk length");
	refuses("*1\r\nGET\r\n", "ERR Protocol error: expected '$', got 'G'");
	refuses("*1\r\n$3\r\nGETxx", "ERR Protocol error: bulk string not followed by CRLF");

	/* Lines without an end: too long is an error, not a wait for memory to run out. */
	size_t big = KV_INLINE_MAX + 10;
	char *line = malloc(big + 1);

	memset(line, 'a', big);
	line[big] = '\0';
	refuses(line, "ERR Protocol error: too big inline request");
	line[0] = '*';
	refuses(line, "ERR Protocol error: too big mbulk count string");
	memcpy(line, "*1\r\n$", 5);
	refuses(line, "ERR Protocol error: too big bulk count string");
	free(line);
}

static void ll_case(const char *s, bool ok, long long want)
{
	long long v = 12345;

	if (!CHECK_EQ(resp_parse_ll(s, strlen(s), &v), ok))
		fprintf(stderr, "    input \"%s\"\n", s);
	else if (ok)
		CHECK_EQ(v, want);
}

static void test_parse_ll(void)
{
	ll_case("0", true, 0);
	ll_case("42", true, 42);
	ll_case("-42", true, -42);
	ll_case("9223372036854775807", true, LLONG_MAX);
	ll_case("-9223372036854775808", true, LLONG_MIN);
	ll_case("9223372036854775808", false, 0);
	ll_case("-9223372036854775809", false, 0);
	ll_case("18446744073709551616", false, 0);
	ll_case("", false, 0);
	ll_case("-", false, 0);
	ll_case("-0", false, 0);
	ll_case("007", false, 0);
	ll_case("+1", false, 0);
	ll_case(" 1", false, 0);
	ll_case("1 ", false, 0);
	ll_case("1a", false, 0);
}

/*
 * Fuzz: random bytes and mutated valid requests, parsed whole and in two
 * pieces. No crash or over-read (ASan), arguments inside the command, and
 * the same outcome however the bytes arrive.
 */
static void fuzz_one(const char *input, size_t n)
{
	struct resp_parser a, b;
	char *whole = malloc(n ? n : 1);
	size_t cut = n ? (size_t)(rng() % n) : 0;
	int ra, rb;

	memcpy(whole, input, n);
	resp_parser_init(&a);
	ra = resp_parse(&a, whole, n);
	if (ra == RESP_DONE) {
		CHECK(a.pos <= n);
		for (int i = 0; i < a.argc; i++)
			CHECK(a.argv[i].ptr >= whole &&
			      a.argv[i].ptr + a.argv[i].len <= whole + a.pos);
	}
	if (ra == RESP_ERROR)
		CHECK(a.error && !strpbrk(a.error, "\r\n"));

	/*
	 * The same bytes arriving in two parts: a prefix alone, then all of
	 * them. A prefix that decides (done or broken) decides as the whole
	 * does; one that asks for more must end where the whole does.
	 */
	char *prefix = malloc(cut ? cut : 1);

	memcpy(prefix, input, cut);
	resp_parser_init(&b);
	rb = resp_parse(&b, prefix, cut);
	if (rb == RESP_MORE)
		rb = resp_parse(&b, whole, n);
	if (CHECK_EQ(rb, ra) && ra == RESP_DONE) {
		CHECK_EQ(b.pos, a.pos);
		CHECK_EQ(b.argc, a.argc);
	}
	resp_parser_free(&a);
	resp_parser_free(&b);
	free(prefix);
	free(whole);
}

static void test_resp_fuzz(void)
{
	static const char *const seeds[] = {
		"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
		"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
		"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
		"SET a b\r\nGET a\r\n",
		"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$2\r\nEX\r\n$2\r\n10\r\n",
	};
	static const char alphabet[] = "*$\r\n-0123456789 aX";
	char buf[256];

	for (int iter = 0; iter < 60000; iter++) {
		size_t n;

		if (iter % 3 == 0) { /* random bytes, often from the protocol's own alphabet */
			n = rng() % sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = rng() % 2 ? alphabet[rng() % (sizeof(alphabet) - 1)]
						   : (char)rng();
		} else { /* a valid request with a few bytes changed, cut or doubled */
			const char *s = seeds[rng() % (sizeof(seeds) / sizeof(seeds[0]))];

			n = strlen(s);
			memcpy(buf, s, n);
			for (int m = (int)(rng() % 4); m >= 0; m--) {
				size_t at = rng() % n;

				switch (rng() % 4) {
				case 0: buf[at] = (char)rng(); break;
				case 1: buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)]; break;
				case 2: n = at + 1; break;
				default:
					if (2 * n < sizeof(buf)) {
						memcpy(buf + n, buf, n);
						n *= 2;
					}
				}
			}
		}
		fuzz_one(buf, n);
	}
}

/* --- reply encoding -------------------------------------------------------------------- */

static void buf_is(struct buf *b, const char *want)
{
	if (!CHECK(b->len == strlen(want) && !memcmp(b->data, want, b->len)))
		fprintf(stderr, "    got \"%.*s\"\n    want \"%s\"\n", (int)b->len, b->data, want);
	buf_reset(b, 0);
}

static void test_reply(void)
{
	struct buf b = { 0 };
	struct kv_str argv[] = { { "SET", 3 }, { "k\0y", 3 }, { "", 0 } };

	reply_status(&b, "OK");
	buf_is(&b, "+OK\r\n");
	reply_error(&b, "ERR bad %s", "a\r\nb");
	buf_is(&b, "-ERR bad a  b\r\n");
	reply_int(&b, -5);
	reply_nil(&b);
	reply_array(&b, 2);
	reply_bulk(&b, "xy", 2);
	buf_is(&b, ":-5\r\n$-1\r\n*2\r\n$2\r\nxy\r\n");
	resp_encode_command(&b, 3, argv);
	CHECK_EQ(b.len, resp_command_size(3, argv));
	CHECK(!memcmp(b.data, "*3\r\n$3\r\nSET\r\n$3\r\nk\0y\r\n$0\r\n\r\n", b.len));
	buf_free(&b);
}

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

	im->applied[im->napplied] = seq;
	snprintf(im->payloads[im->napplied++], 32, "%.*s", (int)len, (const char *)payload);
	return 0;
}

/* Replay im with the given chunk size; returns the records applied. */
static uint64_t img_replay(struct image *im, size_t chunk, struct aof_pos *end)
{
	struct aof_replay r = { im->size, chunk, img_read, img_apply, im };
	uint64_t records = 0;

	im->napplied = 0;
	CHECK_EQ(aof_replay(&r, end, &records), 0);
	CHECK_EQ(records, im->napplied);
	return records;
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

/* --- the keyspace ---------------------------------------------------------------------- */

static void mark_seen(void *arg, const struct db_entry *e)
{
	unsigned char *seen = arg;

	seen[atoi(e->key + 1)] = 1; /* keys are "k<number>" */
}

static void set_key(struct db *db, int i, int64_t expire)
{
	char k[16];

	snprintf(k, sizeof(k), "k%d", i);
	CHECK_EQ(db_set(db, k, strlen(k) + 1, "v", 1, expire, 1000), 0);
}

static void del_key(struct db *db, int i)
{
	char k[16];

	snprintf(k, sizeof(k), "k%d", i);
	db_delete(db, k, strlen(k) + 1, 1000);
}

/* A scan interleaved with growth (grow=1) or shrinkage: every key present throughout is seen. */
static void scan_while_resizing(bool grow)
{
	enum { KEEP = 300, EXTRA = 3000 };
	static unsigned char seen[KEEP + EXTRA];
	struct db db;
	uint64_t cursor = 0;
	int step = 0, added = KEEP;

	memset(seen, 0, sizeof(seen));
	db_init(&db, 1, 2);
	for (int i = 0; i < (grow ? KEEP : KEEP + EXTRA); i++)
		set_key(&db, i, DB_NO_EXPIRY);
	do {
		cursor = db_scan(&db, cursor, 7, 1000, mark_seen, seen);
		for (int j = 0; j < 40 && added < KEEP + EXTRA; j++, added++)
			if (grow)
				set_key(&db, added, DB_NO_EXPIRY);
			else
				del_key(&db, added);
		step++;
	} while (cursor != 0 && step < 100000);
	CHECK(db.mask + 1 != (grow ? 512u : 4096u)); /* the table did resize */
	for (int i = 0; i < KEEP; i++)
		if (!CHECK(seen[i]))
			fprintf(stderr, "    key k%d missed (%s)\n", i, grow ? "grow" : "shrink");
	db_free(&db);
}

static void test_db(void)
{
	struct db db;
	struct db_entry *e;

	CHECK_EQ(db_init(&db, 7, 8), 0);
	CHECK_EQ(db_set(&db, "a", 1, "1", 1, DB_NO_EXPIRY, 1000), 0);
	CHECK_EQ(db_set(&db, "a", 1, "22", 2, DB_NO_EXPIRY, 1000), 0); /* replace */
	e = db_find(&db, "a", 1, 1000);
	if (CHECK(e))
		CHECK(e->vlen == 2 && !memcmp(e->val, "22", 2));
	CHECK_EQ(db_set(&db, "e", 1, "", 0, 1500, 1000), 0);
	CHECK_EQ(db_live_count(&db, 1000), 2);
	CHECK_EQ(db_live_count(&db, 1500), 1); /* expired at 1500 */
	CHECK(db_find(&db, "e", 1, 1499) != NULL);
	CHECK(db_find(&db, "e", 1, 1500) == NULL); /* lazily removed */
	CHECK_EQ(db.count, 1);
	CHECK_EQ(db.expiring, 0);
	CHECK_EQ(db_set(&db, "p", 1, "x", 1, 999, 1000), 0); /* an expiry in the past deletes */
	CHECK(db_find(&db, "p", 1, 1000) == NULL);
	CHECK_EQ(db_delete(&db, "a", 1, 1000), 1);
	CHECK_EQ(db_delete(&db, "a", 1, 1000), 0);

	for (int i = 0; i < 1000; i++)
		set_key(&db, i, i % 2 ? 2000 : DB_NO_EXPIRY);
	CHECK_EQ(db.mask + 1, 1024);
	CHECK_EQ(db_live_count(&db, 3000), 500);
	size_t removed = 0;
	for (int i = 0; i < 8; i++)
		removed += db_expire_step(&db, 3000, 256);
	CHECK_EQ(removed, 500);
	CHECK_EQ(db.count, 500);
	db_clear(&db);
	CHECK_EQ(db.count, 0);
	CHECK_EQ(db.mask + 1, KV_DB_MIN_BUCKETS);
	db_free(&db);

	scan_while_resizing(true);
	scan_while_resizing(false);
}

/* --- commands -------------------------------------------------------------------------- */

/* A log in memory: each record's RESP payload, back to back. */
struct fake_log {
	struct buf records;
	int count;
	bool full;
};

static int fake_reserve(void *arg, size_t bytes)
{
	struct fake_log *f = arg;

	(void)bytes;
	return f->full ? -ENOSPC : 0;
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
static const struct kv_log fake_ops = { fake_reserve, fake_append, fake_info, &flog };
static struct kv_server srv;
static struct buf out;
static struct kv_client cl = { .srv = &srv, .out = &out, .now_ms = 1700000000000 };

/* Run an inline command line and compare the whole reply. */
static void run(const char *line, const char *want)
{
	struct resp_parser p;
	char req[256], *copy;
	int n = snprintf(req, sizeof(req), "%s\r\n", line);

	resp_parser_init(&p);
	if (CHECK_EQ(parse_exact(&p, req, (size_t)n, &copy), RESP_DONE) && p.argc > 0) {
		buf_reset(&out, 0);
		command_run(&cl, p.argc, p.argv);
		if (!CHECK(out.len == strlen(want) && !memcmp(out.data, want, out.len)))
			fprintf(stderr, "    %s\n    got  \"%.*s\"\n    want \"%s\"\n", line,
				(int)out.len, out.data, want);
	}
	free(copy);
	resp_parser_free(&p);
}

static void test_commands(void)
{
	db_init(&srv.db, 3, 4);
	srv.log = &fake_ops;
	srv.appendfsync = "always";
	srv.port = 6379;

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
	struct buf scratch = { 0 };
	struct kv_client rc = { .srv = &again, .out = &scratch, .now_ms = cl.now_ms,
				.replaying = true };
	struct resp_parser p;
	size_t at = 0;
	int records = 0;

	run("SET e v EX 100", "+OK\r\n");
	run("FLUSHALL", "+OK\r\n");
	run("SET e v EX 100", "+OK\r\n");
	run("INCR e", "-ERR value is not an integer or out of range\r\n");
	run("SET n 5 PX 60000", "+OK\r\n");
	run("INCR n", ":6\r\n");
	run("MSET m1 a m2 b", "+OK\r\n");
	run("DEL m1", ":1\r\n");
	db_init(&again.db, 9, 9);
	resp_parser_init(&p);
	while (at < flog.records.len) {
		resp_parser_reset(&p);
		if (!CHECK_EQ(resp_parse(&p, flog.records.data + at, flog.records.len - at),
			      RESP_DONE))
			break;
		buf_reset(&scratch, 0);
		command_run(&rc, p.argc, p.argv);
		CHECK(scratch.len > 0 && scratch.data[0] != '-');
		at += p.pos;
		records++;
	}
	CHECK_EQ(records, flog.count);
	CHECK_EQ(again.db.count, srv.db.count);
	for (size_t i = 0; i <= srv.db.mask; i++)
		for (struct db_entry *e = srv.db.buckets[i]; e; e = e->next) {
			struct db_entry *f = db_find(&again.db, e->key, e->klen, cl.now_ms);

			if (CHECK(f))
				CHECK(f->vlen == e->vlen && !memcmp(f->val, e->val, e->vlen) &&
				      f->expire_ms == e->expire_ms);
		}
	/* INCR on a key with an expiry is logged as SET ... PXAT, absolute. */
	static const char pxat[] = "$4\r\nPXAT\r\n$13\r\n1700000060000";
	CHECK(memmem(flog.records.data, flog.records.len, pxat, sizeof(pxat) - 1) != NULL);
	/* Writes are refused, and not run, when the log has no room. */
	flog.full = true;
	run("SET full v", "-ERR the append-only log's device is full: writes are refused\r\n");
	run("EXISTS full", ":0\r\n");
	flog.full = false;
	resp_parser_free(&p);
	buf_free(&scratch);
	db_free(&again.db);
}

int main(void)
{
	test_crc32();
	test_glob();
	test_resp_requests();
	test_parse_ll();
	test_resp_fuzz();
	test_reply();
	test_log_records();
	test_db();
	test_commands();
	test_commands_replay();
	db_free(&srv.db);
	buf_free(&out);
	buf_free(&flog.records);
	return check_finish("kvstore: crc32, glob, resp, log records, db, commands");
}
