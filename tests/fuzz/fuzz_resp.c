/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the kvstore appliance's RESP request parser (resp.c) on the
 * bytes a client sends, and the commands it hands on (command.c, cmd_*.c,
 * db.c, glob.c) as a connection runs them, in memory with a log that only
 * records. Checked: the same commands come out whether the bytes arrive at
 * once or in pieces; the parser never looks past what arrived (those bytes
 * are poisoned for ASan); arguments lie inside their command; a command
 * encoded again (as the log stores it) parses back to itself.
 */
#include <errno.h>
#include <sanitizer/asan_interface.h>

#include "command.h"
#include "fuzz.h"
#include "resp.h"

#define MAX_COMMANDS 4096 /* pipelined commands compared between the two passes */
#define NOW_MS 1700000000000ll

/* What a pass saw of one command: how it ended, and where its arguments were. */
struct seen {
	int rc;
	size_t pos;
	int argc;
	uint64_t hash; /* of the arguments' lengths and bytes */
};

static struct seen seen[MAX_COMMANDS];
static unsigned nr_seen;

static struct buf records; /* what the log was given */

static int log_reserve(void *arg, size_t bytes, bool frees)
{
	(void)arg;
	(void)bytes;
	(void)frees;
	return 0;
}

static uint64_t log_append(void *arg, int argc, const struct kv_str *argv)
{
	(void)arg;
	resp_encode_command(&records, argc, argv);
	return records.len;
}

static void log_info(void *arg, struct buf *out)
{
	(void)arg;
	buf_append(out, "aof_enabled:1\r\n", 15);
}

/* A rewrite that is always already running: BGREWRITEAOF answers an error. */
static int log_rewrite(void *arg, char *why, size_t len)
{
	(void)arg;
	(void)why;
	(void)len;
	return -EALREADY;
}

static const struct kv_log fuzz_log = { log_reserve, log_append, log_info, log_rewrite, NULL };

static uint64_t hash_args(int argc, const struct kv_str *argv)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < argc; i++) {
		h = (h ^ argv[i].len) * 1099511628211ull;
		for (size_t k = 0; k < argv[i].len; k++)
			h = (h ^ (uint8_t)argv[i].ptr[k]) * 1099511628211ull;
	}
	return h;
}

/* Encoded again as the log stores it, a command parses back to itself. */
static void check_reencoded(int argc, const struct kv_str *argv)
{
	struct buf b;
	struct resp_parser p;
	char *copy;

	buf_init(&b);
	resp_encode_command(&b, argc, argv);
	FUZZ_CHECK(!b.oom && b.len == resp_command_size(argc, argv));
	copy = fuzz_dup(b.data, b.len);
	resp_parser_init(&p);
	FUZZ_CHECK(resp_parse(&p, copy, b.len) == RESP_DONE);
	FUZZ_CHECK(p.pos == b.len && p.argc == argc);
	FUZZ_CHECK(hash_args(p.argc, p.argv) == hash_args(argc, argv));
	resp_parser_free(&p);
	free(copy);
	buf_free(&b);
}

/*
 * The whole input at once, as client.c's run_commands() takes what arrived:
 * each complete command parsed and run, until an error, QUIT or the end.
 */
static void whole_pass(const char *buf, size_t len)
{
	struct kv_server srv = { .log = &fuzz_log, .appendfsync = "always", .port = 6379 };
	struct buf out;
	struct kv_client c = { .srv = &srv, .out = &out, .now_ms = NOW_MS };
	struct resp_parser p;
	size_t start = 0;

	if (db_init(&srv.db, 1, 2))
		abort();
	buf_init(&out);
	buf_init(&records);
	resp_parser_init(&p);
	nr_seen = 0;
	while (start < len && nr_seen < MAX_COMMANDS && !c.quit) {
		int rc = resp_parse(&p, buf + start, len - start);
		struct seen *s = &seen[nr_seen++];

		*s = (struct seen){ .rc = rc, .pos = p.pos, .argc = p.argc };
		if (rc == RESP_MORE)
			break;
		if (rc == RESP_ERROR) {
			FUZZ_CHECK(p.error && !strpbrk(p.error, "\r\n"));
			break;
		}
		FUZZ_CHECK(rc == RESP_DONE && p.pos >= 1 && p.pos <= len - start);
		for (int i = 0; i < p.argc; i++)
			FUZZ_CHECK(p.argv[i].ptr >= buf + start &&
				   p.argv[i].len <= (size_t)(buf + start + p.pos - p.argv[i].ptr));
		s->hash = hash_args(p.argc, p.argv);
		if (p.argc > 0) {
			check_reencoded(p.argc, p.argv);
			command_run(&c, p.argc, p.argv);
			FUZZ_CHECK(!out.oom && out.len > 0);
			buf_reset(&out, 0);
			c.now_ms++;
		}
		start += p.pos;
		resp_parser_reset(&p);
	}
	/* Every record the log was given is one whole command. */
	for (size_t at = 0; at < records.len;) {
		resp_parser_reset(&p);
		FUZZ_CHECK(resp_parse(&p, records.data + at, records.len - at) == RESP_DONE);
		FUZZ_CHECK(p.argc >= 1);
		at += p.pos;
	}
	resp_parser_free(&p);
	buf_free(&records);
	buf_free(&out);
	db_free(&srv.db);
}

/*
 * The same bytes arriving step bytes at a time: the parser resumes each
 * command and never reads past what arrived. Must see what the whole pass saw.
 */
static void split_pass(char *buf, size_t len, size_t step)
{
	struct resp_parser p;
	size_t start = 0;
	unsigned n = 0;

	resp_parser_init(&p);
	while (start < len && n < nr_seen) {
		size_t have = 0;
		int rc;

		do {
			have = len - start - have > step ? have + step : len - start;
			ASAN_POISON_MEMORY_REGION(buf + start + have, len - start - have);
			rc = resp_parse(&p, buf + start, have);
			ASAN_UNPOISON_MEMORY_REGION(buf + start + have, len - start - have);
		} while (rc == RESP_MORE && have < len - start);
		FUZZ_CHECK(rc == seen[n].rc);
		if (rc != RESP_DONE)
			break;
		FUZZ_CHECK(p.pos == seen[n].pos && p.argc == seen[n].argc);
		FUZZ_CHECK(hash_args(p.argc, p.argv) == seen[n].hash);
		start += p.pos;
		resp_parser_reset(&p);
		n++;
	}
	resp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);

	whole_pass(buf, size);
	/* QUIT or the command limit may end the whole pass early: compare what it saw. */
	split_pass(buf, size, 1 + size % 13);
	free(buf);
	return 0;
}
