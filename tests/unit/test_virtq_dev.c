/* SPDX-License-Identifier: MIT */
/*
 * Unit test of hv's device-side virtqueue (virtq_dev.c): a driver-side ring
 * written by the test in a host buffer that stands for guest memory, served
 * as hv would, with every hostile ring the device must refuse and the exact
 * reason it gives.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "check.h"
#include "hv.h"
#include "virtq_dev.h"

/* Guest memory: 3 GiB reserved, touched only where the rings and a few buffers are. */
#define MEM_SIZE (3ull << 30)
#define DESC 0x100000ull
#define AVAIL 0x101000ull
#define USED 0x102000ull
#define BUF 0x110000ull

static struct hv_vm vm;

/* The driver's side, as a test writes it. */
static uint16_t qsize;

static struct virtq_desc *desc(unsigned i)
{
	return (struct virtq_desc *)(vm.mem + DESC) + i;
}

static struct virtq_avail *avail(void)
{
	return (struct virtq_avail *)(vm.mem + AVAIL);
}

static struct virtq_used *used(void)
{
	return (struct virtq_used *)(vm.mem + USED);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct virtq_desc){ addr, len, flags, next };
}

static void make_available(uint16_t head)
{
	avail()->ring[avail()->idx % qsize] = head;
	avail()->idx++;
}

/* A fresh, zeroed queue of size n bound to q; returns virtq_dev_init's result. */
static int fresh(struct virtq_dev *q, uint16_t n, bool event_idx)
{
	memset(vm.mem + DESC, 0, USED + 0x1000 - DESC);
	qsize = n;
	return virtq_dev_init(q, &vm, n, DESC, AVAIL, USED, event_idx);
}

static void init_refuses(uint16_t num, uint64_t d, uint64_t a, uint64_t u, const char *why)
{
	struct virtq_dev q;

	if (!CHECK_EQ(virtq_dev_init(&q, &vm, num, d, a, u, false), -EINVAL))
		fprintf(stderr, "    case: %s\n", why);
	CHECK_STR_EQ(q.why, why);
}

static void test_init(void)
{
	struct virtq_dev q;

	CHECK_EQ(fresh(&q, 256, false), 0);
	CHECK_EQ(fresh(&q, 1, false), 0);
	init_refuses(0, DESC, AVAIL, USED, "queue size 0 is not a power of two from 1 to 256");
	init_refuses(3, DESC, AVAIL, USED, "queue size 3 is not a power of two from 1 to 256");
	init_refuses(512, DESC, AVAIL, USED, "queue size 512 is not a power of two from 1 to 256");
	init_refuses(8, DESC + 8, AVAIL, USED,
		     "queue parts at 0x100008, 0x101000, 0x102000 are not aligned to 16, 2, 4");
	init_refuses(8, DESC, AVAIL + 1, USED,
		     "queue parts at 0x100000, 0x101001, 0x102000 are not aligned to 16, 2, 4");
	init_refuses(8, DESC, AVAIL, USED + 2,
		     "queue parts at 0x100000, 0x101000, 0x102002 are not aligned to 16, 2, 4");
	init_refuses(8, MEM_SIZE - 64, AVAIL, USED,
		     "descriptor table [0xbfffffc0, +0x80) is outside guest memory");
	init_refuses(8, 0x1000, AVAIL, USED,
		     "descriptor table [0x1000, +0x80) is outside guest memory");
	init_refuses(8, DESC, 0xfffffffffffffff0ull, USED,
		     "driver area [0xfffffffffffffff0, +0x16) is outside guest memory");
	/* The used ring must be writable: hv's read-only boot info is not. */
	init_refuses(8, DESC, AVAIL, HV_L_BOOT_INFO,
		     "device area [0xfb000, +0x46) is outside writable guest memory");
}

