/* SPDX-License-Identifier: MIT */
/*
 * Unit test of hv's command line: domains split at "::", options before the
 * image and global ones among any domain's, --config files (quotes, comments,
 * their domains first), and every refusal's message and exit code.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cmdline.h"

static struct cmdline c;
static char err[512];

/* Parse a NULL-terminated list of words after "hv". */
static int parse(const char *const *words)
{
	static char *argv[2 * (HV_MAX_DOMAINS + 1) + 8];
	int argc = 0;

	cmdline_free(&c);
	memset(&c, 0, sizeof(c));
	argv[argc++] = "hv";
	for (; *words; words++)
		argv[argc++] = (char *)*words;
	argv[argc] = NULL;
	return cmdline_parse(argc, argv, &c, err, sizeof(err));
}

#define PARSE(...) parse((const char *const[]){ __VA_ARGS__, NULL })

static void refused(int rc, int want, const char *message)
{
	CHECK_EQ(rc, want);
	CHECK_STR_CONTAINS(err, message);
}

static void test_one_domain(void)
{
	CHECK_EQ(PARSE("--mem=64M", "--disk=a.img,ro", "--net", "tap0", "img", "--mem=1G", "x"), 0);
	CHECK_EQ(c.nr_dom, 1);
	CHECK_EQ(c.dom[0].mem, 64ull << 20);
	CHECK_EQ(c.dom[0].nr_dev, 2);
	CHECK_EQ(c.dom[0].dev[0].kind, CMDLINE_DISK);
	CHECK_STR_EQ(c.dom[0].dev[0].arg, "a.img,ro");
	CHECK_EQ(c.dom[0].dev[1].kind, CMDLINE_NET);
	CHECK_STR_EQ(c.dom[0].dev[1].arg, "tap0");
	/* After the image everything is the guest's, options included. */
	CHECK_EQ(c.dom[0].argc, 3);
	CHECK_STR_EQ(c.dom[0].argv[0], "img");
	CHECK_STR_EQ(c.dom[0].argv[1], "--mem=1G");
	CHECK_STR_EQ(c.dom[0].argv[2], "x");
	CHECK(c.dom[0].name == NULL);
	CHECK(!c.stats);

	CHECK_EQ(PARSE("img"), 0);
	CHECK_EQ(c.dom[0].mem, HV_MEM_DEFAULT);
	CHECK_EQ(PARSE("--", "-img-"), 0);
	CHECK_STR_EQ(c.dom[0].argv[0], "-img-");
	/* getopt_long's unique prefixes. */
	CHECK_EQ(PARSE("--st", "--me=8M", "img"), 0);
	CHECK(c.stats);
	CHECK_EQ(c.dom[0].mem, 8ull << 20);
}

static void test_domains(void)
{
	CHECK_EQ(PARSE("--name=a", "a.img", "1", "::", "--stats", "--mem=16M", "b.img", "::", "c.img",
		       "x", "y"), 0);
	CHECK_EQ(c.nr_dom, 3);
	CHECK(c.stats);
	CHECK_STR_EQ(c.dom[0].name, "a");
	CHECK_EQ(c.dom[0].argc, 2);
	CHECK_EQ(c.dom[1].mem, 16ull << 20);
	CHECK_EQ(c.dom[1].argc, 1);
	CHECK_STR_EQ(c.dom[1].argv[0], "b.img");
	CHECK_EQ(c.dom[2].argc, 3);
	CHECK_STR_EQ(c.dom[2].argv[2], "y");
	/* Options do not carry from one domain to the next. */
	CHECK_EQ(c.dom[2].mem, HV_MEM_DEFAULT);
	CHECK(c.dom[2].name == NULL);
	/* Global options alone before the first "::" are not a domain. */
	CHECK_EQ(PARSE("--stats", "::", "b.img"), 0);
	CHECK_EQ(c.nr_dom, 1);
}

