/* SPDX-License-Identifier: MIT */
/*
 * A domain that attacks hv on purpose, one attack per run (tests/integration/hostile.sh runs
 * each beside tests/integration/guest/witness.c as dom2). An attack hv must refuse with an
 * error code returns here and the domain exits 0 after checking every code; one that breaks
 * the ABI never returns, and hv ends the domain with a message naming the offence.
 *
 *   hostile.img block KIND CALL   call CALL with its argument block at a bad address: KIND is
 *                                 outside, unaligned, hv-area, read-only, straddle (half in
 *                                 read-only memory), end (just past RAM), wrap, page0
 *   hostile.img unknown-call N    a hypercall port beyond the known calls
 *   hostile.img port KIND         between (a port between two calls), closed (beyond hv's
 *                                 ports), fault (hv's fault-report port), in, rep (rep outsl of
 *                                 two blocks: KVM may report it whole, count 2, or each out
 *                                 alone, a call with a block in hv's pages; proc's decoder
 *                                 takes no string I/O, a #GP)
 *   hostile.img console KIND      console_write's buffer: outside, hv-area, straddle-end,
 *                                 huge-len, wrap, grant-window, device-window
 *   hostile.img calls-edge        a length 0, read-only buffers, deadlines now and past
 *   hostile.img exit-status       exit with 0x7fffff2a: hv keeps the low byte
 *   hostile.img block-forever     block with no deadline and nothing that could wake it
 *   hostile.img evtchn            every bad event-channel operation, alone and on dom2's ports
 *   hostile.img grant             every bad grant operation, on its own and dom2's grants
 *   hostile.img grant-ro-write    a write through a read-only map of dom2's page
 *   hostile.img store             bad keys, buffers and lengths, dom2's keys
 *   hostile.img storm KIND MS     MS milliseconds of hypercall, block, evtchn, ring, doorbell,
 *                                 store, grant or console calls as fast as it can make them
 */
#include "pv_test.h"

#define MS 1000000ull
#define WITNESS 2

static uint64_t ram_end(void)
{
	const struct hv_boot_info *bi = pv_boot_info();
	uint64_t end = 0;

	for (uint32_t i = 0; i < bi->nr_mem; i++)
		if (bi->mem[i].type == HV_MEM_STACK)
			end = bi->mem[i].gpa + bi->mem[i].size;
	EXPECT(end != 0);
	return end;
}

static void raw_out(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"(port) : "memory");
}

/* What dom2 offers: the port it allocated for us, the ref of its read-only grant. */
static uint32_t witness_port(void)
{
	return (uint32_t)store_wait_number(pv_key(WITNESS, "port"));
}

static uint32_t witness_gref(void)
{
	return (uint32_t)store_wait_number(pv_key(WITNESS, "gref"));
}

/* --- argument blocks and ports ------------------------------------------------------------ */

static void bad_block(const char *kind, unsigned call)
{
	static uint64_t buf[32] __attribute__((aligned(64)));
	uint64_t gpa;

	if (!strcmp(kind, "outside"))
		gpa = 0xfff00000u;
	else if (!strcmp(kind, "unaligned"))
		gpa = (uintptr_t)buf + 4;
	else if (!strcmp(kind, "hv-area"))
		gpa = 0x2000; /* the IDT */
	else if (!strcmp(kind, "read-only"))
		gpa = HV_TEST_BOOT_INFO;
	else if (!strcmp(kind, "straddle"))
		gpa = pv_boot_info()->shared_info - 8; /* the last argument string bytes, then shared */
	else if (!strcmp(kind, "end"))
		gpa = ram_end();
	else if (!strcmp(kind, "wrap"))
		gpa = 0xfffffff8u;
	else if (!strcmp(kind, "page0"))
		gpa = 0;
	else
		exit(2);
	printf("hostile: %s argument block at 0x%llx for call %u\n", kind, (unsigned long long)gpa,
	       call);
	fflush(stdout);
	raw_out((uint16_t)HV_PORT(call), (uint32_t)gpa);
	puts("FAILURE: hv served it");
	exit(1);
}

