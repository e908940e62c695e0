/* SPDX-License-Identifier: MIT */
/*
 * A virtio-net device driven by hand, for tests/integration/devices.sh (it needs a tap in a
 * namespace, so it is no tests/guest test): check the registers and configuration, send one
 * ARP request through the TX queue (header and frame in two descriptors), wait with no RX
 * buffer posted (the reply must wait in the tap), then post buffers and receive the host's
 * ARP reply. Arguments: GUEST_IP HOST_IP. Prints SUCCESS and exits 0, or FAILURE and 1.
 */
#include <stdio.h>

#include "../../guest/virtio_test.h"

#define ETH_HLEN 14
#define ARP_LEN 28
#define RX_BUF (sizeof(struct virtio_net_hdr) + 1514)
#define NR_RX 4

static const struct hv_device *dev;
static struct test_queue q[2]; /* VIRTIO_NET_Q_RX, VIRTIO_NET_Q_TX */
static struct virtio_net_hdr tx_hdr;
static uint8_t frame[ETH_HLEN + ARP_LEN];
static uint8_t rx[NR_RX][RX_BUF];
static uint8_t mac[6];

static int parse_ip(const char *s, uint8_t ip[4])
{
	unsigned a, b, c, d;

	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 ||
	    d > 255)
		return -1;
	ip[0] = (uint8_t)a, ip[1] = (uint8_t)b, ip[2] = (uint8_t)c, ip[3] = (uint8_t)d;
	return 0;
}

static void check_config(void)
{
	uint64_t f = device_features(dev);
	struct virtio_net_config cfg;

	EXPECT(mmio_rd(dev, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_NET && dev->nr_queues == 2);
	EXPECT(f & (1ull << VIRTIO_F_VERSION_1) && f & (1ull << VIRTIO_NET_F_MAC));
	EXPECT(f & (1ull << VIRTIO_NET_F_STATUS) && f & (1ull << VIRTIO_NET_F_MTU));
	/* The tap's offloads are offered; this driver takes none, so num_buffers stays 1. */
	EXPECT(f & (1ull << VIRTIO_NET_F_MRG_RXBUF) && f & (1ull << VIRTIO_NET_F_GUEST_TSO4));
	for (unsigned i = 0; i < sizeof(cfg); i++) /* byte by byte: config space allows it */
		((uint8_t *)&cfg)[i] = *(volatile uint8_t *)(uintptr_t)(dev->gpa +
									 VIRTIO_MMIO_CONFIG + i);
	EXPECT(cfg.status == VIRTIO_NET_S_LINK_UP && cfg.mtu == 1500);
	EXPECT((cfg.mac[0] & 3) == 2); /* the default: locally administered, unicast */
	memcpy(mac, cfg.mac, 6);
	printf("virtio-net: mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, link up\n", mac[0], mac[1],
	       mac[2], mac[3], mac[4], mac[5], cfg.mtu);
}

static void build_arp_request(const uint8_t me[4], const uint8_t peer[4])
{
	static const uint8_t arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 }; /* Ethernet, IPv4, request */
	uint8_t *a = frame + ETH_HLEN;

	memset(frame, 0xff, 6); /* broadcast */
	memcpy(frame + 6, mac, 6);
	frame[12] = 0x08, frame[13] = 0x06;
	memcpy(a, arp_head, 8);
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, me, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, peer, 4);
}

static void post_rx(uint16_t i)
{
	test_set_desc(&q[0], i, (uintptr_t)rx[i], RX_BUF, VIRTQ_DESC_F_WRITE, 0);
	test_make_available(&q[0], i);
}

/* The ARP reply from peer to us, or 0 for any other frame. */
static int is_arp_reply(const uint8_t *f, uint32_t len, const uint8_t peer[4])
{
	const uint8_t *a = f + ETH_HLEN;

	return len >= ETH_HLEN + ARP_LEN && f[12] == 0x08 && f[13] == 0x06 && a[7] == 2 &&
	       memcmp(a + 14, peer, 4) == 0 && memcmp(f, mac, 6) == 0;
}

int main(int argc, char **argv)
{
	uint8_t me[4], peer[4];
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC |
			1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MTU;
	uint64_t deadline;

	if (argc != 3 || parse_ip(argv[1], me) || parse_ip(argv[2], peer)) {
		puts("FAILURE: usage: net_arp GUEST_IP HOST_IP");
		return 1;
	}
	dev = test_find_device(VIRTIO_ID_NET);
	check_config();
	test_device_init(dev, want, q, 2);

	/* TX: the header and the frame in two descriptors. */
	build_arp_request(me, peer);
	test_set_desc(&q[1], 0, (uintptr_t)&tx_hdr, sizeof(tx_hdr), VIRTQ_DESC_F_NEXT, 1);
	test_set_desc(&q[1], 1, (uintptr_t)frame, sizeof(frame), 0, 0);
	test_make_available(&q[1], 0);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_Q_TX);
	wait_used_or_reset(dev, &q[1], 5000);
	EXPECT(test_used_idx(&q[1]) == 1 && q[1].used->ring[0].id == 0);
	EXPECT(q[1].used->ring[0].len == 0); /* the device wrote nothing into a TX chain */
	puts("sent: ARP request");

	/* No RX buffer yet: the reply has arrived by now and must wait in the tap's queue. */
	test_block(clock_monotonic_ns() + 100000000ull);
	EXPECT(test_used_idx(&q[0]) == 0);

	for (uint16_t i = 0; i < NR_RX; i++)
		post_rx(i);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_Q_RX);
	deadline = clock_monotonic_ns() + 5000000000ull;
	while (clock_monotonic_ns() < deadline) {
		struct virtq_used_elem e;
		const struct virtio_net_hdr *h;

		wait_used_or_reset(dev, &q[0], 100);
		if (test_used_idx(&q[0]) == q[0].last_used)
			continue;
		EXPECT(!(mmio_rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
		e = q[0].used->ring[q[0].last_used++ % TEST_QSIZE];
		EXPECT(e.id < NR_RX && e.len >= sizeof(*h) && e.len <= RX_BUF);
		h = (const struct virtio_net_hdr *)rx[e.id];
		EXPECT(h->num_buffers == 1);
		if (is_arp_reply(rx[e.id] + sizeof(*h), e.len - (uint32_t)sizeof(*h), peer)) {
			const uint8_t *s = rx[e.id] + sizeof(*h) + ETH_HLEN + 8;

			printf("received: ARP reply, %u.%u.%u.%u is at "
			       "%02x:%02x:%02x:%02x:%02x:%02x\n",
			       peer[0], peer[1], peer[2], peer[3], s[0], s[1], s[2], s[3], s[4],
			       s[5]);
			puts("SUCCESS");
			return 0;
		}
		post_rx((uint16_t)e.id); /* something else (IPv6 chatter): give the buffer back */
		mmio_wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_Q_RX);
	}
	puts("FAILURE: no ARP reply within 5 s");
	return 1;
}
