/* SPDX-License-Identifier: MIT */
/*
 * The BSD socket calls on lwIP's socket layer. lwIP numbers its sockets
 * from LWIP_SOCKET_OFFSET (3); each one it creates is installed under the
 * same number in libos's descriptor table, so read, write, close, select
 * and poll treat sockets, the console and files alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include "fd.h"
#include "lwip/inet.h"
#include "net.h"

_Static_assert(LWIP_SOCKET_OFFSET + MEMP_NUM_NETCONN <= FD_FILE_BASE,
	       "socket descriptors must stay below the files'");

/* lwIP sets errno itself; the table wants a negative errno back. */
static long neg(long r)
{
	return r < 0 ? -errno : r;
}

static long sock_read(void *obj, void *buf, size_t len)
{
	return neg(lwip_read((int)(intptr_t)obj, buf, len));
}

static long sock_write(void *obj, const void *buf, size_t len)
{
	return neg(lwip_write((int)(intptr_t)obj, buf, len));
}

static int sock_close(void *obj)
{
	return (int)neg(lwip_close((int)(intptr_t)obj));
}

static int sock_fstat(void *obj, struct stat *st)
{
	(void)obj;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFSOCK | 0777;
	return 0;
}

static const struct fd_ops socket_ops = {
	.kind = "socket", .read = sock_read, .write = sock_write, .fstat = sock_fstat,
	.close = sock_close,
};

/* A descriptor lwIP just made becomes a descriptor of the table. */
static int adopt(int s)
{
	int rc;

	if (s < 0)
		return -1;
	rc = fd_install(s, &socket_ops, (void *)(intptr_t)s);
	if (rc) { /* cannot happen while files stay above lwIP's range; say so if it does */
		lwip_close(s);
		errno = -rc;
		return -1;
	}
	return s;
}

/* The descriptor, if it is a socket; EBADF or ENOTSOCK otherwise. */
static int sock(int fd)
{
	const struct fd_entry *e = fd_get(fd);

	if (!e) {
		errno = EBADF;
		return -1;
	}
	if (e->ops != &socket_ops) {
		errno = ENOTSOCK;
		return -1;
	}
	return fd;
}

int socket(int domain, int type, int protocol)
{
	if (net_start() < 0) {
		errno = ENETDOWN;
		return -1;
	}
	return adopt(lwip_socket(domain, type, protocol));
}

int accept(int s, struct sockaddr *addr, socklen_t *addrlen)
{
	return sock(s) < 0 ? -1 : adopt(lwip_accept(s, addr, addrlen));
}

#define SOCKCALL(call) (sock(s) < 0 ? -1 : (call))

int bind(int s, const struct sockaddr *name, socklen_t namelen)
{
	return SOCKCALL(lwip_bind(s, name, namelen));
}

int listen(int s, int backlog)
{
	return SOCKCALL(lwip_listen(s, backlog));
}

int connect(int s, const struct sockaddr *name, socklen_t namelen)
{
	return SOCKCALL(lwip_connect(s, name, namelen));
}

ssize_t send(int s, const void *data, size_t size, int flags)
{
	return SOCKCALL(lwip_send(s, data, size, flags));
}

ssize_t recv(int s, void *mem, size_t len, int flags)
{
	return SOCKCALL(lwip_recv(s, mem, len, flags));
}

ssize_t sendto(int s, const void *data, size_t size, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	return SOCKCALL(lwip_sendto(s, data, size, flags, to, tolen));
}

ssize_t recvfrom(int s, void *mem, size_t len, int flags, struct sockaddr *from,
		 socklen_t *fromlen)
{
	return SOCKCALL(lwip_recvfrom(s, mem, len, flags, from, fromlen));
}

ssize_t sendmsg(int s, const struct msghdr *message, int flags)
{
	return SOCKCALL(lwip_sendmsg(s, message, flags));
}

ssize_t recvmsg(int s, struct msghdr *message, int flags)
{
	return SOCKCALL(lwip_recvmsg(s, message, flags));
}

int shutdown(int s, int how)
{
	return SOCKCALL(lwip_shutdown(s, how));
}

int setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen)
{
	return SOCKCALL(lwip_setsockopt(s, level, optname, optval, optlen));
}

int getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen)
{
	return SOCKCALL(lwip_getsockopt(s, level, optname, optval, optlen));
}

