/* SPDX-License-Identifier: MIT */
/*
 * The KVM backend: a domain is a VM on /dev/kvm with one vCPU. Guest RAM is
 * one memory slot, hv's page tables are built once before the first entry,
 * grant maps are memory slots aliasing the granter's pages, doorbells are
 * ioeventfds, and KVM's exits are decoded into hv's (backend.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "backend_kvm.h"
#include "hv.h"

#ifndef KVM_X86_QUIRK_SLOT_ZAP_ALL
#define KVM_X86_QUIRK_SLOT_ZAP_ALL (1 << 7)
#endif

/* The frame the ring-0 fault stub leaves on IST1: vector, error code, then what the CPU pushed. */
/* The fault stub's frame on its stack, lowest word first: fault_stubs_x86_64.S pushes three. */
enum { F_RDX, F_VECTOR, F_ERROR, F_RIP, F_CS, F_RFLAGS, F_RSP, F_SS, F_WORDS };

struct kvm_vm {
	int vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint32_t grant_pages; /* memory slots left for grant maps */
	bool in_stub; /* stopped at a fault report: the guest's state is in the stub's frame */
};

static int kvm_fd = -1; /* /dev/kvm, for the process */

static struct kvm_vm *kvm_of(struct hv_vm *vm)
{
	return vm->be_vm;
}

static int kvm_open(bool quiet)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (quiet)
			;
		else if (errno == ENOENT)
			fprintf(stderr, "hv: /dev/kvm does not exist: load the kvm module "
					"(modprobe kvm_intel or kvm_amd), run on a host with KVM, "
					"or use --backend=proc\n");
		else if (errno == EACCES || errno == EPERM)
			fprintf(stderr,
				"hv: /dev/kvm: permission denied: add yourself to its "
				"group (ls -l /dev/kvm; usermod -aG kvm $USER), run as root, "
				"or use --backend=proc\n");
		else
			fprintf(stderr, "hv: /dev/kvm: %s\n", strerror(errno));
		return HV_EXIT_UNAVAILABLE;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		if (!quiet)
			fprintf(stderr, "hv: /dev/kvm speaks an API version other than %d\n",
				KVM_API_VERSION);
		close(fd);
		return HV_EXIT_UNAVAILABLE;
	}
	kvm_fd = fd;
	return 0;
}

static int host_error(struct hv_vm *vm, const char *what)
{
	vm_fail(vm, HV_EXIT_UNAVAILABLE, "%s: %s", what, strerror(errno));
	return HV_EXIT_UNAVAILABLE;
}

/*
 * By default KVM drops every shadow page of the VM when a slot is deleted
 * (the guest then faults its whole working set back in): a grant unmap cost
 * hundreds of microseconds here. Where KVM lets us, it drops only the
 * deleted slot's.
 */
static void zap_only_deleted_slots(int vm_fd)
{
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2) &
	    KVM_X86_QUIRK_SLOT_ZAP_ALL) {
		struct kvm_enable_cap cap = {.cap = KVM_CAP_DISABLE_QUIRKS2,
					     .args = {KVM_X86_QUIRK_SLOT_ZAP_ALL}};

		(void)ioctl(vm_fd, KVM_ENABLE_CAP, &cap);
	}
}

#define MSR_IA32_TSC 0x10
#define TSC_SKEW_MAX_NS 1000000 /* the guest's TSC this close to the host's counts as the same */

/* KVM_GET_MSRS and KVM_SET_MSRS of the one MSR, IA32_TSC. */
struct tsc_msr {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e;
};

