/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hv's virtio disk and NIC above the ring code (fuzz_virtq_dev.c
 * has that): the register file (virtio_mmio.c), the serving of a queue
 * (virtio_dev.c), disk requests (virtio_blk.c) and frames both ways
 * (virtio_net.c), under a hostile driver's register accesses, its writes to
 * its own memory and its notifies, and frames arriving from the host. A queue
 * is served on this thread by the calls the device's I/O thread makes (its
 * epoll set, then the backend's kick or virtio_serve_queue, or host_ready),
 * so each request is done before the next operation.
 *
 * The rig (virtio_rig.h): one domain, its memory malloc'ed to its exact
 * size with hv's own area poisoned for ASan, and five devices made by hv's
 * virtio_blk_add and virtio_net_add: a disk on a 16-sector memfd, another
 * read-only, a third with no io_uring (made once a seccomp filter refuses
 * io_uring_setup, as a container's may: its requests go by preadv and
 * pwritev), a NIC offering every offload and one with offload=off, both on
 * the fuzzer's own tap: the link (mk/fuzz.mk) sends hv's calls on a tap
 * (if_nametoindex, fopen of its tun_flags, open of /dev/net/tun, ioctl,
 * readv, writev) to virtio_rig.c, and its calls into virtq_dev.c to
 * virtio_watch.c, which sees each chain the device takes, reads, answers
 * and gives back.
 *
 * Input: a byte for the device (modulo 5: disk, read-only disk, disk without
 * io_uring, NIC, NIC with offload=off), then operations, each a byte (bits
 * 0-2 the operation, bit 3 a queue, bit 4 "raw": arguments at full width
 * rather than small and biased to be valid, bits 5-7 the operation's own)
 * and its arguments, in the order the code reads them:
 *   SETUP   the driver's bring-up: u32 feature mask over what is offered (raw:
 *           u64 features as they are); per queue u8 size (1 << size % 9; raw:
 *           as is) and u16 window offsets of its descriptors, driver and device
 *           areas (aligned unless raw). Bit 5: the tap refuses the offloads at
 *           FEATURES_OK; bit 6: no DRIVER_OK.
 *   WRITE   u8 register (regs[]; raw: u16 offset), u16 value (for an address
 *           register the window's address plus it; raw: u32); bits 5-6 the
 *           width: 4, 1, 2, 8 bytes (raw: a u8 width after the offset).
 *   READ    as WRITE, without the value.
 *   POKE    u16 window offset, u8 n, n bytes.
 *   DESC    descriptor u8 i of the queue's table: u16 window offset (raw: u64
 *           address), u16 length (raw: u32), u8 flags, u8 next (raw: u16).
 *   AVAIL   u8 head (raw: u16): heads head to head + bits 5-7 made available.
 *   NOTIFY  the queue of bit 3 (raw: a u32 queue number).
 *   FRAME   a frame from the tap, its header first: u16 length (clipped to
 *           what a tap hands over), u8 n, its first n bytes; a pattern after.
 *
 * Checked: the status register and the driver's features read as the
 * driver's writes make them, FEATURES_OK kept exactly for what may be
 * taken, the tap told the offloads taken; a bad queue layout, a ring that
 * breaks, a request with no status byte or a receive buffer shorter than
 * the header break the device (NEEDS_RESET, the configuration interrupt,
 * every port signalled), nothing else does, and a broken device takes no
 * more chains nor answers one taken after the one that broke it; every
 * buffer lies in the guest's memory (a writable one where the guest may be
 * written), every byte of memory that changed lies in a writable buffer of a
 * chain taken or in a device area; a chain given back was taken and not
 * given back yet, with a length within its writable bytes. Disk: the status
 * byte is the one the header and lengths call for (read-only, out of range,
 * not whole sectors, unknown type), written last and before the chain goes
 * back, with the used length the request wrote; GET_ID writes the disk's ID;
 * a sector no acknowledged write covered keeps its bytes (a read-only disk
 * all of them), one that was written holds what a write carried, and a read
 * brings the disk's bytes. NIC: a frame sent carries the driver's header,
 * num_buffers cleared, allowed by the features taken, and the rest of the
 * chain's readable bytes; a frame received is read into exactly the
 * writable buffers of the receive chains taken, and delivered when it fits
 * them, over as many chains as num_buffers says (one without MRG_RXBUF),
 * each in the order taken and as full as the frame allows; one that does
 * not fit is dropped.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "virtio_net.h"
