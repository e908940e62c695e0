/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hv's grant-entry rules (grant_entry.c, Xen's v1). A few
 * entries in "granter memory" whose flags, domid and frame the input writes
 * at will, between pins and unpins by hv for a grantee. Checked after each
 * step: a pin succeeds exactly when the entry permits it, it sets only
 * GTF_reading (and GTF_writing), an unpin clears only those and only when
 * the last pin of its kind goes, and a frame is accepted only above hv's area
 * and inside guest memory.
 *
 * Input: operations, each a byte (modulo NR_OPS) and its arguments.
 */
#include "fuzz.h"
#include "grant_entry.h"

#define NR_ENTRIES 4
#define HV_BITS (HV_GTF_READING | HV_GTF_WRITING)

enum { OP_PIN, OP_UNPIN, OP_WRITE, OP_END_ACCESS, OP_FRAME, NR_OPS };

/* hv's side of each entry: its pin counts, as gnttab.c keeps them per ref. */
static struct grant_pins pins[NR_ENTRIES];

static void op_pin(struct hv_grant_entry *e, struct grant_pins *gp, domid_t grantee, int ro)
{
	struct hv_grant_entry before = *e;
	struct grant_pins was = *gp;
	int allowed = (before.flags & 3) == HV_GTF_PERMIT_ACCESS && before.domid == grantee &&
		      (ro || !(before.flags & HV_GTF_READONLY));
	int rc = grant_entry_pin(e, gp, grantee, ro);

	/* Nobody changes the entry meanwhile here, so the first try decides. */
	FUZZ_CHECK(rc == (allowed ? HV_GNTST_OKAY : HV_GNTST_GENERAL_ERROR));
	FUZZ_CHECK(e->domid == before.domid && e->frame == before.frame);
	if (rc != HV_GNTST_OKAY) {
		FUZZ_CHECK(e->flags == before.flags);
		FUZZ_CHECK(gp->readers == was.readers && gp->writers == was.writers);
		return;
	}
	FUZZ_CHECK((e->flags & ~HV_BITS) == (before.flags & ~HV_BITS));
	FUZZ_CHECK(e->flags & HV_GTF_READING);
	FUZZ_CHECK(ro || (e->flags & HV_GTF_WRITING));
	FUZZ_CHECK(gp->readers == was.readers + (ro ? 1 : 0) &&
		   gp->writers == was.writers + (ro ? 0 : 1));
}

static void op_unpin(struct hv_grant_entry *e, struct grant_pins *gp, int ro)
{
	struct hv_grant_entry before = *e;

	/* gnttab.c unpins only what it pinned. */
	if (ro ? gp->readers == 0 : gp->writers == 0)
		return;
	grant_entry_unpin(e, gp, ro);
	FUZZ_CHECK(e->domid == before.domid && e->frame == before.frame);
	FUZZ_CHECK((e->flags & ~HV_BITS) == (before.flags & ~HV_BITS));
	/* Bits are only ever cleared, and exactly those of a kind no pin holds any more. */
	FUZZ_CHECK((e->flags & ~before.flags) == 0);
	FUZZ_CHECK(gp->writers > 0 || !(e->flags & HV_GTF_WRITING));
	FUZZ_CHECK(gp->writers == 0 || e->flags == before.flags);
	FUZZ_CHECK(gp->readers + gp->writers > 0 || !(e->flags & HV_GTF_READING));
}

/* Xen's gnttab_end_foreign_access_ref(): clear the flags unless hv marked the entry in use. */
static void end_access(struct hv_grant_entry *e)
{
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if (flags & HV_BITS)
			return;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, 0, __ATOMIC_SEQ_CST,
					      __ATOMIC_ACQUIRE));
}

static void op_frame(struct hv_grant_entry *e, uint64_t mem_size)
{
	uint32_t frame = grant_entry_frame(e);
	bool ok = grant_frame_ok(frame, mem_size);

	FUZZ_CHECK(frame == e->frame);
	FUZZ_CHECK(ok == ((uint64_t)frame * HV_PAGE_SIZE >= HV_IMAGE_BASE &&
			  (uint64_t)frame * HV_PAGE_SIZE + HV_PAGE_SIZE <= mem_size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct hv_grant_entry *e = calloc(NR_ENTRIES, sizeof(*e)); /* ASan bounds the table */

	if (!e)
		abort();
	memset(pins, 0, sizeof(pins));
	while (in.left) {
		uint8_t op = fuzz_u8(&in) % NR_OPS, arg = fuzz_u8(&in);
		unsigned i = arg % NR_ENTRIES;
		int ro = (arg >> 2) & 1;

		switch (op) {
		case OP_PIN:
			/* Mostly the grantee the entries name in the seeds, 1, or any. */
			op_pin(&e[i], &pins[i], arg & 0x80 ? fuzz_u16(&in) : 1, ro);
			break;
		case OP_UNPIN:
			op_unpin(&e[i], &pins[i], ro);
			break;
		case OP_WRITE: /* the granter writes its entry: any flags, even hv's bits */
			e[i].flags = fuzz_u16(&in);
			e[i].domid = fuzz_u16(&in);
			e[i].frame = fuzz_u32(&in);
			break;
		case OP_END_ACCESS:
			end_access(&e[i]);
			break;
		case OP_FRAME:
			op_frame(&e[i], (uint64_t)fuzz_u32(&in) << 12);
			break;
		}
	}
	free(e);
	return 0;
}
