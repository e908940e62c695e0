/* SPDX-License-Identifier: MIT */
/*
 * The proc backend: a domain's guest runs as a child process of hv that
 * holds nothing but the guest. Guest RAM is a memfd, mapped in hv (vm->mem)
 * and in the child at the guest's own addresses with the protections hv's
 * page tables would give; the child execs a stub of a few bytes, so none of
 * hv is there, and a seccomp filter refuses every system call but the few
 * that grant maps need. The vCPU thread traces the child: the guest's
 * hypercall `out`s, device accesses and faults stop it with a signal, and
 * this file decodes each into hv's exits (backend.h), then emulates the
 * trapped instruction before the guest goes on. No /dev/kvm is needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "backend_proc_child.h"
#include "hv.h"
#include "x86_decode.h"

#define CALIBRATE_NS 2000000 /* the TSC is measured against the host clock over this, at least */
#define MAX_RANGES   (PROC_BATCH_MAX - 3) /* the guest's mapped ranges (vm.c passes fewer) */

struct proc_vm {
	struct proc_child child; /* the vCPU thread's, which traces it */
	int memfd;
	struct pg_range ranges[MAX_RANGES]; /* vm_boot's, mapped at the first run */
	unsigned nr_ranges;
	/* The instruction of the last exit, completed (emulated) at the next run. */
	struct x86_insn insn;
	bool complete;
};

/* The host's TSC rate, measured from proc_open to the first domain's start. */
static struct {
	pthread_mutex_t lock;
	uint64_t ns0, tsc0;
	uint64_t hz; /* 0 until measured */
} tsc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct proc_vm *proc_of(struct hv_vm *vm)
{
	return vm->be_vm;
}

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The TSC's rate (the guest's clock), against the host's clock over at
 * least CALIBRATE_NS since proc_open: by the time the first domain starts
 * that has mostly passed already, so the wait is short or none.
 */
static uint64_t tsc_hz(void)
{
	uint64_t ns, ticks;

	pthread_mutex_lock(&tsc.lock);
	if (!tsc.hz) {
		do {
			ticks = hv_rdtsc();
			ns = clock_ns();
		} while (ns - tsc.ns0 < CALIBRATE_NS);
		tsc.hz = (uint64_t)(((unsigned __int128)(ticks - tsc.tsc0) * 1000000000ull) /
				    (ns - tsc.ns0));
	}
	pthread_mutex_unlock(&tsc.lock);
	return tsc.hz;
}

static int proc_open(bool quiet)
{
	(void)quiet;
	tsc.tsc0 = hv_rdtsc();
	tsc.ns0 = clock_ns();
	return 0;
}

static int proc_vm_create(struct hv_vm *vm, uint64_t mem_size)
{
	struct proc_vm *p = calloc(1, sizeof(*p));

	if (!p) {
		vm_fail(vm, HV_EXIT_OSERR, "out of memory");
		return HV_EXIT_OSERR;
	}
	p->memfd = -1;
	proc_child_init(&p->child);
	vm->be_vm = p;
	p->memfd = memfd_create("hv-guest", MFD_CLOEXEC);
	if (p->memfd < 0 || ftruncate(p->memfd, (off_t)mem_size) < 0) {
		vm_fail(vm, HV_EXIT_OSERR, "guest memory (memfd): %s", strerror(errno));
		return HV_EXIT_OSERR;
	}
	/* Pages are allocated as the guest (or hv) first touches them. */
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		vm_fail(vm, HV_EXIT_OSERR, "mapping guest memory: %s", strerror(errno));
		return HV_EXIT_OSERR;
	}
	vm->mem_size = mem_size;
	return 0;
}

/*
 * The ranges the child maps: those the guest may touch that have memory
 * behind them. hv's own area is supervisor-only on KVM, so not mapped here;
 * device windows, the doorbell and the grant window have no memory (an
 * access stops the child, as it exits on KVM) until a grant map.
 */