#include "virtio_rig.h"

#define NET_HDR sizeof(struct virtio_net_hdr)

enum { OP_SETUP, OP_WRITE, OP_READ, OP_POKE, OP_DESC, OP_AVAIL, OP_NOTIFY, OP_FRAME };
#define OP_QUEUE(op) (((op) >> 3) & 1u)
#define OP_RAW 0x10u

static const uint16_t regs[] = {
	VIRTIO_MMIO_MAGIC_VALUE,	VIRTIO_MMIO_DEVICE_ID,
	VIRTIO_MMIO_DEVICE_FEATURES,	VIRTIO_MMIO_DEVICE_FEATURES_SEL,
	VIRTIO_MMIO_DRIVER_FEATURES,	VIRTIO_MMIO_DRIVER_FEATURES_SEL,
	VIRTIO_MMIO_QUEUE_SEL,		VIRTIO_MMIO_QUEUE_NUM_MAX,
	VIRTIO_MMIO_QUEUE_NUM,		VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY,	VIRTIO_MMIO_INTERRUPT_STATUS,
	VIRTIO_MMIO_INTERRUPT_ACK,	VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW,	VIRTIO_MMIO_QUEUE_DESC_HIGH,
	VIRTIO_MMIO_QUEUE_DRIVER_LOW,	VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
	VIRTIO_MMIO_QUEUE_DEVICE_LOW,	VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
	VIRTIO_MMIO_CONFIG_GENERATION,	VIRTIO_MMIO_CONFIG,
	VIRTIO_MMIO_CONFIG + 8,		VIRTIO_MMIO_CONFIG + 20,
};
#define NR_REGS (sizeof(regs) / sizeof(regs[0]))

/* The driver's view of the registers, as its writes make them. */
static struct {
	uint32_t status, features_sel;
	uint64_t features;
} drv;

static bool negotiated(unsigned bit)
{
	return drv.features & (1ull << bit);
}

/* --- The driver: registers, its memory, frames from the host ------------------------------- */

static uint64_t offload_for(uint64_t f)
{
	return (f & 1ull << VIRTIO_NET_F_GUEST_CSUM ? TUN_F_CSUM : 0) |
	       (f & 1ull << VIRTIO_NET_F_GUEST_TSO4 ? TUN_F_TSO4 : 0) |
	       (f & 1ull << VIRTIO_NET_F_GUEST_TSO6 ? TUN_F_TSO6 : 0);
}

/* What FEATURES_OK keeps: a subset of the offer with VERSION_1, for a NIC one the spec allows. */
static bool features_acceptable(bool tap_refused)
{
	uint64_t f = drv.features, tso_in, tso_out;

	if ((f & ~cur->d->features) || !negotiated(VIRTIO_F_VERSION_1))
		return false;
	if (!cur->tap)
		return true;
	tso_in = 1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6;
	tso_out = 1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6;
	if ((f & tso_in) && !negotiated(VIRTIO_NET_F_GUEST_CSUM))
		return false;
	return !((f & tso_out) && !negotiated(VIRTIO_NET_F_CSUM)) && !tap_refused;
}

/* Whether hv binds a queue with these registers (virtq_dev_init's conditions). */
static bool layout_ok(const struct virtio_queue *q)
{
	uint64_t num = q->num, end = MEM_SIZE;

	return num && num <= HV_VIRTQ_SIZE_MAX && !(num & (num - 1)) && q->desc % 16 == 0 &&
	       q->driver % 2 == 0 && q->device % 4 == 0 && q->desc >= HV_L_BOOT_INFO &&
	       q->desc <= end && VIRTQ_DESC_SIZE(num) <= end - q->desc &&
	       q->driver >= HV_L_BOOT_INFO && q->driver <= end &&
	       VIRTQ_AVAIL_SIZE(num) <= end - q->driver && q->device >= HV_L_SHARED &&
	       q->device <= end && VIRTQ_USED_SIZE(num) <= end - q->device;
}

