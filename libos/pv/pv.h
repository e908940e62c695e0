/* SPDX-License-Identifier: MIT */
/* What libos/pv/ shares inside itself: the platform's paravirtual call, or -ENOSYS without one. */
#ifndef LIBOS_PV_H
#define LIBOS_PV_H

#include <errno.h>

#include "kernel.h"

/*
 * Make the paravirtual hypercall call (HV_CALL_EVTCHN_OP, _GNTTAB_OP or
 * _STORE) with its argument block; the block's own fields then hold the
 * result. -ENOSYS where the platform has no such calls (QEMU), else 0.
 */
static inline int pv_call(enum hv_call call, void *arg)
{
	if (!platform->pv_call)
		return -ENOSYS;
	platform->pv_call(call, arg);
	return 0;
}

/*
 * Xen's clients of these calls (platforms/xen/), named by the files that make the calls
 * (store.c, gnttab.c, domid.c), so that an image has a client only if it makes its call. On
 * hv the calls need no client in the guest.
 */
void xen_store_op(struct hv_store_op *op);
int xen_store_domid(uint16_t *domid);
void xen_gnttab_op(struct hv_gnttab_op *op);

#endif /* LIBOS_PV_H */