/* The guest's TSC less the host's, read now (KVM_GET_MSRS), or an error. */
static int guest_tsc_skew(int vcpu_fd, int64_t *skew)
{
	struct tsc_msr m = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };
	uint64_t before = hv_rdtsc(), after;

	if (ioctl(vcpu_fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	after = hv_rdtsc();
	*skew = (int64_t)(m.e.data - (before + (after - before) / 2));
	return 0;
}

/*
 * hv and the guest read one clock: the guest's rdtsc must give the host's
 * TSC, since the boot info's tsc_base and every deadline hv checks are host
 * readings. The software-assisted KVM of the machines this kit grew on does
 * that by itself; standard KVM starts a new vCPU's TSC near 0. A TSC offset
 * of 0 makes them one (Linux 5.16 on); without that attribute, the guest's
 * TSC MSR is set to the host's TSC now. Either way the result is checked.
 */
static int share_host_tsc(struct hv_vm *vm, int vcpu_fd)
{
	uint64_t zero = 0;
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL,
					.attr = KVM_VCPU_TSC_OFFSET,
					.addr = (uint64_t)(uintptr_t)&zero };
	struct tsc_msr m = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };
	int64_t skew, limit = (int64_t)(vm->tsc_hz / (1000000000ull / TSC_SKEW_MAX_NS));

	if (guest_tsc_skew(vcpu_fd, &skew) == 0 && skew > -limit && skew < limit)
		return 0;
	if (ioctl(vcpu_fd, KVM_HAS_DEVICE_ATTR, &attr) == 0) {
		(void)ioctl(vcpu_fd, KVM_SET_DEVICE_ATTR, &attr);
	} else {
		m.e.data = hv_rdtsc();
		(void)ioctl(vcpu_fd, KVM_SET_MSRS, &m);
	}
	if (guest_tsc_skew(vcpu_fd, &skew) == 0 && skew > -limit && skew < limit)
		return 0;
	vm_fail(vm, HV_EXIT_UNAVAILABLE,
		"the guest's TSC is %lld ticks off the host's and KVM would not align it "
		"(the guest's clock would be wrong)", (long long)skew);
	return HV_EXIT_UNAVAILABLE;
}

static int kvm_vm_create(struct hv_vm *vm, uint64_t mem_size)
{
	struct kvm_userspace_memory_region region;
	struct kvm_vm *k = calloc(1, sizeof(*k));
	int run_size, slots;
	long khz;

	if (!k) {
		vm_fail(vm, HV_EXIT_OSERR, "out of memory");
		return HV_EXIT_OSERR;
	}
	k->vm_fd = k->vcpu_fd = -1;
	vm->be_vm = k;
	k->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		return host_error(vm, "KVM_CREATE_VM");
	/* Untouched guest pages cost nothing: only what the guest uses is ever allocated. */
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return host_error(vm, "allocating guest memory");
	}
	vm->mem_size = mem_size;
	region = (struct kvm_userspace_memory_region){
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = mem_size,
	    .userspace_addr = (uint64_t)(uintptr_t)vm->mem,
	};
	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return host_error(vm, "KVM_SET_USER_MEMORY_REGION");
	k->vcpu_fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, 0);
	if (k->vcpu_fd < 0)
		return host_error(vm, "KVM_CREATE_VCPU");
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return host_error(vm, "KVM_GET_VCPU_MMAP_SIZE");
	k->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
	if (k->run == MAP_FAILED) {
		k->run = NULL;
		return host_error(vm, "mapping the vCPU run area");
	}
	k->run_size = (size_t)run_size;
	khz = ioctl(k->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		return host_error(vm, "KVM_GET_TSC_KHZ");
	vm->tsc_hz = (uint64_t)khz * 1000;
	if (share_host_tsc(vm, k->vcpu_fd))
		return HV_EXIT_UNAVAILABLE;
	zap_only_deleted_slots(k->vm_fd);
	/* Slot 0 is RAM; KVM numbers user slots below the count it reports. */
	slots = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	k->grant_pages = slots > 1 && (uint64_t)slots - 1 < HV_GRANT_WINDOW_SIZE / HV_PAGE_SIZE
			     ? (uint32_t)slots - 1
			     : HV_GRANT_WINDOW_SIZE / HV_PAGE_SIZE;
	return 0;
}

