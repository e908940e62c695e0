/* SPDX-License-Identifier: MIT */
/*
 * httpd's request parser (RFC 9112): finding the end of a head in what a
 * connection received, then its request line and the headers httpd acts on.
 * Pure, no I/O: fuzzed on the host (tests/fuzz/fuzz_http.c).
 */
#define _GNU_SOURCE /* strcasestr */
#include <string.h>
#include <strings.h>

#include "http_parse.h"

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

const char *http_content_type(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* Where the head ends (just past its blank line) in req[0, have), or 0 if not there yet. */
static size_t head_end(const char *req, size_t have)
{
	for (size_t i = 0; i + 1 < have; i++) {
		if (req[i] != '\n')
			continue;
		if (req[i + 1] == '\n')
			return i + 2;
		if (i + 2 < have && req[i + 1] == '\r' && req[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

long http_head_scan(const char *req, size_t have)
{
	size_t end = head_end(req, have);
	/* The request line's LF: inside the head when there is one, else anywhere yet. */
	const char *eol = memchr(req, '\n', end ? end : have);

	if (eol ? eol - req > HTTP_REQUEST_LINE_MAX : have > HTTP_REQUEST_LINE_MAX)
		return -414;
	if (end)
		return (long)end;
	if (have >= HTTP_HEADERS_MAX)
		return -431;
	return 0;
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

int http_parse_head(char *req, size_t end, struct http_request *r)
{
	char *line = req, *eol = memchr(line, '\n', end), *sp1, *sp2;

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
	for (char *h = eol + 1; h < req + end;) {
		char *e = memchr(h, '\n', (size_t)(req + end - h)), *colon;

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
