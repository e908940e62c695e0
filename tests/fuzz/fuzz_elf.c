/* SPDX-License-Identifier: MIT */
/* Fuzz target: hv's ELF loader (elf.c) on any file; an image it accepts loads inside its window. */
#include <elf.h>
#include <errno.h>

#include "elf.h"
#include "fuzz.h"
#include "hv_abi.h"

/* The window images are parsed for, as in test_elf.c: hv's boot area below, 16 MiB of RAM. */
#define LO ((uint64_t)HV_IMAGE_BASE)
#define HI (16ull << 20)

/* Guest memory of exactly HI bytes: a segment copied past it is a heap overflow ASan reports. */
static uint8_t *guest_mem(void)
{
	static uint8_t *mem;

	if (!mem)
		mem = calloc(1, HI);
	if (!mem)
		abort();
	return mem;
}

static void check_accepted(const struct elf_image *img, size_t size)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	int entry_ok = 0;

	FUZZ_CHECK(img->nr_segments >= 1 && img->nr_segments <= ELF_MAX_SEGMENTS);
	for (unsigned i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->seg[i];

		FUZZ_CHECK(s->gpa >= LO && s->memsz <= HI - s->gpa);
		FUZZ_CHECK(s->filesz <= s->memsz);
		FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset);
		for (unsigned j = 0; j < i; j++)
			FUZZ_CHECK(s->gpa + s->memsz <= img->seg[j].gpa ||
				   img->seg[j].gpa + img->seg[j].memsz <= s->gpa);
		if (s->gpa < lo)
			lo = s->gpa;
		if (s->gpa + s->memsz > hi)
			hi = s->gpa + s->memsz;
		if ((s->flags & PF_X) && img->entry >= s->gpa && img->entry - s->gpa < s->memsz)
			entry_ok = 1;
	}
	FUZZ_CHECK(img->lo == lo && img->hi == hi);
	FUZZ_CHECK(entry_ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;
	char err[160];
	int rc;

	err[0] = '\0';
	rc = elf_parse(data, size, LO, HI, &img, err, sizeof(err));
	if (rc) {
		/* Refused: with the loader's one code and a one-line reason. */
		FUZZ_CHECK(rc == -ENOEXEC);
		FUZZ_CHECK(err[0] != '\0' && !strchr(err, '\n'));
		return 0;
	}
	check_accepted(&img, size);
	elf_load(data, &img, guest_mem());
	return 0;
}