static int proc_vm_boot(struct hv_vm *vm, const struct pg_range *r, unsigned n)
{
	struct proc_vm *p = proc_of(vm);

	for (unsigned i = 0; i < n; i++) {
		if (!(r[i].attr & PG_USER) || r[i].gpa + r[i].size > vm->mem_size)
			continue;
		if (p->nr_ranges == MAX_RANGES) {
			vm_fail(vm, HV_EXIT_IMAGE, "too many ranges to map (at most %d)",
				MAX_RANGES);
			return HV_EXIT_IMAGE;
		}
		p->ranges[p->nr_ranges++] = r[i];
	}
	return 0;
}

static int prot_of(unsigned attr)
{
	return PROT_READ | ((attr & PG_WRITE) ? PROT_WRITE : 0) |
	       ((attr & PG_EXEC) ? PROT_EXEC : 0);
}

/* The vCPU thread, before the first run: the child, its memory, its filter, its registers. */
static int proc_vm_start(struct hv_vm *vm)
{
	struct proc_vm *p = proc_of(vm);
	struct proc_map maps[MAX_RANGES];
	/* The guest's futex word and kick fds (hv_abi.h, HV_BOOT_LINUX_CALLS). */
	int kick_fds[HV_MAX_DEVICES * HV_KICK_FD_QUEUES];
	struct proc_linux_calls lc = {
	    .futex = HV_L_SHARED + offsetof(struct hv_shared_info, vcpu_info[0].wait),
	    .fd_base = HV_KICK_FD_BASE,
	    .nr_fds = vm->nr_devices * HV_KICK_FD_QUEUES,
	    .fds = kick_fds,
	};
	int rc;

	for (unsigned i = 0; i < lc.nr_fds; i++)
		kick_fds[i] = vm_kick_fd(vm, i / HV_KICK_FD_QUEUES, i % HV_KICK_FD_QUEUES);
	rc = proc_child_spawn(&p->child, p->memfd, vm->linux_calls ? &lc : NULL);
	if (rc) {
		vm_fail(vm, HV_EXIT_UNAVAILABLE, "starting the guest's process: %s%s",
			strerror(-rc),
			rc == -EPERM ? " (is hv itself traced, by strace or gdb? the proc backend "
				       "traces its guests)"
				     : "");
		return HV_EXIT_UNAVAILABLE;
	}
	/* What hv wrote (boot info, image) is faulted in now, not page by page as the guest runs.
	 */
	for (unsigned i = 0; i < p->nr_ranges; i++)
		maps[i] = (struct proc_map){
		    .addr = p->ranges[i].gpa,
		    .len = p->ranges[i].size,
		    .off = p->ranges[i].gpa,
		    .prot = prot_of(p->ranges[i].attr),
		    .populate = p->ranges[i].gpa < vm->heap_lo,
		};
	rc = proc_child_start(&p->child, maps, p->nr_ranges, HV_GRANT_WINDOW,
			      HV_GRANT_WINDOW + HV_GRANT_WINDOW_SIZE);
	if (rc) {
		vm_fail(vm, HV_EXIT_UNAVAILABLE, "mapping and confining the guest's process: %s",
			strerror(-rc));
		return HV_EXIT_UNAVAILABLE;
	}
	/* The first entry, as on KVM: every register zero but these. */
	struct user_regs_struct boot = {
	    .rip = vm->entry,
	    .rsp = vm->stack_hi,
	    .rdi = HV_L_BOOT_INFO,
	    .eflags = 0x202,
	    .cs = p->child.regs.cs,
	    .ss = p->child.regs.ss,
	};
	proc_child_set_regs(&p->child, &boot);
	vm->tsc_hz = tsc_hz();
	return 0;
}

/* user_regs_struct's general-purpose registers in x86's encoding order, and back. */
static void gprs_get(const struct user_regs_struct *r, uint64_t g[X86_NR_GPRS])
{
	const uint64_t v[X86_NR_GPRS] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp,
					 r->rsi, r->rdi, r->r8,	 r->r9,	 r->r10, r->r11,
					 r->r12, r->r13, r->r14, r->r15};

	memcpy(g, v, sizeof(v));
}

