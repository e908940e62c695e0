/* SPDX-License-Identifier: MIT */
/* Unit test of hv's ELF loader: a valid image, each rejection by its message, a mutation fuzz. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "elf.h"
#include "hv_abi.h"

/* The guest-physical window images are parsed for: hv's boot area below, 16 MiB of RAM. */
#define LO ((uint64_t)HV_IMAGE_BASE)
#define HI (16ull << 20)

/*
 * The test image: ELF header, room for MAX_PH program headers, notes, then
 * the text and data bytes. The union lets a test edit a header field by
 * name and hand the loader the bytes.
 */
#define MAX_PH 20
#define NOTE_OFF 0x600
#define TEXT_OFF 0x1000
#define TEXT_FILESZ 0x180
#define TEXT_MEMSZ 0x1000
#define DATA_OFF 0x2000
#define DATA_FILESZ 0x100
#define DATA_MEMSZ 0x3000 /* the rest is .bss */
#define IMAGE_SIZE (DATA_OFF + DATA_FILESZ)
#define ENTRY (LO + 0x40)

/* Program header slots of the valid image. */
enum { PH_NOTE, PH_TEXT, PH_DATA, PH_STACK, NR_PH_VALID };

union image {
	uint8_t bytes[IMAGE_SIZE];
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[MAX_PH];
	} h;
};

_Static_assert(sizeof(Elf64_Ehdr) + MAX_PH * sizeof(Elf64_Phdr) <= NOTE_OFF, "headers fit");

/* The ABI note's bytes: "hv\0" padded to 4, then struct hv_note_abi. */
struct abi_note {
	Elf64_Nhdr nh;
	char name[4];
	struct hv_note_abi desc;
};

/* An unrelated note before ours, as a toolchain's build-id would be: the loader must skip it. */
struct other_note {
	Elf64_Nhdr nh;
	char name[4];
	uint8_t desc[20];
};

#define ABI_NOTE_OFF (NOTE_OFF + sizeof(struct other_note))
#define NOTES_SIZE (sizeof(struct other_note) + sizeof(struct abi_note))

static uint8_t text_byte(unsigned i)
{
	return (uint8_t)(i * 7 + 1) | 1; /* never 0, so a copied byte is told from untouched RAM */
}

static uint8_t data_byte(unsigned i)
{
	return (uint8_t)(i * 13 + 5) | 0x80;
}

static Elf64_Phdr load_ph(uint64_t gpa, uint64_t off, uint64_t filesz, uint64_t memsz,
			  uint32_t flags)
{
	return (Elf64_Phdr){
		.p_type = PT_LOAD, .p_flags = flags, .p_offset = off, .p_vaddr = gpa,
		.p_paddr = gpa, .p_filesz = filesz, .p_memsz = memsz, .p_align = 0x1000,
	};
}

static struct abi_note *abi_note(union image *m)
{
	return (struct abi_note *)(m->bytes + ABI_NOTE_OFF);
}

