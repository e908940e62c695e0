/* SPDX-License-Identifier: MIT */
/*
 * Three NICs on one hv switch (hv --net=switch:S three times), driven
 * through libos's raw frame API, for tests/integration/vswitch.sh: ARP and
 * ICMP frames of every size arrive byte for byte; a broadcast, a multicast
 * and a frame for an unknown MAC reach both other NICs; a frame for a
 * learned MAC reaches its NIC alone; nothing comes back to its sender; two
 * NICs sending to each other at once both get everything; a MAC that moves
 * is followed; and 600 frames from one NIC for a NIC that receives nothing
 * fill all but the last eighth of its 256 receive buffers, kept by the
 * switch for other senders, where a frame from the third NIC still finds
 * one; the rest are refused, after which it works as before.
 * Each check expects the exact next frame, or none, on each NIC. Prints
 * the MACs, then SUCCESS and exits 0, or FAILURE: why and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "netdev.h"

#define NR_NICS 3
#define FLOOD_FRAMES 600
#define RX_BUFFERS 256 /* what libos's driver posts: its queue size */
#define RX_KEPT (RX_BUFFERS / 8) /* what hv's switch keeps from a sender over its share */
#define FRAME_MAX 1518 /* MTU 1500, Ethernet header, an 802.1Q tag */
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_TEST 0x88b5 /* IEEE 802's local experimental EtherType */
#define MS 1000000ull

#define FAIL(...)                                                                          \
	do {                                                                               \
		printf("FAILURE: " __VA_ARGS__);                                           \
		putchar('\n');                                                             \
		exit(1);                                                                   \
	} while (0)

static struct netdev *nic[NR_NICS];
static uint8_t mac[NR_NICS][6];
static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mdns_multicast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t ip[NR_NICS][4] = { { 10, 9, 0, 1 }, { 10, 9, 0, 2 }, { 10, 9, 0, 3 } };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071). */
static uint16_t inet_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
}

/* An ARP request from NIC a for NIC b's address (op 1), or b's reply to a (op 2). */
static size_t arp(uint8_t *f, unsigned from, unsigned to, uint16_t op)
{
	static const uint8_t head[6] = { 0, 1, 8, 0, 6, 4 }; /* Ethernet, IPv4 */
	uint8_t *a = f + 14;

	eth(f, op == 1 ? broadcast : mac[to], mac[from], ETH_P_ARP);
	memcpy(a, head, 6);
	put16(a + 6, op);
	memcpy(a + 8, mac[from], 6);
	memcpy(a + 14, ip[from], 4);
	memcpy(a + 18, op == 1 ? (const uint8_t[6]){ 0 } : mac[to], 6);
	memcpy(a + 24, ip[to], 4);
	memset(f + 42, 0, 18); /* padded to the 60-byte minimum */
	return 60;
}

/*
 * A len-byte frame from NIC from to dst numbered seq: an ICMP echo request
 * with a patterned payload where it fits one (42 bytes and up), else the
 * test EtherType with the pattern. The source MAC is src.
 */
static void frame(uint8_t *f, size_t len, const uint8_t dst[6], const uint8_t src[6], unsigned from,
		  unsigned to, uint32_t seq)
{
	uint8_t *h = f + 14, *icmp = h + 20;

	if (len < 42) {
		eth(f, dst, src, ETH_P_TEST);
		for (size_t i = 14; i < len; i++)
			f[i] = (uint8_t)(seq * 31 + i * 7);
		return;
	}
	eth(f, dst, src, ETH_P_IP);
	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, (uint16_t)(len - 14));
	h[8] = 64;
	h[9] = 1; /* ICMP */
	memcpy(h + 12, ip[from], 4);
	memcpy(h + 16, ip[to], 4);
	put16(h + 10, inet_checksum(h, 20));
	icmp[0] = 8; /* echo request */
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0x5757);
	put16(icmp + 6, (uint16_t)seq);
	for (size_t i = 42; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 7);
	put16(icmp + 2, inet_checksum(icmp, len - 34));
}

static void send_on(unsigned n, const uint8_t *f, size_t len)
{
	int rc = netdev_send(nic[n], f, len);

	if (rc)
		FAIL("nic%u: sending a %zu-byte frame: %s", n, len, strerror(-rc));
}

