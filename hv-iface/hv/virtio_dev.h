/* SPDX-License-Identifier: MIT */
/* hv's virtio-mmio devices: the state every device shares, its backends' hooks, its I/O thread. */
#ifndef HV_VIRTIO_DEV_H
#define HV_VIRTIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hv.h"
#include "virtio.h"
#include "virtq_dev.h"

#define VIRTIO_DEV_MAX_QUEUES 2
#define VIRTIO_DEV_CONFIG_MAX 64 /* bytes of device-specific configuration space */

struct virtio_dev;

/*
 * What a device type adds to the transport. Hooks marked "lock held" run
 * with the device's lock taken; the I/O thread's hooks run on the device's
 * own thread.
 */
struct virtio_backend {
	const char *kind; /* "virtio-blk": with the device's number, its name in messages */
	uint32_t virtio_id;
	unsigned nr_queues;
	/*
	 * The queues on which the driver hands the device work (blk: 0; net: TX),
	 * one bit each: what a guest queued just before it exited is still done.
	 */
	unsigned drain_queues;
	/*
	 * I/O thread, lock held: serve one chain taken from queue q. Returns the
	 * bytes written into it (the used length), or -EPROTO when the chain is
	 * malformed and the device has been broken with virtio_dev_break().
	 */
	int64_t (*serve_chain)(struct virtio_dev *d, unsigned q, struct virtq_chain *c);
	/*
	 * Optional, I/O thread, lock held: serve the n chains taken from queue q
	 * at once (n at most VIRTIO_BATCH_MAX), each as serve_chain would, its
	 * result in lens[i]. With it, virtio_serve_queue takes every chain
	 * available, up to the batch, before serving any.
	 */
	void (*serve_chains)(struct virtio_dev *d, unsigned q, struct virtq_chain *c, unsigned n,
			     int64_t *lens);
	/*
	 * Optional, vCPU thread, lock held: the driver's features f as it sets
	 * FEATURES_OK (0 at a reset). Returns 0, or nonzero to refuse them (after
	 * virtio_features_refused() said why, or a message of its own).
	 */
	int (*set_features)(struct virtio_dev *d, uint64_t f);
	/* I/O thread: the driver kicked queue q. NULL: virtio_serve_queue() it. */
	void (*kick)(struct virtio_dev *d, unsigned q);
	/* I/O thread: host_fd is readable. */
	void (*host_ready)(struct virtio_dev *d);
	/* Write the backend's own stats after "name: " (a short phrase, no newline). */
	void (*stats)(const struct virtio_dev *d, char *buf, size_t len);
	/*
	 * Optional: the domain has ended and its devices have stopped; give back
	 * at once what someone else may be waiting for (a disk's lock, a tap),
	 * though hv runs on with other domains. Stats stay readable.
	 */
	void (*release)(struct virtio_dev *d);
	/* Release the backend's resources and the device itself. */
	void (*destroy)(struct virtio_dev *d);
};

#define VIRTIO_BATCH_MAX 32 /* chains a serve_chains backend is given at once */

struct virtio_queue {
	/* The driver's registers; the vCPU thread writes them with the lock held. */
	uint16_t num;
	bool ready;
	uint64_t desc, driver, device;
	struct virtq_dev vq; /* bound while ready */
	int kick_fd;         /* eventfd the I/O thread polls; QueueNotify writes land here */
	bool kick_by_doorbell; /* kick_fd is the backend's doorbell (from the first QueueReady on) */
	/* Stats, written by the I/O thread. */
	uint64_t chains, bytes;
};

/*
 * One device. Locking: lock serialises the vCPU thread's register accesses
 * against the I/O thread, which holds it for each chain it serves (taking the
 * chain, the I/O, giving it back). So when a reset or QueueReady = 0 returns
 * to the guest, the device no longer touches the queue's memory. Status is
 * also read without the lock, atomically, to test whether to serve.
 */
