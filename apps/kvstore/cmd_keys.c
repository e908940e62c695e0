/* SPDX-License-Identifier: MIT */
/* Keyspace commands: DEL, EXISTS, KEYS, SCAN, TTL, PTTL, DBSIZE, FLUSHALL. */
#include <inttypes.h>
#include <stdio.h>

#include "command.h"
#include "glob.h"
#include "resp.h"

static void cmd_del(struct kv_client *c, int argc, const struct kv_str *argv)
{
	long long deleted = 0;

	for (int i = 1; i < argc; i++)
		deleted += db_delete(&c->srv->db, argv[i].ptr, argv[i].len, c->now_ms);
	/* Keys that were not there are not there at replay either: the request is its effect. */
	if (deleted)
		command_log(c, argc, argv);
	reply_int(c->out, deleted);
}

static void cmd_exists(struct kv_client *c, int argc, const struct kv_str *argv)
{
	long long n = 0;

	for (int i = 1; i < argc; i++)
		n += db_find(&c->srv->db, argv[i].ptr, argv[i].len, c->now_ms) != NULL;
	reply_int(c->out, n);
}

/* Keys matching a pattern, gathered into a side buffer while counting them. */
struct match {
	const struct kv_str *pattern; /* NULL: all */
	struct buf keys;
	long long n;
};

static void collect(void *arg, const struct db_entry *e)
{
	struct match *m = arg;

	if (m->pattern && !glob_match(m->pattern->ptr, m->pattern->len, e->key, e->klen))
		return;
	reply_bulk(&m->keys, e->key, e->klen);
	m->n++;
}

/* TYPE other than string: there are no such keys. */
static void collect_none(void *arg, const struct db_entry *e)
{
	(void)arg;
	(void)e;
}

/* The array of the gathered keys. */
static void reply_matches(struct kv_client *c, struct match *m)
{
	if (m->keys.oom) {
		reply_error(c->out, KV_ERR_OOM);
	} else {
		reply_array(c->out, m->n);
		buf_append(c->out, m->keys.data, m->keys.len);
	}
	buf_free(&m->keys);
}

static void cmd_keys(struct kv_client *c, int argc, const struct kv_str *argv)
{
	struct match m = { &argv[1], { 0 }, 0 };
	const struct db *db = &c->srv->db;

	(void)argc;
	for (size_t i = 0; i <= db->mask; i++)
		for (const struct db_entry *e = db->buckets[i]; e; e = e->next)
			if (!db_expired(e, c->now_ms))
				collect(&m, e);
	reply_matches(c, &m);
}

/* SCAN's cursor: an unsigned 64-bit decimal, as Redis reads it. */
static bool parse_cursor(const struct kv_str *s, uint64_t *cursor)
{
	uint64_t v = 0;

	if (s->len == 0 || s->len > 20)
		return false;
	for (size_t i = 0; i < s->len; i++) {
		unsigned d = (unsigned)(s->ptr[i] - '0');

		if (s->ptr[i] < '0' || s->ptr[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*cursor = v;
	return true;
}

static void cmd_scan(struct kv_client *c, int argc, const struct kv_str *argv)
{
	struct match m = { NULL, { 0 }, 0 };
	uint64_t cursor;
	long long count = 10;
	bool strings = true; /* TYPE string, or no TYPE: every key here is a string */
	char digits[24];

	if (!parse_cursor(&argv[1], &cursor)) {
		reply_error(c->out, "ERR invalid cursor");
		return;
	}
	for (int i = 2; i < argc; i++) {
		if (str_is(&argv[i], "match") && i + 1 < argc) {
			m.pattern = &argv[++i];
		} else if (str_is(&argv[i], "count") && i + 1 < argc) {
			if (!resp_parse_ll(argv[i + 1].ptr, argv[i + 1].len, &count)) {
				reply_error(c->out, KV_ERR_NOT_INT);
				return;
			}
			i++;
			if (count < 1) {
				reply_error(c->out, KV_ERR_SYNTAX);
				return;
			}
		} else if (str_is(&argv[i], "type") && i + 1 < argc) {
			strings = str_is(&argv[++i], "string");
		} else {
			reply_error(c->out, KV_ERR_SYNTAX);
			return;
		}
	}
	cursor = db_scan(&c->srv->db, cursor, (size_t)count, c->now_ms,
			 strings ? collect : collect_none, &m);
	reply_array(c->out, 2);
	reply_bulk(c->out, digits, (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, cursor));
	reply_matches(c, &m);
}

/* TTL and PTTL: -2 no such key, -1 no expiry, else the time left (TTL rounds to seconds). */
static void time_left(struct kv_client *c, const struct kv_str *key, long long unit_ms)
{
	struct db_entry *e = db_find(&c->srv->db, key->ptr, key->len, c->now_ms);

	if (!e)
		reply_int(c->out, -2);
	else if (e->expire_ms == DB_NO_EXPIRY)
		reply_int(c->out, -1);
	else
		reply_int(c->out, (e->expire_ms - c->now_ms + unit_ms / 2) / unit_ms);
}

static void cmd_ttl(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	time_left(c, &argv[1], 1000);
}

static void cmd_pttl(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	time_left(c, &argv[1], 1);
}

static void cmd_dbsize(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	(void)argv;
	reply_int(c->out, (long long)db_live_count(&c->srv->db, c->now_ms));
}

static void cmd_flushall(struct kv_client *c, int argc, const struct kv_str *argv)
{
	static const struct kv_str flushall = { "FLUSHALL", 8 };

	/* ASYNC and SYNC are accepted: freeing is synchronous either way. */
	if (argc > 2 || (argc == 2 && !str_is(&argv[1], "async") && !str_is(&argv[1], "sync"))) {
		reply_error(c->out, KV_ERR_SYNTAX);
		return;
	}
	db_clear(&c->srv->db);
	command_log(c, 1, &flushall);
	reply_status(c->out, "OK");
}

const struct command key_commands[] = {
	{ "del", -2, CMD_FREE, cmd_del },
	{ "exists", -2, CMD_READ, cmd_exists },
	{ "keys", 2, CMD_READ, cmd_keys },
	{ "scan", -2, CMD_READ, cmd_scan },
	{ "ttl", 2, CMD_READ, cmd_ttl },
	{ "pttl", 2, CMD_READ, cmd_pttl },
	{ "dbsize", 1, CMD_READ, cmd_dbsize },
	{ "flushall", -1, CMD_FREE, cmd_flushall },
	{ NULL, 0, CMD_READ, NULL },
};
