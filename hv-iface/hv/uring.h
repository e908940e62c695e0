/* SPDX-License-Identifier: MIT */
/*
 * One io_uring for one file: a device thread queues reads and writes between
 * the file and guest memory, then submits and waits for the lot with one
 * system call. The ring is fenced when it is made, before the sandbox: it
 * may only read, write or sync descriptors hv has open, which the filter
 * allows anyway, so letting io_uring_enter through it opens nothing new (a
 * ring's work never passes the seccomp filter: no open, socket or connect).
 * The file is not registered with the ring: a registered file stays open,
 * and locked, until the kernel frees the ring, some time after hv has
 * exited; a disk must be free the moment hv is gone, even killed.
 */
#ifndef HV_URING_H
#define HV_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define URING_ENTRIES 32 /* operations in flight at most: a device's batch */

struct uring {
	int fd;
	int file_fd;
	unsigned queued; /* written since the last uring_run */
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_bytes, cq_bytes, sqe_bytes;
};

/*
 * Make a ring for file_fd that may only read (and write and sync, if
 * writable). 0, or -errno: the kernel has no io_uring, or it is turned off
 * (kernel.io_uring_disabled, a container's filter); the caller then does its
 * I/O with plain system calls.
 */
int uring_open(struct uring *u, int file_fd, bool writable);
void uring_close(struct uring *u);

/* Room for another operation before uring_run: URING_ENTRIES at most. */
bool uring_full(const struct uring *u);

/* Queue a vectored read or write of the file at off; the iovecs must live until uring_run. */
void uring_rw(struct uring *u, bool write, const struct iovec *iov, unsigned n, uint64_t off,
	      uint64_t tag);

/*
 * Submit what is queued and wait until all of it is done; done() gets each
 * operation's tag and result (bytes, or -errno), in completion order.
 * Returns 0, or -errno if the ring itself failed (what was queued is then
 * unknown: the caller redoes it without the ring).
 */
int uring_run(struct uring *u, void (*done)(void *arg, uint64_t tag, int32_t res), void *arg);

#endif /* HV_URING_H */
