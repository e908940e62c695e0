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
	 * 0, -ENOSPC (the device is full) or -ENOMEM. */
	int (*reserve)(void *arg, size_t bytes);
	/* Append the record of a write's effect (within the reservation). Returns the
	 * log offset just past it: the writer's reply waits until the log is there. */
	uint64_t (*append)(void *arg, int argc, const struct kv_str *argv);
	/* INFO's persistence fields, as "name:value\r\n" lines. */
	void (*info)(void *arg, struct buf *out);
	void *arg;
};

/* What all connections share. */
struct kv_server {
	struct db db;
	const struct kv_log *log; /* NULL: memory only */
	const char *appendfsync;  /* "always", "everysec" or "no" */
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
	uint64_t log_end; /* log offset that the replies in out wait for */
	bool quit;        /* QUIT ran: close once the replies so far are sent */
	bool replaying;   /* a log record: apply it, do not log it again */
};

/* Run argv[0] (any case) with its arguments; argc >= 1. The reply goes to c->out. */
void command_run(struct kv_client *c, int argc, const struct kv_str *argv);

/* --- for the command files ------------------------------------------------------------ */

struct command {
	const char *name; /* lower case, as error messages show it */
	int arity;        /* > 0: exactly this many words, name included; < 0: at least -arity */
	bool write;       /* changes the keyspace: a log record is reserved before it runs */
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

#endif /* KVSTORE_COMMAND_H */