/* The next frame on NIC n must be want, byte for byte. */
static void expect_frame(unsigned n, const uint8_t *want, size_t len, const char *what)
{
	struct netdev_frame f;
	int rc = netdev_receive(nic[n], &f, clock_monotonic_ns() + 2000 * MS);

	if (rc)
		FAIL("%s: nic%u received nothing (%s)", what, n, strerror(-rc));
	if (f.len != len)
		FAIL("%s: nic%u received %zu bytes, not %zu", what, n, f.len, len);
	for (size_t i = 0; i < len; i++)
		if (f.data[i] != want[i])
			FAIL("%s: nic%u: byte %zu of %zu is 0x%02x, not 0x%02x", what, n, i, len,
			     f.data[i], want[i]);
	netdev_release(nic[n], &f);
}

/* NIC n must receive nothing (within 30 ms: every check before it has synchronised). */
static void expect_nothing(unsigned n, const char *what)
{
	struct netdev_frame f;

	if (netdev_receive(nic[n], &f, clock_monotonic_ns() + 30 * MS) == 0)
		FAIL("%s: nic%u received a %zu-byte frame for %02x:%02x:%02x:%02x:%02x:%02x", what,
		     n, f.len, f.data[0], f.data[1], f.data[2], f.data[3], f.data[4], f.data[5]);
}

static void setup(void)
{
	if (netdev_count() != NR_NICS)
		FAIL("%u NICs, want %u (hv --net=switch:S three times)", netdev_count(), NR_NICS);
	for (unsigned n = 0; n < NR_NICS; n++) {
		nic[n] = netdev_get(n);
		netdev_mac(nic[n], mac[n]);
		printf("nic%u %02x:%02x:%02x:%02x:%02x:%02x\n", n, mac[n][0], mac[n][1], mac[n][2],
		       mac[n][3], mac[n][4], mac[n][5]);
		if ((mac[n][0] & 1) || netdev_mtu(nic[n]) != 1500)
			FAIL("nic%u: a multicast MAC or an MTU of %u", n, netdev_mtu(nic[n]));
		for (unsigned m = 0; m < n; m++)
			if (!memcmp(mac[m], mac[n], 6))
				FAIL("nic%u and nic%u have the same MAC", m, n);
	}
}

/* Broadcast floods; the answer to a learned MAC goes to it alone; unknown unicast floods. */
static void learning(void)
{
	uint8_t f[60], g[60];
	size_t len;

	len = arp(f, 0, 1, 1);
	send_on(0, f, len);
	expect_frame(1, f, len, "ARP request, broadcast");
	expect_frame(2, f, len, "ARP request, broadcast");
	expect_nothing(0, "ARP request, broadcast: back to its sender");

	len = arp(f, 1, 0, 2);
	send_on(1, f, len);
	expect_frame(0, f, len, "ARP reply to a learned MAC");
	expect_nothing(2, "ARP reply to a learned MAC: flooded");
	expect_nothing(1, "ARP reply to a learned MAC: back to its sender");

	frame(f, 60, mac[2], mac[0], 0, 2, 1); /* nic2 has sent nothing yet */
	send_on(0, f, 60);
	expect_frame(1, f, 60, "unicast to an unknown MAC");
	expect_frame(2, f, 60, "unicast to an unknown MAC");

	frame(g, 60, mac[0], mac[2], 2, 0, 2);
	send_on(2, g, 60);
	expect_frame(0, g, 60, "nic2 to nic0");
	send_on(0, f, 60); /* nic2 is learned now */
	expect_frame(2, f, 60, "unicast to a MAC just learned");
	expect_nothing(1, "unicast to a MAC just learned: flooded");

	frame(f, 60, mdns_multicast, mac[1], 1, 0, 3);
	send_on(1, f, 60);
	expect_frame(0, f, 60, "multicast");
	expect_frame(2, f, 60, "multicast");
	expect_nothing(1, "multicast: back to its sender");
}

/* Every size from the header alone to the largest frame, both ways, byte for byte. */
static void every_byte(void)
{
	static uint8_t f[FRAME_MAX];
	unsigned frames = 0;

	for (unsigned dir = 0; dir < 2; dir++) {
		unsigned from = dir, to = 1 - dir;

		for (size_t len = 14; len <= FRAME_MAX; len += len < 70 ? 1 : 29) {
			frame(f, len, mac[to], mac[from], from, to, (uint32_t)len);
			send_on(from, f, len);
			expect_frame(to, f, len, "frame sizes");
			frames++;
		}
		frame(f, FRAME_MAX, mac[to], mac[from], from, to, 0);
		send_on(from, f, FRAME_MAX);
		expect_frame(to, f, FRAME_MAX, "the largest frame");
	}
	expect_nothing(2, "frames between nic0 and nic1: flooded");
	printf("sizes: %u frames of 14 to %u bytes, both ways, every byte\n", frames + 2,
	       FRAME_MAX);
}

