/* SPDX-License-Identifier: MIT */
/*
 * Guest test: when RAM runs out malloc returns NULL, nothing crashes, and freed memory returns.
 * hv-options: --mem=8M
 * expect-status: 0
 * expect-stdout: SUCCESS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	void *chunks[64];
	int n = 0;

	while (n < 64 && (chunks[n] = malloc(256 << 10)) != NULL) {
		memset(chunks[n], 0xa5, 256 << 10);
		n++;
	}
	printf("allocated %d chunks of 256 KiB in 8 MiB of RAM\n", n);
	int ok = n >= 8 && n < 32;
	while (n > 0)
		free(chunks[--n]);
	void *again = malloc(1 << 20);
	ok = ok && again != NULL;
	puts(ok ? "SUCCESS" : "FAILURE");
	return !ok;
}