/* --backend is global: once for every domain, anywhere among their options. */
static void test_backend(void)
{
	CHECK_EQ(PARSE("img"), 0);
	CHECK(c.backend == NULL);
	CHECK_EQ(PARSE("--backend=proc", "img"), 0);
	CHECK_STR_EQ(c.backend, "proc");
	CHECK_EQ(PARSE("a.img", "::", "--backend=kvm", "b.img"), 0);
	CHECK_STR_EQ(c.backend, "kvm");
	CHECK_EQ(c.nr_dom, 2);
	CHECK_EQ(PARSE("--backend=auto", "img"), 0);
	CHECK_STR_EQ(c.backend, "auto");
	refused(PARSE("--backend=xen", "img"), HV_EXIT_USAGE,
		"--backend=xen: the backends are kvm, proc and auto");
	refused(PARSE("--backend=", "img"), HV_EXIT_USAGE, "the backends are kvm, proc and auto");
}

static void test_help_version(void)
{
	CHECK_EQ(PARSE("--help", "--bogus"), 0);
	CHECK(c.help);
	CHECK_EQ(PARSE("a.img", "::", "-h"), 0);
	CHECK(c.help);
	CHECK_EQ(PARSE("--version"), 0);
	CHECK(c.version);
	/* Options are taken in order: an error before --help wins. */
	refused(PARSE("--bogus", "--help"), HV_EXIT_USAGE, "unknown option '--bogus'");
}

static void test_refusals(void)
{
	refused(PARSE("--stats"), HV_EXIT_USAGE, "no image given (see hv --help)");
	refused(parse((const char *const[]){ NULL }), HV_EXIT_USAGE, "no image given");
	refused(PARSE("--mem=8M"), HV_EXIT_USAGE, "no image given");
	refused(PARSE("a.img", "::"), HV_EXIT_USAGE, "an empty domain");
	refused(PARSE("::", "a.img"), HV_EXIT_USAGE, "an empty domain");
	refused(PARSE("a.img", "::", "::", "b.img"), HV_EXIT_USAGE, "an empty domain");
	refused(PARSE("--bogus", "a.img"), HV_EXIT_USAGE, "unknown option '--bogus' (see hv --help)");
	refused(PARSE("-x", "a.img"), HV_EXIT_USAGE, "unknown option '-x'");
	refused(PARSE("--stats=1", "a.img"), HV_EXIT_USAGE, "unknown option '--stats=1'");
	refused(PARSE("--n=x", "a.img"), HV_EXIT_USAGE, "unknown option '--n=x'"); /* name or net */
	refused(PARSE("a.img", "::", "--disk"), HV_EXIT_USAGE, "option '--disk' needs a value");
	refused(PARSE("--mem=lots", "a.img"), HV_EXIT_USAGE, "--mem=lots: not a size (try 64M or 1G)");
	refused(PARSE("--mem=1000", "a.img"), HV_EXIT_USAGE,
		"--mem=1000: must be a non-zero multiple of 4K");
	refused(PARSE("--mem=0", "a.img"), HV_EXIT_USAGE, "must be a non-zero multiple of 4K");
	refused(PARSE("--mem=4G", "a.img"), HV_EXIT_USAGE, "--mem=4G: too large, hv gives a guest at most 3G");
	refused(PARSE("--name=x", "a.img", "::", "--name=x", "b.img"), HV_EXIT_USAGE,
		"--name=x: domains 1 and 2 have the same name");
	refused(PARSE("--name=", "a.img"), HV_EXIT_USAGE, "a name has 1 to 64 printable characters");
	refused(PARSE("--name=a b", "a.img"), HV_EXIT_USAGE, "no blanks or '/'");
	refused(PARSE("--name=a/b", "a.img"), HV_EXIT_USAGE, "no blanks or '/'");

	const char *many[HV_MAX_DEVICES + 3];
	for (int i = 0; i <= HV_MAX_DEVICES; i++)
		many[i] = "--disk=d";
	many[HV_MAX_DEVICES + 1] = "a.img";
	many[HV_MAX_DEVICES + 2] = NULL;
	refused(parse(many), HV_EXIT_USAGE, "too many devices: a VM has at most 16");

	const char *doms[2 * (HV_MAX_DOMAINS + 1)];
	for (int i = 0; i <= HV_MAX_DOMAINS; i++) {
		doms[2 * i] = "a.img";
		doms[2 * i + 1] = i < HV_MAX_DOMAINS ? "::" : NULL;
	}
	char too_many[64];
	snprintf(too_many, sizeof(too_many), "too many domains: hv runs at most %d", HV_MAX_DOMAINS);
	refused(parse(doms), HV_EXIT_USAGE, too_many);
	doms[2 * HV_MAX_DOMAINS - 1] = NULL;
	CHECK_EQ(parse(doms), 0);
	CHECK_EQ(c.nr_dom, HV_MAX_DOMAINS);
}

