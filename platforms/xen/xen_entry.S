/* SPDX-License-Identifier: MIT */
/*
 * What Xen reads from the image and enters: the hypercall page, the notes of
 * a PV image (the PVH entry note is in platforms/kvm/pvh_entry.S), the PV
 * entry, and the PV event and failsafe callbacks.
 */
#include "pvh.h"
#include "xen_abi.h"

#define MXCSR_DEFAULT 0x1f80
#define RFLAGS_IF 0x200

/* A note named "Xen": note TYPE, then the value's directives. */
.macro xen_note type
	.balign 4
	.long 2f - 1f
	.long 4f - 3f
	.long \type
1:	.asciz "Xen"
2:	.balign 4
3:
.endm
.macro xen_note_end
4:	.balign 4
.endm

	.section .note.Xen, "a", @note
	xen_note XEN_ELFNOTE_XEN_VERSION
	.asciz "xen-3.0"
	xen_note_end
	xen_note XEN_ELFNOTE_LOADER
	.asciz "generic"
	xen_note_end
	xen_note XEN_ELFNOTE_GUEST_OS
	.asciz "libos"
	xen_note_end
	/* Pseudo-physical frame f at virtual address f * 4096: the image's own addresses. */
	xen_note XEN_ELFNOTE_VIRT_BASE
	.quad 0
	xen_note_end
	xen_note XEN_ELFNOTE_PADDR_OFFSET
	.quad 0
	xen_note_end
	xen_note XEN_ELFNOTE_ENTRY
	.quad xen_pv_entry
	xen_note_end
	xen_note XEN_ELFNOTE_HYPERCALL_PAGE
	.quad xen_hypercall_page
	xen_note_end

/*
 * 128 stubs of 32 bytes, one per hypercall number, that Xen writes: when it
 * builds a PV guest, or when a PVH guest writes the page's address to the
 * MSR CPUID names (xen_pvh_start, before its first hypercall). Xen's bytes
 * replace whatever is there, so the page takes no room in the file: image.ld
 * puts it page-aligned at the end of the text segment, zero when loaded.
 */
	.section .xen_hypercall_page, "ax", @nobits
	.globl xen_hypercall_page
xen_hypercall_page:
	.skip 4096
	.size xen_hypercall_page, 4096

/*
 * The PV entry: 64-bit, ring 3 (Xen's guest-kernel mode), events masked,
 * %rsi = the start_info, %rsp = a one-page stack at the top of the boot
 * area Xen mapped. Switch to the image's boot stack, let SSE run (CR0.TS
 * is Xen's to clear, by fpu_taskswitch), and call xen_pv_start(start_info,
 * Xen's stack top: the first page past the boot area's contents).
 */
	.section .text.xen_pv_entry, "ax"
	.globl xen_pv_entry
	.type xen_pv_entry, @function
xen_pv_entry:
	cld
	mov %rsi, %r12
	mov %rsp, %r13
	mov $pvh_stack_top, %rsp
	xor %edi, %edi
	call xen_hypercall_page + 32 * XEN_HC_FPU_TASKSWITCH
	fninit
	pushq $MXCSR_DEFAULT
	ldmxcsr (%rsp)
	add $8, %rsp
	xor %ebp, %ebp
	mov %r12, %rdi
	mov %r13, %rsi
	call xen_pv_start
	ud2
	.size xen_pv_entry, . - xen_pv_entry

/*
 * Xen enters the event callback with upcalls masked, on the current stack:
 * %rcx, %r11, then an iret frame (rip, cs, rflags, rsp, ss). The guest
 * blocks with SCHEDOP_block, which unmasks upcalls; the callback only
 * returns there with them masked again (IF clear in the frame: HYPERVISOR_iret
 * sets the mask from it), and libos finds the event in the shared-info page.
 * The iret stub pushes %rcx, %r11 and %rax itself, above a flags word.
 */
	.globl xen_pv_event_callback
	.type xen_pv_event_callback, @function
xen_pv_event_callback:
	mov (%rsp), %rcx
	mov 8(%rsp), %r11
	add $16, %rsp
	andq $~RFLAGS_IF, 16(%rsp)
	pushq $0
	jmp xen_hypercall_page + 32 * XEN_HC_IRET
	.size xen_pv_event_callback, . - xen_pv_event_callback

/*
 * CPU exceptions of a PV guest: Xen bounces them to the trap table's
 * handler on the current stack as %rcx, %r11, the error code (for the
 * vectors that have one), then an iret frame. Each stub restores %rcx and
 * %r11, pushes an error code of 0 where the CPU gives none and the vector,
 * then the common code pushes the registers to make the trap frame the PVH
 * platform's fault report reads (struct pvh_trap_frame), and calls
 * xen_pv_trap(frame), which does not return.
 */
.macro pv_trap vector, has_error
	.globl xen_pv_trap_\vector
xen_pv_trap_\vector:
	mov (%rsp), %rcx
	mov 8(%rsp), %r11
	add $16, %rsp
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vector
	jmp xen_pv_trap_common
.endm

	pv_trap 0, 0
	pv_trap 1, 0
	pv_trap 3, 0
	pv_trap 4, 0
	pv_trap 5, 0
	pv_trap 6, 0
	pv_trap 7, 0
	pv_trap 10, 1
	pv_trap 11, 1
	pv_trap 12, 1
	pv_trap 13, 1
	pv_trap 14, 1
	pv_trap 16, 0
	pv_trap 17, 1
	pv_trap 19, 0

xen_pv_trap_common:
	pvh_push_gprs
	mov %rsp, %rdi
	and $~15, %rsp
	call xen_pv_trap
	ud2

/* Xen could not load the segments of a frame it returned to: nothing to retry. */
	.globl xen_pv_failsafe_callback
	.type xen_pv_failsafe_callback, @function
xen_pv_failsafe_callback:
	and $~15, %rsp
	call xen_pv_failsafe
	ud2
	.size xen_pv_failsafe_callback, . - xen_pv_failsafe_callback

	.section .note.GNU-stack, "", @progbits
