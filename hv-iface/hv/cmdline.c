/* SPDX-License-Identifier: MIT */
/*
 * hv's command line: "::" splits it into domains, each domain's words are
 * options up to the image, then the guest's arguments. A --config file holds
 * one domain per line in the same words. Pure (it reads the files, nothing
 * else): unit-tested on the host. Options are long ones with "=VALUE" or the
 * value as the next word, or a unique prefix of one, as getopt_long takes them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

#define CONFIG_MAX 16 /* --config files on one command line */
#define SEPARATOR "::"

enum opt_id {
	OPT_MEM, OPT_DISK, OPT_NET, OPT_NAME, OPT_STATS, OPT_CONFIG, OPT_VERSION, OPT_HELP, OPT_BACKEND,
	OPT_NO_SANDBOX, OPT_CONSOLE_MAX, OPT_GDB, OPT_TRACE, OPT_NO_LINUX_CALLS, OPT_CPUS
};

/* What may follow an option's name: nothing (false), a value (true), or only "=VALUE". */
enum opt_value { VALUE_NONE, VALUE_NEEDED, VALUE_OPTIONAL };

static const struct {
	const char *name;
	enum opt_id id;
	enum opt_value value;
	bool global;
} options[] = {
	{ "mem", OPT_MEM, true, false },      { "disk", OPT_DISK, true, false },
	{ "net", OPT_NET, true, false },      { "name", OPT_NAME, true, false },
	{ "stats", OPT_STATS, false, true },  { "config", OPT_CONFIG, true, true },
	{ "version", OPT_VERSION, false, true }, { "help", OPT_HELP, false, true },
	{ "backend", OPT_BACKEND, true, true }, { "no-sandbox", OPT_NO_SANDBOX, false, true },
	{ "console-max", OPT_CONSOLE_MAX, true, false }, { "gdb", OPT_GDB, true, false },
	{ "trace", OPT_TRACE, VALUE_OPTIONAL, true },
	{ "no-linux-calls", OPT_NO_LINUX_CALLS, false, true },
	{ "cpus", OPT_CPUS, true, false },
};
#define NR_OPTIONS (sizeof(options) / sizeof(options[0]))

/* Where a parse is: its result, its messages, and the files it still has to read. */
struct parser {
	struct cmdline *c;
	char *err;
	size_t errlen;
	const char *config[CONFIG_MAX];
	unsigned nr_config;
	bool in_file;
};

static int fail(struct parser *p, int code, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, int code, const char *where, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(p->err, p->errlen, "%s", where);
	n = strlen(p->err);
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return code;
}

/* A CPU number at *s, below HV_CPUS_MAX; *s moves past it. 0, -EINVAL or -ERANGE. */
static int cpu_number(const char **s, unsigned *cpu)
{
	unsigned v = 0;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	for (; **s >= '0' && **s <= '9'; (*s)++) {
		v = v * 10 + (unsigned)(**s - '0');
		if (v >= HV_CPUS_MAX)
			return -ERANGE;
	}
	*cpu = v;
	return 0;
}

int parse_cpus(const char *s, struct hv_cpus *set)
{
	memset(set, 0, sizeof(*set));
	set->arg = s;
	for (;;) {
		unsigned lo, hi;
		int rc = cpu_number(&s, &lo);

		if (rc)
			return rc;
		hi = lo;
		if (*s == '-') {
			s++;
			rc = cpu_number(&s, &hi);
			if (rc)
				return rc;
			if (hi < lo)
				return -EINVAL;
		}
		for (unsigned c = lo; c <= hi; c++) {
			set->count += !(set->bits[c / 64] >> (c % 64) & 1);
			set->bits[c / 64] |= 1ull << (c % 64);
		}
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			return -EINVAL;
	}
}

/* The option "--NAME[=VALUE]" names: exactly, or by a prefix no other option shares. */
static int find_option(const char *word, size_t len)
{
	int found = -1;

	for (unsigned i = 0; i < NR_OPTIONS; i++) {
		if (strncmp(options[i].name, word, len) != 0)
			continue;
		if (options[i].name[len] == '\0')
			return (int)i;
		found = found == -1 ? (int)i : -2;
	}
	return found;
}