/* A valid image: note, R+X text at LO, RW data with .bss after it, a PT_GNU_STACK to ignore. */
static void make_valid(union image *m)
{
	struct other_note other = { { 4, 20, NT_GNU_BUILD_ID }, "GNU", { 0 } };
	struct abi_note note = { { sizeof(HV_NOTE_NAME), sizeof(struct hv_note_abi), HV_NOTE_ABI },
				 HV_NOTE_NAME,
				 { HV_ABI_VERSION, 0 } };

	memset(m, 0, sizeof(*m));
	memcpy(m->h.eh.e_ident, ELFMAG, SELFMAG);
	m->h.eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->h.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->h.eh.e_ident[EI_VERSION] = EV_CURRENT;
	m->h.eh.e_type = ET_EXEC;
	m->h.eh.e_machine = EM_X86_64;
	m->h.eh.e_version = EV_CURRENT;
	m->h.eh.e_entry = ENTRY;
	m->h.eh.e_phoff = sizeof(Elf64_Ehdr);
	m->h.eh.e_ehsize = sizeof(Elf64_Ehdr);
	m->h.eh.e_phentsize = sizeof(Elf64_Phdr);
	m->h.eh.e_phnum = NR_PH_VALID;

	m->h.ph[PH_NOTE] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = NOTE_OFF,
					 .p_filesz = NOTES_SIZE, .p_align = 4 };
	m->h.ph[PH_TEXT] = load_ph(LO, TEXT_OFF, TEXT_FILESZ, TEXT_MEMSZ, PF_R | PF_X);
	m->h.ph[PH_DATA] = load_ph(LO + TEXT_MEMSZ, DATA_OFF, DATA_FILESZ, DATA_MEMSZ, PF_R | PF_W);
	m->h.ph[PH_STACK] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W };

	memcpy(m->bytes + NOTE_OFF, &other, sizeof(other));
	memcpy(m->bytes + ABI_NOTE_OFF, &note, sizeof(note));
	for (unsigned i = 0; i < TEXT_FILESZ; i++)
		m->bytes[TEXT_OFF + i] = text_byte(i);
	for (unsigned i = 0; i < DATA_FILESZ; i++)
		m->bytes[DATA_OFF + i] = data_byte(i);
}

/*
 * Parse bytes[0, size) from a heap copy of exactly that size, so ASan sees
 * any read past the end of the file.
 */
static int parse(const uint8_t *bytes, size_t size, struct elf_image *img, char *err, size_t errlen)
{
	uint8_t *copy = malloc(size ? size : 1);
	int rc;

	if (!copy)
		abort();
	if (size)
		memcpy(copy, bytes, size);
	rc = elf_parse(copy, size, LO, HI, img, err, errlen);
	free(copy);
	return rc;
}

static void test_valid(void)
{
	union image m;
	struct elf_image img;
	char err[256] = "";
	uint8_t *mem;
	size_t nonzero = 0;

	make_valid(&m);
	if (!CHECK_EQ(parse(m.bytes, IMAGE_SIZE, &img, err, sizeof(err)), 0)) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK_EQ(img.entry, ENTRY);
	CHECK_EQ(img.lo, LO);
	CHECK_EQ(img.hi, LO + TEXT_MEMSZ + DATA_MEMSZ);
	if (!CHECK_EQ(img.nr_segments, 2))
		return;
	CHECK_EQ(img.seg[0].gpa, LO);
	CHECK_EQ(img.seg[0].memsz, TEXT_MEMSZ);
	CHECK_EQ(img.seg[0].filesz, TEXT_FILESZ);
	CHECK_EQ(img.seg[0].offset, TEXT_OFF);
	CHECK_EQ(img.seg[0].flags, PF_R | PF_X);
	CHECK_EQ(img.seg[1].gpa, LO + TEXT_MEMSZ);
	CHECK_EQ(img.seg[1].memsz, DATA_MEMSZ);
	CHECK_EQ(img.seg[1].filesz, DATA_FILESZ);
	CHECK_EQ(img.seg[1].offset, DATA_OFF);
	CHECK_EQ(img.seg[1].flags, PF_R | PF_W);

	/* Load into zeroed RAM: the file bytes land at their gpa, nothing else is written. */
	mem = calloc(1, HI);
	if (!mem)
		abort();
	elf_load(m.bytes, &img, mem);
	CHECK(memcmp(mem + LO, m.bytes + TEXT_OFF, TEXT_FILESZ) == 0);
	CHECK(memcmp(mem + LO + TEXT_MEMSZ, m.bytes + DATA_OFF, DATA_FILESZ) == 0);
	CHECK_EQ(mem[LO + TEXT_FILESZ], 0);
	CHECK_EQ(mem[LO + TEXT_MEMSZ + DATA_FILESZ], 0);
	for (size_t i = 0; i < HI; i++)
		nonzero += mem[i] != 0;
	CHECK_EQ(nonzero, TEXT_FILESZ + DATA_FILESZ);
	free(mem);
}

