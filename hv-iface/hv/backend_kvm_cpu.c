/* SPDX-License-Identifier: MIT */
/*
 * The KVM backend's CPU: hv's descriptor tables in guest memory (GDT, TSS
 * with its I/O bitmap, IDT, fault stubs) and the state of the first entry:
 * 64-bit ring 3, SSE on.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "backend_kvm.h"
#include "hv.h"

#define SEL_KERNEL_CS 0x08
#define SEL_USER_DS (0x18 | 3)
#define SEL_USER_CS (0x20 | 3)
#define SEL_TSS 0x28

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define NR_STUBS 32
#define STUB_SIZE 16

/* The 64-bit TSS (Intel SDM vol. 3, 8.7); the I/O bitmap follows it. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

#define IOBITMAP_BYTES (65536 / 8)
/* The CPU may read one byte past the bitmap; it must be all ones. */
#define TSS_LIMIT (sizeof(struct tss64) + IOBITMAP_BYTES + 1 - 1)

_Static_assert(sizeof(struct tss64) == 104, "TSS layout");
_Static_assert(HV_L_TSS + TSS_LIMIT < HV_L_STUBS, "TSS and bitmap fit their pages");
_Static_assert(HV_FAULT_PORT == 0x4f0, "fault_stubs_x86_64.S writes to port 0x4f0");

extern const uint8_t hv_fault_stubs[], hv_fault_stubs_end[];

static void write_gdt(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + HV_L_GDT);
	uint64_t base = HV_L_TSS, limit = TSS_LIMIT;

	gdt[0] = 0;
	/* Accessed bits preset, so loading a selector never writes the GDT. */
	gdt[1] = 0x00209b0000000000ull; /* kernel code: present, DPL 0, long mode */
	gdt[2] = 0x00cf93000000ffffull; /* kernel data */
	gdt[3] = 0x00cff3000000ffffull; /* user data: DPL 3 */
	gdt[4] = 0x0020fb0000000000ull; /* user code: DPL 3, long mode */
	/* 64-bit available TSS: a 16-byte descriptor (SDM vol. 3, 8.2.3). */
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;
}

/* The TSS names the fault stack, and its I/O bitmap opens exactly the hypercall ports. */
static void write_tss(uint8_t *mem)
{
	struct tss64 *tss = (struct tss64 *)(mem + HV_L_TSS);
	uint8_t *bitmap = mem + HV_L_TSS + sizeof(*tss);

	memset(tss, 0, sizeof(*tss));
	tss->rsp[0] = HV_L_FSTACK_TOP;
	tss->ist[0] = HV_L_FSTACK_TOP;
	tss->iomap_base = sizeof(*tss);
	memset(bitmap, 0xff, IOBITMAP_BYTES + 1);
	/* A 32-bit out checks the bits of all 4 ports it covers. */
	for (unsigned port = HV_PORT(0); port < HV_PORT(HV_CALL_SLOTS); port++)
		bitmap[port / 8] &= (uint8_t)~(1u << (port % 8));
}

/*
 * Interrupt gates on IST1, DPL 0 (so `int n` from ring 3 is a #GP) but for #BP, DPL 3: int3
 * from ring 3 is a breakpoint (what gdb places, gdb.c), as on any x86 OS.
 */
static void write_idt(uint8_t *mem)
{
	uint64_t *idt = (uint64_t *)(mem + HV_L_IDT);

	memcpy(mem + HV_L_STUBS, hv_fault_stubs, (size_t)(hv_fault_stubs_end - hv_fault_stubs));
	for (unsigned v = 0; v < NR_STUBS; v++) {
		uint64_t off = HV_L_STUBS + v * STUB_SIZE;

		idt[2 * v] = (off & 0xffff) | ((uint64_t)SEL_KERNEL_CS << 16) | (1ull << 32) |
			     ((v == 3 ? 0xeeull : 0x8eull) << 40) | (((off >> 16) & 0xffff) << 48);
		idt[2 * v + 1] = off >> 32;
	}
}

void kvm_cpu_write_tables(uint8_t *mem)
{
	write_gdt(mem);
	write_tss(mem);
	write_idt(mem);
}

static struct kvm_segment segment(uint16_t sel, uint8_t type, int code)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = sel & 3,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

int kvm_cpu_set_boot_state(int vcpu_fd, uint64_t rip, uint64_t rsp, uint64_t rdi, uint64_t cr3)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	if ((size_t)(hv_fault_stubs_end - hv_fault_stubs) < NR_STUBS * STUB_SIZE ||
	    (size_t)(hv_fault_stubs_end - hv_fault_stubs) > HV_L_FSTACK - HV_L_STUBS)
		return -EINVAL;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = segment(SEL_USER_CS, 11, 1);
	sregs.ss = sregs.ds = sregs.es = sregs.fs = sregs.gs = segment(SEL_USER_DS, 3, 0);
	sregs.tr = (struct kvm_segment){
		.base = HV_L_TSS, .limit = TSS_LIMIT, .selector = SEL_TSS,
		.type = 11, /* 64-bit busy TSS */
		.present = 1,
	};
	sregs.ldt = (struct kvm_segment){ .type = 2, .present = 1, .unusable = 1 };
	sregs.gdt.base = HV_L_GDT;
	sregs.gdt.limit = 7 * 8 - 1;
	sregs.idt.base = HV_L_IDT;
	sregs.idt.limit = NR_STUBS * 16 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = cr3;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;    /* x87 default: all exceptions masked, 64-bit precision */
	fpu.mxcsr = 0x1f80; /* SSE default: all exceptions masked, round to nearest */
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsp = rsp;
	regs.rdi = rdi;
	regs.rflags = 0x2; /* IF off: nothing is ever injected on hv */
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
