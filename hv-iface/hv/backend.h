/* SPDX-License-Identifier: MIT */
/*
 * The seam between hv's common code and the two ways it runs a guest:
 * backend_kvm*.c (a VM on /dev/kvm) and backend_proc*.c (the guest as a
 * confined child process). Everything above this header (hypercalls,
 * devices, event channels, grants, the store, fault reports) is one code
 * path that names no backend.
 */
#ifndef HV_BACKEND_H
#define HV_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "paging.h"

struct hv_vm;

/* A CPU exception (or, on proc, a system call) the guest took, as the fault report needs it. */
struct hv_fault {
	uint64_t vector, error; /* error: the CPU's error code (#PF: its P, W/R and I/D bits) */
	uint64_t rip, rsp, rbp;
	uint64_t cr2;
	uint64_t nr; /* HV_X_SYSCALL: the system call's number */
	bool ring0;  /* taken in ring 0 (only hv's own stubs can be there) */
	bool compat; /* HV_X_SYSCALL: a 32-bit system call (int 0x80) */
};

/* Why the guest stopped running, decoded by the backend. */
enum hv_vmexit_reason {
	HV_X_IO,       /* port I/O: io */
	HV_X_MMIO,     /* an access where no memory is: mmio */
	HV_X_FAULT,    /* a CPU exception: fault */
	HV_X_SHUTDOWN, /* a triple fault: fault.rip and fault.cr2 */
	HV_X_SYSCALL,  /* a system call, refused (proc): fault.nr, rip, rsp, rbp */
	HV_X_INTR,     /* kicked (vm_kick) or a signal: nothing to serve */
	HV_X_ENDED,    /* the backend ended the VM itself (vm_fail said why) */
};

struct hv_vmexit {
	enum hv_vmexit_reason reason;
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2 or 4 bytes */
			bool is_write;
			uint32_t count; /* 1 but for string instructions */
			uint32_t data;	/* out: the value; in: hv's answer */
		} io;
		struct {
			uint64_t addr;
			uint32_t len; /* 1, 2, 4 or 8; 0 when the instruction is not known */
			bool is_write;
			uint8_t data[8]; /* write: the bytes; read: hv's answer */
		} mmio;
		struct hv_fault fault;
	};
};

/*
 * A stopped guest's registers as a debugger sees them (gdb.c): its own ring-3
 * state, also when a fault stopped it inside hv's ring-0 stub on kvm.
 */
struct hv_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint32_t cs, ss, ds, es, fs, gs;
};

/* The flags a debugger may change: CF PF AF ZF SF TF DF OF AC, never IF or IOPL. */
#define HV_REGS_USER_FLAGS 0x40dd5ull
#define HV_REGS_TF 0x100ull

struct hv_backend {
	const char *name;
	/* What --stats counts as one exit on this backend. */
	const char *exit_means;
	/* The guest may make hv_abi.h's HV_BOOT_LINUX_CALLS (proc: it is a Linux process). */
	bool linux_calls;
	/*
	 * Process-wide setup: 0, or (with a message unless quiet) the hv_exit_code
	 * saying why this backend cannot run here.
	 */
	int (*open)(bool quiet);
	/*
	 * The domain's memory (vm->mem, zeroed) and vCPU; sets vm->tsc_hz, or
	 * leaves it 0 for vm_start. 0 or an hv_exit_code.
	 */
	int (*vm_create)(struct hv_vm *vm, uint64_t mem_size);
	/*
	 * The guest's address space from the layout's ranges (hv's area, the
	 * image, heap, stack, device windows, the doorbell and grant window),
	 * to enter at vm->entry in ring 3 (kvm: page tables and the boot CPU
	 * state now; proc: kept for vm_start). 0 or an hv_exit_code.
	 */
	int (*vm_boot)(struct hv_vm *vm, const struct pg_range *r, unsigned n);
	/*
	 * The vCPU thread, before the first run: what must be done there (proc:
	 * the child, which only this thread may trace), and vm->tsc_hz if
	 * vm_create left it 0. 0, or an hv_exit_code after vm_fail.
	 */
	int (*vm_start)(struct hv_vm *vm);
	/*
	 * Run the guest until it exits, first handing it what hv answered to the
	 * previous exit in *x (an in's or MMIO read's data). Returns with *x set.
	 */
	void (*run)(struct hv_vm *vm, struct hv_vmexit *x);
	/* Any thread: make run() return HV_X_INTR soon (or at once, when the guest is out). */
	void (*kick)(struct hv_vm *vm);
	/* After the last run(): the guest never runs again (proc: its process is killed). */
	void (*stop)(struct hv_vm *vm);
	void (*vm_destroy)(struct hv_vm *vm);
	/*
	 * vCPU thread, inside a hypercall: grant-window page i of vm shows page
	 * frame of granter (the same memory), read-only if asked; unmap takes it
	 * away before it returns 0. Both return 0 or a negative errno (a map
	 * that fails may have ended the domain, with vm_fail saying why).
	 */
	int (*grant_map)(struct hv_vm *vm, uint32_t i, struct hv_vm *granter, uint32_t frame,
			 bool readonly);
	int (*grant_unmap)(struct hv_vm *vm, uint32_t i);
	/* Grant-window pages this backend can map at once (at most the window's). */
	uint32_t (*grant_pages)(struct hv_vm *vm);
	/*
	 * A 4-byte write to gpa (of value datamatch, unless any) writes eventfd
	 * fd without an exit. 0, or a negative errno: -EOPNOTSUPP when the
	 * backend has no such path (the write then exits, as without one).
	 */
	int (*doorbell)(struct hv_vm *vm, uint64_t gpa, bool any, uint32_t datamatch, int fd);
	/*
	 * vCPU thread, the guest stopped (after run() returned): read or change its
	 * registers. set_regs changes the general-purpose registers, rip, and of
	 * rflags only HV_REGS_USER_FLAGS; segments stay. 0, -EBUSY when the guest
	 * is not stopped yet (proc: a kick on its way; run() again), or -errno.
	 */
	int (*get_regs)(struct hv_vm *vm, struct hv_regs *r);
	int (*set_regs)(struct hv_vm *vm, const struct hv_regs *r);
};

extern const struct hv_backend hv_backend_kvm, hv_backend_proc;

/*
 * Open the backend named by --backend ("kvm", "proc", or "auto" / NULL: kvm
 * where /dev/kvm is usable, else proc): 0 and *be set, or an hv_exit_code
 * after a message saying why it cannot run here.
 */
int backend_choose(const char *name, const struct hv_backend **be);

/* For --help: which backend auto takes on this host, and why. */
void backend_print_auto(FILE *f);

#endif /* HV_BACKEND_H */