static void *own(struct parser *p, void *mem)
{
	struct cmdline *c = p->c;
	void **grown;

	if (!mem)
		return NULL;
	grown = realloc(c->owned, (c->nr_owned + 1) * sizeof(*grown));
	if (!grown) {
		free(mem);
		return NULL;
	}
	c->owned = grown;
	c->owned[c->nr_owned++] = mem;
	return mem;
}

/* --trace (value NULL: to stderr) or --trace=FILE; the file is main.c's to open. */
static int take_trace(struct parser *p, struct cmdline_domain *d, const char *file)
{
	struct cmdline *c = p->c;
	bool same = file ? c->trace_file && strcmp(file, c->trace_file) == 0 : !c->trace_file;

	if (file && file[0] == '\0')
		return fail(p, HV_EXIT_USAGE, d->where, "--trace=: no file named (--trace alone "
			    "writes to stderr)");
	if (c->trace && !same)
		return fail(p, HV_EXIT_USAGE, d->where, "--trace%s%s: the trace already goes to %s",
			    file ? "=" : "", file ? file : "", c->trace_file ? c->trace_file : "stderr");
	c->trace = true;
	c->trace_file = file;
	return 0;
}

/* One option with its value (NULL for a flag); 0 or an exit code. */
static int take_option(struct parser *p, struct cmdline_domain *d, unsigned i, const char *value,
		       bool *is_domain)
{
	char size[32];

	switch (options[i].id) {
	case OPT_MEM:
		if (parse_size(value, &d->mem))
			return fail(p, HV_EXIT_USAGE, d->where, "--mem=%s: not a size (try 64M or 1G)",
				    value);
		if (d->mem % HV_PAGE_SIZE || d->mem == 0)
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--mem=%s: must be a non-zero multiple of 4K", value);
		if (d->mem > HV_MEM_MAX) {
			format_size(HV_MEM_MAX, size, sizeof(size));
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--mem=%s: too large, hv gives a guest at most %s", value, size);
		}
		break;
	case OPT_CONSOLE_MAX:
		if (parse_size(value, &d->console_max))
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--console-max=%s: not a size (try 64M or 0 for none)", value);
		break;
	case OPT_GDB: {
		char *end;
		unsigned long port = strtoul(value, &end, 10);

		if (!*value || *end || port > 65535)
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--gdb=%s: not a TCP port (1 to 65535, or 0 for a free one)", value);
		d->gdb_port = (int)port;
		break;
	}
	case OPT_CPUS:
		switch (parse_cpus(value, &d->cpus)) {
		case 0:
			break;
		case -ERANGE:
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--cpus=%s: CPU numbers go up to %d", value, HV_CPUS_MAX - 1);
		default:
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--cpus=%s: not a CPU list (try 0, 2-3 or 0,2-3)", value);
		}
		break;
	case OPT_DISK:
	case OPT_NET:
		if (d->nr_dev == HV_MAX_DEVICES)
			return fail(p, HV_EXIT_USAGE, d->where,
				    "too many devices: a VM has at most %d (--disk and --net together)",
				    HV_MAX_DEVICES);
		d->dev[d->nr_dev++] = (struct cmdline_dev){
			options[i].id == OPT_DISK ? CMDLINE_DISK : CMDLINE_NET, value };
		break;
	case OPT_NAME:
		d->name = value;
		break;
	case OPT_STATS:
		p->c->stats = true;
		return 0;
	case OPT_NO_SANDBOX: /* a config file cannot turn the sandbox off */
		if (p->in_file)
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--no-sandbox is not allowed in a config file");
		p->c->no_sandbox = true;
		return 0;
	case OPT_NO_LINUX_CALLS:
		p->c->no_linux_calls = true;
		return 0;
	case OPT_TRACE: /* a config file may say it: it only adds output, as --stats does */
		return take_trace(p, d, value);
	case OPT_BACKEND:
		if (strcmp(value, "kvm") && strcmp(value, "proc") && strcmp(value, "auto"))
			return fail(p, HV_EXIT_USAGE, d->where,
				    "--backend=%s: the backends are kvm, proc and auto", value);
		p->c->backend = value;
		return 0;
	case OPT_CONFIG:
		if (p->in_file)
			return fail(p, HV_EXIT_USAGE, d->where, "--config is not allowed in a config file");
		if (p->nr_config == CONFIG_MAX)
			return fail(p, HV_EXIT_USAGE, "", "too many --config files (at most %d)",
				    CONFIG_MAX);
		p->config[p->nr_config++] = value;
		return 0;
	case OPT_VERSION:
	case OPT_HELP:
		if (p->in_file)
			return fail(p, HV_EXIT_USAGE, d->where, "--%s is not allowed in a config file",
				    options[i].name);
		if (options[i].id == OPT_HELP)
			p->c->help = true;
		else
			p->c->version = true;
		return 0;
	}
	*is_domain = true;
	return 0;
}

