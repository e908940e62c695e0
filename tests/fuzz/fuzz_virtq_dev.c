/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hv's device side of a split virtqueue (virtq_dev.c) over guest
 * memory a hostile driver wrote. The input is a queue's setup, then
 * operations: the driver writing bytes into its memory (descriptors, ring
 * entries, indices), and the device's pop, unpop, push, event checks and
 * copies. A ring with a loop, a huge chain, an index or address out of range
 * must be refused with -EPROTO, never followed; what pop accepts must lie
 * inside guest memory, writable buffers where the guest may be written.
 *
 * Setup: u16 num, u8 mode (bit 0 EVENT_IDX; bits 1-3: desc, avail, used
 * given as a raw u64 address rather than a u16 offset into the window),
 * then the three addresses. Each operation is a byte (low 3 bits the
 * operation) and its arguments, in the order LLVMFuzzerTestOneInput reads them.
 */
#include <errno.h>

#include "fuzz.h"
#include "hv.h"
#include "virtq_dev.h"

/* Guest RAM: hv's area, then a 64 KiB window the input's offsets point into. */
#define WINDOW 0x100000ull
#define WINDOW_SIZE 0x10000ull
#define MEM_SIZE (WINDOW + WINDOW_SIZE)

enum { OP_POKE, OP_POP, OP_PUSH, OP_UNPOP, OP_NEED_EVENT, OP_ENABLE_KICKS, OP_COPY, OP_INIT };

static struct hv_vm vm;
static struct virtq_dev q;
static struct virtq_chain chain; /* the last chain popped */

/* Chains popped and not pushed yet: what hv may give back. */
static uint16_t held[HV_VIRTQ_SIZE_MAX];
static unsigned nr_held;

static uint64_t part_address(struct fuzz_in *in, int raw)
{
	return raw ? fuzz_u64(in) : WINDOW + fuzz_u16(in);
}

/* 0 when the queue was bound, as hv binds it when the driver sets QueueReady. */
static int setup(struct fuzz_in *in)
{
	uint16_t num = fuzz_u16(in);
	uint8_t mode = fuzz_u8(in);
	uint64_t desc = part_address(in, mode & 2);
	uint64_t avail = part_address(in, mode & 4);
	uint64_t used = part_address(in, mode & 8);
	int rc = virtq_dev_init(&q, &vm, num, desc, avail, used, mode & 1);

	nr_held = 0;
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK(rc == 0 || q.why[0] != '\0');
	return rc;
}

static int inside(const void *p, uint64_t len, uint64_t from)
{
	const uint8_t *b = p;

	return b >= vm.mem + from && b <= vm.mem + vm.mem_size &&
	       len <= (uint64_t)(vm.mem + vm.mem_size - b);
}

/* What a pop accepted: a chain in the table, inside memory, no longer than the queue. */
static void check_chain(const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;

	FUZZ_CHECK(c->head < q.num);
	FUZZ_CHECK(c->nr_out + c->nr_in >= 1 && c->nr_out + c->nr_in <= q.num);
	for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
		int writable = i >= c->nr_out;

		FUZZ_CHECK(inside(c->iov[i].iov_base, c->iov[i].iov_len,
				  writable ? HV_L_SHARED : HV_L_BOOT_INFO));
		if (writable)
			in += c->iov[i].iov_len;
		else
			out += c->iov[i].iov_len;
	}
	FUZZ_CHECK(out == c->out_len && in == c->in_len);
	FUZZ_CHECK(out + in <= UINT32_MAX);
}

/* The bytes from off, at most len, that a part of total bytes has. */
static uint64_t part_len(uint64_t total, uint64_t off, uint64_t len)
{
	if (off >= total)
		return 0;
	return total - off < len ? total - off : len;
}

/* Copy out of the readable part and into the writable part at an offset the input gives. */
static void copy(struct fuzz_in *in)
{
	static uint8_t buf[1 << 16];
	uint64_t off = fuzz_u16(in), len = fuzz_u16(in);
	size_t got;

	got = virtq_chain_read(&chain, off, buf, len);
	FUZZ_CHECK(got == part_len(chain.out_len, off, len));
	memset(buf, 0xa5, len);
	got = virtq_chain_write(&chain, off, buf, len);
	FUZZ_CHECK(got == part_len(chain.in_len, off, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	int ready, popped = 0, rc;

	if (!vm.mem) {
		vm.mem = calloc(1, MEM_SIZE);
		if (!vm.mem)
			abort();
		vm.mem_size = MEM_SIZE;
		vm.name = "fuzz";
	}
	/* What the guest may write: the shared-info page and the window. */
	memset(vm.mem + HV_L_SHARED, 0, MEM_SIZE - HV_L_SHARED);
	ready = setup(&in) == 0;
	while (in.left) {
		uint8_t op = fuzz_u8(&in) & 7;
		int after_pop = popped;

		popped = 0;
		if (op == OP_INIT) {
			ready = setup(&in) == 0;
			continue;
		}
		if (op == OP_POKE) {
			fuzz_poke(&in, vm.mem + WINDOW, WINDOW_SIZE);
			continue;
		}
		if (!ready) /* not bound, or broken: hv leaves it until the driver resets it */
			continue;
		switch (op) {
		case OP_POP:
			rc = virtq_dev_pop(&q, &chain);
			FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EPROTO);
			if (rc == 1) {
				check_chain(&chain);
				/* Heads made available again and again are not all tracked. */
				popped = nr_held < HV_VIRTQ_SIZE_MAX ? 2 : 1;
				if (popped == 2)
					held[nr_held++] = chain.head;
			} else {
				memset(&chain, 0, sizeof(chain));
			}
			if (rc < 0) {
				FUZZ_CHECK(q.why[0] != '\0');
				ready = 0;
			}
			break;
		case OP_PUSH: {
			uint8_t which = fuzz_u8(&in);
			uint32_t len = fuzz_u32(&in);

			if (nr_held == 0)
				break;
			which %= nr_held;
			virtq_dev_push(&q, held[which], len);
			held[which] = held[--nr_held];
			break;
		}
		case OP_UNPOP:
			/* Only the chain just taken goes back, as the devices use it. */
			if (after_pop) {
				virtq_dev_unpop(&q);
				nr_held -= after_pop == 2;
				memset(&chain, 0, sizeof(chain));
			}
			break;
		case OP_NEED_EVENT:
			(void)virtq_dev_need_event(&q);
			break;
		case OP_ENABLE_KICKS:
			(void)virtq_dev_enable_kicks(&q);
			break;
		case OP_COPY:
			copy(&in);
			break;
		}
	}
	return 0;
}
