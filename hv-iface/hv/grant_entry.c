/* SPDX-License-Identifier: MIT */
/*
 * Grant entries, v1: pinning and unpinning an entry that lives in the
 * granter's memory and that the granter may change at any moment, with
 * Xen's rules (_set_status_v1 in xen/common/grant_table.c). Pure: unit-tested
 * on the host.
 */
#include <stddef.h>

#include "grant_entry.h"

/* Tries of the compare-and-swap before the entry counts as unstable (Xen allows 5). */
#define PIN_TRIES 5

/* Flags and domid are one 32-bit word, flags in the low half (little-endian). */
_Static_assert(offsetof(struct hv_grant_entry, flags) == 0, "flags first");
_Static_assert(offsetof(struct hv_grant_entry, domid) == 2, "then domid");

static uint32_t *combo(struct hv_grant_entry *e)
{
	return (uint32_t *)(void *)e;
}

int grant_entry_pin(struct hv_grant_entry *e, struct grant_pins *pins, domid_t grantee,
		    bool readonly)
{
	uint32_t *word = combo(e);
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	for (int tries = 0; tries < PIN_TRIES; tries++) {
		uint16_t flags = (uint16_t)old, domid = (uint16_t)(old >> 16);
		uint16_t want = HV_GTF_READING | (readonly ? 0 : HV_GTF_WRITING);

		/* Xen's "type" is the low two bits: permit_access, nothing else (no transfer). */
		if ((flags & 3) != HV_GTF_PERMIT_ACCESS || domid != grantee)
			return HV_GNTST_GENERAL_ERROR;
		if (!readonly && (flags & HV_GTF_READONLY))
			return HV_GNTST_GENERAL_ERROR;
		if (__atomic_compare_exchange_n(word, &old, old | want, false, __ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE)) {
			if (readonly)
				pins->readers++;
			else
				pins->writers++;
			return HV_GNTST_OKAY;
		}
	}
	return HV_GNTST_GENERAL_ERROR;
}

void grant_entry_unpin(struct hv_grant_entry *e, struct grant_pins *pins, bool readonly)
{
	uint32_t clear = 0;

	if (readonly && pins->readers)
		pins->readers--;
	else if (!readonly && pins->writers)
		pins->writers--;
	if (pins->writers == 0)
		clear |= HV_GTF_WRITING;
	if (pins->readers == 0 && pins->writers == 0)
		clear |= HV_GTF_READING;
	/* Only hv's two bits change; whatever else the granter wrote meanwhile stays. */
	if (clear)
		__atomic_fetch_and(combo(e), ~clear, __ATOMIC_SEQ_CST);
}

uint32_t grant_entry_frame(const struct hv_grant_entry *e)
{
	return __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE);
}

bool grant_frame_ok(uint32_t frame, uint64_t mem_size)
{
	return frame >= HV_IMAGE_BASE / HV_PAGE_SIZE && frame < mem_size / HV_PAGE_SIZE;
}
