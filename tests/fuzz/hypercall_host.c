/* SPDX-License-Identifier: MIT */
/*
 * The host the hypercall target (fuzz_hypercall.c) runs hv's calls in:
 * three domains with memory of their own, and what the linked hv sources
 * need from files that want a real host, stood in for.
 *
 * Guest memory is mapped, not malloc'ed, so that its pages can say who may
 * touch them: a page after its end that nothing may, hv's area below the
 * boot info that nothing may while calls run (no hypercall reaches there),
 * the boot info and arguments read-only. A stray access faults where it
 * happens.
 *
 * A block hypercall never sleeps here, though it polls the domain's wake
 * eventfd as ever: the target writes that eventfd before each block, so the
 * poll returns at once, and the block's second look finds that its clock
 * stands at its deadline (it slept until then) or, with no deadline, that
 * something woke it, as a peer or a device would have. That wake-up comes
 * through gdb_wants_stop, the one thing the block's loop asks about besides
 * an event: a debugger's stop request, which it treats as any wake-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "fuzz.h"
#include "gdb.h"
#include "hypercall_host.h"
#include "sandbox.h"
#include "trace.h"

/* Each domain's RAM above hv's area and its grant window, in pages: all sizes differ. */
static const unsigned ram_pages[NR_DOMS + 1] = { 0, 12, 5, 2 };
static const unsigned window_pages[NR_DOMS + 1] = { 0, 4, 3, 2 };
static const uint64_t console_budgets[4] = { HV_CONSOLE_DEFAULT, 0, 16, 256 };
static const struct virtio_backend fake_device = { .kind = "virtio-fuzz", .nr_queues = 2 };
static const struct hv_backend fuzz_backend;

struct dom doms[NR_DOMS + 1];
struct evtchn_domains evtchn_tables;
struct store store;
struct hv_host host = { .evtchn = &evtchn_tables, .store = &store };

struct dom *dom_of(const struct hv_vm *vm)
{
	FUZZ_CHECK(vm->domid >= 1 && vm->domid <= NR_DOMS);
	return &doms[vm->domid];
}

void hv_area_open(struct dom *d, bool open)
{
	FUZZ_CHECK(mprotect(d->vm.mem, HV_L_BOOT_INFO, open ? PROT_READ : PROT_NONE) == 0);
}

void drain_wake(struct dom *d)
{
	uint64_t count;

	(void)!read(d->vm.wake_fd, &count, sizeof(count));
}

/* hv's tables (a pattern here: a stray write shows), boot info, arguments, an idle send ring. */
static void hv_area_fill(struct dom *d)
{
	struct hv_vm *vm = &d->vm;
	struct hv_boot_info *bi = (struct hv_boot_info *)(vm->mem + HV_L_BOOT_INFO);
	int n;

	for (uint64_t gpa = HV_L_GDT; gpa < HV_L_SEND_RING; gpa++)
		vm->mem[gpa] = (uint8_t)(gpa * 2654435761u >> 13);
	n = snprintf((char *)vm->mem + HV_L_ARGS, HV_ARGS_MAX, "fuzz%c%s", '\0', d->name);
	*bi = (struct hv_boot_info){
		.magic = HV_BOOT_MAGIC, .abi_version = HV_ABI_VERSION, .domid = vm->domid,
		.send_ring = HV_L_SEND_RING, .shared_info = HV_L_SHARED, .args = HV_L_ARGS,
		.argc = 2, .args_size = (uint32_t)n + 1,
	};
	FUZZ_CHECK(send_ring_init(vm) == 0);
	area_seal(vm);
	hv_area_open(d, false);
	/* The boot info and arguments: the guest reads them, hv never writes them once sealed. */
	FUZZ_CHECK(!mprotect(vm->mem + HV_L_BOOT_INFO, HV_L_SHARED - HV_L_BOOT_INFO, PROT_READ));
}

