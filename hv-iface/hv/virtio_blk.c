/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk backed by a host file [virtio 1.1, 5.2]: requests go between
 * the file and the guest's buffers with one preadv or pwritev each, with no
 * bounce copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace.h"
#include "virtio_dev.h"

struct virtio_blk {
	struct virtio_dev dev;
	int fd;
	bool ro;
	uint64_t capacity; /* in sectors */
	char id[VIRTIO_BLK_ID_BYTES];
	uint64_t ioerr, unsupp; /* requests that ended so */
};

static struct virtio_blk *to_blk(const struct virtio_dev *d)
{
	return virtio_container_of(d, struct virtio_blk, dev);
}

/* All of [off, off + the iovecs' length) or an error: short transfers are retried. */
static int transfer(int fd, bool write, struct iovec *iov, unsigned n, uint64_t off)
{
	while (n > 0) {
		ssize_t done = write ? pwritev(fd, iov, (int)n, (off_t)off)
				     : preadv(fd, iov, (int)n, (off_t)off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return done < 0 ? -errno : -EIO; /* end of file inside the capacity */
		off += (uint64_t)done;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

/* The request's data buffers: after the header (OUT) or before the status byte (IN). */
static unsigned data_iov(const struct virtq_chain *c, uint32_t type, struct iovec *out,
			 uint64_t *len)
{
	if (type == VIRTIO_BLK_T_OUT) {
		*len = c->out_len - sizeof(struct virtio_blk_req_hdr);
		return virtq_iov_slice(c->iov, c->nr_out, sizeof(struct virtio_blk_req_hdr), *len,
				       out);
	}
	*len = c->in_len - 1;
	return virtq_iov_slice(c->iov + c->nr_out, c->nr_in, 0, *len, out);
}

static uint8_t serve_rw(struct virtio_blk *b, unsigned q, const struct virtio_blk_req_hdr *h,
			const struct virtq_chain *c, uint64_t *written)
{
	struct iovec iov[HV_VIRTQ_SIZE_MAX];
	bool write = h->type == VIRTIO_BLK_T_OUT;
	uint64_t len;
	unsigned n = data_iov(c, h->type, iov, &len);

	/* A read-only disk fails writes without writing anything [5.2.6.1]. */
	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (len % VIRTIO_BLK_SECTOR_SIZE || h->sector > b->capacity ||
	    len / VIRTIO_BLK_SECTOR_SIZE > b->capacity - h->sector)
		return VIRTIO_BLK_S_IOERR;
	if (transfer(b->fd, write, iov, n, h->sector * VIRTIO_BLK_SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;
	b->dev.q[q].bytes += len;
	*written = write ? 0 : len;
	return VIRTIO_BLK_S_OK;
}

static int64_t blk_serve_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct virtio_blk *b = to_blk(d);
	struct virtio_blk_req_hdr h;
	uint64_t written = 0, t0 = trace_on() ? hv_now_ns() : 0;
	uint8_t status;

	/* The status byte is the last writable byte; without one the request cannot end. */
	if (c->in_len == 0) {
		virtio_dev_break(d, q, "request at descriptor %u has no writable status byte",
				 c->head);
		return -EPROTO;
	}
	if (virtq_chain_read(c, 0, &h, sizeof(h)) != sizeof(h)) {
		status = VIRTIO_BLK_S_IOERR;
		goto done;
	}
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		status = serve_rw(b, q, &h, c, &written);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Durable before it completes: the guest may rely on what it wrote. */
		status = fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = virtq_chain_write(c, 0, b->id,
					    c->in_len - 1 < sizeof(b->id) ? c->in_len - 1
									  : sizeof(b->id));
		status = VIRTIO_BLK_S_OK;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	b->ioerr += status == VIRTIO_BLK_S_IOERR;
	b->unsupp += status == VIRTIO_BLK_S_UNSUPP;
	if (trace_on())
		trace_blk_request(d, q, c, &h, status, t0);
	virtq_chain_write(c, c->in_len - 1, &status, 1);
	return (int64_t)written + 1;
}

static void blk_stats(const struct virtio_dev *d, char *buf, size_t len)
{
	const struct virtio_blk *b = to_blk(d);

	snprintf(buf, len, "%llu requests, %llu bytes, %llu I/O errors, %llu unsupported",
		 (unsigned long long)d->q[0].chains, (unsigned long long)d->q[0].bytes,
		 (unsigned long long)b->ioerr, (unsigned long long)b->unsupp);
}

static void blk_destroy(struct virtio_dev *d)
{
	struct virtio_blk *b = to_blk(d);

	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static const struct virtio_backend blk_backend = {
	.kind = "virtio-blk",
	.virtio_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.serve_chain = blk_serve_chain,
	.drain_queues = 1u << 0,
	.stats = blk_stats,
	.destroy = blk_destroy,
};

/* The file's size in bytes: a regular file's, or a block device's. */
static int disk_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	return -EINVAL;
}

/* FILE[,ro] -> path and read-only flag. A file name cannot contain a comma. */
static int parse_disk_arg(const char *arg, char *path, size_t size, bool *ro)
{
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);

	*ro = comma && strcmp(comma, ",ro") == 0;
	if ((comma && !*ro) || len == 0 || len >= size)
		return -EINVAL;
	memcpy(path, arg, len);
	path[len] = '\0';
	return 0;
}

int virtio_blk_add(struct hv_vm *vm, const char *arg)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	struct virtio_blk_config cfg = { 0 };
	char path[4096];
	const char *base;
	uint64_t size;
	int rc;

	if (!b) {
		fprintf(stderr, "hv: --disk=%s: out of memory\n", arg);
		return HV_EXIT_OSERR;
	}
	b->fd = -1;
	if (parse_disk_arg(arg, path, sizeof(path), &b->ro)) {
		fprintf(stderr, "hv: --disk=%s: want FILE or FILE,ro (no commas in FILE)\n", arg);
		rc = HV_EXIT_USAGE;
		goto err_free;
	}
	b->fd = open(path, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		fprintf(stderr, "hv: --disk=%s: %s: %s\n", arg, path, strerror(errno));
		rc = HV_EXIT_NOINPUT;
		goto err_free;
	}
	rc = disk_size(b->fd, &size);
	if (rc) {
		fprintf(stderr, "hv: --disk=%s: %s: %s\n", arg, path,
			rc == -EINVAL ? "not a regular file or block device" : strerror(-rc));
		rc = HV_EXIT_NOINPUT;
		goto err_close;
	}
	if (size % VIRTIO_BLK_SECTOR_SIZE) {
		fprintf(stderr, "hv: --disk=%s: %s is %llu bytes, not a multiple of the %u-byte "
				"sector\n",
			arg, path, (unsigned long long)size, VIRTIO_BLK_SECTOR_SIZE);
		rc = HV_EXIT_NOINPUT;
		goto err_close;
	}
	/* Two writers would corrupt the disk; readers may share it. */
	if (flock(b->fd, (b->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		fprintf(stderr, "hv: --disk=%s: %s is in use by another process (%s)\n", arg, path,
			strerror(errno));
		rc = HV_EXIT_NOINPUT;
		goto err_close;
	}
	b->capacity = size / VIRTIO_BLK_SECTOR_SIZE;
	/* The ID is the file's name, NUL-padded or cut to 20 bytes [5.2.6]. */
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	memcpy(b->id, base, strlen(base) < sizeof(b->id) ? strlen(base) : sizeof(b->id));

	b->dev.be = &blk_backend;
	b->dev.host_fd = -1;
	b->dev.features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_FLUSH |
			  (b->ro ? 1ull << VIRTIO_BLK_F_RO : 0);
	cfg.capacity = b->capacity;
	cfg.seg_max = HV_VIRTQ_SIZE_MAX - 2; /* the header and the status take two */
	memcpy(b->dev.config, &cfg, sizeof(cfg));
	b->dev.config_size = sizeof(cfg);
	/* From here the VM owns b and frees it. */
	return virtio_dev_add(vm, &b->dev);

err_close:
	close(b->fd);
err_free:
	free(b);
	return rc;
}
