/* SPDX-License-Identifier: MIT */
/*
 * A growable byte buffer and the RESP2 encoders that write replies (and
 * the log's command records) into it. Host-buildable.
 */
#ifndef KVSTORE_REPLY_H
#define KVSTORE_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* A byte string that is not NUL-terminated: keys, values, arguments. */
struct kv_str {
	const char *ptr;
	size_t len;
};

/*
 * Appends never fail in the caller's face: when memory runs out the buffer
 * keeps what it had and sets oom, and its owner (a connection) gives up on
 * it as a whole. That keeps every encoder a one-liner at its call sites.
 */
struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Make room for more bytes past len. 0 or -ENOMEM (and oom is set). */
int buf_reserve(struct buf *b, size_t more);
void buf_append(struct buf *b, const void *p, size_t n);
/* Forget the contents; give back memory beyond keep_cap bytes. */
void buf_reset(struct buf *b, size_t keep_cap);

/* The RESP2 types: +status, -error, :integer, $bulk (or $-1, nil), *array header. */
void reply_status(struct buf *b, const char *s);
/* printf-style; CR and LF in the message become spaces, so one error stays one line. */
void reply_error(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(struct buf *b, long long v);
void reply_bulk(struct buf *b, const void *p, size_t n);
void reply_bulk_cstr(struct buf *b, const char *s);
void reply_nil(struct buf *b);
void reply_array(struct buf *b, long long n);

/* A command as a RESP array of bulk strings: what clients send and the log stores. */
void resp_encode_command(struct buf *b, int argc, const struct kv_str *argv);
/* The bytes resp_encode_command() would write. */
size_t resp_command_size(int argc, const struct kv_str *argv);

#endif /* KVSTORE_REPLY_H */
