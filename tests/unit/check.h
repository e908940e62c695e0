/* SPDX-License-Identifier: MIT */
/* Assertions for the unit tests: each check counts, a failure says where and why. */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * Each test is one translation unit, so the counters can live here. Failures
 * past CHECK_PRINT_MAX are still counted but not printed: a broken invariant
 * inside a fuzz loop would otherwise bury the first, most useful message.
 */
#define CHECK_PRINT_MAX 40

static unsigned check_total, check_failed;

/* Count one check. True when it failed and is to be printed: the file:line prefix is out. */
static inline bool check_fail_head(bool ok, const char *file, int line)
{
	check_total++;
	if (ok)
		return false;
	check_failed++;
	if (check_failed > CHECK_PRINT_MAX)
		return false;
	fprintf(stderr, "%s:%d: check failed: ", file, line);
	return true;
}

/* Each check_* returns whether it passed, so a caller can stop before using a bad value. */
static inline bool check_true(bool ok, const char *expr, const char *file, int line)
{
	if (check_fail_head(ok, file, line))
		fprintf(stderr, "%s\n", expr);
	return ok;
}

/* An integer as hex and decimal, and as a negative number when it looks like one (-errno). */
static inline void check_print_int(const char *expr, uint64_t v)
{
	fprintf(stderr, "    %s = 0x%" PRIx64 " = %" PRIu64, expr, v, v);
	if ((int64_t)v < 0)
		fprintf(stderr, " = %" PRId64, (int64_t)v);
	fputc('\n', stderr);
}

static inline bool check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb,
			    const char *file, int line)
{
	if (check_fail_head(a == b, file, line)) {
		fprintf(stderr, "%s == %s\n", ea, eb);
		check_print_int(ea, a);
		check_print_int(eb, b);
	}
	return a == b;
}

static inline bool check_str(bool ok, const char *what, const char *s, const char *t,
			     const char *es, const char *et, const char *file, int line)
{
	if (check_fail_head(ok, file, line))
		fprintf(stderr, "%s %s %s\n    \"%s\"\n    \"%s\"\n", es, what, et, s ? s : "(null)",
			t ? t : "(null)");
	return ok;
}

/* Integers of any width and signedness, compared as 64-bit two's complement. */
#define CHECK(cond) check_true((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) check_eq((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR_EQ(s, t)                                                                   \
	({                                                                                   \
		const char *s_ = (s), *t_ = (t);                                             \
		check_str(s_ && t_ && strcmp(s_, t_) == 0, "equals", s_, t_, #s, #t, __FILE__, \
			  __LINE__);                                                         \
	})
#define CHECK_STR_CONTAINS(haystack, needle)                                                 \
	({                                                                                   \
		const char *h_ = (haystack), *n_ = (needle);                                 \
		check_str(h_ && n_ && strstr(h_, n_) != NULL, "contains", h_, n_, #haystack,   \
			  #needle, __FILE__, __LINE__);                                      \
	})

/*
 * Print the result line and return main's exit code. A test that checked
 * nothing fails: it proved nothing.
 */
static inline int check_finish(const char *name)
{
	if (check_failed > CHECK_PRINT_MAX)
		fprintf(stderr, "(%u more failures not printed)\n", check_failed - CHECK_PRINT_MAX);
	if (check_failed == 0 && check_total > 0) {
		printf("ok - %s (%u checks)\n", name, check_total);
		return 0;
	}
	printf("FAIL - %s (%u of %u checks failed)\n", name, check_failed, check_total);
	return 1;
}

/*
 * xorshift64*, for fuzz and model loops: a test sets rng_state to its own seed (a
 * definition with an initializer after this tentative one), so every run is the same.
 */
static uint64_t rng_state __attribute__((unused));

static inline uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Below n (0 for n == 0). */
static inline uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

#endif /* TESTS_UNIT_CHECK_H */