static int kvm_vm_boot(struct hv_vm *vm, const struct pg_range *r, unsigned n)
{
	struct kvm_vm *k = kvm_of(vm);
	uint64_t cr3;
	int rc;

	kvm_cpu_write_tables(vm->mem);
	rc = paging_build(vm->mem, HV_L_PT_POOL, HV_L_SEND_RING, r, n, &cr3);
	if (rc) {
		vm_fail(vm, HV_EXIT_IMAGE, "cannot build page tables for this layout: %s",
			rc == -ENOSPC ? "too many page-table pages" : "bad range");
		return HV_EXIT_IMAGE;
	}
	rc = kvm_cpu_set_boot_state(k->vcpu_fd, vm->entry, vm->stack_hi, HV_L_BOOT_INFO, cr3);
	if (rc) {
		errno = -rc;
		return host_error(vm, "setting the boot CPU state");
	}
	return 0;
}

/* The ring-0 stub's report: the frame it left on the fault stack, and CR2. */
static void read_fault(struct hv_vm *vm, struct hv_vmexit *x)
{
	struct kvm_vm *k = kvm_of(vm);
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t f[F_WORDS];

	if (ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		vm_fail(vm, HV_EXIT_OSERR, "reading registers after a guest fault: %s",
			strerror(errno));
		x->reason = HV_X_ENDED;
		return;
	}
	if (regs.rsp != HV_L_FSTACK_TOP - sizeof(f)) {
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "fault stub ran with an unexpected stack 0x%llx",
			(unsigned long long)regs.rsp);
		x->reason = HV_X_ENDED;
		return;
	}
	memcpy(f, vm->mem + regs.rsp, sizeof(f));
	k->in_stub = true;
	x->reason = HV_X_FAULT;
	x->fault = (struct hv_fault){
	    .vector = f[F_VECTOR],
	    .error = f[F_ERROR],
	    .rip = f[F_RIP],
	    .rsp = f[F_RSP],
	    .rbp = regs.rbp,
	    .cr2 = sregs.cr2,
	    .ring0 = (f[F_CS] & 3) != 3,
	};
}

/* The stub's frame (read_fault checked where its stack is), in guest memory. */
static uint64_t *stub_frame(struct hv_vm *vm)
{
	return (uint64_t *)(vm->mem + HV_L_FSTACK_TOP - F_WORDS * sizeof(uint64_t));
}

