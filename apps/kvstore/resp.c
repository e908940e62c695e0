/* SPDX-License-Identifier: MIT */
/* The RESP2 request parser: multibulk and inline requests, resumable, with Redis' limits. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "resp.h"

void resp_parser_init(struct resp_parser *p)
{
	memset(p, 0, sizeof(*p));
	resp_parser_reset(p);
}

void resp_parser_free(struct resp_parser *p)
{
	free(p->spans);
	free(p->argv);
	memset(p, 0, sizeof(*p));
}

void resp_parser_reset(struct resp_parser *p)
{
	p->pos = 0;
	p->kind = 0;
	p->expect = -1;
	p->bulk = -1;
	p->need = 0;
	p->scanned = 0;
	p->argc = 0;
	p->error = NULL;
}

static int fail(struct resp_parser *p, const char *msg)
{
	p->error = msg;
	return RESP_ERROR;
}

static int more(struct resp_parser *p, size_t need)
{
	p->need = need;
	return RESP_MORE;
}

static int add_arg(struct resp_parser *p, size_t off, size_t len)
{
	if ((size_t)p->argc == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct resp_span *s = realloc(p->spans, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		p->spans = s;
		struct kv_str *a = realloc(p->argv, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		p->argv = a;
		p->cap = cap;
	}
	p->spans[p->argc++] = (struct resp_span){ off, len };
	return 0;
}

static int done(struct resp_parser *p, const char *buf)
{
	for (int i = 0; i < p->argc; i++)
		p->argv[i] = (struct kv_str){ buf + p->spans[i].off, p->spans[i].len };
	p->need = 0;
	return RESP_DONE;
}

bool resp_parse_ll(const char *s, size_t n, long long *v)
{
	unsigned long long u = 0, limit = LLONG_MAX;
	size_t i = 0;
	bool neg = false;

	if (n == 0 || n > 20)
		return false;
	if (s[0] == '-') {
		neg = true;
		limit = (unsigned long long)LLONG_MAX + 1;
		if (++i == n)
			return false;
	}
	if (s[i] == '0') { /* "0" alone: no "-0", no "007" */
		*v = 0;
		return n == 1;
	}
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || u > (limit - d) / 10)
			return false;
		u = u * 10 + d;
	}
	*v = !neg ? (long long)u : u == limit ? LLONG_MIN : -(long long)u;
	return true;
}

/*
 * The "\r\n" that ends the line starting at buf[from], or NULL if not
 * buffered yet. The search goes on where the last one for this line stopped
 * (p->scanned): a line that arrives a byte at a time is still read once, not
 * once per byte (64 KiB of '\r' sent that way took seconds of CPU).
 */
static const char *line_end(struct resp_parser *p, const char *buf, size_t from, size_t len)
{
	const char *c = buf + (p->scanned > from ? p->scanned : from);

	for (; (c = memchr(c, '\r', len - (size_t)(c - buf))); c++) {
		if ((size_t)(c - buf) + 1 >= len)
			break; /* a '\r' last: its '\n' may come next */
		if (c[1] == '\n') {
			p->scanned = 0;
			return c;
		}
	}
	p->scanned = c ? (size_t)(c - buf) : len;
	return NULL;
}

/* A blank-separated line: words become arguments. No quoting: the words are taken as they are. */
static int parse_inline(struct resp_parser *p, const char *buf, size_t len)
{
	const char *nl = memchr(buf + p->pos, '\n', len - p->pos);
	size_t end, i = 0;

	if (!nl) {
		if (len > KV_INLINE_MAX)
			return fail(p, "ERR Protocol error: too big inline request");
		p->pos = len; /* scanned: the next call looks at new bytes only */
		return more(p, len + 1);
	}
	end = (size_t)(nl - buf);
	if (end > KV_INLINE_MAX)
		return fail(p, "ERR Protocol error: too big inline request");
	p->pos = end + 1;
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	while (i < end) {
		size_t start;

		while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i == end)
			break;
		start = i;
		while (i < end && buf[i] != ' ' && buf[i] != '\t')
			i++;
		if (add_arg(p, start, i - start))
			return fail(p, "OOM no memory for the request's arguments");
	}
	return done(p, buf);
}

#define EXPECTED_DOLLAR "ERR Protocol error: expected '$', got "

/* The "$len\r\n" line of the next bulk string: RESP_DONE with p->bulk set, or as resp_parse. */
static int bulk_header(struct resp_parser *p, const char *buf, size_t len)
{
	const char *eol;
	long long n;

	if (p->pos >= len)
		return more(p, p->pos + 1);
	if (buf[p->pos] != '$') {
		unsigned char got = (unsigned char)buf[p->pos];

		/* Redis shows the byte as it is; a control byte would break the reply's line. */
		if (got >= 0x20 && got < 0x7f)
			snprintf(p->errbuf, sizeof(p->errbuf), "%s'%c'", EXPECTED_DOLLAR, got);
		else
			snprintf(p->errbuf, sizeof(p->errbuf), "%s'\\x%02x'", EXPECTED_DOLLAR, got);
		return fail(p, p->errbuf);
	}
	eol = line_end(p, buf, p->pos + 1, len);
	if (!eol)
		return len - p->pos > KV_INLINE_MAX
			       ? fail(p, "ERR Protocol error: too big bulk count string")
			       : more(p, len + 1);
	if (!resp_parse_ll(buf + p->pos + 1, (size_t)(eol - buf) - p->pos - 1, &n) || n < 0 ||
	    (unsigned long long)n > KV_BULK_MAX)
		return fail(p, "ERR Protocol error: invalid bulk length");
	p->bulk = n;
	p->pos = (size_t)(eol - buf) + 2;
	return RESP_DONE;
}

/* "*n\r\n" then n times "$len\r\n<len bytes>\r\n". Resumes at pos, expect and bulk. */
static int parse_multibulk(struct resp_parser *p, const char *buf, size_t len)
{
	if (p->expect < 0) {
		const char *eol = line_end(p, buf, 1, len);
		long long n;

		if (!eol)
			return len > KV_INLINE_MAX
				       ? fail(p, "ERR Protocol error: too big mbulk count string")
				       : more(p, len + 1);
		if (!resp_parse_ll(buf + 1, (size_t)(eol - buf - 1), &n) || n > KV_MULTIBULK_MAX)
			return fail(p, "ERR Protocol error: invalid multibulk length");
		p->pos = (size_t)(eol - buf) + 2;
		if (n <= 0) /* "*0" and "*-1": nothing to do, as in Redis */
			return done(p, buf);
		p->expect = n;
	}
	while (p->argc < p->expect) {
		size_t n;
		int rc;

		if (p->bulk < 0 && (rc = bulk_header(p, buf, len)) != RESP_DONE)
			return rc;
		n = (size_t)p->bulk;
		if (len - p->pos < n + 2)
			return more(p, p->pos + n + 2);
		if (buf[p->pos + n] != '\r' || buf[p->pos + n + 1] != '\n')
			return fail(p, "ERR Protocol error: bulk string not followed by CRLF");
		if (add_arg(p, p->pos, n))
			return fail(p, "OOM no memory for the request's arguments");
		p->pos += n + 2;
		p->bulk = -1;
	}
	return done(p, buf);
}

int resp_parse(struct resp_parser *p, const char *buf, size_t len)
{
	if (p->kind == 0) {
		if (len == 0)
			return more(p, 1);
		p->kind = buf[0] == '*' ? '*' : 'i';
	}
	return p->kind == '*' ? parse_multibulk(p, buf, len) : parse_inline(p, buf, len);
}
