/* SPDX-License-Identifier: MIT */
/* Time from the TSC: monotonic ns since boot without an exit; wall time from one platform call. */
#include <stdint.h>

#include "kernel.h"
#include "libos.h"

static uint64_t tsc_base;
static uint64_t tsc_hz;
static uint64_t ns_mul;          /* ns = (ticks * ns_mul) >> 32 */
static int64_t realtime_offset;  /* realtime ns - monotonic ns */
static int realtime_known;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* A multiply and a shift: no division, and no libgcc for 128-bit arithmetic. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * ns_mul) >> 32);
}

void clock_init(uint64_t hz, uint64_t base)
{
	if (hz < 1000000)
		panic("clock_init: TSC frequency %llu Hz is not plausible", (unsigned long long)hz);
	tsc_hz = hz;
	tsc_base = base;
	ns_mul = (1000000000ull << 32) / hz;
}

uint64_t clock_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t clock_monotonic_ns(void)
{
	return ticks_to_ns(rdtsc() - tsc_base);
}

uint64_t clock_realtime_ns(void)
{
	if (!realtime_known) {
		uint64_t wall, tsc;

		platform->wallclock(&wall, &tsc);
		realtime_offset = (int64_t)(wall - ticks_to_ns(tsc - tsc_base));
		realtime_known = 1;
	}
	return clock_monotonic_ns() + (uint64_t)realtime_offset;
}
