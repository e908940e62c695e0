/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a thread that overruns its stack is caught by the canary at its next switch.
 * expect-status: 255
 * expect-stdout: libos: panic: thread 'deep' overflowed its 16384-byte stack
 */
#include <string.h>

#include "libos.h"

static void *deep(void *arg)
{
	volatile char big[20000];

	memset((char *)big, 1, sizeof(big));
	thread_yield();
	return (void *)(uintptr_t)big[(uintptr_t)arg];
}

int main(void)
{
	struct thread *t = thread_create("deep", deep, NULL, 16 << 10);

	thread_join(t, NULL);
	return 0;
}
