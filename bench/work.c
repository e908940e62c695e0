/* SPDX-License-Identifier: MIT */
/*
 * work: CPU-bound and memory-bound kernels, built from this one file as a native program and
 * as a guest image (bench/guest/work.c includes it), so both run the same machine code. No
 * kernel calls the C library in its timed part (libc implementations differ; the point is the
 * machine): each is the kit's own code.
 *   hash      a 64-bit multiply-rotate hash over a 64 MiB buffer
 *   sort      a radix sort of 4 Mi 32-bit keys
 *   lz        an LZ77 compression and decompression round trip of 16 MiB of text-like data
 *   memcpy    a 256 MiB copy with `rep movsb`, both buffers page-aligned: the instruction's
 *             speed depends on where source and destination sit (up to 1.5x here when their
 *             offsets in a 64-byte line differ), and two mallocs place them differently
 *   copy2k    256 MiB in 2 KiB memcpy() calls within a 64 KiB buffer (a packet's copy, in the
 *             cache): the C library's memcpy, the one thing here that is not the kit's code
 *   chase     a dependent pointer chase over 256 MiB (one node per cache line, random order)
 * Every buffer is written before its kernel's clock starts (and the copy runs once untimed:
 * the first pass over fresh host memory is many times slower, natively as in the guest),
 * so the figures are of the work, not of first-touch faults.
 * Prints "kernel=NAME ns=N check=X" per kernel; exits 1 if a round trip does not match.
 * Usage: work [KERNEL...]   (default: all)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * What a buffer is written with before its kernel's clock starts. Not zero: the compiler
 * turns malloc() followed by a zero memset() into calloc(), which leaves fresh pages
 * unwritten, and their first-touch faults then land in the timed part. They did, natively
 * only: the native radix sort and LZ77 runs took 2-3x the guest's time on a host where a
 * fault is dear, and 1.0x with the buffers written.
 */
#define FILL 0xee

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t k_hash(void)
{
	size_t n = (64u << 20) / 8;
	uint64_t *buf = malloc(n * 8), h = 0, t;

	for (size_t i = 0; i < n; i++)
		buf[i] = next();
	t = now_ns();
	for (size_t i = 0; i < n; i++)
		h = rotl(h ^ (buf[i] * 0x9fb21c651e98df25ull), 29) * 0xc2b2ae3d27d4eb4full;
	t = now_ns() - t;
	printf("kernel=hash ns=%llu check=%llx\n", (unsigned long long)t, (unsigned long long)h);
	free(buf);
	return t;
}

/* LSD radix sort, 8 bits a pass. */
static void radix_sort(uint32_t *a, uint32_t *tmp, size_t n)
{
	for (int shift = 0; shift < 32; shift += 8) {
		size_t count[257] = { 0 };

		for (size_t i = 0; i < n; i++)
			count[((a[i] >> shift) & 255) + 1]++;
		for (int b = 0; b < 256; b++)
			count[b + 1] += count[b];
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i] >> shift) & 255]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
}

static int k_sort(void)
{
	size_t n = 4u << 20;
	uint32_t *a = malloc(n * 4), *tmp = malloc(n * 4);
	uint64_t t;
	int ok = 1;

	for (size_t i = 0; i < n; i++)
		a[i] = (uint32_t)next();
	memset(tmp, FILL, n * 4);
	t = now_ns();
	radix_sort(a, tmp, n);
	t = now_ns() - t;
	for (size_t i = 1; i < n; i++)
		ok &= a[i - 1] <= a[i];
	printf("kernel=sort ns=%llu check=%d\n", (unsigned long long)t, ok);
	free(a);
	free(tmp);
	return ok;
}

/*
 * LZ77: a literal run (a length byte, then the bytes) or a match (0x80 | length-4 in a byte,
 * then a 16-bit distance), found through a hash table of the last position of each 4 bytes.
 */
#define LZ_HASH_BITS 16
#define LZ_MIN 4
#define LZ_MAX (LZ_MIN + 127)

static size_t lz_compress(const uint8_t *in, size_t n, uint8_t *out)
{
	static uint32_t table[1 << LZ_HASH_BITS];
	size_t i = 0, o = 0, lit = 0;

	memset(table, 0, sizeof(table));
	while (i < n) {
		size_t best = 0, dist = 0;

		if (i + LZ_MIN <= n) {
			uint32_t v;
			memcpy(&v, in + i, 4);
			uint32_t h = (v * 2654435761u) >> (32 - LZ_HASH_BITS);
			size_t cand = table[h];
			table[h] = (uint32_t)i;
			if (cand < i && i - cand < 65536) {
				while (best < LZ_MAX && i + best < n && in[cand + best] == in[i + best])
					best++;
				dist = i - cand;
			}
		}
		if (best >= LZ_MIN) {
			if (lit) { /* flush the pending literals */
				out[o - lit - 1] = (uint8_t)(lit - 1);
				lit = 0;
			}
			out[o++] = (uint8_t)(0x80 | (best - LZ_MIN));
			out[o++] = (uint8_t)dist;
			out[o++] = (uint8_t)(dist >> 8);
			i += best;
			continue;
		}
		if (lit == 0)
			o++; /* room for the run's length byte */
		out[o++] = in[i++];
		if (++lit == 128) {
			out[o - lit - 1] = (uint8_t)(lit - 1);
			lit = 0;
		}
	}
	if (lit)
		out[o - lit - 1] = (uint8_t)(lit - 1);
	return o;
}

