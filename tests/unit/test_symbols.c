/* SPDX-License-Identifier: MIT */
/* Unit test of hv's symbol reader on this test's own executable and on corruptions of it. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "symbols.h"

/* The whole file, in a heap buffer of exactly its size so ASan sees any read past the end. */
static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)len;
	}
	fclose(f);
	return buf;
}

static uint8_t *copy_of(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (!c)
		abort();
	memcpy(c, p, n);
	return c;
}

/* Where this executable keeps its tables, read here without the code under test. */
struct layout {
	Elf64_Ehdr eh;
	unsigned symtab_index, strtab_index;
	uint64_t symtab_off, symtab_size;
	uint64_t strtab_off, strtab_size;
};

static bool find_layout(const uint8_t *file, size_t size, struct layout *l)
{
	memcpy(&l->eh, file, sizeof(l->eh));
	for (unsigned i = 0; i < l->eh.e_shnum; i++) {
		Elf64_Shdr sh, str;

		memcpy(&sh, file + l->eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		memcpy(&str, file + l->eh.e_shoff + sh.sh_link * sizeof(str), sizeof(str));
		l->symtab_index = i;
		l->strtab_index = sh.sh_link;
		l->symtab_off = sh.sh_offset;
		l->symtab_size = sh.sh_size;
		l->strtab_off = str.sh_offset;
		l->strtab_size = str.sh_size;
		return l->eh.e_shoff + l->eh.e_shnum * sizeof(sh) <= size;
	}
	return false;
}

int main(void);

/* Not inlined, so it has a symbol of its own to compare main's with. */
__attribute__((noinline)) static int marker(int x)
{
	return x * 3 + 1;
}

static const struct symbol *by_name(const struct symbols *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/*
 * What symbols_load promises of a list it returned: sorted by address, each
 * name inside the string table [names, names + len) and terminated there.
 */
static bool list_sound(const struct symbols *s, const uint8_t *names, size_t len)
{
	bool ok = true;

	for (size_t i = 0; i < s->n && ok; i++) {
		const uint8_t *name = (const uint8_t *)s->v[i].name;

		ok &= CHECK(name >= names && name < names + len);
		ok &= CHECK(ok && memchr(name, '\0', (size_t)(names + len - name)) != NULL);
		if (i > 0)
			ok &= CHECK(s->v[i - 1].addr <= s->v[i].addr);
	}
	return ok;
}

static void test_self(const uint8_t *file, size_t size, const struct layout *l)
{
	struct symbols s;
	const struct symbol *m, *k, *f;
	uint64_t lowest = UINT64_MAX;
	size_t sized = 0;

	if (!CHECK_EQ(symbols_load(file, size, &s), 0))
		return;
	CHECK(s.n > 0);
	list_sound(&s, file + l->strtab_off, l->strtab_size);

	m = by_name(&s, "main");
	k = by_name(&s, "marker");
	if (CHECK(m != NULL) && CHECK(k != NULL)) {
		/* The addresses are the functions': a PIE moves both by the same load bias. */
		CHECK_EQ((uintptr_t)&main - m->addr, (uintptr_t)&marker - k->addr);
		f = symbols_find(&s, m->addr + 5);
		if (CHECK(f != NULL))
			CHECK_STR_EQ(f->name, "main");
		f = symbols_find(&s, m->addr);
		if (CHECK(f != NULL))
			CHECK_EQ(f->addr, m->addr);
	}
	CHECK_EQ(marker(1), 4);

	/* Every sized symbol contains its own middle. */
	for (size_t i = 0; i < s.n; i++) {
		const struct symbol *v = &s.v[i];

		if (v->addr < lowest)
			lowest = v->addr;
		if (v->size == 0)
			continue;
		sized++;
		f = symbols_find(&s, v->addr + v->size / 2);
		if (!CHECK(f != NULL && f->addr == v->addr))
			fprintf(stderr, "    %s at 0x%llx size 0x%llx: found %s\n", v->name,
				(unsigned long long)v->addr, (unsigned long long)v->size,
				f ? f->name : "nothing");
	}
	CHECK(sized > 10);

	/* Below every symbol there is none. */
	CHECK(lowest > 0);
	CHECK(symbols_find(&s, lowest - 1) == NULL);
	CHECK(symbols_find(&s, 0) == NULL);
	symbols_free(&s);
	CHECK(s.v == NULL && s.n == 0);
}

/* symbols_find's rules on a hand-made list: exact sizes first, then unsized labels. */
static void test_find_rules(void)
{
	struct symbol v[] = {
		{ 0x1000, 0x10, "a" },   { 0x1000, 0, "a_label" }, { 0x2000, 0, "label" },
		{ 0x3000, 0x100, "b" }, { 0x3000, 0x20, "b_head" },
	};
	struct symbols s = { v, sizeof(v) / sizeof(v[0]) };
	struct symbols empty = { NULL, 0 };
	const struct symbol *f;

	CHECK(symbols_find(&s, 0xfff) == NULL);
	f = symbols_find(&s, 0x1008);
	CHECK(f != NULL && strcmp(f->name, "a") == 0);
	f = symbols_find(&s, 0x1010); /* past a's end: only the label at that address may claim it */
	CHECK(f != NULL && strcmp(f->name, "a_label") == 0);
	f = symbols_find(&s, 0x2fff);
	CHECK(f != NULL && strcmp(f->name, "label") == 0);
	f = symbols_find(&s, 0x3080);
	CHECK(f != NULL && strcmp(f->name, "b") == 0);
	f = symbols_find(&s, 0x3010);
	CHECK(f != NULL && f->addr == 0x3000);
	CHECK(symbols_find(&s, 0x3100) == NULL);
	CHECK(symbols_find(&s, UINT64_MAX) == NULL);
	CHECK(symbols_find(&empty, 0x1000) == NULL);
}

/* Load a damaged file: only 0 or -ENOEXEC, and a returned list that holds its promises. */
static void load_damaged(const uint8_t *file, size_t size, const char *what, unsigned it)
{
	struct symbols s;
	int rc = symbols_load(file, size, &s);

	if (!CHECK(rc == 0 || rc == -ENOEXEC))
		fprintf(stderr, "    %s %u: rc %d\n", what, it, rc);
	if (rc == 0 && !list_sound(&s, file, size)) /* the tables may have moved: only the file bounds */
		fprintf(stderr, "    %s %u\n", what, it);
	if (rc != 0)
		CHECK(s.n == 0);
	symbols_free(&s);
}

static void test_truncated(const uint8_t *file, size_t size, const struct layout *l)
{
	const size_t cuts[] = { 0, 1, 16, sizeof(Elf64_Ehdr) - 1, sizeof(Elf64_Ehdr),
				size / 2, l->symtab_off + l->symtab_size / 2, l->strtab_off + 1,
				l->eh.e_shoff, l->eh.e_shoff + sizeof(Elf64_Shdr) + 3, size - 1 };

	for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		uint8_t *c = copy_of(file, cuts[i]);
		struct symbols s;

		/*
		 * Without the first section header nothing can be read. A later
		 * cut may spare the headers and tables the reader uses, so it
		 * may load: the list must then hold its promises.
		 */
		if (cuts[i] < l->eh.e_shoff + sizeof(Elf64_Shdr)) {
			if (!CHECK_EQ(symbols_load(c, cuts[i], &s), -ENOEXEC))
				fprintf(stderr, "    cut at %zu\n", cuts[i]);
			symbols_free(&s);
		}
		load_damaged(c, cuts[i], "cut at", (unsigned)cuts[i]);
		free(c);
	}
}

static void test_no_sections(const uint8_t *file, size_t size)
{
	uint8_t *c = copy_of(file, size);
	Elf64_Ehdr eh;
	struct symbols s;

	memcpy(&eh, c, sizeof(eh));
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = 0;
	memcpy(c, &eh, sizeof(eh));
	CHECK_EQ(symbols_load(c, size, &s), 0);
	CHECK_EQ(s.n, 0);
	symbols_free(&s);

	eh.e_shentsize = 0; /* what a stripped-of-sections file may say */
	memcpy(c, &eh, sizeof(eh));
	CHECK_EQ(symbols_load(c, size, &s), 0);
	CHECK_EQ(s.n, 0);
	symbols_free(&s);

	/* Sections present but of the wrong entry size: malformed. */
	memcpy(&eh, file, sizeof(eh));
	eh.e_shentsize = sizeof(Elf64_Shdr) + 8;
	memcpy(c, &eh, sizeof(eh));
	CHECK_EQ(symbols_load(c, size, &s), -ENOEXEC);
	free(c);
}

/* A section header of c, by index, to edit in place. */
static Elf64_Shdr get_sh(const uint8_t *c, const struct layout *l, unsigned i)
{
	Elf64_Shdr sh;

	memcpy(&sh, c + l->eh.e_shoff + i * sizeof(sh), sizeof(sh));
	return sh;
}

static void put_sh(uint8_t *c, const struct layout *l, unsigned i, const Elf64_Shdr *sh)
{
	memcpy(c + l->eh.e_shoff + i * sizeof(*sh), sh, sizeof(*sh));
}

/* One damaged header field at a time, each with the answer the contract gives. */
static void test_bad_tables(const uint8_t *file, size_t size, const struct layout *l)
{
	uint8_t *c = copy_of(file, size);
	const Elf64_Shdr sym = get_sh(file, l, l->symtab_index);
	const Elf64_Shdr str = get_sh(file, l, l->strtab_index);
	Elf64_Shdr sh;
	Elf64_Ehdr eh;
	struct symbols s;
	size_t n_all;

/* Load the edited copy, expect rc_want, then undo every edit. */
#define EXPECT(rc_want, what)                                                          \
	do {                                                                           \
		if (!CHECK_EQ(symbols_load(c, size, &s), rc_want))                     \
			fprintf(stderr, "    case: %s\n", what);                           \
		symbols_free(&s);                                                      \
		memcpy(c, file, size);                                                 \
	} while (0)
#define EDIT_SYM(field, value)                                                         \
	do {                                                                           \
		sh = sym;                                                              \
		sh.field = (value);                                                    \
		put_sh(c, l, l->symtab_index, &sh);                                    \
	} while (0)
#define EDIT_STR(field, value)                                                         \
	do {                                                                           \
		sh = str;                                                              \
		sh.field = (value);                                                    \
		put_sh(c, l, l->strtab_index, &sh);                                    \
	} while (0)
#define EDIT_EH(field, value)                                                          \
	do {                                                                           \
		memcpy(&eh, file, sizeof(eh));                                         \
		eh.field = (value);                                                    \
		memcpy(c, &eh, sizeof(eh));                                            \
	} while (0)

	EDIT_SYM(sh_entsize, sizeof(Elf64_Sym) + 8);
	EXPECT(-ENOEXEC, "symbol entry size");
	EDIT_SYM(sh_link, l->eh.e_shnum);
	EXPECT(-ENOEXEC, "string table index past the table");
	EDIT_SYM(sh_link, 0xffffffff);
	EXPECT(-ENOEXEC, "string table index 2^32-1");
	EDIT_SYM(sh_link, l->symtab_index);
	EXPECT(-ENOEXEC, "string table is the symbol table");
	EDIT_SYM(sh_offset, size - sym.sh_size + 8);
	EXPECT(-ENOEXEC, "symbol table 8 bytes past the end");
	EDIT_SYM(sh_offset, UINT64_MAX - 16);
	EXPECT(-ENOEXEC, "symbol table offset wraps");
	EDIT_SYM(sh_size, UINT64_MAX - 23);
	EXPECT(-ENOEXEC, "symbol table size 2^64-24");
	EDIT_STR(sh_offset, size - str.sh_size + 1);
	EXPECT(-ENOEXEC, "string table a byte past the end");
	EDIT_STR(sh_size, 0);
	EXPECT(-ENOEXEC, "empty string table");
	c[str.sh_offset + str.sh_size - 1] = 'x';
	EXPECT(-ENOEXEC, "unterminated string table");
	EDIT_EH(e_shoff, size - sizeof(Elf64_Shdr) + 1);
	EXPECT(-ENOEXEC, "section headers past the end");
	EDIT_EH(e_shoff, UINT64_MAX - 8);
	EXPECT(-ENOEXEC, "section header offset wraps");
	/* The string table's header is in the file but not in the table e_shnum declares. */
	if (l->symtab_index < l->strtab_index) {
		EDIT_EH(e_shnum, (Elf64_Half)l->strtab_index);
		EXPECT(-ENOEXEC, "string table index at e_shnum");
	}
#undef EDIT_EH
#undef EDIT_STR
#undef EDIT_SYM
#undef EXPECT

	/* main's own entry, edited so that the reader must leave it out. */
	uint64_t main_at = 0;
	for (uint64_t k = 0; k < sym.sh_size / sizeof(Elf64_Sym); k++) {
		Elf64_Sym y;

		memcpy(&y, file + sym.sh_offset + k * sizeof(y), sizeof(y));
		if (y.st_name && y.st_name < str.sh_size &&
		    strcmp((const char *)file + str.sh_offset + y.st_name, "main") == 0)
			main_at = sym.sh_offset + k * sizeof(y);
	}
	if (!CHECK(main_at != 0) || !CHECK_EQ(symbols_load(c, size, &s), 0))
		return;
	n_all = s.n;
	symbols_free(&s);
	for (unsigned edit = 0; edit < 5; edit++) {
		Elf64_Sym y;

		memcpy(&y, file + main_at, sizeof(y));
		switch (edit) {
		case 0: /* a name offset at the string table's end: skipped, not read past it */
			y.st_name = (Elf64_Word)str.sh_size;
			break;
		case 1: /* data, not code */
			y.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
			break;
		case 2: /* undefined here */
			y.st_shndx = SHN_UNDEF;
			break;
		case 3: /* absolute: a constant, not an address in the image */
			y.st_shndx = SHN_ABS;
			break;
		default: /* at address 0: nothing the guest can execute */
			y.st_value = 0;
			break;
		}
		memcpy(c + main_at, &y, sizeof(y));
		if (CHECK_EQ(symbols_load(c, size, &s), 0)) {
			bool ok = CHECK_EQ(s.n, n_all - 1);

			ok &= CHECK(by_name(&s, "main") == NULL);
			ok &= list_sound(&s, c + str.sh_offset, str.sh_size);
			if (!ok)
				fprintf(stderr, "    edit %u of main's symbol\n", edit);
		}
		symbols_free(&s);
		memcpy(c, file, size);
	}
	free(c);
}

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t rng_state = 0xd1b54a32d192ed03ull;

/*
 * Corrupt the places symbols_load reads (ELF header section fields, the
 * section header table, the symbol and string tables) a few bytes at a
 * time, in place, then restore them: copying the file each time would cost
 * more than the test.
 */
static void test_corruption(uint8_t *file, size_t size, const struct layout *l)
{
	enum { MAX_EDITS = 8 };
	const unsigned iterations = 4000;
	/* e_shoff (0x28) through e_shstrndx (0x3e) */
	const uint64_t ehdr_lo = offsetof(Elf64_Ehdr, e_shoff), ehdr_len = 0x40 - ehdr_lo;
	const uint64_t shdr_len = (uint64_t)l->eh.e_shnum * sizeof(Elf64_Shdr);
	unsigned accepted = 0;

	for (unsigned it = 0; it < iterations; it++) {
		size_t at[MAX_EDITS];
		uint8_t old[MAX_EDITS];
		unsigned n = 1 + (unsigned)rnd_below(MAX_EDITS);
		bool headers = false; /* touched: the string table may be elsewhere now */

		for (unsigned k = 0; k < n; k++) {
			switch (rnd_below(6)) {
			case 0:
				at[k] = ehdr_lo + rnd_below(ehdr_len);
				headers = true;
				break;
			case 1:
			case 2:
				at[k] = l->eh.e_shoff + rnd_below(shdr_len);
				headers = true;
				break;
			case 3:
				at[k] = l->symtab_off + rnd_below(l->symtab_size);
				break;
			case 4:
				at[k] = l->strtab_off + rnd_below(l->strtab_size);
				break;
			default: /* the end of the string table, whose NUL bounds every name */
				at[k] = l->strtab_off + l->strtab_size - 1 - rnd_below(4);
				break;
			}
			old[k] = file[at[k]];
			file[at[k]] = rnd_below(3) ? (uint8_t)rnd() : file[at[k]] ^ 0x80;
		}
		struct symbols s;
		int rc = symbols_load(file, size, &s);
		if (!CHECK(rc == 0 || rc == -ENOEXEC))
			fprintf(stderr, "    corruption %u: rc %d\n", it, rc);
		if (rc == 0) {
			accepted++;
			if (!(headers ? list_sound(&s, file, size)
				      : list_sound(&s, file + l->strtab_off, l->strtab_size)))
				fprintf(stderr, "    corruption %u\n", it);
			/* Lookups on whatever came back stay inside the list (ASan). */
			for (unsigned q = 0; q < 4 && s.n; q++)
				symbols_find(&s, s.v[rnd_below(s.n)].addr + rnd_below(64));
		}
		symbols_free(&s);
		for (unsigned k = n; k-- > 0;) /* restore in reverse: an offset may repeat */
			file[at[k]] = old[k];
	}
	printf("# corruption: %u of %u damaged files still loaded\n", accepted, iterations);
	CHECK(accepted > 0 && accepted < iterations);
}

int main(void)
{
	size_t size = 0;
	uint8_t *file = read_file("/proc/self/exe", &size);
	struct layout l;

	if (!CHECK(file != NULL) || !CHECK(find_layout(file, size, &l)))
		return check_finish("test_symbols");
	test_self(file, size, &l);
	test_find_rules();
	test_bad_tables(file, size, &l);
	test_truncated(file, size, &l);
	test_no_sections(file, size);
	test_corruption(file, size, &l);
	/* The restored file loads as before. */
	struct symbols s;
	CHECK_EQ(symbols_load(file, size, &s), 0);
	symbols_free(&s);
	free(file);
	return check_finish("test_symbols");
}
