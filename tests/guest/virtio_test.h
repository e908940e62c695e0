/* SPDX-License-Identifier: MIT */
/*
 * For the guest tests that drive hv's virtio-mmio devices by hand, through
 * their registers and rings, without libos's drivers: finding a device,
 * register access, one queue per device, blocking until an event, and the
 * checks that end a test with FAILURE and status 1.
 *
 * libos's drivers bring every device up before main(); a test resets the
 * device and takes it over (a reset is how any driver starts). It must not
 * call into libos's scheduler (sleep, threads) while it watches event bits,
 * since libos's handler for the port would take them first.
 */
#ifndef TESTS_GUEST_VIRTIO_TEST_H
#define TESTS_GUEST_VIRTIO_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_abi.h"
#include "libos.h"
#include "virtio.h"

#include "hv_test.h"

/* libos keeps its copy of the device list to itself, so the tests read hv's boot info. */
#define TEST_BOOT_INFO HV_TEST_BOOT_INFO
#define test_boot_info hv_test_boot_info
#define test_block hv_test_block

#define TEST_QSIZE 8

static inline struct hv_shared_info *test_shared_info(void)
{
	return (struct hv_shared_info *)(uintptr_t)test_boot_info()->shared_info;
}

/* The first device with this virtio ID. */
static inline const struct hv_device *test_find_device(uint32_t virtio_id)
{
	const struct hv_boot_info *bi = test_boot_info();

	for (uint32_t i = 0; i < bi->nr_devices; i++)
		if (bi->devices[i].virtio_id == virtio_id)
			return &bi->devices[i];
	printf("FAILURE: hv gave no device with virtio ID %u\n", virtio_id);
	exit(1);
}

/* Each access but a QueueNotify on a ready queue is an exit to hv. */
static inline uint32_t mmio_rd(const struct hv_device *d, unsigned off)
{
	return *(volatile uint32_t *)(uintptr_t)(d->gpa + off);
}

static inline void mmio_wr(const struct hv_device *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(d->gpa + off) = v;
}

static inline uint64_t device_features(const struct hv_device *d)
{
	uint64_t f;

	mmio_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)mmio_rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	mmio_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | mmio_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* A split queue the test writes as a driver would, in one page. */
struct test_queue {
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_used;
};

static uint8_t test_queue_pages[2][4096] __attribute__((aligned(4096)));

static inline void test_queue_clear(struct test_queue *q, unsigned index)
{
	uint8_t *page = test_queue_pages[index];

	memset(page, 0, 4096);
	q->desc = (struct virtq_desc *)page;
	q->avail = (struct virtq_avail *)(page + 0x800);
	q->used = (struct virtq_used *)(page + 0xc00);
	q->last_used = 0;
}

/* Reset and bring up a device by the book [3.1.1]; returns the Status read back. */
static inline uint32_t test_device_init(const struct hv_device *d, uint64_t features,
					struct test_queue *qs, unsigned nr_queues)
{
	mmio_wr(d, VIRTIO_MMIO_STATUS, 0);
	EXPECT(mmio_rd(d, VIRTIO_MMIO_STATUS) == 0);
	mmio_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	mmio_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK);
	EXPECT(mmio_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned i = 0; i < nr_queues; i++) {
		test_queue_clear(&qs[i], i);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_SEL, i);
		EXPECT(mmio_rd(d, VIRTIO_MMIO_QUEUE_READY) == 0);
		EXPECT(mmio_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX) >= TEST_QSIZE);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_NUM, TEST_QSIZE);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)qs[i].desc);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)qs[i].avail);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)qs[i].used);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
		mmio_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
		EXPECT(mmio_rd(d, VIRTIO_MMIO_QUEUE_READY) == 1);
	}
	mmio_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return mmio_rd(d, VIRTIO_MMIO_STATUS);
}

static inline void test_set_desc(struct test_queue *q, unsigned i, uint64_t addr, uint32_t len,
				 uint16_t flags, uint16_t next)
{
	q->desc[i] = (struct virtq_desc){ addr, len, flags, next };
}

/* Publish a chain: the ring entry, then (release) the index. */
static inline void test_make_available(struct test_queue *q, uint16_t head)
{
	q->avail->ring[q->avail->idx % TEST_QSIZE] = head;
	__atomic_store_n(&q->avail->idx, (uint16_t)(q->avail->idx + 1), __ATOMIC_RELEASE);
}

static inline uint16_t test_used_idx(const struct test_queue *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

/* Forget earlier events: the upcall flag, the selector, the port's bit. */
static inline void clear_events(uint32_t port)
{
	struct hv_shared_info *si = test_shared_info();

	__atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&si->vcpu_info[0].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&si->evtchn_pending[port / 64], ~(1ull << (port % 64)),
			   __ATOMIC_SEQ_CST);
}

/*
 * A driver's idle loop: clear the upcall flag, look, block. Returns when the
 * used index moved past q->last_used, the device needs a reset, or
 * timeout_ms passed.
 */
static inline void wait_used_or_reset(const struct hv_device *d, const struct test_queue *q,
				      unsigned timeout_ms)
{
	struct hv_shared_info *si = test_shared_info();
	uint64_t deadline = clock_monotonic_ns() + timeout_ms * 1000000ull;

	for (;;) {
		__atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		if (test_used_idx(q) != q->last_used ||
		    (mmio_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
			return;
		if (test_block(deadline) == HV_BLOCK_DEADLINE)
			return;
	}
}

#endif /* TESTS_GUEST_VIRTIO_TEST_H */