static int kvm_get_regs(struct hv_vm *vm, struct hv_regs *r)
{
	struct kvm_vm *k = kvm_of(vm);
	struct kvm_regs g;
	struct kvm_sregs s;
	const uint64_t *f = stub_frame(vm);

	if (ioctl(k->vcpu_fd, KVM_GET_REGS, &g) < 0 || ioctl(k->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	*r = (struct hv_regs){
	    .rax = g.rax, .rbx = g.rbx, .rcx = g.rcx, .rdx = g.rdx, .rsi = g.rsi, .rdi = g.rdi,
	    .rbp = g.rbp, .rsp = g.rsp, .r8 = g.r8, .r9 = g.r9, .r10 = g.r10, .r11 = g.r11,
	    .r12 = g.r12, .r13 = g.r13, .r14 = g.r14, .r15 = g.r15, .rip = g.rip,
	    .rflags = g.rflags, .cs = s.cs.selector, .ss = s.ss.selector, .ds = s.ds.selector,
	    .es = s.es.selector, .fs = s.fs.selector, .gs = s.gs.selector,
	};
	if (k->in_stub) {
		r->rdx = f[F_RDX], r->rip = f[F_RIP], r->rflags = f[F_RFLAGS];
		r->rsp = f[F_RSP], r->cs = (uint32_t)f[F_CS], r->ss = (uint32_t)f[F_SS];
	}
	return 0;
}

static int kvm_set_regs(struct hv_vm *vm, const struct hv_regs *r)
{
	struct kvm_vm *k = kvm_of(vm);
	struct kvm_regs g;
	uint64_t *f = stub_frame(vm);

	if (ioctl(k->vcpu_fd, KVM_GET_REGS, &g) < 0)
		return -errno;
	g.rax = r->rax, g.rbx = r->rbx, g.rcx = r->rcx, g.rsi = r->rsi, g.rdi = r->rdi;
	g.rbp = r->rbp, g.r8 = r->r8, g.r9 = r->r9, g.r10 = r->r10, g.r11 = r->r11;
	g.r12 = r->r12, g.r13 = r->r13, g.r14 = r->r14, g.r15 = r->r15;
	/* In a stub, the rest goes back to the guest through the frame, by its iretq. */
	if (k->in_stub) {
		f[F_RDX] = r->rdx, f[F_RIP] = r->rip, f[F_RSP] = r->rsp;
		f[F_RFLAGS] = (f[F_RFLAGS] & ~HV_REGS_USER_FLAGS) | (r->rflags & HV_REGS_USER_FLAGS);
	} else {
		g.rdx = r->rdx, g.rip = r->rip, g.rsp = r->rsp;
		g.rflags = (g.rflags & ~HV_REGS_USER_FLAGS) | (r->rflags & HV_REGS_USER_FLAGS);
	}
	return ioctl(k->vcpu_fd, KVM_SET_REGS, &g) < 0 ? -errno : 0;
}

static void read_shutdown(struct hv_vm *vm, struct hv_vmexit *x)
{
	struct kvm_vm *k = kvm_of(vm);
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	x->reason = HV_X_SHUTDOWN;
	x->fault = (struct hv_fault){0};
	if (ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) == 0 &&
	    ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) == 0) {
		x->fault.rip = regs.rip;
		x->fault.cr2 = sregs.cr2;
	}
}

static void kvm_run_vcpu(struct hv_vm *vm, struct hv_vmexit *x)
{
	struct kvm_vm *k = kvm_of(vm);
	struct kvm_run *run = k->run;
	int rc, err;

	/* What hv answered to an MMIO read goes back to KVM, which completes the load. */
	if (x->reason == HV_X_MMIO && !x->mmio.is_write && run->exit_reason == KVM_EXIT_MMIO)
		memcpy(run->mmio.data, x->mmio.data, sizeof(run->mmio.data));
	k->in_stub = false; /* resumed in a stub, the guest returns from it (a debugger's stop) */
	rc = ioctl(k->vcpu_fd, KVM_RUN, 0);
	err = errno;
	if (rc < 0) {
		if (err == EINTR || err == EAGAIN) {
			/*
			 * Sequentially consistent, as are kick's writes: if the run loop's
			 * test then misses an end, the kick's immediate_exit comes after
			 * this store, and the next KVM_RUN returns at once.
			 */
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			x->reason = HV_X_INTR;
			return;
		}
		vm_fail(vm, HV_EXIT_OSERR, "KVM_RUN: %s", strerror(err));
		x->reason = HV_X_ENDED;
		return;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.port == HV_FAULT_PORT && run->io.direction == KVM_EXIT_IO_OUT) {
			read_fault(vm, x);
			return;
		}
		x->reason = HV_X_IO;
		x->io.port = run->io.port;
		x->io.size = run->io.size;
		x->io.is_write = run->io.direction == KVM_EXIT_IO_OUT;
		x->io.count = run->io.count;
		x->io.data = 0;
		if (run->io.data_offset <= k->run_size - 4 && run->io.size <= 4)
			memcpy(&x->io.data, (const uint8_t *)run + run->io.data_offset,
			       run->io.size);
		else
			x->io.count = 0; /* not an access hv can read: refused as a bad one */
		return;
	case KVM_EXIT_MMIO:
		x->reason = HV_X_MMIO;
		x->mmio.addr = run->mmio.phys_addr;
		x->mmio.len = run->mmio.len;
		x->mmio.is_write = run->mmio.is_write;
		memcpy(x->mmio.data, run->mmio.data, sizeof(x->mmio.data));
		return;
	case KVM_EXIT_SHUTDOWN: read_shutdown(vm, x); return;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_fail(vm, HV_EXIT_GUEST_CRASH,
			"KVM internal error, suberror %u (emulation failed?)",
			run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "KVM could not enter the guest (reason 0x%llx)",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "unexpected KVM exit %u", run->exit_reason);
		break;
	}
	x->reason = HV_X_ENDED;
}

