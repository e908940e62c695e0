/* SPDX-License-Identifier: MIT */
/*
 * httpd: an HTTP/1.1 static file server appliance (RFC 9110, 9112): GET and
 * HEAD, keep-alive and pipelining, Content-Length, Content-Type by
 * extension, and the error statuses a client should see (400, 404, 405,
 * 414, 431, 505). One thread per connection with a receive timeout, so a
 * slow or silent client holds only its own thread.
 *
 * Arguments (any order, with libos's ip=/gw=/dns=):
 *   port=N        listen port (default 80)
 *   root=PATH     serve files under PATH (default "/": the image's own rootfs/)
 *   disk=PATH     mount the first block device (a ustar archive) at PATH first
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkdev.h"
#include "fs.h"
#include "http_parse.h"
#include "libos.h"

#define CHUNK_BYTES (16 * 1024)
#define IDLE_TIMEOUT_S 10           /* a connection that sends nothing for this long is closed */
#define CONN_STACK (32 * 1024)

static const char *root = "";

struct conn {
	int fd;
	char req[HTTP_HEADERS_MAX + 1];
	size_t have; /* bytes in req, the next request's included */
	char chunk[CHUNK_BYTES];
};

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

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

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static int send_error(struct conn *c, int status, int keep_alive, int head)
{
	char body[160], hdr[320];
	int blen = snprintf(body, sizeof(body), "<!doctype html><title>%d %s</title><h1>%d %s</h1>\n",
			    status, reason(status), status, reason(status));
	int hlen = snprintf(hdr, sizeof(hdr),
			    "HTTP/1.1 %d %s\r\nServer: pvkit-httpd\r\n"
			    "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n%s"
			    "Connection: %s\r\n\r\n",
			    status, reason(status), blen, status == 405 ? "Allow: GET, HEAD\r\n" : "",
			    keep_alive ? "keep-alive" : "close");

	if (send_all(c->fd, hdr, (size_t)hlen))
		return -1;
	return head ? 0 : send_all(c->fd, body, (size_t)blen);
}

/* The file for path: the file itself, or index.html in a directory. -1 with errno. */
static int open_target(const char *path, struct stat *st, char *full, size_t len)
{
	int fd;

	snprintf(full, len, "%s%s", root, path);
	if (stat(full, st))
		return -1;
	if (S_ISDIR(st->st_mode)) {
		size_t n = strlen(full);
		snprintf(full + n, len - n, "%sindex.html", n && full[n - 1] == '/' ? "" : "/");
		if (stat(full, st))
			return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		errno = ENOENT;
		return -1;
	}
	fd = open(full, O_RDONLY);
	return fd;
}

/*
 * The head and the file go out a chunk at a time, the head in front of the
 * file's first bytes: a small file is one send, one segment, as nginx sends
 * it. Sent apart (TCP_NODELAY), the two made two segments and two ACKs a
 * request: 404,607 frames out and 404,543 in for 202,186 requests.
 */
static int serve(struct conn *c, const struct http_request *r)
{
	int head = !strcmp(r->method, "HEAD"), fd, rc = 0;
	struct stat st;
	char full[HTTP_REQUEST_LINE_MAX + 64];
	size_t used;

	fd = open_target(r->path, &st, full, sizeof(full));
	if (fd < 0)
		return send_error(c, 404, r->keep_alive, head);
	used = (size_t)snprintf(c->chunk, sizeof(c->chunk),
				"HTTP/1.1 200 OK\r\nServer: pvkit-httpd\r\nContent-Type: %s\r\n"
				"Content-Length: %lld\r\nConnection: %s\r\n\r\n",
				http_content_type(full), (long long)st.st_size,
				r->keep_alive ? "keep-alive" : "close");
	if (used >= sizeof(c->chunk)) { /* cannot be: the head is a few hundred bytes */
		close(fd);
		return send_error(c, 500, 0, head);
	}
	for (off_t left = head ? 0 : st.st_size; !rc;) {
		if (left > 0) {
			size_t room = sizeof(c->chunk) - used;
			ssize_t n = read(fd, c->chunk + used, (off_t)room < left ? room : (size_t)left);

			if (n <= 0) {
				rc = -1; /* the file changed under us: the length is a lie now, so hang up */
				break;
			}
			used += (size_t)n;
			left -= n;
		}
		rc = send_all(c->fd, c->chunk, used);
		used = 0;
		if (left == 0)
			break;
	}
	close(fd);
	return rc;
}

/* Read until a whole head is buffered. The head's length, 0 at a clean end, or -status. */
static long read_head(struct conn *c)
{
	long end;

	while ((end = http_head_scan(c->req, c->have)) == 0) {
		ssize_t n = recv(c->fd, c->req + c->have, HTTP_HEADERS_MAX - c->have, 0);

		if (n <= 0)
			return c->have ? -400 : 0; /* timeout, reset or close: nothing to answer */
		c->have += (size_t)n;
	}
	return end;
}

/* After an error that ends the connection: let the client read the answer before the close. */
static void linger_close(struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	for (int i = 0; i < 64 && recv(c->fd, c->chunk, sizeof(c->chunk), 0) > 0; i++)
		;
}

static void *connection(void *arg)
{
	struct conn *c = arg;
	struct http_request r;

	for (;;) {
		long end = read_head(c);
		int status;

		if (end == 0)
			break;
		if (end < 0) {
			if (end != -400 || c->have)
				send_error(c, (int)-end, 0, 0);
			linger_close(c);
			break;
		}
		status = http_parse_head(c->req, (size_t)end, &r);
		if (!status && strcmp(r.method, "GET") && strcmp(r.method, "HEAD"))
			status = 405;
		if (status) {
			send_error(c, status, 0, !strcmp(r.method, "HEAD"));
			linger_close(c);
			break;
		}
		if (r.has_body) /* GET and HEAD with a body: answer, then do not guess where it ends */
			r.keep_alive = 0;
		if (serve(c, &r) || !r.keep_alive)
			break;
		memmove(c->req, c->req + end, c->have - (size_t)end);
		c->have -= (size_t)end;
	}
	close(c->fd);
	free(c);
	return NULL;
}

int main(int argc, char **argv)
{
	int port = 80, one = 1, lfd;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct timeval idle = { IDLE_TIMEOUT_S, 0 };

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "port=", 5))
			port = atoi(argv[i] + 5);
		else if (!strncmp(argv[i], "root=", 5))
			root = argv[i] + 5;
		else if (!strncmp(argv[i], "disk=", 5)) {
			int rc = fs_mount_tar_blkdev(argv[i] + 5, blkdev_get(0));
			if (rc) {
				printf("httpd: cannot mount the disk at %s: %s\n", argv[i] + 5,
				       strerror(-rc));
				return 1;
			}
		}
	}
	if (!strcmp(root, "/"))
		root = "";
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 255)) {
		printf("httpd: cannot listen on port %d: %s\n", port, strerror(errno));
		return 1;
	}
	printf("httpd: serving %s on port %d\n", *root ? root : "/", port);
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		struct conn *c;
		struct thread *t;

		if (fd < 0)
			continue;
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->have = 0;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		t = thread_create("http-conn", connection, c, CONN_STACK);
		if (!t) {
			close(fd);
			free(c);
			continue;
		}
		thread_detach(t);
	}
}
