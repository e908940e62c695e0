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
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkdev.h"
#include "fs.h"
#include "libos.h"

#define REQUEST_LINE_MAX (8 * 1024) /* longer: 414 */
#define HEADERS_MAX (16 * 1024)     /* longer: 431 */
#define CHUNK_BYTES (16 * 1024)
#define IDLE_TIMEOUT_S 10           /* a connection that sends nothing for this long is closed */
#define CONN_STACK (32 * 1024)

static const char *root = "";

struct conn {
	int fd;
	char req[HEADERS_MAX + 1];
	size_t have; /* bytes in req, the next request's included */
	char chunk[CHUNK_BYTES];
};

struct request {
	char method[16];
	char path[REQUEST_LINE_MAX];
	int minor; /* HTTP/1.minor */
	int keep_alive;
	int has_host;
	int has_body;
};

static const struct {
	const char *ext, *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },   { "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },         { "txt", "text/plain; charset=utf-8" },
	{ "xml", "application/xml" },           { "svg", "image/svg+xml" },
	{ "png", "image/png" },                 { "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },               { "gif", "image/gif" },
	{ "ico", "image/x-icon" },              { "webp", "image/webp" },
	{ "wasm", "application/wasm" },         { "pdf", "application/pdf" },
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

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

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode %XX in place and drop the query; refuse NUL, and ".." as a path segment. */
static int decode_path(char *p)
{
	char *out = p, *in = p;

	for (; *in && *in != '?' && *in != '#'; in++) {
		if (*in == '%') {
			int hi = hexval(in[1]), lo = hi < 0 ? -1 : hexval(in[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*out++ = (char)(hi * 16 + lo);
			in += 2;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
	for (char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return -1;
	return p[0] == '/' ? 0 : -1;
}

/* Parse the head in c->req[0, end). 0, or the status to answer with. */
static int parse(struct conn *c, size_t end, struct request *r)
{
	char *line = c->req, *eol = memchr(line, '\n', end), *sp1, *sp2;

	memset(r, 0, sizeof(*r));
	if (!eol)
		return 400;
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || (size_t)(sp1 - line) >= sizeof(r->method) ||
	    strchr(sp2 + 1, ' '))
		return 400;
	memcpy(r->method, line, (size_t)(sp1 - line));
	memcpy(r->path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (strncmp(sp2 + 1, "HTTP/", 5))
		return 400;
	if (strncmp(sp2 + 1, "HTTP/1.", 7) || !(sp2[8] == '0' || sp2[8] == '1') || sp2[9])
		return sp2[6] >= '2' && sp2[6] <= '9' ? 505 : 400;
	r->minor = sp2[8] - '0';
	r->keep_alive = r->minor == 1;
	for (char *h = eol + 1; h < c->req + end;) {
		char *e = memchr(h, '\n', (size_t)(c->req + end - h)), *colon;

		if (!e)
			break;
		*e = '\0';
		if (e > h && e[-1] == '\r')
			e[-1] = '\0';
		if (!*h)
			break;
		colon = strchr(h, ':');
		if (!colon || colon == h || strchr(" \t", colon[-1]))
			return 400;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcasecmp(h, "Host"))
			r->has_host = 1;
		else if (!strcasecmp(h, "Connection"))
			r->keep_alive = strcasestr(v, "close")   ? 0
					: strcasestr(v, "keep-alive") ? 1
								      : r->keep_alive;
		else if ((!strcasecmp(h, "Content-Length") && strcmp(v, "0")) ||
			 !strcasecmp(h, "Transfer-Encoding"))
			r->has_body = 1;
		h = e + 1;
	}
	if (r->minor == 1 && !r->has_host)
		return 400;
	if (decode_path(r->path))
		return 400;
	return 0;
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

static int serve(struct conn *c, const struct request *r)
{
	int head = !strcmp(r->method, "HEAD"), fd;
	struct stat st;
	char hdr[512], full[REQUEST_LINE_MAX + 64];

	fd = open_target(r->path, &st, full, sizeof(full));
	if (fd < 0)
		return send_error(c, 404, r->keep_alive, head);
	int hlen = snprintf(hdr, sizeof(hdr),
			    "HTTP/1.1 200 OK\r\nServer: pvkit-httpd\r\nContent-Type: %s\r\n"
			    "Content-Length: %lld\r\nConnection: %s\r\n\r\n",
			    content_type(full), (long long)st.st_size,
			    r->keep_alive ? "keep-alive" : "close");
	int rc = send_all(c->fd, hdr, (size_t)hlen);
	for (off_t left = st.st_size; !rc && !head && left > 0;) {
		ssize_t n = read(fd, c->chunk, sizeof(c->chunk));

		if (n <= 0) {
			rc = -1; /* the file changed under us: the length is a lie now, so hang up */
			break;
		}
		rc = send_all(c->fd, c->chunk, (size_t)n);
		left -= n;
	}
	close(fd);
	return rc;
}

/* Where the head ends (just past its blank line) in c->req, or 0 if not there yet. */
static size_t head_end(const struct conn *c)
{
	for (size_t i = 0; i + 1 < c->have; i++) {
		if (c->req[i] != '\n')
			continue;
		if (c->req[i + 1] == '\n')
			return i + 2;
		if (i + 2 < c->have && c->req[i + 1] == '\r' && c->req[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Read until a whole head is buffered. The head's length, 0 at a clean end, or -status. */
static long read_head(struct conn *c)
{
	size_t end;

	while (!(end = head_end(c)) || memchr(c->req, '\n', end) - (void *)c->req > REQUEST_LINE_MAX) {
		if (end)
			return -414;
		const char *eol = memchr(c->req, '\n', c->have);

		if ((!eol && c->have > REQUEST_LINE_MAX) || (eol && eol - c->req > REQUEST_LINE_MAX))
			return -414;
		if (c->have >= HEADERS_MAX)
			return -431;
		ssize_t n = recv(c->fd, c->req + c->have, HEADERS_MAX - c->have, 0);
		if (n <= 0)
			return c->have ? -400 : 0; /* timeout, reset or close: nothing to answer */
		c->have += (size_t)n;
	}
	return (long)end;
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
	struct request r;

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
		status = parse(c, (size_t)end, &r);
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
