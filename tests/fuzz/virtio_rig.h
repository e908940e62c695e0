/* SPDX-License-Identifier: MIT */
/*
 * The rig fuzz_virtio_dev.c runs hv's devices in: one domain with a disk,
 * a read-only disk, a disk without io_uring and two NICs, made by hv's own
 * virtio_blk_add and virtio_net_add, and what hv's device code calls around
 * it (its clock, event ports, a tap), answered (virtio_rig.c); and the watch
 * on every chain the device takes, reads, answers and gives back, with the
 * checks made there and after each serving (virtio_watch.c). The link sends
 * hv's calls on a tap and into virtq_dev.c to them (-Wl,--wrap, mk/fuzz.mk).
 */
#ifndef TESTS_FUZZ_VIRTIO_RIG_H
#define TESTS_FUZZ_VIRTIO_RIG_H

#include <sys/uio.h>

#include "fuzz.h"
#include "virtio_dev.h"

#define WINDOW 0x100000ull /* the driver's memory: rings, requests, buffers */
#define WINDOW_SIZE 0x10000ull
#define MEM_SIZE (WINDOW + WINDOW_SIZE)
#define DISK_SECTORS 16u
#define DISK_BYTES (DISK_SECTORS * VIRTIO_BLK_SECTOR_SIZE)
#define FRAMES_MAX 8 /* frames waiting in the tap */
#define ETH_HLEN 14

/* The devices, in the order the input's first byte names them. */
enum { K_BLK, K_BLK_RO, K_BLK_PLAIN, K_NET, K_NET_PLAIN, NR_KINDS };

struct frame {
	uint32_t len;
	size_t nhead;
	uint8_t head[255]; /* its first bytes, the header first; a pattern after */
};

/* The fuzzer's tap: an eventfd, readable while frames wait, as a tap's descriptor is. */
struct tap {
	int fd;
	unsigned offload; /* TUN_F_*, as last set */
	bool refuse;      /* fail the next TUNSETOFFLOAD */
	unsigned nr_frames;
	struct frame frames[FRAMES_MAX];
};

struct rig {
	struct virtio_dev *d;
	int disk_fd; /* the memfd behind a disk; -1 for a NIC */
	bool ro;
	char id[VIRTIO_BLK_ID_BYTES]; /* what GET_ID answers: the file's name */
	struct tap *tap;
};

extern struct hv_vm rig_vm;
extern struct rig *cur; /* the device under test */
extern unsigned rig_signalled; /* its queues whose ports were signalled, a bit each */

/* Once: the domain and its devices. */
void rig_init(void);

/* Make device kind the one under test: its disk as first written, its tap empty. */
void rig_select(unsigned kind);

/* Hand the tap a frame for the guest (at most FRAMES_MAX wait); false when it has no room. */
bool rig_frame(const struct frame *f);

/*
 * virtio_watch.c. Start an input: no chains out, the disk holding these
 * bytes (NULL for a NIC). Reset: hv reset the device, the chains it held
 * are gone.
 */
void watch_start(const uint8_t *disk);
void watch_reset(void);

/*
 * Around one serving: begin notes memory as it is; end checks what the
 * serving wrote (memory, the disk, the last frame received) and returns
 * whether it saw a reason for the device to break.
 */
void watch_begin(void);
bool watch_end(void);

/*
 * The tap's side: hv read the frame f (NULL: none waited) into iov, or
 * wrote the frame in iov; the watch checks hv's buffers and header.
 */
void watch_tap_read(const struct iovec *iov, int n, const struct frame *f);
void watch_tap_write(const struct iovec *iov, int n);

#endif /* TESTS_FUZZ_VIRTIO_RIG_H */
