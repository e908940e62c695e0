/* SPDX-License-Identifier: MIT */
/* Sizes on the command line: "512K", "32M", "1G" (binary units) or plain bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "hv.h"

int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -ERANGE;
		v = v * 10 + d;
	}
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	default: break;
	}
	if (*p != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "GMK";
	static const unsigned shifts[] = { 30, 20, 10 };

	for (int i = 0; i < 3; i++)
		if (bytes && (bytes & ((1ull << shifts[i]) - 1)) == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(bytes >> shifts[i]), units[i]);
			return;
		}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}
