/* SPDX-License-Identifier: MIT */
/*
 * A burst of broadcast frames on the first NIC, then exit at once (role=send N), or count
 * such frames until N have come or 5 s pass (role=count N): whatever a guest queued just
 * before it exited must still go out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "netdev.h"

#define ETHERTYPE 0x88b5 /* IEEE local experimental */

int main(int argc, char **argv)
{
	struct netdev *d = netdev_get(0);
	int n = argc > 2 ? atoi(argv[2]) : 200, got = 0;
	uint8_t f[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (!d || argc < 2)
		return 2;
	if (!strcmp(argv[1], "role=send")) {
		/* The counting domain boots beside this one: give it time to post its buffers. */
		sleep_until(clock_monotonic_ns() + 300000000ull);
		netdev_mac(d, f + 6);
		f[12] = ETHERTYPE >> 8;
		f[13] = ETHERTYPE & 0xff;
		for (int i = 0; i < n; i++) {
			f[14] = (uint8_t)i;
			if (netdev_send(d, f, sizeof(f)))
				return 1;
		}
		return 0; /* no wait: the frames are only queued */
	}
	uint64_t end = clock_monotonic_ns() + 5000000000ull;
	while (got < n) {
		struct netdev_frame fr;

		if (netdev_receive(d, &fr, end))
			break;
		if (fr.len >= 14 && fr.data[12] == ETHERTYPE >> 8 && fr.data[13] == (ETHERTYPE & 0xff))
			got++;
		netdev_release(d, &fr);
	}
	printf("burst: counted %d of %d\n", got, n);
	return got == n ? 0 : 1;
}
