/* SPDX-License-Identifier: MIT */
/*
 * The image's PVH entry (QEMU -M microvm, later Xen PVH) and the note that
 * names it. The loader enters in 32-bit protected mode with paging off and
 * %ebx = the physical address of struct hvm_start_info (PVH ABI, "x86/HVM
 * direct boot ABI"); this code builds identity page tables for the low
 * 4 GiB, switches to 64-bit mode with SSE on, stays in ring 0, and calls
 * pvh_start() on the boot stack.
 */
#include "pvh.h"
#include "pvh_start_info.h"

#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS 0x080            /* in a page directory: a 2 MiB page */
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define MXCSR_DEFAULT 0x1f80    /* all SIMD exceptions masked, round to nearest */

/*
 * Name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY, the entry's physical address as
 * the value. The value is 8 bytes, as in 64-bit Linux: for an ELF64 image
 * QEMU reads a 64-bit word here (read_pvh_start_addr in hw/i386), and Xen
 * takes numeric notes of 4 or 8 bytes. QEMU also aligns the name by the
 * PT_NOTE segment's p_align, so the notes must stay 4-aligned, not 8.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f
	.long 4f - 3f
	.long XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz "Xen"
2:	.balign 4
3:	.quad pvh_entry32
4:	.balign 4

/*
 * The first 2 MiB are mapped with 4 KiB pages so that page 0 can be
 * unmapped (a null pointer faults), and so is the 2 MiB region that holds
 * the guard page below the stack; the rest of the low 4 GiB with 2 MiB
 * pages. RAM ends below 3 GiB on microvm; the top GiB holds only devices
 * (virtio-mmio at 0xfeb00000, IO APICs at 0xfec00000, the LAPIC at
 * 0xfee00000), so it is mapped uncached (PCD|PWT, SDM vol. 3A 11.12.3).
 * Tables and stacks (and the IDT and shared-info pages, which C fills) are
 * NOLOAD and lie after _end: outside .bss, so libos_clear_bss() does not
 * wipe them while they are in use, and taking no room in the file (on hv
 * they are never touched).
 */
	.section .pvh_boot, "aw", @nobits
	.balign 4096
pvh_pml4:
	.skip 4096
pvh_pdpt:
	.skip 4096
pvh_pd:
	.skip 4 * 4096          /* 4 x 512 entries of 2 MiB: 4 GiB */
pvh_pt0:
	.skip 4096              /* 512 x 4 KiB: the first 2 MiB */
pvh_pt_guard:
	.skip 4096              /* the guard page's 2 MiB, unless that is the first */
	.globl pvh_shared_info
pvh_shared_info:
	.skip 4096              /* struct hv_shared_info, see pvh_events.c */
	.globl pvh_idt
pvh_idt:
	.skip 4096              /* 256 gates, see pvh_idt.c */
	.globl pvh_fault_stack_top
pvh_fault_stack:
	.skip 8192              /* double faults run here (IST1), so stack overflows are reported */
pvh_fault_stack_top:
	.globl pvh_stack_guard
pvh_stack_guard:
	.skip 4096              /* not mapped */
pvh_stack_bottom:
	.skip PVH_STACK_SIZE
	.globl pvh_stack_top
pvh_stack_top:

	.section .data.pvh_gdt, "aw"
	.balign 8
/* Flat segments, accessed bits preset so loading them never writes here. */
	.globl pvh_gdt
pvh_gdt:
	.quad 0
	.quad 0x00af9b000000ffff /* PVH_SEL_CODE: 64-bit code, DPL 0 */
	.quad 0x00cf93000000ffff /* PVH_SEL_DATA: data, DPL 0 */
	.quad 0, 0               /* PVH_SEL_TSS: filled in by pvh_idt_init() */
pvh_gdt_end:
pvh_gdt_ptr:
	.word pvh_gdt_end - pvh_gdt - 1
	.long pvh_gdt

	.section .text.pvh_entry, "ax"
	.code32
	.globl pvh_entry32
	.type pvh_entry32, @function
