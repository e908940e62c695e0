/* SPDX-License-Identifier: MIT */
/* TCP socket options (TCP_NODELAY, TCP_KEEPIDLE ...), from lwIP. */
#ifndef LIBOS_NETINET_TCP_H
#define LIBOS_NETINET_TCP_H

#include <sys/socket.h>

#endif /* LIBOS_NETINET_TCP_H */
