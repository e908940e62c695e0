/* SPDX-License-Identifier: MIT */
/*
 * Grant tables (Xen's version 1), the guest side: let another domain map or
 * copy a page of ours, and map or copy the pages other domains grant us.
 *
 * A map aliases the granter's page into this domain's grant window (no
 * copy), and costs tens of microseconds here: map what is shared for long
 * (a ring) once, never a grant per message. Every call returns 0 (or a ref,
 * a handle) or a negative errno; -ENOSYS where the platform has no domains.
 * hv's GNTST_* results become: -EIO its general error (which hv, like Xen,
 * gives for a ref not granted to us, or not for the access asked), -ESRCH
 * no such domain, -ENOENT a ref beyond the granter's table, -EACCES
 * permission denied, -EINVAL a bad handle or copy argument, -ENOSPC no room
 * in the grant window, -EFAULT a bad address.
 */
#ifndef LIBOS_GNTTAB_H
#define LIBOS_GNTTAB_H

#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"

typedef uint32_t grant_ref_t;

/*
 * Entries in this domain's table (a tunable: 8 bytes each, in whole pages).
 * The first GNTTAB_RESERVED refs are never handed out (Xen keeps them for
 * its toolstack's console and store rings).
 */
#define GNTTAB_NR_ENTRIES 1024
#define GNTTAB_RESERVED	  8

/*
 * Let domain domid access the page at page (page-aligned, ours), read-only
 * if readonly. The table is registered with hv on the first call. A ref, or
 * -EINVAL (not a page of ours), -ENOSPC (every ref in use).
 */
int gnttab_grant_access(domid_t domid, const void *page, int readonly);

/*
 * Take the grant back; the ref is free again. -EBUSY while the grantee has
 * it mapped (Xen's rule: the entry's in-use flags are set): the page is
 * still shared then; unmapping ends that, so retry after the peer did.
 * -EINVAL for a ref that is not granted.
 */
int gnttab_end_access(grant_ref_t ref);

/*
 * Map page ref that domid granted us; *addr is where it appears (in the
 * grant window). A handle for gnttab_unmap(), or -errno as above. readonly
 * is required for a read-only grant.
 */
int gnttab_map(domid_t domid, grant_ref_t ref, int readonly, void **addr);
/* Undo a map; the page at its address is gone. 0 or -EINVAL (bad handle). */
int gnttab_unmap(int handle);

/*
 * Copy len bytes between a page another domain granted us and our own
 * memory, through hv (no map; for short or one-off transfers). The granted
 * end is (domid, ref, offset); offset + len must stay within its page. Our
 * buffer may cross pages. 0 or -errno as above.
 */
int gnttab_copy_from(domid_t domid, grant_ref_t ref, unsigned offset, void *dst, size_t len);
int gnttab_copy_to(domid_t domid, grant_ref_t ref, unsigned offset, const void *src, size_t len);

#endif /* LIBOS_GNTTAB_H */
