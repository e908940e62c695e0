/* SPDX-License-Identifier: MIT */
/* A grant entry (Xen v1), the granter's side: fill one in, and take it back by Xen's rule; pure. */
#ifndef LIBOS_GNTTAB_ENTRY_H
#define LIBOS_GNTTAB_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "hv_abi.h"

/* Let domid access frame, read-only if readonly: the flags go in last. */
void gnttab_entry_fill(struct hv_grant_entry *e, domid_t domid, uint32_t frame, bool readonly);

/*
 * Take the entry back: 0, or -EBUSY while the grantee holds it
 * (GTF_reading or GTF_writing set), in which case it is unchanged.
 */
int gnttab_entry_end(struct hv_grant_entry *e);

#endif /* LIBOS_GNTTAB_ENTRY_H */
