/* SPDX-License-Identifier: MIT */
/*
 * A small pinger on libos's raw frame API, for tests/integration/vswitch.sh:
 * finds the peer's MAC with ARP (asking again every 200 ms, as the peer may
 * still be booting), then sends count ICMP echo requests one at a time and
 * checks each reply: addresses, identifier, sequence, every payload byte.
 * Arguments: ip=A.B.C.D peer=A.B.C.D count=N [wait=MS: first let MS ms pass,
 * for what a test runs beside it to get going]. Prints "pinger: pinging" once
 * the peer answered ARP, then "pinger: N of N replies", the round trips of
 * the replies ("pinger: rtt min/median/max A/B/C us") and SUCCESS and exits
 * 0, or FAILURE: why and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "netdev.h"
#include "../../../apps/nettest/frames.h"

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define PING_ID 0x7067 /* "pg" */
#define PAYLOAD 56     /* ping's default */
#define MS 1000000ull

static struct netdev *dev;
static uint8_t mac[6], peer_mac[6], ip[4], peer_ip[4];
static uint32_t rtt_us[65535]; /* of each reply, in the order they came */

static void send_frame(const uint8_t *f, size_t len)
{
	int rc = netdev_send(dev, f, len);

	if (rc) {
		printf("FAILURE: send: %s\n", strerror(-rc));
		exit(1);
	}
}

static void send_arp_request(void)
{
	static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 }; /* Ethernet, IPv4, request */
	uint8_t f[60] = { 0 }, *a = f + 14;

	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, ETH_P_ARP);
	memcpy(a, head, 8);
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, ip, 4);
	memcpy(a + 24, peer_ip, 4);
	send_frame(f, sizeof(f));
}

static void payload(uint8_t *p, uint16_t seq)
{
	for (unsigned i = 0; i < PAYLOAD; i++)
		p[i] = (uint8_t)(seq + i * 3);
}

static void send_echo(uint16_t seq)
{
	uint8_t f[14 + 20 + 8 + PAYLOAD] = { 0 }, *h = f + 14, *icmp = h + 20;

	memcpy(f, peer_mac, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, ETH_P_IP);
	h[0] = 0x45;
	put16(h + 2, 20 + 8 + PAYLOAD);
	put16(h + 4, seq);
	h[8] = 64;
	h[9] = 1; /* ICMP */
	memcpy(h + 12, ip, 4);
	memcpy(h + 16, peer_ip, 4);
	put16(h + 10, inet_checksum(h, 20));
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, PING_ID);
	put16(icmp + 6, seq);
	payload(icmp + 8, seq);
	put16(icmp + 2, inet_checksum(icmp, 8 + PAYLOAD));
	send_frame(f, sizeof(f));
}

/* An ARP reply from the peer to us: learn its MAC. */
static int is_arp_reply(const uint8_t *f, size_t len)
{
	const uint8_t *a = f + 14;

	if (len < 42 || be16(f + 12) != ETH_P_ARP || be16(a + 6) != 2 || memcmp(a + 14, peer_ip, 4))
		return 0;
	memcpy(peer_mac, a + 8, 6);
	return 1;
}

/* The peer's echo reply to request seq, checked byte for byte. */
static int is_echo_reply(const uint8_t *f, size_t len, uint16_t seq)
{
	const uint8_t *h = f + 14, *icmp = h + 20;
	uint8_t want[PAYLOAD];

	if (len < 14 + 20 + 8 + PAYLOAD || be16(f + 12) != ETH_P_IP || h[9] != 1 ||
	    memcmp(f, mac, 6) || memcmp(f + 6, peer_mac, 6) || memcmp(h + 12, peer_ip, 4) ||
	    memcmp(h + 16, ip, 4) || icmp[0] != 0 || be16(icmp + 4) != PING_ID ||
	    be16(icmp + 6) != seq || inet_checksum(icmp, 8 + PAYLOAD) != 0)
		return 0;
	payload(want, seq);
	return memcmp(icmp + 8, want, PAYLOAD) == 0;
}

/* Wait until deadline for a frame that match() accepts; others are ignored. */
static int wait_for(int (*match)(const uint8_t *, size_t, uint16_t), uint16_t seq,
		    uint64_t deadline)
{
	struct netdev_frame f;

	while (netdev_receive(dev, &f, deadline) == 0) {
		int ok = match(f.data, f.len, seq);

		netdev_release(dev, &f);
		if (ok)
			return 1;
	}
	return 0;
}

static int arp_reply(const uint8_t *f, size_t len, uint16_t seq)
{
	(void)seq;
	return is_arp_reply(f, len);
}

static int by_value(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The smallest, median (the lower of two) and largest of the n round trips. */
static void print_rtt(unsigned n)
{
	if (n == 0)
		return;
	qsort(rtt_us, n, sizeof(rtt_us[0]), by_value);
	printf("pinger: rtt min/median/max %u/%u/%u us\n", (unsigned)rtt_us[0],
	       (unsigned)rtt_us[(n - 1) / 2], (unsigned)rtt_us[n - 1]);
}

int main(int argc, char **argv)
{
	unsigned count = 0, replies = 0;
	unsigned long wait_ms = 0;
	uint64_t give_up;
	int have_ip = 0, have_peer = 0, resolved = 0;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "ip=", 3) && !parse_ip(argv[i] + 3, ip))
			have_ip = 1;
		else if (!strncmp(argv[i], "peer=", 5) && !parse_ip(argv[i] + 5, peer_ip))
			have_peer = 1;
		else if (!strncmp(argv[i], "count=", 6))
			count = (unsigned)strtoul(argv[i] + 6, NULL, 10);
		else if (!strncmp(argv[i], "wait=", 5))
			wait_ms = strtoul(argv[i] + 5, NULL, 10);
		else
			break;
	}
	if (!have_ip || !have_peer || count == 0 || count > 65535) {
		puts("FAILURE: usage: pinger ip=A.B.C.D peer=A.B.C.D count=N [wait=MS]");
		return 1;
	}
	dev = netdev_get(0);
	if (!dev) {
		puts("FAILURE: no network device");
		return 1;
	}
	netdev_mac(dev, mac);
	sleep_until(clock_monotonic_ns() + wait_ms * MS);
	give_up = clock_monotonic_ns() + 10000 * MS;
	while (!resolved && clock_monotonic_ns() < give_up) {
		send_arp_request();
		resolved = wait_for(arp_reply, 0, clock_monotonic_ns() + 200 * MS);
	}
	if (!resolved) {
		printf("FAILURE: no ARP reply from %u.%u.%u.%u in 10 s\n", peer_ip[0], peer_ip[1],
		       peer_ip[2], peer_ip[3]);
		return 1;
	}
	puts("pinger: pinging");
	fflush(stdout);
	for (unsigned seq = 1; seq <= count; seq++) {
		uint64_t sent = clock_monotonic_ns();

		send_echo((uint16_t)seq);
		if (wait_for(is_echo_reply, (uint16_t)seq, sent + 1000 * MS))
			rtt_us[replies++] = (uint32_t)((clock_monotonic_ns() - sent) / 1000);
	}
	printf("pinger: %u of %u replies\n", replies, count);
	print_rtt(replies);
	puts(replies == count ? "SUCCESS" : "FAILURE: replies missing");
	return replies == count ? 0 : 1;
}