static void bad_port(const char *kind)
{
	static uint64_t blk[4] __attribute__((aligned(8)));
	uint32_t v;

	printf("hostile: port %s\n", kind);
	fflush(stdout);
	if (!strcmp(kind, "between"))
		raw_out(HV_PORT(HV_CALL_WALLCLOCK) + 2, (uint32_t)(uintptr_t)blk);
	else if (!strcmp(kind, "closed"))
		raw_out(HV_PORT(HV_CALL_SLOTS), (uint32_t)(uintptr_t)blk);
	else if (!strcmp(kind, "fault"))
		raw_out(0x4f0, 13);
	else if (!strcmp(kind, "in"))
		__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"((uint16_t)HV_PORT(HV_CALL_WALLCLOCK)));
	else if (!strcmp(kind, "rep")) {
		const void *src = blk;

		blk[0] = 0x2000 | 0x2000ull << 32; /* two blocks, both in hv's IDT page */
		unsigned long n = 2;

		__asm__ volatile("rep outsl"
				 : "+S"(src), "+c"(n)
				 : "d"((uint16_t)HV_PORT(HV_CALL_WALLCLOCK))
				 : "memory");
	} else
		exit(2);
	puts("FAILURE: hv served it");
	exit(1);
}

/* --- what each call does with its own pointers and values -------------------------------- */

static int64_t console(uint64_t buf, uint64_t len)
{
	static struct hv_console_write c;

	c = (struct hv_console_write){ .buf = buf, .len = len, .ret = 1 };
	pv_hypercall(HV_CALL_CONSOLE_WRITE, &c);
	return c.ret;
}

static void bad_console(const char *kind)
{
	static const char text[] = "sixteen bytes...";
	uint64_t buf, len = 16;

	if (!strcmp(kind, "outside"))
		buf = 0xfff00000u;
	else if (!strcmp(kind, "hv-area"))
		buf = 0x1000; /* the GDT */
	else if (!strcmp(kind, "straddle-end"))
		buf = ram_end() - 8;
	else if (!strcmp(kind, "huge-len"))
		buf = (uintptr_t)text, len = ~0ull;
	else if (!strcmp(kind, "wrap"))
		buf = 0xffffffffffffff00ull, len = 0x200;
	else if (!strcmp(kind, "grant-window"))
		buf = pv_boot_info()->grant_window;
	else if (!strcmp(kind, "device-window"))
		buf = HV_DEVICE_BASE;
	else
		exit(2);
	printf("hostile: console_write of [0x%llx, +0x%llx)\n", (unsigned long long)buf,
	       (unsigned long long)len);
	fflush(stdout);
	console(buf, len);
	puts("FAILURE: hv served it");
	exit(1);
}

static void calls_edge(void)
{
	char *copy = malloc(4096);

	EXPECT_EQ(console((uintptr_t)"", 0), 0);
	/* The argument strings and boot info are readable (not writable), and stay as they were. */
	memcpy(copy, pv_boot_info(), 4096);
	EXPECT_EQ(console(pv_boot_info()->args, 7), 7); /* "hostile" of hostile.img */
	puts("");
	EXPECT(memcmp(copy, pv_boot_info(), 4096) == 0);
	/* Deadlines now and in the past return at once. */
	clear_upcall();
	EXPECT_EQ(pv_block(0), HV_BLOCK_DEADLINE);
	EXPECT_EQ(pv_block(1), HV_BLOCK_DEADLINE);
	EXPECT_EQ(pv_block(clock_monotonic_ns() - MS), HV_BLOCK_DEADLINE);
	/* A pending upcall returns at once, even with no deadline. */
	pv_shared()->vcpu_info[0].evtchn_upcall_pending = 1;
	EXPECT_EQ(pv_block(HV_DEADLINE_NONE), HV_BLOCK_EVENT);
	clear_upcall();
	free(copy);
	puts("hostile: empty and read-only buffers, past deadlines: served; "
	     "SUCCESS");
}

