/* SPDX-License-Identifier: MIT */
/* ELF64 image validation and loading; pure functions, unit-tested on the host. */
#ifndef HV_ELF_H
#define HV_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	uint64_t gpa;
	uint64_t memsz;
	uint64_t filesz;
	uint64_t offset;
	uint32_t flags; /* PF_R | PF_W | PF_X */
};

struct elf_image {
	uint64_t entry;
	uint64_t lo, hi; /* lowest and highest byte (exclusive) of the loaded segments */
	unsigned nr_segments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/*
 * Validate a static ELF64 x86-64 executable held in file[0, size) for loading
 * into guest-physical [lo, hi): every header and segment within the file,
 * PT_LOAD segments with vaddr == paddr inside [lo, hi) and not overlapping,
 * the entry point inside an executable segment, and an hv ABI note of
 * version HV_ABI_VERSION. Returns 0 and fills img, or -ENOEXEC with a
 * one-line reason in err.
 */
int elf_parse(const uint8_t *file, size_t size, uint64_t lo, uint64_t hi,
	      struct elf_image *img, char *err, size_t errlen);

/*
 * Copy the segments of a parsed image into guest memory (host address of
 * gpa 0). The memory must be freshly zeroed: the part of each segment past
 * its file data (.bss) is left untouched, so its pages cost nothing until
 * the guest uses them.
 */
void elf_load(const uint8_t *file, const struct elf_image *img, uint8_t *mem);

#endif /* HV_ELF_H */
