/* SPDX-License-Identifier: MIT */
/*
 * blktest: exercises the first block device.
 *   write SEED [SECTORS]   write a pattern from SEED over the disk in requests of varying
 *                          size, flush, read everything back and verify
 *   verify SEED [SECTORS]  only read back and verify (a second boot: persistence)
 *   readonly               expect writes refused with EROFS and reads to work
 *   bench [MIB]            sequential and 4 KiB random read and write throughput, and 4 KiB
 *                          random reads with QUEUE_DEPTH in flight
 * Prints SUCCESS and exits 0, or says what differed and exits 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev.h"
#include "libos.h"

#define SECTOR 512

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* The content of one sector: its number and the seed, then bytes from both. */
static void fill_sector(uint8_t *p, uint64_t seed, uint64_t sector)
{
	memcpy(p, &sector, 8);
	memcpy(p + 8, &seed, 8);
	for (unsigned i = 16; i < SECTOR; i += 8) {
		uint64_t v = mix(seed ^ (sector << 20) ^ i);
		memcpy(p + i, &v, 8);
	}
}

static int write_pattern(struct blkdev *d, uint64_t seed, uint64_t sectors)
{
	uint8_t *buf = malloc(64 * SECTOR);
	uint64_t s = 0, n;

	for (unsigned k = 0; s < sectors; k++, s += n) {
		n = 1 + mix(seed + k) % 64; /* 1 to 64 sectors: single and multi-sector requests */
		if (n > sectors - s)
			n = sectors - s;
		for (uint64_t i = 0; i < n; i++)
			fill_sector(buf + i * SECTOR, seed, s + i);
		int rc = blkdev_write(d, s, buf, n);
		if (rc) {
			printf("FAILURE: write of %llu sectors at %llu: %s\n", (unsigned long long)n,
			       (unsigned long long)s, strerror(-rc));
			return 1;
		}
	}
	free(buf);
	int rc = blkdev_flush(d);
	if (rc) {
		printf("FAILURE: flush: %s\n", strerror(-rc));
		return 1;
	}
	printf("wrote %llu sectors with seed %llu and flushed\n", (unsigned long long)sectors,
	       (unsigned long long)seed);
	return 0;
}

static int verify_pattern(struct blkdev *d, uint64_t seed, uint64_t sectors)
{
	const uint64_t chunk = 2048; /* 1 MiB per read: the driver splits and pipelines */
	uint8_t *buf = malloc(chunk * SECTOR), want[SECTOR];

	for (uint64_t s = 0; s < sectors; s += chunk) {
		uint64_t n = sectors - s < chunk ? sectors - s : chunk;
		int rc = blkdev_read(d, s, buf, n);

		if (rc) {
			printf("FAILURE: read at %llu: %s\n", (unsigned long long)s, strerror(-rc));
			return 1;
		}
		for (uint64_t i = 0; i < n; i++) {
			fill_sector(want, seed, s + i);
			if (memcmp(buf + i * SECTOR, want, SECTOR)) {
				uint64_t got_sector, got_seed;
				memcpy(&got_sector, buf + i * SECTOR, 8);
				memcpy(&got_seed, buf + i * SECTOR + 8, 8);
				printf("FAILURE: sector %llu differs (holds sector %llu, seed %llu)\n",
				       (unsigned long long)(s + i), (unsigned long long)got_sector,
				       (unsigned long long)got_seed);
				return 1;
			}
		}
	}
	free(buf);
	printf("verified %llu sectors with seed %llu\n", (unsigned long long)sectors,
	       (unsigned long long)seed);
	return 0;
}

