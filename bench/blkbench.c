/* SPDX-License-Identifier: MIT */
/*
 * blkbench: the block patterns of apps/blktest's bench mode, run natively on a host file
 * with pread/pwrite/fdatasync (through the page cache, as hv's virtio-blk device does): the
 * baseline for make bench-io. Usage: blkbench FILE [MIB]
 * The queued pattern (random 4 KiB reads, QUEUE_DEPTH in flight) goes through io_uring, the
 * kernel's own way to keep many reads in flight from one thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SECTOR 512

/* The same offsets as blktest's: one mixing function for both. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double mib_per_s(uint64_t bytes, uint64_t ns)
{
	return (double)bytes / (1 << 20) / ((double)ns / 1e9);
}

/*
 * Sequential reads go over the region until at least 1 GiB has moved: one
 * pass over 64 MiB lasts a few milliseconds, and its figure swung from 3.6 to
 * 14 GB/s from run to run.
 */
static uint64_t seq_passes(uint64_t sectors)
{
	uint64_t mib = sectors >> 11;

	return mib == 0 ? 1 : mib >= 1024 ? 1 : (1024 + mib - 1) / mib;
}

#define QUEUE_DEPTH 32

/* One io_uring, its rings mapped: the few fields the queued pattern uses. */
struct uring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int uring_open(struct uring *u)
{
	struct io_uring_params p = { 0 };
	char *sq, *cq;
	size_t sq_bytes, cq_bytes;

	u->fd = (int)syscall(__NR_io_uring_setup, QUEUE_DEPTH, &p);
	if (u->fd < 0)
		return -errno;
	sq_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, cq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		  IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || u->sqes == MAP_FAILED)
		return -errno;
	u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

static void uring_read(struct uring *u, int fd, void *buf, uint64_t off, uint64_t tag)
{
	unsigned tail = *u->sq_tail, i = tail & *u->sq_mask;
	struct io_uring_sqe *e = &u->sqes[i];

	memset(e, 0, sizeof(*e));
	e->opcode = IORING_OP_READ;
	e->fd = fd;
	e->addr = (uint64_t)(uintptr_t)buf;
	e->len = 4096;
	e->off = off;
	e->user_data = tag;
	u->sq_array[i] = i;
	/* The entry before the tail that publishes it. */
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/*
 * ops random 4 KiB reads with QUEUE_DEPTH in flight, at the guest's queued pattern's offsets:
 * every completion is sent again with the next offset. Returns nanoseconds, or 0 on an error
 * (said on stderr).
 */
static uint64_t random_read_queued(int fd, uint64_t sectors, uint64_t ops)
{
	static char bufs[QUEUE_DEPTH][4096];
	struct uring u;
	uint64_t sent = 0, done = 0, t;
	unsigned to_submit = 0;
	int rc = uring_open(&u);

	if (rc) {
		fprintf(stderr, "blkbench: io_uring: %s\n", strerror(-rc));
		return 0;
	}
	t = now_ns();
	for (; sent < QUEUE_DEPTH && sent < ops; sent++, to_submit++)
		uring_read(&u, fd, bufs[sent], (mix(sent + 3 * ops) % (sectors / 8)) * 8 * SECTOR, sent);
	/* Each entry's tag is its buffer's slot, sent again with the slot's next read. */
	while (done < ops) {
		unsigned head;

		if (syscall(__NR_io_uring_enter, u.fd, to_submit, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
			fprintf(stderr, "blkbench: io_uring_enter: %s\n", strerror(errno));
			return 0;
		}
		to_submit = 0;
		head = *u.cq_head;
		while (head != __atomic_load_n(u.cq_tail, __ATOMIC_ACQUIRE)) {
			struct io_uring_cqe *c = &u.cqes[head & *u.cq_mask];
			unsigned slot = (unsigned)c->user_data;

			if (c->res != 4096) {
				fprintf(stderr, "blkbench: a queued read returned %d\n", c->res);
				return 0;
			}
			head++;
			done++;
			if (sent < ops) {
				uring_read(&u, fd, bufs[slot], (mix(sent + 3 * ops) % (sectors / 8)) * 8 * SECTOR,
					   slot);
				sent++;
				to_submit++;
			}
		}
		/* Entries read before the head that gives them back. */
		__atomic_store_n(u.cq_head, head, __ATOMIC_RELEASE);
	}
	t = now_ns() - t;
	close(u.fd);
	return t;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 0) : 64, sectors = mib << 11, ops = 4096, t, ns;
	int fd = argc > 1 ? open(argv[1], O_RDWR) : -1;
	char *big = malloc(1 << 20), *small = malloc(4096);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || !big || !small) {
		fprintf(stderr, "usage: blkbench FILE [MIB] (an existing file of at least MIB MiB)\n");
		return 2;
	}
	if ((uint64_t)st.st_size / SECTOR < sectors)
		sectors = (uint64_t)st.st_size / SECTOR & ~7ull;
	memset(big, 0x5a, 1 << 20);
	memset(small, 0xa5, 4096);
	t = now_ns();
	for (uint64_t s = 0; s + 2048 <= sectors; s += 2048)
		if (pwrite(fd, big, 1 << 20, (off_t)(s * SECTOR)) != 1 << 20)
			return 1;
	fdatasync(fd);
	printf("bench: sequential write %.1f MiB/s (1 MiB requests, then one flush)\n",
	       mib_per_s(sectors * SECTOR, now_ns() - t));
	t = now_ns();
	for (uint64_t pass = 0; pass < seq_passes(sectors); pass++)
		for (uint64_t s = 0; s + 2048 <= sectors; s += 2048)
			if (pread(fd, big, 1 << 20, (off_t)(s * SECTOR)) != 1 << 20)
				return 1;
	printf("bench: sequential read %.1f MiB/s (1 MiB requests, %llu passes over %llu MiB)\n",
	       mib_per_s(seq_passes(sectors) * (sectors & ~2047ull) * SECTOR, now_ns() - t),
	       (unsigned long long)seq_passes(sectors), (unsigned long long)(sectors >> 11));
	t = now_ns();
	for (uint64_t i = 0; i < ops; i++)
		if (pread(fd, small, 4096, (off_t)((mix(i) % (sectors / 8)) * 8 * SECTOR)) != 4096)
			return 1;
	ns = now_ns() - t;
	printf("bench: random 4 KiB read %.1f MiB/s, %.0f IOPS, %.1f us each (one at a time)\n",
	       mib_per_s(ops * 4096, ns), ops / ((double)ns / 1e9), (double)ns / ops / 1e3);
	t = now_ns();
	for (uint64_t i = 0; i < ops; i++)
		if (pwrite(fd, small, 4096, (off_t)((mix(i + ops) % (sectors / 8)) * 8 * SECTOR)) != 4096)
			return 1;
	ns = now_ns() - t;
	printf("bench: random 4 KiB write %.1f MiB/s, %.0f IOPS, %.1f us each (one at a time, no flush)\n",
	       mib_per_s(ops * 4096, ns), ops / ((double)ns / 1e9), (double)ns / ops / 1e3);
	ns = random_read_queued(fd, sectors, 8 * ops);
	if (!ns)
		return 1;
	printf("bench: random 4 KiB read %.1f MiB/s, %.0f IOPS, %d in flight\n",
	       mib_per_s(8 * ops * 4096, ns), 8 * ops / ((double)ns / 1e9), QUEUE_DEPTH);
	return 0;
}
