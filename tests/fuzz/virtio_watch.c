/* SPDX-License-Identifier: MIT */
/*
 * The watch of fuzz_virtio_dev.c (virtio_rig.h): every chain hv's device
 * code takes, reads, answers and gives back, through its calls into
 * virtq_dev.c (the link sends them to the __wrap_ functions here), what it
 * hands the tap, and what a serving left in memory and on the disk.
 */
#include <unistd.h>

#include "virtio_rig.h"

#define SEEN HV_L_BOOT_INFO /* guest memory a device may name starts here */
#define SEEN_SIZE (MEM_SIZE - SEEN)
#define SECTOR VIRTIO_BLK_SECTOR_SIZE
#define BLK_HDR sizeof(struct virtio_blk_req_hdr)
#define NET_HDR sizeof(struct virtio_net_hdr)
#define NUM_BUFFERS offsetof(struct virtio_net_hdr, num_buffers)
#define RX_IOV_MAX 1024 /* buffers one read from the tap takes (UIO_MAXIOV), as net_rx caps it */
#define TAKEN_MAX 160   /* chains out at once: a frame's 66 receive chains, a disk's batch */
#define ACKED_MAX 512   /* disk reads and writes acknowledged in one serving */
#define SPANS_MAX 8192  /* their buffers */
/* The watch's loops over bytes: no feedback for the fuzzer, nor its cost at every byte. */
#define BYTEWISE __attribute__((no_sanitize("coverage")))

/* A chain the device took and has not given back. */
struct taken {
	const struct virtq_chain *at; /* where hv keeps it */
	unsigned q, seq;
	uint8_t hdr[BLK_HDR]; /* the header as hv read it */
	size_t hdr_got;
	bool hdr_read, sent; /* sent: a TX chain's frame went to the tap */
	int status;          /* a disk request's status byte, -1 before */
	struct virtq_chain c;
};

/* A disk read or write acknowledged OK, with its data buffers (spans[first, first + n)). */
struct acked {
	bool write, whole; /* whole: every span noted */
	uint64_t sector, bytes;
	unsigned first, n;
};

struct span {
	uint64_t gpa, len;
};

static struct taken slots[TAKEN_MAX];
static bool slot_used[TAKEN_MAX];
static unsigned order[TAKEN_MAX], nr_taken; /* the slots out, in the order taken */
static unsigned seq, break_seq; /* break_seq: the first disk chain taken with no status byte */

/* One serving: memory before it, writers per byte, what it acknowledged, whether it broke. */
static uint8_t snap[SEEN_SIZE], cover[SEEN_SIZE];
static struct acked acked[ACKED_MAX];
static struct span spans[SPANS_MAX];
static unsigned nr_acked, nr_spans;
static bool acked_lost, break_seen;
static uint8_t shadow[DISK_BYTES]; /* the disk as the acknowledged writes left it */

/* The frame read last, until it is given back or dropped. */
static struct {
	bool on;
	uint64_t len, room, sum;
	unsigned first_seq, pushes;
	int nb; /* num_buffers written, -1 before */
} rx;

static bool is_blk(void)
{
	return cur->disk_fd >= 0;
}

/* What the driver took (at FEATURES_OK; the target checks hv's register against its own). */
static bool negotiated(unsigned bit)
{
	return cur->d->driver_features & (1ull << bit);
}

int __real_virtq_dev_pop(struct virtq_dev *q, struct virtq_chain *c);
void __real_virtq_dev_unpop(struct virtq_dev *q);
void __real_virtq_dev_push(struct virtq_dev *q, uint16_t head, uint32_t len);
size_t __real_virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len);
size_t __real_virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf,
				size_t len);

static unsigned queue_of(const struct virtq_dev *q)
{
	unsigned i = 0;

	while (i < cur->d->be->nr_queues && q != &cur->d->q[i].vq)
		i++;
	FUZZ_CHECK(i < cur->d->be->nr_queues); /* a queue of the device under test */
	return i;
}

