/* SPDX-License-Identifier: MIT */
/*
 * The kernel command line on QEMU (-append): the appliance's arguments, the
 * virtio_mmio.device= entries QEMU microvm adds with acpi=off, and the
 * platform's own flag. Plain C with no platform dependency, so it is
 * unit-tested on the host (tests/unit/test_pvh_cmdline.c).
 */
#ifndef PVH_CMDLINE_H
#define PVH_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#define PVH_ARGS_MAX 4096       /* bytes of argument strings, NULs included */
#define PVH_CMDLINE_MAX_MMIO 16 /* virtio_mmio.device= entries taken */
#define PVH_MMIO_LIMIT 0x100000000ull /* device windows must lie below 4 GiB: what is mapped */

/* "virtio_mmio.device=<size>@<base>:<irq>[:<id>]", as Linux's virtio_mmio driver reads it. */
struct pvh_mmio_entry {
	uint64_t base;
	uint64_t size;
	uint32_t irq; /* a GSI */
};

struct pvh_cmdline {
	char args[PVH_ARGS_MAX]; /* argc strings, each NUL-terminated, back to back */
	size_t args_size;
	unsigned argc;
	struct pvh_mmio_entry mmio[PVH_CMDLINE_MAX_MMIO];
	unsigned nr_mmio;
	int debug; /* the word pvh.debug was given */
};

/*
 * Split cmdline into words at spaces and tabs. A double quote starts or ends
 * a quoted stretch in which spaces are kept, and is itself dropped, so
 * "two words" is one argument and "" an empty one (the rule of Linux's
 * kernel command line). argv[0] is the rest of a first word that starts
 * with BOOT_IMAGE= (what GRUB puts first; mk/qemu-run.sh passes the image's
 * path there), else argv0. Words that are virtio_mmio.device= entries or
 * the flag pvh.debug are the platform's; the others follow as argv[1...].
 * cmdline may be NULL (no command line).
 *
 * Returns 0; -E2BIG if the arguments do not fit PVH_ARGS_MAX; -ENOSPC for
 * more than PVH_CMDLINE_MAX_MMIO entries; -EINVAL for an entry that does
 * not parse or lies beyond PVH_MMIO_LIMIT. On an error, *bad (if bad is
 * not NULL) points into cmdline at the word that caused it.
 */
int pvh_cmdline_parse(const char *cmdline, const char *argv0, struct pvh_cmdline *out,
		      const char **bad);

#endif /* PVH_CMDLINE_H */
