/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a read-only virtio-blk disk (--disk=FILE,ro) offers VIRTIO_BLK_F_RO, fails a
 * write with VIRTIO_BLK_S_IOERR without writing anything, and serves reads and flushes.
 * hv-options: --disk=@DISK@,ro
 * expect-status: 0
 * expect-stdout: SUCCESS
 */
#include "virtio_test.h"

static const struct hv_device *dev;
static struct test_queue q;
static struct virtio_blk_req_hdr hdr;
static uint8_t data[512], status;

/* header, [data], status: serve it and return the status byte. */
static uint8_t request(uint32_t type, uint16_t data_flags)
{
	hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = 4 };
	status = 0xff;
	test_set_desc(&q, 0, (uintptr_t)&hdr, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	test_set_desc(&q, 1, (uintptr_t)data, sizeof(data), data_flags | VIRTQ_DESC_F_NEXT, 2);
	test_set_desc(&q, 2, (uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);
	if (type == VIRTIO_BLK_T_FLUSH)
		q.desc[0].next = 2;
	test_make_available(&q, 0);
	mmio_wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used_or_reset(dev, &q, 5000);
	EXPECT(test_used_idx(&q) == (uint16_t)(q.last_used + 1));
	q.last_used++;
	return status;
}

int main(void)
{
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_RO;

	dev = test_find_device(VIRTIO_ID_BLOCK);
	EXPECT(device_features(dev) & (1ull << VIRTIO_BLK_F_RO));
	test_device_init(dev, want, &q, 1);

	memset(data, 0xab, sizeof(data));
	EXPECT(request(VIRTIO_BLK_T_OUT, 0) == VIRTIO_BLK_S_IOERR);
	EXPECT(request(VIRTIO_BLK_T_FLUSH, 0) == VIRTIO_BLK_S_OK);
	EXPECT(request(VIRTIO_BLK_T_IN, VIRTQ_DESC_F_WRITE) == VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < sizeof(data); i++)
		EXPECT(data[i] == 0); /* the refused write wrote nothing */
	puts("SUCCESS");
	return 0;
}
