/* SPDX-License-Identifier: MIT */
/*
 * hello: the smallest appliance; greets, shows its arguments, computes, reports the time,
 * exits. Its numbers are printed with integer conversions, so the image carries no
 * floating-point printf (about 13 KB; see PRINTF_FLOAT in the Makefile).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void show(double x, int decimals);
static void show_exp(double x);
static double leibniz_pi(long terms);

int main(int argc, char **argv)
{
	struct timespec now;

	printf("Hello from the hello appliance!\n");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = \"%s\"\n", i, argv[i]);
	double pi = leibniz_pi(100000L + argc);
	printf("pi is about ");
	show(pi, 6);
	printf(" (error ");
	show_exp(fabs(pi - M_PI));
	printf("), sqrt(2) is ");
	show(sqrt(2.0), 6);
	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("\nmonotonic time since boot: ");
	show((double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6, 3);
	printf(" ms\n");
	return 0;
}

/* pi from the Leibniz series; the term count comes from argc so nothing folds at build time. */
static double leibniz_pi(long terms)
{
	double sum = 0.0;

	for (long k = 0; k < terms; k++)
		sum += (k % 2 ? -4.0 : 4.0) / (2.0 * (double)k + 1.0);
	return sum;
}

/* x as printf's %.Nf would show it, for |x| below 2^63 / 10^decimals and decimals up to 9. */
static void show(double x, int decimals)
{
	long long scale = 1;

	for (int i = 0; i < decimals; i++)
		scale *= 10;
	long long n = (long long)(fabs(x) * (double)scale + 0.5);
	printf("%s%lld.%0*lld", x < 0 ? "-" : "", n / scale, decimals, n % scale);
}

/* x, not negative, as %.2e would show it: three digits and a power of ten. */
static void show_exp(double x)
{
	int e = 0;

	if (x > 0) {
		while (x >= 10.0) {
			x /= 10.0;
			e++;
		}
		while (x < 1.0) {
			x *= 10.0;
			e--;
		}
	}
	long digits = (long)(x * 100.0 + 0.5);
	if (digits == 1000) { /* 9.995 rounds up to the next power */
		digits = 100;
		e++;
	}
	printf("%ld.%02lde%c%02d", digits / 100, digits % 100, e < 0 ? '-' : '+', abs(e));
}