static void gprs_set(struct user_regs_struct *r, const uint64_t g[X86_NR_GPRS])
{
	r->rax = g[X86_RAX], r->rcx = g[X86_RCX], r->rdx = g[X86_RDX], r->rbx = g[X86_RBX];
	r->rsp = g[X86_RSP], r->rbp = g[X86_RBP], r->rsi = g[X86_RSI], r->rdi = g[X86_RDI];
	r->r8 = g[X86_R8], r->r9 = g[X86_R9], r->r10 = g[X86_R10], r->r11 = g[X86_R11];
	r->r12 = g[X86_R12], r->r13 = g[X86_R13], r->r14 = g[X86_R14], r->r15 = g[X86_R15];
}

/* The instruction at the guest's rip, from its memory: 0, or -EINVAL when hv does not emulate it.
 */
static int decode_at_rip(struct hv_vm *vm, struct x86_insn *insn)
{
	uint64_t rip = proc_of(vm)->child.regs.rip;
	uint64_t avail;

	if (rip < HV_IMAGE_BASE || rip >= vm->mem_size)
		return -EINVAL;
	avail = vm->mem_size - rip < X86_MAX_INSN_LEN ? vm->mem_size - rip : X86_MAX_INSN_LEN;
	return x86_decode(vm->mem + rip, avail, insn);
}

/* Finish the trapped instruction with hv's answer, then step over it. */
static void complete(struct hv_vm *vm, const struct hv_vmexit *x)
{
	struct proc_vm *p = proc_of(vm);
	struct user_regs_struct *regs = &p->child.regs;
	uint64_t g[X86_NR_GPRS], data = 0;

	if (!p->complete)
		return;
	p->complete = false;
	if (x->reason == HV_X_MMIO && p->insn.op == X86_OP_LOAD) {
		memcpy(&data, x->mmio.data, p->insn.size);
		gprs_get(regs, g);
		x86_read_complete(&p->insn, g, data);
		gprs_set(regs, g);
	}
	regs->rip += p->insn.len;
	p->child.regs_dirty = true;
}

static void set_fault(struct hv_vm *vm, struct hv_vmexit *x, uint64_t vector, uint64_t error)
{
	const struct user_regs_struct *regs = &proc_of(vm)->child.regs;

	x->reason = HV_X_FAULT;
	x->fault = (struct hv_fault){
	    .vector = vector, .error = error, .rip = regs->rip, .rsp = regs->rsp, .rbp = regs->rbp};
}

/* Whether the guest's page tables on KVM map addr with no memory behind it (an MMIO exit there). */
static bool is_mmio(const struct hv_vm *vm, uint64_t addr)
{
	return (addr >= HV_DEVICE_BASE &&
		addr - HV_DEVICE_BASE < (uint64_t)vm->nr_devices * HV_DEVICE_WINDOW) ||
	       (addr >= HV_SEND_DOORBELL && addr - HV_SEND_DOORBELL < HV_PAGE_SIZE) ||
	       (addr >= HV_GRANT_WINDOW && addr - HV_GRANT_WINDOW < HV_GRANT_WINDOW_SIZE);
}

/* A trapped `in` or `out`: a hypercall where KVM's I/O bitmap would let it through, else #GP. */
static void port_io(struct hv_vm *vm, struct hv_vmexit *x, const struct x86_insn *insn)
{
	struct proc_vm *p = proc_of(vm);
	uint64_t g[X86_NR_GPRS];
	unsigned port;

	gprs_get(&p->child.regs, g);
	port = insn->port_in_dx ? (uint16_t)g[X86_RDX] : insn->port_imm;
	if (port < HV_PORT(0) || port + insn->size > HV_PORT(HV_CALL_SLOTS)) {
		set_fault(vm, x, 13, 0);
		return;
	}
	x->reason = HV_X_IO;
	x->io.port = (uint16_t)port;
	x->io.size = (uint8_t)insn->size;
	x->io.is_write = insn->op == X86_OP_OUT;
	x->io.count = 1;
	x->io.data = (uint32_t)(x->io.is_write ? x86_write_value(insn, g) : 0);
	p->insn = *insn;
	p->complete = true;
}