/* Edge cases that must still be accepted. */
static void test_valid_edges(void)
{
	union image m;
	struct elf_image img;
	char err[256];

	/* A segment may end exactly at hi, and segments may touch. */
	make_valid(&m);
	m.h.ph[PH_DATA].p_memsz = HI - m.h.ph[PH_DATA].p_vaddr;
	CHECK_EQ(parse(m.bytes, IMAGE_SIZE, &img, err, sizeof(err)), 0);
	CHECK_EQ(img.hi, HI);

	/* A PT_LOAD with memsz 0 occupies nothing: neither its address nor its flags matter. */
	make_valid(&m);
	m.h.ph[PH_STACK] = load_ph(0, 0, 0, 0, PF_X);
	if (CHECK_EQ(parse(m.bytes, IMAGE_SIZE, &img, err, sizeof(err)), 0))
		CHECK_EQ(img.nr_segments, 2);

	/* Segments listed out of address order: lo and hi still span them all. */
	make_valid(&m);
	Elf64_Phdr t = m.h.ph[PH_TEXT];
	m.h.ph[PH_TEXT] = m.h.ph[PH_DATA];
	m.h.ph[PH_DATA] = t;
	if (CHECK_EQ(parse(m.bytes, IMAGE_SIZE, &img, err, sizeof(err)), 0)) {
		CHECK_EQ(img.lo, LO);
		CHECK_EQ(img.hi, LO + TEXT_MEMSZ + DATA_MEMSZ);
	}

	/* The entry may be the last byte of an executable segment. */
	make_valid(&m);
	m.h.eh.e_entry = LO + TEXT_MEMSZ - 1;
	CHECK_EQ(parse(m.bytes, IMAGE_SIZE, &img, err, sizeof(err)), 0);

	/* Exactly ELF_MAX_SEGMENTS loadable segments are fine. */
	make_valid(&m);
	for (unsigned i = 0; i < ELF_MAX_SEGMENTS - 2; i++)
		m.h.ph[NR_PH_VALID + i] = load_ph(0x400000 + i * 0x1000ull, 0, 0, 0x1000, PF_R);
	m.h.eh.e_phnum = NR_PH_VALID + ELF_MAX_SEGMENTS - 2;
	if (CHECK_EQ(parse(m.bytes, IMAGE_SIZE, &img, err, sizeof(err)), 0))
		CHECK_EQ(img.nr_segments, ELF_MAX_SEGMENTS);
}

/* Parse and expect -ENOEXEC with a message containing want. */
static void rejected(const union image *m, size_t size, const char *want, const char *what)
{
	struct elf_image img;
	char err[256];

	memset(err, 'x', sizeof(err));
	bool ok = CHECK_EQ(parse(m->bytes, size, &img, err, sizeof(err)), -ENOEXEC);
	/* Only a terminated message can be searched: a wrongly accepted image leaves none. */
	if (CHECK(memchr(err, '\0', sizeof(err)) != NULL))
		ok &= CHECK_STR_CONTAINS(err, want);
	else
		ok = false;
	if (!ok)
		fprintf(stderr, "    case: %s\n", what);
}

