/* SPDX-License-Identifier: MIT */
/* hv's command line and --config files: global options, domains split at "::", their options; pure. */
#ifndef HV_CMDLINE_H
#define HV_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv.h"

enum cmdline_dev_kind { CMDLINE_DISK, CMDLINE_NET };

/* A --disk or --net argument, in the order given: device i gets window i. */
struct cmdline_dev {
	enum cmdline_dev_kind kind;
	const char *arg;
};

struct cmdline_domain {
	uint64_t mem;
	uint64_t console_max; /* --console-max, HV_CONSOLE_DEFAULT when not given */
	const char *name; /* --name, or NULL */
	int gdb_port;     /* --gdb: a TCP port, 0 for any free one; -1 when not given */
	struct hv_cpus cpus; /* --cpus; none set when not given */
	struct cmdline_dev dev[HV_MAX_DEVICES];
	unsigned nr_dev;
	int argc; /* the guest's argv: IMAGE, then ARGS */
	char **argv;
	char where[96]; /* "FILE:LINE: " for a config file's domain, else "" (for messages) */
};

/* A parsed command line. Domains are numbered in order: a config file's first, then argv's. */
struct cmdline {
	bool stats, help, version, no_sandbox;
	bool no_linux_calls; /* --no-linux-calls: guests trap to kick and block, as on kvm */
	const char *backend; /* --backend: "kvm", "proc" or "auto"; NULL when not given */
	bool trace;             /* --trace: every exit and hypercall, one line each (trace.h) */
	const char *trace_file; /* --trace=FILE; NULL: to stderr */
	struct cmdline_domain dom[HV_MAX_DOMAINS];
	unsigned nr_dom;
	void **owned; /* what the config files' words live in, freed by cmdline_free() */
	unsigned nr_owned;
};

/*
 * Parse hv's arguments (argv[0] is hv) into c, which must be zeroed:
 * "[GLOBAL OPTIONS] DOMAIN [:: DOMAIN]..." with a DOMAIN "[DOMAIN OPTIONS]
 * IMAGE [ARGS...]", global options allowed among any domain's, and every
 * --config file read. Stops at --help or --version, setting c->help or
 * c->version. Returns 0, or HV_EXIT_USAGE (bad command line or file) or
 * HV_EXIT_NOINPUT (a config file unreadable) with a message in err.
 */
int cmdline_parse(int argc, char **argv, struct cmdline *c, char *err, size_t errlen);

/*
 * Split one config-file line in place into at most max words: blanks
 * (spaces, tabs) separate words; double quotes group blanks into a word and
 * are removed ("a b" is one word, "" an empty one; no escapes). Returns the
 * number of words, or -1 with a message in err (an unterminated quote, too
 * many words).
 */
int cmdline_split(char *line, char **words, int max, char *err, size_t errlen);

void cmdline_free(struct cmdline *c);

/*
 * A CPU list ("0", "2-3", "0,2-5"; numbers below HV_CPUS_MAX) into set,
 * with set->arg pointing at s. 0, or -EINVAL (not such a list) or -ERANGE
 * (a number too large).
 */
int parse_cpus(const char *s, struct hv_cpus *set);

#endif /* HV_CMDLINE_H */
