/* SPDX-License-Identifier: MIT */
/* Internet addresses (struct sockaddr_in, INADDR_ANY, IPPROTO_*, htons ...), from lwIP. */
#ifndef LIBOS_NETINET_IN_H
#define LIBOS_NETINET_IN_H

#include <sys/socket.h>

#endif /* LIBOS_NETINET_IN_H */