/* Whether [p, p + len) lies in guest memory from gpa lo on. */
static bool inside(const void *p, uint64_t len, uint64_t lo)
{
	const uint8_t *b = p, *end = rig_vm.mem + MEM_SIZE;

	return b >= rig_vm.mem + lo && b <= end && len <= (uint64_t)(end - b);
}

BYTEWISE static void cover_add(const void *p, uint64_t len)
{
	uint8_t *at = cover + ((const uint8_t *)p - rig_vm.mem - SEEN);

	for (uint64_t i = 0; i < len; i++)
		at[i] += at[i] < UINT8_MAX;
}

/*
 * Bytes [off, off + len) of the n buffers part, as pieces in out (room for n): how many.
 * The watch's own, not virtq_iov_slice(): it checks where hv put bytes, so it does not ask hv.
 */
static unsigned slice(const struct iovec *part, unsigned n, uint64_t off, uint64_t len,
		      struct iovec *out)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len > 0; i++) {
		uint64_t take;

		if (off >= part[i].iov_len) {
			off -= part[i].iov_len;
			continue;
		}
		take = part[i].iov_len - off < len ? part[i].iov_len - off : len;
		out[k++] = (struct iovec){ (uint8_t *)part[i].iov_base + off, take };
		len -= take;
		off = 0;
	}
	return k;
}

/* Where in order[] the oldest (or newest) chain out of queue q is; if at is given, kept there. */
static int find(unsigned q, const struct virtq_chain *at, bool newest)
{
	for (unsigned i = 0; i < nr_taken; i++) {
		unsigned k = newest ? nr_taken - 1 - i : i;
		const struct taken *t = &slots[order[k]];

		if (t->q == q && (!at || t->at == at))
			return (int)k;
	}
	return -1;
}

static struct taken *taken_at(const struct virtq_chain *c)
{
	for (unsigned q = 0; q < cur->d->be->nr_queues; q++) {
		int k = find(q, c, true);

		if (k >= 0)
			return &slots[order[k]];
	}
	return NULL;
}

static void give_back(unsigned k)
{
	slot_used[order[k]] = false;
	memmove(order + k, order + k + 1, (nr_taken - k - 1) * sizeof(order[0]));
	nr_taken--;
}

void watch_reset(void)
{
	memset(slot_used, 0, sizeof(slot_used));
	nr_taken = seq = 0;
	break_seq = UINT32_MAX;
	rx.on = false;
}

void watch_start(const uint8_t *disk)
{
	if (disk)
		memcpy(shadow, disk, DISK_BYTES);
	watch_reset();
}

/* --- Chains taken and given back ---------------------------------------------------------- */

static void take(unsigned q, const struct virtq_chain *c)
{
	struct taken *t;
	unsigned s = 0;

	for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
		bool writable = i >= c->nr_out;

		FUZZ_CHECK(inside(c->iov[i].iov_base, c->iov[i].iov_len,
				  writable ? HV_L_SHARED : HV_L_BOOT_INFO));
		if (writable)
			cover_add(c->iov[i].iov_base, c->iov[i].iov_len);
	}
	while (s < TAKEN_MAX && slot_used[s])
		s++;
	if (s == TAKEN_MAX) {
		fprintf(stderr, "virtio_watch: more than %d chains out\n", TAKEN_MAX);
		abort();
	}
	slot_used[s] = true;
	order[nr_taken++] = s;
	t = &slots[s];
	t->at = c;
	t->q = q;
	t->seq = seq++;
	t->hdr_got = 0;
	t->hdr_read = t->sent = false;
	t->status = -1;
	memcpy(&t->c, c,
	       offsetof(struct virtq_chain, iov) + (c->nr_out + c->nr_in) * sizeof(c->iov[0]));
	/* What must break the device: a request with no status byte, a receive buffer too short. */
	if (is_blk() && c->in_len == 0 && break_seq == UINT32_MAX)
		break_seq = t->seq;
	if (is_blk() ? c->in_len == 0 : q == VIRTIO_NET_Q_RX && c->in_len < NET_HDR)
		break_seen = true;
}