struct virtio_dev {
	const struct virtio_backend *be;
	struct hv_vm *vm;
	char name[24]; /* "virtio-blk0" */
	unsigned index; /* its window */
	uint64_t gpa;
	uint32_t port; /* queue q signals port + q */
	uint64_t features; /* offered */
	uint8_t config[VIRTIO_DEV_CONFIG_MAX];
	unsigned config_size;
	int host_fd; /* the backend's fd the I/O thread polls (the tap), or -1 */
	bool host_polled; /* I/O thread: host_fd is in the epoll set's events now */
	/*
	 * NULL, or a lock virtio_serve_queue() takes before lock for each chain:
	 * a switch port's switch, so that serving a chain may take another
	 * device's lock without an order problem (virtio_net_switch.c).
	 */
	pthread_mutex_t *outer_lock;

	pthread_mutex_t lock;
	uint32_t status; /* VIRTIO_STATUS_*; atomic */
	uint32_t isr;    /* InterruptStatus; atomic */
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	bool live;        /* counted in vm->wake_sources */
	bool refused;     /* FEATURES_OK was refused once: said so */
	struct virtio_queue q[VIRTIO_DEV_MAX_QUEUES];

	pthread_t thread;
	bool thread_running;
	int epoll_fd, stop_fd;
	bool stopping; /* atomic */

	/*
	 * Stats. mmio_exits, bad_accesses, hand_kicks (kicks hv wrote itself, at
	 * DRIVER_OK or for a notify that exited): vCPU thread; the rest: I/O thread.
	 */
	uint64_t mmio_exits, bad_accesses, hand_kicks, doorbells, events, wakeups;
	uint64_t polls_found, polls_idle; /* I/O thread: poll_avail's outcomes */
	uint64_t batches; /* I/O thread: serve_chains calls */
	struct virtq_chain *batch; /* VIRTIO_BATCH_MAX chains, for a serve_chains backend */
};

/*
 * main.c: open a device from its command-line argument and add it as the
 * VM's next device, before the VM is created. Each prints its own error and
 * returns 0 or an hv_exit_code.
 */
int virtio_blk_add(struct hv_vm *vm, const char *arg);
int virtio_net_add(struct hv_vm *vm, const char *arg);

/* virtio_dev.c: lifetime of the VM's devices. */
int virtio_dev_add(struct hv_vm *vm, struct virtio_dev *d); /* 0 or an hv_exit_code */
int virtio_devs_start(struct hv_vm *vm); /* the I/O threads; 0 or an hv_exit_code */
void virtio_devs_stop(struct hv_vm *vm); /* stop and join them; memory stays mapped */
void virtio_devs_release(struct hv_vm *vm); /* after stop: host files and taps go back */
/* Take and drop each device's lock: a request under way when it is called has ended. */
void virtio_devs_quiesce(struct hv_vm *vm);
void virtio_devs_destroy(struct hv_vm *vm);

/* virtio_mmio.c: set_features refuses f for why (one line naming the device); returns -EINVAL. */
int virtio_features_refused(struct virtio_dev *d, uint64_t f, const char *why);

/* virtio_dev.c: for backends, on the I/O thread. */
bool virtio_queue_live(struct virtio_dev *d, unsigned q); /* lock held */
int virtio_queue_pop(struct virtio_dev *d, unsigned q, struct virtq_chain *c); /* lock held */
void virtio_queue_push(struct virtio_dev *d, unsigned q, uint16_t head, uint32_t len);
/* Lock held: after virtq_dev_push()es, tell the driver, if it asked to hear. */
void virtio_queue_signal_used(struct virtio_dev *d, unsigned q);
void virtio_serve_queue(struct virtio_dev *d, unsigned q);
bool virtio_dev_stopping(const struct virtio_dev *d);
int virtio_dev_poll_host(struct virtio_dev *d, bool on); /* poll host_fd or not; 0 or -errno */

/*
 * Lock held: the driver broke queue q. Print one line naming the device,
 * the queue and what broke, set DEVICE_NEEDS_RESET, and signal the device's
 * ports so a blocked driver looks. The device serves nothing until reset.
 */
void virtio_dev_break(struct virtio_dev *d, unsigned q, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* virtio_mmio.c: the vCPU thread's register access at offset off of the device's window. */
void virtio_mmio_access(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len,
			bool is_write);
bool virtio_dev_update_live(struct virtio_dev *d); /* lock held; returns whether live */

#define virtio_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif /* HV_VIRTIO_DEV_H */