static void exit_status(void)
{
	static struct hv_exit e = { .status = 0x7fffff2a };

	puts("hostile: exit with 0x7fffff2a");
	fflush(stdout);
	pv_hypercall(HV_CALL_EXIT, &e);
	puts("FAILURE: still running");
	exit(1);
}

static void block_forever(void)
{
	puts("hostile: blocking with no deadline and no port bound");
	fflush(stdout);
	clear_upcall();
	pv_block(HV_DEADLINE_NONE);
	puts("FAILURE: woken");
	exit(1);
}

/* --- event channels ------------------------------------------------------------------------ */

static void evtchn_abuse(void)
{
	uint32_t wport = witness_port(), bad[] = { 0, HV_NR_EVTCHN, HV_NR_EVTCHN + 1, 0x80000000u,
						    0xffffffffu };
	struct hv_evtchn_op op;
	int mine;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(ev_send(bad[i]), -EINVAL);
		EXPECT_EQ(ev_close(bad[i]), -EINVAL);
		EXPECT_EQ(ev_unmask(bad[i]), -EINVAL);
		EXPECT_EQ(ev_status(HV_DOMID_SELF, bad[i], &op), -EINVAL);
		EXPECT_EQ(ev_bind_virq(bad[i] | 1), -EINVAL);
		EXPECT_EQ(ev_bind_interdomain(WITNESS, bad[i]), -EINVAL);
	}
	for (uint32_t cmd = 0; cmd < 64; cmd++) {
		if (cmd <= 1 || (cmd >= 3 && cmd <= 6) || cmd == 9)
			continue;
		op = (struct hv_evtchn_op){ .cmd = cmd, .port = 1 };
		EXPECT_EQ(pv_evtchn(&op), -EINVAL);
	}
	op = (struct hv_evtchn_op){ .cmd = 0xffffffffu };
	EXPECT_EQ(pv_evtchn(&op), -EINVAL);
	/* Domains that are not there, and dom2's own ports and allocations. */
	EXPECT_EQ(ev_bind_interdomain(0x7fef, 1), -ESRCH);
	EXPECT_EQ(ev_bind_interdomain(0xffff, 1), -ESRCH);
	EXPECT_EQ(ev_alloc_unbound(0xfffe), -ESRCH);
	op = (struct hv_evtchn_op){ .cmd = HV_EVTCHNOP_ALLOC_UNBOUND, .dom = WITNESS,
				    .remote_dom = HV_DOMID_SELF };
	EXPECT_EQ(pv_evtchn(&op), -EPERM);
	EXPECT_EQ(ev_status(WITNESS, wport, &op), -EPERM);
	/* dom2's port offered to us: bound once, then -EBUSY; sends reach it, closes end it. */
	mine = ev_bind_interdomain(WITNESS, wport);
	EXPECT(mine > 0);
	EXPECT_EQ(ev_bind_interdomain(WITNESS, wport), -EBUSY);
	EXPECT_EQ(ev_send((uint32_t)mine), 0);
	EXPECT_EQ(ev_close((uint32_t)mine), 0);
	EXPECT_EQ(ev_close((uint32_t)mine), -EINVAL);
	EXPECT_EQ(ev_send((uint32_t)mine), -EINVAL);
	/* Its port is unbound again for dom2's side; we may bind it once more. */
	mine = ev_bind_interdomain(WITNESS, wport);
	EXPECT(mine > 0);
	EXPECT_EQ(ev_close((uint32_t)mine), 0);
	/* The timer virq twice: the second is -EBUSY (one port per virq). */
	mine = ev_bind_virq(HV_VIRQ_TIMER);
	EXPECT(mine > 0);
	EXPECT_EQ(ev_bind_virq(HV_VIRQ_TIMER), -EBUSY);
	EXPECT_EQ(ev_close((uint32_t)mine), 0);
	puts("hostile: bad ports, commands, virqs and domains; dom2's ports: refused as "
	     "documented; SUCCESS");
}

