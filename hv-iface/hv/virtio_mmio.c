/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, modern only (Version 2) [virtio 1.1, 4.2.2]:
 * the registers a driver reads and writes in a device's window, served on
 * the vCPU thread at each MMIO exit. QueueNotify normally never gets here:
 * a ready queue's notify is a doorbell (a KVM ioeventfd) that wakes the I/O thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "virtio_dev.h"

/* Our vendor ID: "pvkt" read as little-endian bytes. */
#define HV_VIRTIO_VENDOR 0x746b7670u

static void bad_access(struct virtio_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A driver bug that hv ignores: said a few times, then quietly counted. */
static void bad_access(struct virtio_dev *d, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (d->bad_accesses++ >= HV_BAD_ACCESS_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hv: %s: %s: %s, ignored%s\n", d->vm->name, d->name, msg,
		d->bad_accesses == HV_BAD_ACCESS_REPORTS ? " (further ones are not reported)" : "");
}

bool virtio_dev_update_live(struct virtio_dev *d)
{
	uint32_t s = d->status;
	bool live = (s & VIRTIO_STATUS_DRIVER_OK) && (s & VIRTIO_STATUS_FEATURES_OK) &&
		    !(s & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));

	/* A live device can send events, so a block with no deadline can end. */
	if (live && !d->live)
		__atomic_add_fetch(&d->vm->wake_sources, 1, __ATOMIC_SEQ_CST);
	else if (!live && d->live)
		__atomic_sub_fetch(&d->vm->wake_sources, 1, __ATOMIC_SEQ_CST);
	d->live = live;
	return live;
}

static void set_status(struct virtio_dev *d, uint32_t status)
{
	__atomic_store_n(&d->status, status, __ATOMIC_SEQ_CST);
	virtio_dev_update_live(d);
}

/*
 * Make the queue's notify register a doorbell (on KVM an ioeventfd), from
 * the first time the queue is made ready until the VM ends. Not removed at
 * reset: removing an ioeventfd waits for a KVM SRCU grace period (4-10 ms
 * measured here, with the vCPU stalled in the reset), while a kick to a
 * queue that is not ready is ignored by the I/O thread just as it would be
 * here. Where the backend has no doorbells (proc) or refuses one, kicks
 * exit to hv and write_reg() passes them on.
 */
static void kick_register(struct virtio_dev *d, unsigned qi)
{
	struct virtio_queue *q = &d->q[qi];
	int rc;

	if (q->kick_by_doorbell)
		return;
	rc = d->vm->be->doorbell(d->vm, d->gpa + VIRTIO_MMIO_QUEUE_NOTIFY, false, qi, q->kick_fd);
	if (rc) {
		if (rc != -EOPNOTSUPP)
			fprintf(stderr, "hv: %s: %s queue %u: doorbell: %s (kicks will exit to hv)\n",
				d->vm->name, d->name, qi, strerror(-rc));
		return;
	}
	q->kick_by_doorbell = true;
}

/* Make the I/O thread look at queue q as if the driver had kicked it. */
static void kick_by_hand(struct virtio_dev *d, unsigned qi)
{
	uint64_t one = 1;

	if (write(d->q[qi].kick_fd, &one, sizeof(one)) == sizeof(one))
		d->hand_kicks++;
}

static void virtio_mmio_reset(struct virtio_dev *d)
{
	for (unsigned i = 0; i < d->be->nr_queues; i++) {
		struct virtio_queue *q = &d->q[i];

		q->ready = false;
		q->num = HV_VIRTQ_SIZE_MAX;
		q->desc = q->driver = q->device = 0;
		memset(&q->vq, 0, sizeof(q->vq));
	}
	d->device_features_sel = d->driver_features_sel = d->queue_sel = 0;
	d->driver_features = 0;
	if (d->be->set_features)
		d->be->set_features(d, 0); /* what it may cost to offer nothing, it cannot refuse */
	d->refused = false;
	__atomic_store_n(&d->isr, 0, __ATOMIC_SEQ_CST);
	set_status(d, 0);
}

int virtio_features_refused(struct virtio_dev *d, uint64_t f, const char *why)
{
	if (!d->refused)
		fprintf(stderr, "hv: %s: %s: FEATURES_OK refused: driver features 0x%llx: %s\n",
			d->vm->name, d->name, (unsigned long long)f, why);
	d->refused = true;
	return -EINVAL;
}

/*
 * FEATURES_OK is kept only for a subset of what we offered that includes
 * VERSION_1 [2.2.2], and that the device type takes (set_features).
 */
static bool features_acceptable(struct virtio_dev *d)
{
	uint64_t f = d->driver_features;

	if ((f & ~d->features) == 0 && (f & (1ull << VIRTIO_F_VERSION_1)))
		return !d->be->set_features || d->be->set_features(d, f) == 0;
	if (!d->refused)
		fprintf(stderr, "hv: %s: %s: FEATURES_OK refused: driver features 0x%llx %s\n",
			d->vm->name, d->name, (unsigned long long)f,
			(f & ~d->features) ? "include some never offered"
					   : "lack VIRTIO_F_VERSION_1 (hv is modern only)");
	d->refused = true;
	return false;
}

