/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a virtio-blk device driven by hand through its MMIO registers: the
 * transport's registers and feature negotiation, then write, flush and read back a few
 * sectors in multi-segment requests, GET_ID, and the errors (past the end, bad length,
 * unknown type), each completion arriving on the queue's event port while the guest blocks.
 * hv-options: --stats --disk=@DISK@
 * expect-status: 0
 * expect-stdout: SUCCESS
 * expect-stderr: virtio-blk0: FEATURES_OK refused: driver features 0x200 lack VIRTIO_F_VERSION_1
 * expect-stderr: stats: virtio-blk0: 209 requests, 105984 bytes, 3 I/O errors, 1 unsupported
 */
#include "virtio_test.h"

#define SECTOR VIRTIO_BLK_SECTOR_SIZE
#define CAPACITY 2048 /* run.sh's disk: 1 MiB */

static const struct hv_device *dev;
static struct test_queue q;
static struct virtio_blk_req_hdr hdr;
static uint8_t status;
static uint8_t wbuf[3 * SECTOR], rbuf[2 * SECTOR + SECTOR + 1];

struct seg {
	void *buf;
	uint32_t len;
};

/*
 * One request: header, the data segments (device-writable unless it is a
 * write), the status byte (with the last segment when status_in_last).
 * Kick, block, and check that the completion came as an event on the
 * queue's port. Returns the used length; the status is in `status`.
 */
