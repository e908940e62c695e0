/* SPDX-License-Identifier: MIT */
/*
 * Cooperative context switch and the first frame of a new thread. Only what
 * the SysV ABI makes callee-saved is kept: rbx, rbp, r12-r15, the MXCSR
 * control bits and the x87 control word. Nothing here is privileged.
 */

/*
 * void ctx_switch(uintptr_t *save_rsp, uintptr_t next_rsp)
 * Saves the current context on its stack and its rsp in *save_rsp, then
 * resumes the context whose stack pointer is next_rsp.
 */
	.text
	.globl ctx_switch
	.type ctx_switch, @function
ctx_switch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	mov %rsp, (%rdi)
	mov %rsi, %rsp
	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size ctx_switch, . - ctx_switch

/*
 * A new thread's stack is laid out as a ctx_switch frame whose return
 * address is thread_start, with r12 = the struct thread. Its rbp is 0, so
 * backtraces end here.
 */
	.globl thread_start
	.type thread_start, @function
thread_start:
	mov %r12, %rdi
	and $-16, %rsp
	call thread_main
	ud2
	.size thread_start, . - thread_start

	.section .note.GNU-stack, "", @progbits
