/* SPDX-License-Identifier: MIT */
/* What kvstore's two unit tests share (test_kvstore.c, test_kvstore_log.c). */
#ifndef KVSTORE_TEST_H
#define KVSTORE_TEST_H

#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* Parse one command from a malloc'ed copy of exactly n bytes (so ASan sees over-reads). */
static inline int parse_exact(struct resp_parser *p, const char *s, size_t n, char **copy)
{
	*copy = malloc(n ? n : 1);
	memcpy(*copy, s, n);
	resp_parser_reset(p);
	return resp_parse(p, *copy, n);
}

#endif /* KVSTORE_TEST_H */