static int readonly(struct blkdev *d)
{
	uint8_t buf[SECTOR] = { 0 };
	int w = blkdev_write(d, 0, buf, 1), r = blkdev_read(d, 0, buf, 1);

	printf("read-only: %d, write: %s, read: %s\n", blkdev_read_only(d), strerror(-w),
	       r ? strerror(-r) : "ok");
	return !(blkdev_read_only(d) && w == -EROFS && r == 0);
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

/* Requests in flight for the queued pattern; done() hands each back to the loop. */
struct queued {
	struct blk_request req[QUEUE_DEPTH];
	struct blk_request *ready[QUEUE_DEPTH]; /* completed, to be sent again */
	unsigned nready;
	int status;
	struct wait_queue wq;
};

static void queued_done(struct blk_request *req)
{
	struct queued *q = req->arg;

	if (req->status && !q->status)
		q->status = req->status;
	q->ready[q->nready++] = req;
	wait_queue_wake_all(&q->wq);
}

/*
 * ops random 4 KiB reads with QUEUE_DEPTH in flight: whatever completed is
 * sent again with a new offset, all of it in one batch (one notification).
 * Returns the nanoseconds taken, or 0 after an error.
 */
static uint64_t random_read_queued(struct blkdev *d, uint64_t sectors, uint64_t ops)
{
	static struct queued q;
	uint8_t *bufs = malloc(QUEUE_DEPTH * 4096);
	uint64_t sent = 0, t;
	int64_t done = -QUEUE_DEPTH; /* the first batch completes nothing */

	if (!bufs)
		return 0;
	q = (struct queued){ .wq = WAIT_QUEUE_INIT };
	for (unsigned i = 0; i < QUEUE_DEPTH; i++) {
		q.req[i] = (struct blk_request){ .op = BLK_READ, .buf = bufs + i * 4096, .count = 8,
						 .done = queued_done, .arg = &q };
		q.ready[q.nready++] = &q.req[i];
	}
	t = clock_monotonic_ns();
	while (done < (int64_t)ops && !q.status) {
		struct blk_request *batch[QUEUE_DEPTH];
		unsigned n = 0;

		done += q.nready;
		while (q.nready && sent < ops) {
			batch[n] = q.ready[--q.nready];
			batch[n++]->sector = (mix(sent++ + 3 * ops) % (sectors / 8)) * 8;
		}
		q.nready = 0;
		if (n && blkdev_submit_batch(d, batch, n) != n)
			break;
		if (done < (int64_t)ops)
			wait_queue_wait(&q.wq, LIBOS_FOREVER);
	}
	t = clock_monotonic_ns() - t;
	free(bufs); /* safe: nothing is in flight once done reached ops */
	return done >= (int64_t)ops && !q.status ? t : 0;
}

/* Throughput of the four classic patterns over the first mib MiB, and queued random reads. */
static int bench(struct blkdev *d, uint64_t mib)
{
	uint64_t sectors = mib << 11, ops = 4096, t;
	uint8_t *big = malloc(1 << 20), *small = malloc(4096);

	if (sectors > blkdev_sectors(d))
		sectors = blkdev_sectors(d) & ~7ull;
	memset(big, 0x5a, 1 << 20);
	memset(small, 0xa5, 4096);
	t = clock_monotonic_ns();
	for (uint64_t s = 0; s + 2048 <= sectors; s += 2048)
		if (blkdev_write(d, s, big, 2048))
			return 1;
	blkdev_flush(d);
	printf("bench: sequential write %.1f MiB/s (1 MiB requests, then one flush)\n",
	       mib_per_s(sectors * SECTOR, clock_monotonic_ns() - t));
	t = clock_monotonic_ns();
	for (uint64_t pass = 0; pass < seq_passes(sectors); pass++)
		for (uint64_t s = 0; s + 2048 <= sectors; s += 2048)
			if (blkdev_read(d, s, big, 2048))
				return 1;
	printf("bench: sequential read %.1f MiB/s (1 MiB requests, %llu passes over %llu MiB)\n",
	       mib_per_s(seq_passes(sectors) * (sectors & ~2047ull) * SECTOR, clock_monotonic_ns() - t),
	       (unsigned long long)seq_passes(sectors), (unsigned long long)(sectors >> 11));
	t = clock_monotonic_ns();
	for (uint64_t i = 0; i < ops; i++)
		if (blkdev_read(d, (mix(i) % (sectors / 8)) * 8, small, 8))
			return 1;
	uint64_t ns = clock_monotonic_ns() - t;
	printf("bench: random 4 KiB read %.1f MiB/s, %.0f IOPS, %.1f us each (one at a time)\n",
	       mib_per_s(ops * 4096, ns), ops / ((double)ns / 1e9), (double)ns / ops / 1e3);
	t = clock_monotonic_ns();
	for (uint64_t i = 0; i < ops; i++)
		if (blkdev_write(d, (mix(i + ops) % (sectors / 8)) * 8, small, 8))
			return 1;
	ns = clock_monotonic_ns() - t;
	printf("bench: random 4 KiB write %.1f MiB/s, %.0f IOPS, %.1f us each (one at a time, no flush)\n",
	       mib_per_s(ops * 4096, ns), ops / ((double)ns / 1e9), (double)ns / ops / 1e3);
	ns = random_read_queued(d, sectors, 8 * ops);
	if (!ns)
		return 1;
	printf("bench: random 4 KiB read %.1f MiB/s, %.0f IOPS, %d in flight\n",
	       mib_per_s(8 * ops * 4096, ns), 8 * ops / ((double)ns / 1e9), QUEUE_DEPTH);
	return 0;
}

int main(int argc, char **argv)
{
	struct blkdev *d = blkdev_get(0);
	int failed;

	if (!d) {
		printf("FAILURE: no block device (hv --disk=FILE)\n");
		return 1;
	}
	printf("%s: %llu sectors of %u bytes%s\n", blkdev_name(d),
	       (unsigned long long)blkdev_sectors(d), blkdev_sector_size(d),
	       blkdev_read_only(d) ? ", read-only" : "");
	const char *mode = argc > 1 ? argv[1] : "write";
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	uint64_t sectors = argc > 3 ? strtoull(argv[3], NULL, 0) : blkdev_sectors(d);

	if (sectors > blkdev_sectors(d))
		sectors = blkdev_sectors(d);
	if (!strcmp(mode, "write"))
		failed = write_pattern(d, seed, sectors) || verify_pattern(d, seed, sectors);
	else if (!strcmp(mode, "verify"))
		failed = verify_pattern(d, seed, sectors);
	else if (!strcmp(mode, "readonly"))
		failed = readonly(d);
	else if (!strcmp(mode, "bench"))
		failed = bench(d, argc > 2 ? strtoull(argv[2], NULL, 0) : 64);
	else {
		printf("FAILURE: unknown mode %s (write, verify, readonly, bench)\n", mode);
		return 2;
	}
	puts(failed ? "FAILURE" : "SUCCESS");
	return failed;
}
