/* SPDX-License-Identifier: MIT */
/*
 * A grant entry, the granter's side, by the rules hv and Xen apply on theirs
 * (hv-iface/include/hv_abi.h): pure, so the host unit test races it against
 * hv's own pinning code on two threads.
 */
#include <errno.h>

#include "gnttab_entry.h"

void gnttab_entry_fill(struct hv_grant_entry *e, domid_t domid, uint32_t frame, bool readonly)
{
	e->domid = domid;
	e->frame = frame;
	/* Release: hv checks the flags, then trusts domid and frame; they must be there first. */
	__atomic_store_n(&e->flags, HV_GTF_PERMIT_ACCESS | (readonly ? HV_GTF_READONLY : 0),
			 __ATOMIC_RELEASE);
}

/*
 * Clear the flags only if hv has not marked the entry in use: hv sets
 * GTF_reading/GTF_writing with its own compare-and-swap while the flags
 * still permit access, so exactly one of the two wins, and a page is never
 * reused while the peer still has it mapped.
 */
int gnttab_entry_end(struct hv_grant_entry *e)
{
	/* Acquire, and the exchange's own: nothing of the page is reused before the flags say so.
	 */
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if (flags & (HV_GTF_READING | HV_GTF_WRITING))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, HV_GTF_INVALID, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	return 0;
}
