/* SPDX-License-Identifier: MIT */
/* Function symbols of an ELF image, to name the guest's RIP in fault reports; pure, host-tested. */
#ifndef HV_SYMBOLS_H
#define HV_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct symbol {
	uint64_t addr;
	uint64_t size; /* 0 when the image does not say (assembly labels) */
	const char *name; /* points into the image file */
};

struct symbols {
	struct symbol *v; /* sorted by addr */
	size_t n;
};

/*
 * Read the function symbols of the ELF file[0, size). Returns 0 (with n == 0
 * when the image has no symbol table), -ENOEXEC when the tables are
 * malformed, or -ENOMEM. Names stay valid as long as file does.
 */
int symbols_load(const uint8_t *file, size_t size, struct symbols *syms);

/* The symbol containing addr, or NULL. */
const struct symbol *symbols_find(const struct symbols *syms, uint64_t addr);

void symbols_free(struct symbols *syms);

#endif /* HV_SYMBOLS_H */
