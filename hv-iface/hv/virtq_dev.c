/* SPDX-License-Identifier: MIT */
/*
 * The device side of a split virtqueue [virtio 1.1, 2.6]. The driver can
 * change its parts at any moment, so every value is read from guest memory
 * exactly once (an atomic load: the compiler may not read it again after the
 * check) into a local that is checked and then used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "virtq_dev.h"

static int broken(struct virtq_dev *q, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int broken(struct virtq_dev *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->why, sizeof(q->why), fmt, ap);
	va_end(ap);
	return err;
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* used_event: the driver's wish, after the avail ring [2.6.7]. */
static const uint16_t *used_event(const struct virtq_dev *q)
{
	return &q->avail->ring[q->num];
}

/* avail_event: the device's wish, after the used ring [2.6.8]. */
static uint16_t *avail_event(const struct virtq_dev *q)
{
	return (uint16_t *)&q->used->ring[q->num];
}

int virtq_dev_init(struct virtq_dev *q, struct hv_vm *vm, uint16_t num, uint64_t desc,
		   uint64_t avail, uint64_t used, bool event_idx)
{
	memset(q, 0, sizeof(*q));
	q->vm = vm;
	q->num = num;
	q->event_idx = event_idx;
	if (num == 0 || num > HV_VIRTQ_SIZE_MAX || (num & (num - 1)))
		return broken(q, -EINVAL, "queue size %u is not a power of two from 1 to %u", num,
			      HV_VIRTQ_SIZE_MAX);
	if (desc % VIRTQ_DESC_ALIGN || avail % VIRTQ_AVAIL_ALIGN || used % VIRTQ_USED_ALIGN)
		return broken(q, -EINVAL,
			      "queue parts at 0x%llx, 0x%llx, 0x%llx are not aligned to %u, %u, %u",
			      (unsigned long long)desc, (unsigned long long)avail,
			      (unsigned long long)used, VIRTQ_DESC_ALIGN, VIRTQ_AVAIL_ALIGN,
			      VIRTQ_USED_ALIGN);
	q->desc = vm_guest_read(vm, desc, VIRTQ_DESC_SIZE(num));
	if (!q->desc)
		return broken(q, -EINVAL,
			      "descriptor table [0x%llx, +0x%lx) is outside guest memory",
			      (unsigned long long)desc, VIRTQ_DESC_SIZE(num));
	q->avail = vm_guest_read(vm, avail, VIRTQ_AVAIL_SIZE(num));
	if (!q->avail)
		return broken(q, -EINVAL, "driver area [0x%llx, +0x%lx) is outside guest memory",
			      (unsigned long long)avail, VIRTQ_AVAIL_SIZE(num));
	q->used = vm_guest_write(vm, used, VIRTQ_USED_SIZE(num));
	if (!q->used)
		return broken(q, -EINVAL,
			      "device area [0x%llx, +0x%lx) is outside writable guest memory",
			      (unsigned long long)used, VIRTQ_USED_SIZE(num));
	return 0;
}

/* Check descriptor i of the chain from head and append its buffer to c. */
static int take_desc(struct virtq_dev *q, struct virtq_chain *c, uint16_t i, uint16_t *flags,
		     uint16_t *next)
{
	const struct virtq_desc *d = &q->desc[i];
	uint64_t addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	uint32_t len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	bool writable;
	void *p;

	*flags = load16(&d->flags);
	*next = load16(&d->next);
	writable = *flags & VIRTQ_DESC_F_WRITE;
	if (*flags & VIRTQ_DESC_F_INDIRECT)
		return broken(q, -EPROTO, "descriptor %u is indirect, which hv does not offer", i);
	if (addr + len < addr)
		return broken(q, -EPROTO, "descriptor %u: buffer [0x%llx, +0x%x) wraps around", i,
			      (unsigned long long)addr, len);
	if (!writable && c->nr_in)
		return broken(q, -EPROTO,
			      "descriptor %u is device-readable after a device-writable one", i);
	p = writable ? vm_guest_write(q->vm, addr, len) : vm_guest_read(q->vm, addr, len);
	if (!p && q->vm->grant_dma)
		p = q->vm->grant_dma(q->vm, addr, len, writable);
	if (!p)
		return broken(q, -EPROTO, "descriptor %u: buffer [0x%llx, +0x%x) is outside %s", i,
			      (unsigned long long)addr, len,
			      writable ? "writable guest memory" : "guest memory");
	/* No overflow: at most HV_VIRTQ_SIZE_MAX lengths below 2^32 each. */
	if (c->out_len + c->in_len + len > UINT32_MAX)
		return broken(q, -EPROTO, "chain from descriptor %u holds 4 GiB or more", c->head);
	c->iov[c->nr_out + c->nr_in] = (struct iovec){ p, len };
	if (writable) {
		c->nr_in++;
		c->in_len += len;
	} else {
		c->nr_out++;
		c->out_len += len;
	}
	return 0;
}

