/* SPDX-License-Identifier: MIT */
/*
 * Byte-order helpers, the Internet checksum (RFC 1071) and IPv4 address parsing for programs
 * that build Ethernet/IPv4 frames by hand on the raw netdev API: nettest, and the test guests
 * that talk to it.
 */
#ifndef APPS_NETTEST_FRAMES_H
#define APPS_NETTEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum of len bytes. */
static inline uint16_t inet_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* "A.B.C.D" into out; 0, or -1 when it is not one. */
static inline int parse_ip(const char *s, uint8_t out[4])
{
	unsigned a, b, c, d;
	char extra;

	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return -1;
	out[0] = (uint8_t)a, out[1] = (uint8_t)b, out[2] = (uint8_t)c, out[3] = (uint8_t)d;
	return 0;
}

#endif /* APPS_NETTEST_FRAMES_H */
