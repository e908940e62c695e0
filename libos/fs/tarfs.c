/* SPDX-License-Identifier: MIT */
/*
 * A read-only file system on a POSIX ustar archive (IEEE 1003.1-1988 tar
 * headers: 512-byte header blocks, octal fields, data padded to 512), held
 * in memory or on a block device. Mounting reads every header once into a
 * sorted index; opening a file is a binary search; reading is a copy from
 * memory or sector reads from the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blkdev.h"
#include "fd.h"
#include "fs.h"
#include "kernel.h"
#include "libos.h"

#define TAR_BLOCK 512
#define MAX_MOUNTS 8
#define MAX_PATH 256
#define BOUNCE_BYTES (64u << 10)

struct tar_file {
	char *path;      /* relative to the mount point, no leading or trailing '/' */
	uint64_t offset; /* of the data in the archive */
	uint64_t size;
	mode_t mode;
	time_t mtime;
};

struct tarfs {
	char mountpoint[MAX_PATH]; /* "" for "/", else "/www" */
	const uint8_t *mem;
	struct blkdev *dev;
	struct tar_file *files; /* sorted by path */
	size_t nfiles;
};

struct open_file {
	struct tarfs *fs;
	const struct tar_file *f;
	uint64_t pos;
};

static struct tarfs *mounts[MAX_MOUNTS];

/* An octal field: digits, maybe led by spaces, ended by a space or NUL. -1 if malformed. */
static int64_t octal(const uint8_t *p, size_t len)
{
	int64_t v = 0;
	size_t i = 0;

	while (i < len && p[i] == ' ')
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v > (INT64_MAX >> 3))
			return -1;
		v = v * 8 + (p[i] - '0');
	}
	if (i < len && p[i] != ' ' && p[i] != '\0')
		return -1;
	return v;
}

static bool is_zero_block(const uint8_t *h)
{
	for (int i = 0; i < TAR_BLOCK; i++)
		if (h[i])
			return false;
	return true;
}

/* The header's checksum: the sum of its bytes with the checksum field read as spaces. */
static bool checksum_ok(const uint8_t *h)
{
	int64_t want = octal(h + 148, 8);
	uint64_t sum = 0;

	for (int i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return want >= 0 && (uint64_t)want == sum;
}

/* Strip "./", leading and trailing '/', and collapse "//": the form paths are compared in. */
static int normalize(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	while (*in) {
		while (*in == '/')
			in++;
		if (in[0] == '.' && (in[1] == '/' || in[1] == '\0')) {
			in++;
			continue;
		}
		if (in[0] == '.' && in[1] == '.' && (in[2] == '/' || in[2] == '\0'))
			return -EACCES; /* no way out of the mount */
		if (!*in)
			break;
		if (n)
			out[n++] = '/';
		while (*in && *in != '/') {
			if (n + 1 >= outlen)
				return -ENAMETOOLONG;
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
	return 0;
}

static int read_bytes(struct tarfs *fs, uint64_t off, void *buf, size_t len);

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct tar_file *)a)->path, ((const struct tar_file *)b)->path);
}