static void write_status(struct virtio_dev *d, uint32_t v)
{
	uint32_t old = d->status, s;

	if (v == 0) {
		virtio_mmio_reset(d);
		return;
	}
	/* Bits are only ever added; NEEDS_RESET is the device's to set. */
	s = old | (v & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	if ((s & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(d))
		s &= ~VIRTIO_STATUS_FEATURES_OK;
	set_status(d, s);
	/* Buffers made available before DRIVER_OK were not served [3.1.1]: look now. */
	if (d->live && !(old & VIRTIO_STATUS_DRIVER_OK))
		for (unsigned i = 0; i < d->be->nr_queues; i++)
			if (d->q[i].ready)
				kick_by_hand(d, i);
}

static void write_queue_ready(struct virtio_dev *d, unsigned qi, uint32_t v)
{
	struct virtio_queue *q = &d->q[qi];
	bool event_idx = d->driver_features & (1ull << VIRTIO_F_RING_EVENT_IDX);

	if (v == 0) {
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	if (virtq_dev_init(&q->vq, d->vm, q->num, q->desc, q->driver, q->device, event_idx)) {
		virtio_dev_break(d, qi, "%s", q->vq.why);
		return;
	}
	kick_register(d, qi);
	q->ready = true;
}

/* Replace one 32-bit half of a 64-bit register pair. */
static void set_half(uint64_t *reg, uint32_t v, unsigned half)
{
	*reg = (*reg & ~(0xffffffffull << (32 * half))) | (uint64_t)v << (32 * half);
}

/* The queue registers that take a value only while the queue is not ready. */
static void write_queue_reg(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtio_queue *q = &d->q[d->queue_sel];

	if (q->ready) {
		bad_access(d, "queue %u: write of register 0x%03llx while the queue is ready",
			   d->queue_sel, (unsigned long long)off);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: q->num = (uint16_t)(v > 0xffff ? 0 : v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: set_half(&q->desc, v, 0); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_half(&q->desc, v, 1); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: set_half(&q->driver, v, 0); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: set_half(&q->driver, v, 1); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: set_half(&q->device, v, 0); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: set_half(&q->device, v, 1); break;
	}
}

static void write_reg(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	bool queue_ok = d->queue_sel < d->be->nr_queues;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->device_features_sel = v; return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->driver_features_sel = v; return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->status & VIRTIO_STATUS_FEATURES_OK)
			bad_access(d, "driver features written after FEATURES_OK");
		else if (d->driver_features_sel < 2)
			set_half(&d->driver_features, v, d->driver_features_sel);
		return;
	case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; return;
	case VIRTIO_MMIO_STATUS: write_status(d, v); return;
	case VIRTIO_MMIO_INTERRUPT_ACK: __atomic_and_fetch(&d->isr, ~v, __ATOMIC_SEQ_CST); return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Here only when no doorbell matched: no such queue, or the backend has none. */
		if (v >= d->be->nr_queues)
			bad_access(d, "notify of queue %u, which does not exist", v);
		else if (d->q[v].ready)
			kick_by_hand(d, v);
		return;
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (!queue_ok)
			bad_access(d, "write to queue %u, which does not exist", d->queue_sel);
		else if (off == VIRTIO_MMIO_QUEUE_READY)
			write_queue_ready(d, d->queue_sel, v);
		else
			write_queue_reg(d, off, v);
		return;
	default:
		bad_access(d, "write of 0x%x to register 0x%03llx, which is read-only or unknown",
			   v, (unsigned long long)off);
		return;
	}
}

static uint32_t read_reg(struct virtio_dev *d, uint64_t off)
{
	bool queue_ok = d->queue_sel < d->be->nr_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return d->be->virtio_id;
	case VIRTIO_MMIO_VENDOR_ID: return HV_VIRTIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return d->device_features_sel < 2
			       ? (uint32_t)(d->features >> (32 * d->device_features_sel))
			       : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return queue_ok ? HV_VIRTQ_SIZE_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY: return queue_ok && d->q[d->queue_sel].ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return __atomic_load_n(&d->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS: return __atomic_load_n(&d->status, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_CONFIG_GENERATION: return 0; /* the configuration never changes */
	default:
		bad_access(d, "read of register 0x%03llx, which is write-only or unknown",
			   (unsigned long long)off);
		return 0;
	}
}

/* Configuration space: read-only here, any 1, 2, 4 or 8 bytes inside it [4.2.2.2]. */
static void config_access(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len,
			  bool is_write)
{
	if (is_write) {
		bad_access(d, "write to configuration space offset 0x%llx, which is read-only",
			   (unsigned long long)off);
		return;
	}
	if (off > d->config_size || len > d->config_size - off) {
		bad_access(d, "%u-byte read at configuration offset 0x%llx, past its %u bytes", len,
			   (unsigned long long)off, d->config_size);
		return;
	}
	memcpy(data, d->config + off, len);
}

void virtio_mmio_access(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len,
			bool is_write)
{
	uint32_t v = 0;

	d->mmio_exits++;
	if (!is_write)
		memset(data, 0, len <= 8 ? len : 8);
	if ((len != 1 && len != 2 && len != 4 && len != 8) || off + len > HV_DEVICE_WINDOW) {
		bad_access(d, "%u-byte %s at offset 0x%llx", len, is_write ? "write" : "read",
			   (unsigned long long)off);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_access(d, off - VIRTIO_MMIO_CONFIG, data, len, is_write);
	} else if (len != 4 || off % 4) {
		bad_access(d, "%u-byte %s at offset 0x%llx: registers take aligned 32-bit accesses",
			   len, is_write ? "write" : "read", (unsigned long long)off);
	} else if (is_write) {
		memcpy(&v, data, 4);
		write_reg(d, off, v);
	} else {
		v = read_reg(d, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&d->lock);
}
