/* SPDX-License-Identifier: MIT */
/*
 * Commands: what a connection (or the log's replay) runs, against the
 * keyspace and the log, with replies in Redis' words. The log is reached
 * through struct kv_log only, so the commands build and run on the host.
 */
#ifndef KVSTORE_COMMAND_H
#define KVSTORE_COMMAND_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "reply.h"

/* Where write commands record their effects (aof.c on the appliance). */
struct kv_log {
	/* Room for a record of up to bytes bytes, so the append that follows cannot fail.
	 * frees: the write only removes keys, and may use the room kept back so that a
	 * full log can still be emptied. 0, -ENOSPC (the log's region is full) or -ENOMEM. */
	int (*reserve)(void *arg, size_t bytes, bool frees);
	/* Append the record of a write's effect (within the reservation). Returns its
	 * ticket, larger than every earlier one: the writer's reply waits for it. */
	uint64_t (*append)(void *arg, int argc, const struct kv_str *argv);
	/* INFO's persistence fields, as "name:value\r\n" lines. */
	void (*info)(void *arg, struct buf *out);
	/* Start a rewrite (BGREWRITEAOF). 0, -EALREADY (one is running) or -errno with
	 * a reason in why[0, len). */
	int (*rewrite)(void *arg, char *why, size_t len);
	void *arg;
};

/* What all connections share. */
struct kv_server {
	struct db db;
	const struct kv_log *log; /* NULL: memory only */
	const char *appendfsync;  /* "always", "everysec" or "no" */
	unsigned rewrite_percentage; /* auto-aof-rewrite-percentage: growth that starts a rewrite */
	uint64_t rewrite_min_bytes;  /* auto-aof-rewrite-min-size: ... once the log is this big */
	int64_t start_ms;         /* Unix time at boot, for the uptime */
	int port;
	unsigned clients;                /* connected now */
	uint64_t connections, commands; /* since boot */
};

/* One command's caller: a connection, or the replay of a log record. */
struct kv_client {
	struct kv_server *srv;
	struct buf *out;  /* replies are appended here */
	int64_t now_ms;   /* Unix time the command runs at */
	uint64_t log_end; /* log ticket that the replies in out wait for (0: none) */
	bool quit;        /* QUIT ran: close once the replies so far are sent */
	bool replaying;   /* a log record: apply it, do not log it again */
};

/* Run argv[0] (any case) with its arguments; argc >= 1. The reply goes to c->out. */
void command_run(struct kv_client *c, int argc, const struct kv_str *argv);

/* --- for the command files ------------------------------------------------------------ */

enum command_kind {
	CMD_READ,  /* leaves the keyspace alone */
	CMD_WRITE, /* changes it: a log record is reserved before it runs */
	CMD_FREE,  /* only removes keys (DEL, FLUSHALL): a write a full log still takes */
};

struct command {
	const char *name; /* lower case, as error messages show it */
	int arity;        /* > 0: exactly this many words, name included; < 0: at least -arity */
	enum command_kind kind;
	void (*run)(struct kv_client *c, int argc, const struct kv_str *argv);
};

/* Each command file's table, ending with a NULL name. */
extern const struct command string_commands[], key_commands[], server_commands[];

/* Record a write's effect (nothing in memory-only mode or while replaying). */
void command_log(struct kv_client *c, int argc, const struct kv_str *argv);
/* s equals the lower-case word lit, ignoring case. */
bool str_is(const struct kv_str *s, const char *lit);

#define KV_ERR_NOT_INT "ERR value is not an integer or out of range"
#define KV_ERR_SYNTAX "ERR syntax error"
#define KV_ERR_OOM "OOM out of memory: the command was not run"
#define KV_ERR_DISK_FULL                                                                      \
	"ERR disk full: the append-only log has no room, the write was not run (DEL, "        \
	"FLUSHALL or BGREWRITEAOF can make room)"

#endif /* KVSTORE_COMMAND_H */
