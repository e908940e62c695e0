/* SPDX-License-Identifier: MIT */
/* Server commands: PING, ECHO, QUIT, SELECT, COMMAND, CONFIG GET, INFO, BGREWRITEAOF. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "config.h"
#include "glob.h"
#include "resp.h"

static void cmd_ping(struct kv_client *c, int argc, const struct kv_str *argv)
{
	if (argc > 2)
		reply_error(c->out, "ERR wrong number of arguments for 'ping' command");
	else if (argc == 2)
		reply_bulk(c->out, argv[1].ptr, argv[1].len);
	else
		reply_status(c->out, "PONG");
}

static void cmd_echo(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	reply_bulk(c->out, argv[1].ptr, argv[1].len);
}

static void cmd_quit(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	(void)argv;
	reply_status(c->out, "OK");
	c->quit = true;
}

/* One database, number 0. */
static void cmd_select(struct kv_client *c, int argc, const struct kv_str *argv)
{
	long long db;

	(void)argc;
	if (!resp_parse_ll(argv[1].ptr, argv[1].len, &db))
		reply_error(c->out, KV_ERR_NOT_INT);
	else if (db != 0)
		reply_error(c->out, "ERR DB index is out of range");
	else
		reply_status(c->out, "OK");
}

/* No command table to describe: clients (redis-cli) take an empty one and carry on. */
static void cmd_command(struct kv_client *c, int argc, const struct kv_str *argv)
{
	(void)argc;
	(void)argv;
	reply_array(c->out, 0);
}

/* The parameters CONFIG GET knows, with their real values. */
static const char *config_value(const struct kv_server *srv, const char *name, char *tmp,
				size_t len)
{
	if (!strcmp(name, "appendonly"))
		return srv->log ? "yes" : "no";
	if (!strcmp(name, "appendfsync"))
		return srv->appendfsync;
	if (!strcmp(name, "save"))
		return ""; /* no snapshots: the log is the only persistence */
	if (!strcmp(name, "databases"))
		return "1";
	if (!strcmp(name, "auto-aof-rewrite-percentage"))
		snprintf(tmp, len, "%u", srv->rewrite_percentage);
	else if (!strcmp(name, "auto-aof-rewrite-min-size"))
		snprintf(tmp, len, "%" PRIu64, srv->rewrite_min_bytes);
	else
		snprintf(tmp, len, "%d", srv->port);
	return tmp; /* "port" */
}

static void cmd_config(struct kv_client *c, int argc, const struct kv_str *argv)
{
	static const char *const names[] = { "appendonly",
					     "appendfsync",
					     "save",
					     "databases",
					     "port",
					     "auto-aof-rewrite-percentage",
					     "auto-aof-rewrite-min-size" };
	const size_t nnames = sizeof(names) / sizeof(names[0]);
	bool hit[sizeof(names) / sizeof(names[0])] = { false };
	char tmp[24], pattern[128];
	long long n = 0;

	if (!str_is(&argv[1], "get")) {
		reply_error(c->out, "ERR unknown subcommand '%.*s'. Try CONFIG HELP.",
			    (int)(argv[1].len < 128 ? argv[1].len : 128), argv[1].ptr);
		return;
	}
	if (argc < 3) {
		reply_error(c->out, "ERR wrong number of arguments for 'config|get' command");
		return;
	}
	/* Parameter names are lower case; patterns match them ignoring case. */
	for (int i = 2; i < argc; i++) {
		size_t plen = argv[i].len < sizeof(pattern) ? argv[i].len : sizeof(pattern);

		for (size_t k = 0; k < plen; k++)
			pattern[k] = (char)tolower((unsigned char)argv[i].ptr[k]);
		for (size_t k = 0; k < nnames; k++)
			hit[k] |= glob_match(pattern, plen, names[k], strlen(names[k]));
	}
	for (size_t k = 0; k < nnames; k++)
		n += hit[k];
	reply_array(c->out, 2 * n);
	for (size_t k = 0; k < nnames; k++) {
		if (!hit[k])
			continue;
		reply_bulk_cstr(c->out, names[k]);
		reply_bulk_cstr(c->out, config_value(c->srv, names[k], tmp, sizeof(tmp)));
	}
}

