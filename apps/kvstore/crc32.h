/* SPDX-License-Identifier: MIT */
/* CRC-32 (IEEE 802.3, the one of zlib and Ethernet) for the log's records. Host-buildable. */
#ifndef KVSTORE_CRC32_H
#define KVSTORE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32 of the bytes so far followed by p[0, n). Start with crc 0:
 * crc32_update(0, "123456789", 9) == 0xcbf43926. Chaining calls gives the
 * CRC of the concatenation.
 */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif /* KVSTORE_CRC32_H */
