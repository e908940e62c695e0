/* SPDX-License-Identifier: MIT */
/*
 * Guest test (the tour's exercise 3, docs/tour/03-virtqueue.md), as
 * tests/guest/blk_size.c: hv's virtio-blk offers VIRTIO_BLK_F_BLK_SIZE, its configuration
 * space says 512-byte blocks, and a driver that takes the feature is let through
 * FEATURES_OK. The device is driven by hand through its registers (virtio_test.h).
 * hv-options: --disk=@DISK@
 * expect-status: 0
 * expect-stdout: blk_size 512, negotiated
 */
#include "virtio_test.h"

int main(void)
{
	const struct hv_device *d = test_find_device(VIRTIO_ID_BLOCK);
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_BLK_SIZE;
	struct test_queue q;
	uint32_t blk_size;

	EXPECT(device_features(d) & (1ull << VIRTIO_BLK_F_BLK_SIZE));
	blk_size = mmio_rd(d, VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config, blk_size));
	EXPECT_EQ(blk_size, VIRTIO_BLK_SECTOR_SIZE);
	/* A reset, then the handshake with the feature taken: FEATURES_OK must stay set. */
	EXPECT(test_device_init(d, want, &q, 1) & VIRTIO_STATUS_FEATURES_OK);
	printf("blk_size %u, negotiated\n", blk_size);
	puts("SUCCESS");
	return 0;
}