static void test_header_rejections(void)
{
	union image m;

	make_valid(&m);
	rejected(&m, 0, "not an ELF file", "empty file");
	rejected(&m, 3, "not an ELF file", "shorter than the magic");
	rejected(&m, EI_NIDENT - 1, "not an ELF file", "shorter than e_ident");
	m.h.eh.e_ident[EI_MAG1] = 'F';
	rejected(&m, IMAGE_SIZE, "not an ELF file", "bad magic");

	make_valid(&m);
	m.h.eh.e_ident[EI_CLASS] = ELFCLASS32;
	rejected(&m, IMAGE_SIZE, "is not ELF64", "ELFCLASS32");

	make_valid(&m);
	m.h.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	rejected(&m, IMAGE_SIZE, "not little-endian", "big-endian");

	make_valid(&m);
	rejected(&m, EI_NIDENT, "truncated ELF header", "only e_ident");
	rejected(&m, sizeof(Elf64_Ehdr) - 1, "truncated ELF header", "one byte short");

	make_valid(&m);
	m.h.eh.e_machine = EM_386;
	rejected(&m, IMAGE_SIZE, "is not x86-64", "EM_386");
	m.h.eh.e_machine = EM_AARCH64;
	rejected(&m, IMAGE_SIZE, "is not x86-64", "EM_AARCH64");

	make_valid(&m);
	m.h.eh.e_type = ET_DYN;
	rejected(&m, IMAGE_SIZE, "not a static executable", "ET_DYN");
	m.h.eh.e_type = ET_REL;
	rejected(&m, IMAGE_SIZE, "not a static executable", "ET_REL");

	make_valid(&m);
	m.h.eh.e_phentsize = sizeof(Elf32_Phdr);
	rejected(&m, IMAGE_SIZE, "program header size", "32-bit phentsize");
	m.h.eh.e_phentsize = sizeof(Elf64_Phdr) + 8;
	rejected(&m, IMAGE_SIZE, "program header size", "oversized phentsize");

	make_valid(&m);
	m.h.eh.e_phnum = 0;
	rejected(&m, IMAGE_SIZE, "no program headers", "phnum 0");
	m.h.eh.e_phnum = PN_XNUM;
	rejected(&m, IMAGE_SIZE, "no program headers", "phnum PN_XNUM");

	make_valid(&m);
	m.h.eh.e_phoff = IMAGE_SIZE - sizeof(Elf64_Phdr);
	rejected(&m, IMAGE_SIZE, "program headers beyond the end", "phdrs cross the end");
	m.h.eh.e_phoff = UINT64_MAX - 8;
	rejected(&m, IMAGE_SIZE, "program headers beyond the end", "phoff wraps");
	make_valid(&m);
	rejected(&m, sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr), "program headers beyond the end",
		 "file ends inside the phdrs");
}

