/* SPDX-License-Identifier: MIT */
/*
 * A hostile neighbour for tests/integration/net_flood.sh: sends minimum-size
 * frames on its first NIC as fast as the device takes them, for a while, to
 * every port (mode=bcast) or to one MAC (mode=unicast mac=xx:xx:xx:xx:xx:xx).
 * Arguments: mode=bcast|unicast [mac=...] ms=N. Prints "net_flood: flooding"
 * when it starts and "net_flood: sent N frames in M ms" when it stops, then
 * exits 0; exits 2 on bad arguments, 1 when a send fails.
 *
 * The frame API copies each frame into a free transmit buffer and kicks only
 * when the device asked for it (event index), so a loop of sends is already
 * a batch: while hv's thread drains the ring, the sends that refill it cost
 * no exit, and a full ring makes the next send wait for the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "netdev.h"

#define ETHERTYPE 0x88b5   /* IEEE local experimental */
#define FRAME_BYTES 60     /* the shortest Ethernet frame, without FCS */
#define CLOCK_EVERY 64     /* frames between two reads of the clock */
#define MS 1000000ull

/* "xx:xx:xx:xx:xx:xx" into out; 0, or -1 when it is not one. */
static int parse_mac(const char *s, uint8_t out[6])
{
	unsigned m[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -1;
		out[i] = (uint8_t)m[i];
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t f[FRAME_BYTES] = { 0 };
	const char *mode = NULL;
	unsigned long ms = 0;
	unsigned long long sent = 0;
	int have_mac = 0;
	struct netdev *d;
	uint64_t start, end, now;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "mode=", 5))
			mode = argv[i] + 5;
		else if (!strncmp(argv[i], "mac=", 4) && !parse_mac(argv[i] + 4, f))
			have_mac = 1;
		else if (!strncmp(argv[i], "ms=", 3))
			ms = strtoul(argv[i] + 3, NULL, 10);
		else
			break;
	}
	if (mode && !strcmp(mode, "bcast") && !have_mac)
		memset(f, 0xff, 6);
	else if (!mode || strcmp(mode, "unicast") || !have_mac || (f[0] & 1))
		mode = NULL;
	if (!mode || ms == 0) {
		puts("net_flood: usage: net_flood mode=bcast|unicast [mac=xx:xx:xx:xx:xx:xx] ms=N "
		     "(unicast needs a unicast mac=, bcast none)");
		return 2;
	}
	d = netdev_get(0);
	if (!d) {
		puts("net_flood: no network device");
		return 1;
	}
	netdev_mac(d, f + 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	puts("net_flood: flooding");
	fflush(stdout);
	start = now = clock_monotonic_ns();
	end = start + ms * MS;
	while (now < end) {
		for (unsigned i = 0; i < CLOCK_EVERY; i++, sent++) {
			int rc;

			memcpy(f + 14, &sent, sizeof(sent)); /* every frame differs */
			rc = netdev_send(d, f, sizeof(f));
			if (rc) {
				printf("net_flood: send: %s after %llu frames\n", strerror(-rc),
				       sent);
				return 1;
			}
		}
		now = clock_monotonic_ns();
	}
	printf("net_flood: sent %llu frames in %llu ms\n", sent,
	       (unsigned long long)((now - start) / MS));
	return 0;
}
