/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hv's store (store.c): keys, values and domains from the input,
 * through the functions hv calls (store_write, store_remove, store_read)
 * and through the hypercall itself (store_op), whose key and buffer are
 * guest addresses into memory the input wrote. Checked after each step: the
 * result is one the contract names, a value written reads back, a removed
 * key is gone, and the quota counts add up to the keys the store holds.
 *
 * Input: operations, each a byte (modulo NR_OPS) and its arguments. A key is
 * a byte of flags (bit 0: starts with "/local/domain/<dom>/"), a byte of
 * length and its characters.
 */
#include <errno.h>

#include "fuzz.h"
#include "hv.h"
#include "store.h"

#define NR_DOMS 4
#define WINDOW 0x100000ull /* guest memory the input writes: its keys and values */
#define WINDOW_SIZE 0x10000ull
#define MEM_SIZE (WINDOW + WINDOW_SIZE)
#define KEY_ROOM (HV_STORE_KEY_MAX + 64) /* longer keys than allowed, to be refused */

enum { OP_WRITE, OP_REMOVE, OP_READ, OP_POKE, OP_HYPERCALL, NR_OPS };

static struct store s;
static struct hv_host host = { .store = &s };
static struct hv_vm vm = { .name = "fuzz", .host = &host };

static int errno_ok(int rc)
{
	return rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -EPERM || rc == -ENOSPC ||
	       rc == -ENOENT;
}

/* hv itself (STORE_HV) or one of the domains; never an id hv does not give out. */
static domid_t pick_dom(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	return b < 0xf0 ? b % (NR_DOMS + 1) : fuzz_u16(in) % (HV_MAX_DOMAINS + 1);
}

static void make_key(struct fuzz_in *in, domid_t dom, char *key)
{
	uint8_t flags = fuzz_u8(in);
	size_t n = 0, len = fuzz_u8(in), got;
	const uint8_t *p;

	if (flags & 1)
		n = (size_t)snprintf(key, KEY_ROOM, "/local/domain/%u/", flags & 2 ? dom : 1u);
	p = fuzz_bytes(in, len < KEY_ROOM - 1 - n ? len : KEY_ROOM - 1 - n, &got);
	memcpy(key + n, p, got);
	key[n + got] = '\0';
}

/* The quota counts are the keys there are: each key is charged to one writer. */
static void check_counts(void)
{
	size_t total = 0;

	for (unsigned d = 0; d <= HV_MAX_DOMAINS; d++) {
		FUZZ_CHECK(d == STORE_HV || s.keys[d] <= HV_STORE_KEYS_PER_DOMAIN);
		total += s.keys[d];
	}
	FUZZ_CHECK(total == s.n && s.n <= s.cap);
}

static void op_write(struct fuzz_in *in)
{
	domid_t dom = pick_dom(in);
	char key[KEY_ROOM], back[HV_STORE_VALUE_MAX];
	size_t len = fuzz_u16(in) % (HV_STORE_VALUE_MAX + 2), got, blen = 0;
	const uint8_t *value;
	int rc;

	make_key(in, dom, key);
	value = fuzz_bytes(in, len, &got);
	rc = store_write(&s, dom, key, value, got);
	FUZZ_CHECK(errno_ok(rc));
	if (rc == 0) {
		FUZZ_CHECK(store_read(&s, key, back, sizeof(back), &blen) == 0);
		FUZZ_CHECK(blen == got && (got == 0 || memcmp(back, value, got) == 0));
	}
}

static void op_remove(struct fuzz_in *in)
{
	domid_t dom = pick_dom(in);
	char key[KEY_ROOM];
	size_t len;
	int rc;

	make_key(in, dom, key);
	rc = store_remove(&s, dom, key);
	FUZZ_CHECK(errno_ok(rc));
	if (rc == 0)
		FUZZ_CHECK(store_read(&s, key, NULL, 0, &len) == -ENOENT);
}

static void op_read(struct fuzz_in *in)
{
	char key[KEY_ROOM];
	size_t size = fuzz_u16(in) % (HV_STORE_VALUE_MAX + 2), len = SIZE_MAX;
	char *buf = malloc(size ? size : 1); /* exactly size bytes: ASan sees a longer copy */
	int rc;

	if (!buf)
		abort();
	make_key(in, pick_dom(in), key);
	rc = store_read(&s, key, buf, size, &len);
	FUZZ_CHECK(errno_ok(rc));
	/* -E2BIG says a key too long (len untouched) or a value too long for buf (len set). */
	if (strlen(key) > HV_STORE_KEY_MAX)
		FUZZ_CHECK(rc == -E2BIG && len == SIZE_MAX);
	else if (rc == 0 || rc == -E2BIG)
		FUZZ_CHECK(len <= HV_STORE_VALUE_MAX && (rc == 0) == (len <= size));
	free(buf);
}

/* A guest address: into the window mostly, anywhere sometimes. */
static uint64_t pick_gpa(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	return b < 0xf0 ? WINDOW + fuzz_u16(in) : fuzz_u64(in);
}

/* HV_CALL_STORE as a guest makes it: the op, then its key and buffer in guest memory. */
static void op_hypercall(struct fuzz_in *in)
{
	struct hv_store_op op = { 0 };
	uint8_t b = fuzz_u8(in);

	vm.domid = (domid_t)(1 + b % NR_DOMS);
	op.cmd = b & 0x80 ? fuzz_u32(in) : (b >> 3) % 3;
	op.tx = b & 0x40 ? fuzz_u32(in) : 0;
	op.key = pick_gpa(in);
	op.buf = pick_gpa(in);
	op.len = fuzz_u8(in) < 0xf0 ? fuzz_u16(in) % (HV_STORE_VALUE_MAX + 2) : fuzz_u32(in);
	store_op(&vm, &op);
	FUZZ_CHECK(errno_ok(op.ret));
	if (op.cmd == HV_STORE_READ && (op.ret == 0 || op.ret == -E2BIG))
		FUZZ_CHECK(op.len <= HV_STORE_VALUE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	if (!vm.mem) {
		vm.mem = calloc(1, MEM_SIZE);
		if (!vm.mem)
			abort();
		vm.mem_size = MEM_SIZE;
	}
	memset(vm.mem + HV_L_SHARED, 0, MEM_SIZE - HV_L_SHARED);
	store_init(&s);
	while (in.left) {
		switch (fuzz_u8(&in) % NR_OPS) {
		case OP_WRITE:
			op_write(&in);
			break;
		case OP_REMOVE:
			op_remove(&in);
			break;
		case OP_READ:
			op_read(&in);
			break;
		case OP_POKE:
			fuzz_poke(&in, vm.mem + WINDOW, WINDOW_SIZE);
			break;
		case OP_HYPERCALL:
			op_hypercall(&in);
			break;
		}
		check_counts();
	}
	store_destroy(&s);
	return 0;
}
