/* SPDX-License-Identifier: MIT */
/*
 * elfmut: write a malformed variant of an ELF image, for the loader's integration tests.
 * Usage: elfmut IN OUT MUTATION   (elfmut --list prints the mutations)
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *data;
static size_t size;

static Elf64_Ehdr *ehdr(void)
{
	return (Elf64_Ehdr *)data;
}

static Elf64_Phdr *phdr(unsigned i)
{
	return (Elf64_Phdr *)(data + ehdr()->e_phoff) + i;
}

/* The nth program header of a type, or NULL. */
static Elf64_Phdr *find(uint32_t type, unsigned nth)
{
	for (unsigned i = 0; i < ehdr()->e_phnum; i++)
		if (phdr(i)->p_type == type && nth-- == 0)
			return phdr(i);
	return NULL;
}

static Elf64_Phdr *need(uint32_t type, unsigned nth)
{
	Elf64_Phdr *p = find(type, nth);

	if (!p) {
		fprintf(stderr, "elfmut: the image has no program header %u of type %u\n", nth, type);
		exit(2);
	}
	return p;
}

/* The last loadable segment: growing it overlaps none of the others. */
static Elf64_Phdr *last_load(void)
{
	unsigned n = 0;

	while (find(PT_LOAD, n + 1))
		n++;
	return need(PT_LOAD, n);
}

/* The hv ABI note's descriptor (its version word) in the file. */
static uint32_t *abi_version(void)
{
	Elf64_Phdr *note = need(PT_NOTE, 0);
	uint8_t *p = data + note->p_offset, *end = p + note->p_filesz;

	while (p + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr *nh = (Elf64_Nhdr *)p;
		uint8_t *name = p + sizeof(*nh), *desc = name + ((nh->n_namesz + 3) & ~3u);

		if (nh->n_namesz == 3 && memcmp(name, "hv", 3) == 0)
			return (uint32_t *)desc;
		p = desc + ((nh->n_descsz + 3) & ~3u);
	}
	fprintf(stderr, "elfmut: no hv note\n");
	exit(2);
}

static void move_segment(Elf64_Phdr *p, uint64_t to)
{
	p->p_vaddr = p->p_paddr = to;
}

/* Flip a few bytes of the headers (ELF header, program headers, notes) from a seed. */
static void scramble(unsigned seed)
{
	uint64_t headers = ehdr()->e_phoff + (uint64_t)ehdr()->e_phnum * sizeof(Elf64_Phdr);
	Elf64_Phdr *note = find(PT_NOTE, 0);
	/* Read before any flip: a flip may land in the note's own program header. */
	uint64_t note_off = note ? note->p_offset : 0, note_len = note ? note->p_filesz : 0;

	srand(seed);
	for (int i = 0, n = 1 + rand() % 4; i < n; i++) {
		uint64_t at = (uint64_t)rand() % headers;

		if (note_len && rand() % 4 == 0)
			at = note_off + (uint64_t)rand() % note_len;
		data[at] ^= (uint8_t)(1u << (rand() % 8));
	}
}

static const char *const mutations[] = {
	"class32", "bigendian", "machine", "type", "truncate", "phoff", "boot-area", "outside",
	"huge", "entry", "entry-data", "no-note", "note-version", "overlap", "scramble:SEED",
};

static int mutate(const char *m)
{
	Elf64_Ehdr *eh = ehdr();

	if (!strcmp(m, "class32"))
		eh->e_ident[EI_CLASS] = ELFCLASS32;
	else if (!strcmp(m, "bigendian"))
		eh->e_ident[EI_DATA] = ELFDATA2MSB;
	else if (!strcmp(m, "machine"))
		eh->e_machine = EM_AARCH64;
	else if (!strcmp(m, "type"))
		eh->e_type = ET_DYN;
	else if (!strcmp(m, "truncate"))
		size = 40;
	else if (!strcmp(m, "phoff"))
		eh->e_phoff = size + 100;
	else if (!strcmp(m, "boot-area"))
		move_segment(need(PT_LOAD, 0), 0x1000);
	else if (!strcmp(m, "outside"))
		move_segment(need(PT_LOAD, 2), 0xf0000000);
	else if (!strcmp(m, "huge"))
		last_load()->p_memsz = 64u << 20;
	else if (!strcmp(m, "entry"))
		eh->e_entry = 0x50000000;
	else if (!strcmp(m, "entry-data"))
		eh->e_entry = need(PT_LOAD, 2)->p_vaddr;
	else if (!strcmp(m, "no-note"))
		need(PT_NOTE, 0)->p_type = PT_NULL;
	else if (!strcmp(m, "note-version"))
		*abi_version() = 99;
	else if (!strcmp(m, "overlap"))
		move_segment(need(PT_LOAD, 1), need(PT_LOAD, 0)->p_vaddr);
	else if (!strncmp(m, "scramble:", 9))
		scramble((unsigned)strtoul(m + 9, NULL, 10));
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	FILE *f;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++)
			puts(mutations[i]);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: elfmut IN OUT MUTATION (elfmut --list)\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (size = (size_t)ftell(f)) < sizeof(Elf64_Ehdr)) {
		fprintf(stderr, "elfmut: cannot read %s\n", argv[1]);
		return 2;
	}
	data = malloc(size);
	rewind(f);
	if (!data || fread(data, 1, size, f) != size) {
		fprintf(stderr, "elfmut: cannot read %s\n", argv[1]);
		return 2;
	}
	fclose(f);
	if (mutate(argv[3])) {
		fprintf(stderr, "elfmut: unknown mutation %s (elfmut --list)\n", argv[3]);
		return 2;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "elfmut: cannot write %s\n", argv[2]);
		return 2;
	}
	return 0;
}
