/* SPDX-License-Identifier: MIT */
/*
 * A device's life and its I/O thread. Each device has one thread that
 * epolls the device's queue eventfds (the guest's kicks, delivered by KVM
 * without an exit, or written by hv when a kick exited), its backend's host fd (a tap) and a stop eventfd. One
 * thread per device, not one per VM: a slow disk request (an fdatasync)
 * never delays another device's queues, and a device's queues are served in
 * order with no locking between its own threads.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "trace.h"
#include "virtio_dev.h"

/* epoll tokens besides the queue numbers. */
#define TOKEN_HOST 0x100u
#define TOKEN_STOP 0x101u

static int host_error(struct hv_vm *vm, struct virtio_dev *d, const char *what)
{
	fprintf(stderr, "hv: %s: %s: %s: %s\n", vm->name, d->name, what, strerror(errno));
	return HV_EXIT_OSERR;
}

static int epoll_add(int epoll_fd, int fd, uint32_t events, uint32_t token)
{
	struct epoll_event ev = { .events = events, .data.u32 = token };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int virtio_dev_add(struct hv_vm *vm, struct virtio_dev *d)
{
	unsigned kind_index = 0, port = 1;

	for (unsigned i = 0; i < vm->nr_devices; i++) {
		port += vm->devices[i]->be->nr_queues;
		/* Numbered by device type, as the guest's drivers number them. */
		kind_index += vm->devices[i]->be->virtio_id == d->be->virtio_id;
	}
	d->vm = vm;
	d->index = vm->nr_devices;
	d->gpa = HV_DEVICE_BASE + (uint64_t)d->index * HV_DEVICE_WINDOW;
	d->port = port;
	d->features |= 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX;
	snprintf(d->name, sizeof(d->name), "%s%u", d->be->kind, kind_index);
	d->epoll_fd = d->stop_fd = -1;
	for (unsigned i = 0; i < d->be->nr_queues; i++) {
		d->q[i].kick_fd = -1;
		d->q[i].num = HV_VIRTQ_SIZE_MAX;
	}
	pthread_mutex_init(&d->lock, NULL);
	/* From here on virtio_devs_destroy() releases d. */
	vm->devices[vm->nr_devices++] = d;

	if (d->be->serve_chains) {
		d->batch = calloc(VIRTIO_BATCH_MAX, sizeof(*d->batch));
		if (!d->batch) {
			fprintf(stderr, "hv: %s: %s: out of memory\n", vm->name, d->name);
			return HV_EXIT_OSERR;
		}
	}
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0)
		return host_error(vm, d, "epoll_create1");
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->stop_fd < 0 || epoll_add(d->epoll_fd, d->stop_fd, EPOLLIN, TOKEN_STOP) < 0)
		return host_error(vm, d, "stop eventfd");
	for (unsigned i = 0; i < d->be->nr_queues; i++) {
		d->q[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->q[i].kick_fd < 0 || epoll_add(d->epoll_fd, d->q[i].kick_fd, EPOLLIN, i) < 0)
			return host_error(vm, d, "queue eventfd");
	}
	/* The backend arms it (EPOLL_CTL_MOD) when it wants to hear from it. */
	if (d->host_fd >= 0 && epoll_add(d->epoll_fd, d->host_fd, 0, TOKEN_HOST) < 0)
		return host_error(vm, d, "epoll_ctl");
	return 0;
}

bool virtio_dev_stopping(const struct virtio_dev *d)
{
	return __atomic_load_n(&d->stopping, __ATOMIC_RELAXED);
}

int virtio_dev_poll_host(struct virtio_dev *d, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = TOKEN_HOST };

	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, d->host_fd, &ev) < 0)
		return -errno;
	d->host_polled = on;
	return 0;
}

bool virtio_queue_live(struct virtio_dev *d, unsigned q)
{
	return d->live && d->q[q].ready;
}

/* Lock held: signal queue q's event port, counted. */
static void virtio_dev_signal(struct virtio_dev *d, unsigned q)
{
	enum evtchn_result r = evtchn_set_pending(d->vm, d->port + q);

	if (trace_on())
		trace_event(d, q, r);
	switch (r) {
	case EVTCHN_WAS_PENDING: break;
	case EVTCHN_SET: d->events++; break;
	case EVTCHN_SET_WOKE: d->events++; d->wakeups++; break;
	}
}