/* A load or store where the guest has no memory: a device register, the doorbell or a grant page.
 */
static void mmio(struct hv_vm *vm, struct hv_vmexit *x, uint64_t addr, bool accerr)
{
	struct proc_vm *p = proc_of(vm);
	struct x86_insn insn;
	uint64_t g[X86_NR_GPRS], v;

	x->reason = HV_X_MMIO;
	x->mmio.addr = addr;
	memset(x->mmio.data, 0, sizeof(x->mmio.data));
	if (decode_at_rip(vm, &insn) == 0 && (insn.op == X86_OP_LOAD || insn.op == X86_OP_STORE)) {
		x->mmio.len = insn.size;
		x->mmio.is_write = insn.op == X86_OP_STORE;
		if (x->mmio.is_write) {
			gprs_get(&p->child.regs, g);
			v = x86_write_value(&insn, g);
			memcpy(x->mmio.data, &v, insn.size);
		}
		p->insn = insn;
		p->complete = true;
		return;
	}
	/* Not an instruction hv emulates: hv can still say what it touched, never resume it. */
	x->mmio.len = 0;
	x->mmio.is_write = accerr; /* a mapped grant page faults only on a write */
	if (!(addr >= HV_GRANT_WINDOW && addr - HV_GRANT_WINDOW < HV_GRANT_WINDOW_SIZE)) {
		vm_fail(vm, HV_EXIT_GUEST_CRASH,
			"access to device memory at 0x%llx by an instruction hv does not emulate, "
			"at rip 0x%llx (use 1-8 byte mov loads and stores)",
			(unsigned long long)addr, (unsigned long long)p->child.regs.rip);
		x->reason = HV_X_ENDED;
	}
}

/* The attributes the guest's mapping of addr has (PG_*), 0 when nothing is mapped there. */
static unsigned attr_at(const struct proc_vm *p, uint64_t addr)
{
	for (unsigned i = 0; i < p->nr_ranges; i++)
		if (addr >= p->ranges[i].gpa && addr - p->ranges[i].gpa < p->ranges[i].size)
			return p->ranges[i].attr;
	return 0;
}

/* The error code the CPU gave, rebuilt: Linux tells a tracer the address, not the bits. */
static uint64_t pf_error(struct hv_vm *vm, uint64_t addr, bool accerr)
{
	const struct proc_vm *p = proc_of(vm);
	const struct user_regs_struct *regs = &p->child.regs;
	struct x86_insn insn;
	uint64_t err = 4 | (accerr ? 1 : 0); /* user mode; present */

	/* A fetch faults at rip itself, on a page that is not executable. */
	if (addr == regs->rip && !(attr_at(p, addr) & PG_EXEC))
		return err | 16;
	/* A store, or a push or call just below the stack pointer. */
	if ((decode_at_rip(vm, &insn) == 0 && insn.op == X86_OP_STORE) ||
	    (addr < regs->rsp && regs->rsp - addr <= 64))
		err |= 2;
	return err;
}

static void segv(struct hv_vm *vm, struct hv_vmexit *x, const siginfo_t *si)
{
	uint64_t addr = (uint64_t)(uintptr_t)si->si_addr;
	struct x86_insn insn;

	if (si->si_code == SEGV_MAPERR || si->si_code == SEGV_ACCERR) {
		if (is_mmio(vm, addr))
			mmio(vm, x, addr, si->si_code == SEGV_ACCERR);
		else {
			set_fault(vm, x, 14, pf_error(vm, addr, si->si_code == SEGV_ACCERR));
			x->fault.cr2 = addr;
		}
		return;
	}
	/* #GP and its kin (SI_KERNEL): a port access, else a privileged instruction or the like. */
	if (decode_at_rip(vm, &insn) == 0 && (insn.op == X86_OP_IN || insn.op == X86_OP_OUT))
		port_io(vm, x, &insn);
	else
		set_fault(vm, x, 13, 0);
}

