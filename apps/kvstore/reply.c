/* SPDX-License-Identifier: MIT */
/* RESP2 replies and command records encoded into growable byte buffers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

int buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (more <= b->cap - b->len)
		return 0;
	if (more > (size_t)-1 / 2 - b->len)
		goto err_oom;
	while (cap - b->len < more)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		goto err_oom;
	b->data = p;
	b->cap = cap;
	return 0;

err_oom:
	b->oom = true;
	return -ENOMEM;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_reset(struct buf *b, size_t keep_cap)
{
	b->len = 0;
	b->oom = false;
	if (b->cap > keep_cap) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

/* One "<type><number>\r\n" line. */
static void number_line(struct buf *b, char type, long long v)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%c%lld\r\n", type, v);

	buf_append(b, line, (size_t)n);
}

void reply_status(struct buf *b, const char *s)
{
	buf_append(b, "+", 1);
	buf_append(b, s, strlen(s));
	buf_append(b, "\r\n", 2);
}

void reply_error(struct buf *b, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1; /* a long message is cut, never the protocol */
	for (int i = 0; i < n; i++)
		if (msg[i] == '\r' || msg[i] == '\n')
			msg[i] = ' ';
	buf_append(b, "-", 1);
	buf_append(b, msg, (size_t)n);
	buf_append(b, "\r\n", 2);
}

void reply_int(struct buf *b, long long v)
{
	number_line(b, ':', v);
}

void reply_bulk(struct buf *b, const void *p, size_t n)
{
	number_line(b, '$', (long long)n);
	buf_append(b, p, n);
	buf_append(b, "\r\n", 2);
}

void reply_bulk_cstr(struct buf *b, const char *s)
{
	reply_bulk(b, s, strlen(s));
}

void reply_nil(struct buf *b)
{
	buf_append(b, "$-1\r\n", 5);
}

void reply_array(struct buf *b, long long n)
{
	number_line(b, '*', n);
}

void resp_encode_command(struct buf *b, int argc, const struct kv_str *argv)
{
	reply_array(b, argc);
	for (int i = 0; i < argc; i++)
		reply_bulk(b, argv[i].ptr, argv[i].len);
}

static size_t digits(size_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

size_t resp_command_size(int argc, const struct kv_str *argv)
{
	size_t n = 3 + digits((size_t)argc);

	for (int i = 0; i < argc; i++)
		n += 5 + digits(argv[i].len) + argv[i].len;
	return n;
}
