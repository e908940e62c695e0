/* SPDX-License-Identifier: MIT */
/* The KVM backend's pieces shared between its files: the CPU's tables and boot state. */
#ifndef HV_BACKEND_KVM_H
#define HV_BACKEND_KVM_H

#include <stdint.h>

/* backend_kvm_cpu.c: hv's GDT, TSS (with the I/O bitmap), IDT and fault stubs in guest memory. */
void kvm_cpu_write_tables(uint8_t *mem);
/* The vCPU's state at the first entry: 64-bit ring 3, SSE on. 0 or a negative errno. */
int kvm_cpu_set_boot_state(int vcpu_fd, uint64_t rip, uint64_t rsp, uint64_t rdi, uint64_t cr3);

#endif /* HV_BACKEND_KVM_H */
