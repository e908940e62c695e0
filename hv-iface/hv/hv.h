/* SPDX-License-Identifier: MIT */
/* The hypervisor core's shared declarations: its domains (VMs), their layout, tunables and exit codes. */
#ifndef HV_H
#define HV_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"
#include "symbols.h"

/* Tunables, in one place. */
#define HV_MEM_DEFAULT (32ull << 20)   /* guest RAM when --mem is not given */
#define HV_MEM_MAX (3ull << 30)        /* RAM stays below the device windows at 3 GiB */
#define HV_STACK_SIZE (1ull << 20)     /* the guest's main stack, at the top of RAM */
#define HV_STACK_GUARD (64ull << 10)   /* unmapped below the stack: large frames can't skip it */
#define HV_STACK_PREFAULT (64ull << 10) /* top of the stack allocated before the guest runs */
#define HV_HEAP_MIN (1ull << 20)       /* RAM the image must leave free for its heap */
#define HV_ARGS_MAX (3 * HV_PAGE_SIZE) /* bytes of guest argument strings, NULs included */
#define HV_BACKTRACE_MAX 16            /* frames printed after a guest fault */
#define HV_VIRTQ_SIZE_MAX 256          /* QueueNumMax of every device queue, in entries */
#define HV_DEVICE_POLL_NS 50000      /* a device thread watches an emptied queue this long */
#define HV_BAD_ACCESS_REPORTS 8        /* a device's bad register accesses reported, then quiet */
#define HV_NAME_MAX 64                 /* characters of a domain's --name */
#define HV_CONSOLE_DEFAULT (64ull << 20) /* console bytes a domain may write (--console-max) */
#define HV_STORE_KEYS_PER_DOMAIN 256   /* keys a domain may have in the store */
#define HV_RING_DROP_REPORTS 4         /* ports dropped from a send ring reported, then counted */
#define HV_GRANT_WINDOW 0xd0000000ull  /* where a domain's grant maps land: guest-physical ... */
#define HV_GRANT_WINDOW_SIZE (64ull << 20) /* ... one page per map */
#define HV_SEND_DOORBELL 0xc00ff000ull /* the send ring's doorbell register: no memory behind it */

/*
 * hv's own area in guest-physical memory, below HV_IMAGE_BASE. Page 0 is
 * never mapped. Everything up to HV_L_BOOT_INFO is supervisor-only; the
 * boot info and argument strings are readable by the guest, the shared-info
 * page and the send ring writable.
 */
#define HV_L_GDT 0x1000ull
#define HV_L_IDT 0x2000ull
#define HV_L_TSS 0x3000ull        /* TSS, then its 8 KiB I/O bitmap: 3 pages */
#define HV_L_STUBS 0x6000ull      /* ring-0 fault stubs */
#define HV_L_FSTACK 0x7000ull     /* ring-0 stack for the stubs, 4 pages */
#define HV_L_FSTACK_TOP 0xb000ull
#define HV_L_PT_POOL 0xb000ull    /* page-table pages */
#define HV_L_SEND_RING 0xfa000ull /* struct hv_send_ring, guest read-write; ends the pool */
#define HV_L_BOOT_INFO 0xfb000ull /* struct hv_boot_info */
#define HV_L_ARGS 0xfc000ull      /* argument strings, HV_ARGS_MAX bytes */
#define HV_L_SHARED 0xff000ull    /* struct hv_shared_info */

/* The pages of that area area.c watches: all but the fault stack, the send ring, shared info. */
#define HV_AREA_PAGES ((HV_L_FSTACK - HV_L_GDT + HV_L_SEND_RING - HV_L_PT_POOL + \
			HV_L_SHARED - HV_L_BOOT_INFO) / HV_PAGE_SIZE)

/* The I/O port through which the ring-0 fault stubs report; closed to ring 3. */
#define HV_FAULT_PORT 0x4f0u

/* hv's exit status when it does not return a guest's own status. */
enum hv_exit_code {
	HV_EXIT_USAGE = 64,       /* bad command line */
	HV_EXIT_IMAGE = 65,       /* image rejected by the loader */
	HV_EXIT_NOINPUT = 66,     /* image or disk file missing, unreadable or unusable */
	HV_EXIT_UNAVAILABLE = 69, /* the backend or a tap missing, not permitted, or unusable */
	HV_EXIT_SOFTWARE = 70,    /* a bug in hv found by its own checks (area.c) */
	HV_EXIT_OSERR = 71,       /* a host call failed */
	HV_EXIT_CANTCREAT = 73,   /* the --trace file cannot be created */
	HV_EXIT_GUEST_FAULT = 80, /* the guest took a CPU exception */
	HV_EXIT_GUEST_ABI = 81,   /* bad hypercall, argument or pointer */
	HV_EXIT_GUEST_CRASH = 82, /* triple fault or an exit hv cannot serve */
};