/*
 * nic0 and nic1 send to each other at once, in alternating runs of 8, so both NICs'
 * threads in hv switch frames at the same moment: neither side may stall
 * (hv's lock order) and every frame must arrive, in order.
 */
static void both_at_once(void)
{
	static uint8_t f[FRAME_MAX];
	const unsigned rounds = 64, burst = 128; /* a burst fits the 256 receive buffers */

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < burst; i += 8)
			for (unsigned dir = 0; dir < 2; dir++)
				for (unsigned j = i; j < i + 8; j++) {
					frame(f, FRAME_MAX, mac[1 - dir], mac[dir], dir, 1 - dir,
					      r * burst + j);
					send_on(dir, f, FRAME_MAX);
				}
		for (unsigned i = 0; i < burst; i++)
			for (unsigned dir = 0; dir < 2; dir++) {
				frame(f, FRAME_MAX, mac[1 - dir], mac[dir], dir, 1 - dir,
				      r * burst + i);
				expect_frame(1 - dir, f, FRAME_MAX, "both at once");
			}
	}
	printf("both at once: %u frames each way\n", rounds * burst);
}

/* nic1's MAC shows up behind nic2, then comes back. */
static void mac_moves(void)
{
	uint8_t f[60];

	frame(f, 60, broadcast, mac[1], 2, 0, 10); /* sent by nic2 from nic1's MAC */
	send_on(2, f, 60);
	expect_frame(0, f, 60, "a MAC moves");
	expect_frame(1, f, 60, "a MAC moves");
	frame(f, 60, mac[1], mac[0], 0, 1, 11);
	send_on(0, f, 60);
	expect_frame(2, f, 60, "to a MAC that moved");
	expect_nothing(1, "to a MAC that moved: its old port");

	frame(f, 60, broadcast, mac[1], 1, 0, 12);
	send_on(1, f, 60);
	expect_frame(0, f, 60, "a MAC moves back");
	expect_frame(2, f, 60, "a MAC moves back");
	frame(f, 60, mac[1], mac[0], 0, 1, 13);
	send_on(0, f, 60);
	expect_frame(1, f, 60, "to a MAC that moved back");
	expect_nothing(2, "to a MAC that moved back: its old port");
}

/* A frame for the sender's own MAC goes nowhere; the marker after it must be the next frame. */
static void no_hairpin(void)
{
	uint8_t f[60], marker[60];

	frame(f, 60, mac[0], mac[0], 0, 0, 20);
	send_on(0, f, 60);
	frame(marker, 60, broadcast, mac[0], 0, 1, 21);
	send_on(0, marker, 60);
	expect_frame(1, marker, 60, "a frame to its own sender's MAC went somewhere");
	expect_frame(2, marker, 60, "a frame to its own sender's MAC went somewhere");
	expect_nothing(0, "a frame to its own sender's MAC came back");
}

/*
 * 600 frames from nic0 for nic1 while it takes none: nic0, its one sender,
 * is over its share, so all but the last eighth of nic1's 256 posted
 * buffers fill and the rest are refused by the switch (hv's stats say how
 * many). A frame to nic2 after them shows they have all been switched; one
 * from nic2 to nic1 then still finds a buffer of the eighth kept.
 */
static void flood_without_buffers(void)
{
	static uint8_t f[200];
	uint8_t g[60];
	unsigned got = 0;

	for (unsigned i = 0; i < FLOOD_FRAMES; i++) {
		frame(f, 200, mac[1], mac[0], 0, 1, 1000 + i);
		send_on(0, f, 200);
	}
	frame(f, 60, mac[2], mac[0], 0, 2, 30);
	send_on(0, f, 60);
	expect_frame(2, f, 60, "the frame after the flood");
	frame(g, 60, mac[1], mac[2], 2, 1, 32);
	send_on(2, g, 60);
	for (; got < RX_BUFFERS - RX_KEPT; got++) {
		frame(f, 200, mac[1], mac[0], 0, 1, 1000 + got);
		expect_frame(1, f, 200, "the flood's frames that found a buffer");
	}
	expect_frame(1, g, 60, "another sender's frame after the flood");
	expect_nothing(1, "more of the flood than nic1 had buffers for");
	frame(f, 60, mac[1], mac[0], 0, 1, 31);
	send_on(0, f, 60);
	expect_frame(1, f, 60, "a frame after the flood");
	printf("flood: %u of %u frames received, %u refused; another sender's frame got through\n",
	       got, FLOOD_FRAMES, FLOOD_FRAMES - got);
}

int main(void)
{
	setup();
	learning();
	every_byte();
	both_at_once();
	mac_moves();
	no_hairpin();
	flood_without_buffers();
	puts("SUCCESS");
	return 0;
}