/* Whether INFO [section] includes section name. */
static bool wants(int argc, const struct kv_str *argv, const char *name)
{
	return argc < 2 || str_is(&argv[1], name) || str_is(&argv[1], "all") ||
	       str_is(&argv[1], "default") || str_is(&argv[1], "everything");
}

static void cmd_info(struct kv_client *c, int argc, const struct kv_str *argv)
{
	const struct kv_server *srv = c->srv;
	int64_t up = (c->now_ms - srv->start_ms) / 1000;
	struct buf b = { 0 };
	char line[256];
	int n;

	if (wants(argc, argv, "server")) {
		n = snprintf(line, sizeof(line),
			     "# Server\r\nkvstore_version:%s\r\nredis_mode:standalone\r\n"
			     "os:pvkit libos\r\narch_bits:64\r\nmultiplexing_api:threads\r\n"
			     "tcp_port:%d\r\nuptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n\r\n",
			     KV_VERSION, srv->port, (long long)up, (long long)up / 86400);
		buf_append(&b, line, (size_t)n);
	}
	if (wants(argc, argv, "clients")) {
		n = snprintf(line, sizeof(line), "# Clients\r\nconnected_clients:%u\r\n\r\n",
			     srv->clients);
		buf_append(&b, line, (size_t)n);
	}
	if (wants(argc, argv, "persistence")) {
		n = snprintf(line, sizeof(line),
			     "# Persistence\r\naof_enabled:%d\r\nappendfsync:%s\r\n",
			     srv->log != NULL, srv->appendfsync);
		buf_append(&b, line, (size_t)n);
		if (srv->log)
			srv->log->info(srv->log->arg, &b);
		buf_append(&b, "\r\n", 2);
	}
	if (wants(argc, argv, "stats")) {
		n = snprintf(line, sizeof(line),
			     "# Stats\r\ntotal_connections_received:%" PRIu64
			     "\r\ntotal_commands_processed:%" PRIu64 "\r\n\r\n",
			     srv->connections, srv->commands);
		buf_append(&b, line, (size_t)n);
	}
	if (wants(argc, argv, "keyspace")) {
		size_t keys = db_live_count(&srv->db, c->now_ms);

		n = snprintf(line, sizeof(line), "# Keyspace\r\n");
		if (keys) /* Redis lists only databases that have keys */
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      "db0:keys=%zu,expires=%zu,avg_ttl=0\r\n", keys,
				      srv->db.expiring);
		buf_append(&b, line, (size_t)n);
	}
	if (b.oom)
		reply_error(c->out, KV_ERR_OOM);
	else
		reply_bulk(c->out, b.data, b.len);
	buf_free(&b);
}

/* Compact the log in the background (aof_rewrite.c); Redis' replies. */
static void cmd_bgrewriteaof(struct kv_client *c, int argc, const struct kv_str *argv)
{
	const struct kv_log *log = c->srv->log;
	char why[160] = "";
	int rc;

	(void)argc;
	(void)argv;
	if (!log) {
		reply_error(c->out, "ERR no append-only log to rewrite: kvstore runs memory only");
		return;
	}
	rc = log->rewrite(log->arg, why, sizeof(why));
	if (rc == 0)
		reply_status(c->out, "Background append only file rewriting started");
	else if (rc == -EALREADY)
		reply_error(c->out, "ERR Background append only file rewriting already in progress");
	else
		reply_error(c->out, "ERR cannot rewrite the append-only log: %s", why);
}

const struct command server_commands[] = {
	{ "ping", -1, CMD_READ, cmd_ping },
	{ "echo", 2, CMD_READ, cmd_echo },
	{ "quit", -1, CMD_READ, cmd_quit },
	{ "select", 2, CMD_READ, cmd_select },
	{ "command", -1, CMD_READ, cmd_command },
	{ "config", -2, CMD_READ, cmd_config },
	{ "info", -1, CMD_READ, cmd_info },
	{ "bgrewriteaof", 1, CMD_READ, cmd_bgrewriteaof },
	{ NULL, 0, CMD_READ, NULL },
};