static void test_segment_rejections(void)
{
	union image m;
	Elf64_Phdr *text = &m.h.ph[PH_TEXT], *data = &m.h.ph[PH_DATA];

	make_valid(&m);
	data->p_filesz = data->p_memsz + 1;
	rejected(&m, IMAGE_SIZE, "file size exceeds memory size", "filesz > memsz");

	make_valid(&m);
	data->p_offset = IMAGE_SIZE - DATA_FILESZ + 1;
	rejected(&m, IMAGE_SIZE, "data beyond the end of the file", "data one byte past the end");
	data->p_offset = UINT64_MAX - 0x10;
	rejected(&m, IMAGE_SIZE, "data beyond the end of the file", "offset wraps");
	make_valid(&m);
	rejected(&m, IMAGE_SIZE - 1, "data beyond the end of the file", "file truncated");

	make_valid(&m);
	data->p_paddr += 0x1000;
	rejected(&m, IMAGE_SIZE, "!= physical", "vaddr != paddr");

	make_valid(&m);
	text->p_vaddr = text->p_paddr = LO - 0x1000;
	rejected(&m, IMAGE_SIZE, "hv's boot area", "segment below lo");
	text->p_vaddr = text->p_paddr = 0;
	rejected(&m, IMAGE_SIZE, "hv's boot area", "segment at page 0");
	text->p_vaddr = text->p_paddr = LO - 1;
	rejected(&m, IMAGE_SIZE, "hv's boot area", "one byte below lo");

	make_valid(&m);
	data->p_vaddr = data->p_paddr = HI;
	rejected(&m, IMAGE_SIZE, "outside guest memory", "segment at hi");
	data->p_vaddr = data->p_paddr = HI - 0x1000;
	rejected(&m, IMAGE_SIZE, "outside guest memory", "segment crossing hi");
	data->p_memsz = 0x1001;
	rejected(&m, IMAGE_SIZE, "outside guest memory", "one byte past hi");

	make_valid(&m);
	data->p_vaddr = data->p_paddr = UINT64_MAX - 0xfff;
	rejected(&m, IMAGE_SIZE, "wraps around", "end wraps");
	data->p_vaddr = data->p_paddr = 0x1000;
	data->p_memsz = UINT64_MAX - 0xfff; /* end is exactly 2^64, i.e. 0 */
	rejected(&m, IMAGE_SIZE, "wraps around", "end wraps to 0");

	make_valid(&m);
	data->p_vaddr = data->p_paddr = LO + TEXT_MEMSZ - 1;
	rejected(&m, IMAGE_SIZE, "overlaps another segment", "one byte of overlap");
	data->p_vaddr = data->p_paddr = LO; /* the same start */
	rejected(&m, IMAGE_SIZE, "overlaps another segment", "same start");
	data->p_vaddr = data->p_paddr = LO + 0x100;
	data->p_memsz = 0x10;
	data->p_filesz = 0x10;
	rejected(&m, IMAGE_SIZE, "overlaps another segment", "inside another");

	make_valid(&m);
	m.h.eh.e_entry = 0;
	rejected(&m, IMAGE_SIZE, "not inside an executable segment", "entry 0");
	m.h.eh.e_entry = HI + 0x40;
	rejected(&m, IMAGE_SIZE, "not inside an executable segment", "entry past hi");
	m.h.eh.e_entry = LO + TEXT_MEMSZ; /* first byte past text: the start of data */
	rejected(&m, IMAGE_SIZE, "not inside an executable segment", "entry at text end");
	m.h.eh.e_entry = LO + TEXT_MEMSZ + 0x10;
	rejected(&m, IMAGE_SIZE, "not inside an executable segment", "entry in data (RW)");

	make_valid(&m);
	m.h.eh.e_phnum = PH_TEXT; /* only the note */
	rejected(&m, IMAGE_SIZE, "no loadable segments", "no PT_LOAD");

	make_valid(&m);
	for (unsigned i = 0; i < ELF_MAX_SEGMENTS - 1; i++)
		m.h.ph[NR_PH_VALID + i] = load_ph(0x400000 + i * 0x1000ull, 0, 0, 0x1000, PF_R);
	m.h.eh.e_phnum = NR_PH_VALID + ELF_MAX_SEGMENTS - 1;
	rejected(&m, IMAGE_SIZE, "more than 16 loadable segments", "ELF_MAX_SEGMENTS + 1");
}

