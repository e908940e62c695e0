/* SPDX-License-Identifier: MIT */
/*
 * Guest test: ordinary C runs on libos: printf and scanf with %f and C99's
 * length modifiers, malloc, qsort, setjmp, time, string conversions.
 * expect-status: 0
 * expect-stdout: SUCCESS
 */
#include <math.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failed;

#define EXPECT(cond)                                                      \
	do {                                                              \
		if (!(cond)) {                                            \
			printf("FAIL: %s (line %d)\n", #cond, __LINE__);  \
			failed = 1;                                       \
		}                                                         \
	} while (0)

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static jmp_buf env;

static void jump_back(int v)
{
	longjmp(env, v);
}

int main(int argc, char **argv)
{
	char buf[128];
	(void)argv;

	/* Floating point through printf, computed at run time. */
	double third = 1.0 / (double)(argc + 2);
	snprintf(buf, sizeof(buf), "%f %.3e %g", third, third * 1e10, sqrt(16.0 * argc));
	EXPECT(strcmp(buf, "0.333333 3.333e+09 4") == 0);
	snprintf(buf, sizeof(buf), "%lld %llx %zu", -1234567890123ll, 0xdeadbeefcafell, sizeof(long));
	EXPECT(strcmp(buf, "-1234567890123 deadbeefcafe 8") == 0);
	/* C99's length modifiers, which newlib's small printf takes with the kit's patch. */
	signed char hh_count = 0;
	snprintf(buf, sizeof(buf), "%hhd %hhx %5zd|%-4jd|%td %#llo %.3lld%hhn", (signed char)-3, 0x1ff,
		 (ssize_t)-7, (intmax_t)9, (ptrdiff_t)-11, 8ull, 5ll, &hh_count);
	EXPECT(strcmp(buf, "-3 ff    -7|9   |-11 010 005") == 0);
	EXPECT(hh_count == 28);
	unsigned long long ull = 0;
	unsigned char uc = 0;
	size_t sz = 0;
	intmax_t im = 0;
	double d = 0;
	EXPECT(sscanf("18446744073709551615 300 42 -5 2.5", "%llu %hhu %zu %jd %lf", &ull, &uc, &sz,
		      &im, &d) == 5);
	EXPECT(ull == 18446744073709551615ull && uc == 44 && sz == 42 && im == -5 && d == 2.5);
	EXPECT(fabs(strtod("2.5e-3", NULL) - 0.0025) < 1e-12);
	EXPECT(strtol("-42", NULL, 10) == -42);

	/* malloc: many sizes, contents kept, freed and reused. */
	char *blocks[64];
	for (int i = 0; i < 64; i++) {
		blocks[i] = malloc((size_t)(i * 997 + 1));
		EXPECT(blocks[i] != NULL);
		memset(blocks[i], i, (size_t)(i * 997 + 1));
	}
	for (int i = 0; i < 64; i++) {
		EXPECT(blocks[i][i * 997] == (char)i);
		free(blocks[i]);
	}
	void *big = malloc(4 << 20);
	EXPECT(big != NULL);
	free(big);

	/* qsort */
	int v[1000];
	unsigned seed = 12345;
	for (int i = 0; i < 1000; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (int)(seed >> 8);
	}
	qsort(v, 1000, sizeof(int), cmp_int);
	for (int i = 1; i < 1000; i++)
		EXPECT(v[i - 1] <= v[i]);

	/* setjmp/longjmp */
	volatile int passes = 0;
	int r = setjmp(env);
	passes++;
	if (r == 0)
		jump_back(5);
	EXPECT(r == 5);
	EXPECT(passes == 2);

	/* time(): the wall clock says we are past 2023. */
	EXPECT(time(NULL) > 1700000000);

	puts(failed ? "FAILURE" : "SUCCESS");
	return failed;
}
