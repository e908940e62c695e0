/* SPDX-License-Identifier: MIT */
/* hv: load unikernel images into new VMs (domains), on /dev/kvm or as confined processes, and run them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "cmdline.h"
#include "gdb.h"
#include "hv.h"
#include "sandbox.h"
#include "store.h"
#include "trace.h"
#include "virtio_dev.h"

static const char usage[] =
	"Usage: hv [OPTIONS] IMAGE [ARGS...] [:: [OPTIONS] IMAGE [ARGS...]]...\n"
	"Run the unikernel IMAGE in a new VM. The guest's argv is IMAGE ARGS...\n"
	"Several domains (VMs) run in one hv when '::' separates them, or from --config;\n"
	"they get domain ids 1, 2, ... in order and reach each other through event\n"
	"channels, grants and the store.\n"
	"\n"
	"Options of a domain:\n"
	"  --mem=SIZE   guest RAM: bytes, or with a K, M or G suffix (default 32M, at most 3G)\n"
	"  --disk=FILE[,ro]\n"
	"               a virtio-blk disk backed by FILE, whose size must be a multiple of\n"
	"               512 bytes; ro: read-only\n"
	"  --net=TAP[,mac=xx:xx:xx:xx:xx:xx][,offload=off]\n"
	"               a virtio-net NIC on the existing tap device TAP (make one with\n"
	"               ip tuntap add TAP mode tap); the MAC defaults to one derived from TAP.\n"
	"               It offers checksum and TCP segmentation offloads both ways and\n"
	"               mergeable receive buffers; offload=off offers none of them\n"
	"  --net=switch:NAME[,mac=xx:xx:xx:xx:xx:xx][,offload=off]\n"
	"               a virtio-net NIC on hv's own Ethernet switch NAME (1 to 31 letters,\n"
	"               digits, _ or -), made at its first use: NICs on one switch reach each\n"
	"               other with no tap; the MAC defaults to one derived from NAME and the\n"
	"               NIC's port number on it. Checksums may travel partial between NICs\n"
	"               (completed by hv for one that does not take them); offload=off: not\n"
	"               --disk and --net repeat; a VM has at most 16 devices, numbered in\n"
	"               the order given\n"
	"  --name=NAME  the domain's name in messages and in the store (default: the image's\n"
	"               path in messages, its file name in the store)\n"
	"  --cpus=LIST  run the domain on these host CPUs only (0, 2-3, 0,2-5): its vCPU\n"
	"               thread, its devices' threads and, on proc, the guest's process. One\n"
	"               CPU for a domain keeps its hand-offs (a device thread waking the vCPU,\n"
	"               a kick) off the other CPUs, where a cross-CPU wake-up is dear\n"
	"  --gdb=PORT   wait for gdb on 127.0.0.1:PORT (0: a free port, printed) before the\n"
	"               domain's first instruction, then serve it: registers, memory, software\n"
	"               breakpoints, step, continue, Ctrl-C; in gdb: target remote :PORT\n"
	"Global options (before or among any domain's options):\n"
	"  --config=FILE\n"
	"               run the domains FILE lists, before those of the command line: one\n"
	"               domain per line, as on the command line ([OPTIONS] IMAGE [ARGS...]);\n"
	"               words split at blanks, double quotes group blanks into a word (no\n"
	"               escapes), blank lines and lines starting with # are skipped;\n"
	"               relative paths are relative to hv's working directory. Example:\n"
	"                   # a ping-pong pair\n"
	"                   --name=pong build/apps/pingpong.img pong\n"
	"                   --name=ping --mem=16M build/apps/pingpong.img ping \"two words\"\n"
	"  --backend=kvm|proc|auto\n"
	"               how every domain runs: kvm, a VM on /dev/kvm; proc, a child process\n"
	"               of hv that holds only the guest's memory, confined by a seccomp\n"
	"               filter, its traps served by hv through ptrace (no /dev/kvm needed);\n"
	"               auto (the default), kvm where /dev/kvm is usable, else proc. The\n"
	"               environment variable HV_BACKEND gives the default instead\n"
	"  --console-max=SIZE\n"
	"               the most a domain writes to hv's stdout (default 64M, K/M/G suffixes;\n"
	"               0: nothing): a guest that floods its console cannot fill the host's\n"
	"               disk. Beyond it writes are dropped and answer -ENOSPC; hv says so once\n"
	"  --stats      at exit, print for each domain the exits by kind, where the time went\n"
	"               (guest, hv, blocked), event-channel and grant counts, and what each\n"
	"               device did, to stderr, with the backend that ran it\n"
	"  --no-sandbox run without hv's own confinement (for debugging hv): by default, once\n"
	"               its guests are set up, hv drops root (to user nobody) and a seccomp\n"
	"               filter allows only the system calls it needs while they run; any\n"
	"               other ends hv with 71, naming the call. Not allowed in a config file\n"
	"  --no-linux-calls\n"
	"               on proc, guests trap to hv to kick a queue and to block, as on kvm,\n"
	"               instead of making the two Linux system calls proc lets them make\n"
	"               (an eventfd write and a futex wait, a microsecond against a stop of\n"
	"               tens): for measuring what those save, and for --trace to see every\n"
	"               block\n"
	"  --trace, --trace=FILE\n"
	"               one line for each exit of every domain, each hypercall (its\n"
	"               arguments decoded and its result), each device request and\n"
	"               doorbell, to stderr, or to FILE (created or emptied). Each line:\n"
	"               microseconds since hv started, dom<ID>:<NAME>, who (vcpu0, a device,\n"
	"               ring), the kind, its details, and \"-> RESULT\". Allowed in a\n"
	"               config file. Example:\n"
	"                   34300.800us dom1:hello.img vcpu0 hypercall exit status=0 -> exited with 0\n"
	"  --version    print hv's version and the ABI version it speaks\n"
	"  -h, --help   print this help\n"
	"\n"
	"Each domain that ends prints one line if hv ended it (a fault, a broken ABI, a\n"
	"signal); the others keep running, and hv exits when all have ended. With several\n"
	"domains hv then prints one summary line per domain, and its exit status is that of\n"
	"the lowest-numbered domain that did not end with 0 (0 if all did).\n"
	"Exit status: the guest's own exit status (0-255) when it exits, otherwise\n"
	"   64  bad command line or --config file (unknown option, bad --mem, --mem too\n"
	"       small, bad --disk, --net or --name, too many devices or domains, an empty\n"
	"       domain, an unclosed quote)\n"
	"   65  image rejected (not ELF64 x86-64, bad segments or entry, no or wrong ABI note)\n"
	"   66  image, disk or config file missing, unreadable or unusable (a disk's size not a\n"
	"       multiple of 512, a disk in use by another process)\n"
	"   69  the backend (/dev/kvm, or ptrace and seccomp for proc) or a tap missing,\n"
	"       not permitted or unusable\n"
	"   70  a bug in hv, caught by its own check: a page of its own area in a domain's\n"
	"       memory changed while the domain ran (the message names the page)\n"
	"   71  a host system call failed\n"
	"   73  the --trace file cannot be created\n"
	"   80  the guest took a CPU exception (null pointer, divide error, stack overflow...)\n"
	"       or, on proc, made a system call other than its kicks and blocks (on kvm\n"
	"       any system call is #UD)\n"
	"   81  the guest broke the ABI (unknown hypercall, bad argument or pointer)\n"
	"   82  the guest triple-faulted or made an exit hv cannot serve\n"
	"  128+N hv was stopped by signal N (SIGINT, SIGTERM, SIGHUP): every domain is ended\n"
	"        cleanly and --stats are still printed\n"
	"A guest exiting with one of these numbers looks like hv's own error; appliances\n"
	"keep to 0-63 to stay distinguishable.\n";

static int open_image(const char *path, struct hv_image *img)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "hv: %s: %s\n", path, strerror(errno));
		return HV_EXIT_NOINPUT;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "hv: %s: not a regular file\n", path);
		close(fd);
		return HV_EXIT_NOINPUT;
	}
	img->path = path;
	img->size = (size_t)st.st_size;
	img->data = (const uint8_t *)"";
	if (img->size > 0) {
		img->data = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (img->data == MAP_FAILED) {
			fprintf(stderr, "hv: %s: %s\n", path, strerror(errno));
			close(fd);
			return HV_EXIT_NOINPUT;
		}
	}
	close(fd);
	return 0;
}

/* A domain from its command-line options: its image opened, its devices added. */
static int domain_open(struct hv_host *host, const struct cmdline_domain *cd)
{
	struct hv_vm *vm = calloc(1, sizeof(*vm));
	const char *image = cd->argv[0], *slash = strrchr(image, '/');
	int rc;

	if (!vm) {
		fprintf(stderr, "hv: out of memory\n");
		return HV_EXIT_OSERR;
	}
	vm->wake_fd = -1;
	rc = host_add(host, vm);
	if (rc) {
		free(vm);
		return rc;
	}
	vm->name = cd->name ? cd->name : image;
	vm->console_max = cd->console_max;
	vm->cpus = cd->cpus;
	vm->label = cd->name ? cd->name : slash ? slash + 1 : image;
	{
		char err[160];

		rc = host_check_cpus(&vm->cpus, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "hv: %s%s\n", cd->where, err);
			return rc;
		}
	}
	rc = open_image(image, &vm->image);
	for (unsigned i = 0; i < cd->nr_dev && !rc; i++)
		rc = (cd->dev[i].kind == CMDLINE_DISK ? virtio_blk_add
						      : virtio_net_add)(vm, cd->dev[i].arg);
	return rc;
}

