/* SPDX-License-Identifier: MIT */
/* One thread per client connection: read, parse, run, wait for the log, reply. */
#ifndef KVSTORE_CLIENT_H
#define KVSTORE_CLIENT_H

#include "command.h"

/*
 * Serve the connected socket fd in a thread of its own, which closes it at
 * the end. idle_s > 0: close a connection silent that long. 0 or -errno
 * (fd is closed then too).
 */
int client_start(struct kv_server *srv, int fd, int idle_s);

#endif /* KVSTORE_CLIENT_H */
