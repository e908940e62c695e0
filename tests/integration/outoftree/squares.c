/* SPDX-License-Identifier: MIT */
/* One half of a two-file program for tests/integration/outoftree.sh (main is in sum_main.c). */
#include "squares.h"

long sum_of_squares(int n)
{
	long sum = 0;

	for (int k = 1; k <= n; k++)
		sum += (long)k * k;
	return sum;
}
