/* SPDX-License-Identifier: MIT */
/*
 * BSD sockets for appliances. newlib has no socket headers, so the kit
 * provides them on lwIP's definitions (types, constants, structures); the
 * functions are libos's (libos/net/socket.c), on the shared descriptor table.
 */
#ifndef LIBOS_SYS_SOCKET_H
#define LIBOS_SYS_SOCKET_H

#include <sys/types.h>

#include "lwip/sockets.h"

int socket(int domain, int type, int protocol);
int bind(int s, const struct sockaddr *name, socklen_t namelen);
int listen(int s, int backlog);
int accept(int s, struct sockaddr *addr, socklen_t *addrlen);
int connect(int s, const struct sockaddr *name, socklen_t namelen);
ssize_t send(int s, const void *data, size_t size, int flags);
ssize_t recv(int s, void *mem, size_t len, int flags);
ssize_t sendto(int s, const void *data, size_t size, int flags, const struct sockaddr *to,
	       socklen_t tolen);
ssize_t recvfrom(int s, void *mem, size_t len, int flags, struct sockaddr *from,
		 socklen_t *fromlen);
ssize_t sendmsg(int s, const struct msghdr *message, int flags);
ssize_t recvmsg(int s, struct msghdr *message, int flags);
int shutdown(int s, int how);
int setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen);
int getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen);
int getsockname(int s, struct sockaddr *name, socklen_t *namelen);
int getpeername(int s, struct sockaddr *name, socklen_t *namelen);

#endif /* LIBOS_SYS_SOCKET_H */
