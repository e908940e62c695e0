/* SPDX-License-Identifier: MIT */
/* poll() over the descriptor table (struct pollfd and POLL* from lwIP). */
#ifndef LIBOS_POLL_H
#define LIBOS_POLL_H

#include <sys/socket.h>

int poll(struct pollfd *fds, nfds_t nfds, int timeout);

#endif /* LIBOS_POLL_H */
