/* SPDX-License-Identifier: MIT */
/*
 * A domain that attacks hv's virtio devices on purpose, one attack per run, beside
 * tests/integration/guest/witness.c (tests/integration/hostile.sh). Each ring below breaks
 * its device: hv names the device, the queue and the value, sets DEVICE_NEEDS_RESET and
 * serves nothing more from it; the domain checks that, and that nothing it could not write
 * itself changed, and exits 0. Requests that are well-formed but ask for the impossible
 * (sectors past the disk, a write to a read-only disk) fail with the request's status.
 *
 *   hostile_vq.img vq KIND   on its virtio-blk disk: boot-info (a read into the read-only
 *                            boot info), hv-area (a write from hv's own pages), backwards (an
 *                            available index moved back), huge-chain (256 descriptors, then a
 *                            256-long loop), overlap (all three rings on one page), indirect,
 *                            used-readonly, desc-window (rings where no memory is), size (0, 3,
 *                            512 entries)
 *   hostile_vq.img blk KIND  range (sectors at and past the end, lengths not whole sectors,
 *                            an unknown type), ro (writes to a read-only disk)
 *   hostile_vq.img mmio      register accesses of every wrong kind, many times
 *   hostile_vq.img net KIND  on two NICs of one switch: rx-readonly (receive buffers in the
 *                            boot info), tx-huge (frames longer than any Ethernet frame)
 */
#include "../../guest/virtio_test.h"

#define MS 1000000ull
#define BIG_Q 256

static const struct hv_device *dev;
static struct test_queue q;
static struct virtio_blk_req_hdr hdr;
static uint8_t status, data[BIG_Q * 512] __attribute__((aligned(4096)));
static uint8_t boot_copy[4096];

static const uint64_t features = 1ull << VIRTIO_F_VERSION_1;

static void kick(const struct hv_device *d, unsigned qi)
{
	mmio_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
}

/* Set up queue qi of d by hand; returns QueueReady as read back. */
static uint32_t ready_queue(const struct hv_device *d, unsigned qi, uint32_t num, uint64_t desc,
			    uint64_t avail, uint64_t used)
{
	mmio_wr(d, VIRTIO_MMIO_QUEUE_SEL, qi);
	mmio_wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	mmio_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	mmio_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	mmio_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	mmio_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	mmio_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	mmio_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	mmio_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return mmio_rd(d, VIRTIO_MMIO_QUEUE_READY);
}