/* host.c's vm_kick also signals the vCPU thread, which makes a KVM_RUN under way return. */
static void kvm_kick(struct hv_vm *vm)
{
	struct kvm_vm *k = kvm_of(vm);

	if (k && k->run)
		__atomic_store_n(&k->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static int kvm_vm_start(struct hv_vm *vm)
{
	(void)vm; /* KVM_RUN works from any thread; the VM is ready since vm_boot */
	return 0;
}

static void kvm_stop(struct hv_vm *vm)
{
	(void)vm; /* the vCPU never enters again; the VM goes at vm_destroy */
}

static void kvm_vm_destroy(struct hv_vm *vm)
{
	struct kvm_vm *k = kvm_of(vm);

	if (k) {
		if (k->run)
			munmap(k->run, k->run_size);
		if (k->vcpu_fd >= 0)
			close(k->vcpu_fd);
		if (k->vm_fd >= 0)
			close(k->vm_fd);
		free(k);
		vm->be_vm = NULL;
	}
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
}

/* Memory slot 1 + i for window page i: the granted page, or (page NULL) none. */
static int set_slot(struct hv_vm *vm, uint32_t i, uint8_t *page, bool readonly)
{
	struct kvm_userspace_memory_region region = {
	    .slot = 1 + i,
	    .flags = readonly ? KVM_MEM_READONLY : 0,
	    .guest_phys_addr = HV_GRANT_WINDOW + (uint64_t)i * HV_PAGE_SIZE,
	    .memory_size = page ? HV_PAGE_SIZE : 0,
	    .userspace_addr = (uint64_t)(uintptr_t)page,
	};

	return ioctl(kvm_of(vm)->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

static int kvm_grant_map(struct hv_vm *vm, uint32_t i, struct hv_vm *granter, uint32_t frame,
			 bool readonly)
{
	return set_slot(vm, i, granter->mem + (uint64_t)frame * HV_PAGE_SIZE, readonly);
}

static int kvm_grant_unmap(struct hv_vm *vm, uint32_t i)
{
	return set_slot(vm, i, NULL, false);
}

static uint32_t kvm_grant_pages(struct hv_vm *vm)
{
	return kvm_of(vm)->grant_pages;
}

static int kvm_doorbell(struct hv_vm *vm, uint64_t gpa, bool any, uint32_t datamatch, int fd)
{
	struct kvm_ioeventfd ioe = {
	    .datamatch = datamatch,
	    .addr = gpa,
	    .len = 4,
	    .fd = fd,
	    .flags = any ? 0 : KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	return ioctl(kvm_of(vm)->vm_fd, KVM_IOEVENTFD, &ioe) < 0 ? -errno : 0;
}

const struct hv_backend hv_backend_kvm = {
    .name = "kvm",
    .exit_means = "a return from KVM_RUN to hv",
    .open = kvm_open,
    .vm_create = kvm_vm_create,
    .vm_boot = kvm_vm_boot,
    .vm_start = kvm_vm_start,
    .run = kvm_run_vcpu,
    .kick = kvm_kick,
    .stop = kvm_stop,
    .vm_destroy = kvm_vm_destroy,
    .grant_map = kvm_grant_map,
    .grant_unmap = kvm_grant_unmap,
    .grant_pages = kvm_grant_pages,
    .doorbell = kvm_doorbell,
    .get_regs = kvm_get_regs,
    .set_regs = kvm_set_regs,
};
