/* SPDX-License-Identifier: MIT */
/*
 * Guest test: panic() prints the values that broke the invariant and a backtrace, then exits 255.
 * expect-status: 255
 * expect-stdout: libos: panic: invariant broken: 42 != 43
 * expect-stdout: libos: backtrace: 0x
 */
#include "libos.h"

int main(int argc, char **argv)
{
	(void)argv;
	int want = 42 + argc;

	if (want != 42)
		panic("invariant broken: %d != %d", 42, want);
	return 0;
}
