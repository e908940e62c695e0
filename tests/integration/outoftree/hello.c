/* SPDX-License-Identifier: MIT */
/* A one-file program for tests/integration/outoftree.sh: prints its arguments, exits argc - 1. */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("hello from outside the tree, %d arguments\n", argc - 1);
	for (int i = 1; i < argc; i++)
		printf("argument %d: \"%s\"\n", i, argv[i]);
	return argc - 1;
}
