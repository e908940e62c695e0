/* SPDX-License-Identifier: MIT */
/* Splitting QEMU's kernel command line into argv, virtio-mmio device entries and platform flags. */
#include <errno.h>
#include <string.h>

#include "pvh_cmdline.h"

#define MMIO_PREFIX "virtio_mmio.device="
#define DEBUG_FLAG "pvh.debug"
#define BOOT_IMAGE_PREFIX "BOOT_IMAGE="

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Digits in base 16 after "0x", else in base 10; 0 if there are none or they overflow. */
static int parse_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	unsigned base = 10;
	int digits = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (*v = 0;; p++, digits++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (*v > (UINT64_MAX - d) / base)
			return 0;
		*v = *v * base + d;
	}
	*s = p;
	return digits > 0;
}

/* <size>[KMG]@<base>:<irq>[:<id>], the format of Linux's virtio_mmio.device= parameter. */
static int parse_mmio(const char *s, struct pvh_mmio_entry *e)
{
	uint64_t size, base, irq, id;
	unsigned shift = 0;

	if (!parse_u64(&s, &size))
		return -EINVAL;
	switch (*s) {
	case 'k': case 'K': shift = 10; s++; break;
	case 'm': case 'M': shift = 20; s++; break;
	case 'g': case 'G': shift = 30; s++; break;
	}
	if (size == 0 || size > (PVH_MMIO_LIMIT >> shift))
		return -EINVAL;
	size <<= shift;
	if (*s++ != '@' || !parse_u64(&s, &base) || *s++ != ':' || !parse_u64(&s, &irq))
		return -EINVAL;
	if (*s == ':' && (s++, !parse_u64(&s, &id)))
		return -EINVAL;
	if (*s != '\0' || irq > UINT32_MAX || base >= PVH_MMIO_LIMIT ||
	    size > PVH_MMIO_LIMIT - base)
		return -EINVAL;
	*e = (struct pvh_mmio_entry){ .base = base, .size = size, .irq = (uint32_t)irq };
	return 0;
}

static int add_arg(struct pvh_cmdline *out, const char *word, size_t len)
{
	if (len + 1 > sizeof(out->args) - out->args_size)
		return -E2BIG;
	memcpy(out->args + out->args_size, word, len);
	out->args[out->args_size + len] = '\0';
	out->args_size += len + 1;
	out->argc++;
	return 0;
}

/*
 * The next word of the line at *p into word[] (cap bytes), quotes removed,
 * its start in *start; *p moves past it. 1 for a word, 0 at the end of the
 * line, -E2BIG for a word that does not fit.
 */
static int take_word(const char **p, char *word, size_t cap, size_t *len, const char **start)
{
	const char *s = *p;
	int quoted = 0;

	while (is_space(*s))
		s++;
	*start = s;
	*len = 0;
	if (!*s)
		return 0;
	for (; *s && (quoted || !is_space(*s)); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (*len + 1 >= cap)
			return -E2BIG;
		word[(*len)++] = *s;
	}
	word[*len] = '\0';
	*p = s;
	return 1;
}

/* A word after argv[0]: a device entry, the debug flag, or an argument. */
static int take(struct pvh_cmdline *out, const char *word, size_t len)
{
	if (strncmp(word, MMIO_PREFIX, strlen(MMIO_PREFIX)) == 0) {
		if (out->nr_mmio == PVH_CMDLINE_MAX_MMIO)
			return -ENOSPC;
		if (parse_mmio(word + strlen(MMIO_PREFIX), &out->mmio[out->nr_mmio]))
			return -EINVAL;
		out->nr_mmio++;
		return 0;
	}
	if (strcmp(word, DEBUG_FLAG) == 0) {
		out->debug = 1;
		return 0;
	}
	return add_arg(out, word, len);
}

int pvh_cmdline_parse(const char *cmdline, const char *argv0, struct pvh_cmdline *out,
		      const char **bad)
{
	char word[PVH_ARGS_MAX]; /* on the stack: .bss is cleared on every platform, hv included */
	const char *p = cmdline ? cmdline : "", *start;
	const size_t named = strlen(BOOT_IMAGE_PREFIX);
	size_t len;
	int more, rc;

	memset(out, 0, sizeof(*out));
	more = take_word(&p, word, sizeof(word), &len, &start);
	if (more > 0 && strncmp(word, BOOT_IMAGE_PREFIX, named) == 0) {
		rc = add_arg(out, word + named, len - named);
		more = take_word(&p, word, sizeof(word), &len, &start);
	} else {
		rc = add_arg(out, argv0, strlen(argv0));
	}
	while (rc == 0 && more > 0) {
		rc = take(out, word, len);
		if (rc == 0)
			more = take_word(&p, word, sizeof(word), &len, &start);
	}
	if (rc == 0)
		rc = more < 0 ? more : 0;
	if (rc && bad)
		*bad = start;
	return rc;
}