/* The domain in its VM: memory, image, boot info, and its event channels, ring and grants. */
static int domain_create(struct hv_host *host, struct hv_vm *vm, const struct hv_backend *be,
			 const struct cmdline_domain *cd)
{
	char key[48];
	int rc;

	rc = vm_create(vm, be, cd->mem);
	if (!rc)
		rc = vm_load(vm, &vm->image, cd->argc, cd->argv);
	if (!rc)
		rc = evtchn_domain_init(vm);
	if (!rc)
		rc = send_ring_init(vm);
	if (!rc)
		rc = gnttab_domain_init(vm);
	if (rc)
		return rc;
	snprintf(key, sizeof(key), "/local/domain/%u/name", vm->domid);
	if (store_write(host->store, STORE_HV, key, vm->label, strlen(vm->label))) {
		vm_fail(vm, HV_EXIT_OSERR, "cannot write %s in the store", key);
		return HV_EXIT_OSERR;
	}
	return 0;
}

/* One domain: its own status. Several: the lowest-numbered that did not end with 0. */
static int exit_status(const struct hv_host *host)
{
	for (unsigned id = 1; id <= host->nr_doms; id++)
		if (host->dom[id]->status != 0)
			return host->dom[id]->status;
	return 0;
}

#ifdef __SANITIZE_ADDRESS__
/*
 * hv-san (make SANITIZE=1): no leak check at exit. LeakSanitizer runs its tracer as a new
 * process, which hv's sandbox refuses (ending hv with 71), as it should.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int main(int argc, char **argv)
{
	static struct cmdline cl;
	struct hv_host host;
	char err[512];
	const struct hv_backend *be = NULL;
	int rc;

	rc = cmdline_parse(argc, argv, &cl, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hv: %s\n", err);
		cmdline_free(&cl);
		return rc;
	}
	if (cl.help || cl.version) {
		if (cl.help) {
			fputs(usage, stdout);
			backend_print_auto(stdout);
		} else
			printf("hv 0.1, guest ABI version %d\n", HV_ABI_VERSION);
		cmdline_free(&cl);
		return 0;
	}
	/* Before any thread, and before the sandbox, which lets hv write the file but not open it. */
	if (cl.trace && (rc = trace_open(cl.trace_file)) != 0) {
		fprintf(stderr, "hv: --trace=%s: %s\n", cl.trace_file, strerror(-rc));
		cmdline_free(&cl);
		return HV_EXIT_CANTCREAT;
	}
	/* Each domain holds a handful of descriptors (eventfds, its disk, tap, memfd): take all
	 * the files the hard limit allows, so many domains meet EMFILE as late as they can. */
	{
		struct rlimit nofile;

		if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
			nofile.rlim_cur = nofile.rlim_max;
			setrlimit(RLIMIT_NOFILE, &nofile);
		}
	}
	/* Deadlines of the block hypercall should not be rounded up by 50 us of slack. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	/* A closed stdout is the guest's console error, not a reason for hv to die. */
	signal(SIGPIPE, SIG_IGN);

	rc = host_init(&host);
	for (unsigned i = 0; i < cl.nr_dom && !rc; i++)
		rc = domain_open(&host, &cl.dom[i]);
	if (!rc)
		rc = backend_choose(cl.backend ? cl.backend : getenv("HV_BACKEND"), &be);
	for (unsigned id = 1; id <= host.nr_doms && !rc; id++) {
		host.dom[id]->linux_calls = be->linux_calls && !cl.no_linux_calls;
		rc = domain_create(&host, host.dom[id], be, &cl.dom[id - 1]);
	}
	for (unsigned id = 1; id <= host.nr_doms && !rc; id++)
		if (cl.dom[id - 1].gdb_port >= 0)
			rc = gdb_attach(host.dom[id], (uint16_t)cl.dom[id - 1].gdb_port);
	if (!rc && !cl.no_sandbox && sandbox_drop_root(err, sizeof(err))) {
		fprintf(stderr, "hv: sandbox: %s (--no-sandbox runs without it)\n", err);
		rc = HV_EXIT_OSERR;
	}
	if (!rc) {
		host.sandbox = cl.no_sandbox ? NULL : be;
		host_run(&host);
		for (unsigned id = 1; id <= host.nr_doms; id++)
			if (cl.stats && host.dom[id]->stats.ns_end)
				stats_print(host.dom[id]);
		if (host.nr_doms > 1)
			for (unsigned id = 1; id <= host.nr_doms; id++)
				stats_print_end(host.dom[id]);
		rc = exit_status(&host);
	}
	host_destroy(&host);
	trace_close();
	cmdline_free(&cl);
	return rc;
}
