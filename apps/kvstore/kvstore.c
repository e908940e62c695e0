/* SPDX-License-Identifier: MIT */
/*
 * kvstore: a Redis-protocol (RESP2) key-value appliance. String keys and
 * values with expiry, the commands redis-cli and redis-benchmark use, and
 * an append-only log on the first disk with group commit, replayed at boot.
 * One thread per connection.
 *
 * Arguments (any order, with libos's ip=/gw=/dns=; other key=value ignored):
 *   port=N                          listen port (default 6379)
 *   appendfsync=always|everysec|no  when a write is durable (default always), as in Redis
 *   appendonly=no                   do not use the disk: memory only
 *   timeout=S                       close a connection idle for S seconds (default 0: never)
 *   auto-aof-rewrite-percentage=P   rewrite the log once it grew P percent since the last
 *                                   rewrite (default KV_REWRITE_PERCENTAGE; 0: never on its
 *                                   own, not even when a write finds it full) ...
 *   auto-aof-rewrite-min-size=N     ... and is at least N bytes (default KV_REWRITE_MIN_BYTES;
 *                                   N may end in k, kb, m, mb, g, gb, as in Redis)
 *
 * Exit statuses: 2 a bad argument or an unusable log, 3 a log device error
 * after start (aof.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aof.h"
#include "blkdev.h"
#include "client.h"
#include "command.h"
#include "config.h"
#include "libos.h"

struct options {
	int port;
	enum aof_fsync policy;
	bool appendonly;
	int idle_s;
	int rewrite_percentage;
	uint64_t rewrite_min_bytes;
};

static struct kv_server server;

/* A decimal in [min, max] for argument arg. 0 or -1 after saying what is wrong. */
static int int_arg(const char *arg, const char *s, long min, long max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < min || v > max) {
		printf("kvstore: %s: expected a number from %ld to %ld\n", arg, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* A byte count as Redis writes them: 5, 5k (5000), 5kb (5120), m, mb, g, gb. 0 or -1. */
static int size_arg(const char *arg, const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t unit;
	} units[] = { { "", 1 },	 { "k", 1000 },	      { "kb", 1024 },	  { "m", 1000000 },
		      { "mb", 1 << 20 }, { "g", 1000000000 }, { "gb", 1u << 30 } };
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (*s < '0' || *s > '9' || errno || strcasecmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].unit)
			break;
		*out = v * units[i].unit;
		return 0;
	}
	printf("kvstore: %s: expected a byte count (a number, with k, kb, m, mb, g or gb)\n", arg);
	return -1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	*o = (struct options){ KV_DEFAULT_PORT, AOF_FSYNC_ALWAYS, true, 0, KV_REWRITE_PERCENTAGE,
			       KV_REWRITE_MIN_BYTES };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "port=", 5)) {
			if (int_arg(a, a + 5, 1, 65535, &o->port))
				return -1;
		} else if (!strncmp(a, "timeout=", 8)) {
			if (int_arg(a, a + 8, 0, 1000000, &o->idle_s))
				return -1;
		} else if (!strncmp(a, "appendfsync=", 12)) {
			if (!strcmp(a + 12, "always"))
				o->policy = AOF_FSYNC_ALWAYS;
			else if (!strcmp(a + 12, "everysec"))
				o->policy = AOF_FSYNC_EVERYSEC;
			else if (!strcmp(a + 12, "no"))
				o->policy = AOF_FSYNC_NO;
			else {
				printf("kvstore: %s: expected always, everysec or no\n", a);
				return -1;
			}
		} else if (!strncmp(a, "auto-aof-rewrite-percentage=", 28)) {
			if (int_arg(a, a + 28, 0, 1000000, &o->rewrite_percentage))
				return -1;
		} else if (!strncmp(a, "auto-aof-rewrite-min-size=", 26)) {
			if (size_arg(a, a + 26, &o->rewrite_min_bytes))
				return -1;
		} else if (!strncmp(a, "appendonly=", 11)) {
			if (strcmp(a + 11, "yes") && strcmp(a + 11, "no")) {
				printf("kvstore: %s: expected yes or no\n", a);
				return -1;
			}
			o->appendonly = !strcmp(a + 11, "yes");
		} else if (!strchr(a, '=')) {
			printf("kvstore: ignoring argument '%s' (not key=value)\n", a);
		}
	}
	return 0;
}

/* Keys nobody reads again still go: a few buckets at a time, as Redis' active expiry does. */
static void *expirer(void *arg)
{
	struct kv_server *srv = arg;

	for (;;) {
		sleep_until(clock_monotonic_ns() + KV_EXPIRE_PERIOD_MS * 1000000ull);
		db_expire_step(&srv->db, (int64_t)(clock_realtime_ns() / 1000000),
			       KV_EXPIRE_BUCKETS);
	}
	return NULL;
}

static int open_log(const struct options *o)
{
	struct blkdev *dev = blkdev_get(0);

	if (!o->appendonly || !dev) {
		printf("kvstore: %s: memory only, nothing survives a restart\n",
		       dev ? "appendonly=no" : "no disk");
		return 0;
	}
	return aof_start(&server, dev, o->policy);
}

static int listen_on(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 255)) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct options o;
	uint64_t t = clock_realtime_ns();
	struct thread *exp;
	int lfd;

	if (parse_args(argc, argv, &o))
		return 2;
	/* The hash seed only needs to be unknown to clients: boot-time clocks will do. */
	if (db_init(&server.db, t ^ 0x9e3779b97f4a7c15ull,
		    clock_monotonic_ns() * 0xff51afd7ed558ccdull))
		return 2;
	server.start_ms = (int64_t)(t / 1000000);
	server.port = o.port;
	server.appendfsync = aof_fsync_name(o.policy);
	server.rewrite_percentage = (unsigned)o.rewrite_percentage;
	server.rewrite_min_bytes = o.rewrite_min_bytes;
	if (open_log(&o))
		return 2;
	exp = thread_create("kv-expire", expirer, &server, 0);
	if (exp)
		thread_detach(exp);
	lfd = listen_on(o.port);
	if (lfd < 0) {
		printf("kvstore: cannot listen on port %d: %s\n", o.port, strerror(errno));
		return 2;
	}
	printf("kvstore: ready on port %d, %zu keys\n", o.port,
	       db_live_count(&server.db, (int64_t)(clock_realtime_ns() / 1000000)));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0)
			client_start(&server, fd, o.idle_s);
	}
}
