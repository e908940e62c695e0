/* SPDX-License-Identifier: MIT */
/*
 * cpuloop: a CPU-bound loop (integer hashing and floating point, no memory traffic beyond
 * L1), built both as a native program and as a guest image from this one file. It times
 * the loop itself with CLOCK_MONOTONIC and prints "loop_ns=N check=X".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The work: splitmix64 steps feeding a floating-point accumulation. */
static double work(uint64_t iterations, uint64_t seed)
{
	uint64_t x = seed;
	double acc = 0.0;

	for (uint64_t i = 0; i < iterations; i++) {
		x += 0x9e3779b97f4a7c15ull;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		acc += (double)(z >> 11) * 0x1.0p-53;
	}
	return acc;
}

int main(int argc, char **argv)
{
	uint64_t iterations = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull;
	uint64_t t0 = now_ns();
	double r = work(iterations, (uint64_t)argc);
	uint64_t t1 = now_ns();

	printf("loop_ns=%llu check=%.6f\n", (unsigned long long)(t1 - t0), r / (double)iterations);
	return 0;
}
