/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 with the reflected polynomial 0xedb88320, a byte at a time from a
 * 256-entry table built on first use (threads are cooperative, so the
 * first caller builds it undisturbed).
 */
#include <stdbool.h>

#include "crc32.h"

static uint32_t table[256];
static bool table_ready;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	table_ready = true;
}

uint32_t crc32_update(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (!table_ready)
		build_table();
	/* The register holds the complement between calls, so chained calls compose. */
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