/* Exit kinds counted by --stats. */
enum hv_exit_kind {
	HV_EXITK_HYPERCALL,
	HV_EXITK_FAULT,
	HV_EXITK_MMIO,
	HV_EXITK_INTR,
	HV_EXITK_SHUTDOWN,
	HV_EXITK_OTHER,
	HV_EXITK_COUNT
};

struct hv_stats {
	uint64_t exits[HV_EXITK_COUNT];
	uint64_t calls[HV_CALL_COUNT];
	uint64_t ns_start;   /* when the VM was created */
	uint64_t ns_guest;   /* in the backend's run (KVM_RUN, or the child process running) */
	uint64_t ns_blocked; /* in the block hypercall, waiting */
	uint64_t ns_end;
	/* Paravirtual operations (the send ring counts its own, send_ring.c). */
	uint64_t evtchn_sends;    /* EVTCHNOP_SEND delivered */
	uint64_t grant_maps, grant_unmaps, grant_copies, grant_refused;
	uint64_t ns_grant_slots;  /* in the backend's calls that map and unmap grants */
};

struct hv_backend;
struct virtio_dev;
struct evtchn_ports;
struct evtchn_domains;
struct gnttab;
struct send_ring;
struct store;

/*
 * The hv process: its domains and what they share. lock serialises the
 * cross-domain state (every port table, the grant pins of every table, a
 * domain's gone flag); nothing slow runs under it (no system call but a
 * wake-up write, no grant map in the backend).
 */
struct hv_host {
	pthread_mutex_t lock;
	struct evtchn_domains *evtchn;
	struct store *store;
	struct hv_vm *dom[HV_MAX_DOMAINS + 1]; /* by domain id, 1 to nr_doms */
	unsigned nr_doms;
	int ended_fd; /* eventfd each vCPU thread writes as its domain ends */
	int signal_fd; /* the stop signals, read by the main thread */
	const struct hv_backend *sandbox; /* enter the sandbox for this backend; NULL: do not */
};

struct hv_image {
	const char *path;
	const uint8_t *data; /* the whole file, mapped read-only */
	size_t size;
};

/* --cpus: the host CPUs a domain runs on (its vCPU thread, device threads, guest process). */
#define HV_CPUS_MAX 1024
struct hv_cpus {
	uint64_t bits[HV_CPUS_MAX / 64]; /* CPU n is bit n % 64 of word n / 64 */
	unsigned count;                  /* 0: not given, anywhere hv itself may run */
	const char *arg;                 /* as given, for messages */
};

/* One domain: a VM with its own memory, vCPU thread, devices, event channels and grants. */
struct hv_vm {
	const char *name;  /* for messages: --name, else the image path */
	const char *label; /* in the store and the summary: --name, else the image's file name */
	struct hv_host *host;
	domid_t domid;
	struct hv_image image;

	const struct hv_backend *be; /* how the guest runs: backend.h */
	void *be_vm;                 /* the backend's own state of this domain */
	int wake_fd;           /* eventfd that ends a block hypercall early */
	unsigned wake_sources; /* things that can wake a block with no deadline; atomic */
	bool blocked;          /* in the block hypercall; atomic, see evtchn.c for the protocol */
	bool linux_calls;      /* the guest may kick and block by Linux calls (HV_BOOT_LINUX_CALLS) */

	uint8_t *mem; /* guest RAM [0, mem_size), host mapping */
	uint64_t mem_size;

	/* Layout decided at load time. */
	uint64_t entry;
	uint64_t image_lo, image_hi;
	uint64_t heap_lo, heap_hi;
	uint64_t stack_lo, stack_hi;

	uint64_t tsc_hz;
	uint64_t tsc_base;
	uint64_t ns_mul; /* guest ns = (tsc ticks * ns_mul) >> 32 */

	struct virtio_dev *devices[HV_MAX_DEVICES]; /* device i is in window i */
	unsigned nr_devices;

	struct symbols syms; /* read from the image at the first fault */
	bool syms_loaded;

	struct evtchn_ports *ports; /* host lock */
	struct send_ring *ring;
	struct gnttab *gnt;
	/*
	 * NULL, or (gnttab.c) where a device may reach [gpa, gpa + len) of the
	 * grant window: the granter's page behind a map there (writable only if
	 * the map is), or NULL. Device threads call it with their device's lock
	 * held; an unmap waits for every device lock before the page goes back.
	 */
	void *(*grant_dma)(struct hv_vm *vm, uint64_t gpa, uint64_t len, bool write);
	bool gone; /* ended, out of the cross-domain tables; host lock */