static size_t lz_decompress(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		uint8_t c = in[i++];

		if (c & 0x80) {
			size_t len = (c & 0x7f) + LZ_MIN, dist = in[i] | (size_t)in[i + 1] << 8;

			i += 2;
			for (size_t k = 0; k < len; k++, o++) /* overlapping copies are the point */
				out[o] = out[o - dist];
		} else {
			memcpy(out + o, in + i, (size_t)c + 1);
			o += (size_t)c + 1;
			i += (size_t)c + 1;
		}
	}
	return o;
}

static int k_lz(void)
{
	static const char *words[] = { "the ", "kit ", "boots ", "an ", "appliance ", "on ", "hv ",
				       "in ", "ring ", "three ", "with ", "virtio ", "and ", "lwIP ",
				       "\n", "grant ", "event ", "channel " };
	size_t n = 16u << 20, o = 0, packed, back;
	uint8_t *in = malloc(n), *z = malloc(n + n / 64 + 16), *out = malloc(n);
	uint64_t t;

	while (o < n) { /* text-like: words, and now and then a random byte */
		const char *w = words[next() % (sizeof(words) / sizeof(words[0]))];
		for (; *w && o < n; w++)
			in[o++] = (uint8_t)*w;
		if (o < n && next() % 8 == 0)
			in[o++] = (uint8_t)next();
	}
	memset(z, FILL, n + n / 64 + 16);
	memset(out, FILL, n);
	t = now_ns();
	packed = lz_compress(in, n, z);
	back = lz_decompress(z, packed, out);
	t = now_ns() - t;
	int ok = back == n && memcmp(in, out, n) == 0;
	printf("kernel=lz ns=%llu check=%d ratio=%.3f\n", (unsigned long long)t, ok,
	       (double)packed / (double)n);
	free(in);
	free(z);
	free(out);
	return ok;
}

/* n bytes at an address that is a multiple of align (a power of two), leaked: the kernels run
 * once. Not aligned_alloc: newlib's needs a posix_memalign it does not have. */
static uint8_t *alloc_aligned(size_t align, size_t n)
{
	uint8_t *p = malloc(n + align);

	return p ? (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1)) : NULL;
}

static uint64_t k_memcpy(void)
{
	size_t n = 256u << 20;
	uint8_t *a = alloc_aligned(4096, n), *b = alloc_aligned(4096, n);
	uint64_t t;

	memset(a, 0x5a, n);
	memset(b, 0, n);
	for (int pass = 0; pass < 2; pass++) {
		void *d = b;
		const void *s = a;
		size_t c = n;

		t = now_ns();
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
	}
	t = now_ns() - t;
	printf("kernel=memcpy ns=%llu check=%d src%%4096=%u dst%%4096=%u\n", (unsigned long long)t,
	       b[n - 1] == 0x5a, (unsigned)((uintptr_t)a % 4096), (unsigned)((uintptr_t)b % 4096));
	return t;
}

static uint64_t k_copy2k(void)
{
	size_t blocks = (256u << 20) / 2048;
	uint8_t *src = alloc_aligned(64, 65536), *dst = alloc_aligned(64, 65536);
	uint64_t t, sum = 0;

	memset(src, 0x3c, 65536);
	memset(dst, 0, 65536);
	t = now_ns();
	for (size_t i = 0; i < blocks; i++) {
		/* Offsets that move within the line, as packet payloads do. */
		size_t off = (i * 2048 + (i % 7) * 2) % (65536 - 4096);

		memcpy(dst + off, src + (off ^ 64), 2048);
		sum += dst[off];
	}
	t = now_ns() - t;
	printf("kernel=copy2k ns=%llu check=%llu\n", (unsigned long long)t, (unsigned long long)sum);
	return t;
}

static uint64_t k_chase(void)
{
	size_t nodes = (256u << 20) / 64, steps = 8u << 20;
	uint64_t *mem = malloc(nodes * 64), t, p = 0;
	uint32_t *order = malloc(nodes * sizeof(uint32_t));

	/* A random cycle through all nodes: a Fisher-Yates shuffle of the visiting order. */
	for (size_t i = 0; i < nodes; i++)
		order[i] = (uint32_t)i;
	for (size_t i = nodes - 1; i > 0; i--) {
		size_t j = next() % (i + 1);
		uint32_t x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	for (size_t i = 0; i < nodes; i++)
		mem[(size_t)order[i] * 8] = (uint64_t)order[(i + 1) % nodes] * 8;
	free(order);
	t = now_ns();
	for (size_t i = 0; i < steps; i++)
		p = mem[p];
	t = now_ns() - t;
	printf("kernel=chase ns=%llu check=%llu ns_per_step=%.1f\n", (unsigned long long)t,
	       (unsigned long long)p, (double)t / (double)steps);
	free(mem);
	return t;
}

int main(int argc, char **argv)
{
	int all = argc < 2 || (argc == 2 && argv[1][0] == '\0'), ok = 1;

	for (int i = 0; all ? i < 1 : i < argc - 1; i++) {
		const char *k = all ? "" : argv[i + 1];

		if (all || !strcmp(k, "hash"))
			k_hash();
		if (all || !strcmp(k, "sort"))
			ok &= k_sort();
		if (all || !strcmp(k, "lz"))
			ok &= k_lz();
		if (all || !strcmp(k, "memcpy"))
			k_memcpy();
		if (all || !strcmp(k, "copy2k"))
			k_copy2k();
		if (all || !strcmp(k, "chase"))
			k_chase();
	}
	fflush(stdout);
	return ok ? 0 : 1;
}