/* Sort a signal-delivery stop into hv's exits. */
static void decode_stop(struct hv_vm *vm, struct hv_vmexit *x, const siginfo_t *si)
{
	const struct user_regs_struct *regs = &proc_of(vm)->child.regs;

	switch (si->si_signo) {
	case PROC_KICK_SIGNAL: x->reason = HV_X_INTR; return;
	case SIGSEGV: segv(vm, x, si); return;
	case SIGFPE:
		set_fault(vm, x, si->si_code == FPE_INTDIV || si->si_code == FPE_INTOVF ? 0 : 19,
			  0);
		return;
	case SIGILL: set_fault(vm, x, 6, 0); return;
	case SIGTRAP:
		/* int3 reports the address after it, as the CPU's #BP does. */
		set_fault(vm, x, si->si_code == SI_KERNEL ? 3 : 1, 0);
		return;
	case SIGBUS:
		set_fault(vm, x, si->si_code == BUS_ADRALN ? 17 : 14, 0);
		x->fault.cr2 = (uint64_t)(uintptr_t)si->si_addr;
		return;
	case SIGSYS:
		x->reason = HV_X_SYSCALL;
		x->fault = (struct hv_fault){
		    .nr = (uint64_t)si->si_syscall,
		    .compat = si->si_arch != AUDIT_ARCH_X86_64,
		    /* The address after the 2-byte syscall or int 0x80: name the instruction. */
		    .rip = (uint64_t)(uintptr_t)si->si_call_addr - 2,
		    .rsp = regs->rsp,
		    .rbp = regs->rbp,
		};
		return;
	default:
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "the guest's process stopped with signal %d (%s)",
			si->si_signo, strsignal(si->si_signo));
		x->reason = HV_X_ENDED;
		return;
	}
}

static void proc_run(struct hv_vm *vm, struct hv_vmexit *x)
{
	struct proc_vm *p = proc_of(vm);
	struct proc_stop stop;
	int rc;

	complete(vm, x);
	rc = p->child.running ? proc_child_wait(&p->child, &stop)
			      : proc_child_resume(&p->child, &stop);
	if (rc) {
		vm_fail(vm, HV_EXIT_OSERR, "tracing the guest's process: %s", strerror(-rc));
		x->reason = HV_X_ENDED;
		return;
	}
	switch (stop.kind) {
	case PROC_STOP_INTR:
		x->reason = HV_X_INTR; /* still running: the next run waits for it */
		return;
	case PROC_STOP_EXITED:
		if (WIFSIGNALED(stop.status))
			vm_fail(vm, HV_EXIT_GUEST_CRASH,
				"the guest's process was killed by signal %d (%s)",
				WTERMSIG(stop.status), strsignal(WTERMSIG(stop.status)));
		else
			vm_fail(vm, HV_EXIT_GUEST_CRASH, "the guest's process exited with %d",
				WEXITSTATUS(stop.status));
		x->reason = HV_X_ENDED;
		return;
	case PROC_STOP_SIGNAL: decode_stop(vm, x, &stop.si); return;
	}
}

static int proc_get_regs(struct hv_vm *vm, struct hv_regs *r)
{
	const struct proc_child *c = &proc_of(vm)->child;
	const struct user_regs_struct *u = &c->regs;

	if (c->running)
		return -EBUSY;
	*r = (struct hv_regs){
	    .rax = u->rax, .rbx = u->rbx, .rcx = u->rcx, .rdx = u->rdx, .rsi = u->rsi,
	    .rdi = u->rdi, .rbp = u->rbp, .rsp = u->rsp, .r8 = u->r8, .r9 = u->r9,
	    .r10 = u->r10, .r11 = u->r11, .r12 = u->r12, .r13 = u->r13, .r14 = u->r14,
	    .r15 = u->r15, .rip = u->rip, .rflags = u->eflags, .cs = (uint32_t)u->cs,
	    .ss = (uint32_t)u->ss, .ds = (uint32_t)u->ds, .es = (uint32_t)u->es,
	    .fs = (uint32_t)u->fs, .gs = (uint32_t)u->gs,
	};
	return 0;
}

