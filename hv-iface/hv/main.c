/* SPDX-License-Identifier: MIT */
/* hv: load a unikernel image into a new VM on /dev/kvm and run it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv.h"
#include "virtio_dev.h"

static const char usage[] =
	"Usage: hv [OPTIONS] IMAGE [ARGS...]\n"
	"Run the unikernel IMAGE in a new VM on /dev/kvm. The guest's argv is IMAGE ARGS...\n"
	"\n"
	"Options:\n"
	"  --mem=SIZE   guest RAM: bytes, or with a K, M or G suffix (default 32M, at most 3G)\n"
	"  --disk=FILE[,ro]\n"
	"               a virtio-blk disk backed by FILE, whose size must be a multiple of\n"
	"               512 bytes; ro: read-only\n"
	"  --net=TAP[,mac=xx:xx:xx:xx:xx:xx]\n"
	"               a virtio-net NIC on the existing tap device TAP (make one with\n"
	"               ip tuntap add TAP mode tap); the MAC defaults to one derived from TAP\n"
	"               --disk and --net repeat; a VM has at most 16 devices, numbered in\n"
	"               the order given\n"
	"  --stats      at exit, print the exits by kind, where the time went (guest, hv,\n"
	"               blocked) and what each device did to stderr\n"
	"  --version    print hv's version and the ABI version it speaks\n"
	"  -h, --help   print this help\n"
	"\n"
	"Exit status: the guest's own exit status (0-255) when it exits, otherwise\n"
	"   64  bad command line (unknown option, bad --mem, --mem too small, bad --disk or\n"
	"       --net syntax, too many devices)\n"
	"   65  image rejected (not ELF64 x86-64, bad segments or entry, no or wrong ABI note)\n"
	"   66  image or disk file missing, unreadable or unusable (a disk's size not a\n"
	"       multiple of 512, a disk in use by another process)\n"
	"   69  /dev/kvm or a tap missing, not permitted or unusable\n"
	"   71  a host system call failed\n"
	"   80  the guest took a CPU exception (null pointer, divide error, stack overflow...)\n"
	"   81  the guest broke the ABI (unknown hypercall, bad argument or pointer)\n"
	"   82  the guest triple-faulted or made an exit hv cannot serve\n"
	"  128+N hv was stopped by signal N (SIGINT, SIGTERM, SIGHUP): the VM is ended cleanly\n"
	"        and --stats are still printed\n"
	"A guest exiting with one of these numbers looks like hv's own error; appliances\n"
	"keep to 0-63 to stay distinguishable.\n";

/* A --disk or --net argument, in command-line order: device i gets window i. */
struct device_opt {
	int (*add)(struct hv_vm *vm, const char *arg);
	const char *arg;
};

struct options {
	uint64_t mem;
	const char *mem_arg;
	int stats;
	struct device_opt dev[HV_MAX_DEVICES];
	unsigned nr_dev;
	const char *image;
	int argc; /* the guest's argv: the image path, then ARGS */
	char **argv;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_MEM = 256, OPT_DISK, OPT_NET, OPT_STATS, OPT_VERSION };
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->mem = HV_MEM_DEFAULT;
	opterr = 0;
	/* "+": options end at IMAGE; what follows belongs to the guest. */
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MEM:
			o->mem_arg = optarg;
			if (parse_size(optarg, &o->mem)) {
				fprintf(stderr, "hv: --mem=%s: not a size (try 64M or 1G)\n", optarg);
				return HV_EXIT_USAGE;
			}
			break;
		case OPT_DISK:
		case OPT_NET:
			if (o->nr_dev == HV_MAX_DEVICES) {
				fprintf(stderr, "hv: too many devices: a VM has at most %d (--disk and "
						"--net together)\n", HV_MAX_DEVICES);
				return HV_EXIT_USAGE;
			}
			o->dev[o->nr_dev++] = (struct device_opt){
				c == OPT_DISK ? virtio_blk_add : virtio_net_add, optarg };
			break;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_VERSION:
			printf("hv 0.1, guest ABI version %d\n", HV_ABI_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case ':':
			fprintf(stderr, "hv: option '%s' needs a value (see hv --help)\n",
				argv[optind - 1]);
			return HV_EXIT_USAGE;
		default:
			fprintf(stderr, "hv: unknown option '%s' (see hv --help)\n", argv[optind - 1]);
			return HV_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "hv: no image given (see hv --help)\n");
		return HV_EXIT_USAGE;
	}
	if (o->mem % HV_PAGE_SIZE || o->mem == 0) {
		fprintf(stderr, "hv: --mem=%s: must be a non-zero multiple of 4K\n", o->mem_arg);
		return HV_EXIT_USAGE;
	}
	if (o->mem > HV_MEM_MAX) {
		fprintf(stderr, "hv: --mem=%s: too large, hv gives a guest at most 3G\n", o->mem_arg);
		return HV_EXIT_USAGE;
	}
	o->image = argv[optind];
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

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

volatile int hv_stop_signal;
static struct kvm_run *volatile stop_run;
static volatile int stop_wake_fd = -1;
static sigset_t stop_set;

/*
 * The handler also makes a KVM_RUN that starts after it return at once
 * (immediate_exit), and a block that starts after it wake at once (the
 * eventfd stays readable).
 */
static void on_stop_signal(int sig)
{
	uint64_t one = 1;

	hv_stop_signal = sig;
	if (stop_run)
		stop_run->immediate_exit = 1;
	if (stop_wake_fd >= 0)
		(void)!write(stop_wake_fd, &one, sizeof(one));
}

/*
 * Catch the stop signals, but keep them blocked until the vCPU thread runs:
 * device threads started meanwhile inherit the mask, so the signal always
 * interrupts the vCPU thread (its KVM_RUN or its block), never a device.
 */
void hv_catch_stop_signals(struct hv_vm *vm)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART: EINTR */

	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	stop_run = vm->run;
	stop_wake_fd = vm->wake_fd;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void hv_unblock_stop_signals(void)
{
	pthread_sigmask(SIG_UNBLOCK, &stop_set, NULL);
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct hv_image image;
	struct hv_vm vm = { 0 };
	int kvm_fd, rc;

	rc = parse_options(argc, argv, &opt);
	if (rc)
		return rc;
	/* Deadlines of the block hypercall should not be rounded up by 50 us of slack. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	/* A closed stdout is the guest's console error, not a reason for hv to die. */
	signal(SIGPIPE, SIG_IGN);

	rc = open_image(opt.image, &image);
	if (rc)
		return rc;
	vm.name = opt.image;
	for (unsigned i = 0; i < opt.nr_dev && !rc; i++)
		rc = opt.dev[i].add(&vm, opt.dev[i].arg);
	if (rc)
		return rc;
	kvm_fd = kvm_open();
	if (kvm_fd < 0)
		return HV_EXIT_UNAVAILABLE;

	rc = vm_create(&vm, kvm_fd, opt.mem);
	if (!rc)
		rc = vm_load(&vm, &image, opt.argc, opt.argv);
	if (!rc) {
		hv_catch_stop_signals(&vm);
		rc = vm_run(&vm);
	}
	if (opt.stats && vm.stats.ns_end)
		stats_print(&vm);
	vm_destroy(&vm);
	return rc;
}
