/* SPDX-License-Identifier: MIT */
/*
 * Guest test: unbounded recursion runs into the guard page below the stack.
 * expect-status: 80
 * expect-stderr: stack overflow into the guard page
 * expect-stderr: <recurse+
 */
#include <string.h>

/* The limit comes from argc, so the compiler cannot call the recursion infinite. */
__attribute__((noinline)) static int recurse(int depth, int limit)
{
	volatile char frame[512];

	memset((char *)frame, depth, sizeof(frame));
	if (depth == limit)
		return 0;
	return recurse(depth + 1, limit) + frame[depth % 512];
}

int main(int argc, char **argv)
{
	(void)argv;
	return recurse(0, argc * 1000000000);
}
