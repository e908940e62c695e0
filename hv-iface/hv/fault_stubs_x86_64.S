/* SPDX-License-Identifier: MIT */
/*
 * Ring-0 fault stubs that hv copies into the guest's reserved area (as data:
 * this code never runs on the host). Vector v's stub is the 16 bytes at
 * offset 16 * v; it pushes a zero where the CPU pushes no error code, then
 * the vector, then rdx (which the report uses), and reports through
 * HV_FAULT_PORT (0x4f0, see hv.h). hv reads the frame from the stub stack
 * (IST1) and ends the VM; only a debugger's stop (gdb.c) resumes it, and the
 * stub then returns to the guest, with whatever hv wrote into the frame.
 * Every exception arrives on IST1, so the frame is always at the same place,
 * whatever the guest did to its own stack.
 */
	.section .rodata
	.balign 16
	.globl hv_fault_stubs, hv_fault_stubs_end

.macro stub vec, cpu_pushes_error
	.balign 16, 0xcc
	.if \cpu_pushes_error == 0
	pushq $0
	.endif
	pushq $\vec
	jmp report
.endm

hv_fault_stubs:
	stub 0, 0	/* #DE divide error */
	stub 1, 0	/* #DB debug */
	stub 2, 0	/* NMI */
	stub 3, 0	/* #BP breakpoint */
	stub 4, 0	/* #OF overflow */
	stub 5, 0	/* #BR bound range */
	stub 6, 0	/* #UD invalid opcode */
	stub 7, 0	/* #NM device not available */
	stub 8, 1	/* #DF double fault */
	stub 9, 0	/* coprocessor segment overrun */
	stub 10, 1	/* #TS invalid TSS */
	stub 11, 1	/* #NP segment not present */
	stub 12, 1	/* #SS stack fault */
	stub 13, 1	/* #GP general protection */
	stub 14, 1	/* #PF page fault */
	stub 15, 0	/* reserved */
	stub 16, 0	/* #MF x87 floating point */
	stub 17, 1	/* #AC alignment check */
	stub 18, 0	/* #MC machine check */
	stub 19, 0	/* #XM SIMD floating point */
	stub 20, 0	/* #VE virtualization */
	stub 21, 1	/* #CP control protection */
	stub 22, 0
	stub 23, 0
	stub 24, 0
	stub 25, 0
	stub 26, 0
	stub 27, 0
	stub 28, 0
	stub 29, 1	/* #VC */
	stub 30, 1	/* #SX */
	stub 31, 0
	.balign 16, 0xcc
report:
	push %rdx
	mov $0x4f0, %dx
	out %al, %dx
	pop %rdx
	add $16, %rsp	/* the vector and the error code */
	iretq
hv_fault_stubs_end:

	.section .note.GNU-stack, "", @progbits