/* A 32-bit register write, as the driver's model of the device has it. */
static void model_write(uint64_t off, uint32_t v, unsigned sel, bool was_ready, bool tap_refused)
{
	const struct virtio_dev *d = cur->d;
	uint32_t s;

	switch (off) {
	case VIRTIO_MMIO_STATUS:
		if (v == 0) {
			memset(&drv, 0, sizeof(drv));
			watch_reset();
			FUZZ_CHECK(!cur->tap || cur->tap->offload == 0);
			return;
		}
		s = drv.status | (v & ~(uint32_t)VIRTIO_STATUS_DEVICE_NEEDS_RESET);
		if ((s & ~drv.status & VIRTIO_STATUS_FEATURES_OK) &&
		    !features_acceptable(tap_refused))
			s &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
		if ((s & ~drv.status & VIRTIO_STATUS_FEATURES_OK) && cur->tap)
			FUZZ_CHECK(cur->tap->offload == offload_for(drv.features));
		drv.status = s;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		drv.features_sel = v;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(drv.status & VIRTIO_STATUS_FEATURES_OK) && drv.features_sel < 2)
			drv.features = (drv.features & ~(0xffffffffull << 32 * drv.features_sel)) |
				       (uint64_t)v << 32 * drv.features_sel;
		return;
	case VIRTIO_MMIO_QUEUE_READY:
		if (v == 0 || sel >= d->be->nr_queues || was_ready)
			return;
		FUZZ_CHECK(d->q[sel].ready == layout_ok(&d->q[sel]));
		if (!d->q[sel].ready)
			drv.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		return;
	}
}

