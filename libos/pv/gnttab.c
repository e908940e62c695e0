/* SPDX-License-Identifier: MIT */
/*
 * Grant tables, the guest side: this domain's table of v1 entries in its own
 * pages (registered with hv once), a free list of refs, ending access by
 * Xen's compare-and-swap rule, and mapping, unmapping and copying the grants
 * of other domains through GNTTABOP_*.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "gnttab.h"
#include "gnttab_entry.h"
#include "kernel.h"
#include "libos.h"
#include "pv.h"

#define TABLE_PAGES (GNTTAB_NR_ENTRIES * sizeof(struct hv_grant_entry) / PAGE_BYTES)

_Static_assert(GNTTAB_NR_ENTRIES * sizeof(struct hv_grant_entry) % PAGE_BYTES == 0,
	       "the table is whole pages");
_Static_assert(GNTTAB_NR_ENTRIES <= HV_MAX_GRANT_ENTRIES, "hv takes a table this large");
_Static_assert(GNTTAB_RESERVED > 0, "ref 0 ends the free list");

static struct hv_grant_entry *table; /* NULL until the first grant registers it */
static uint64_t window, window_size;
/* Free refs as a list through next_free; 0 (a reserved ref) ends it. */
static grant_ref_t free_head;
static grant_ref_t next_free[GNTTAB_NR_ENTRIES];
static bool granted[GNTTAB_NR_ENTRIES];

/* Named for the linker only: Xen's platform reaches it through a weak reference (pv.h). */
static void (*const client)(struct hv_gnttab_op *op) __attribute__((used)) = xen_gnttab_op;

void gnttab_init(const struct boot *boot)
{
	window = boot->grant_window;
	window_size = boot->grant_window_size;
}

static int gnttab_op(struct hv_gnttab_op *op)
{
	int rc = pv_call(HV_CALL_GNTTAB_OP, op);

	if (rc)
		return rc;
	switch (op->status) {
	case HV_GNTST_OKAY: return 0;
	case HV_GNTST_BAD_DOMAIN: return -ESRCH;
	case HV_GNTST_BAD_GNTREF: return -ENOENT;
	case HV_GNTST_PERMISSION_DENIED: return -EACCES;
	case HV_GNTST_BAD_HANDLE: return -EINVAL;
	case HV_GNTST_BAD_COPY_ARG: return -EINVAL;
	case HV_GNTST_NO_DEVICE_SPACE: return -ENOSPC;
	case HV_GNTST_BAD_VIRT_ADDR: return -EFAULT;
	default: return -EIO;
	}
}

/* The table in pages of our own, registered once: hv reads and writes it from then on. */
static int setup_table(void)
{
	struct hv_gnttab_op op = {.cmd = HV_GNTTABOP_SETUP_TABLE, .nr_entries = GNTTAB_NR_ENTRIES};
	struct hv_grant_entry *t;
	int rc;

	if (!platform->pv_call)
		return -ENOSYS; /* before taking pages the table would never use */
	t = pages_alloc(TABLE_PAGES);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < TABLE_PAGES * PAGE_BYTES / sizeof(uint64_t); i++)
		((uint64_t *)t)[i] = 0;
	op.table = (uintptr_t)t;
	rc = gnttab_op(&op);
	if (rc) {
		pages_free(t, TABLE_PAGES);
		return rc;
	}
	for (grant_ref_t ref = GNTTAB_NR_ENTRIES - 1; ref >= GNTTAB_RESERVED; ref--) {
		next_free[ref] = free_head;
		free_head = ref;
	}
	table = t;
	return 0;
}

