/* SPDX-License-Identifier: MIT */
/*
 * The PVH platform's interrupt and exception entry: a 16-byte stub per
 * vector, and the common path that saves the interrupted code's registers
 * and SSE state, calls pvh_trap(frame) in C, and returns with iretq. The
 * guest runs in ring 0 here, so traps arrive on the current stack (aligned
 * to 16 by the CPU, SDM vol. 3A 6.14.2), except #DF, which gets its own.
 */
#include "pvh.h"

	.section .text.pvh_traps, "ax"
	.code64

/*
 * A stub pushes a zero where the CPU pushes no error code (every vector
 * but 8, 10-14, 17, 21, 29 and 30: SDM vol. 3A table 6-1), so every frame
 * has the same shape (struct pvh_trap_frame), then the vector number.
 * Only the vectors the platform uses have a stub of their own: the
 * exceptions, the GSIs' and the LAPIC's; every other vector shares one
 * that pushes PVH_VECTOR_OTHER (no CPU-pushed error code can reach it).
 * pvh_idt.c finds them in this order, 16 bytes apart.
 */
.macro trap_stub vector
	.balign 16
	.if \vector == 8 || (\vector >= 10 && \vector <= 14) || \vector == 17 \
		|| \vector == 21 || \vector == 29 || \vector == 30
	.else
	pushq $0
	.endif
	pushq $\vector
	jmp pvh_trap_common
.endm

	.balign 16
	.globl pvh_trap_stubs
pvh_trap_stubs:
	vector = 0
	.rept PVH_VECTOR_GSI_BASE + PVH_NR_GSIS
	trap_stub vector
	vector = vector + 1
	.endr
	trap_stub PVH_VECTOR_TIMER
	trap_stub PVH_VECTOR_XEN_UPCALL
	trap_stub PVH_VECTOR_SPURIOUS
	trap_stub PVH_VECTOR_OTHER
	.balign 16
	.globl pvh_trap_stubs_end
pvh_trap_stubs_end:

pvh_trap_common:
	pvh_push_gprs
	mov %rsp, %rbx          /* the frame; %rbx survives the call */
	/*
	 * The C handler may use SSE registers (gcc does for copies and
	 * memset), which the interrupted code owns: save them too. The frame
	 * is 176 bytes, so %rsp is still 16-aligned, as fxsave needs.
	 */
	sub $512, %rsp
	fxsave (%rsp)
	cld
	mov %rbx, %rdi
	call pvh_trap
	fxrstor (%rsp)
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp           /* the vector and the error code */
	iretq

	.section .note.GNU-stack, "", @progbits