/* The registers read as the driver's writes made them; a device newly broken told the driver. */
static void check_status(uint32_t before)
{
	const struct virtio_dev *d = cur->d;

	FUZZ_CHECK(d->status == drv.status && d->driver_features == drv.features);
	if (d->status & ~before & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		FUZZ_CHECK((d->isr & VIRTIO_MMIO_INT_CONFIG) &&
			   rig_signalled == (1u << d->be->nr_queues) - 1);
}

/* Serve what the device's epoll set says is ready, as its I/O thread would, until nothing is. */
static void serve(void)
{
	struct virtio_dev *d = cur->d;
	struct epoll_event ev[VIRTIO_DEV_MAX_QUEUES + 2];
	uint32_t before = d->status;
	int n = epoll_wait(d->epoll_fd, ev, VIRTIO_DEV_MAX_QUEUES + 2, 0);

	if (n <= 0)
		return;
	rig_signalled = 0;
	watch_begin();
	for (unsigned rounds = 0; n > 0; rounds++) {
		/* Each round takes a kick or a frame: the device does not keep itself busy. */
		FUZZ_CHECK(rounds < 16);
		for (int i = 0; i < n; i++) {
			uint32_t token = ev[i].data.u32;
			uint64_t kicks;

			if (token >= d->be->nr_queues)
				d->be->host_ready(d);
			else if (read(d->q[token].kick_fd, &kicks, sizeof(kicks)) != sizeof(kicks))
				continue;
			else if (d->be->kick)
				d->be->kick(d, token);
			else
				virtio_serve_queue(d, token);
		}
		n = epoll_wait(d->epoll_fd, ev, VIRTIO_DEV_MAX_QUEUES + 2, 0);
	}
	if (watch_end())
		drv.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	check_status(before);
}

static void mmio_write(uint64_t off, uint32_t v, unsigned len)
{
	struct virtio_dev *d = cur->d;
	uint32_t before = d->status;
	uint64_t kicks = d->hand_kicks;
	unsigned sel = d->queue_sel;
	bool was_ready = sel < d->be->nr_queues && d->q[sel].ready;
	bool refuse = cur->tap && cur->tap->refuse;
	uint8_t data[8] = { 0 };

	memcpy(data, &v, sizeof(v));
	rig_signalled = 0;
	virtio_mmio_access(d, off, data, len, true);
	if (len == 4 && off % 4 == 0 && off < VIRTIO_MMIO_CONFIG)
		model_write(off, v, sel, was_ready, refuse && !cur->tap->refuse);
	check_status(before);
	/* A notify or DRIVER_OK kicked a queue: its I/O thread would wake. */
	if (d->hand_kicks != kicks)
		serve();
}

static void mmio_read(uint64_t off, unsigned len)
{
	const struct virtio_dev *d = cur->d;
	uint8_t data[8] = { 0 };
	uint32_t v;

	virtio_mmio_access(cur->d, off, data, len, false);
	memcpy(&v, data, sizeof(v));
	if (len == 4 && off == VIRTIO_MMIO_STATUS)
		FUZZ_CHECK(v == drv.status);
	if (len == 4 && off == VIRTIO_MMIO_MAGIC_VALUE)
		FUZZ_CHECK(v == VIRTIO_MMIO_MAGIC);
	if (off >= VIRTIO_MMIO_CONFIG && off - VIRTIO_MMIO_CONFIG + len <= d->config_size &&
	    (len == 1 || len == 2 || len == 4 || len == 8))
		FUZZ_CHECK(memcmp(data, d->config + (off - VIRTIO_MMIO_CONFIG), len) == 0);
}

/* The driver writes its memory: only its window. */
static void driver_put(uint64_t gpa, const void *p, size_t n)
{
	if (gpa >= WINDOW && gpa <= MEM_SIZE && n <= MEM_SIZE - gpa)
		memcpy(rig_vm.mem + gpa, p, n);
}

static void queue_reg(uint64_t low, uint64_t v)
{
	mmio_write(low, (uint32_t)v, 4);
	mmio_write(low + 4, (uint32_t)(v >> 32), 4);
}

static void op_setup(struct fuzz_in *in, uint8_t op)
{
	struct virtio_dev *d = cur->d;
	const uint32_t ok = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint64_t f = fuzz_u32(in);

	if (op & OP_RAW)
		f |= (uint64_t)fuzz_u32(in) << 32;
	else
		f = (f & d->features) | 1ull << VIRTIO_F_VERSION_1;
	mmio_write(VIRTIO_MMIO_STATUS, 0, 4);
	mmio_write(VIRTIO_MMIO_STATUS, ok, 4);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0, 4);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f, 4);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
	mmio_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32), 4);
	if (cur->tap)
		cur->tap->refuse = op & 0x20;
	mmio_write(VIRTIO_MMIO_STATUS, ok | VIRTIO_STATUS_FEATURES_OK, 4);
	if (cur->tap)
		cur->tap->refuse = false;
	for (unsigned q = 0; q < d->be->nr_queues; q++) {
		uint8_t size = fuzz_u8(in);
		uint64_t desc = WINDOW + fuzz_u16(in), avail = WINDOW + fuzz_u16(in);
		uint64_t used = WINDOW + fuzz_u16(in);

		if (!(op & OP_RAW)) {
			desc &= ~15ull;
			avail &= ~1ull;
			used &= ~3ull;
		}
		mmio_write(VIRTIO_MMIO_QUEUE_SEL, q, 4);
		mmio_write(VIRTIO_MMIO_QUEUE_NUM, op & OP_RAW ? size : 1u << (size % 9), 4);
		queue_reg(VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
		queue_reg(VIRTIO_MMIO_QUEUE_DRIVER_LOW, avail);
		queue_reg(VIRTIO_MMIO_QUEUE_DEVICE_LOW, used);
		mmio_write(VIRTIO_MMIO_QUEUE_READY, 1, 4);
	}
	if (!(op & 0x40))
		mmio_write(VIRTIO_MMIO_STATUS, drv.status | VIRTIO_STATUS_DRIVER_OK, 4);
}

/* A register access: which register, what width, and for a write what value. */
static void op_register(struct fuzz_in *in, uint8_t op, bool write)
{
	static const unsigned widths[] = { 4, 1, 2, 8 };
	uint64_t off = op & OP_RAW ? fuzz_u16(in) : regs[fuzz_u8(in) % NR_REGS];
	unsigned len = op & OP_RAW ? fuzz_u8(in) : widths[(op >> 5) & 3];
	uint32_t v;

	if (!write) {
		mmio_read(off, len);
		return;
	}
	v = op & OP_RAW ? fuzz_u32(in) : fuzz_u16(in);
	/* An address register: the window's address plus the value. */
	if (!(op & OP_RAW) &&
	    (off == VIRTIO_MMIO_QUEUE_DESC_LOW || off == VIRTIO_MMIO_QUEUE_DRIVER_LOW ||
	     off == VIRTIO_MMIO_QUEUE_DEVICE_LOW))
		v += WINDOW;
	mmio_write(off, v, len);
}

