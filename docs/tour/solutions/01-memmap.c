/* SPDX-License-Identifier: MIT */
/*
 * The tour's exercise 1 (docs/tour/01-boot.md), as apps/memmap/memmap.c: print what hv
 * told this domain at boot. hv passed the boot info's address in %rdi at _start; libos
 * keeps its own copy of what it needs, and the block itself stays mapped, read-only, at
 * 0xfb000 (HV_L_BOOT_INFO in hv-iface/hv/hv.h).
 *
 *   build/hv --mem=16M --disk=build/tour/disk.img build/apps/memmap.img
 */
#include <stdint.h>
#include <stdio.h>

#include "hv_abi.h"

#define BOOT_INFO 0xfb000u

static const char *type_name(uint32_t type)
{
	switch (type) {
	case HV_MEM_RAM: return "ram";
	case HV_MEM_IMAGE: return "image";
	case HV_MEM_STACK: return "stack";
	case HV_MEM_HV: return "hv";
	case HV_MEM_SHARED: return "shared";
	default: return "?";
	}
}

int main(void)
{
	const struct hv_boot_info *bi = (const void *)(uintptr_t)BOOT_INFO;

	if (bi->magic != HV_BOOT_MAGIC) {
		printf("no boot info at 0x%x\n", BOOT_INFO);
		return 1;
	}
	printf("domain %u, ABI version %u, argc %u\n", bi->domid, bi->abi_version, bi->argc);
	for (uint32_t i = 0; i < bi->nr_mem && i < HV_MAX_MEM_REGIONS; i++) {
		const struct hv_mem_region *m = &bi->mem[i];

		printf("%-6s [0x%08llx, 0x%08llx) %6llu KiB\n", type_name(m->type),
		       (unsigned long long)m->gpa, (unsigned long long)(m->gpa + m->size),
		       (unsigned long long)(m->size >> 10));
	}
	for (uint32_t i = 0; i < bi->nr_devices && i < HV_MAX_DEVICES; i++) {
		const struct hv_device *d = &bi->devices[i];

		printf("device %u: virtio ID %u at 0x%llx, %u queue(s) from event port %u\n", i,
		       d->virtio_id, (unsigned long long)d->gpa, d->nr_queues, d->port);
	}
	printf("shared info at 0x%llx, send ring at 0x%llx, grant window at 0x%llx\n",
	       (unsigned long long)bi->shared_info, (unsigned long long)bi->send_ring,
	       (unsigned long long)bi->grant_window);
	return 0;
}
