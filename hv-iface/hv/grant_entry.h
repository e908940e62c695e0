/* SPDX-License-Identifier: MIT */
/* Xen's v1 grant-entry rules: pinning an entry a granter keeps in its own memory, and unpinning; pure. */
#ifndef HV_GRANT_ENTRY_H
#define HV_GRANT_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "hv_abi.h"

/*
 * What hv holds of one entry: mappings and copies in progress, each read-only
 * or writable. GTF_reading is set in the entry while any is held,
 * GTF_writing while a writable one is (Xen's pin counts).
 */
struct grant_pins {
	uint32_t readers;
	uint32_t writers;
};

/*
 * Pin entry e (in the granter's memory, shared with it) for domain grantee:
 * the entry must permit access, name grantee, and not be GTF_readonly when
 * a writable pin is asked for. GTF_reading (and GTF_writing) go in with one
 * compare-and-swap on the flags and domid together, so a granter that ends
 * access with its own compare-and-swap at the same time either wins (the
 * pin fails) or fails (and sees the flags). A granter that keeps changing
 * the entry makes it fail after a few tries rather than spin. Returns
 * HV_GNTST_OKAY, or HV_GNTST_GENERAL_ERROR as Xen does for every one of
 * these refusals.
 */
int grant_entry_pin(struct hv_grant_entry *e, struct grant_pins *pins, domid_t grantee,
		    bool readonly);

/* Undo one pin; the last of its kind clears GTF_writing or GTF_reading. */
void grant_entry_unpin(struct hv_grant_entry *e, struct grant_pins *pins, bool readonly);

/* The entry's frame, read once (after the pin: the granter may change it before). */
uint32_t grant_entry_frame(const struct hv_grant_entry *e);

/*
 * Whether frame lies in guest RAM of mem_size bytes, above hv's area (which
 * no grant may expose: the page tables and descriptor tables are there).
 */
bool grant_frame_ok(uint32_t frame, uint64_t mem_size);

#endif /* HV_GRANT_ENTRY_H */
