/* SPDX-License-Identifier: MIT */
/*
 * The program every proc-backend guest process execs, so that its address
 * space holds nothing of hv: no libc, no heap, no hv code or data. hv never
 * lets this code run on its own; it only borrows the syscall gadgets to inject
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

/* PROC_STUB_BASE + 0x20 (PROC_STUB_BATCH): several injected calls for one
 * stop. rbx points at r12 entries of 8 quadwords, {nr, a0, ..., a5, result};
 * each call runs in turn and stores its result, until one fails (rax in
 * [-4095, -1]) or none is left; then the trap. */
	.org	0x20, 0xcc
	.globl	proc_stub_batch
proc_stub_batch:
1:	test	%r12, %r12
	jz	2f
	mov	0(%rbx), %rax
	mov	8(%rbx), %rdi
	mov	16(%rbx), %rsi
	mov	24(%rbx), %rdx
	mov	32(%rbx), %r10
	mov	40(%rbx), %r8
	mov	48(%rbx), %r9
	syscall
	mov	%rax, 56(%rbx)
	dec	%r12
	add	$64, %rbx
	cmp	$-4095, %rax
	jb	1b
	jmp	2f
/* PROC_STUB_BASE + 0x60: where a batch stops (rip after the trap is 0x61). */
	.org	0x60, 0xcc
2:	int3
	jmp	2b

/* PROC_STUB_SCRATCH: one writable page where hv puts the structures an
 * injected call points to (msghdr, seccomp filter). Never executable. */
	.section .bss, "aw", @nobits
	.balign	4096
	.globl	proc_stub_scratch
proc_stub_scratch:
	.skip	4096

	.section .note.GNU-stack, "", @progbits
