/* SPDX-License-Identifier: MIT */
/*
 * Guest faults, as the backend decoded them: name the exception, the
 * faulting address and RIP's symbol, walk the guest's frame-pointer chain,
 * and end the VM.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "hv.h"
#include "symbols.h"

static const char *const vector_names[32] = {
	[0] = "divide error (#DE)",
	[1] = "debug exception (#DB)",
	[2] = "non-maskable interrupt (NMI)",
	[3] = "breakpoint (#BP)",
	[4] = "overflow (#OF)",
	[5] = "bound range exceeded (#BR)",
	[6] = "invalid opcode (#UD)",
	[7] = "device not available (#NM)",
	[8] = "double fault (#DF)",
	[10] = "invalid TSS (#TS)",
	[11] = "segment not present (#NP)",
	[12] = "stack-segment fault (#SS)",
	[13] = "general protection fault (#GP)",
	[14] = "page fault (#PF)",
	[16] = "x87 floating-point error (#MF)",
	[17] = "alignment check (#AC)",
	[18] = "machine check (#MC)",
	[19] = "SIMD floating-point exception (#XM)",
	[20] = "virtualization exception (#VE)",
	[21] = "control-protection exception (#CP)",
};

static const struct symbol *find_symbol(struct hv_vm *vm, uint64_t addr)
{
	if (!vm->syms_loaded) {
		vm->syms_loaded = true;
		if (symbols_load(vm->image.data, vm->image.size, &vm->syms))
			symbols_free(&vm->syms);
	}
	return symbols_find(&vm->syms, addr);
}

/* " <main+0x14>", or "" when addr is outside the image or the image has no symbol for it. */
static void name_of(struct hv_vm *vm, uint64_t addr, char *buf, size_t len)
{
	const struct symbol *s =
		addr >= vm->image_lo && addr < vm->image_hi ? find_symbol(vm, addr) : NULL;

	buf[0] = '\0';
	if (s)
		snprintf(buf, len, " <%s+0x%llx>", s->name, (unsigned long long)(addr - s->addr));
}

/*
 * gcc gives a leaf function that needs no stack no frame of its own, even
 * with frame pointers on, so its caller's return address sits at the top of
 * the stack rather than above rbp. Take it when the instruction before it
 * is a direct call to the function that faulted.
 */
static bool leaf_caller(struct hv_vm *vm, uint64_t rip, uint64_t rsp, uint64_t *ret)
{
	const struct symbol *fn = find_symbol(vm, rip);
	const uint64_t *top = vm_guest_read(vm, rsp, 8);
	const uint8_t *call;
	int32_t rel;

	if (!fn || !top || *top < 5)
		return false;
	call = vm_guest_read(vm, *top - 5, 5);
	if (!call || call[0] != 0xe8) /* call rel32 */
		return false;
	memcpy(&rel, call + 1, sizeof(rel));
	if (*top + (uint64_t)(int64_t)rel != fn->addr)
		return false;
	*ret = *top;
	return true;
}

/* What a page-fault address and error code mean, in the terms a programmer debugs in. */
static void describe_pf(const struct hv_vm *vm, uint64_t addr, uint64_t err, char *buf, size_t len)
{
	const char *access = (err & 16) ? "execute" : (err & 2) ? "write" : "read";
	const char *why;

	if (addr < HV_PAGE_SIZE)
		why = "null pointer dereference";
	else if (addr >= vm->stack_lo - HV_STACK_GUARD && addr < vm->stack_lo)
		why = "stack overflow into the guard page";
	else if (addr < HV_IMAGE_BASE)
		why = "hv's reserved area";
	else if (addr >= vm->mem_size)
		why = "beyond guest memory";
	else if (!(err & 1))
		why = "page not mapped";
	else if (err & 16)
		why = "page not executable";
	else if (err & 2)
		why = "page read-only";
	else
		why = "protection";
	snprintf(buf, len, ", address 0x%llx (%s: %s)", (unsigned long long)addr, access, why);
}

static void print_frame(struct hv_vm *vm, int depth, uint64_t addr)
{
	char sym[128];

	name_of(vm, addr, sym, sizeof(sym));
	fprintf(stderr, "hv: %s:   #%d 0x%llx%s\n", vm->name, depth, (unsigned long long)addr, sym);
}

/* Frames above the faulting one, from the guest's frame-pointer chain. */
static void backtrace(struct hv_vm *vm, uint64_t rip, uint64_t rsp, uint64_t rbp)
{
	uint64_t leaf_ret;
	int depth = 1;

	if (leaf_caller(vm, rip, rsp, &leaf_ret))
		print_frame(vm, depth++, leaf_ret);
	for (; depth < HV_BACKTRACE_MAX && rbp != 0; depth++) {
		const uint64_t *frame = vm_guest_read(vm, rbp, 16);
		uint64_t ret;

		if (!frame || rbp % 8)
			break;
		ret = frame[1];
		if (ret == 0)
			break;
		print_frame(vm, depth, ret);
		if (frame[0] <= rbp) /* frames grow up the stack; anything else is a broken chain */
			break;
		rbp = frame[0];
	}
}