static int add_file(struct tarfs *fs, size_t *cap, const uint8_t *h, uint64_t data_off)
{
	char raw[256], path[MAX_PATH];
	size_t plen = strnlen((const char *)h + 345, 155), nlen = strnlen((const char *)h, 100);
	int64_t size = octal(h + 124, 12), mode = octal(h + 100, 8), mtime = octal(h + 136, 12);
	char type = (char)h[156];
	int rc;

	if (size < 0 || mode < 0)
		return -EINVAL;
	if (type != '0' && type != '\0' && type != '5')
		return 0; /* links, devices and the rest: not served */
	memcpy(raw, h + 345, plen);
	raw[plen] = '/';
	memcpy(raw + (plen ? plen + 1 : 0), h, nlen);
	raw[(plen ? plen + 1 : 0) + nlen] = '\0';
	rc = normalize(raw, path, sizeof(path));
	if (rc)
		return rc;
	if (fs->nfiles == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct tar_file *nf = realloc(fs->files, ncap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		fs->files = nf;
		*cap = ncap;
	}
	fs->files[fs->nfiles] = (struct tar_file){
		.path = strdup(path),
		.offset = data_off,
		.size = type == '5' ? 0 : (uint64_t)size,
		.mode = (mode_t)((type == '5' ? S_IFDIR : S_IFREG) | (mode & 0777)),
		.mtime = mtime > 0 ? (time_t)mtime : 0,
	};
	if (!fs->files[fs->nfiles].path)
		return -ENOMEM;
	fs->nfiles++;
	return 0;
}

/* Read every header, from the first block to the two zero blocks at the end (or the end). */
static int scan(struct tarfs *fs, uint64_t total)
{
	uint8_t h[TAR_BLOCK];
	uint64_t off = 0;
	size_t cap = 0;
	int rc;

	while (off + TAR_BLOCK <= total) {
		rc = read_bytes(fs, off, h, TAR_BLOCK);
		if (rc)
			return rc;
		if (is_zero_block(h))
			break;
		if (!checksum_ok(h) || memcmp(h + 257, "ustar", 5))
			return off == 0 ? -EINVAL : -EIO;
		rc = add_file(fs, &cap, h, off + TAR_BLOCK);
		if (rc)
			return rc;
		uint64_t size = (uint64_t)octal(h + 124, 12);
		off += TAR_BLOCK + (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
	}
	/* An empty archive is two zero blocks; a zeroed disk reads the same and mounts empty. */
	qsort(fs->files, fs->nfiles, sizeof(*fs->files), by_path);
	return 0;
}

static int mount(const char *mountpoint, const void *mem, struct blkdev *dev, uint64_t total)
{
	struct tarfs *fs;
	int slot = -1, rc;

	for (int i = 0; i < MAX_MOUNTS; i++)
		if (!mounts[i] && slot < 0)
			slot = i;
	if (slot < 0)
		return -ENOSPC;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	rc = normalize(mountpoint, fs->mountpoint + 1, sizeof(fs->mountpoint) - 1);
	if (rc) {
		free(fs);
		return rc;
	}
	fs->mountpoint[0] = fs->mountpoint[1] ? '/' : '\0'; /* "/" itself is the empty prefix */
	fs->mem = mem;
	fs->dev = dev;
	rc = scan(fs, total);
	if (rc) {
		for (size_t i = 0; i < fs->nfiles; i++)
			free(fs->files[i].path);
		free(fs->files);
		free(fs);
		return rc;
	}
	mounts[slot] = fs;
	return 0;
}

int fs_mount_tar_memory(const char *mountpoint, const void *data, size_t len)
{
	return mount(mountpoint, data, NULL, len);
}

int fs_mount_tar_blkdev(const char *mountpoint, struct blkdev *dev)
{
	if (!dev)
		return -ENODEV;
	return mount(mountpoint, NULL, dev, blkdev_sectors(dev) * blkdev_sector_size(dev));
}

/* Bytes of the archive: straight from memory, or whole sectors through a bounce buffer. */
static int read_bytes(struct tarfs *fs, uint64_t off, void *buf, size_t len)
{
	static uint8_t *bounce;
	unsigned ss;

	if (fs->mem) {
		memcpy(buf, fs->mem + off, len);
		return 0;
	}
	ss = blkdev_sector_size(fs->dev);
	if (!bounce && !(bounce = malloc(BOUNCE_BYTES)))
		return -ENOMEM;
	while (len) {
		uint64_t first = off / ss, skip = off % ss;
		size_t sectors = (skip + len + ss - 1) / ss, chunk;
		int rc;

		if (sectors > BOUNCE_BYTES / ss)
			sectors = BOUNCE_BYTES / ss;
		rc = blkdev_read(fs->dev, first, bounce, sectors);
		if (rc)
			return rc;
		chunk = sectors * ss - skip < len ? sectors * ss - skip : len;
		memcpy(buf, bounce + skip, chunk);
		buf = (uint8_t *)buf + chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

/* The mount with the longest mount point that prefixes path, and the rest of the path. */
static struct tarfs *resolve(const char *path, const char **rest)
{
	struct tarfs *best = NULL;
	size_t best_len = 0;

	for (int i = 0; i < MAX_MOUNTS; i++) {
		struct tarfs *fs = mounts[i];
		size_t n;

		if (!fs)
			continue;
		n = strlen(fs->mountpoint);
		if (strncmp(path, fs->mountpoint, n) || (path[n] != '/' && path[n] != '\0'))
			continue;
		if (!best || n >= best_len) {
			best = fs;
			best_len = n;
		}
	}
	*rest = path + best_len;
	return best;
}

static const struct tar_file *lookup(const char *path, struct tarfs **fsp, int *err)
{
	char norm[MAX_PATH + 1], *abs = norm;
	const char *rest;
	struct tarfs *fs;
	struct tar_file key;
	const struct tar_file *f;

	*err = normalize(path, norm + 1, sizeof(norm) - 1);
	if (*err)
		return NULL;
	norm[0] = '/';
	fs = resolve(abs, &rest);
	*err = -ENOENT;
	if (!fs)
		return NULL;
	while (*rest == '/')
		rest++;
	*fsp = fs;
	if (!*rest) { /* the mount point itself: a directory */
		static struct tar_file root = { .path = "", .mode = S_IFDIR | 0755 };
		*err = 0;
		return &root;
	}
	key.path = (char *)rest;
	f = bsearch(&key, fs->files, fs->nfiles, sizeof(*fs->files), by_path);
	if (!f) {
		/* A directory that has files but no entry of its own. */
		size_t n = strlen(rest);
		for (size_t i = 0; i < fs->nfiles; i++)
			if (!strncmp(fs->files[i].path, rest, n) && fs->files[i].path[n] == '/') {
				static struct tar_file implied = { .path = "", .mode = S_IFDIR | 0755 };
				*err = 0;
				return &implied;
			}
		return NULL;
	}
	*err = 0;
	return f;
}

static void fill_stat(const struct tar_file *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = f->mode;
	st->st_size = (off_t)f->size;
	st->st_mtime = f->mtime;
	st->st_nlink = 1;
	st->st_blksize = TAR_BLOCK;
	st->st_blocks = (blkcnt_t)((f->size + 511) / 512);
}

static long file_read(void *obj, void *buf, size_t len)
{
	struct open_file *o = obj;
	int rc;

	if (S_ISDIR(o->f->mode))
		return -EISDIR;
	if (o->pos >= o->f->size)
		return 0;
	if (len > o->f->size - o->pos)
		len = (size_t)(o->f->size - o->pos);
	rc = read_bytes(o->fs, o->f->offset + o->pos, buf, len);
	if (rc)
		return rc;
	o->pos += len;
	return (long)len;
}

static long file_lseek(void *obj, long off, int whence)
{
	struct open_file *o = obj;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)o->pos
				   : whence == SEEK_END ? (int64_t)o->f->size : -1;

	if (base < 0 || base + off < 0)
		return -EINVAL;
	o->pos = (uint64_t)(base + off);
	return (long)o->pos;
}

static int file_fstat(void *obj, struct stat *st)
{
	fill_stat(((struct open_file *)obj)->f, st);
	return 0;
}

static int file_close(void *obj)
{
	free(obj);
	return 0;
}

static const struct fd_ops file_ops = {
	.kind = "file", .read = file_read, .lseek = file_lseek, .fstat = file_fstat,
	.close = file_close,
};

int open(const char *path, int flags, ...)
{
	struct tarfs *fs;
	struct open_file *o;
	const struct tar_file *f;
	int err, fd;

	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))) {
		errno = EROFS;
		return -1;
	}
	f = lookup(path, &fs, &err);
	if (!f) {
		errno = -err;
		return -1;
	}
	o = malloc(sizeof(*o));
	if (!o) {
		errno = ENOMEM;
		return -1;
	}
	*o = (struct open_file){ fs, f, 0 };
	fd = fd_alloc(FD_FILE_BASE, &file_ops, o);
	if (fd < 0) {
		free(o);
		errno = -fd;
		return -1;
	}
	return fd;
}

int stat(const char *path, struct stat *st)
{
	struct tarfs *fs;
	int err;
	const struct tar_file *f = lookup(path, &fs, &err);

	if (!f) {
		errno = -err;
		return -1;
	}
	fill_stat(f, st);
	return 0;
}

/* Files from the archive linked into the image (apps/<app>/rootfs), if it has one. */
extern const uint8_t __rootfs_start[] __attribute__((weak));
extern const uint8_t __rootfs_end[] __attribute__((weak));

void fs_init(void)
{
	uintptr_t start = (uintptr_t)__rootfs_start, end = (uintptr_t)__rootfs_end;
	int rc;

	if (!start || end <= start)
		return;
	rc = fs_mount_tar_memory("/", __rootfs_start, end - start);
	if (rc)
		panic("fs_init: the image's root archive does not mount (%d)", rc);
}
