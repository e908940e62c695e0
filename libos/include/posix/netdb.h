/* SPDX-License-Identifier: MIT */
/* Name and service lookup: literal addresses always, names through DNS when a server is set. */
#ifndef LIBOS_NETDB_H
#define LIBOS_NETDB_H

#include <sys/socket.h>

#include "lwip/netdb.h"

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res);
void freeaddrinfo(struct addrinfo *ai);
struct hostent *gethostbyname(const char *name);
const char *gai_strerror(int error);

#endif /* LIBOS_NETDB_H */