/* The guest's registers at the fault, four to a line, each line one write. */
static void print_regs(struct hv_vm *vm)
{
	static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
					     "rbp", "rsp", "r8",  "r9",	 "r10", "r11",
					     "r12", "r13", "r14", "r15", "rip", "rflags" };
	struct hv_regs r;

	if (!vm->be->get_regs || vm->be->get_regs(vm, &r))
		return;
	const uint64_t v[] = { r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
			       r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags };

	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i += 4) {
		char line[192];
		int n = snprintf(line, sizeof(line), "hv: %s: ", vm->name);

		for (unsigned k = i; k < i + 4 && k < sizeof(v) / sizeof(v[0]); k++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %6s 0x%016llx", names[k],
				      (unsigned long long)v[k]);
		fprintf(stderr, "%s\n", line);
	}
}

void fault_report(struct hv_vm *vm, const struct hv_fault *f)
{
	char sym[128], detail[160] = "";
	const char *what;

	what = f->vector < 32 && vector_names[f->vector] ? vector_names[f->vector]
							 : "reserved exception";
	if (f->vector == 14)
		describe_pf(vm, f->cr2, f->error, detail, sizeof(detail));
	else if (f->error)
		snprintf(detail, sizeof(detail), ", error code 0x%llx", (unsigned long long)f->error);
	name_of(vm, f->rip, sym, sizeof(sym));
	vm_fail(vm, HV_EXIT_GUEST_FAULT, "guest fault: %s, vector %llu, at rip 0x%llx%s%s%s", what,
		(unsigned long long)f->vector, (unsigned long long)f->rip, sym, detail,
		f->ring0 ? " (in ring 0)" : "");
	print_regs(vm);
	fprintf(stderr, "hv: %s:   #0 0x%llx%s  rsp 0x%llx rbp 0x%llx\n", vm->name,
		(unsigned long long)f->rip, sym, (unsigned long long)f->rsp,
		(unsigned long long)f->rbp);
	backtrace(vm, f->rip, f->rsp, f->rbp);
}

/* Linux's names for the x86-64 system calls a guest (or a confined hv) is most likely to try. */
const char *hv_syscall_name(uint64_t nr)
{
	static const struct { unsigned nr; const char *name; } names[] = {
		{ 0, "read" },     { 1, "write" },    { 2, "open" },        { 3, "close" },
		{ 9, "mmap" },     { 10, "mprotect" }, { 11, "munmap" },    { 12, "brk" },
		{ 13, "rt_sigaction" }, { 15, "rt_sigreturn" }, { 16, "ioctl" }, { 39, "getpid" },
		{ 41, "socket" },  { 42, "connect" },  { 56, "clone" },     { 57, "fork" },
		{ 59, "execve" },  { 60, "exit" },     { 62, "kill" },      { 101, "ptrace" },
		{ 157, "prctl" },  { 200, "tkill" },   { 228, "clock_gettime" }, { 231, "exit_group" },
		{ 234, "tgkill" }, { 257, "openat" },  { 322, "execveat" }, { 435, "clone3" },
		{ 99, "sysinfo" }, { 204, "sched_getaffinity" }, { 310, "process_vm_readv" },
		{ 311, "process_vm_writev" }, { 262, "newfstatat" }, { 5, "fstat" },
		{ 219, "restart_syscall" }, { 202, "futex" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

/*
 * A guest has no system calls but, on proc, the kicks and blocks of
 * HV_BOOT_LINUX_CALLS: the child's filter refuses every other (on KVM the
 * syscall instruction is #UD), and the domain ends as a fault does.
 */
void fault_syscall(struct hv_vm *vm, const struct hv_fault *f)
{
	const char *name = f->compat ? NULL : hv_syscall_name(f->nr);
	char sym[128];

	name_of(vm, f->rip, sym, sizeof(sym));
	vm_fail(vm, HV_EXIT_GUEST_FAULT,
		"guest fault: system call %llu%s%s%s refused (%s), at rip 0x%llx%s",
		(unsigned long long)f->nr, name ? " (" : "", name ? name : "",
		f->compat ? " (32-bit)" : name ? ")" : "",
		vm->linux_calls ? "a guest makes only its kicks and blocks, as hv_abi.h says"
				: "a guest has none",
		(unsigned long long)f->rip, sym);
	print_regs(vm);
	fprintf(stderr, "hv: %s:   #0 0x%llx%s  rsp 0x%llx rbp 0x%llx\n", vm->name,
		(unsigned long long)f->rip, sym, (unsigned long long)f->rsp,
		(unsigned long long)f->rbp);
	backtrace(vm, f->rip, f->rsp, f->rbp);
}

void fault_shutdown(struct hv_vm *vm, const struct hv_fault *f)
{
	char sym[128];

	name_of(vm, f->rip, sym, sizeof(sym));
	vm_fail(vm, HV_EXIT_GUEST_CRASH, "guest shut down (triple fault) at rip 0x%llx%s, cr2 0x%llx",
		(unsigned long long)f->rip, sym, (unsigned long long)f->cr2);
}
