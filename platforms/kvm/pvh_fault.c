/* SPDX-License-Identifier: MIT */
/*
 * CPU exceptions on QEMU: name the exception, RIP, CR2 for a page fault and
 * what it means, walk the frame-pointer chain, and end the guest with
 * PVH_EXIT_FAULT (80, as hv does). The image carries no symbol table at run
 * time, so addresses are raw; `addr2line -f -e IMAGE ADDR` names them.
 */
#include <stdint.h>

#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define VECTOR_DF 8
#define VECTOR_PF 14
#define PF_PRESENT 0x01 /* page-fault error code bits (SDM vol. 3A 4.7) */
#define PF_WRITE 0x02
#define PF_FETCH 0x10
#define BACKTRACE_MAX 16
#define PAGE_SIZE 4096

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

extern char pvh_stack_guard[];
static uint64_t ram_top;

void pvh_fault_set_ram_top(uint64_t top)
{
	ram_top = top;
}

/* Only RAM is read while reporting: never page 0, the guard page or device registers. */
static int readable(uint64_t addr, uint64_t len)
{
	uint64_t guard = (uintptr_t)pvh_stack_guard;

	return addr >= PAGE_SIZE && addr + len <= ram_top && addr + len > addr &&
	       !(addr < guard + PAGE_SIZE && addr + len > guard);
}

static const char *pf_access(uint64_t err)
{
	if (err & PF_FETCH)
		return "execute";
	return (err & PF_WRITE) ? "write" : "read";
}

static const char *describe_pf(uint64_t addr, uint64_t err)
{
	uint64_t guard = (uintptr_t)pvh_stack_guard;

	if (addr < PAGE_SIZE)
		return "null pointer dereference";
	if (addr >= guard && addr < guard + PAGE_SIZE)
		return "stack overflow into the guard page";
	if (addr >= ram_top)
		return "beyond guest memory";
	if (!(err & PF_PRESENT))
		return "page not mapped";
	return "protection";
}

/*
 * A function that needs no stack frame faults with its caller's return
 * address on top of the stack, not above %rbp. Take that word when the
 * 5 bytes before it are a direct call (e8 rel32) to a point at most 4 KiB
 * before RIP: the start of the function that faulted, most likely.
 */
static int leaf_caller(uint64_t rip, uint64_t rsp, uint64_t *ret)
{
	const uint8_t *call;
	uint64_t target;
	int32_t rel;

	if (!readable(rsp, 8))
		return 0;
	*ret = *(const uint64_t *)(uintptr_t)rsp;
	if (*ret < 5 || !readable(*ret - 5, 5))
		return 0;
	call = (const uint8_t *)(uintptr_t)(*ret - 5);
	if (call[0] != 0xe8)
		return 0;
	__builtin_memcpy(&rel, call + 1, sizeof(rel));
	target = *ret + (uint64_t)(int64_t)rel;
	return target <= rip && rip - target < PAGE_SIZE;
}

static void backtrace(uint64_t rip, uint64_t rsp, uint64_t rbp)
{
	uint64_t ret;
	int depth = 1;

	if (leaf_caller(rip, rsp, &ret))
		pvh_printf("pvh:   #%d 0x%llx\n", depth++, (unsigned long long)ret);
	for (; depth < BACKTRACE_MAX && rbp != 0; depth++) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;

		if (rbp % 8 || !readable(rbp, 16) || frame[1] == 0)
			break;
		pvh_printf("pvh:   #%d 0x%llx\n", depth, (unsigned long long)frame[1]);
		if (frame[0] <= rbp) /* frames grow up the stack; anything else is a broken chain */
			break;
		rbp = frame[0];
	}
}

_Noreturn void pvh_fault(const struct pvh_trap_frame *f)
{
	pvh_fault_cr2(f, read_cr2());
}

_Noreturn void pvh_fault_cr2(const struct pvh_trap_frame *f, uint64_t cr2)
{
	static int reporting;
	const char *what = vector_names[f->vector] ? vector_names[f->vector] : "reserved exception";

	if (reporting++) { /* a fault while reporting one: stop at once */
		pvh_printf("pvh: fault (vector %llu) while reporting a fault\n",
			   (unsigned long long)f->vector);
		pvh_exit(PVH_EXIT_FAULT);
	}
	if (f->vector == VECTOR_PF) {
		uint64_t addr = cr2;

		pvh_printf("pvh: guest fault: %s, vector %llu, at rip 0x%llx, address 0x%llx "
			   "(%s: %s)\n",
			   what, (unsigned long long)f->vector, (unsigned long long)f->rip,
			   (unsigned long long)addr, pf_access(f->error),
			   describe_pf(addr, f->error));
	} else if (f->vector == VECTOR_DF && f->rsp - (uintptr_t)pvh_stack_guard < 2 * PAGE_SIZE) {
		/* A page fault that could not push its frame: the stack ran into the guard. */
		pvh_printf("pvh: guest fault: %s, vector %llu, at rip 0x%llx, address 0x%llx "
			   "(stack overflow into the guard page)\n",
			   what, (unsigned long long)f->vector, (unsigned long long)f->rip,
			   (unsigned long long)cr2);
	} else {
		pvh_printf("pvh: guest fault: %s, vector %llu, at rip 0x%llx, error code 0x%llx\n",
			   what, (unsigned long long)f->vector, (unsigned long long)f->rip,
			   (unsigned long long)f->error);
	}
	pvh_printf("pvh:   #0 0x%llx  rsp 0x%llx rbp 0x%llx\n", (unsigned long long)f->rip,
		   (unsigned long long)f->rsp, (unsigned long long)f->rbp);
	backtrace(f->rip, f->rsp, f->rbp);
	pvh_exit(PVH_EXIT_FAULT);
}
