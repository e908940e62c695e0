/* SPDX-License-Identifier: MIT */
/*
 * The descriptor table: one numbering for the console, sockets and files.
 * Each entry is a set of operations and the object they act on; the system
 * calls in syscalls.c only look descriptors up here.
 */
#ifndef LIBOS_FD_H
#define LIBOS_FD_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Descriptors are [0, FD_MAX); the build's FD_SETSIZE, so select() covers them all. */
#define FD_MAX FD_SETSIZE
/* Sockets are numbered by lwIP from 3; files take descriptors from here up. */
#define FD_FILE_BASE 520

/* Each returns a count or 0 on success, or a negative errno; NULL means "not supported". */
struct fd_ops {
	const char *kind; /* "console", "socket", "file" */
	long (*read)(void *obj, void *buf, size_t len);
	long (*write)(void *obj, const void *buf, size_t len);
	long (*lseek)(void *obj, long off, int whence);
	int (*fstat)(void *obj, struct stat *st);
	int (*close)(void *obj);
	int isatty;
};

struct fd_entry {
	const struct fd_ops *ops;
	void *obj;
};

/* Put obj at descriptor fd (a number another layer chose). 0, -EBADF or -EBUSY. */
int fd_install(int fd, const struct fd_ops *ops, void *obj);
/* Put obj at the lowest free descriptor >= lowest. The descriptor, or -EMFILE. */
int fd_alloc(int lowest, const struct fd_ops *ops, void *obj);
/* The entry of an open descriptor, or NULL. */
const struct fd_entry *fd_get(int fd);
/* Forget a descriptor (its close operation already ran). */
void fd_release(int fd);


#endif /* LIBOS_FD_H */
