/* SPDX-License-Identifier: MIT */
/* An appliance that only sleeps (blocked in hv), for tests that stop hv from outside. */
#include <stdio.h>

#include "libos.h"

int main(void)
{
	puts("sleeper: sleeping");
	fflush(stdout);
	sleep_until(clock_monotonic_ns() + 60ull * 1000000000ull);
	return 0;
}
