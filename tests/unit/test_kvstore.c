/* SPDX-License-Identifier: MIT */
/*
 * Unit test of kvstore's wire and keyspace: CRC-32, glob patterns, the RESP
 * parser (with a fuzz loop), reply encoding, and the keyspace (SCAN across
 * resizes). The log, the commands and rewrites: test_kvstore_log.c.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "crc32.h"
#include "db.h"
#include "glob.h"
#include "kvstore_test.h"
#include "reply.h"
#include "resp.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull; /* check.h's rnd() */

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
	size_t cut = n ? (size_t)(rnd() % n) : 0;
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
			n = rnd() % sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = rnd() % 2 ? alphabet[rnd() % (sizeof(alphabet) - 1)]
						   : (char)rnd();
		} else { /* a valid request with a few bytes changed, cut or doubled */
			const char *s = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];

			n = strlen(s);
			memcpy(buf, s, n);
			for (int m = (int)(rnd() % 4); m >= 0; m--) {
				size_t at = rnd() % n;

				switch (rnd() % 4) {
				case 0: buf[at] = (char)rnd(); break;
				case 1: buf[at] = alphabet[rnd() % (sizeof(alphabet) - 1)]; break;
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

int main(void)
{
	test_crc32();
	test_glob();
	test_resp_requests();
	test_parse_ll();
	test_resp_fuzz();
	test_reply();
	test_db();
	return check_finish("kvstore: crc32, glob, resp, reply, db");
}
