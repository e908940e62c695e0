/* SPDX-License-Identifier: MIT */
/*
 * blkbench: the block patterns of apps/blktest's bench mode, run natively on a host file
 * with pread/pwrite/fdatasync (through the page cache, as hv's virtio-blk device does): the
 * baseline for make bench-io. Usage: blkbench FILE [MIB]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	for (uint64_t s = 0; s + 2048 <= sectors; s += 2048)
		if (pread(fd, big, 1 << 20, (off_t)(s * SECTOR)) != 1 << 20)
			return 1;
	printf("bench: sequential read %.1f MiB/s (1 MiB requests)\n",
	       mib_per_s(sectors * SECTOR, now_ns() - t));
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
	return 0;
}
