/* SPDX-License-Identifier: MIT */
/*
 * Guest faults: read the frame the ring-0 stub left on the fault stack, name
 * the exception, the faulting address and RIP's symbol, walk the guest's
 * frame-pointer chain, and end the VM.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hv.h"
#include "symbols.h"

/* The stub frame on IST1: vector, error code, then what the CPU pushed. */
enum { F_VECTOR, F_ERROR, F_RIP, F_CS, F_RFLAGS, F_RSP, F_SS, F_WORDS };

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

/* " <main+0x14>", or "" when the image has no symbol for addr. */
static void name_of(struct hv_vm *vm, uint64_t addr, char *buf, size_t len)
{
	const struct symbol *s = find_symbol(vm, addr);

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

void fault_report(struct hv_vm *vm)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t f[F_WORDS];
	char sym[128], detail[160] = "";
	const char *what;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		vm_fail(vm, HV_EXIT_OSERR, "reading registers after a guest fault: %s", strerror(errno));
		return;
	}
	if (regs.rsp != HV_L_FSTACK_TOP - sizeof(f)) {
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "fault stub ran with an unexpected stack 0x%llx",
			(unsigned long long)regs.rsp);
		return;
	}
	memcpy(f, vm->mem + regs.rsp, sizeof(f));
	what = f[F_VECTOR] < 32 && vector_names[f[F_VECTOR]] ? vector_names[f[F_VECTOR]]
							     : "reserved exception";
	if (f[F_VECTOR] == 14)
		describe_pf(vm, sregs.cr2, f[F_ERROR], detail, sizeof(detail));
	else if (f[F_ERROR])
		snprintf(detail, sizeof(detail), ", error code 0x%llx",
			 (unsigned long long)f[F_ERROR]);
	name_of(vm, f[F_RIP], sym, sizeof(sym));
	vm_fail(vm, HV_EXIT_GUEST_FAULT, "guest fault: %s, vector %llu, at rip 0x%llx%s%s%s",
		what, (unsigned long long)f[F_VECTOR], (unsigned long long)f[F_RIP], sym, detail,
		(f[F_CS] & 3) == 3 ? "" : " (in ring 0)");
	fprintf(stderr, "hv: %s:   #0 0x%llx%s  rsp 0x%llx rbp 0x%llx\n", vm->name,
		(unsigned long long)f[F_RIP], sym, (unsigned long long)f[F_RSP],
		(unsigned long long)regs.rbp);
	backtrace(vm, f[F_RIP], f[F_RSP], regs.rbp);
}

void fault_shutdown(struct hv_vm *vm)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	char sym[128];

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "guest shut down (triple fault)");
		return;
	}
	name_of(vm, regs.rip, sym, sizeof(sym));
	vm_fail(vm, HV_EXIT_GUEST_CRASH, "guest shut down (triple fault) at rip 0x%llx%s, cr2 0x%llx",
		(unsigned long long)regs.rip, sym, (unsigned long long)sregs.cr2);
}
