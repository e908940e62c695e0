/* SPDX-License-Identifier: MIT */
/*
 * The other half of the two-file program: sums the squares up to its argument
 * (default 10) with squares.c, prints the sum and SQUARES_LABEL (a -D of the
 * test's), and exits with the sum modulo 256.
 */
#include <stdio.h>
#include <stdlib.h>

#include "squares.h"

#ifndef SQUARES_LABEL
#define SQUARES_LABEL "no label"
#endif

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	long sum = sum_of_squares(n);

	printf("sum of squares to %d: %ld (%s)\n", n, sum, SQUARES_LABEL);
	return (int)(sum % 256);
}