int __wrap_virtq_dev_pop(struct virtq_dev *q, struct virtq_chain *c)
{
	unsigned qi = queue_of(q);
	int rc;

	/* A broken device takes nothing more. */
	FUZZ_CHECK(!(cur->d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
	rc = __real_virtq_dev_pop(q, c);
	if (rc < 0)
		break_seen = true;
	else if (rc == 1)
		take(qi, c);
	return rc;
}

void __wrap_virtq_dev_unpop(struct virtq_dev *q)
{
	int k = find(queue_of(q), NULL, true);

	/* What goes back unused is the last chain taken there, unanswered. */
	FUZZ_CHECK(k >= 0 && slots[order[k]].status < 0);
	FUZZ_CHECK(!(rx.on && rx.nb >= 0 && slots[order[k]].seq == rx.first_seq));
	give_back((unsigned)k);
	__real_virtq_dev_unpop(q);
}

static uint32_t blk_type(const struct taken *t)
{
	uint32_t type;

	memcpy(&type, t->hdr, sizeof(type));
	return t->hdr_got == BLK_HDR ? type : UINT32_MAX;
}

/* The status byte a request calls for, its data within the disk. */
static uint8_t blk_expected(const struct taken *t)
{
	uint32_t type = blk_type(t);
	uint64_t sector, len;

	if (t->hdr_got < BLK_HDR)
		return VIRTIO_BLK_S_IOERR;
	if (type == VIRTIO_BLK_T_FLUSH || type == VIRTIO_BLK_T_GET_ID)
		return VIRTIO_BLK_S_OK;
	if (type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_OUT)
		return VIRTIO_BLK_S_UNSUPP;
	if (type == VIRTIO_BLK_T_OUT && cur->ro)
		return VIRTIO_BLK_S_IOERR;
	memcpy(&sector, t->hdr + offsetof(struct virtio_blk_req_hdr, sector), sizeof(sector));
	len = type == VIRTIO_BLK_T_OUT ? t->c.out_len - BLK_HDR : t->c.in_len - 1;
	if (len % SECTOR || sector > DISK_SECTORS || len / SECTOR > DISK_SECTORS - sector)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint64_t id_bytes(const struct taken *t)
{
	return t->c.in_len - 1 < VIRTIO_BLK_ID_BYTES ? t->c.in_len - 1 : VIRTIO_BLK_ID_BYTES;
}

/* An OK read's or write's data buffers, for the disk's check after the serving. */
static void note_acked(const struct taken *t, bool write)
{
	struct iovec piece[HV_VIRTQ_SIZE_MAX];
	const struct iovec *part = write ? t->c.iov : t->c.iov + t->c.nr_out;
	uint64_t bytes = write ? t->c.out_len - BLK_HDR : t->c.in_len - 1;
	unsigned n = slice(part, write ? t->c.nr_out : t->c.nr_in, write ? BLK_HDR : 0, bytes,
			   piece);
	struct acked *a = &acked[nr_acked];

	if (nr_acked == ACKED_MAX) {
		acked_lost = true;
		return;
	}
	nr_acked++;
	*a = (struct acked){ write, nr_spans + n <= SPANS_MAX, 0, bytes, nr_spans, 0 };
	memcpy(&a->sector, t->hdr + offsetof(struct virtio_blk_req_hdr, sector), sizeof(a->sector));
	for (unsigned i = 0; i < n && a->whole; i++)
		spans[nr_spans + a->n++] = (struct span){
			(uint64_t)((uint8_t *)piece[i].iov_base - rig_vm.mem), piece[i].iov_len
		};
	nr_spans += a->n;
}

static void blk_wrote(struct taken *t, uint64_t off, const uint8_t *buf, size_t len)
{
	if (len == 1 && off == t->c.in_len - 1) {
		FUZZ_CHECK(t->status < 0 && t->seq < break_seq); /* once; none after a break */
		FUZZ_CHECK(*buf == VIRTIO_BLK_S_OK || *buf == VIRTIO_BLK_S_IOERR ||
			   *buf == VIRTIO_BLK_S_UNSUPP);
		FUZZ_CHECK(*buf == blk_expected(t));
		t->status = *buf;
		return;
	}
	/* The only other write: GET_ID's answer, before the status byte. */
	FUZZ_CHECK(blk_type(t) == VIRTIO_BLK_T_GET_ID && t->status < 0 && off == 0 &&
		   len == id_bytes(t) && memcmp(buf, cur->id, len) == 0);
}

static void blk_pushed(const struct taken *t, uint32_t len)
{
	uint32_t type = blk_type(t);
	bool ok = t->status == VIRTIO_BLK_S_OK;

	FUZZ_CHECK(t->status >= 0 && t->seq < break_seq); /* answered before given back */
	if (ok && type == VIRTIO_BLK_T_IN)
		FUZZ_CHECK(len == t->c.in_len);
	else if (ok && type == VIRTIO_BLK_T_GET_ID)
		FUZZ_CHECK(len == id_bytes(t) + 1);
	else
		FUZZ_CHECK(len == 1);
	if (ok && (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT))
		note_acked(t, type == VIRTIO_BLK_T_OUT);
}

/* What a header may ask of the device, by the features taken [5.1.6.2]. */
static bool tx_header_allowed(const struct virtio_net_hdr *h)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !negotiated(VIRTIO_NET_F_CSUM))
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return gso == h->gso_type;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
		return negotiated(VIRTIO_NET_F_HOST_TSO4);
	return gso == VIRTIO_NET_HDR_GSO_TCPV6 && negotiated(VIRTIO_NET_F_HOST_TSO6);
}

/* A transmit chain goes back: its frame went out exactly when its header was allowed. */
static void tx_pushed(const struct taken *t, uint32_t len)
{
	struct virtio_net_hdr h;

	memcpy(&h, t->hdr, sizeof(h));
	FUZZ_CHECK(len == 0);
	FUZZ_CHECK(t->sent == (t->hdr_got == NET_HDR && tx_header_allowed(&h)));
}

/* A receive chain goes back: the frame's next, in the order taken, as full as it may be. */
static void rx_pushed(const struct taken *t, uint32_t len, unsigned k)
{
	uint64_t left = rx.len - rx.sum;

	FUZZ_CHECK(rx.on && rx.len <= rx.room && k == (unsigned)find(VIRTIO_NET_Q_RX, NULL, false));
	FUZZ_CHECK(rx.pushes > 0 || t->seq == rx.first_seq);
	FUZZ_CHECK(left > 0 && len == (t->c.in_len < left ? t->c.in_len : left));
	rx.pushes++;
	rx.sum += len;
}

void __wrap_virtq_dev_push(struct virtq_dev *q, uint16_t head, uint32_t len)
{
	unsigned qi = queue_of(q);
	int k = -1;

	for (unsigned i = 0; i < nr_taken && k < 0; i++)
		if (slots[order[i]].q == qi && slots[order[i]].c.head == head)
			k = (int)i;
	FUZZ_CHECK(k >= 0); /* a head taken and not given back since */
	FUZZ_CHECK(len <= slots[order[k]].c.in_len);
	if (is_blk())
		blk_pushed(&slots[order[k]], len);
	else if (qi == VIRTIO_NET_Q_TX)
		tx_pushed(&slots[order[k]], len);
	else
		rx_pushed(&slots[order[k]], len, (unsigned)k);
	give_back((unsigned)k);
	__real_virtq_dev_push(q, head, len);
}

size_t __wrap_virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len)
{
	struct taken *t = taken_at(c);
	size_t got = __real_virtq_chain_read(c, off, buf, len);

	/* Only a header is read, once, from a chain taken. */
	FUZZ_CHECK(t && !t->hdr_read && off == 0 && len == (is_blk() ? BLK_HDR : NET_HDR));
	t->hdr_read = true;
	t->hdr_got = got;
	memcpy(t->hdr, buf, got);
	return got;
}