static void test_note_rejections(void)
{
	union image m;

	make_valid(&m);
	m.h.ph[PH_NOTE].p_type = PT_NULL;
	rejected(&m, IMAGE_SIZE, "no hv ABI note", "no PT_NOTE");

	make_valid(&m);
	m.h.ph[PH_NOTE].p_filesz = sizeof(struct other_note);
	rejected(&m, IMAGE_SIZE, "no hv ABI note", "only a foreign note");

	make_valid(&m);
	abi_note(&m)->nh.n_type = HV_NOTE_ABI + 1;
	rejected(&m, IMAGE_SIZE, "no hv ABI note", "hv note of another type");

	make_valid(&m);
	abi_note(&m)->name[1] = 'x';
	rejected(&m, IMAGE_SIZE, "no hv ABI note", "note named hx");

	make_valid(&m);
	abi_note(&m)->desc.abi_version = HV_ABI_VERSION + 1;
	char newer[64];
	snprintf(newer, sizeof(newer), "image speaks hv ABI version %u", HV_ABI_VERSION + 1);
	rejected(&m, IMAGE_SIZE, newer, "newer ABI version");
	abi_note(&m)->desc.abi_version = 0;
	rejected(&m, IMAGE_SIZE, "hv ABI version 0", "ABI version 0");

	make_valid(&m);
	abi_note(&m)->nh.n_namesz = UINT32_MAX;
	rejected(&m, IMAGE_SIZE, "malformed note", "namesz 2^32-1");
	abi_note(&m)->nh.n_namesz = UINT32_MAX - 2; /* rounds up to 2^32 */
	rejected(&m, IMAGE_SIZE, "malformed note", "namesz 2^32-3");
	abi_note(&m)->nh.n_namesz = 0x100;
	rejected(&m, IMAGE_SIZE, "malformed note", "namesz past the segment");

	make_valid(&m);
	abi_note(&m)->nh.n_descsz = UINT32_MAX;
	rejected(&m, IMAGE_SIZE, "malformed note", "descsz 2^32-1");
	abi_note(&m)->nh.n_descsz = sizeof(struct hv_note_abi) - 4;
	rejected(&m, IMAGE_SIZE, "malformed note", "descsz too small");
	abi_note(&m)->nh.n_descsz = sizeof(struct hv_note_abi) + 4;
	rejected(&m, IMAGE_SIZE, "malformed note", "descsz too large");

	make_valid(&m);
	m.h.ph[PH_NOTE].p_filesz = NOTES_SIZE - 1; /* the hv note's descriptor is cut short */
	rejected(&m, IMAGE_SIZE, "malformed note", "note cut by the segment");

	make_valid(&m);
	m.h.ph[PH_NOTE].p_offset = IMAGE_SIZE - 8;
	rejected(&m, IMAGE_SIZE, "note segment 0 beyond the end", "note past the file");
	m.h.ph[PH_NOTE].p_offset = UINT64_MAX;
	rejected(&m, IMAGE_SIZE, "note segment 0 beyond the end", "note offset wraps");
}

/* An error buffer of any size gets a terminated, possibly shortened, message. */
static void test_short_err(void)
{
	union image m;
	struct elf_image img;
	char err[8];

	make_valid(&m);
	m.h.eh.e_machine = EM_386;
	memset(err, 'x', sizeof(err));
	CHECK_EQ(parse(m.bytes, IMAGE_SIZE, &img, err, sizeof(err)), -ENOEXEC);
	CHECK_EQ(strnlen(err, sizeof(err)), sizeof(err) - 1);
}

/* xorshift64*: a fixed seed makes every run of the fuzz loop the same. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* Values that sit on the checks' boundaries. */
static uint64_t interesting(void)
{
	static const uint64_t v[] = {
		0, 1, 3, 4, 8, 0x38, 0x40, 0xfff, 0x1000, LO - 1, LO, LO + 0x40, HI - 1, HI,
		HI + 1, IMAGE_SIZE - 1, IMAGE_SIZE, IMAGE_SIZE + 1, 0x7fffffff, 0xffffffff,
		0x100000000ull, INT64_MAX, UINT64_MAX - 0xfff, UINT64_MAX - 1, UINT64_MAX,
	};

	return rnd_below(4) ? v[rnd_below(sizeof(v) / sizeof(v[0]))] : rnd();
}

/* One random change to the image: a bit, a byte, or a header field set to a boundary value. */
static void mutate(union image *m)
{
	/* Most mutations land in the headers and notes, where the loader's checks are. */
	size_t headers = sizeof(Elf64_Ehdr) + NR_PH_VALID * sizeof(Elf64_Phdr);
	size_t at;

	switch (rnd_below(8)) {
	case 0:
		at = rnd_below(IMAGE_SIZE);
		break;
	case 1:
	case 2:
		at = NOTE_OFF + rnd_below(NOTES_SIZE);
		break;
	default:
		at = rnd_below(headers);
		break;
	}

	switch (rnd_below(5)) {
	case 0:
		m->bytes[at] ^= (uint8_t)(1u << rnd_below(8));
		break;
	case 1:
		m->bytes[at] = (uint8_t)rnd();
		break;
	case 2: { /* an aligned 8-byte field: offsets, addresses, sizes */
		uint64_t v = interesting();

		memcpy(m->bytes + (at & ~(size_t)7), &v, sizeof(v));
		break;
	}
	case 3: { /* a 4-byte field: flags, note sizes and types */
		uint32_t v = (uint32_t)interesting();

		memcpy(m->bytes + (at & ~(size_t)3), &v, sizeof(v));
		break;
	}
	default: /* the program header count, within the slots the image has */
		m->h.eh.e_phnum = (Elf64_Half)rnd_below(MAX_PH + 1);
		break;
	}
}

