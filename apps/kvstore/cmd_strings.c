/* SPDX-License-Identifier: MIT */
/* String commands: GET, SET (EX, PX, EXAT, PXAT, KEEPTTL, NX, XX), INCR and kin, MGET, MSET. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "command.h"
#include "resp.h"

static bool arg_ll(const struct kv_str *s, long long *v)
{
	return resp_parse_ll(s->ptr, s->len, v);
}

/* Log "SET key val" with "PXAT ms" when the key has an expiry: the effect, in absolute time. */
static void log_set(struct kv_client *c, const struct kv_str *key, const char *val, size_t vlen,
		    int64_t expire_ms)
{
	char at[24];
	struct kv_str argv[5] = { { "SET", 3 }, *key, { val, vlen }, { "PXAT", 4 }, { at, 0 } };

	if (expire_ms == DB_NO_EXPIRY) {
		command_log(c, 3, argv);
		return;
	}
	argv[4].len = (size_t)snprintf(at, sizeof(at), "%lld", (long long)expire_ms);
	command_log(c, 5, argv);
}

static void reply_value(struct kv_client *c, const struct kv_str *key)
{
	struct db_entry *e = db_find(&c->srv->db, key->ptr, key->len, c->now_ms);

	if (e)
		reply_bulk(c->out, e->val, e->vlen);
	else
		reply_nil(c->out);
}

static void cmd_get(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	reply_value(c, &argv[1]);
}

struct set_options {
	bool nx, xx, keepttl;
	int64_t expire_ms; /* absolute, or DB_NO_EXPIRY */
};

/* SET's options after key and value, as Redis reads them. 0, or -1 with the error replied. */
static int set_options(struct kv_client *c, int argc, const struct kv_str *argv,
		       struct set_options *o)
{
	bool have_expiry = false;

	*o = (struct set_options){ .expire_ms = DB_NO_EXPIRY };
	for (int i = 3; i < argc; i++) {
		const struct kv_str *a = &argv[i];
		long long v, unit = 0; /* ms per unit of a relative expiry; 0: absolute */
		bool relative;

		if (str_is(a, "nx") && !o->xx) {
			o->nx = true;
		} else if (str_is(a, "xx") && !o->nx) {
			o->xx = true;
		} else if (str_is(a, "keepttl") && !have_expiry) {
			o->keepttl = have_expiry = true;
		} else if ((str_is(a, "ex") || str_is(a, "px") || str_is(a, "exat") ||
			    str_is(a, "pxat")) &&
			   !have_expiry && i + 1 < argc) {
			relative = a->len == 2;
			unit = (a->ptr[0] | 0x20) == 'e' ? 1000 : 1;
			if (!arg_ll(&argv[++i], &v)) {
				reply_error(c->out, KV_ERR_NOT_INT);
				return -1;
			}
			/* Redis' bounds: positive, and no overflow in ms or added to now. */
			if (v <= 0 || v > LLONG_MAX / unit ||
			    (relative && v * unit > LLONG_MAX - c->now_ms)) {
				reply_error(c->out, "ERR invalid expire time in 'set' command");
				return -1;
			}
			o->expire_ms = (int64_t)(v * unit) + (relative ? c->now_ms : 0);
			have_expiry = true;
		} else {
			reply_error(c->out, KV_ERR_SYNTAX);
			return -1;
		}
	}
	return 0;
}

static void cmd_set(struct kv_client *c, int argc, const struct kv_str *argv)
{
	struct db *db = &c->srv->db;
	struct set_options o;
	struct db_entry *old;

	if (set_options(c, argc, argv, &o))
		return;
	old = db_find(db, argv[1].ptr, argv[1].len, c->now_ms);
	if ((o.nx && old) || (o.xx && !old)) {
		reply_nil(c->out);
		return;
	}
	if (o.keepttl && old)
		o.expire_ms = old->expire_ms;
	if (db_set(db, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len, o.expire_ms,
		   c->now_ms)) {
		reply_error(c->out, KV_ERR_OOM);
		return;
	}
	log_set(c, &argv[1], argv[2].ptr, argv[2].len, o.expire_ms);
	reply_status(c->out, "OK");
}

/* INCR, DECR, INCRBY, DECRBY: 64-bit, on values that read as integers; the expiry stays. */
static void incr_by(struct kv_client *c, const struct kv_str *key, long long by)
{
	struct db *db = &c->srv->db;
	struct db_entry *e = db_find(db, key->ptr, key->len, c->now_ms);
	int64_t expire_ms = e ? e->expire_ms : DB_NO_EXPIRY;
	long long v = 0;
	char digits[24];
	int n;

	if (e && !resp_parse_ll(e->val, e->vlen, &v)) {
		reply_error(c->out, KV_ERR_NOT_INT);
		return;
	}
	if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
		reply_error(c->out, "ERR increment or decrement would overflow");
		return;
	}
	v += by;
	n = snprintf(digits, sizeof(digits), "%lld", v);
	if (db_set(db, key->ptr, key->len, digits, (size_t)n, expire_ms, c->now_ms)) {
		reply_error(c->out, KV_ERR_OOM);
		return;
	}
	log_set(c, key, digits, (size_t)n, expire_ms);
	reply_int(c->out, v);
}

static void cmd_incr(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	incr_by(c, &argv[1], 1);
}

static void cmd_decr(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	incr_by(c, &argv[1], -1);
}

static void cmd_incrby(struct kv_client *c, int argc, const struct kv_str *argv)
{
	long long by;

	(void)argc;
	if (!arg_ll(&argv[2], &by))
		reply_error(c->out, KV_ERR_NOT_INT);
	else
		incr_by(c, &argv[1], by);
}

static void cmd_decrby(struct kv_client *c, int argc, const struct kv_str *argv)
{
	long long by;

	(void)argc;
	if (!arg_ll(&argv[2], &by))
		reply_error(c->out, KV_ERR_NOT_INT);
	else if (by == LLONG_MIN) /* its negation does not exist */
		reply_error(c->out, "ERR decrement would overflow");
	else
		incr_by(c, &argv[1], -by);
}

static void cmd_mget(struct kv_client *c, int argc, const struct kv_str *argv)
{
	reply_array(c->out, argc - 1);
	for (int i = 1; i < argc; i++)
		reply_value(c, &argv[i]);
}

static void cmd_mset(struct kv_client *c, int argc, const struct kv_str *argv)
{
	int i;

	if (argc % 2 == 0) {
		reply_error(c->out, "ERR wrong number of arguments for 'mset' command");
		return;
	}
	for (i = 1; i < argc; i += 2)
		if (db_set(&c->srv->db, argv[i].ptr, argv[i].len, argv[i + 1].ptr, argv[i + 1].len,
			   DB_NO_EXPIRY, c->now_ms))
			break;
	/* Out of memory halfway: the pairs that were set are logged, so the log tells the truth. */
	if (i > 1)
		command_log(c, i, argv);
	if (i < argc)
		reply_error(c->out, KV_ERR_OOM);
	else
		reply_status(c->out, "OK");
}

const struct command string_commands[] = {
	{ "get", 2, CMD_READ, cmd_get },
	{ "set", -3, CMD_WRITE, cmd_set },
	{ "incr", 2, CMD_WRITE, cmd_incr },
	{ "decr", 2, CMD_WRITE, cmd_decr },
	{ "incrby", 3, CMD_WRITE, cmd_incrby },
	{ "decrby", 3, CMD_WRITE, cmd_decrby },
	{ "mget", -2, CMD_READ, cmd_mget },
	{ "mset", -3, CMD_WRITE, cmd_mset },
	{ NULL, 0, CMD_READ, NULL },
};
