/* SPDX-License-Identifier: MIT */
/*
 * A domU's split devices: every entry under xenstore's device/vbd and
 * device/vif (what the toolstack made for the domain) gets its frontend, if
 * the image has it. A device that fails to attach is reported and left out;
 * the others work.
 */
#include <stdio.h>
#include <string.h>

#include "blkdev_driver.h"
#include "netdev_driver.h"
#include "xen.h"

/* In the image only with their device class (blkdev_driver.h, netdev_driver.h); else NULL. */
#pragma weak xen_blkfront_attach
#pragma weak xen_netfront_attach

#define LIST_MAX 1024

static void attach_all(const char *kind, int (*attach)(const char *dir))
{
	char names[LIST_MAX], dir[64];
	int len = xen_store_directory(kind, names, sizeof(names));

	for (int off = 0; len > 0 && off < len; off += (int)strlen(names + off) + 1) {
		snprintf(dir, sizeof(dir), "%s/%s", kind, names + off);
		attach(dir);
	}
}

void xen_attach_devices(void)
{
	if (xen.dom0)
		return; /* dom0's devices are the hardware's, not split drivers */
	if (xen_blkfront_attach)
		attach_all("device/vbd", xen_blkfront_attach);
	if (xen_netfront_attach)
		attach_all("device/vif", xen_netfront_attach);
}
