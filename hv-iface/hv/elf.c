/* SPDX-License-Identifier: MIT */
/* ELF64 image validation and loading: nothing in the file is trusted until checked here. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "elf.h"
#include "hv_abi.h"

static int reject(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reject(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

/* True when [off, off + len) lies inside a file of size bytes, without overflow. */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static uint32_t align4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

/*
 * Look for the hv ABI note in one PT_NOTE segment. Returns 1 and the
 * version when found, 0 when absent, -1 on a malformed note.
 */
static int find_abi_note(const uint8_t *p, uint64_t len, uint32_t *version)
{
	uint64_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;

		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		uint64_t name_len = align4(nh.n_namesz);
		uint64_t desc_len = align4(nh.n_descsz);
		if (nh.n_namesz > UINT32_MAX - 3 || nh.n_descsz > UINT32_MAX - 3 ||
		    name_len > len - off || desc_len > len - off - name_len)
			return -1;
		if (nh.n_type == HV_NOTE_ABI && nh.n_namesz == sizeof(HV_NOTE_NAME) &&
		    memcmp(p + off, HV_NOTE_NAME, sizeof(HV_NOTE_NAME)) == 0) {
			struct hv_note_abi abi;

			if (nh.n_descsz != sizeof(abi))
				return -1;
			memcpy(&abi, p + off + name_len, sizeof(abi));
			*version = abi.abi_version;
			return 1;
		}
		off += name_len + desc_len;
	}
	return 0;
}

static int check_header(const uint8_t *file, size_t size, Elf64_Ehdr *eh, char *err, size_t errlen)
{
	if (size < EI_NIDENT || memcmp(file, ELFMAG, SELFMAG) != 0)
		return reject(err, errlen, "not an ELF file");
	if (file[EI_CLASS] != ELFCLASS64)
		return reject(err, errlen, "ELF class %u is not ELF64", file[EI_CLASS]);
	if (file[EI_DATA] != ELFDATA2LSB)
		return reject(err, errlen, "ELF data encoding %u is not little-endian", file[EI_DATA]);
	if (size < sizeof(*eh))
		return reject(err, errlen, "truncated ELF header (%zu bytes)", size);
	memcpy(eh, file, sizeof(*eh));
	if (eh->e_machine != EM_X86_64)
		return reject(err, errlen, "ELF machine %u is not x86-64 (%u)", eh->e_machine,
			      EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return reject(err, errlen, "ELF type %u is not a static executable (ET_EXEC)",
			      eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return reject(err, errlen, "program header size %u, expected %zu", eh->e_phentsize,
			      sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
		return reject(err, errlen, "no program headers");
	if (!in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size))
		return reject(err, errlen, "program headers beyond the end of the file");
	return 0;
}

static int check_load(const Elf64_Phdr *ph, unsigned i, size_t size, uint64_t lo, uint64_t hi,
		      char *err, size_t errlen)
{
	uint64_t end = ph->p_vaddr + ph->p_memsz;

	if (ph->p_vaddr != ph->p_paddr)
		return reject(err, errlen, "segment %u: virtual 0x%lx != physical 0x%lx", i,
			      ph->p_vaddr, ph->p_paddr);
	if (ph->p_filesz > ph->p_memsz)
		return reject(err, errlen, "segment %u: file size exceeds memory size", i);
	if (!in_file(ph->p_offset, ph->p_filesz, size))
		return reject(err, errlen, "segment %u: data beyond the end of the file", i);
	if (end < ph->p_vaddr)
		return reject(err, errlen, "segment %u: size wraps around", i);
	if (ph->p_vaddr < lo)
		return reject(err, errlen,
			      "segment %u [0x%lx, 0x%lx) overlaps hv's boot area (below 0x%lx)", i,
			      ph->p_vaddr, end, lo);
	if (end > hi)
		return reject(err, errlen,
			      "segment %u [0x%lx, 0x%lx) lies outside guest memory (images may use "
			      "[0x%lx, 0x%lx))", i, ph->p_vaddr, end, lo, hi);
	return 0;
}

int elf_parse(const uint8_t *file, size_t size, uint64_t lo, uint64_t hi, struct elf_image *img,
	      char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	int note = 0;
	uint32_t version = 0;
	int rc;

	memset(img, 0, sizeof(*img));
	rc = check_header(file, size, &eh, err, errlen);
	if (rc)
		return rc;
	img->lo = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, file + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE) {
			if (!in_file(ph.p_offset, ph.p_filesz, size))
				return reject(err, errlen, "note segment %u beyond the end of the file", i);
			if (note != 1)
				note = find_abi_note(file + ph.p_offset, ph.p_filesz, &version);
			if (note < 0)
				return reject(err, errlen, "malformed note in segment %u", i);
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		rc = check_load(&ph, i, size, lo, hi, err, errlen);
		if (rc)
			return rc;
		for (unsigned j = 0; j < img->nr_segments; j++) {
			const struct elf_segment *s = &img->seg[j];

			if (ph.p_vaddr < s->gpa + s->memsz && s->gpa < ph.p_vaddr + ph.p_memsz)
				return reject(err, errlen, "segment %u overlaps another segment", i);
		}
		if (img->nr_segments == ELF_MAX_SEGMENTS)
			return reject(err, errlen, "more than %d loadable segments", ELF_MAX_SEGMENTS);
		img->seg[img->nr_segments++] = (struct elf_segment){
			.gpa = ph.p_vaddr,
			.memsz = ph.p_memsz,
			.filesz = ph.p_filesz,
			.offset = ph.p_offset,
			.flags = ph.p_flags,
		};
		if (ph.p_vaddr < img->lo)
			img->lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > img->hi)
			img->hi = ph.p_vaddr + ph.p_memsz;
	}
	if (img->nr_segments == 0)
		return reject(err, errlen, "no loadable segments");

	bool entry_ok = false;
	for (unsigned j = 0; j < img->nr_segments; j++) {
		const struct elf_segment *s = &img->seg[j];

		if ((s->flags & PF_X) && eh.e_entry >= s->gpa && eh.e_entry < s->gpa + s->memsz)
			entry_ok = true;
	}
	if (!entry_ok)
		return reject(err, errlen, "entry point 0x%lx is not inside an executable segment",
			      eh.e_entry);
	img->entry = eh.e_entry;

	if (note == 0)
		return reject(err, errlen, "no hv ABI note: not an image built for hv");
	if (version != HV_ABI_VERSION)
		return reject(err, errlen, "image speaks hv ABI version %u, this hv speaks %u",
			      version, HV_ABI_VERSION);
	return 0;
}

void elf_load(const uint8_t *file, const struct elf_image *img, uint8_t *mem)
{
	for (unsigned i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->seg[i];

		memcpy(mem + s->gpa, file + s->offset, s->filesz);
	}
}
