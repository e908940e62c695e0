/* SPDX-License-Identifier: MIT */
/* A fenced io_uring for one file (uring.h): setup, restrictions, queue, run. */
#include <errno.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uring.h"

static int enter(int fd, unsigned submit, unsigned wait)
{
	long rc = syscall(SYS_io_uring_enter, fd, submit, wait, wait ? IORING_ENTER_GETEVENTS : 0,
			  NULL, 0);

	return rc < 0 ? -errno : (int)rc;
}

static int reg(int fd, unsigned op, const void *arg, unsigned n)
{
	return syscall(SYS_io_uring_register, fd, op, arg, n) < 0 ? -errno : 0;
}

/*
 * What the ring may do, fixed before it is enabled: reads (and writes and
 * syncs), with no flag on any operation, and no register operation after
 * this one.
 */
static int fence(int ring, bool writable)
{
	struct io_uring_restriction r[4];
	unsigned n = 0;

	memset(r, 0, sizeof(r));
	r[n].opcode = IORING_RESTRICTION_SQE_OP;
	r[n++].sqe_op = IORING_OP_READV;
	if (writable) {
		r[n].opcode = IORING_RESTRICTION_SQE_OP;
		r[n++].sqe_op = IORING_OP_WRITEV;
		r[n].opcode = IORING_RESTRICTION_SQE_OP;
		r[n++].sqe_op = IORING_OP_FSYNC;
	}
	r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	r[n++].sqe_flags = 0;
	return reg(ring, IORING_REGISTER_RESTRICTIONS, r, n);
}

int uring_open(struct uring *u, int file_fd, bool writable)
{
	struct io_uring_params p;
	int rc;

	memset(u, 0, sizeof(*u));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED; /* nothing runs until the fence is up */
	u->fd = (int)syscall(SYS_io_uring_setup, URING_ENTRIES, &p);
	if (u->fd < 0)
		return -errno;
	u->sq_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	u->cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	u->sqe_bytes = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sq_map = mmap(NULL, u->sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 u->fd, IORING_OFF_SQ_RING);
	u->cq_map = mmap(NULL, u->cq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, u->sqe_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		       IORING_OFF_SQES);
	if (u->sq_map == MAP_FAILED || u->cq_map == MAP_FAILED || u->sqes == MAP_FAILED) {
		rc = -errno;
		goto err_close;
	}
	u->sq_tail = (unsigned *)((char *)u->sq_map + p.sq_off.tail);
	u->sq_mask = (unsigned *)((char *)u->sq_map + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)((char *)u->sq_map + p.sq_off.array);
	u->cq_head = (unsigned *)((char *)u->cq_map + p.cq_off.head);
	u->cq_tail = (unsigned *)((char *)u->cq_map + p.cq_off.tail);
	u->cq_mask = (unsigned *)((char *)u->cq_map + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)((char *)u->cq_map + p.cq_off.cqes);
	u->file_fd = file_fd;
	rc = fence(u->fd, writable);
	if (!rc)
		rc = reg(u->fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (rc)
		goto err_close;
	return 0;

err_close:
	uring_close(u);
	return rc;
}

void uring_close(struct uring *u)
{
	if (u->sqes && u->sqes != MAP_FAILED)
		munmap(u->sqes, u->sqe_bytes);
	if (u->cq_map && u->cq_map != MAP_FAILED)
		munmap(u->cq_map, u->cq_bytes);
	if (u->sq_map && u->sq_map != MAP_FAILED)
		munmap(u->sq_map, u->sq_bytes);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

bool uring_full(const struct uring *u)
{
	return u->queued == URING_ENTRIES;
}

void uring_rw(struct uring *u, bool write, const struct iovec *iov, unsigned n, uint64_t off,
	      uint64_t tag)
{
	unsigned tail = *u->sq_tail, i = tail & *u->sq_mask;
	struct io_uring_sqe *e = &u->sqes[i];

	memset(e, 0, sizeof(*e));
	e->opcode = write ? IORING_OP_WRITEV : IORING_OP_READV;
	e->fd = u->file_fd;
	e->addr = (uint64_t)(uintptr_t)iov;
	e->len = n;
	e->off = off;
	e->user_data = tag;
	u->sq_array[i] = i;
	/* Release: the entry is whole before the tail that hands it to the kernel. */
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	u->queued++;
}

int uring_run(struct uring *u, void (*done)(void *arg, uint64_t tag, int32_t res), void *arg)
{
	unsigned to_submit = u->queued, left = u->queued;

	u->queued = 0;
	while (left > 0) {
		unsigned head = *u->cq_head;
		int rc = enter(u->fd, to_submit, 1);

		if (rc == -EINTR)
			continue;
		if (rc < 0)
			return rc;
		to_submit -= (unsigned)rc < to_submit ? (unsigned)rc : to_submit;
		/* Acquire: the entries are read only after the tail that publishes them. */
		while (head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE) && left > 0) {
			const struct io_uring_cqe *c = &u->cqes[head & *u->cq_mask];

			done(arg, c->user_data, c->res);
			head++;
			left--;
		}
		/* Release: done with the entries before the kernel may reuse them. */
		__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	}
	return 0;
}
