/* SPDX-License-Identifier: MIT */
/* Command dispatch: lookup, arity, the log reservation of writes, and the unknown-command error. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "command.h"
#include "config.h"

bool str_is(const struct kv_str *s, const char *lit)
{
	size_t n = strlen(lit);

	if (s->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s->ptr[i]) != lit[i])
			return false;
	return true;
}

static const struct command *lookup(const struct kv_str *name)
{
	static const struct command *const tables[] = { string_commands, key_commands,
							 server_commands };

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct command *cmd = tables[t]; cmd->name; cmd++)
			if (str_is(name, cmd->name))
				return cmd;
	return NULL;
}

/* Redis' words: "unknown command 'x', with args beginning with: 'a' 'b' ", capped at 128 bytes. */
static void unknown_command(struct kv_client *c, int argc, const struct kv_str *argv)
{
	char args[160];
	size_t n = 0;

	for (int i = 1; i < argc && n < 128; i++) {
		size_t take = argv[i].len < 128 - n ? argv[i].len : 128 - n;

		args[n++] = '\'';
		memcpy(args + n, argv[i].ptr, take);
		n += take;
		args[n++] = '\'';
		args[n++] = ' ';
	}
	for (size_t i = 0; i < n; i++) /* binary arguments: keep the message one printable line */
		if (args[i] == '\0')
			args[i] = ' ';
	reply_error(c->out, "ERR unknown command '%.*s', with args beginning with: %.*s",
		    (int)(argv[0].len < 128 ? argv[0].len : 128), argv[0].ptr, (int)n, args);
}

void command_log(struct kv_client *c, int argc, const struct kv_str *argv)
{
	const struct kv_log *log = c->srv->log;

	if (log && !c->replaying)
		c->log_end = log->append(log->arg, argc, argv);
}

/* A write needs its log record's room before it changes anything: afterwards it cannot fail. */
static int reserve_log(struct kv_client *c, const struct command *cmd, int argc,
		       const struct kv_str *argv)
{
	const struct kv_log *log = c->srv->log;
	int rc;

	if (!log || c->replaying)
		return 0;
	rc = log->reserve(log->arg, resp_command_size(argc, argv) + KV_LOG_RECORD_SLACK,
			  cmd->kind == CMD_FREE);
	if (rc == -ENOSPC)
		reply_error(c->out, KV_ERR_DISK_FULL);
	else if (rc)
		reply_error(c->out, KV_ERR_OOM);
	return rc;
}

void command_run(struct kv_client *c, int argc, const struct kv_str *argv)
{
	const struct command *cmd = lookup(&argv[0]);

	if (!c->replaying)
		c->srv->commands++;
	if (!cmd) {
		unknown_command(c, argc, argv);
		return;
	}
	if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) {
		reply_error(c->out, "ERR wrong number of arguments for '%s' command", cmd->name);
		return;
	}
	if (cmd->kind != CMD_READ && reserve_log(c, cmd, argc, argv))
		return;
	cmd->run(c, argc, argv);
}