static int needs_reset(const struct hv_device *d)
{
	return (mmio_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

/* The device must say it needs a reset and have used nothing; then reset it. */
static void expect_broken(const struct hv_device *d, const char *what)
{
	wait_used_or_reset(d, &q, 5000);
	EXPECT(needs_reset(d));
	EXPECT(test_used_idx(&q) == 0);
	mmio_wr(d, VIRTIO_MMIO_STATUS, 0);
	EXPECT(mmio_rd(d, VIRTIO_MMIO_STATUS) == 0);
	printf("hostile: %s: DEVICE_NEEDS_RESET, nothing used\n", what);
}

/* One block request on q's descriptors 0-2 (data flags 0: no data descriptor). */
static void post_request(uint32_t type, uint64_t sector, uint64_t buf, uint32_t len,
			 uint16_t data_flags)
{
	hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = sector };
	status = 0xff;
	if (len) {
		test_set_desc(&q, 0, (uintptr_t)&hdr, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
		test_set_desc(&q, 1, buf, len, data_flags | VIRTQ_DESC_F_NEXT, 2);
		test_set_desc(&q, 2, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		test_set_desc(&q, 0, (uintptr_t)&hdr, sizeof(hdr), VIRTQ_DESC_F_NEXT, 2);
		test_set_desc(&q, 2, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	test_make_available(&q, 0);
}

/* Serve one request to completion: its status byte. */
static uint8_t request(uint32_t type, uint64_t sector, uint64_t buf, uint32_t len,
		       uint16_t data_flags)
{
	uint16_t want = (uint16_t)(q.last_used + 1);

	post_request(type, sector, buf, len, data_flags);
	kick(dev, 0);
	wait_used_or_reset(dev, &q, 5000);
	EXPECT(!needs_reset(dev));
	EXPECT_EQ(test_used_idx(&q), want);
	q.last_used = want;
	return status;
}

static void blk_start(void)
{
	dev = test_find_device(VIRTIO_ID_BLOCK);
	test_device_init(dev, features, &q, 1);
	clear_events(dev->port);
}

static void vq(const char *kind)
{
	memcpy(boot_copy, test_boot_info(), sizeof(boot_copy));
	blk_start();
	if (!strcmp(kind, "boot-info")) {
		post_request(VIRTIO_BLK_T_IN, 0, HV_TEST_BOOT_INFO, 512, VIRTQ_DESC_F_WRITE);
		kick(dev, 0);
		expect_broken(dev, "a read into the boot info");
	} else if (!strcmp(kind, "hv-area")) {
		post_request(VIRTIO_BLK_T_OUT, 0, 0x1000, 512, 0);
		kick(dev, 0);
		expect_broken(dev, "a write from hv's GDT page");
	} else if (!strcmp(kind, "backwards")) {
		EXPECT_EQ(request(VIRTIO_BLK_T_IN, 0, (uintptr_t)data, 512, VIRTQ_DESC_F_WRITE),
			  VIRTIO_BLK_S_OK);
		__atomic_store_n(&q.avail->idx, 0, __ATOMIC_RELEASE);
		kick(dev, 0);
		wait_used_or_reset(dev, &q, 5000);
		EXPECT(needs_reset(dev));
		EXPECT_EQ(test_used_idx(&q), 1);
		puts("hostile: an available index moved back: DEVICE_NEEDS_RESET");
	} else if (!strcmp(kind, "huge-chain")) {
		/* One page each: 256 descriptors, then the driver area, then the device area. */
		static uint8_t pages[3][4096] __attribute__((aligned(4096)));
		struct virtq_desc *d = (struct virtq_desc *)pages[0];
		struct virtq_avail *avail = (struct virtq_avail *)pages[1];

		mmio_wr(dev, VIRTIO_MMIO_STATUS, 0);
		test_device_init(dev, features, &q, 0);
		EXPECT_EQ(ready_queue(dev, 0, BIG_Q, (uintptr_t)pages[0], (uintptr_t)pages[1],
				      (uintptr_t)pages[2]),
			  1);
		q.desc = d;
		q.avail = avail;
		q.used = (struct virtq_used *)pages[2];
		hdr = (struct virtio_blk_req_hdr){ .type = VIRTIO_BLK_T_IN, .sector = 0 };
		d[0] = (struct virtq_desc){ (uintptr_t)&hdr, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1 };
		for (unsigned i = 1; i < BIG_Q - 1; i++)
			d[i] = (struct virtq_desc){ (uintptr_t)data + (i - 1) * 512, 512,
						    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
						    (uint16_t)(i + 1) };
		d[BIG_Q - 1] = (struct virtq_desc){ (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0 };
		status = 0xff;
		avail->ring[0] = 0;
		__atomic_store_n(&avail->idx, 1, __ATOMIC_RELEASE);
		kick(dev, 0);
		wait_used_or_reset(dev, &q, 5000);
		EXPECT(!needs_reset(dev) && test_used_idx(&q) == 1 && status == VIRTIO_BLK_S_OK);
		puts("hostile: a chain of 256 descriptors (254 data sectors) served");
		/* The same table made a loop: the last descriptor leads back to the first. */
		q.last_used = 1;
		d[BIG_Q - 1] = (struct virtq_desc){ (uintptr_t)data, 1, VIRTQ_DESC_F_NEXT, 0 };
		for (unsigned i = 0; i < BIG_Q - 1; i++)
			d[i].flags = VIRTQ_DESC_F_NEXT;
		avail->ring[1] = 0;
		__atomic_store_n(&avail->idx, 2, __ATOMIC_RELEASE);
		kick(dev, 0);
		wait_used_or_reset(dev, &q, 5000);
		EXPECT(needs_reset(dev) && test_used_idx(&q) == 1);
		puts("hostile: a loop of 256 descriptors: DEVICE_NEEDS_RESET");
	} else if (!strcmp(kind, "overlap")) {
		/* All three areas on one page: the device's writes land on the driver's rings. */
		static uint8_t page[4096] __attribute__((aligned(4096)));

		mmio_wr(dev, VIRTIO_MMIO_STATUS, 0);
		test_device_init(dev, features, &q, 0);
		EXPECT_EQ(ready_queue(dev, 0, TEST_QSIZE, (uintptr_t)page, (uintptr_t)page,
				      (uintptr_t)page),
			  1);
		q.desc = (struct virtq_desc *)page;
		q.avail = (struct virtq_avail *)page;
		q.used = (struct virtq_used *)page;
		post_request(VIRTIO_BLK_T_IN, 0, (uintptr_t)data, 512, VIRTQ_DESC_F_WRITE);
		kick(dev, 0);
		for (uint64_t end = clock_monotonic_ns() + 100 * MS; clock_monotonic_ns() < end;)
			test_block(end);
		/* Whatever it made of that, a reset and a clean ring work again. */
		blk_start();
		EXPECT_EQ(request(VIRTIO_BLK_T_IN, 0, (uintptr_t)data, 512, VIRTQ_DESC_F_WRITE),
			  VIRTIO_BLK_S_OK);
		puts("hostile: rings on top of each other: served or broken, then a reset mended it");
	} else if (!strcmp(kind, "indirect")) {
		post_request(VIRTIO_BLK_T_IN, 0, (uintptr_t)data, 512,
			     VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT);
		kick(dev, 0);
		expect_broken(dev, "an indirect descriptor, not offered");
	} else if (!strcmp(kind, "used-readonly") || !strcmp(kind, "desc-window")) {
		int ro = !strcmp(kind, "used-readonly");

		mmio_wr(dev, VIRTIO_MMIO_STATUS, 0);
		test_device_init(dev, features, &q, 0);
		EXPECT_EQ(ready_queue(dev, 0, TEST_QSIZE, ro ? (uintptr_t)data : HV_DEVICE_BASE,
				      (uintptr_t)data + 2048, ro ? HV_TEST_BOOT_INFO : 0x3000),
			  0);
		expect_broken(dev, ro ? "the device area in the boot info"
				      : "the descriptor table in the device windows");
	} else if (!strcmp(kind, "size")) {
		static const uint32_t sizes[] = { 0, 3, BIG_Q * 2, 0xffffffffu };

		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			mmio_wr(dev, VIRTIO_MMIO_STATUS, 0);
			test_device_init(dev, features, &q, 0);
			EXPECT_EQ(ready_queue(dev, 0, sizes[i], (uintptr_t)data,
					      (uintptr_t)data + 8192, (uintptr_t)data + 16384),
				  0);
			EXPECT(needs_reset(dev));
		}
		puts("hostile: queue sizes 0, 3, 512 and 2^32-1 refused");
	} else {
		exit(2);
	}
	EXPECT(memcmp(boot_copy, test_boot_info(), sizeof(boot_copy)) == 0);
	puts("hostile: boot info unchanged; SUCCESS");
}

static void blk(const char *kind)
{
	static const uint64_t bad[] = { 0, 1, 0x8000000000000000ull, 0xffffffffffffffffull,
					0xfffffffffffffff8ull };
	uint64_t cap;

	blk_start();
	cap = (uint64_t)mmio_rd(dev, VIRTIO_MMIO_CONFIG) |
	      (uint64_t)mmio_rd(dev, VIRTIO_MMIO_CONFIG + 4) << 32;
	if (!strcmp(kind, "range")) {
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint64_t s = i < 2 ? cap - i : bad[i]; /* at the end, one before it (2 long) */
			uint32_t len = i == 1 ? 1024 : 512;

			EXPECT_EQ(request(VIRTIO_BLK_T_IN, s, (uintptr_t)data, len,
					  VIRTQ_DESC_F_WRITE),
				  VIRTIO_BLK_S_IOERR);
			EXPECT_EQ(request(VIRTIO_BLK_T_OUT, s, (uintptr_t)data, len, 0),
				  VIRTIO_BLK_S_IOERR);
		}
		EXPECT_EQ(request(VIRTIO_BLK_T_OUT, 0, (uintptr_t)data, 100, 0), VIRTIO_BLK_S_IOERR);
		EXPECT_EQ(request(VIRTIO_BLK_T_IN, 0, (uintptr_t)data, 511, VIRTQ_DESC_F_WRITE),
			  VIRTIO_BLK_S_IOERR);
		EXPECT_EQ(request(0x7777, 0, (uintptr_t)data, 512, 0), VIRTIO_BLK_S_UNSUPP);
		EXPECT_EQ(request(VIRTIO_BLK_T_GET_ID, 0, (uintptr_t)data, 1, VIRTQ_DESC_F_WRITE),
			  VIRTIO_BLK_S_OK);
		printf("hostile: sectors past the end of %llu, part sectors, an unknown type: "
		       "each failed alone; SUCCESS\n", (unsigned long long)cap);
	} else if (!strcmp(kind, "ro")) {
		memset(data, 0x5a, 4096);
		EXPECT_EQ(request(VIRTIO_BLK_T_OUT, 0, (uintptr_t)data, 4096, 0), VIRTIO_BLK_S_IOERR);
		EXPECT_EQ(request(VIRTIO_BLK_T_OUT, cap - 1, (uintptr_t)data, 512, 0),
			  VIRTIO_BLK_S_IOERR);
		EXPECT_EQ(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0), VIRTIO_BLK_S_OK);
		EXPECT_EQ(request(VIRTIO_BLK_T_IN, 0, (uintptr_t)data, 4096, VIRTQ_DESC_F_WRITE),
			  VIRTIO_BLK_S_OK);
		puts("hostile: writes to a read-only disk failed, reads and flushes served; SUCCESS");
	} else {
		exit(2);
	}
}

static void mmio(void)
{
	volatile uint8_t *w;

	blk_start();
	w = (volatile uint8_t *)(uintptr_t)dev->gpa;
	for (unsigned round = 0; round < 100; round++) {
		(void)*(volatile uint8_t *)(w + VIRTIO_MMIO_STATUS);
		(void)*(volatile uint16_t *)(w + VIRTIO_MMIO_MAGIC_VALUE + 2);
		*(volatile uint64_t *)(w + VIRTIO_MMIO_QUEUE_DESC_LOW) = ~0ull;
		(void)*(volatile uint32_t *)(w + 0xffc);
		*(volatile uint32_t *)(w + 0xffc) = 1;
		*(volatile uint32_t *)(w + VIRTIO_MMIO_MAGIC_VALUE) = 0;
		mmio_wr(dev, VIRTIO_MMIO_QUEUE_SEL, 1000 + round);
		mmio_wr(dev, VIRTIO_MMIO_QUEUE_NUM, 8);
		(void)mmio_rd(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
		mmio_wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
		mmio_wr(dev, VIRTIO_MMIO_STATUS, 0xffffffffu);
	}
	/* The device still works after a reset. */
	blk_start();
	EXPECT_EQ(request(VIRTIO_BLK_T_IN, 0, (uintptr_t)data, 512, VIRTQ_DESC_F_WRITE),
		  VIRTIO_BLK_S_OK);
	puts("hostile: 1100 bad register accesses; the device serves after a reset; SUCCESS");
}

/* The index-th NIC. */
static const struct hv_device *nic(unsigned index)
{
	const struct hv_boot_info *bi = test_boot_info();

	for (uint32_t i = 0; i < bi->nr_devices; i++)
		if (bi->devices[i].virtio_id == VIRTIO_ID_NET && index-- == 0)
			return &bi->devices[i];
	printf("FAILURE: fewer NICs than needed\n");
	exit(1);
}

static void net(const char *kind)
{
	static struct test_queue nq[2][2];
	static uint8_t frame[sizeof(struct virtio_net_hdr) + 64];
	const struct hv_device *tx = nic(0), *rx = nic(1);

	memcpy(boot_copy, test_boot_info(), sizeof(boot_copy));
	memset(frame, 0, sizeof(frame));
	memset(frame + sizeof(struct virtio_net_hdr), 0xff, 6);          /* broadcast */
	memcpy(frame + sizeof(struct virtio_net_hdr) + 6, "\x02\0\0\0\0\x01", 6);
	frame[sizeof(struct virtio_net_hdr) + 12] = 0x88;
	frame[sizeof(struct virtio_net_hdr) + 13] = 0xb5;
	/* test_device_init shares two queue pages: the receiver's go by hand after it. */
	test_device_init(tx, features, nq[0], 2);
	nq[1][0].desc = (struct virtq_desc *)data;
	nq[1][0].avail = (struct virtq_avail *)(data + 0x800);
	nq[1][0].used = (struct virtq_used *)(data + 0xc00);
	memset(data, 0, 4096);
	mmio_wr(rx, VIRTIO_MMIO_STATUS, 0);
	test_device_init(rx, features, nq[1], 0);
	EXPECT_EQ(ready_queue(rx, 0, TEST_QSIZE, (uintptr_t)data, (uintptr_t)data + 0x800,
			      (uintptr_t)data + 0xc00),
		  1);
	if (!strcmp(kind, "rx-readonly")) {
		test_set_desc(&nq[1][0], 0, HV_TEST_BOOT_INFO, 1526, VIRTQ_DESC_F_WRITE, 0);
		test_make_available(&nq[1][0], 0);
		test_set_desc(&nq[0][1], 0, (uintptr_t)frame, sizeof(frame), 0, 0);
	} else if (!strcmp(kind, "tx-huge")) {
		/* 8 descriptors of 64 KiB each: a 512 KiB frame. */
		for (unsigned i = 0; i < TEST_QSIZE; i++)
			test_set_desc(&nq[0][1], i, (uintptr_t)data + 65536 * (i % 2), 65536,
				      i + 1 < TEST_QSIZE ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	} else {
		exit(2);
	}
	test_make_available(&nq[0][1], 0);
	kick(tx, 1);
	wait_used_or_reset(tx, &nq[0][1], 5000);
	EXPECT_EQ(test_used_idx(&nq[0][1]), 1); /* transmitted, or dropped: used either way */
	if (!strcmp(kind, "rx-readonly")) {
		wait_used_or_reset(rx, &nq[1][0], 5000);
		EXPECT(needs_reset(rx));
		EXPECT_EQ(test_used_idx(&nq[1][0]), 0);
		puts("hostile: a receive buffer in the boot info: DEVICE_NEEDS_RESET");
	} else {
		EXPECT(!needs_reset(tx));
		puts("hostile: a 512 KiB frame: used and dropped");
	}
	EXPECT(memcmp(boot_copy, test_boot_info(), sizeof(boot_copy)) == 0);
	puts("hostile: boot info unchanged; SUCCESS");
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "", *a = argc > 2 ? argv[2] : "";

	if (!strcmp(c, "vq"))
		vq(a);
	else if (!strcmp(c, "blk"))
		blk(a);
	else if (!strcmp(c, "mmio"))
		mmio();
	else if (!strcmp(c, "net"))
		net(a);
	else {
		puts("FAILURE: usage: hostile_vq.img vq|blk|mmio|net KIND (see the source's header)");
		return 2;
	}
	return 0;
}
