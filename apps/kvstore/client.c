/* SPDX-License-Identifier: MIT */
/*
 * A client connection: every complete command in what arrived is run in
 * order, the replies gather in one buffer, and they leave in one send once
 * the log holds the writes among them (aof_wait). A protocol error is
 * answered after the replies before it, then the connection closes, as in
 * Redis.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aof.h"
#include "client.h"
#include "config.h"
#include "libos.h"
#include "resp.h"

#define KEEP_BYTES (64u << 10) /* buffers grown past this for one big request shrink afterwards */
#define KEEP_ARGS 1024           /* argument arrays grown past this shrink afterwards */
#define LINGER_S 1               /* closing: how long to wait for the client's last bytes ... */
#define LINGER_BYTES (1u << 20)  /* ... and how many of them to read and drop at most */

struct client {
	struct kv_client kc;
	int fd;
	struct buf in;   /* received bytes; the command being parsed starts at in.data[0] */
	struct buf out;  /* replies not sent yet */
	struct resp_parser parser;
};

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send the replies so far, once the log has what they acknowledge. 0 or -1 (hang up). */
static int send_replies(struct client *cl)
{
	int rc;

	if (cl->kc.log_end)
		aof_wait(cl->kc.log_end);
	cl->kc.log_end = 0;
	if (cl->out.oom)
		return -1; /* a reply was lost: the client would misread every later one */
	rc = send_all(cl->fd, cl->out.data, cl->out.len);
	buf_reset(&cl->out, KEEP_BYTES);
	return rc;
}

static int64_t now_ms(void)
{
	return (int64_t)(clock_realtime_ns() / 1000000);
}

/* Run every complete command in cl->in. Returns whether the connection is to close. */
static bool run_commands(struct client *cl)
{
	size_t start = 0;
	bool hang_up = false;

	while (start < cl->in.len && !hang_up) {
		int rc = resp_parse(&cl->parser, cl->in.data + start, cl->in.len - start);

		if (rc == RESP_MORE)
			break;
		if (rc == RESP_ERROR) {
			reply_error(&cl->out, "%s", cl->parser.error);
			hang_up = true;
			break;
		}
		if (cl->parser.argc > 0) {
			cl->kc.now_ms = now_ms();
			command_run(&cl->kc, cl->parser.argc, cl->parser.argv);
		}
		start += cl->parser.pos;
		resp_parser_reset(&cl->parser);
		if (cl->parser.cap > KEEP_ARGS) { /* one huge request must not pin its arrays */
			resp_parser_free(&cl->parser);
			resp_parser_init(&cl->parser);
		}
		hang_up = cl->kc.quit;
		/* A long pipeline: do not hold all its replies (nor its log waits) to the end. */
		if (!hang_up && cl->out.len >= KV_REPLY_FLUSH)
			hang_up = send_replies(cl) != 0;
	}
	/* The unparsed rest moves to the front; the parser's state is relative to it. */
	memmove(cl->in.data, cl->in.data + start, cl->in.len - start);
	cl->in.len -= start;
	if (cl->in.len == 0)
		buf_reset(&cl->in, KEEP_BYTES);
	return hang_up;
}

/* Room to receive into: a chunk, or all of a large bulk string the parser is waiting for. */
static int make_room(struct client *cl)
{
	size_t want = KV_READ_CHUNK;

	if (cl->parser.need > cl->in.len && cl->parser.need - cl->in.len > want)
		want = cl->parser.need - cl->in.len;
	if (cl->in.len + want > KV_QUERY_MAX) {
		reply_error(&cl->out, "ERR Protocol error: request larger than %llu bytes",
			    (unsigned long long)KV_QUERY_MAX);
		return -1;
	}
	if (buf_reserve(&cl->in, want)) {
		reply_error(&cl->out, "OOM a request of %zu bytes does not fit in memory",
			    cl->in.len + want);
		return -1;
	}
	return 0;
}

/*
 * Closing on our side (QUIT, a protocol error): stop sending, then read and
 * drop what the client still sends for a moment, so that lwIP's close does
 * not answer unread data with a reset that could overtake the last reply.
 */
static void linger_close(struct client *cl)
{
	struct timeval t = { LINGER_S, 0 };
	size_t dropped = 0;
	ssize_t n;

	shutdown(cl->fd, SHUT_WR);
	setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
	buf_reset(&cl->in, KEEP_BYTES);
	if (buf_reserve(&cl->in, KV_READ_CHUNK))
		return;
	while (dropped < LINGER_BYTES && (n = recv(cl->fd, cl->in.data, cl->in.cap, 0)) > 0)
		dropped += (size_t)n;
}

static void *client_thread(void *arg)
{
	struct client *cl = arg;

	for (;;) {
		ssize_t n;

		if (make_room(cl)) {
			if (send_replies(cl) == 0)
				linger_close(cl);
			break;
		}
		n = recv(cl->fd, cl->in.data + cl->in.len, cl->in.cap - cl->in.len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* closed, reset, or idle past the timeout */
		cl->in.len += (size_t)n;
		bool hang_up = run_commands(cl);
		if (send_replies(cl))
			break;
		if (hang_up) {
			linger_close(cl);
			break;
		}
	}
	close(cl->fd);
	cl->kc.srv->clients--;
	resp_parser_free(&cl->parser);
	buf_free(&cl->in);
	buf_free(&cl->out);
	free(cl);
	return NULL;
}

int client_start(struct kv_server *srv, int fd, int idle_s)
{
	struct client *cl;
	struct thread *t;
	int one = 1;

	srv->connections++;
	if (srv->clients >= KV_MAX_CLIENTS) {
		static const char full[] = "-ERR max number of clients reached\r\n";

		send_all(fd, full, sizeof(full) - 1);
		close(fd);
		return -EMFILE;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		goto err_close;
	cl->fd = fd;
	cl->kc = (struct kv_client){ .srv = srv, .out = &cl->out };
	resp_parser_init(&cl->parser);
	if (idle_s > 0) {
		struct timeval idle = { idle_s, 0 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	srv->clients++;
	t = thread_create("kv-client", client_thread, cl, KV_CONN_STACK);
	if (!t)
		goto err_free;
	thread_detach(t);
	return 0;

err_free:
	srv->clients--;
	free(cl);
err_close:
	close(fd);
	return -ENOMEM;
}