int virtq_dev_pop(struct virtq_dev *q, struct virtq_chain *c)
{
	/* Acquire: the ring entry and descriptors the driver wrote before publishing idx. */
	uint16_t avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t ahead = (uint16_t)(avail_idx - q->last_avail);
	uint16_t i, flags, next;
	int rc;

	if (ahead == 0)
		return 0;
	if (ahead > q->num)
		return broken(q, -EPROTO,
			      "available index %u is %u entries ahead of %u, more than the queue "
			      "size %u",
			      avail_idx, ahead, q->last_avail, q->num);
	i = load16(&q->avail->ring[q->last_avail & (q->num - 1)]);
	if (i >= q->num)
		return broken(q, -EPROTO, "descriptor %u >= queue size %u", i, q->num);
	c->head = i;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (unsigned n = 1;; n++) {
		rc = take_desc(q, c, i, &flags, &next);
		if (rc)
			return rc;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		if (next >= q->num)
			return broken(q, -EPROTO,
				      "descriptor %u chains to descriptor %u >= queue size %u", i,
				      next, q->num);
		if (n == q->num)
			return broken(q, -EPROTO,
				      "chain from descriptor %u is longer than the queue size %u "
				      "(a loop)",
				      c->head, q->num);
		i = next;
	}
	q->last_avail++;
	return 1;
}

uint16_t virtq_dev_available(const struct virtq_dev *q)
{
	return (uint16_t)(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) - q->last_avail);
}

void virtq_dev_unpop(struct virtq_dev *q)
{
	q->last_avail--;
}

void virtq_dev_push(struct virtq_dev *q, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1)];

	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	q->used_idx++;
	/* Release: the element, and the data written into the buffers, before the index. */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_dev_need_event(struct virtq_dev *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx;

	/*
	 * Full fence: the used index must be visible before the driver's wish is
	 * read. Else the driver could look at the old index, ask for an event
	 * (or clear NO_INTERRUPT) and sleep after we read its older wish: both
	 * would wait [2.6.7.1].
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = now;
	if (old == now)
		return false;
	if (q->event_idx)
		return virtq_need_event(load16(used_event(q)), now, old);
	return !(load16(&q->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool virtq_dev_enable_kicks(struct virtq_dev *q)
{
	return virtq_dev_enable_kicks_after(q, 0);
}

bool virtq_dev_enable_kicks_after(struct virtq_dev *q, uint16_t n)
{
	uint16_t seen = (uint16_t)(q->last_avail + n);

	if (q->event_idx) {
		__atomic_store_n(avail_event(q), seen, __ATOMIC_RELAXED);
		/* Full fence: our wish before we read the index, the mirror of the driver's
		 * publish-then-read-avail_event; one of the two sides sees the other. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) != seen;
}

unsigned virtq_iov_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
			 struct iovec *out)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len > 0; i++) {
		uint64_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		out[k++] = (struct iovec){ (uint8_t *)iov[i].iov_base + off, take };
		len -= take;
		off = 0;
	}
	return k;
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len)
{
	struct iovec part[HV_VIRTQ_SIZE_MAX];
	unsigned n = virtq_iov_slice(c->iov, c->nr_out, off, len, part);
	size_t done = 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy((uint8_t *)buf + done, part[i].iov_base, part[i].iov_len);
		done += part[i].iov_len;
	}
	return done;
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len)
{
	struct iovec part[HV_VIRTQ_SIZE_MAX];
	unsigned n = virtq_iov_slice(c->iov + c->nr_out, c->nr_in, off, len, part);
	size_t done = 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy(part[i].iov_base, (const uint8_t *)buf + done, part[i].iov_len);
		done += part[i].iov_len;
	}
	return done;
}