/* What elf_parse promises about an image it accepted. */
static bool contract_holds(const struct elf_image *img, size_t size)
{
	bool ok = true, entry_ok = false;
	uint64_t lo = UINT64_MAX, hi = 0;

	ok &= CHECK(img->nr_segments >= 1 && img->nr_segments <= ELF_MAX_SEGMENTS);
	for (unsigned i = 0; i < img->nr_segments && i < ELF_MAX_SEGMENTS; i++) {
		const struct elf_segment *s = &img->seg[i];
		uint64_t end = s->gpa + s->memsz;

		ok &= CHECK(s->memsz > 0 && end > s->gpa);
		ok &= CHECK(s->gpa >= LO && end <= HI);
		ok &= CHECK(s->filesz <= s->memsz);
		ok &= CHECK(s->offset <= size && s->filesz <= size - s->offset);
		for (unsigned j = 0; j < i; j++)
			ok &= CHECK(end <= img->seg[j].gpa ||
				    img->seg[j].gpa + img->seg[j].memsz <= s->gpa);
		if ((s->flags & PF_X) && img->entry >= s->gpa && img->entry < end)
			entry_ok = true;
		lo = s->gpa < lo ? s->gpa : lo;
		hi = end > hi ? end : hi;
	}
	ok &= CHECK(entry_ok);
	ok &= CHECK_EQ(img->lo, lo);
	ok &= CHECK_EQ(img->hi, hi);
	return ok;
}

static void test_fuzz(void)
{
	const unsigned iterations = 20000;
	union image valid, m;
	struct elf_image img;
	char err[256];
	unsigned accepted = 0, rejected_n = 0;
	uint8_t *mem = calloc(1, HI);

	if (!mem)
		abort();
	make_valid(&valid);
	for (unsigned it = 0; it < iterations; it++) {
		size_t size = IMAGE_SIZE;
		unsigned n = 1 + (unsigned)rnd_below(4);

		m = valid;
		for (unsigned k = 0; k < n; k++)
			mutate(&m);
		if (rnd_below(4) == 0)
			size = rnd_below(IMAGE_SIZE + 1);

		err[0] = '\0';
		int rc = parse(m.bytes, size, &img, err, sizeof(err));
		if (rc == 0) {
			accepted++;
			if (!contract_holds(&img, size)) {
				fprintf(stderr, "    fuzz iteration %u accepted a bad image\n", it);
				continue;
			}
			/* In bounds of both the file and a hi-sized RAM: ASan checks the copy. */
			elf_load(m.bytes, &img, mem);
		} else {
			rejected_n++;
			if (!CHECK_EQ(rc, -ENOEXEC) || !CHECK(err[0] != '\0'))
				fprintf(stderr, "    fuzz iteration %u\n", it);
		}
	}
	printf("# fuzz: %u of %u mutated images accepted\n", accepted, iterations);
	/* The loop proves something only if it exercised both outcomes. */
	CHECK(accepted > iterations / 50);
	CHECK(rejected_n > iterations / 2);
	free(mem);
}

int main(void)
{
	test_valid();
	test_valid_edges();
	test_header_rejections();
	test_segment_rejections();
	test_note_rejections();
	test_short_err();
	test_fuzz();
	return check_finish("test_elf");
}