static int proc_set_regs(struct hv_vm *vm, const struct hv_regs *r)
{
	struct proc_child *c = &proc_of(vm)->child;
	struct user_regs_struct u = c->regs;

	if (c->running)
		return -EBUSY;
	u.rax = r->rax, u.rbx = r->rbx, u.rcx = r->rcx, u.rdx = r->rdx, u.rsi = r->rsi;
	u.rdi = r->rdi, u.rbp = r->rbp, u.rsp = r->rsp, u.r8 = r->r8, u.r9 = r->r9;
	u.r10 = r->r10, u.r11 = r->r11, u.r12 = r->r12, u.r13 = r->r13, u.r14 = r->r14;
	u.r15 = r->r15, u.rip = r->rip;
	u.eflags = (u.eflags & ~HV_REGS_USER_FLAGS) | (r->rflags & HV_REGS_USER_FLAGS);
	proc_child_set_regs(c, &u);
	return 0;
}

static void proc_kick(struct hv_vm *vm)
{
	struct proc_vm *p = proc_of(vm);

	/* The child's pidfd lives until vm_destroy, after every thread that kicks. */
	if (p)
		proc_child_kick(&p->child);
}

/*
 * The guest never runs again: its process is killed (its memory stays, in
 * hv's mapping). It is reaped at vm_destroy, so that the kernel's teardown
 * of it runs beside hv's own last work rather than before it.
 */
static void proc_stop(struct hv_vm *vm)
{
	proc_child_kill(&proc_of(vm)->child);
}

static void proc_vm_destroy(struct hv_vm *vm)
{
	struct proc_vm *p = proc_of(vm);

	if (p) {
		proc_child_destroy(&p->child);
		if (p->memfd >= 0)
			close(p->memfd);
		free(p);
		vm->be_vm = NULL;
	}
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
}

/*
 * A map that fails part way may leave the granter's memfd queued on the
 * child's socket, where the guest could take it: the domain ends, and its
 * process with it, before the guest runs again.
 */
static int proc_grant_map(struct hv_vm *vm, uint32_t i, struct hv_vm *granter, uint32_t frame,
			  bool readonly)
{
	int rc = proc_child_map_foreign(&proc_of(vm)->child, proc_of(granter)->memfd,
					HV_GRANT_WINDOW + (uint64_t)i * HV_PAGE_SIZE,
					readonly ? PROT_READ : PROT_READ | PROT_WRITE,
					(uint64_t)frame * HV_PAGE_SIZE);

	if (rc)
		vm_fail(vm, HV_EXIT_OSERR, "grant map in the guest's process: %s", strerror(-rc));
	return rc;
}

static int proc_grant_unmap(struct hv_vm *vm, uint32_t i)
{
	return proc_child_unmap(&proc_of(vm)->child, HV_GRANT_WINDOW + (uint64_t)i * HV_PAGE_SIZE);
}

static uint32_t proc_grant_pages(struct hv_vm *vm)
{
	(void)vm;
	return HV_GRANT_WINDOW_SIZE / HV_PAGE_SIZE;
}

/* A doorbell write stops the child like any device access; hv's vCPU thread rings it. */
static int proc_doorbell(struct hv_vm *vm, uint64_t gpa, bool any, uint32_t datamatch, int fd)
{
	(void)vm, (void)gpa, (void)any, (void)datamatch, (void)fd;
	return -EOPNOTSUPP;
}

const struct hv_backend hv_backend_proc = {
    .name = "proc",
    .exit_means = "a stop of the guest's process that hv served",
    .linux_calls = true,
    .open = proc_open,
    .vm_create = proc_vm_create,
    .vm_boot = proc_vm_boot,
    .vm_start = proc_vm_start,
    .run = proc_run,
    .kick = proc_kick,
    .stop = proc_stop,
    .vm_destroy = proc_vm_destroy,
    .grant_map = proc_grant_map,
    .grant_unmap = proc_grant_unmap,
    .grant_pages = proc_grant_pages,
    .doorbell = proc_doorbell,
    .get_regs = proc_get_regs,
    .set_regs = proc_set_regs,
};