void virtio_dev_break(struct virtio_dev *d, unsigned q, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	if (d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One call, so the line is not interleaved with another thread's. */
	fprintf(stderr, "hv: %s: %s queue %u: %s\n", d->vm->name, d->name, q, msg);
	__atomic_store_n(&d->status, d->status | VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			 __ATOMIC_SEQ_CST);
	virtio_dev_update_live(d);
	/* The spec's configuration-change notification [2.1.2]; on hv, the device's ports. */
	__atomic_or_fetch(&d->isr, VIRTIO_MMIO_INT_CONFIG, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < d->be->nr_queues; i++)
		virtio_dev_signal(d, i);
}

int virtio_queue_pop(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	int rc = virtq_dev_pop(&d->q[q].vq, c);

	if (rc < 0)
		virtio_dev_break(d, q, "%s", d->q[q].vq.why);
	return rc;
}

void virtio_queue_signal_used(struct virtio_dev *d, unsigned q)
{
	if (virtq_dev_need_event(&d->q[q].vq)) {
		__atomic_or_fetch(&d->isr, VIRTIO_MMIO_INT_VRING, __ATOMIC_SEQ_CST);
		virtio_dev_signal(d, q);
	}
}

void virtio_queue_push(struct virtio_dev *d, unsigned q, uint16_t head, uint32_t len)
{
	struct virtq_dev *vq = &d->q[q].vq;

	virtq_dev_push(vq, head, len);
	d->q[q].chains++;
	virtio_queue_signal_used(d, q);
}

static void serve_lock(struct virtio_dev *d)
{
	if (d->outer_lock)
		pthread_mutex_lock(d->outer_lock);
	pthread_mutex_lock(&d->lock);
}

static void serve_unlock(struct virtio_dev *d)
{
	pthread_mutex_unlock(&d->lock);
	if (d->outer_lock)
		pthread_mutex_unlock(d->outer_lock);
}

/*
 * Lock not held: watch queue q's available index for up to
 * HV_DEVICE_POLL_NS, and say whether the driver posted something. Kicks
 * stay off meanwhile (avail_event is not moved on), so a driver that posts
 * its next request within the window pays no doorbell: on proc a doorbell
 * is a stop of the guest's process, tens of microseconds. The ring is read
 * without the lock; what it shows is checked again under the lock by pop.
 */
static bool poll_avail(struct virtio_dev *d, unsigned q)
{
	uint64_t until = hv_now_ns() + HV_DEVICE_POLL_NS;

	do {
		if (virtio_dev_stopping(d) || !__atomic_load_n(&d->live, __ATOMIC_RELAXED))
			return false;
		if (virtq_dev_available(&d->q[q].vq))
			return true;
		/*
		 * A host side that can deliver (a NIC's tap with receive buffers
		 * posted) is served meanwhile, so a frame does not wait out the
		 * watch of the other queue. The yield lets the driver (or the
		 * sender) have this CPU on a host with more threads than CPUs:
		 * without it, after the tap's read, one TCP stream into a guest
		 * on proc ran at 10.4-10.8 Gbit/s against 11.0-13.8 with it.
		 */
		if (d->host_polled)
			d->be->host_ready(d);
		sched_yield();
	} while (hv_now_ns() < until);
	d->polls_idle++;
	return false;
}

/*
 * Lock held, the first chain taken into d->batch[0]: take what else is
 * available, up to the batch, serve it all at once and push it all, then
 * signal once. A chain that breaks the ring ends the batch; those before
 * it are still served.
 */
static void serve_batch(struct virtio_dev *d, unsigned q)
{
	int64_t lens[VIRTIO_BATCH_MAX];
	unsigned n = 1;

	while (n < VIRTIO_BATCH_MAX && virtio_queue_pop(d, q, &d->batch[n]) == 1)
		n++;
	d->be->serve_chains(d, q, d->batch, n, lens);
	d->batches++;
	for (unsigned i = 0; i < n; i++)
		if (lens[i] >= 0) {
			virtq_dev_push(&d->q[q].vq, d->batch[i].head, (uint32_t)lens[i]);
			d->q[q].chains++;
		}
	virtio_queue_signal_used(d, q);
}

/*
 * Serve queue q until it is empty, taking the lock for one chain (or one
 * batch) at a time so the vCPU's register accesses wait for at most that.
 * An emptied queue is watched a little while before kicks are turned back on.
 */
void virtio_serve_queue(struct virtio_dev *d, unsigned q)
{
	struct virtq_chain one, *c = d->batch ? &d->batch[0] : &one;
	bool served = false;

	while (!virtio_dev_stopping(d)) {
		int64_t len;
		int rc;

		serve_lock(d);
		if (!virtio_queue_live(d, q)) {
			serve_unlock(d);
			return;
		}
		rc = virtio_queue_pop(d, q, c);
		if (rc == 0 && served) {
			serve_unlock(d);
			served = false;
			if (poll_avail(d, q)) {
				d->polls_found++;
				continue;
			}
			serve_lock(d);
			if (!virtio_queue_live(d, q)) {
				serve_unlock(d);
				return;
			}
		}
		if (rc == 0 && virtq_dev_enable_kicks(&d->q[q].vq)) {
			serve_unlock(d);
			continue;
		}
		if (rc <= 0) {
			serve_unlock(d);
			return;
		}
		served = true;
		if (d->batch) {
			serve_batch(d, q);
			serve_unlock(d);
			continue;
		}
		len = d->be->serve_chain(d, q, c);
		if (len >= 0)
			virtio_queue_push(d, q, c->head, (uint32_t)len);
		serve_unlock(d);
	}
}

static void *io_thread(void *arg)
{
	struct virtio_dev *d = arg;
	struct epoll_event ev[VIRTIO_DEV_MAX_QUEUES + 2];

	for (;;) {
		int n = epoll_wait(d->epoll_fd, ev, VIRTIO_DEV_MAX_QUEUES + 2, -1);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "hv: %s: %s: epoll_wait: %s; the device stops\n",
				d->vm->name, d->name, strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			uint32_t token = ev[i].data.u32;
			uint64_t kicks;

			if (token == TOKEN_STOP || virtio_dev_stopping(d))
				return NULL;
			if (token == TOKEN_HOST) {
				d->be->host_ready(d);
				continue;
			}
			/* The count is the number of kicks since the last read: no exit each. */
			if (read(d->q[token].kick_fd, &kicks, sizeof(kicks)) != sizeof(kicks))
				continue;
			d->doorbells += kicks;
			if (trace_on())
				trace_doorbell(d, token, kicks);
			if (d->be->kick)
				d->be->kick(d, token);
			else
				virtio_serve_queue(d, token);
		}
	}
}

