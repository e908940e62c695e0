/* SPDX-License-Identifier: MIT */
/* lwIP's compiler and platform glue for libos (x86-64, newlib). */
#ifndef LIBOS_LWIP_ARCH_CC_H
#define LIBOS_LWIP_ARCH_CC_H

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* newlib defines no SSIZE_MAX; without it lwIP declares its own ssize_t as int. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#define LWIP_NO_INTTYPES_H 0

void libos_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void libos_lwip_assert(const char *msg, const char *file, int line);

#define LWIP_PLATFORM_DIAG(x) libos_lwip_diag x
#define LWIP_PLATFORM_ASSERT(x) libos_lwip_assert(x, __FILE__, __LINE__)

/* lwIP's random numbers: ISNs, DHCP transaction ids, local ports. */
uint32_t libos_lwip_rand(void);
#define LWIP_RAND() libos_lwip_rand()

#endif /* LIBOS_LWIP_ARCH_CC_H */