size_t __wrap_virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf,
				size_t len)
{
	struct taken *t = taken_at(c);

	FUZZ_CHECK(t != NULL);
	if (is_blk()) {
		blk_wrote(t, off, buf, len);
	} else {
		/* A NIC writes one thing itself: num_buffers, into the frame's first chain. */
		FUZZ_CHECK(rx.on && rx.nb < 0 && t->seq == rx.first_seq && off == NUM_BUFFERS &&
			   len == sizeof(uint16_t));
		rx.nb = *(const uint16_t *)buf;
	}
	return __real_virtq_chain_write(c, off, buf, len);
}

/* --- What hv hands the tap ---------------------------------------------------------------- */

/* The frame read last is over: given back whole if it fitted the buffers, else dropped. */
static void rx_finish(void)
{
	if (!rx.on)
		return;
	rx.on = false;
	if (rx.len > rx.room) {
		FUZZ_CHECK(rx.pushes == 0 && rx.nb < 0);
		return;
	}
	FUZZ_CHECK(rx.pushes > 0 && rx.sum == rx.len && rx.nb == (int)rx.pushes);
	FUZZ_CHECK(rx.pushes == 1 || negotiated(VIRTIO_NET_F_MRG_RXBUF));
}

void watch_tap_read(const struct iovec *iov, int n, const struct frame *f)
{
	uint64_t room = 0;
	int k = 0;

	rx_finish();
	/* The buffers offered are the writable ones of the receive chains taken, in order. */
	for (unsigned i = 0; i < nr_taken; i++) {
		const struct taken *c = &slots[order[i]];

		if (c->q != VIRTIO_NET_Q_RX)
			continue;
		if (k == 0)
			rx.first_seq = c->seq;
		for (unsigned j = 0; j < c->c.nr_in && k < RX_IOV_MAX; j++, k++)
			FUZZ_CHECK(k < n && iov[k].iov_base == c->c.iov[c->c.nr_out + j].iov_base &&
				   iov[k].iov_len == c->c.iov[c->c.nr_out + j].iov_len);
	}
	FUZZ_CHECK(k == n && n > 0);
	if (!f)
		return;
	for (int i = 0; i < n; i++)
		room += iov[i].iov_len;
	rx.on = true;
	rx.len = f->len;
	rx.room = room;
	rx.sum = rx.pushes = 0;
	rx.nb = -1;
}