int gnttab_grant_access(domid_t domid, const void *page, int readonly)
{
	uintptr_t gpa = (uintptr_t)page;
	uint64_t frame = platform->frame_of ? platform->frame_of(page) : gpa / PAGE_BYTES;
	grant_ref_t ref;
	int rc;

	if (!page || gpa % PAGE_BYTES || gpa >= HV_GPA_LIMIT || !frame || frame > UINT32_MAX)
		return -EINVAL;
	if (!table && (rc = setup_table()) != 0)
		return rc;
	if (!free_head)
		return -ENOSPC;
	ref = free_head;
	free_head = next_free[ref];
	granted[ref] = true;
	gnttab_entry_fill(&table[ref], domid, (uint32_t)frame, readonly);
	return (int)ref;
}

/* Xen's rule (gnttab_entry.c): an entry hv holds for a map or a copy cannot end. */
int gnttab_end_access(grant_ref_t ref)
{
	int rc;

	if (!table || ref < GNTTAB_RESERVED || ref >= GNTTAB_NR_ENTRIES || !granted[ref])
		return -EINVAL;
	rc = gnttab_entry_end(&table[ref]);
	if (rc)
		return rc;
	granted[ref] = false;
	next_free[ref] = free_head;
	free_head = ref;
	return 0;
}

int gnttab_map(domid_t domid, grant_ref_t ref, int readonly, void **addr)
{
	struct hv_gnttab_op op = {
	    .cmd = HV_GNTTABOP_MAP_GRANT_REF,
	    .dom = domid,
	    .ref = ref,
	    .flags = readonly ? HV_GNTMAP_READONLY : 0,
	};
	int rc = gnttab_op(&op);

	if (rc)
		return rc;
	if (op.addr < window || op.addr - window >= window_size || op.addr % PAGE_BYTES ||
	    op.handle > INT32_MAX)
		panic("gnttab_map: hv mapped ref %u of domain %u at 0x%llx (handle %u), outside "
		      "the grant window 0x%llx + 0x%llx",
		      ref, domid, (unsigned long long)op.addr, op.handle,
		      (unsigned long long)window, (unsigned long long)window_size);
	*addr = (void *)(uintptr_t)op.addr;
	return (int)op.handle;
}

int gnttab_unmap(int handle)
{
	struct hv_gnttab_op op = {.cmd = HV_GNTTABOP_UNMAP_GRANT_REF, .handle = (uint32_t)handle};

	if (handle < 0)
		return -EINVAL;
	return gnttab_op(&op);
}

/*
 * One GNTTABOP_COPY per piece of our buffer that stays within one page (the
 * ABI's rule for both ends); the granted end is one page already.
 */
static int copy(domid_t domid, grant_ref_t ref, unsigned offset, uintptr_t local, size_t len,
		int to_grant)
{
	if (offset >= PAGE_BYTES || len > PAGE_BYTES - offset)
		return -EINVAL;
	while (len) {
		size_t n = PAGE_BYTES - local % PAGE_BYTES;
		struct hv_gnttab_copy_ptr granted_end = {
		    .where = (uint64_t)offset << 32 | ref,
		    .dom = domid,
		};
		struct hv_gnttab_copy_ptr local_end = {.where = local, .dom = HV_DOMID_SELF};
		struct hv_gnttab_op op = {.cmd = HV_GNTTABOP_COPY};
		int rc;

		if (n > len)
			n = len;
		op.len = (uint32_t)n;
		op.flags = to_grant ? HV_GNTCOPY_DEST_GREF : HV_GNTCOPY_SOURCE_GREF;
		op.src = to_grant ? local_end : granted_end;
		op.dst = to_grant ? granted_end : local_end;
		rc = gnttab_op(&op);
		if (rc)
			return rc;
		offset += (unsigned)n;
		local += n;
		len -= n;
	}
	return 0;
}

int gnttab_copy_from(domid_t domid, grant_ref_t ref, unsigned offset, void *dst, size_t len)
{
	return copy(domid, ref, offset, (uintptr_t)dst, len, 0);
}

int gnttab_copy_to(domid_t domid, grant_ref_t ref, unsigned offset, const void *src, size_t len)
{
	return copy(domid, ref, offset, (uintptr_t)src, len, 1);
}
