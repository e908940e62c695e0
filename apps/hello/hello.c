/* SPDX-License-Identifier: MIT */
/* hello: the smallest appliance; greets, shows its arguments, computes, reports the time, exits. */
#include <math.h>
#include <stdio.h>
#include <time.h>

/* pi from the Leibniz series; the term count comes from argc so nothing folds at build time. */
static double leibniz_pi(long terms)
{
	double sum = 0.0;

	for (long k = 0; k < terms; k++)
		sum += (k % 2 ? -4.0 : 4.0) / (2.0 * (double)k + 1.0);
	return sum;
}

int main(int argc, char **argv)
{
	struct timespec now;

	printf("Hello from the hello appliance!\n");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = \"%s\"\n", i, argv[i]);
	double pi = leibniz_pi(100000L + argc);
	printf("pi is about %.6f (error %.2e), sqrt(2) is %f\n", pi, fabs(pi - M_PI), sqrt(2.0));
	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("monotonic time since boot: %.3f ms\n",
	       (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6);
	return 0;
}