static uint32_t request(uint32_t type, uint64_t sector, const struct seg *seg, unsigned n,
			int status_in_last)
{
	uint16_t data_flags = type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE;
	unsigned i;

	hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = sector };
	status = 0xff;
	test_set_desc(&q, 0, (uintptr_t)&hdr, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	for (i = 0; i < n; i++)
		test_set_desc(&q, 1 + i, (uintptr_t)seg[i].buf, seg[i].len,
			      data_flags | VIRTQ_DESC_F_NEXT, (uint16_t)(2 + i));
	if (status_in_last)
		q.desc[i].flags &= (uint16_t)~VIRTQ_DESC_F_NEXT;
	else
		test_set_desc(&q, 1 + i, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
	/* With EVENT_IDX: an event for the next completion. */
	q.avail->ring[TEST_QSIZE] = q.last_used;
	clear_events(dev->port);
	test_make_available(&q, 0);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* Blocking returns only once the port is pending, and then the used entry is there. */
	EXPECT(test_block(clock_monotonic_ns() + 5000000000ull) == HV_BLOCK_EVENT);
	EXPECT(port_pending(dev->port));
	EXPECT(test_used_idx(&q) == (uint16_t)(q.last_used + 1));
	EXPECT(q.used->ring[q.last_used % TEST_QSIZE].id == 0);
	return q.used->ring[q.last_used++ % TEST_QSIZE].len;
}

static void check_registers(void)
{
	uint64_t f = device_features(dev);
	uint64_t capacity;

	EXPECT(mmio_rd(dev, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC);
	EXPECT(mmio_rd(dev, VIRTIO_MMIO_VERSION) == 2);
	EXPECT(mmio_rd(dev, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_BLOCK);
	EXPECT(dev->port >= 1 && dev->nr_queues == 1 && dev->size == HV_DEVICE_WINDOW);
	EXPECT(f & (1ull << VIRTIO_F_VERSION_1));
	EXPECT(f & (1ull << VIRTIO_F_RING_EVENT_IDX));
	EXPECT(f & (1ull << VIRTIO_BLK_F_FLUSH));
	EXPECT(!(f & (1ull << VIRTIO_BLK_F_RO)));
	EXPECT(!(f & (1ull << VIRTIO_F_RING_INDIRECT_DESC)));
	/* Configuration space takes 1- to 8-byte reads. */
	capacity = *(volatile uint64_t *)(uintptr_t)(dev->gpa + VIRTIO_MMIO_CONFIG);
	EXPECT(capacity == CAPACITY);
	EXPECT(*(volatile uint8_t *)(uintptr_t)(dev->gpa + VIRTIO_MMIO_CONFIG + 1) ==
	       CAPACITY >> 8);
	EXPECT(mmio_rd(dev, VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config, seg_max)) >= 3);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_SEL, 1);
	EXPECT(mmio_rd(dev, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0); /* no queue 1 */

	/* A driver without VERSION_1 is refused FEATURES_OK (hv says so on stderr). */
	mmio_wr(dev, VIRTIO_MMIO_STATUS, 0);
	mmio_wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BLK_F_FLUSH);
	mmio_wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
						 VIRTIO_STATUS_FEATURES_OK);
	EXPECT(!(mmio_rd(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));
}

int main(void)
{
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX |
			1ull << VIRTIO_BLK_F_FLUSH;
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	uint64_t t0, total = 0;
	uint32_t len;

	dev = test_find_device(VIRTIO_ID_BLOCK);
	check_registers();
	EXPECT(test_device_init(dev, want, &q, 1) ==
	       (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		VIRTIO_STATUS_DRIVER_OK));

	/* Write 3 sectors at 10 from two segments, flush, read them back into three. */
	for (unsigned i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 7 + 3);
	len = request(VIRTIO_BLK_T_OUT, 10,
		      (struct seg[]){ { wbuf, SECTOR }, { wbuf + SECTOR, 2 * SECTOR } }, 2, 0);
	EXPECT(status == VIRTIO_BLK_S_OK && len == 1);
	len = request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0);
	EXPECT(status == VIRTIO_BLK_S_OK && len == 1);
	/* The last segment holds the third sector and the status byte. */
	memset(rbuf, 0, sizeof(rbuf));
	len = request(VIRTIO_BLK_T_IN, 10,
		      (struct seg[]){ { rbuf, SECTOR }, { rbuf + SECTOR, SECTOR },
				      { rbuf + 2 * SECTOR, SECTOR + 1 } },
		      3, 1);
	status = rbuf[3 * SECTOR];
	EXPECT(status == VIRTIO_BLK_S_OK && len == 3 * SECTOR + 1);
	EXPECT(memcmp(rbuf, wbuf, sizeof(wbuf)) == 0);
	/* Sector 9 was never written. */
	len = request(VIRTIO_BLK_T_IN, 9, (struct seg[]){ { rbuf, SECTOR } }, 1, 0);
	EXPECT(status == VIRTIO_BLK_S_OK && len == SECTOR + 1 && rbuf[0] == 0 && rbuf[511] == 0);

	/* GET_ID: the disk file's name, NUL-padded. */
	len = request(VIRTIO_BLK_T_GET_ID, 0, (struct seg[]){ { id, VIRTIO_BLK_ID_BYTES } }, 1, 0);
	EXPECT(status == VIRTIO_BLK_S_OK && len == VIRTIO_BLK_ID_BYTES + 1);
	EXPECT(strcmp(id, "disk.img") == 0);

	/* Errors: past the end, a length not in sectors, an unknown type. */
	request(VIRTIO_BLK_T_IN, CAPACITY - 1, (struct seg[]){ { rbuf, 2 * SECTOR } }, 1, 0);
	EXPECT(status == VIRTIO_BLK_S_IOERR);
	request(VIRTIO_BLK_T_OUT, CAPACITY, (struct seg[]){ { wbuf, SECTOR } }, 1, 0);
	EXPECT(status == VIRTIO_BLK_S_IOERR);
	request(VIRTIO_BLK_T_IN, 0, (struct seg[]){ { rbuf, 100 } }, 1, 0);
	EXPECT(status == VIRTIO_BLK_S_IOERR);
	len = request(99, 0, NULL, 0, 0);
	EXPECT(status == VIRTIO_BLK_S_UNSUPP && len == 1);

	/* A rough round trip: kick, the I/O thread reads, the event wakes the blocked guest. */
	for (unsigned i = 0; i < 200; i++) {
		t0 = clock_monotonic_ns();
		request(VIRTIO_BLK_T_IN, i, (struct seg[]){ { rbuf, SECTOR } }, 1, 0);
		total += clock_monotonic_ns() - t0;
		EXPECT(status == VIRTIO_BLK_S_OK);
	}
	printf("1-sector read round trip: %.1f us on average over 200\n", total / 200 / 1e3);
	puts("SUCCESS");
	return 0;
}