void watch_tap_write(const struct iovec *iov, int n)
{
	struct iovec piece[HV_VIRTQ_SIZE_MAX];
	int k = find(VIRTIO_NET_Q_TX, NULL, true);
	struct taken *c = k < 0 ? NULL : &slots[order[k]];
	struct virtio_net_hdr h;
	unsigned m;

	/* The header hv checked, num_buffers cleared; then the chain's readable rest. */
	FUZZ_CHECK(c && !c->sent && c->hdr_got == NET_HDR);
	FUZZ_CHECK(n >= 1 && iov[0].iov_len == NET_HDR);
	memcpy(&h, iov[0].iov_base, NET_HDR);
	FUZZ_CHECK(memcmp(&h, c->hdr, NUM_BUFFERS) == 0 && h.num_buffers == 0);
	FUZZ_CHECK(tx_header_allowed(&h));
	m = slice(c->c.iov, c->c.nr_out, NET_HDR, c->c.out_len - NET_HDR, piece);
	FUZZ_CHECK((unsigned)n - 1 == m && memcmp(iov + 1, piece, m * sizeof(piece[0])) == 0);
	c->sent = true;
}

/* --- After a serving: memory, the disk ----------------------------------------------------- */

void watch_begin(void)
{
	const struct virtio_dev *d = cur->d;

	memcpy(snap, rig_vm.mem + SEEN, SEEN_SIZE);
	nr_acked = nr_spans = 0;
	acked_lost = break_seen = false;
	/* The device areas are the device's to write. */
	for (unsigned q = 0; q < d->be->nr_queues; q++)
		if (d->q[q].ready)
			cover_add(rig_vm.mem + d->q[q].device, VIRTQ_USED_SIZE(d->q[q].num));
}

