/* SPDX-License-Identifier: MIT */
/*
 * Guest test: hostile rings on a virtio-blk device. Each breaks the device: hv names the
 * device, queue and value on stderr, sets DEVICE_NEEDS_RESET, wakes the blocked guest, serves
 * nothing more until the driver resets the device, and then works again. hv survives them
 * all, and exits with the guest's own status.
 * hv-options: --disk=@DISK@
 * expect-status: 42
 * expect-stdout: all 8 hostile rings broke the device, and a reset mended it
 * expect-stderr: virtio-blk0 queue 0: descriptor 300 >= queue size 8
 * expect-stderr: virtio-blk0 queue 0: chain from descriptor 0 is longer than the queue size 8 (a loop)
 * expect-stderr: virtio-blk0 queue 0: descriptor 1: buffer [0xfff00000, +0x200) is outside writable guest memory
 * expect-stderr: virtio-blk0 queue 0: descriptor 1: buffer [0x1000000, +0xffffffff) is outside writable guest memory
 * expect-stderr: virtio-blk0 queue 0: descriptor 1: buffer [0xffffffffffffff00, +0x200) wraps around
 * expect-stderr: virtio-blk0 queue 0: available index 100 is 100 entries ahead of 0, more than the queue size 8
 * expect-stderr: virtio-blk0 queue 0: request at descriptor 0 has no writable status byte
 * expect-stderr: virtio-blk0 queue 0: descriptor table [0x40000000, +0x80) is outside guest memory
 * expect-stderr: virtio-blk0: 2-byte read at offset 0x70: registers take aligned 32-bit accesses, ignored
 */
#include "virtio_test.h"

static const struct hv_device *dev;
static struct test_queue q;
static struct virtio_blk_req_hdr hdr = { .type = VIRTIO_BLK_T_IN };
static uint8_t data[512], status;

static const uint64_t features = 1ull << VIRTIO_F_VERSION_1;

/* A well-formed read of sector 0 at descriptors 0-2; the cases then spoil it. */
static void good_request(void)
{
	status = 0xff;
	test_set_desc(&q, 0, (uintptr_t)&hdr, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	test_set_desc(&q, 1, (uintptr_t)data, sizeof(data), VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
		      2);
	test_set_desc(&q, 2, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
}

static void kick(void)
{
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* The device must now need a reset, have used nothing, and stay deaf until it is reset. */
static void expect_broken(const char *what, int check_deaf)
{
	wait_used_or_reset(dev, &q, 5000);
	EXPECT(mmio_rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	EXPECT(port_pending(dev->port)); /* the driver was told */
	EXPECT(test_used_idx(&q) == 0);
	if (check_deaf) {
		good_request();
		test_make_available(&q, 0);
		clear_events(dev->port);
		kick();
		/* Nothing may wake this 20 ms block: the device serves nothing. */
		EXPECT(test_block(clock_monotonic_ns() + 20000000ull) == HV_BLOCK_DEADLINE);
		EXPECT(test_used_idx(&q) == 0 && !port_pending(dev->port));
	}
	mmio_wr(dev, VIRTIO_MMIO_STATUS, 0);
	EXPECT(mmio_rd(dev, VIRTIO_MMIO_STATUS) == 0);
	printf("%s: DEVICE_NEEDS_RESET, then reset\n", what);
}

/* Bring the device up and submit the ring as spoiled by the caller (after good_request()). */
static void start(void)
{
	test_device_init(dev, features, &q, 1);
	clear_events(dev->port);
	good_request();
}

int main(void)
{
	dev = test_find_device(VIRTIO_ID_BLOCK);

	/* A register read of the wrong width is reported and reads as 0. */
	EXPECT(*(volatile uint16_t *)(uintptr_t)(dev->gpa + VIRTIO_MMIO_STATUS) == 0);

	start();
	test_make_available(&q, 300);
	kick();
	expect_broken("head index past the table", 1);

	start();
	q.desc[1].flags = VIRTQ_DESC_F_NEXT; /* all readable, so only the loop is wrong */
	q.desc[1].next = 0;                  /* 0 -> 1 -> 0 -> ... */
	test_make_available(&q, 0);
	kick();
	expect_broken("a chain that loops", 0);

	start();
	q.desc[1].addr = 0xfff00000u;
	test_make_available(&q, 0);
	kick();
	expect_broken("a buffer outside guest memory", 0);

	start();
	q.desc[1].addr = 0x1000000u;
	q.desc[1].len = 0xffffffffu;
	test_make_available(&q, 0);
	kick();
	expect_broken("a length past the end of memory", 0);

	start();
	q.desc[1].addr = 0xffffffffffffff00ull;
	q.desc[1].len = 0x200;
	test_make_available(&q, 0);
	kick();
	expect_broken("a buffer that wraps around", 0);

	start();
	q.avail->idx = 100;
	kick();
	expect_broken("the avail index jumping", 0);

	start();
	q.desc[1].flags = VIRTQ_DESC_F_NEXT; /* no writable descriptor before the status... */
	q.desc[2].flags = 0;                  /* ...nor the status itself */
	test_make_available(&q, 0);
	kick();
	expect_broken("a request with no status byte", 0);

	/* A queue placed outside memory is refused when it is made ready. */
	test_device_init(dev, features, &q, 0);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_NUM, TEST_QSIZE);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x40000000u);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	EXPECT(mmio_rd(dev, VIRTIO_MMIO_QUEUE_READY) == 0);
	expect_broken("a queue outside memory", 0);

	/* After a reset the device serves again. */
	start();
	test_make_available(&q, 0);
	kick();
	wait_used_or_reset(dev, &q, 5000);
	EXPECT(test_used_idx(&q) == 1 && status == VIRTIO_BLK_S_OK);
	puts("all 8 hostile rings broke the device, and a reset mended it");
	return 42;
}