static void test_chain(void)
{
	struct virtq_dev q;
	struct virtq_chain c;

	fresh(&q, 8, false);
	CHECK_EQ(virtq_dev_pop(&q, &c), 0);
	/* Header, two data buffers, a status byte: 5 -> 2 -> 7 -> 0. */
	set_desc(5, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT, 7);
	set_desc(7, BUF + 0x2000, 1024, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	set_desc(0, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	make_available(5);
	if (!CHECK_EQ(virtq_dev_pop(&q, &c), 1))
		fprintf(stderr, "    why: %s\n", q.why);
	CHECK_EQ(c.head, 5);
	CHECK_EQ(c.nr_out, 2);
	CHECK_EQ(c.nr_in, 2);
	CHECK_EQ(c.out_len, 528);
	CHECK_EQ(c.in_len, 1025);
	CHECK(c.iov[0].iov_base == vm.mem + BUF && c.iov[0].iov_len == 16);
	CHECK(c.iov[1].iov_base == vm.mem + BUF + 0x1000 && c.iov[1].iov_len == 512);
	CHECK(c.iov[2].iov_base == vm.mem + BUF + 0x2000 && c.iov[2].iov_len == 1024);
	CHECK(c.iov[3].iov_base == vm.mem + BUF + 0x3000 && c.iov[3].iov_len == 1);
	CHECK_EQ(virtq_dev_pop(&q, &c), 0);

	virtq_dev_push(&q, 5, 1025);
	CHECK_EQ(used()->idx, 1);
	CHECK_EQ(used()->ring[0].id, 5);
	CHECK_EQ(used()->ring[0].len, 1025);

	/* Unpop: the same chain comes again. */
	make_available(2);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	CHECK_EQ(c.head, 2);
	virtq_dev_unpop(&q);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	CHECK_EQ(c.head, 2);
	CHECK_EQ(c.nr_out, 1);

	/* A chain of exactly the queue size is no loop; zero-length buffers are fine. */
	fresh(&q, 4, false);
	for (unsigned i = 0; i < 4; i++)
		set_desc(i, BUF, i == 2 ? 0 : 8, i < 3 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	make_available(0);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	CHECK_EQ(c.nr_out, 4);
	CHECK_EQ(c.out_len, 24);

	/* A full ring: queue-size entries ahead is allowed. */
	fresh(&q, 4, false);
	set_desc(0, BUF, 8, 0, 0);
	CHECK_EQ(virtq_dev_available(&q), 0);
	for (unsigned i = 0; i < 4; i++)
		make_available(0);
	CHECK_EQ(virtq_dev_available(&q), 4);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	CHECK_EQ(virtq_dev_available(&q), 0);
	CHECK_EQ(virtq_dev_pop(&q, &c), 0);
}

/* The 16-bit indices wrap: serve three times around them. */
static void test_wrap(void)
{
	struct virtq_dev q;
	struct virtq_chain c;
	unsigned bad = 0;

	fresh(&q, 8, false);
	set_desc(3, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 3 * 65536 + 5; i++) {
		make_available(3);
		if (virtq_dev_available(&q) != 1 || virtq_dev_pop(&q, &c) != 1 || c.head != 3)
			bad++;
		virtq_dev_push(&q, 3, (uint32_t)i);
		if (used()->idx != (uint16_t)(i + 1) || used()->ring[i % 8].len != i)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(virtq_dev_pop(&q, &c), 0);
}

/* Pop from a ring the test broke: the exact reason, and -EPROTO. */
static void pop_refuses(struct virtq_dev *q, const char *why)
{
	struct virtq_chain c;

	if (!CHECK_EQ(virtq_dev_pop(q, &c), -EPROTO))
		fprintf(stderr, "    case: %s\n", why);
	CHECK_STR_EQ(q->why, why);
}

static void test_hostile(void)
{
	struct virtq_dev q;

	/* The avail index moved more than the queue size. */
	fresh(&q, 8, false);
	avail()->idx = 9;
	pop_refuses(&q, "available index 9 is 9 entries ahead of 0, more than the queue size 8");
	fresh(&q, 8, false);
	avail()->idx = 0xffff; /* behind, read as far ahead */
	pop_refuses(&q, "available index 65535 is 65535 entries ahead of 0, more than the queue "
			"size 8");

	/* Head or next index past the table. */
	fresh(&q, 256, false);
	make_available(300);
	pop_refuses(&q, "descriptor 300 >= queue size 256");
	fresh(&q, 8, false);
	set_desc(1, BUF, 16, VIRTQ_DESC_F_NEXT, 8);
	make_available(1);
	pop_refuses(&q, "descriptor 1 chains to descriptor 8 >= queue size 8");

	/* Loops: to itself, and through the whole table. */
	fresh(&q, 8, false);
	set_desc(4, BUF, 16, VIRTQ_DESC_F_NEXT, 4);
	make_available(4);
	pop_refuses(&q, "chain from descriptor 4 is longer than the queue size 8 (a loop)");
	fresh(&q, 8, false);
	for (unsigned i = 0; i < 8; i++)
		set_desc(i, BUF, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % 8));
	make_available(6);
	pop_refuses(&q, "chain from descriptor 6 is longer than the queue size 8 (a loop)");
	/* At the largest size, one descriptor too many would overflow the chain's iovecs. */
	fresh(&q, HV_VIRTQ_SIZE_MAX, false);
	for (unsigned i = 0; i < HV_VIRTQ_SIZE_MAX; i++)
		set_desc(i, BUF, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % HV_VIRTQ_SIZE_MAX));
	make_available(0);
	pop_refuses(&q, "chain from descriptor 0 is longer than the queue size 256 (a loop)");

	/* Indirect descriptors were never offered. */
	fresh(&q, 8, false);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	pop_refuses(&q, "descriptor 1 is indirect, which hv does not offer");

	/* Buffers outside guest memory, across its end, in hv's area, or wrapping. */
	fresh(&q, 8, false);
	set_desc(0, 0xfff00000ull, 512, 0, 0);
	make_available(0);
	pop_refuses(&q, "descriptor 0: buffer [0xfff00000, +0x200) is outside guest memory");
	fresh(&q, 8, false);
	set_desc(0, MEM_SIZE - 256, 512, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	pop_refuses(&q, "descriptor 0: buffer [0xbfffff00, +0x200) is outside writable guest "
			"memory");
	fresh(&q, 8, false);
	set_desc(0, 0x2000, 16, 0, 0); /* hv's page tables */
	make_available(0);
	pop_refuses(&q, "descriptor 0: buffer [0x2000, +0x10) is outside guest memory");
	fresh(&q, 8, false);
	set_desc(0, HV_L_BOOT_INFO, 16, 0, 0); /* readable: the device may read the boot info */
	set_desc(1, HV_L_BOOT_INFO, 16, VIRTQ_DESC_F_WRITE, 0); /* but not write it */
	make_available(0);
	make_available(1);
	{
		struct virtq_chain c;

		CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	}
	pop_refuses(&q, "descriptor 1: buffer [0xfb000, +0x10) is outside writable guest memory");
	fresh(&q, 8, false);
	set_desc(2, 0xffffffffffffff00ull, 0x200, 0, 0);
	make_available(2);
	pop_refuses(&q, "descriptor 2: buffer [0xffffffffffffff00, +0x200) wraps around");

	/* Device-readable after device-writable. */
	fresh(&q, 8, false);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(1, BUF, 16, 0, 0);
	make_available(0);
	pop_refuses(&q, "descriptor 1 is device-readable after a device-writable one");

	/* Total length: 4 GiB - 1 is the most a used length can say. */
	fresh(&q, 8, false);
	set_desc(0, 0x200000, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x200000, 0x7fffffffu, 0, 0);
	make_available(0);
	{
		struct virtq_chain c;

		CHECK_EQ(virtq_dev_pop(&q, &c), 1);
		CHECK_EQ(c.out_len, 0xffffffffu);
	}
	fresh(&q, 8, false);
	set_desc(0, 0x200000, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x200000, 0x80000000u, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	pop_refuses(&q, "chain from descriptor 0 holds 4 GiB or more");
}

static void test_events(void)
{
	struct virtq_dev q;
	struct virtq_chain c;
	uint16_t *used_event, *avail_event;

	/* Without EVENT_IDX: NO_INTERRUPT decides, and only when something was used. */
	fresh(&q, 8, false);
	CHECK(!virtq_dev_need_event(&q));
	virtq_dev_push(&q, 0, 0);
	CHECK(virtq_dev_need_event(&q));
	CHECK(!virtq_dev_need_event(&q));
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_dev_push(&q, 0, 0);
	CHECK(!virtq_dev_need_event(&q));
	/* Without EVENT_IDX the device leaves avail_event alone. */
	CHECK(!virtq_dev_enable_kicks(&q));
	CHECK_EQ(used()->ring[8].id & 0xffff, 0);

	/* With EVENT_IDX: an event when used->idx passes used_event. */
	fresh(&q, 8, true);
	used_event = &avail()->ring[8];
	avail_event = (uint16_t *)&used()->ring[8];
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* ignored with EVENT_IDX */
	*used_event = 0;
	virtq_dev_push(&q, 0, 0); /* idx 0 -> 1 passes 0 */
	CHECK(virtq_dev_need_event(&q));
	*used_event = 3;
	virtq_dev_push(&q, 0, 0); /* 1 -> 2 */
	CHECK(!virtq_dev_need_event(&q));
	virtq_dev_push(&q, 0, 0);
	virtq_dev_push(&q, 0, 0); /* 2 -> 4 passes 3 */
	CHECK(virtq_dev_need_event(&q));
	*used_event = 0xffff; /* across the wrap */
	for (unsigned i = 4; i < 0xffff; i++)
		virtq_dev_push(&q, 0, 0);
	CHECK(!virtq_dev_need_event(&q));
	virtq_dev_push(&q, 0, 0);
	CHECK(virtq_dev_need_event(&q));

	/* avail_event: after the ring runs dry, ask for a kick at the next entry. */
	fresh(&q, 8, true);
	avail_event = (uint16_t *)&used()->ring[8];
	set_desc(0, BUF, 8, 0, 0);
	make_available(0);
	make_available(0);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	CHECK(virtq_dev_enable_kicks(&q)); /* one more is there: do not wait */
	CHECK_EQ(*avail_event, 1);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	CHECK(!virtq_dev_enable_kicks(&q));
	CHECK_EQ(*avail_event, 2);

	/* Two chains too few to serve, put back: the kick is asked for at a third. */
	make_available(0);
	make_available(0);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);
	virtq_dev_unpop(&q);
	virtq_dev_unpop(&q);
	CHECK(!virtq_dev_enable_kicks_after(&q, 2));
	CHECK_EQ(*avail_event, 4);
	make_available(0);
	CHECK(virtq_dev_enable_kicks_after(&q, 2));
}

static void test_copy(void)
{
	struct virtq_dev q;
	struct virtq_chain c;
	struct iovec part[4];
	uint8_t out[8], in[6] = "abcde";

	fresh(&q, 8, false);
	memcpy(vm.mem + BUF, "0123", 4);
	memcpy(vm.mem + BUF + 0x100, "456789", 6);
	set_desc(0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x100, 6, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, BUF + 0x200, 3, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	set_desc(3, BUF + 0x300, 3, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	CHECK_EQ(virtq_dev_pop(&q, &c), 1);

	/* Reads cross buffers and stop at the end of the readable part. */
	CHECK_EQ(virtq_chain_read(&c, 2, out, 5), 5);
	CHECK(memcmp(out, "23456", 5) == 0);
	CHECK_EQ(virtq_chain_read(&c, 8, out, 8), 2);
	CHECK(memcmp(out, "89", 2) == 0);
	CHECK_EQ(virtq_chain_read(&c, 10, out, 8), 0);

	/* Writes go only into the writable part. */
	CHECK_EQ(virtq_chain_write(&c, 1, in, 6), 5);
	CHECK(memcmp(vm.mem + BUF + 0x200, "\0ab", 3) == 0);
	CHECK(memcmp(vm.mem + BUF + 0x300, "cde", 3) == 0);

	CHECK_EQ(virtq_iov_slice(c.iov, c.nr_out, 3, 2, part), 2);
	CHECK(part[0].iov_base == vm.mem + BUF + 3 && part[0].iov_len == 1);
	CHECK(part[1].iov_base == vm.mem + BUF + 0x100 && part[1].iov_len == 1);
	CHECK_EQ(virtq_iov_slice(c.iov, c.nr_out, 4, 100, part), 1);
	CHECK_EQ(part[0].iov_len, 6);
	CHECK_EQ(virtq_iov_slice(c.iov, c.nr_out, 0, 0, part), 0);
}

int main(void)
{
	vm.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	vm.mem_size = MEM_SIZE;
	vm.name = "test";
	test_init();
	test_chain();
	test_wrap();
	test_hostile();
	test_events();
	test_copy();
	munmap(vm.mem, MEM_SIZE);
	return check_finish("test_virtq_dev");
}