/* Whether every byte of a's data buffers had exactly `writers` writers in the serving. */
BYTEWISE static bool steady(const struct acked *a, unsigned writers)
{
	if (!a->whole)
		return false;
	for (unsigned i = a->first; i < a->first + a->n; i++)
		for (uint64_t j = 0; j < spans[i].len; j++)
			if (cover[spans[i].gpa - SEEN + j] != writers)
				return false;
	return true;
}

/* Bytes [off, off + len) of a's data, from guest memory as it is now. */
static void gather(const struct acked *a, uint64_t off, uint8_t *out, uint64_t len)
{
	for (unsigned i = a->first; i < a->first + a->n && len > 0; i++) {
		uint64_t take;

		if (off >= spans[i].len) {
			off -= spans[i].len;
			continue;
		}
		take = spans[i].len - off < len ? spans[i].len - off : len;
		memcpy(out, rig_vm.mem + spans[i].gpa + off, take);
		out += take;
		len -= take;
		off = 0;
	}
}

static bool writes(const struct acked *a, uint64_t sector, uint64_t n)
{
	return a->write && a->sector < sector + n && sector < a->sector + a->bytes / SECTOR;
}

/*
 * The disk after a serving. The writes of a batch run together, in no
 * order, so a sector two of them wrote may hold either's data; data that
 * another request of the serving may have written into is not compared.
 */
static void check_disk(void)
{
	static uint8_t now[DISK_BYTES], buf[DISK_BYTES];

	if (pread(cur->disk_fd, now, DISK_BYTES, 0) != DISK_BYTES) {
		perror("virtio_watch: reading the disk");
		abort();
	}
	for (unsigned s = 0; s < DISK_SECTORS && !acked_lost; s++) {
		bool written = false, known = true, match = false;

		for (unsigned i = 0; i < nr_acked; i++) {
			if (!writes(&acked[i], s, 1))
				continue;
			written = true;
			known = known && steady(&acked[i], 0);
			if (known) {
				gather(&acked[i], (s - acked[i].sector) * SECTOR, buf, SECTOR);
				match = match || memcmp(buf, now + s * SECTOR, SECTOR) == 0;
			}
		}
		/* A sector no acknowledged write covered is as it was; one written, as written. */
		FUZZ_CHECK(written || memcmp(now + s * SECTOR, shadow + s * SECTOR, SECTOR) == 0);
		FUZZ_CHECK(!written || !known || match);
	}
	/* A read brought the disk's bytes, where no write of the serving went. */
	for (unsigned i = 0; i < nr_acked && !acked_lost; i++) {
		const struct acked *a = &acked[i];
		bool clash = false;

		for (unsigned j = 0; j < nr_acked; j++)
			clash = clash || writes(&acked[j], a->sector, a->bytes / SECTOR);
		if (a->write || clash || !steady(a, 1))
			continue;
		gather(a, 0, buf, a->bytes);
		FUZZ_CHECK(memcmp(buf, now + a->sector * SECTOR, a->bytes) == 0);
	}
	memcpy(shadow, now, DISK_BYTES);
}

/* Every byte that changed lies where the device may write. */
BYTEWISE static void check_memory(void)
{
	for (size_t page = 0; page < SEEN_SIZE; page += HV_PAGE_SIZE)
		if (memcmp(snap + page, rig_vm.mem + SEEN + page, HV_PAGE_SIZE) != 0)
			for (size_t i = page; i < page + HV_PAGE_SIZE; i++)
				FUZZ_CHECK(snap[i] == rig_vm.mem[SEEN + i] || cover[i] > 0);
}

bool watch_end(void)
{
	rx_finish();
	check_memory();
	if (is_blk())
		check_disk();
	memset(cover, 0, SEEN_SIZE);
	return break_seen;
}
