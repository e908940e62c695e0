/* SPDX-License-Identifier: MIT */
/*
 * Guest test: exit(n) runs atexit handlers, flushes stdio, and hv exits with n.
 * expect-status: 42
 * expect-stdout: atexit handler ran
 * expect-stdout: buffered without newline
 */
#include <stdio.h>
#include <stdlib.h>

static void at_exit(void)
{
	printf("atexit handler ran\n");
}

int main(void)
{
	atexit(at_exit);
	printf("buffered without newline");
	exit(42);
}