	pthread_t thread; /* the vCPU thread, once thread_running */
	bool thread_running;
	bool end_claimed; /* atomic: the first to end the VM (vm_fail, exit) sets it */
	bool ended;       /* atomic: the run loop stops; status is final */
	bool exited;      /* ended by the guest's exit call (not by hv) */
	int status;       /* hv's exit status for this VM once ended */
	struct hv_stats stats;
	uint64_t console_max;     /* --console-max: bytes it may write to hv's stdout */
	struct hv_cpus cpus;      /* --cpus: where its threads and guest process run; or none */
	uint64_t console_written; /* vCPU thread only */
	uint64_t console_dropped;
	struct gdb *gdb; /* --gdb: the debugger's connection (gdb.c), or NULL */
	uint64_t area_digest[HV_AREA_PAGES]; /* area.c: hv's own pages as the guest first saw them */
};

/*
 * SIGINT, SIGTERM or SIGHUP received (0 if none; atomic): every domain ends
 * with 128 + the signal, devices stopped and --stats printed, like a
 * process a shell kills.
 */
extern int hv_stop_signal;
void vm_stop_by_signal(struct hv_vm *vm);

/*
 * host.c: the process's domains. host_init() blocks the stop signals in
 * every thread to come (the main thread reads them from a signal fd) and
 * installs the kick signal; host_run() runs each domain's vCPU thread until
 * all have ended, ending them all at a stop signal; a domain that ends
 * leaves the cross-domain tables (its ports closed, its grant maps undone)
 * but keeps its memory until host_destroy(), since other domains' slots may
 * alias it.
 */
int host_init(struct hv_host *h); /* 0 or an hv_exit_code */
int host_add(struct hv_host *h, struct hv_vm *vm); /* gives vm its id; 0 or an hv_exit_code */
/* Whether hv may run on every CPU of a --cpus list: 0, or an hv_exit_code with a message in err. */
int host_check_cpus(const struct hv_cpus *cpus, char *err, size_t len);
void host_run(struct hv_host *h);
/* The name of x86-64 system call nr, or NULL for one hv does not know (fault.c). */
const char *hv_syscall_name(uint64_t nr);
void host_destroy(struct hv_host *h);
/* Host lock held: the domain with this id, or NULL when there is none or it ended. */
struct hv_vm *host_domain(struct hv_host *h, domid_t id);
/* Make the vCPU leave the guest or its block at once (any thread). */
void vm_kick(struct hv_vm *vm);

/* vm.c: create, load, enter, run, destroy one VM. Each returns 0 or an hv_exit_code. */
int vm_create(struct hv_vm *vm, const struct hv_backend *be, uint64_t mem_size);
int vm_load(struct hv_vm *vm, const struct hv_image *img, int argc, char **argv);
int vm_run(struct hv_vm *vm);
/* The guest's start, before the sandbox: its backend's (a proc child spawned) and its devices'. */
void vm_run_start(struct hv_vm *vm);
/* The guest's clock starts now (boot info's tsc_hz and tsc_base): just before it first runs. */
void vm_start_clock(struct hv_vm *vm);
void vm_destroy(struct hv_vm *vm);

/*
 * area.c: area_seal() records hv's own pages of the domain's memory just
 * before its first instruction; area_check(), once the guest and its
 * devices stopped, says which changed (0, or -1 with a message naming the
 * page): a bug in hv, since nothing the guest may do writes there.
 */
void area_seal(struct hv_vm *vm);
int area_check(struct hv_vm *vm);

/*
 * End the VM with an hv exit code and a one-line message naming what the
 * guest did. The run loop stops at its next turn; nothing else in hv stops.
 * From any thread: the first end (this, or the guest's exit) wins, and a
 * vCPU in the guest is kicked out.
 */