static void split(const char *line, int want, const char *const *words)
{
	char buf[256], *w[16], msg[64] = "";
	int n;

	snprintf(buf, sizeof(buf), "%s", line);
	n = cmdline_split(buf, w, 16, msg, sizeof(msg));
	if (!CHECK_EQ(n, want)) {
		fprintf(stderr, "    line \"%s\": %s\n", line, msg);
		return;
	}
	for (int i = 0; i < n; i++)
		CHECK_STR_EQ(w[i], words[i]);
}

#define SPLIT(line, ...) split(line, sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *), \
			       (const char *const[]){ __VA_ARGS__ })

static void test_split(void)
{
	char buf[64], *w[4], msg[64];

	SPLIT("a b  c", "a", "b", "c");
	SPLIT("  \ta\t", "a");
	SPLIT("\"two words\" x", "two words", "x");
	SPLIT("\"\" x \"\"", "", "x", "");
	SPLIT("a\"b c\"d", "ab cd");
	SPLIT("'single' \"it's\"", "'single'", "it's");
	SPLIT("\"  \"", "  ");
	split("", 0, NULL);
	split("   \t ", 0, NULL);
	strcpy(buf, "a \"b c");
	CHECK_EQ(cmdline_split(buf, w, 4, msg, sizeof(msg)), -1);
	CHECK_STR_CONTAINS(msg, "a double quote is not closed");
	strcpy(buf, "a b c d e");
	CHECK_EQ(cmdline_split(buf, w, 4, msg, sizeof(msg)), -1);
	CHECK_STR_CONTAINS(msg, "more than 4 words");
}

