/* SPDX-License-Identifier: MIT */
/*
 * Guest test: usleep, nanosleep and sleep_until block in hv for the time asked, not less.
 * expect-status: 0
 * expect-stdout: SUCCESS
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "libos.h"

static int check(const char *what, uint64_t start, uint64_t want_ns)
{
	uint64_t took = clock_monotonic_ns() - start;
	int ok = took >= want_ns && took < want_ns + 50000000ull;

	printf("%s: asked %.3f ms, took %.3f ms%s\n", what, want_ns / 1e6, took / 1e6,
	       ok ? "" : "  <- wrong");
	return ok;
}

int main(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 5000000 };
	uint64_t t;
	int ok = 1;

	t = clock_monotonic_ns();
	usleep(20000);
	ok &= check("usleep(20000)", t, 20000000ull);
	t = clock_monotonic_ns();
	nanosleep(&ts, NULL);
	ok &= check("nanosleep(5 ms)", t, 5000000ull);
	t = clock_monotonic_ns();
	sleep_until(t + 1000000ull);
	ok &= check("sleep_until(+1 ms)", t, 1000000ull);
	puts(ok ? "SUCCESS" : "FAILURE");
	return !ok;
}
