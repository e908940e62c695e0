/* SPDX-License-Identifier: MIT */
/*
 * Glob matching with Redis' semantics (stringmatchlen), but iterative: a
 * star remembers where it is, and a mismatch later retries from there with
 * the star taking one more byte. Only the last star needs remembering,
 * since every other token matches exactly one byte.
 */
#include "glob.h"

/*
 * Match one byte c against the token at pat[*pi] (not a star); advance *pi
 * past the token. Returns whether it matched.
 */
static bool match_token(const char *pat, size_t plen, size_t *pi, unsigned char c)
{
	size_t i = *pi;

	if (pat[i] == '?') {
		*pi = i + 1;
		return true;
	}
	if (pat[i] == '\\' && i + 1 < plen) {
		*pi = i + 2;
		return (unsigned char)pat[i + 1] == c;
	}
	if (pat[i] != '[') {
		*pi = i + 1;
		return (unsigned char)pat[i] == c;
	}
	/* A bracket set: walk it to its ']' (or the pattern's end) and remember any hit. */
	bool negate = false, hit = false;

	i++;
	if (i < plen && pat[i] == '^') {
		negate = true;
		i++;
	}
	for (; i < plen && pat[i] != ']'; i++) {
		if (pat[i] == '\\' && i + 1 < plen) {
			i++;
			hit |= (unsigned char)pat[i] == c;
		} else if (i + 2 < plen && pat[i + 1] == '-' && pat[i + 2] != ']') {
			unsigned char lo = (unsigned char)pat[i], hi = (unsigned char)pat[i + 2];

			if (lo > hi) {
				unsigned char t = lo;
				lo = hi;
				hi = t;
			}
			hit |= c >= lo && c <= hi;
			i += 2;
		} else {
			hit |= (unsigned char)pat[i] == c;
		}
	}
	*pi = i < plen ? i + 1 : i; /* past the ']' */
	return hit != negate;
}

bool glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0;
	size_t star_pi = (size_t)-1, star_si = 0; /* the last star: where to retry from */

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			while (pi < plen && pat[pi] == '*')
				pi++;
			if (pi == plen)
				return true; /* a trailing star takes the rest */
			star_pi = pi;
			star_si = si;
			continue;
		}
		if (pi < plen) {
			size_t next = pi;

			if (match_token(pat, plen, &next, (unsigned char)s[si])) {
				pi = next;
				si++;
				continue;
			}
		}
		if (star_pi == (size_t)-1)
			return false;
		pi = star_pi; /* the star takes one more byte */
		si = ++star_si;
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}
