/* SPDX-License-Identifier: MIT */
/*
 * This domain's id. A file of its own because on a Xen domU the id comes from xenstore:
 * an image has Xen's store client only if something asks (pv.h), and asking is this.
 */
#include "kernel.h"
#include "libos.h"
#include "pv.h"

/* Named for the linker only: a domU's boot reads the id through a weak reference. */
static int (*const client)(uint16_t *domid) __attribute__((used)) = xen_store_domid;

uint16_t libos_domid(void)
{
	return libos_boot_domid;
}
