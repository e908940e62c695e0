/* SPDX-License-Identifier: MIT */
/*
 * The rig of fuzz_virtio_dev.c (virtio_rig.h): hv's devices in one domain,
 * and what their code calls around it, the fuzzer's tap among it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sanitizer/asan_interface.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "trace.h"
#include "virtio_net.h"
#include "virtio_rig.h"

#define NET_HDR sizeof(struct virtio_net_hdr)
#define NUM_BUFFERS offsetof(struct virtio_net_hdr, num_buffers)

struct hv_vm rig_vm;
struct rig *cur;
unsigned rig_signalled;

static struct rig rigs[NR_KINDS];
static struct tap taps[2];
static unsigned nr_taps;
static uint64_t clock_ns;
static uint8_t pattern[DISK_BYTES]; /* each input's disk, at first */

static void need(bool ok, const char *what)
{
	if (!ok) {
		perror(what);
		abort();
	}
}

/* --- What hv's device code finds around it: a clock, event ports, no trace, a backend ----- */

/* Each reading a device poll's length after the last: an emptied queue is looked at once. */
uint64_t hv_now_ns(void)
{
	return clock_ns += HV_DEVICE_POLL_NS;
}

enum evtchn_result evtchn_set_pending(struct hv_vm *vm, uint32_t port)
{
	const struct virtio_dev *d = cur->d;

	FUZZ_CHECK(vm == &rig_vm && port >= d->port && port < d->port + d->be->nr_queues);
	rig_signalled |= 1u << (port - d->port);
	return EVTCHN_SET;
}

static void not_here(const char *what)
{
	fprintf(stderr, "virtio_rig: %s called, which the rig never does\n", what);
	abort();
}

bool trace_enabled; /* false: the calls below are never made */

void trace_doorbell(const struct virtio_dev *d, unsigned q, uint64_t kicks)
{
	(void)d, (void)q, (void)kicks;
	not_here("trace_doorbell");
}

void trace_event(const struct virtio_dev *d, unsigned q, enum evtchn_result r)
{
	(void)d, (void)q, (void)r;
	not_here("trace_event");
}

void trace_blk_request(const struct virtio_dev *d, unsigned q, const struct virtq_chain *c,
		       const struct virtio_blk_req_hdr *h, uint8_t status, uint64_t ns)
{
	(void)d, (void)q, (void)c, (void)h, (void)status, (void)ns;
	not_here("trace_blk_request");
}

void vm_fail(struct hv_vm *vm, int code, const char *fmt, ...)
{
	(void)vm, (void)code, (void)fmt;
	not_here("vm_fail"); /* only starting I/O threads fails so */
}

int virtio_net_switch_add(struct hv_vm *vm, const char *arg)
{
	(void)vm, (void)arg;
	not_here("virtio_net_switch_add");
	return HV_EXIT_SOFTWARE;
}

/* As on proc: no doorbells, so a notify exits to virtio_mmio.c, which kicks by hand. */
static int no_doorbell(struct hv_vm *vm, uint64_t gpa, bool any, uint32_t datamatch, int fd)
{
	(void)vm, (void)gpa, (void)any, (void)datamatch, (void)fd;
	return -EOPNOTSUPP;
}

static const struct hv_backend rig_backend = { .name = "fuzz", .doorbell = no_doorbell };

/* --- The fuzzer's tap: hv's calls on a tap ------------------------------------------------- */

unsigned __real_if_nametoindex(const char *name);
FILE *__real_fopen(const char *path, const char *mode);
int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);
ssize_t __real_readv(int fd, const struct iovec *iov, int n);
ssize_t __real_writev(int fd, const struct iovec *iov, int n);

static struct tap *tap_of(int fd)
{
	for (unsigned i = 0; i < nr_taps; i++)
		if (taps[i].fd == fd)
			return &taps[i];
	return NULL;
}

/* The taps are fuzz0 and fuzz1. */
unsigned __wrap_if_nametoindex(const char *name)
{
	if (strcmp(name, "fuzz0") == 0 || strcmp(name, "fuzz1") == 0)
		return 1000u + (unsigned)(name[4] - '0');
	return __real_if_nametoindex(name);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	static char flags[] = "0x1002\n"; /* IFF_TAP | IFF_NO_PI, as sysfs shows a tap's */

	if (strcmp(path, "/sys/class/net/fuzz0/tun_flags") == 0 ||
	    strcmp(path, "/sys/class/net/fuzz1/tun_flags") == 0)
		return fmemopen(flags, strlen(flags), "r");
	return __real_fopen(path, mode);
}

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (strcmp(path, "/dev/net/tun") != 0)
		return __real_open(path, flags, mode);
	need(nr_taps < 2, "a third tap");
	taps[nr_taps].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return taps[nr_taps++].fd;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct tap *t = tap_of(fd);
	void *arg;
	va_list ap;

	va_start(ap, req);
	if (t && req == TUNSETOFFLOAD) {
		unsigned offload = va_arg(ap, unsigned);

		va_end(ap);
		if (t->refuse) {
			t->refuse = false;
			errno = EINVAL;
			return -1;
		}
		t->offload = offload;
		return 0;
	}
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!t)
		return __real_ioctl(fd, req, arg);
	if (req == TUNSETVNETHDRSZ)
		FUZZ_CHECK(*(int *)arg == (int)NET_HDR);
	else
		FUZZ_CHECK(req == TUNSETIFF && (((struct ifreq *)arg)->ifr_flags & IFF_VNET_HDR));
	return 0;
}

