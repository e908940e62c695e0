/* SPDX-License-Identifier: MIT */
/*
 * The image's entry on hv and its ABI note. hv enters _start in 64-bit
 * ring 3 with %rdi = the boot info and %rsp = the top of the main stack.
 */
#include "hv_abi.h"

	.section .note.hv, "a", @note
	.balign 4
	.long 2f - 1f		/* namesz */
	.long 4f - 3f		/* descsz */
	.long HV_NOTE_ABI	/* type */
1:	.asciz HV_NOTE_NAME
2:	.balign 4
3:	.long HV_ABI_VERSION	/* struct hv_note_abi: abi_version */
	.long 0			/* flags */
4:	.balign 4

	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	xor %ebp, %ebp		/* the end of every backtrace */
	and $-16, %rsp		/* the ABI's alignment before a call */
	call hv_start
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