/* A config file with these lines, in a fresh temporary file. */
static const char *config(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_cmdline.XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_config(void)
{
	char opt[96];
	const char *path = config("# comment\n\n   # indented comment\n"
				  "--name=first a.img \"two words\" \"\" x\r\n"
				  "\t--mem=16M --stats b.img\n");

	snprintf(opt, sizeof(opt), "--config=%s", path);
	CHECK_EQ(PARSE("c.img", "::", opt, "d.img", "y"), 0);
	CHECK_EQ(c.nr_dom, 4);
	CHECK(c.stats);
	CHECK_STR_EQ(c.dom[0].name, "first");
	CHECK_EQ(c.dom[0].argc, 4);
	CHECK_STR_EQ(c.dom[0].argv[1], "two words");
	CHECK_STR_EQ(c.dom[0].argv[2], "");
	CHECK_STR_EQ(c.dom[0].argv[3], "x");
	CHECK_EQ(c.dom[1].mem, 16ull << 20);
	CHECK_STR_EQ(c.dom[1].argv[0], "b.img");
	CHECK_STR_EQ(c.dom[2].argv[0], "c.img");
	CHECK_STR_EQ(c.dom[3].argv[0], "d.img");
	CHECK_STR_EQ(c.dom[3].argv[1], "y");
	/* The option's value as the next word, and the file alone. */
	CHECK_EQ(PARSE("--config", path), 0);
	CHECK_EQ(c.nr_dom, 2);
	unlink(path);

	refused(PARSE("--config=/nonexistent/x.conf"), HV_EXIT_NOINPUT,
		"--config=/nonexistent/x.conf: No such file or directory");
	path = config("a.img\nb.img \"open\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	refused(PARSE(opt), HV_EXIT_USAGE, ":2: a double quote is not closed");
	unlink(path);
	path = config("--stats\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	refused(PARSE(opt), HV_EXIT_USAGE, ":1: no image given");
	unlink(path);
	path = config("--config=x a.img\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	refused(PARSE(opt), HV_EXIT_USAGE, ":1: --config is not allowed in a config file");
	unlink(path);
	path = config("--help\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	refused(PARSE(opt), HV_EXIT_USAGE, ":1: --help is not allowed in a config file");
	unlink(path);
	path = config("a.img ::\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	refused(PARSE(opt), HV_EXIT_USAGE, ":1: '::' in a config file: it has one domain a line");
	unlink(path);
	path = config("--mem=3 a.img\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	refused(PARSE(opt), HV_EXIT_USAGE, ":1: --mem=3: must be a non-zero multiple of 4K");
	unlink(path);
	path = config("--name=same a.img\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	refused(PARSE(opt, "--name=same", "b.img"), HV_EXIT_USAGE, "domains 1 and 2 have the same name");
	unlink(path);
}

/* --trace alone is stderr, --trace=FILE a file; never the next word; one destination. */
static void test_trace(void)
{
	char opt[96];
	const char *path;

	CHECK_EQ(PARSE("a.img"), 0);
	CHECK(!c.trace);
	CHECK_EQ(PARSE("--trace", "a.img"), 0);
	CHECK(c.trace);
	CHECK(c.trace_file == NULL);
	CHECK_STR_EQ(c.dom[0].argv[0], "a.img");
	CHECK_EQ(PARSE("a.img", "::", "--trace=t.log", "b.img"), 0);
	CHECK(c.trace);
	CHECK_STR_EQ(c.trace_file, "t.log");
	CHECK_EQ(c.nr_dom, 2);
	CHECK_EQ(PARSE("--tr=t.log", "--trace=t.log", "a.img"), 0);
	CHECK_STR_EQ(c.trace_file, "t.log");
	CHECK_EQ(PARSE("--trace", "--trace", "a.img"), 0);
	refused(PARSE("--trace=", "a.img"), HV_EXIT_USAGE, "--trace=: no file named");
	refused(PARSE("--trace", "--trace=t.log", "a.img"), HV_EXIT_USAGE,
		"--trace=t.log: the trace already goes to stderr");
	refused(PARSE("--trace=a.log", "--trace", "a.img"), HV_EXIT_USAGE,
		"--trace: the trace already goes to a.log");
	refused(PARSE("--trace=a.log", "--trace=b.log", "a.img"), HV_EXIT_USAGE,
		"--trace=b.log: the trace already goes to a.log");
	/* A config file may say it, like --stats. */
	path = config("--trace=c.log a.img\n");
	snprintf(opt, sizeof(opt), "--config=%s", path);
	CHECK_EQ(PARSE(opt), 0);
	CHECK_STR_EQ(c.trace_file, "c.log");
	refused(PARSE("--trace", opt), HV_EXIT_USAGE, ":1: --trace=c.log: the trace already goes to stderr");
	unlink(path);
}

/* --cpus: lists and ranges into a set, counted once each; what is not a list refused. */
static void test_cpus(void)
{
	struct hv_cpus set;

	CHECK_EQ(PARSE("--cpus=0,2-4,3", "img"), 0);
	CHECK_EQ(c.dom[0].cpus.count, 4);
	CHECK_EQ(c.dom[0].cpus.bits[0], 0x1dull);
	CHECK_STR_EQ(c.dom[0].cpus.arg, "0,2-4,3");
	CHECK_EQ(PARSE("--cpus=1", "a", "::", "b"), 0);
	CHECK_EQ(c.dom[0].cpus.count, 1);
	CHECK_EQ(c.dom[1].cpus.count, 0); /* a domain's option, not a global one */
	CHECK_EQ(parse_cpus("1023", &set), 0);
	CHECK_EQ(set.bits[15], 1ull << 63);
	CHECK_EQ(parse_cpus("64-65", &set), 0);
	CHECK_EQ(set.bits[1], 3ull);
	CHECK_EQ(parse_cpus("1024", &set), -ERANGE);
	CHECK_EQ(parse_cpus("0-99999999999", &set), -ERANGE);
	static const char *const bad[] = { "", ",", "0,", ",0", "1-", "-1", "3-2", "0x1", "a", "1 2",
					   "1--2", "0-1-2" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(parse_cpus(bad[i], &set), -EINVAL);
	refused(PARSE("--cpus=2-1", "img"), HV_EXIT_USAGE, "--cpus=2-1: not a CPU list");
	refused(PARSE("--cpus=4096", "img"), HV_EXIT_USAGE, "--cpus=4096: CPU numbers go up to 1023");
	refused(PARSE("--cpus", "img"), HV_EXIT_USAGE, "--cpus=img: not a CPU list");
}

int main(void)
{
	test_one_domain();
	test_domains();
	test_backend();
	test_trace();
	test_cpus();
	test_help_version();
	test_refusals();
	test_split();
	test_config();
	cmdline_free(&c);
	return check_finish("test_cmdline");
}
