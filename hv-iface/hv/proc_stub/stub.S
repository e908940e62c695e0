/* SPDX-License-Identifier: MIT */
/*
 * The program every proc-backend guest process execs, so that its address
 * space holds nothing of hv: no libc, no heap, no hv code or data. hv never
 * lets this code run on its own; it only borrows the syscall gadget to inject
 * calls and the scratch page to pass them memory. The offsets below are a
 * contract with backend_proc_child.h (PROC_STUB_*): .org makes the assembler
 * refuse to build if code ever grows past them, and stub.ld fixes the
 * addresses.
 */
	.section .text, "ax"
	.globl _start, proc_stub_syscall

/* PROC_STUB_BASE + 0: the exec stop lands here; should hv ever resume the
 * process without moving rip, it stops again at once instead of running on. */
_start:
	int3
	jmp	_start

/* PROC_STUB_BASE + 0x10 (PROC_STUB_SYSCALL): one injected system call, then
 * a trap that hands the process back to hv with the result in rax. */
	.org	0x10, 0xcc
proc_stub_syscall:
	syscall
	int3

/* PROC_STUB_SCRATCH: one writable page where hv puts the structures an
 * injected call points to (msghdr, seccomp filter). Never executable. */
	.section .bss, "aw", @nobits
	.balign	4096
	.globl	proc_stub_scratch
proc_stub_scratch:
	.skip	4096

	.section .note.GNU-stack, "", @progbits
