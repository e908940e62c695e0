/* SPDX-License-Identifier: MIT */
/*
 * memcpy and memset for the guest, in place of newlib's x86_64 ones. Those
 * stream anything of 256 bytes or more past the cache with non-temporal
 * stores (movnti), so every packet, disk block or buffer they touch is
 * written to memory and read back from it; that suits copies larger than
 * the cache, not a libOS's. Here: 16-byte SSE2 moves up to a few KiB, where
 * they beat the string instructions, and `rep movsb` / `rep stosb` above
 * (fast strings: every x86-64 CPU the kit runs on has ERMS), always through
 * the cache.
 */
#include <emmintrin.h>
#include <stddef.h>
#include <stdint.h>

/* Above this, the string instructions win (measured on the bench machines: bench/work.c). */
#define STRING_OP_MIN 4096

/* The compiler must not turn these loops back into calls to the functions they implement. */
#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALLS void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (n >= STRING_OP_MIN) {
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
		return dst;
	}
	if (n >= 16) {
		/* Whole 16-byte blocks, then the last 16 bytes again (they may overlap the blocks). */
		const uint8_t *end = s + n - 16;
		uint8_t *dend = d + n - 16;

		for (; s < end; s += 16, d += 16)
			_mm_storeu_si128((__m128i *)d, _mm_loadu_si128((const __m128i *)s));
		_mm_storeu_si128((__m128i *)dend, _mm_loadu_si128((const __m128i *)end));
		return dst;
	}
	if (n >= 8) {
		uint64_t a, b;

		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + n - 8, 8);
		__builtin_memcpy(d, &a, 8);
		__builtin_memcpy(d + n - 8, &b, 8);
		return dst;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

NO_LIBCALLS void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	if (n >= STRING_OP_MIN) {
		__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
		return dst;
	}
	if (n >= 16) {
		__m128i v = _mm_set1_epi8((char)c);
		uint8_t *end = d + n - 16;

		for (; d < end; d += 16)
			_mm_storeu_si128((__m128i *)d, v);
		_mm_storeu_si128((__m128i *)end, v);
		return dst;
	}
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}