/* --- grants -------------------------------------------------------------------------------- */

static struct hv_grant_entry own_table[64] __attribute__((aligned(HV_PAGE_SIZE)));
static uint8_t own_page[HV_PAGE_SIZE] __attribute__((aligned(HV_PAGE_SIZE)));

static int setup_at(uint64_t table, uint32_t nr)
{
	struct hv_gnttab_op op = { .cmd = HV_GNTTABOP_SETUP_TABLE, .table = table,
				   .nr_entries = nr };

	return pv_gnttab(&op);
}

/* A self-grant of frame, mapped writable: the GNTST status (unmapped again on success). */
static int self_map_frame(uint32_t frame)
{
	volatile uint8_t *addr;
	uint32_t handle;
	int st;

	own_table[5].domid = pv_domid();
	own_table[5].frame = frame;
	__atomic_store_n(&own_table[5].flags, HV_GTF_PERMIT_ACCESS, __ATOMIC_RELEASE);
	st = gnt_map(pv_domid(), 5, 0, &addr, &handle);
	if (st == HV_GNTST_OKAY)
		EXPECT_EQ(gnt_unmap(handle), HV_GNTST_OKAY);
	EXPECT_EQ(end_access(&own_table[5]), 0);
	return st;
}

static void grant_abuse(void)
{
	uint32_t wref = witness_gref(), frame_end = (uint32_t)(ram_end() / HV_PAGE_SIZE);
	uint64_t ram = ram_end();
	volatile uint8_t *addr;
	struct hv_gnttab_op op;
	uint32_t handle;
	static uint8_t buf[HV_PAGE_SIZE] __attribute__((aligned(HV_PAGE_SIZE)));

	/* Tables: in hv's area, unaligned, across the end of RAM, in the window, sizes. */
	EXPECT_EQ(setup_at(0x2000, 16), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(setup_at(HV_TEST_BOOT_INFO, 16), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(setup_at((uintptr_t)own_table + 8, 16), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(setup_at(ram - HV_PAGE_SIZE, HV_MAX_GRANT_ENTRIES), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(setup_at(ram, 1), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(setup_at(pv_boot_info()->grant_window, 16), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(setup_at(0xfffff000u, 16), HV_GNTST_BAD_VIRT_ADDR);
	EXPECT_EQ(setup_at((uintptr_t)own_table, 0), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(setup_at((uintptr_t)own_table, HV_MAX_GRANT_ENTRIES + 1), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(setup_at((uintptr_t)own_table, 0xffffffffu), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_setup(own_table, 64), HV_GNTST_OKAY);

	/* Our own grants naming frames that are not our RAM: hv's area, past the end. */
	EXPECT_EQ(self_map_frame(1), HV_GNTST_GENERAL_ERROR);                       /* GDT */
	EXPECT_EQ(self_map_frame(HV_TEST_BOOT_INFO / HV_PAGE_SIZE), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(self_map_frame(frame_end), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(self_map_frame(0xffffffffu), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(self_map_frame((uint32_t)((uintptr_t)own_page / HV_PAGE_SIZE)), HV_GNTST_OKAY);

	/* dom2's read-only grant: not writable, refs past its table, domains that are not. */
	EXPECT_EQ(gnt_map(WITNESS, wref, 0, &addr, &handle), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_map(WITNESS, wref + 1, 1, &addr, &handle), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_map(WITNESS, 16, 1, &addr, &handle), HV_GNTST_BAD_GNTREF);
	EXPECT_EQ(gnt_map(WITNESS, 0xffffffffu, 1, &addr, &handle), HV_GNTST_BAD_GNTREF);
	EXPECT_EQ(gnt_map(0x7fef, 0, 1, &addr, &handle), HV_GNTST_BAD_DOMAIN);
	EXPECT_EQ(gnt_map(0xffff, 0, 1, &addr, &handle), HV_GNTST_BAD_DOMAIN);
	/* Handles never given, and one given and spent. */
	EXPECT_EQ(gnt_unmap(0), HV_GNTST_BAD_HANDLE);
	EXPECT_EQ(gnt_unmap(0xffffffffu), HV_GNTST_BAD_HANDLE);
	EXPECT_EQ(gnt_map(WITNESS, wref, 1, &addr, &handle), HV_GNTST_OKAY);
	EXPECT_EQ(gnt_unmap(handle), HV_GNTST_OKAY);
	EXPECT_EQ(gnt_unmap(handle), HV_GNTST_BAD_HANDLE);

	/* Copies: too long, across a page, hv's area, read-only places, dom2's read-only page. */
	struct hv_gnttab_copy_ptr here = local(buf), theirs = gref(WITNESS, wref, 0);

	EXPECT_EQ(gnt_copy(theirs, here, HV_GNTCOPY_SOURCE_GREF, HV_PAGE_SIZE + 1),
		  HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(gref(WITNESS, wref, 4000), here, HV_GNTCOPY_SOURCE_GREF, 200),
		  HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(gref(WITNESS, wref, 0xffffffffu), here, HV_GNTCOPY_SOURCE_GREF, 1),
		  HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(local(buf + 4000), local(buf), 0, 200), HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(local((void *)0x1000), here, 0, 64), HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(here, local((void *)HV_TEST_BOOT_INFO), 0, 64), HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(here, local((void *)(uintptr_t)(ram - 32)), 0, 64),
		  HV_GNTST_BAD_COPY_ARG);
	EXPECT_EQ(gnt_copy(here, theirs, HV_GNTCOPY_DEST_GREF, 64), HV_GNTST_GENERAL_ERROR);
	EXPECT_EQ(gnt_copy(here, (struct hv_gnttab_copy_ptr){ .where = (uintptr_t)buf,
							       .dom = WITNESS },
			   0, 64),
		  HV_GNTST_BAD_DOMAIN);
	op = (struct hv_gnttab_op){ .cmd = HV_GNTTABOP_COPY, .flags = 0x8000, .len = 1,
				    .src = here, .dst = here };
	EXPECT_EQ(pv_gnttab(&op), HV_GNTST_BAD_COPY_ARG);
	/* An overlapping copy within one page is a move, and a read of dom2's page works. */
	for (unsigned i = 0; i < 64; i++)
		buf[i] = (uint8_t)i;
	EXPECT_EQ(gnt_copy(local(buf), local(buf + 1), 0, 63), HV_GNTST_OKAY);
	EXPECT(buf[0] == 0 && buf[1] == 0 && buf[63] == 62);
	EXPECT_EQ(gnt_copy(theirs, here, HV_GNTCOPY_SOURCE_GREF, HV_PAGE_SIZE), HV_GNTST_OKAY);
	/* Unknown operations, and another domain's table size. */
	op = (struct hv_gnttab_op){ .cmd = 77 };
	EXPECT(pv_gnttab(&op) != HV_GNTST_OKAY);
	op = (struct hv_gnttab_op){ .cmd = HV_GNTTABOP_QUERY_SIZE, .dom = WITNESS };
	EXPECT_EQ(pv_gnttab(&op), HV_GNTST_PERMISSION_DENIED);
	puts("hostile: bad tables, frames, refs, handles, domains and copies refused; SUCCESS");
}

static void grant_ro_write(void)
{
	volatile uint8_t *addr;
	uint32_t handle;

	EXPECT_EQ(gnt_map(WITNESS, witness_gref(), 1, &addr, &handle), HV_GNTST_OKAY);
	printf("hostile: writing through a read-only map at 0x%llx\n",
	       (unsigned long long)(uintptr_t)addr);
	fflush(stdout);
	addr[8] = 0x55;
	puts("FAILURE: the write went through");
	exit(1);
}

/* --- the store ----------------------------------------------------------------------------- */

static int store_raw(uint32_t cmd, uint64_t key, uint64_t buf, uint32_t len, uint32_t tx)
{
	static struct hv_store_op op __attribute__((aligned(8)));

	op = (struct hv_store_op){ .cmd = cmd, .key = key, .buf = buf, .len = len, .tx = tx,
				   .ret = 1 };
	pv_hypercall(HV_CALL_STORE, &op);
	return op.ret;
}

static void store_abuse(void)
{
	const char *mine = pv_key(pv_domid(), "k"), *theirs = pv_key(WITNESS, "secret");
	uint64_t ram = ram_end(), k = (uintptr_t)mine, b;
	char *copy = malloc(4096), *tail = (char *)(uintptr_t)(ram - 16);
	static char buf[256];

	b = (uintptr_t)buf;
	memcpy(copy, pv_boot_info(), 4096);
	EXPECT_EQ(store_put(mine, "v"), 0);
	/* Keys: outside, in hv's area, unterminated to the end of RAM, past the end. */
	EXPECT_EQ(store_raw(HV_STORE_READ, 0xfff00000u, b, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_READ, 0x1000, b, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_READ, ram, b, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_READ, 0xffffffffffffffffull, b, 16, 0), -EINVAL);
	memset(tail, 'a', 16); /* the top of our own stack, far above what we use */
	tail[0] = '/';
	EXPECT(store_raw(HV_STORE_READ, (uintptr_t)tail, b, 16, 0) < 0);
	/*
	 * Buffers: reads into read-only and hv memory, past RAM, wrapping, huge lengths. A
	 * read checks only the bytes the value needs (here 1), so a buffer that runs past the
	 * end of RAM but starts inside it is served.
	 */
	EXPECT_EQ(store_raw(HV_STORE_READ, k, HV_TEST_BOOT_INFO, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_READ, k, 0x3000, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_READ, k, ram, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_READ, k, 0xfffffffffffffff8ull, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_WRITE, k, 0x1000, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_WRITE, k, ram - 8, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_WRITE, k, b, 0xffffffffu, 0), -E2BIG);
	EXPECT_EQ(store_raw(HV_STORE_WRITE, k, b, HV_STORE_VALUE_MAX + 1, 0), -E2BIG);
	/* A value that is its own key, and a read whose buffer is the key: both fine. */
	EXPECT_EQ(store_raw(HV_STORE_WRITE, k, k, (uint32_t)strlen(mine), 0), 0);
	strcpy(buf, mine);
	EXPECT_EQ(store_raw(HV_STORE_READ, b, b, sizeof(buf), 0), 0);
	EXPECT(memcmp(buf, mine, strlen(mine)) == 0);
	/* dom2's keys, the names hv wrote, the tree above us, transactions, commands. */
	EXPECT_EQ(store_put(theirs, "stolen"), -EPERM);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, theirs, NULL, NULL), -EPERM);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, pv_key(WITNESS, ""), NULL, NULL), -EINVAL);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, "/local/domain/2", NULL, NULL), -EPERM);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, "/local", NULL, NULL), -EPERM);
	EXPECT_EQ(pv_store(HV_STORE_REMOVE, "/", NULL, NULL), -EINVAL);
	EXPECT_EQ(store_put(pv_key(pv_domid(), "name"), "someone"), -EPERM);
	EXPECT_EQ(store_raw(HV_STORE_WRITE, k, b, 1, 5), -EINVAL);
	EXPECT_EQ(store_raw(HV_STORE_WATCH, k, b, 16, 0), -EINVAL);
	EXPECT_EQ(store_raw(0xffffffffu, k, b, 16, 0), -EINVAL);
	EXPECT(memcmp(copy, pv_boot_info(), 4096) == 0);
	free(copy);
	puts("hostile: bad keys, buffers, lengths, transactions and dom2's keys refused; SUCCESS");
}

/* --- storms -------------------------------------------------------------------------------- */

static void storm(const char *kind, unsigned ms)
{
	uint64_t end = clock_monotonic_ns() + ms * MS, n = 0;
	static struct hv_wallclock w;
	static char text[4096];
	volatile uint32_t *doorbell = (volatile uint32_t *)(uintptr_t)pv_boot_info()->send_doorbell;
	uint32_t port = 0, wref = 0, handle, len;
	volatile uint8_t *addr;
	char buf[32];

	if (!strcmp(kind, "evtchn") || !strcmp(kind, "ring")) {
		int p = ev_bind_interdomain(WITNESS, witness_port());

		EXPECT(p > 0);
		port = (uint32_t)p;
	}
	if (!strcmp(kind, "grant") || !strcmp(kind, "store"))
		wref = witness_gref(); /* dom2's keys are all there */
	memset(text, '#', sizeof(text));
	while (clock_monotonic_ns() < end) {
		for (unsigned i = 0; i < 64; i++, n++) {
			if (!strcmp(kind, "hypercall"))
				pv_hypercall(HV_CALL_WALLCLOCK, &w);
			else if (!strcmp(kind, "block"))
				pv_block(0);
			else if (!strcmp(kind, "evtchn"))
				EXPECT_EQ(ev_send(port), 0);
			else if (!strcmp(kind, "ring")) {
				ring_send(port);
				*doorbell = 1; /* whether hv is idle or not */
			} else if (!strcmp(kind, "doorbell"))
				*doorbell = 1;
			else if (!strcmp(kind, "store")) {
				snprintf(buf, sizeof(buf), "s/%u", i);
				EXPECT_EQ(store_put(pv_key(pv_domid(), buf), "x"), 0);
				len = sizeof(buf);
				EXPECT_EQ(pv_store(HV_STORE_READ, pv_key(WITNESS, "secret"), buf, &len),
					  0);
				if (i == 63)
					EXPECT_EQ(pv_store(HV_STORE_REMOVE, pv_key(pv_domid(), "s"),
							   NULL, NULL), 0);
			} else if (!strcmp(kind, "grant")) {
				EXPECT_EQ(gnt_map(WITNESS, wref, 1, &addr, &handle), HV_GNTST_OKAY);
				EXPECT_EQ(gnt_unmap(handle), HV_GNTST_OKAY);
			} else if (!strcmp(kind, "console"))
				console((uintptr_t)text, sizeof(text));
			else
				exit(2);
		}
	}
	printf("\nhostile: %llu %s calls in %u ms; SUCCESS\n", (unsigned long long)n, kind, ms);
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	const char *a = argc > 2 ? argv[2] : "";

	if (!strcmp(c, "block") && argc > 3)
		bad_block(a, (unsigned)strtoul(argv[3], NULL, 0));
	else if (!strcmp(c, "unknown-call"))
		raw_out((uint16_t)HV_PORT(strtoul(a, NULL, 0)), 0x200000);
	else if (!strcmp(c, "port"))
		bad_port(a);
	else if (!strcmp(c, "console"))
		bad_console(a);
	else if (!strcmp(c, "calls-edge"))
		calls_edge();
	else if (!strcmp(c, "exit-status"))
		exit_status();
	else if (!strcmp(c, "block-forever"))
		block_forever();
	else if (!strcmp(c, "evtchn"))
		evtchn_abuse();
	else if (!strcmp(c, "grant"))
		grant_abuse();
	else if (!strcmp(c, "grant-ro-write"))
		grant_ro_write();
	else if (!strcmp(c, "store"))
		store_abuse();
	else if (!strcmp(c, "storm") && argc > 3)
		storm(a, (unsigned)strtoul(argv[3], NULL, 0));
	else {
		puts("FAILURE: usage: hostile.img CASE [ARGS] (see the source's header)");
		return 2;
	}
	return 0;
}