static void op_desc(struct fuzz_in *in, uint8_t op)
{
	const struct virtio_queue *q = &cur->d->q[OP_QUEUE(op) % cur->d->be->nr_queues];
	bool raw = op & OP_RAW;
	uint8_t i = fuzz_u8(in);
	struct virtq_desc e;

	e.addr = raw ? fuzz_u64(in) : WINDOW + fuzz_u16(in);
	e.len = raw ? fuzz_u32(in) : fuzz_u16(in);
	e.flags = fuzz_u8(in);
	e.next = raw ? fuzz_u16(in) : fuzz_u8(in);
	driver_put(q->desc + 16ull * i, &e, sizeof(e));
}

/* Heads made available one after another, the index published after the entries. */
static void op_avail(struct fuzz_in *in, uint8_t op)
{
	const struct virtio_queue *q = &cur->d->q[OP_QUEUE(op) % cur->d->be->nr_queues];
	uint16_t head = op & OP_RAW ? fuzz_u16(in) : fuzz_u8(in), idx;
	uint64_t at_idx = q->driver + offsetof(struct virtq_avail, idx);

	if (q->num == 0 || at_idx < WINDOW || at_idx + 2 > MEM_SIZE)
		return;
	memcpy(&idx, rig_vm.mem + at_idx, sizeof(idx));
	for (unsigned i = 0; i <= (unsigned)op >> 5; i++, idx++, head++)
		driver_put(q->driver + 4 + 2ull * (idx % q->num), &head, sizeof(head));
	driver_put(at_idx, &idx, sizeof(idx));
}

static void op_frame(struct fuzz_in *in)
{
	struct frame f;
	const uint8_t *p;
	uint64_t max;

	f.len = fuzz_u16(in);
	p = fuzz_bytes(in, fuzz_u8(in), &f.nhead);
	memcpy(f.head, p, f.nhead);
	if (!cur->tap)
		return;
	/* A tap hands over a header and a frame: a segment only with the TSO it was told of. */
	max = NET_HDR + (cur->tap->offload & (TUN_F_TSO4 | TUN_F_TSO6) ? VIRTIO_NET_SEGMENT_MAX
								       : VIRTIO_NET_FRAME_MAX);
	if (f.len < NET_HDR + ETH_HLEN)
		f.len = NET_HDR + ETH_HLEN;
	if (f.len > max)
		f.len = (uint32_t)max;
	if (rig_frame(&f))
		serve();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct virtio_dev *d;

	if (!rig_vm.mem)
		rig_init();
	rig_select(fuzz_u8(&in) % NR_KINDS);
	d = cur->d;
	/* A fresh start: the driver resets the device; a NIC then stops polling its tap. */
	mmio_write(VIRTIO_MMIO_STATUS, 0, 4);
	if (d->be->host_ready)
		d->be->host_ready(d);
	while (in.left) {
		uint8_t op = fuzz_u8(&in);

		switch (op & 7) {
		case OP_SETUP: op_setup(&in, op); break;
		case OP_WRITE: op_register(&in, op, true); break;
		case OP_READ: op_register(&in, op, false); break;
		case OP_POKE: fuzz_poke(&in, rig_vm.mem + WINDOW, WINDOW_SIZE); break;
		case OP_DESC: op_desc(&in, op); break;
		case OP_AVAIL: op_avail(&in, op); break;
		case OP_NOTIFY:
			mmio_write(VIRTIO_MMIO_QUEUE_NOTIFY,
				   op & OP_RAW ? fuzz_u32(&in) : OP_QUEUE(op), 4);
			break;
		case OP_FRAME: op_frame(&in); break;
		}
	}
	return 0;
}