int getsockname(int s, struct sockaddr *name, socklen_t *namelen)
{
	return SOCKCALL(lwip_getsockname(s, name, namelen));
}

int getpeername(int s, struct sockaddr *name, socklen_t *namelen)
{
	return SOCKCALL(lwip_getpeername(s, name, namelen));
}

/* O_NONBLOCK on sockets (F_GETFL, F_SETFL); other descriptors have no flags to set. */
int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int arg;

	va_start(ap, cmd);
	arg = va_arg(ap, int);
	va_end(ap);
	if (!fd_get(fd)) {
		errno = EBADF;
		return -1;
	}
	if (sock(fd) >= 0)
		return lwip_fcntl(fd, cmd, arg);
	if (cmd == F_GETFL)
		return 0;
	errno = EINVAL;
	return -1;
}

int inet_pton(int af, const char *src, void *dst)
{
	return lwip_inet_pton(af, src, dst);
}

const char *inet_ntop(int af, const void *src, char *dst, socklen_t size)
{
	return lwip_inet_ntop(af, src, dst, size);
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	if (net_start() < 0)
		return EAI_FAIL;
	return lwip_getaddrinfo(node, service, hints, res);
}

void freeaddrinfo(struct addrinfo *ai)
{
	lwip_freeaddrinfo(ai);
}

struct hostent *gethostbyname(const char *name)
{
	if (net_start() < 0)
		return NULL;
	return lwip_gethostbyname(name);
}

const char *gai_strerror(int error)
{
	switch (error) {
	case EAI_NONAME: return "name does not resolve";
	case EAI_SERVICE: return "service not supported";
	case EAI_FAIL: return "non-recoverable failure in name resolution";
	case EAI_MEMORY: return "memory allocation failure";
	case EAI_FAMILY: return "address family not supported";
	default: return "unknown getaddrinfo error";
	}
}

/*
 * select() and poll() hand sockets to lwIP. Other descriptors are always
 * ready (the console writes at once and reads end-of-file; files do not
 * block), so asking about them makes the call return without waiting.
 */
int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout)
{
	fd_set r_other, w_other;
	int other = 0;
	struct timeval zero = { 0, 0 };

	if (nfds < 0 || nfds > FD_MAX) {
		errno = EINVAL;
		return -1;
	}
	FD_ZERO(&r_other);
	FD_ZERO(&w_other);
	for (int fd = 0; fd < nfds; fd++) {
		int in_r = rd && FD_ISSET(fd, rd), in_w = wr && FD_ISSET(fd, wr);

		if (!in_r && !in_w && !(ex && FD_ISSET(fd, ex)))
			continue;
		if (!fd_get(fd)) {
			errno = EBADF;
			return -1;
		}
		if (sock(fd) >= 0)
			continue;
		if (in_r) {
			FD_CLR(fd, rd);
			FD_SET(fd, &r_other);
			other++;
		}
		if (in_w) {
			FD_CLR(fd, wr);
			FD_SET(fd, &w_other);
			other++;
		}
		if (ex)
			FD_CLR(fd, ex);
	}
	int n = lwip_select(nfds, rd, wr, ex, other ? &zero : timeout);
	if (n < 0)
		return n;
	for (int fd = 0; fd < nfds && other; fd++) {
		if (FD_ISSET(fd, &r_other))
			FD_SET(fd, rd), n++;
		if (FD_ISSET(fd, &w_other))
			FD_SET(fd, wr), n++;
	}
	return n;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	short ready[nfds ? nfds : 1];
	int real_fd[nfds ? nfds : 1], other = 0, n;

	/* Answer the non-sockets here and hide them from lwIP (it skips negative descriptors). */
	for (nfds_t i = 0; i < nfds; i++) {
		ready[i] = 0;
		real_fd[i] = fds[i].fd;
		if (fds[i].fd < 0)
			continue;
		if (!fd_get(fds[i].fd))
			ready[i] = POLLNVAL;
		else if (sock(fds[i].fd) < 0)
			ready[i] = (short)(fds[i].events & (POLLIN | POLLOUT));
		if (ready[i]) {
			other++;
			fds[i].fd = -1;
		}
	}
	n = lwip_poll(fds, nfds, other ? 0 : timeout);
	for (nfds_t i = 0; i < nfds; i++)
		if (ready[i]) {
			fds[i].fd = real_fd[i];
			fds[i].revents = ready[i];
		}
	return n < 0 ? n : n + other;
}
