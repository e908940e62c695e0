/* SPDX-License-Identifier: MIT */
/*
 * Guest test: main() gets the image path, then hv's ARGS, unsplit and writable.
 * args: one|two words|
 * expect-status: 0
 * expect-stdout: SUCCESS
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	int ok = argc == 4 && strstr(argv[0], "args.img") && strcmp(argv[1], "one") == 0 &&
		 strcmp(argv[2], "two words") == 0 && strcmp(argv[3], "") == 0 && argv[4] == NULL;

	if (ok) {
		argv[1][0] = 'O'; /* a C program may write to its arguments */
		ok = strcmp(argv[1], "One") == 0;
	}
	puts(ok ? "SUCCESS" : "FAILURE");
	return !ok;
}
