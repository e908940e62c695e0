/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the httpd appliance's request parser (http_parse.c) on the
 * bytes a client sends, driven as httpd's connection loop drives it: bytes
 * arrive a piece at a time into the connection's buffer until a head is
 * there, the head is parsed, and a keep-alive connection goes on with the
 * bytes after it. The bytes past what arrived (or past the head, for the
 * parse) are poisoned, so ASan catches a look beyond them. Checked: the
 * statuses are the ones httpd answers, and an accepted path is absolute,
 * without a ".." segment, short enough for httpd's file-name buffer.
 *
 * Input: a byte that sets how many bytes each receive gets, then the stream.
 */
#include <sanitizer/asan_interface.h>

#include "fuzz.h"
#include "http_parse.h"

#define BUF_SIZE (HTTP_HEADERS_MAX + 1) /* httpd's struct conn req[] */

/* What the caller may look at is req[0, n): the rest of the buffer is off limits. */
static void fence(char *req, size_t n)
{
	ASAN_UNPOISON_MEMORY_REGION(req, BUF_SIZE);
	ASAN_POISON_MEMORY_REGION(req + n, BUF_SIZE - n);
}

static void check_path(const char *path)
{
	size_t len = strnlen(path, HTTP_REQUEST_LINE_MAX);

	FUZZ_CHECK(len < HTTP_REQUEST_LINE_MAX && path[0] == '/');
	for (const char *s = path; s; s = strchr(s + 1, '/'))
		FUZZ_CHECK(strncmp(s, "/..", 3) != 0 || (s[3] != '/' && s[3] != '\0'));
}

static void check_request(const struct http_request *r)
{
	size_t mlen = strnlen(r->method, sizeof(r->method));

	FUZZ_CHECK(mlen >= 1 && mlen < sizeof(r->method) && !strchr(r->method, ' '));
	FUZZ_CHECK(r->minor == 0 || r->minor == 1);
	FUZZ_CHECK(r->minor == 0 || r->has_host);
	FUZZ_CHECK(r->keep_alive == 0 || r->keep_alive == 1);
	check_path(r->path);
	FUZZ_CHECK(http_content_type(r->path) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t step = fuzz_u8(&in), have = 0;
	char *req = malloc(BUF_SIZE);
	static struct http_request r; /* 8 KiB of path */

	if (!req)
		abort();
	step = step >= 0xf0 ? SIZE_MAX : step + 1; /* all that is left, or 1 to 240 bytes */
	for (;;) {
		long end;
		int status;

		fence(req, have);
		while ((end = http_head_scan(req, have)) == 0 && in.left) {
			size_t n;
			const uint8_t *p;

			FUZZ_CHECK(have < HTTP_HEADERS_MAX);
			n = HTTP_HEADERS_MAX - have; /* what httpd's recv() asks for at most */
			p = fuzz_bytes(&in, step < n ? step : n, &n);
			fence(req, have + n);
			memcpy(req + have, p, n);
			have += n;
		}
		if (end <= 0) { /* the client went away mid-head, or an error status ends it */
			FUZZ_CHECK(end == 0 || end == -414 || end == -431);
			break;
		}
		FUZZ_CHECK((size_t)end <= have && req[end - 1] == '\n');
		FUZZ_CHECK((char *)memchr(req, '\n', (size_t)end) - req <= HTTP_REQUEST_LINE_MAX);
		fence(req, (size_t)end);
		status = http_parse_head(req, (size_t)end, &r);
		FUZZ_CHECK(status == 0 || status == 400 || status == 505);
		if (status)
			break;
		check_request(&r);
		if (strcmp(r.method, "GET") && strcmp(r.method, "HEAD"))
			break; /* 405 */
		if (r.has_body || !r.keep_alive)
			break;
		fence(req, have);
		memmove(req, req + end, have - (size_t)end);
		have -= (size_t)end;
	}
	ASAN_UNPOISON_MEMORY_REGION(req, BUF_SIZE);
	free(req);
	return 0;
}
