/* SPDX-License-Identifier: MIT */
/*
 * The PVH boot ABI (Xen's x86/HVM direct boot ABI, docs/misc/pvh.pandoc, and
 * its struct in xen/include/public/arch-x86/hvm/start_info.h): the note that
 * names the 32-bit entry, and the start-of-day block whose physical address
 * the loader (QEMU's PVH option ROM, or Xen) puts in %ebx.
 */
#ifndef PVH_START_INFO_H
#define PVH_START_INFO_H

/* The ELF note: name "Xen", this type, the entry's physical address as its value. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * Everything is little-endian and every address physical. Fields up to
 * rsdp_paddr exist from version 0; the memory map from version 1.
 */
struct hvm_start_info {
	uint32_t magic;          /* XEN_HVM_START_MAGIC_VALUE */
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;  /* NUL-terminated; 0 if none */
	uint64_t rsdp_paddr;     /* ACPI RSDP; 0 if there are no ACPI tables */
	uint64_t memmap_paddr;   /* version >= 1: memmap_entries struct hvm_memmap_table_entry */
	uint32_t memmap_entries;
	uint32_t reserved;
};

/* Types of memory-map entries: the E820 numbering. */
#define XEN_HVM_MEMMAP_TYPE_RAM 1
#define XEN_HVM_MEMMAP_TYPE_RESERVED 2
#define XEN_HVM_MEMMAP_TYPE_ACPI 3
#define XEN_HVM_MEMMAP_TYPE_NVS 4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE 5

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info is 56 bytes");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "a memmap entry is 24 bytes");

#endif /* __ASSEMBLER__ */
#endif /* PVH_START_INFO_H */
