/* SPDX-License-Identifier: MIT */
/* The descriptor table and the console's descriptors. */
#include <errno.h>
#include <string.h>

#include "fd.h"
#include "libos.h"

static struct fd_entry table[FD_MAX];

int fd_install(int fd, const struct fd_ops *ops, void *obj)
{
	if (fd < 0 || fd >= FD_MAX)
		return -EBADF;
	if (table[fd].ops)
		return -EBUSY;
	table[fd] = (struct fd_entry){ ops, obj };
	return 0;
}

int fd_alloc(int lowest, const struct fd_ops *ops, void *obj)
{
	for (int fd = lowest < 0 ? 0 : lowest; fd < FD_MAX; fd++)
		if (!table[fd].ops) {
			table[fd] = (struct fd_entry){ ops, obj };
			return fd;
		}
	return -EMFILE;
}

const struct fd_entry *fd_get(int fd)
{
	if (fd < 0 || fd >= FD_MAX || !table[fd].ops)
		return NULL;
	return &table[fd];
}

void fd_release(int fd)
{
	if (fd >= 0 && fd < FD_MAX)
		table[fd] = (struct fd_entry){ 0 };
}

/* stdin has no input (end of file at once); stdout and stderr go to the console unbuffered. */
static long console_read(void *obj, void *buf, size_t len)
{
	(void)obj;
	(void)buf;
	(void)len;
	return 0;
}

static long console_out(void *obj, const void *buf, size_t len)
{
	(void)obj;
	console_write(buf, len);
	return (long)len;
}

static int console_fstat(void *obj, struct stat *st)
{
	(void)obj;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0620;
	return 0;
}

static const struct fd_ops console_in_ops = {
	.kind = "console", .read = console_read, .fstat = console_fstat, .isatty = 1,
};
static const struct fd_ops console_out_ops = {
	.kind = "console", .write = console_out, .fstat = console_fstat, .isatty = 1,
};

void fd_init(void)
{
	fd_install(0, &console_in_ops, NULL);
	fd_install(1, &console_out_ops, NULL);
	fd_install(2, &console_out_ops, NULL);
}