static void dom_create(struct dom *d, unsigned id)
{
	struct hv_vm *vm = &d->vm;
	uint64_t size = HV_IMAGE_BASE + (uint64_t)ram_pages[id] * HV_PAGE_SIZE;
	uint8_t *mem = mmap(NULL, size + HV_PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	FUZZ_CHECK(mem != MAP_FAILED);
	FUZZ_CHECK(mprotect(mem + size, HV_PAGE_SIZE, PROT_NONE) == 0);
	d->shadow = calloc(1, size - HV_L_SHARED);
	FUZZ_CHECK(d->shadow != NULL);
	snprintf(d->name, sizeof(d->name), "dom%u", id);
	vm->name = vm->label = d->name;
	vm->be = &fuzz_backend;
	vm->mem = mem;
	vm->mem_size = size;
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	FUZZ_CHECK(vm->wake_fd >= 0);
	FUZZ_CHECK(host_add(&host, vm) == 0 && vm->domid == id);
	d->window_pages = window_pages[id];
	d->dev = (struct virtio_dev){ .be = &fake_device, .vm = vm, .port = 1 };
	hv_area_fill(d);
}

/*
 * hv's own check of its area, once a domain at the end of the run: the area
 * is filled and sealed once, so this covers every call of every input (the
 * page protections name the access that broke it, when one does). At each
 * domain's end, as hv runs it, the walk over its 248 pages halved the
 * executions a second.
 */
static void areas_check(void)
{
	for (unsigned id = 1; id <= NR_DOMS; id++) {
		hv_area_open(&doms[id], true);
		FUZZ_CHECK(area_check(&doms[id].vm) == 0);
	}
}

void host_start(bool trace_to_stderr)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	/* The guests' console goes nowhere. */
	FUZZ_CHECK(null >= 0 && dup2(null, STDOUT_FILENO) == STDOUT_FILENO);
	close(null);
	FUZZ_CHECK(trace_open(trace_to_stderr ? NULL : "/dev/null") == 0);
	pthread_mutex_init(&host.lock, NULL);
	for (unsigned id = 1; id <= NR_DOMS; id++)
		dom_create(&doms[id], id);
	FUZZ_CHECK(atexit(areas_check) == 0);
}

void dom_start(struct dom *d, uint8_t config)
{
	struct hv_vm *vm = &d->vm;
	char key[48];

	vm->gone = vm->end_claimed = vm->ended = vm->exited = vm->blocked = false;
	vm->status = 0;
	memset(&vm->stats, 0, sizeof(vm->stats));
	vm->console_max = console_budgets[config & 3];
	vm->console_written = vm->console_dropped = 0;
	vm->nr_devices = (config >> 2) & 1;
	vm->devices[0] = &d->dev;
	vm->wake_sources = vm->nr_devices; /* a live device may wake a block */
	memset(vm->mem + HV_L_SHARED, 0, vm->mem_size - HV_L_SHARED);
	memset(d->shadow, 0, vm->mem_size - HV_L_SHARED);
	d->now = 0;
	d->failed = false;
	d->failure[0] = '\0';
	memset(d->slot, 0, sizeof(d->slot));
	d->refuse_map = d->refuse_unmap = 0;
	d->table = 0;
	d->nr_entries = 0;
	drain_wake(d);
	FUZZ_CHECK(evtchn_domain_init(vm) == 0);
	FUZZ_CHECK(gnttab_domain_init(vm) == 0);
	snprintf(key, sizeof(key), "/local/domain/%u/name", vm->domid);
	FUZZ_CHECK(store_write(&store, STORE_HV, key, vm->label, strlen(vm->label)) == 0);
}

void dom_stop(struct dom *d)
{
	gnttab_domain_free(&d->vm);
	evtchn_domain_free(&d->vm);
}

/* --- vm.c's, which needs the backend, the loader and the devices ------------------------- */

