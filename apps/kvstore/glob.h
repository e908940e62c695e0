/* SPDX-License-Identifier: MIT */
/* Redis' glob-style patterns for KEYS, SCAN MATCH and CONFIG GET. Host-buildable. */
#ifndef KVSTORE_GLOB_H
#define KVSTORE_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether s[0, slen) matches pat[0, plen), byte by byte (binary-safe):
 *   *      any run of bytes, also none
 *   ?      any one byte
 *   [abc]  one of a, b, c;  [^abc] one that is none of them;  [a-z] a range
 *          (reversed ranges count too); \x inside brackets is x
 *   \x     x itself (a trailing \ is itself)
 * An unclosed [ takes the rest of the pattern as its set, as in Redis.
 * Time is O(plen * slen): a pattern of many stars cannot blow it up.
 */
bool glob_match(const char *pat, size_t plen, const char *s, size_t slen);

#endif /* KVSTORE_GLOB_H */
