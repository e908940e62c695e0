/* SPDX-License-Identifier: MIT */
/* Function symbols from an ELF image's .symtab, every offset and index checked. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

static int by_addr(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int read_shdr(const uint8_t *file, size_t size, const Elf64_Ehdr *eh, unsigned i,
		     Elf64_Shdr *sh)
{
	uint64_t off = eh->e_shoff + (uint64_t)i * sizeof(*sh);

	if (i >= eh->e_shnum || off > size || size - off < sizeof(*sh))
		return -ENOEXEC;
	memcpy(sh, file + off, sizeof(*sh));
	return 0;
}

int symbols_load(const uint8_t *file, size_t size, struct symbols *syms)
{
	Elf64_Ehdr eh;
	Elf64_Shdr symtab, strtab;
	unsigned i;

	syms->v = NULL;
	syms->n = 0;
	if (size < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, file, sizeof(eh));
	if (eh.e_shentsize != sizeof(Elf64_Shdr))
		return eh.e_shnum ? -ENOEXEC : 0;
	for (i = 0; i < eh.e_shnum; i++) {
		if (read_shdr(file, size, &eh, i, &symtab))
			return -ENOEXEC;
		if (symtab.sh_type == SHT_SYMTAB)
			break;
	}
	if (i == eh.e_shnum)
		return 0;
	if (read_shdr(file, size, &eh, symtab.sh_link, &strtab) || strtab.sh_type != SHT_STRTAB ||
	    symtab.sh_entsize != sizeof(Elf64_Sym) || symtab.sh_offset > size ||
	    symtab.sh_size > size - symtab.sh_offset || strtab.sh_offset > size ||
	    strtab.sh_size > size - strtab.sh_offset || strtab.sh_size == 0 ||
	    file[strtab.sh_offset + strtab.sh_size - 1] != '\0')
		return -ENOEXEC;

	size_t count = symtab.sh_size / sizeof(Elf64_Sym);
	syms->v = calloc(count ? count : 1, sizeof(*syms->v));
	if (!syms->v)
		return -ENOMEM;
	for (size_t k = 0; k < count; k++) {
		Elf64_Sym s;

		memcpy(&s, file + symtab.sh_offset + k * sizeof(s), sizeof(s));
		unsigned type = ELF64_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_NOTYPE) || s.st_shndx == SHN_UNDEF ||
		    s.st_shndx >= SHN_LORESERVE || s.st_value == 0 || s.st_name == 0 ||
		    s.st_name >= strtab.sh_size)
			continue;
		syms->v[syms->n++] = (struct symbol){
			.addr = s.st_value,
			.size = s.st_size,
			.name = (const char *)file + strtab.sh_offset + s.st_name,
		};
	}
	qsort(syms->v, syms->n, sizeof(*syms->v), by_addr);
	return 0;
}

const struct symbol *symbols_find(const struct symbols *syms, uint64_t addr)
{
	const struct symbol *best = NULL;
	size_t lo = 0, hi = syms->n;

	while (lo < hi) { /* lo becomes the number of symbols at or below addr */
		size_t mid = lo + (hi - lo) / 2;

		if (syms->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Among the symbols at the greatest address <= addr, one whose size covers addr. */
	for (size_t i = lo; i-- > 0 && syms->v[i].addr == syms->v[lo - 1].addr;) {
		const struct symbol *s = &syms->v[i];

		if (addr < s->addr + s->size)
			return s;
		if (s->size == 0)
			best = s;
	}
	return best;
}

void symbols_free(struct symbols *syms)
{
	free(syms->v);
	syms->v = NULL;
	syms->n = 0;
}
