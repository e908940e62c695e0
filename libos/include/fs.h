/* SPDX-License-Identifier: MIT */
/*
 * Read-only file systems for appliances: a POSIX ustar archive (what
 * `tar --format=ustar` writes), either linked into the image or on a block
 * device, mounted at a path. open(), read(), lseek(), fstat(), stat() and
 * close() then work on its files like on any others.
 */
#ifndef LIBOS_FS_H
#define LIBOS_FS_H

#include <stddef.h>

struct blkdev;

/* Mount the archive at data[0, len) on mountpoint ("/", "/www" ...). 0 or -errno. */
int fs_mount_tar_memory(const char *mountpoint, const void *data, size_t len);
/* Mount the archive on a block device. 0 or -errno (-EINVAL: not a ustar archive). */
int fs_mount_tar_blkdev(const char *mountpoint, struct blkdev *dev);

#endif /* LIBOS_FS_H */
