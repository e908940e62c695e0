/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share: reading numbers off the input as it is
 * consumed, and a check that turns a broken invariant into a crash libFuzzer
 * keeps. Each target is one file, tests/fuzz/fuzz_NAME.c, linked with the
 * real sources it drives (mk/fuzz.mk).
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: when it breaks, say which and crash. */
#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* The input, consumed from the front. Past its end every number reads as 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_take(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)fuzz_take(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_take(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_take(in, 8);
}

/* The next n bytes (fewer at the end): where they are, and how many there were in *got. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	*got = n < in->left ? n : in->left;
	in->p += *got;
	in->left -= *got;
	return p;
}

/* A malloc'ed copy of exactly n bytes, so ASan sees any read past them. */
static inline void *fuzz_dup(const void *p, size_t n)
{
	void *copy = malloc(n ? n : 1);

	if (!copy)
		abort();
	if (n)
		memcpy(copy, p, n);
	return copy;
}

/* The driver (or guest) writes: an offset and up to 255 bytes into window, clipped to size. */
static inline void fuzz_poke(struct fuzz_in *in, uint8_t *window, size_t size)
{
	uint16_t off = fuzz_u16(in);
	size_t n;
	const uint8_t *bytes = fuzz_bytes(in, fuzz_u8(in), &n);

	if (off >= size)
		return;
	if (n > size - off)
		n = size - off;
	memcpy(window + off, bytes, n);
}

#endif /* TESTS_FUZZ_FUZZ_H */