void vm_fail(struct hv_vm *vm, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Checked access to guest memory: the host address of [gpa, gpa + len), or
 * NULL when any of it lies outside what the guest may name. Reads may cover
 * the boot info and everything above it; writes only the shared-info page
 * and above. Never trust a guest value before it went through here. Inline,
 * because device threads call them for every descriptor, and so that pure
 * code using them (virtq_dev.c) builds on the host without vm.c.
 */
static inline void *vm_guest_read(struct hv_vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa < HV_L_BOOT_INFO || gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

static inline void *vm_guest_write(struct hv_vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa < HV_L_SHARED)
		return NULL;
	return vm_guest_read(vm, gpa, len);
}

/* The guest's monotonic clock, in ns, read now on the host. */
uint64_t vm_guest_now(const struct hv_vm *vm);

/* Whether the VM has ended (the run loop's test). */
static inline bool vm_ended(const struct hv_vm *vm)
{
	return __atomic_load_n(&vm->ended, __ATOMIC_SEQ_CST);
}

/* hypercall.c */
void hypercall_dispatch(struct hv_vm *vm, unsigned call, uint32_t gpa);
extern const char *const hypercall_names[HV_CALL_COUNT];

/* The paravirtual calls, each in its own file: served on the vCPU thread. */
void evtchn_op(struct hv_vm *vm, void *arg); /* struct hv_evtchn_op */
void gnttab_op(struct hv_vm *vm, void *arg); /* struct hv_gnttab_op */
void store_op(struct hv_vm *vm, void *arg);  /* struct hv_store_op */

/*
 * evtchn.c: set event-channel port pending in the VM's shared-info page
 * (Xen's 2-level rules) and wake the vCPU if it sleeps in the block
 * hypercall. Safe from any thread. Says what it did, for the stats.
 */
enum evtchn_result {
	EVTCHN_WAS_PENDING, /* already pending: nothing changed */
	EVTCHN_SET,         /* now pending (and, if unmasked, the upcall flag set) */
	EVTCHN_SET_WOKE,    /* ... and the vCPU was blocked, so its wake eventfd was written */
};
enum evtchn_result evtchn_set_pending(struct hv_vm *vm, uint32_t port);

/*
 * virtio_dev.c: the eventfd that kicks queue q of device dev (where a write
 * to its QueueNotify lands), -1 when there is no such queue.
 */
int vm_kick_fd(const struct hv_vm *vm, unsigned dev, unsigned q);

/*
 * evtchn.c: the domain's port table (its device ports bound), and its
 * removal when the domain ends (every port closed: peers' ends unbound).
 * Each returns 0 or an hv_exit_code / nothing.
 */
int evtchn_domain_init(struct hv_vm *vm);
void evtchn_domain_end(struct hv_vm *vm);
void evtchn_domain_free(struct hv_vm *vm);
/* The vCPU's block ended at its deadline: HV_VIRQ_TIMER's port, if bound, goes pending. */
void evtchn_timer_fired(struct hv_vm *vm);
/* Whether a peer could send to the domain (a block with no deadline can end). */
bool evtchn_may_wake(const struct hv_vm *vm);
/*
 * Lock not held: deliver a send on the sender's port. 0, or -EINVAL when
 * it is not an interdomain port of the sender. Counts wake-ups in *woke.
 */
int evtchn_deliver(struct hv_vm *from, uint32_t port, bool *woke);

/*
 * send_ring.c: the domain's send ring and its doorbell (an ioeventfd
 * served by a thread of its own, both from the first doorbell on). init
 * before the first entry (0 or an hv_exit_code); stop when the domain ends
 * (the thread joined, the entries left delivered).
 */
int send_ring_init(struct hv_vm *vm);
void send_ring_stop(struct hv_vm *vm);
/* vCPU thread, before it blocks: deliver the ring's entries now. */
void send_ring_flush(struct hv_vm *vm);
void send_ring_free(struct hv_vm *vm);
/* vCPU thread: an access to the doorbell that exited (the first, another size, or no ioeventfd). */
void send_ring_mmio(struct hv_vm *vm, bool is_write, uint8_t *data, unsigned len);
void send_ring_stats_print(const struct hv_vm *vm);

/*
 * gnttab.c: the domain's grant state; the guest's exit on a grant-window
 * page (a write to a read-only map, or no map there); undoing its maps
 * when it ends. 0 or an hv_exit_code.
 */
int gnttab_domain_init(struct hv_vm *vm);
void gnttab_domain_end(struct hv_vm *vm);
void gnttab_domain_free(struct hv_vm *vm);
void gnttab_mmio(struct hv_vm *vm, uint64_t gpa, bool is_write, unsigned len);

/* fault.c: end the VM with the report of a fault, a triple fault or a refused system call. */
struct hv_fault;
void fault_report(struct hv_vm *vm, const struct hv_fault *f);
void fault_shutdown(struct hv_vm *vm, const struct hv_fault *f);
void fault_syscall(struct hv_vm *vm, const struct hv_fault *f);

/* stats.c */
uint64_t hv_now_ns(void);
void stats_print(const struct hv_vm *vm);
/* The summary line of a domain among several: "exited with 0", "ended: guest fault (80)". */
void stats_print_end(const struct hv_vm *vm);
/* What ended a domain, in a few words, by hv's exit code ("ABI violation"); buf for a signal's. */
const char *stats_end_reason(int status, char *buf, size_t len);

/*
 * options.c: parse "4096", "512K", "32M", "1G" (binary units, either case)
 * into bytes. Returns 0 and sets *out, -EINVAL for anything else, -ERANGE
 * when the value does not fit 64 bits; *out is untouched on error.
 */
int parse_size(const char *s, uint64_t *out);
/* The shortest exact form: "32M" for 32 MiB, plain bytes when no unit divides it. */
void format_size(uint64_t bytes, char *buf, size_t len);

static inline uint64_t hv_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif /* HV_H */