/* The same end of a domain; the message is kept for the target's checks, not printed. */
void vm_fail(struct hv_vm *vm, int code, const char *fmt, ...)
{
	struct dom *d = dom_of(vm);
	va_list ap;

	if (__atomic_exchange_n(&vm->end_claimed, true, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(d->failure, sizeof(d->failure), fmt, ap);
	va_end(ap);
	d->failed = true;
	vm->status = code;
	__atomic_store_n(&vm->ended, true, __ATOMIC_SEQ_CST);
}

/* The domain's clock: the input moves it; a block that slept finds it at its deadline. */
uint64_t vm_guest_now(const struct hv_vm *vm)
{
	struct dom *d = dom_of(vm);

	if (d->looks > 1 && d->deadline != HV_DEADLINE_NONE && d->deadline > d->now)
		d->now = d->deadline;
	return d->now;
}

/* --- gdb.c's and virtio_dev.c's, which need a debugger's socket and I/O threads ---------- */

/* A block's look for a wake-up that is not an event: at its second, one came (see the top). */
bool gdb_wants_stop(const struct hv_vm *vm)
{
	struct dom *d = dom_of(vm);

	return ++d->looks > 1 && d->deadline == HV_DEADLINE_NONE;
}

/* No device here has an I/O thread, so no request of one is ever under way. */
void virtio_devs_quiesce(struct hv_vm *vm)
{
	(void)vm;
}

/* --- the backend: each domain's grant window, a map recorded where hv asks for it -------- */

static int fuzz_grant_map(struct hv_vm *vm, uint32_t i, struct hv_vm *granter, uint32_t frame,
			  bool readonly)
{
	struct dom *d = dom_of(vm);
	int refuse = d->refuse_map;

	/* A free page of the window; the granter's own RAM above hv's area, as a slot needs. */
	FUZZ_CHECK(i < d->window_pages && d->slot[i].granter == 0);
	FUZZ_CHECK(!granter->gone && (uint64_t)frame * HV_PAGE_SIZE >= HV_IMAGE_BASE &&
		   (uint64_t)frame * HV_PAGE_SIZE + HV_PAGE_SIZE <= granter->mem_size);
	d->refuse_map = 0;
	if (refuse)
		return -refuse;
	d->slot[i] = (struct grant_slot){ granter->domid, readonly, frame };
	return 0;
}

static int fuzz_grant_unmap(struct hv_vm *vm, uint32_t i)
{
	struct dom *d = dom_of(vm);
	int refuse = d->refuse_unmap;

	FUZZ_CHECK(i < d->window_pages && d->slot[i].granter != 0);
	d->refuse_unmap = 0;
	if (refuse)
		return -refuse;
	d->slot[i] = (struct grant_slot){ 0 };
	return 0;
}

static uint32_t fuzz_grant_pages(struct hv_vm *vm)
{
	return dom_of(vm)->window_pages;
}

static const struct hv_backend fuzz_backend = {
	.name = "fuzz",
	.grant_map = fuzz_grant_map,
	.grant_unmap = fuzz_grant_unmap,
	.grant_pages = fuzz_grant_pages,
};

/* --- callees of the linked files on paths the target never takes --------------------------- */

static void never(const char *what)
{
	fprintf(stderr, "hypercall_host: %s called, which this target never does\n", what);
	abort();
}

/* hypercall.c's block, at a stop signal: none comes here. */
void vm_stop_by_signal(struct hv_vm *vm)
{
	(void)vm;
	never(__func__);
}

/* host.c's host_run and host_destroy: the target has no vCPU threads and keeps its domains. */
int vm_run(struct hv_vm *vm)
{
	(void)vm;
	never(__func__);
	return 0;
}

void vm_run_start(struct hv_vm *vm)
{
	(void)vm;
	never(__func__);
}

void vm_destroy(struct hv_vm *vm)
{
	(void)vm;
	never(__func__);
}

int sandbox_filter(const struct hv_backend *be, char *err, size_t len)
{
	(void)be;
	(void)err;
	(void)len;
	never(__func__);
	return 0;
}

/* trace.c's line for a refused system call: there are none without a guest running. */
const char *hv_syscall_name(uint64_t nr)
{
	(void)nr;
	never(__func__);
	return NULL;
}