/*
 * One domain's words: options, then IMAGE and its arguments. *is_domain
 * says whether there was a domain at all (not only global options). Stops
 * early, returning 0, at --help or --version.
 */
static int parse_domain(struct parser *p, char **w, int n, struct cmdline_domain *d, bool *is_domain)
{
	int i = 0;

	d->mem = HV_MEM_DEFAULT;
	d->console_max = HV_CONSOLE_DEFAULT;
	d->gdb_port = -1;
	*is_domain = false;
	for (; i < n; i++) {
		const char *word = w[i], *eq, *value = NULL;
		int o, rc;

		if (strcmp(word, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(word, "-h") == 0) {
			p->c->help = true;
			return 0;
		}
		if (word[0] != '-' || word[1] == '\0')
			break;
		if (word[1] != '-')
			return fail(p, HV_EXIT_USAGE, d->where, "unknown option '%s' (see hv --help)", word);
		eq = strchr(word + 2, '=');
		o = find_option(word + 2, eq ? (size_t)(eq - word - 2) : strlen(word + 2));
		if (o < 0 || (eq && options[o].value == VALUE_NONE))
			return fail(p, HV_EXIT_USAGE, d->where, "unknown option '%s' (see hv --help)", word);
		if (eq)
			value = eq + 1;
		else if (options[o].value == VALUE_NEEDED && i + 1 < n)
			value = w[++i];
		else if (options[o].value == VALUE_NEEDED)
			return fail(p, HV_EXIT_USAGE, d->where,
				    "option '%s' needs a value (see hv --help)", word);
		rc = take_option(p, d, (unsigned)o, value, is_domain);
		if (rc || p->c->help || p->c->version)
			return rc;
	}
	if (i >= n) {
		if (*is_domain || p->in_file)
			return fail(p, HV_EXIT_USAGE, d->where, "no image given (see hv --help)");
		return 0;
	}
	*is_domain = true;
	d->argc = n - i;
	d->argv = w + i;
	return 0;
}

/* Take d as the next domain. */
static int add_domain(struct parser *p, const struct cmdline_domain *d)
{
	struct cmdline *c = p->c;

	if (c->nr_dom == HV_MAX_DOMAINS)
		return fail(p, HV_EXIT_USAGE, d->where, "too many domains: hv runs at most %d",
			    HV_MAX_DOMAINS);
	c->dom[c->nr_dom++] = *d;
	return 0;
}

int cmdline_split(char *line, char **words, int max, char *err, size_t errlen)
{
	char *in = line, *out = line;
	int n = 0;

	for (;;) {
		bool quoted = false;

		while (*in == ' ' || *in == '\t')
			in++;
		if (*in == '\0')
			return n;
		if (n == max) {
			snprintf(err, errlen, "more than %d words on a line", max);
			return -1;
		}
		words[n++] = out;
		for (; *in && (quoted || (*in != ' ' && *in != '\t')); in++) {
			if (*in == '"')
				quoted = !quoted;
			else
				*out++ = *in;
		}
		if (quoted) {
			snprintf(err, errlen, "a double quote is not closed");
			return -1;
		}
		/* The separator (or the end) is read before the NUL that ends this word is written. */
		if (*in)
			in++;
		*out++ = '\0';
	}
}

/* Every domain of one config file, one per line, appended to the domains so far. */
static int read_config(struct parser *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, msg[128];
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int rc = 0;

	if (!f)
		return fail(p, HV_EXIT_NOINPUT, "", "--config=%s: %s", path, strerror(errno));
	p->in_file = true;
	while (!rc && (len = getline(&line, &cap, f)) >= 0) {
		struct cmdline_domain d = { 0 };
		char *copy, **words;
		bool is_domain;
		int n;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		n = (int)strspn(line, " \t");
		if (line[n] == '\0' || line[n] == '#')
			continue;
		snprintf(d.where, sizeof(d.where), "%s:%u: ", path, lineno);
		copy = own(p, strdup(line));
		/* A word takes at least one character and its blank: len / 2 + 1 words at most. */
		words = copy ? own(p, calloc((size_t)len / 2 + 2, sizeof(*words))) : NULL;
		if (!words) {
			rc = fail(p, HV_EXIT_OSERR, d.where, "out of memory");
			break;
		}
		n = cmdline_split(copy, words, (int)len / 2 + 1, msg, sizeof(msg));
		if (n < 0) {
			rc = fail(p, HV_EXIT_USAGE, d.where, "%s", msg);
			break;
		}
		for (int i = 0; i < n && !rc; i++)
			if (strcmp(words[i], SEPARATOR) == 0)
				rc = fail(p, HV_EXIT_USAGE, d.where,
					  "'::' in a config file: it has one domain a line");
		if (rc)
			break;
		rc = parse_domain(p, words, n, &d, &is_domain);
		if (!rc)
			rc = add_domain(p, &d);
	}
	if (!rc && ferror(f))
		rc = fail(p, HV_EXIT_NOINPUT, "", "--config=%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	p->in_file = false;
	return rc;
}

/* A name goes into messages and the store: printable, no blanks or '/', not too long. */
static int check_names(struct parser *p)
{
	struct cmdline *c = p->c;

	for (unsigned i = 0; i < c->nr_dom; i++) {
		const char *name = c->dom[i].name;
		size_t len;

		if (!name)
			continue;
		len = strlen(name);
		if (len == 0 || len > HV_NAME_MAX || strspn(name, "!\"#$%&'()*+,-.0123456789:;<=>?@"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") != len)
			return fail(p, HV_EXIT_USAGE, c->dom[i].where,
				    "--name=%s: a name has 1 to %d printable characters, no blanks or '/'",
				    name, HV_NAME_MAX);
		for (unsigned j = 0; j < i; j++)
			if (c->dom[j].name && strcmp(c->dom[j].name, name) == 0)
				return fail(p, HV_EXIT_USAGE, c->dom[i].where,
					    "--name=%s: domains %u and %u have the same name", name, j + 1,
					    i + 1);
	}
	return 0;
}

int cmdline_parse(int argc, char **argv, struct cmdline *c, char *err, size_t errlen)
{
	struct parser p = { .c = c, .err = err, .errlen = errlen };
	struct cmdline_domain mine[HV_MAX_DOMAINS];
	unsigned nr_mine = 0, segments = 0;
	int start = 1, rc;

	err[0] = '\0';
	for (int end = 1; end <= argc; end++) {
		struct cmdline_domain d = { 0 };
		bool is_domain;

		if (end < argc && strcmp(argv[end], SEPARATOR) != 0)
			continue;
		segments++;
		if (end == start && (segments > 1 || end < argc))
			return fail(&p, HV_EXIT_USAGE, "",
				    "an empty domain: '::' goes between two domains (see hv --help)");
		rc = parse_domain(&p, argv + start, end - start, &d, &is_domain);
		if (rc || c->help || c->version)
			return rc;
		if (is_domain) {
			if (nr_mine == HV_MAX_DOMAINS)
				return fail(&p, HV_EXIT_USAGE, "", "too many domains: hv runs at most %d",
					    HV_MAX_DOMAINS);
			mine[nr_mine++] = d;
		}
		start = end + 1;
	}
	for (unsigned i = 0; i < p.nr_config; i++) {
		rc = read_config(&p, p.config[i]);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < nr_mine; i++) {
		rc = add_domain(&p, &mine[i]);
		if (rc)
			return rc;
	}
	if (c->nr_dom == 0)
		return fail(&p, HV_EXIT_USAGE, "", "no image given (see hv --help)");
	return check_names(&p);
}

void cmdline_free(struct cmdline *c)
{
	for (unsigned i = 0; i < c->nr_owned; i++)
		free(c->owned[i]);
	free(c->owned);
	c->owned = NULL;
	c->nr_owned = 0;
}