int virtio_devs_start(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct virtio_dev *d = vm->devices[i];
		int rc = pthread_create(&d->thread, NULL, io_thread, d);

		if (rc) {
			errno = rc;
			vm_fail(vm, HV_EXIT_OSERR, "%s: starting its I/O thread: %s", d->name,
				strerror(rc));
			return HV_EXIT_OSERR;
		}
		d->thread_running = true;
	}
	return 0;
}

int vm_kick_fd(const struct hv_vm *vm, unsigned dev, unsigned q)
{
	if (dev >= vm->nr_devices || q >= vm->devices[dev]->be->nr_queues)
		return -1;
	return vm->devices[dev]->q[q].kick_fd;
}

void virtio_devs_stop(struct hv_vm *vm)
{
	uint64_t one = 1;

	/* All first, then join: the threads finish their current chains in parallel. */
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct virtio_dev *d = vm->devices[i];

		__atomic_store_n(&d->stopping, true, __ATOMIC_RELAXED);
		if (d->thread_running)
			(void)!write(d->stop_fd, &one, sizeof(one));
	}
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct virtio_dev *d = vm->devices[i];

		if (d->thread_running)
			pthread_join(d->thread, NULL);
		d->thread_running = false;
	}
	/*
	 * A guest that exited on its own may have kicked a queue its device thread had not
	 * looked at yet (a last packet, a last write): do that work now, on this thread, with
	 * every device thread gone. Not after a fault: that guest's rings are not to be trusted
	 * with more than they were already.
	 */
	if (!vm->exited)
		return;
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct virtio_dev *d = vm->devices[i];

		__atomic_store_n(&d->stopping, false, __ATOMIC_RELAXED);
		for (unsigned q = 0; q < d->be->nr_queues; q++)
			if (d->be->drain_queues & (1u << q))
				virtio_serve_queue(d, q);
		__atomic_store_n(&d->stopping, true, __ATOMIC_RELAXED);
	}
}

void virtio_devs_quiesce(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		pthread_mutex_lock(&vm->devices[i]->lock);
		pthread_mutex_unlock(&vm->devices[i]->lock);
	}
}

void virtio_devs_release(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct virtio_dev *d = vm->devices[i];

		if (d->be->release)
			d->be->release(d);
	}
}

void virtio_devs_destroy(struct hv_vm *vm)
{
	virtio_devs_stop(vm);
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct virtio_dev *d = vm->devices[i];

		for (unsigned q = 0; q < d->be->nr_queues; q++)
			if (d->q[q].kick_fd >= 0)
				close(d->q[q].kick_fd);
		if (d->stop_fd >= 0)
			close(d->stop_fd);
		if (d->epoll_fd >= 0)
			close(d->epoll_fd);
		pthread_mutex_destroy(&d->lock);
		free(d->batch);
		d->be->destroy(d);
		vm->devices[i] = NULL;
	}
	vm->nr_devices = 0;
}
