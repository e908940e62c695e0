/* SPDX-License-Identifier: MIT */
/*
 * nettest: answers ARP and ICMP echo on one IPv4 address, straight on the
 * raw frame API (no TCP/IP stack). Arguments: ip=A.B.C.D (default
 * 10.0.0.2) and optionally replies=N to exit after N echo replies. Every
 * second without traffic it prints nothing; at exit it prints its counters.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "frames.h"
#include "netdev.h"

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ARP_REQUEST 1
#define ARP_REPLY 2
#define IPPROTO_ICMP 1
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

struct counters {
	unsigned long frames, arp_replies, echo_replies, ignored;
};

/* Turn an ARP request for our address into the reply, in place. 1 if it was one. */
static int arp(uint8_t *f, size_t len, const uint8_t mac[6], const uint8_t ip[4])
{
	uint8_t *a = f + 14;

	if (len < 14 + 28 || be16(a) != 1 || be16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4 ||
	    be16(a + 6) != ARP_REQUEST || memcmp(a + 24, ip, 4))
		return 0;
	put16(a + 6, ARP_REPLY);
	memcpy(a + 18, a + 8, 10); /* target = the sender's MAC and IP */
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, ip, 4);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, mac, 6);
	return 1;
}

/* Turn an ICMP echo request to our address into the reply, in place. 1 if it was one. */
static int echo(uint8_t *f, size_t len, const uint8_t mac[6], const uint8_t ip[4])
{
	uint8_t *h = f + 14, *icmp, tmp[4];
	size_t ihl, total;

	if (len < 14 + 20 || (h[0] >> 4) != 4 || h[9] != IPPROTO_ICMP || memcmp(h + 16, ip, 4))
		return 0;
	ihl = (size_t)(h[0] & 15) * 4;
	total = be16(h + 2);
	if (ihl < 20 || total < ihl + 8 || 14 + total > len || inet_checksum(h, ihl) != 0)
		return 0;
	icmp = h + ihl;
	if (icmp[0] != ICMP_ECHO_REQUEST || inet_checksum(icmp, total - ihl) != 0)
		return 0;
	icmp[0] = ICMP_ECHO_REPLY;
	put16(icmp + 2, 0);
	put16(icmp + 2, inet_checksum(icmp, total - ihl));
	memcpy(tmp, h + 12, 4); /* swap addresses; the header checksum is unchanged by a swap */
	memcpy(h + 12, h + 16, 4);
	memcpy(h + 16, tmp, 4);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, mac, 6);
	return 1;
}

int main(int argc, char **argv)
{
	uint8_t ip[4] = { 10, 0, 0, 2 }, mac[6];
	unsigned long stop_after = 0;
	struct counters c = { 0 };
	struct netdev *d = netdev_get(0);

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "ip=", 3) && !parse_ip(argv[i] + 3, ip))
			continue;
		if (!strncmp(argv[i], "replies=", 8)) {
			stop_after = strtoul(argv[i] + 8, NULL, 10);
			continue;
		}
		printf("nettest: unknown argument '%s' (ip=A.B.C.D, replies=N)\n", argv[i]);
		return 2;
	}
	if (!d) {
		printf("nettest: no network device (hv --net=TAP)\n");
		return 1;
	}
	netdev_mac(d, mac);
	printf("nettest: %s %02x:%02x:%02x:%02x:%02x:%02x answering ARP and ping on %u.%u.%u.%u\n",
	       netdev_name(d), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], ip[0], ip[1], ip[2],
	       ip[3]);
	fflush(stdout);
	while (!stop_after || c.echo_replies < stop_after) {
		struct netdev_frame f;
		int rc = netdev_receive(d, &f, LIBOS_FOREVER);

		if (rc) {
			printf("nettest: receive: %s\n", strerror(-rc));
			return 1;
		}
		c.frames++;
		int reply = 0;
		if (f.len >= 14 && be16(f.data + 12) == ETH_P_ARP && arp(f.data, f.len, mac, ip)) {
			reply = 1;
			c.arp_replies++;
		} else if (f.len >= 14 && be16(f.data + 12) == ETH_P_IP && echo(f.data, f.len, mac, ip)) {
			reply = 1;
			c.echo_replies++;
		} else {
			c.ignored++;
		}
		if (reply && (rc = netdev_send(d, f.data, f.len))) {
			printf("nettest: send: %s\n", strerror(-rc));
			return 1;
		}
		netdev_release(d, &f);
	}
	printf("nettest: %lu frames, %lu ARP replies, %lu echo replies, %lu ignored\n", c.frames,
	       c.arp_replies, c.echo_replies, c.ignored);
	return 0;
}
