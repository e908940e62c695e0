/* SPDX-License-Identifier: MIT */
/* Unit test of hv's command-line sizes: parse_size's grammar and limits, format_size's output. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "hv.h"

static void parses(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;

	if (CHECK_EQ(parse_size(s, &v), 0))
		CHECK_EQ(v, want);
	else
		fprintf(stderr, "    input \"%s\"\n", s);
}

static void rejects(const char *s, int want)
{
	uint64_t v = 0;

	if (!CHECK_EQ(parse_size(s, &v), want))
		fprintf(stderr, "    input \"%s\"\n", s);
}

static void test_parse_accepts(void)
{
	parses("0", 0);
	parses("0K", 0);
	parses("4096", 4096);
	parses("512K", 512ull << 10);
	parses("512k", 512ull << 10);
	parses("32M", 32ull << 20);
	parses("32m", 32ull << 20);
	parses("1G", 1ull << 30);
	parses("3g", 3ull << 30);
	parses("007M", 7ull << 20);
	/* The largest values of each form: no overflow check may be off by one. */
	parses("18446744073709551615", UINT64_MAX);
	parses("18446744073709551610", UINT64_MAX - 5);
	parses("17179869183G", (UINT64_MAX >> 30) << 30);
	parses("17592186044415M", (UINT64_MAX >> 20) << 20);
}

static void test_parse_rejects(void)
{
	/* Syntax: a size is digits and at most one binary-unit letter, nothing else. */
	rejects("", -EINVAL);
	rejects("M", -EINVAL);
	rejects("12X", -EINVAL);
	rejects("1.5G", -EINVAL);
	rejects("-1", -EINVAL);
	rejects("+1", -EINVAL);
	rejects("1MB", -EINVAL);
	rejects("1MM", -EINVAL);
	rejects(" 1M", -EINVAL);
	rejects("1M ", -EINVAL);
	rejects("1 M", -EINVAL);
	rejects("1T", -EINVAL);
	rejects("0x10", -EINVAL);
	/* Too large for 64 bits, in the digits or after the unit. */
	rejects("18446744073709551616", -ERANGE);
	rejects("18446744073709551620", -ERANGE);
	rejects("99999999999999999999999", -ERANGE);
	rejects("17179869184G", -ERANGE);
	rejects("17592186044416M", -ERANGE);
	rejects("18014398509481984K", -ERANGE);
}

static void formats(uint64_t bytes, const char *want)
{
	char buf[32];
	uint64_t back = 0;

	format_size(bytes, buf, sizeof(buf));
	CHECK_STR_EQ(buf, want);
	/* What hv prints, a user can type back. */
	if (CHECK_EQ(parse_size(buf, &back), 0))
		CHECK_EQ(back, bytes);
}

static void test_format(void)
{
	char small[4];

	formats(4096, "4K");
	formats(32ull << 20, "32M");
	formats(1ull << 30, "1G");
	formats(3ull << 30, "3G");
	formats(1536ull << 10, "1536K");
	formats(4097, "4097");
	formats(0, "0");
	formats(1023, "1023");
	formats(UINT64_MAX, "18446744073709551615");

	/* A short buffer truncates, always terminated. */
	format_size(123456789, small, sizeof(small));
	CHECK_STR_EQ(small, "123");
}

int main(void)
{
	test_parse_accepts();
	test_parse_rejects();
	test_format();
	return check_finish("test_options");
}
