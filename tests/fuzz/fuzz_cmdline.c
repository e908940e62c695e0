/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hv's command line and --config files (cmdline.c, options.c).
 * The input is "WORDS\0CONFIG": before the first NUL, hv's arguments one per
 * line; after it, the text of a config file that every --config option on
 * the line reads (a memfd: an option that may name --config gets its path
 * as its value, so no input names a file of the host). Each line of the
 * config text also goes to cmdline_split() on its own.
 */
#define _GNU_SOURCE /* memfd_create */
#include <sys/mman.h>
#include <unistd.h>

#include "cmdline.h"
#include "fuzz.h"

#define MAX_WORDS 4096 /* more words than this: the rest are dropped */

static char config_path[32]; /* "/proc/self/fd/N" */

/* The config file: one memfd for the whole run, rewritten for each input. */
static void set_config(const uint8_t *text, size_t len)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz_cmdline.conf", 0);
		if (fd < 0)
			abort();
		snprintf(config_path, sizeof(config_path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (len && pwrite(fd, text, len, 0) != (ssize_t)len))
		abort();
}

/*
 * An option word whose name (before any '=') is a prefix of "config": it is
 * --config, or refused as ambiguous. Returned as "--NAME=" and the memfd's
 * path, in malloc'ed memory; any other word as it is.
 */
static char *config_word(char *w, char **owned)
{
	size_t name;

	*owned = NULL;
	if (strncmp(w, "--", 2) != 0)
		return w;
	name = strcspn(w + 2, "=");
	if (name == 0 || name > strlen("config") || strncmp(w + 2, "config", name) != 0)
		return w;
	*owned = malloc(2 + name + 1 + sizeof(config_path));
	if (!*owned)
		abort();
	sprintf(*owned, "--%.*s=%s", (int)name, w + 2, config_path);
	return *owned;
}

/* hv's checks on what it accepted: the limits every later step relies on. */
static void check_parsed(const struct cmdline *c)
{
	FUZZ_CHECK(c->nr_dom >= 1 && c->nr_dom <= HV_MAX_DOMAINS);
	/* A trace file is named only with --trace, and never empty. */
	FUZZ_CHECK(!c->trace_file || (c->trace && c->trace_file[0]));
	for (unsigned i = 0; i < c->nr_dom; i++) {
		const struct cmdline_domain *d = &c->dom[i];

		FUZZ_CHECK(d->argc >= 1 && d->argv && d->argv[0]);
		FUZZ_CHECK(d->mem && d->mem % HV_PAGE_SIZE == 0 && d->mem <= HV_MEM_MAX);
		FUZZ_CHECK(d->nr_dev <= HV_MAX_DEVICES);
		for (unsigned k = 0; k < d->nr_dev; k++)
			FUZZ_CHECK(d->dev[k].arg != NULL);
		if (d->name)
			FUZZ_CHECK(strlen(d->name) >= 1 && strlen(d->name) <= HV_NAME_MAX &&
				   !strpbrk(d->name, " \t/"));
		FUZZ_CHECK(memchr(d->where, '\0', sizeof(d->where)) != NULL);
	}
}

/* Each line of the config text alone, with room for fewer words than it may have. */
static void split_lines(const char *text, size_t len, unsigned room)
{
	char *words[64], err[96];

	room = room % 64 + 1;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - text) - at : len - at;
		char *line = malloc(n + 1);
		int got;

		if (!line)
			abort();
		memcpy(line, text + at, n);
		line[n] = '\0';
		got = cmdline_split(line, words, (int)room, err, sizeof(err));
		FUZZ_CHECK(got >= -1 && got <= (int)room);
		for (int i = 0; i < got; i++)
			FUZZ_CHECK(words[i] >= line && words[i] + strlen(words[i]) <= line + n);
		free(line);
		at += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t wlen = nul ? (size_t)(nul - data) : size;
	char *text = malloc(wlen + 1), *argv[MAX_WORDS + 2], *owned[MAX_WORDS + 2];
	static struct cmdline c; /* 1024 domains: too large for the stack */
	char err[512];
	int argc = 0, rc;

	if (!text)
		abort();
	memcpy(text, data, wlen);
	text[wlen] = '\0';
	set_config(nul ? nul + 1 : data, nul ? size - wlen - 1 : 0);
	owned[argc] = NULL;
	argv[argc++] = "hv";
	for (char *w = text, *end; argc <= MAX_WORDS; w = end + 1) {
		end = strchr(w, '\n');
		if (end)
			*end = '\0';
		argv[argc] = config_word(w, &owned[argc]);
		argc++;
		if (!end)
			break;
	}
	argv[argc] = NULL;

	memset(&c, 0, sizeof(c));
	rc = cmdline_parse(argc, argv, &c, err, sizeof(err));
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == 0 && !c.help && !c.version)
		check_parsed(&c);
	if (rc)
		FUZZ_CHECK(rc == HV_EXIT_USAGE || rc == HV_EXIT_NOINPUT || rc == HV_EXIT_OSERR);
	cmdline_free(&c);

	if (nul)
		split_lines((const char *)nul + 1, size - wlen - 1, (unsigned)size);
	for (int i = 0; i < argc; i++)
		free(owned[i]);
	free(text);
	return 0;
}
