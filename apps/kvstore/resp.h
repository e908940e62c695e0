/* SPDX-License-Identifier: MIT */
/*
 * The RESP2 request parser: arrays of bulk strings (what redis-cli and
 * redis-benchmark send) and inline commands (one line, words separated by
 * spaces), with Redis' limits and error messages. It parses the buffer in
 * place and can resume where it stopped, so a request that arrives in
 * pieces is never rescanned from its start. Host-buildable.
 */
#ifndef KVSTORE_RESP_H
#define KVSTORE_RESP_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"

enum resp_status {
	RESP_ERROR = -1, /* malformed: error holds the reply; the connection must close */
	RESP_MORE = 0,   /* the command is not all there yet: call again with more bytes */
	RESP_DONE = 1,   /* argc/argv hold a whole command of pos bytes */
};

/* Where an argument lies, from the start of its command: the buffer may move between calls. */
struct resp_span {
	size_t off, len;
};

struct resp_parser {
	/* Progress through the command at the start of the buffer. */
	size_t pos;       /* bytes of it consumed so far; its length once RESP_DONE */
	char kind;        /* 0 before the first byte, '*' array, 'i' inline */
	long long expect; /* arguments the array announced; -1 before its header */
	long long bulk;   /* length of the bulk string being read; -1 before its "$n" line */
	size_t need;      /* RESP_MORE: bytes the buffer must hold for the next step (a hint) */
	size_t scanned;   /* the "$n" or "*n" line being read has no CRLF before this offset */
	int argc;
	struct resp_span *spans;
	struct kv_str *argv; /* RESP_DONE: the arguments, pointing into the buffer */
	size_t cap;          /* entries of spans and argv */
	const char *error;   /* RESP_ERROR: the message for the error reply, without '-' */
	char errbuf[80];
};

void resp_parser_init(struct resp_parser *p);
void resp_parser_free(struct resp_parser *p);
/* Start over: the next call parses a new command at the start of the buffer it is given. */
void resp_parser_reset(struct resp_parser *p);

/*
 * Parse the command at buf[0, len). buf must hold the same bytes as at
 * the previous call for this command (moved or extended, but not changed).
 * A RESP_DONE command with argc 0 (an empty array or a blank line) is
 * one to skip without a reply, as Redis does.
 */
int resp_parse(struct resp_parser *p, const char *buf, size_t len);

/*
 * The decimal integer in s[0, n) as Redis' string2ll reads it, for request
 * lengths and command arguments alike: an optional '-', then "0" or digits
 * without a leading zero, nothing else, within long long. Returns whether
 * it is one.
 */
bool resp_parse_ll(const char *s, size_t n, long long *v);

#endif /* KVSTORE_RESP_H */