bool rig_frame(const struct frame *f)
{
	uint64_t one = 1;

	if (!cur->tap || cur->tap->nr_frames == FRAMES_MAX)
		return false;
	cur->tap->frames[cur->tap->nr_frames++] = *f;
	need(write(cur->tap->fd, &one, sizeof(one)) == sizeof(one), "the tap's eventfd");
	return true;
}

static uint8_t frame_byte(const struct frame *f, uint64_t i)
{
	return i < f->nhead ? f->head[i] : (uint8_t)(i * 7 + 1);
}

/* A tap's read: the next frame into the buffers, num_buffers left alone; its whole length. */
static ssize_t tap_read(struct tap *t, const struct iovec *iov, int n)
{
	struct frame *f = &t->frames[0];
	uint64_t at = 0, len = f->len;

	FUZZ_CHECK(t == cur->tap);
	watch_tap_read(iov, n, t->nr_frames ? f : NULL);
	if (t->nr_frames == 0) {
		errno = EAGAIN;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		uint8_t *b = iov[i].iov_base;

		for (uint64_t j = 0; j < iov[i].iov_len && at < len; j++, at++)
			if (at < NUM_BUFFERS || at >= NET_HDR)
				b[j] = frame_byte(f, at);
	}
	memmove(f, f + 1, --t->nr_frames * sizeof(*f));
	if (t->nr_frames == 0)
		need(read(t->fd, &at, sizeof(at)) == sizeof(at), "the tap's eventfd");
	return (ssize_t)len;
}

/* A tap's write: refused for less than an Ethernet header or more than a segment. */
static ssize_t tap_write(struct tap *t, const struct iovec *iov, int n)
{
	uint64_t len = 0;

	FUZZ_CHECK(t == cur->tap);
	watch_tap_write(iov, n);
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (len < NET_HDR + ETH_HLEN || len > NET_HDR + VIRTIO_NET_SEGMENT_MAX) {
		errno = EINVAL;
		return -1;
	}
	return (ssize_t)len;
}

ssize_t __wrap_readv(int fd, const struct iovec *iov, int n)
{
	struct tap *t = tap_of(fd);

	return t ? tap_read(t, iov, n) : __real_readv(fd, iov, n);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
	struct tap *t = tap_of(fd);

	return t ? tap_write(t, iov, n) : __real_writev(fd, iov, n);
}

/* --- The rig, once, and each input's device ------------------------------------------------- */

static void add_disk(unsigned kind, bool ro)
{
	char arg[64];
	int fd = memfd_create("fuzz-disk", MFD_CLOEXEC);

	need(fd >= 0 && ftruncate(fd, DISK_BYTES) == 0, "memfd");
	snprintf(arg, sizeof(arg), "/proc/self/fd/%d%s", fd, ro ? ",ro" : "");
	need(virtio_blk_add(&rig_vm, arg) == 0, "virtio_blk_add");
	rigs[kind] = (struct rig){ rig_vm.devices[rig_vm.nr_devices - 1], fd, ro, { 0 }, NULL };
	snprintf(rigs[kind].id, sizeof(rigs[kind].id), "%d", fd);
}

static void add_nic(unsigned kind, const char *arg)
{
	need(virtio_net_add(&rig_vm, arg) == 0, "virtio_net_add");
	rigs[kind] = (struct rig){ rig_vm.devices[rig_vm.nr_devices - 1], -1, false, { 0 }, NULL };
	rigs[kind].tap = tap_of(rigs[kind].d->host_fd);
}

/* From here on io_uring_setup fails with ENOSYS, as under a container's seccomp filter. */
static void forbid_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	need(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		     prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0,
	     "seccomp");
}

void rig_init(void)
{
	rig_vm.name = "fuzz";
	rig_vm.be = &rig_backend;
	rig_vm.mem_size = MEM_SIZE;
	rig_vm.mem = calloc(1, MEM_SIZE); /* exactly: ASan's redzone follows */
	need(rig_vm.mem != NULL, "guest memory");
	/* The boot info's pages: the guest reads them, nothing writes them. */
	memset(rig_vm.mem + HV_L_BOOT_INFO, 0x5a, HV_L_SHARED - HV_L_BOOT_INFO);
	/* hv's own area: no device may touch it. */
	ASAN_POISON_MEMORY_REGION(rig_vm.mem, HV_L_BOOT_INFO);
	for (unsigned i = 0; i < DISK_BYTES; i++)
		pattern[i] = (uint8_t)(i / VIRTIO_BLK_SECTOR_SIZE * 31 + i * 13);
	add_disk(K_BLK, false);
	add_disk(K_BLK_RO, true);
	forbid_io_uring();
	add_disk(K_BLK_PLAIN, false);
	add_nic(K_NET, "fuzz0");
	add_nic(K_NET_PLAIN, "fuzz1,offload=off");
}

void rig_select(unsigned kind)
{
	uint64_t count;

	cur = &rigs[kind];
	memset(rig_vm.mem + HV_L_SHARED, 0, MEM_SIZE - HV_L_SHARED);
	if (cur->disk_fd >= 0)
		need(pwrite(cur->disk_fd, pattern, DISK_BYTES, 0) == DISK_BYTES, "the disk");
	if (cur->tap && cur->tap->nr_frames) {
		cur->tap->nr_frames = 0;
		need(read(cur->tap->fd, &count, sizeof(count)) == sizeof(count), "the tap");
	}
	watch_start(cur->disk_fd >= 0 ? pattern : NULL);
}