pvh_entry32:
	cli
	cld
	mov %ebx, %esi                  /* hvm_start_info, for pvh_start() */

	/* PML4 and PDPT: zero, then one entry and four. */
	mov $pvh_pml4, %edi
	xor %eax, %eax
	mov $(2 * 4096 / 4), %ecx
	rep stosl
	movl $(pvh_pdpt + PTE_P + PTE_W), pvh_pml4
	movl $(pvh_pd + 0 * 4096 + PTE_P + PTE_W), pvh_pdpt + 0
	movl $(pvh_pd + 1 * 4096 + PTE_P + PTE_W), pvh_pdpt + 8
	movl $(pvh_pd + 2 * 4096 + PTE_P + PTE_W), pvh_pdpt + 16
	movl $(pvh_pd + 3 * 4096 + PTE_P + PTE_W), pvh_pdpt + 24

	/* 2048 directory entries, one per 2 MiB; the last 512 (the top GiB) uncached. */
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P + PTE_W + PTE_PS), %eax
	cmp $(3 * 512), %ecx
	jb 2f
	or $(PTE_PCD + PTE_PWT), %eax
2:	mov %eax, pvh_pd(, %ecx, 8)
	movl $0, pvh_pd + 4(, %ecx, 8)
	inc %ecx
	cmp $(4 * 512), %ecx
	jb 1b

	/*
	 * The first 2 MiB through pvh_pt0. Page 0 stays mapped until
	 * pvh_start() has read the start info, which a loader may put there
	 * (SeaBIOS's PVH option ROM does), then pvh_unmap_page0() takes it out.
	 */
	mov $pvh_stack_top, %esp        /* a stack for the calls below; paging is still off */
	mov $pvh_pt0, %edi
	xor %eax, %eax
	call fill_pt
	/* The guard page's region through a table too, and its entry cleared. */
	mov $pvh_stack_guard, %eax
	shr $21, %eax
	mov $pvh_pt0, %edi
	test %eax, %eax
	jz 4f
	mov $pvh_pt_guard, %edi
	call fill_pt
4:	mov $pvh_stack_guard, %eax
	shr $12, %eax
	and $511, %eax
	movl $0, (%edi, %eax, 8)

	/* Long mode (SDM vol. 3A 9.8.5): PAE, CR3, EFER.LME, then paging on. */
	lgdt pvh_gdt_ptr
	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $pvh_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	/* SSE needs CR0.EM clear and CR0.MP set (SDM vol. 3A 13.1.3). */
	mov %cr0, %eax
	and $~(CR0_EM | CR0_TS), %eax
	or $(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
	mov %eax, %cr0
	ljmp $PVH_SEL_CODE, $pvh_entry64

	.code64
pvh_entry64:
	mov $PVH_SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $pvh_stack_top, %esp        /* zero-extended into %rsp */
	fninit
	pushq $MXCSR_DEFAULT
	ldmxcsr (%rsp)
	add $8, %rsp
	xor %ebp, %ebp                  /* the end of every backtrace */
	mov %esi, %edi                  /* zero-extended: the hvm_start_info pointer */
	call pvh_start
	ud2
	.size pvh_entry32, . - pvh_entry32

/* Unmap page 0, so that a null pointer faults. */
	.code64
	.globl pvh_unmap_page0
	.type pvh_unmap_page0, @function
pvh_unmap_page0:
	movq $0, pvh_pt0
	invlpg 0
	ret
	.size pvh_unmap_page0, . - pvh_unmap_page0

/*
 * Fill the page table at %edi with the identity map of 2 MiB region %eax,
 * in 4 KiB pages, and point that region's directory entry at it.
 * Clobbers %eax, %ecx, %edx.
 */
	.code32
	.type fill_pt, @function
fill_pt:
	movl $0, pvh_pd + 4(, %eax, 8)
	lea (PTE_P + PTE_W)(%edi), %edx
	mov %edx, pvh_pd(, %eax, 8)
	shl $21, %eax
	or $(PTE_P + PTE_W), %eax
	xor %ecx, %ecx
1:	mov %eax, (%edi, %ecx, 8)
	movl $0, 4(%edi, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $512, %ecx
	jb 1b
	ret
	.size fill_pt, . - fill_pt

	.section .note.GNU-stack, "", @progbits
