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

#endif /* LIBOS_PV_H */
