/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk backed by a host file [virtio 1.1, 5.2]: requests go between
 * the file and the guest's buffers with no bounce copy. The device takes
 * every request available (up to a batch) and hands their reads and writes
 * to the kernel together through an io_uring (uring.h), one system call for
 * the lot; a flush waits for what came before it. A request that comes
 * alone, or every request where the kernel offers no io_uring, is one
 * preadv or pwritev.
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
#include "uring.h"
#include "virtio_dev.h"

/* One request of a batch, while its read or write is in the ring. */
struct blk_slot {
	struct virtio_blk_req_hdr h;
	struct iovec iov[HV_VIRTQ_SIZE_MAX];
	unsigned n;
	uint64_t len, t0;
	int64_t written;
	uint8_t status;
};

struct virtio_blk {
	struct virtio_dev dev;
	int fd;
	bool ro;
	uint64_t capacity; /* in sectors */
	char id[VIRTIO_BLK_ID_BYTES];
	uint64_t ioerr, unsupp; /* requests that ended so */
	struct uring ring;      /* ring.fd < 0: no io_uring here, why in no_ring */
	int no_ring;
	uint64_t ring_ops, ring_short, alone; /* alone: served by hand though the ring is up */
	struct blk_slot slot[VIRTIO_BATCH_MAX];
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

/* A read or write's data into s (iovecs, length): VIRTIO_BLK_S_OK, or IOERR if it may not go. */
static uint8_t check_rw(const struct virtio_blk *b, const struct virtq_chain *c,
			struct blk_slot *s)
{
	s->n = data_iov(c, s->h.type, s->iov, &s->len);
	/* A read-only disk fails writes without writing anything [5.2.6.1]. */
	if (s->h.type == VIRTIO_BLK_T_OUT && b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (s->len % VIRTIO_BLK_SECTOR_SIZE || s->h.sector > b->capacity ||
	    s->len / VIRTIO_BLK_SECTOR_SIZE > b->capacity - s->h.sector)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/* A read or write done: its status and used length, counted. */
static void rw_done(struct virtio_blk *b, unsigned q, struct blk_slot *s, bool ok)
{
	s->status = ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	if (!ok)
		return;
	b->dev.q[q].bytes += s->len;
	s->written = s->h.type == VIRTIO_BLK_T_OUT ? 0 : (int64_t)s->len;
}

static uint8_t serve_rw(struct virtio_blk *b, unsigned q, const struct virtq_chain *c,
			struct blk_slot *s)
{
	if (check_rw(b, c, s) != VIRTIO_BLK_S_OK)
		return VIRTIO_BLK_S_IOERR;
	rw_done(b, q, s, transfer(b->fd, s->h.type == VIRTIO_BLK_T_OUT, s->iov, s->n,
				  s->h.sector * VIRTIO_BLK_SECTOR_SIZE) == 0);
	return s->status;
}

/*
 * The start of a request: its header read into s, and whatever needs no
 * I/O (a bad header, GET_ID, an unknown type) answered in s->status.
 * Returns true when the request is a read, write or flush still to do, false
 * when it is answered, and -EPROTO in s->written when it cannot be.
 */
static bool begin(struct virtio_dev *d, unsigned q, struct virtq_chain *c, struct blk_slot *s)
{
	struct virtio_blk *b = to_blk(d);

	s->t0 = trace_on() ? hv_now_ns() : 0;
	s->written = 0;
	memset(&s->h, 0, sizeof(s->h));
	/* The status byte is the last writable byte; without one the request cannot end. */
	if (c->in_len == 0) {
		virtio_dev_break(d, q, "request at descriptor %u has no writable status byte",
				 c->head);
		s->written = -EPROTO;
		return false;
	}
	if (virtq_chain_read(c, 0, &s->h, sizeof(s->h)) != sizeof(s->h)) {
		s->status = VIRTIO_BLK_S_IOERR;
		return false;
	}
	switch (s->h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_FLUSH:
		return true;
	case VIRTIO_BLK_T_GET_ID:
		s->written = (int64_t)virtq_chain_write(c, 0, b->id,
							c->in_len - 1 < sizeof(b->id) ? c->in_len - 1
										      : sizeof(b->id));
		s->status = VIRTIO_BLK_S_OK;
		return false;
	default:
		s->status = VIRTIO_BLK_S_UNSUPP;
		return false;
	}
}

/* Durable before it completes: the guest may rely on what it wrote. */
static uint8_t flush(struct virtio_blk *b)
{
	return fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

/* The end of a request: the status byte written last, counted, traced; the used length. */
static int64_t finish(struct virtio_dev *d, unsigned q, struct virtq_chain *c, struct blk_slot *s)
{
	struct virtio_blk *b = to_blk(d);

	if (s->written < 0)
		return s->written;
	b->ioerr += s->status == VIRTIO_BLK_S_IOERR;
	b->unsupp += s->status == VIRTIO_BLK_S_UNSUPP;
	if (trace_on())
		trace_blk_request(d, q, c, &s->h, s->status, s->t0);
	virtq_chain_write(c, c->in_len - 1, &s->status, 1);
	return s->written + 1;
}

/* One request, start to end, with plain system calls. */
static int64_t blk_serve_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct virtio_blk *b = to_blk(d);
	struct blk_slot *s = &b->slot[0];

	if (begin(d, q, c, s))
		s->status = s->h.type == VIRTIO_BLK_T_FLUSH ? flush(b) : serve_rw(b, q, c, s);
	return finish(d, q, c, s);
}

struct ring_batch {
	struct virtio_blk *b;
	unsigned q;
};

/* A read or write came back from the ring: whole, short (the rest by hand) or failed. */
static void ring_done(void *arg, uint64_t tag, int32_t res)
{
	struct ring_batch *rb = arg;
	struct virtio_blk *b = rb->b;
	struct blk_slot *s = &b->slot[tag];
	bool ok = res >= 0 && (uint64_t)res == s->len;

	if (res >= 0 && (uint64_t)res < s->len) {
		struct iovec rest[HV_VIRTQ_SIZE_MAX];
		unsigned k = virtq_iov_slice(s->iov, s->n, (uint64_t)res, s->len - (uint64_t)res,
					     rest);

		b->ring_short++;
		ok = transfer(b->fd, s->h.type == VIRTIO_BLK_T_OUT, rest, k,
			      s->h.sector * VIRTIO_BLK_SECTOR_SIZE + (uint64_t)res) == 0;
	}
	rw_done(b, rb->q, s, ok);
}

/*
 * Run what the ring holds. If the ring itself fails, it is closed for good
 * (what it still held cannot be told from what a later batch would queue)
 * and its requests are done again by hand: a read or write said twice
 * leaves the same bytes.
 */
static void ring_flush(struct virtio_blk *b, unsigned q, unsigned *pending, unsigned npending)
{
	struct ring_batch rb = { b, q };
	int rc;

	if (npending == 0)
		return;
	b->ring_ops += npending;
	rc = uring_run(&b->ring, ring_done, &rb);
	if (rc == 0)
		return;
	fprintf(stderr, "hv: %s: %s: io_uring_enter: %s; its requests go one by one from now\n",
		b->dev.vm->name, b->dev.name, strerror(-rc));
	uring_close(&b->ring);
	b->no_ring = rc;
	for (unsigned i = 0; i < npending; i++) {
		struct blk_slot *s = &b->slot[pending[i]];

		rw_done(b, q, s, transfer(b->fd, s->h.type == VIRTIO_BLK_T_OUT, s->iov, s->n,
					  s->h.sector * VIRTIO_BLK_SECTOR_SIZE) == 0);
	}
}

/*
 * A batch: the reads and writes go into the ring together and run with one
 * system call; a flush first runs what is before it, so that it covers those
 * writes, then syncs. Requests finish in the batch's order.
 */
static void blk_serve_chains(struct virtio_dev *d, unsigned q, struct virtq_chain *c, unsigned n,
			     int64_t *lens)
{
	struct virtio_blk *b = to_blk(d);
	unsigned pending[VIRTIO_BATCH_MAX], npending = 0, i;

	/*
	 * One request is one system call either way, and a plain one is never
	 * handed to the kernel's io_uring workers. Measured on proc, alternating
	 * runs: 4 KiB writes one at a time at 45-117k IOPS through the ring,
	 * 89-198k by pwritev; 1 MiB sequential reads alike within the noise.
	 */
	if (b->ring.fd < 0 || n == 1) {
		b->alone += b->ring.fd >= 0;
		/* As with the ring: once a chain broke the device, nothing after it is served. */
		for (i = 0; i < n; i++)
			lens[i] = i > 0 && lens[i - 1] < 0 ? -EPROTO : blk_serve_chain(d, q, &c[i]);
		return;
	}
	for (i = 0; i < n; i++) {
		struct blk_slot *s = &b->slot[i];

		if (!begin(d, q, &c[i], s)) {
			if (s->written < 0)
				break; /* the ring is broken: nothing after it is served */
			continue;
		}
		if (s->h.type == VIRTIO_BLK_T_FLUSH) {
			ring_flush(b, q, pending, npending);
			npending = 0;
			s->status = flush(b);
			continue;
		}
		s->status = check_rw(b, &c[i], s);
		if (s->status != VIRTIO_BLK_S_OK)
			continue;
		uring_rw(&b->ring, s->h.type == VIRTIO_BLK_T_OUT, s->iov, s->n,
			 s->h.sector * VIRTIO_BLK_SECTOR_SIZE, i);
		pending[npending++] = i;
	}
	ring_flush(b, q, pending, npending);
	for (unsigned k = 0; k < n; k++)
		lens[k] = k < i ? finish(d, q, &c[k], &b->slot[k]) : -EPROTO;
}

static void blk_stats(const struct virtio_dev *d, char *buf, size_t len)
{
	const struct virtio_blk *b = to_blk(d);

	int n = snprintf(buf, len, "%llu requests, %llu bytes, %llu I/O errors, %llu unsupported",
			 (unsigned long long)d->q[0].chains, (unsigned long long)d->q[0].bytes,
			 (unsigned long long)b->ioerr, (unsigned long long)b->unsupp);

	if (n < 0 || (size_t)n >= len)
		return;
	if (!b->no_ring)
		snprintf(buf + n, len - (size_t)n, "; %llu batches, %llu reads and writes through "
			 "io_uring (%llu short), %llu requests alone by one system call",
			 (unsigned long long)d->batches, (unsigned long long)b->ring_ops,
			 (unsigned long long)b->ring_short, (unsigned long long)b->alone);
	else
		snprintf(buf + n, len - (size_t)n, "; no io_uring (%s): one system call a request",
			 strerror(-b->no_ring));
}

/*
 * The lock goes explicitly, not with the last close: the ring holds the file
 * too, and the kernel lets go of a ring's files only a little later.
 */
static void blk_release(struct virtio_dev *d)
{
	struct virtio_blk *b = to_blk(d);

	uring_close(&b->ring);
	if (b->fd >= 0) {
		flock(b->fd, LOCK_UN);
		close(b->fd);
		b->fd = -1;
	}
}

static void blk_destroy(struct virtio_dev *d)
{
	blk_release(d);
	free(to_blk(d));
}

static const struct virtio_backend blk_backend = {
	.kind = "virtio-blk",
	.virtio_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.serve_chain = blk_serve_chain,
	.serve_chains = blk_serve_chains,
	.drain_queues = 1u << 0,
	.stats = blk_stats,
	.release = blk_release,
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
	b->ring.fd = -1;
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
	/* Before the sandbox: the ring is made and fenced now, only entered later. */
	b->no_ring = uring_open(&b->ring, b->fd, !b->ro);
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
