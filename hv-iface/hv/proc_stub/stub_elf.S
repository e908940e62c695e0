/* SPDX-License-Identifier: MIT */
/*
 * The built stub (proc_stub, see stub.S), embedded in hv as bytes: hv copies
 * them into a memfd and execs that, so it needs no file on disk. The
 * Makefile passes the stub's folder with -Wa,-I.
 */
	.section .rodata
	.balign	16
	.globl	proc_stub_elf, proc_stub_elf_end
proc_stub_elf:
	.incbin	"proc_stub"
proc_stub_elf_end:

	.section .note.GNU-stack, "", @progbits
