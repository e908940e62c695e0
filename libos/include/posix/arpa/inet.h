/* SPDX-License-Identifier: MIT */
/* Address conversions; inet_addr and inet_ntoa come from lwIP's inet.h as macros. */
#ifndef LIBOS_ARPA_INET_H
#define LIBOS_ARPA_INET_H

#include <sys/socket.h>

int inet_pton(int af, const char *src, void *dst);
const char *inet_ntop(int af, const void *src, char *dst, socklen_t size);

#endif /* LIBOS_ARPA_INET_H */
