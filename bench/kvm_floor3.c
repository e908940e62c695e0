/* SPDX-License-Identifier: MIT */
/*
 * kvm_floor3: the floors under hv's hypercall and doorbell, from a guest in 64-bit ring 3
 * set up exactly as hv sets one up (its GDT, TSS with I/O bitmap, IDT and page-table code,
 * linked in), but with no run loop around it: KVM's own cost and nothing of hv's.
 *   kvm_floor3 exits N      N port exits (the guest's `out` loop): prints exit_ns=
 *   kvm_floor3 doorbell MS  ring-3 MMIO writes to an ioeventfd for MS ms: prints doorbell_ns=
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "backend_kvm.h"
#include "hv.h"
#include "paging.h"

#define MEM (4ull << 20)
#define CODE 0x100000ull
#define DOORBELL 0xc0000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	/* mov $0x500,%dx; 1: out %eax,%dx; jmp 1b */
	static const unsigned char exits[] = { 0x66, 0xba, 0x00, 0x05, 0xef, 0xeb, 0xfd };
	/* mov $0xc0000000,%ebx; 1: movl %eax,(%rbx); jmp 1b */
	static const unsigned char bell[] = { 0xbb, 0x00, 0x00, 0x00, 0xc0, 0x89, 0x03, 0xeb, 0xfc };
	int doorbell = argc > 1 && !strcmp(argv[1], "doorbell");
	long n = argc > 2 ? atol(argv[2]) : 10000;
	struct kvm_userspace_memory_region region;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm_fd, vcpu_fd;
	uint8_t *mem;
	uint64_t cr3;

	if (kvm < 0)
		return fail("/dev/kvm");
	vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm_fd < 0 || mem == MAP_FAILED)
		return fail("KVM_CREATE_VM");
	region = (struct kvm_userspace_memory_region){ .slot = 0, .memory_size = MEM,
						       .userspace_addr = (uintptr_t)mem };
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	struct kvm_run *run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
				   PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (vcpu_fd < 0 || run == MAP_FAILED)
		return fail("KVM_CREATE_VCPU");
	memcpy(mem + CODE, doorbell ? bell : exits, doorbell ? sizeof(bell) : sizeof(exits));
	kvm_cpu_write_tables(mem);
	struct pg_range r[] = {
		{ HV_L_GDT, HV_PAGE_SIZE, PG_WRITE }, { HV_L_IDT, HV_PAGE_SIZE, 0 },
		{ HV_L_TSS, HV_L_STUBS - HV_L_TSS, PG_WRITE }, { HV_L_STUBS, HV_PAGE_SIZE, PG_EXEC },
		{ HV_L_FSTACK, HV_L_FSTACK_TOP - HV_L_FSTACK, PG_WRITE },
		{ CODE, HV_PAGE_SIZE, PG_USER | PG_EXEC }, { MEM - HV_PAGE_SIZE, HV_PAGE_SIZE, PG_USER | PG_WRITE },
		{ DOORBELL, HV_PAGE_SIZE, PG_USER | PG_WRITE },
	};
	if (paging_build(mem, HV_L_PT_POOL, HV_L_BOOT_INFO, r, sizeof(r) / sizeof(r[0]), &cr3))
		return fail("paging_build");
	int rc = kvm_cpu_set_boot_state(vcpu_fd, CODE, MEM, HV_L_BOOT_INFO, cr3);
	if (rc) {
		errno = -rc;
		return fail("kvm_cpu_set_boot_state");
	}
	if (!doorbell) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			if (ioctl(vcpu_fd, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO)
				return fail("KVM_RUN: not a port exit");
		printf("exit_ns=%.1f exits=%ld\n", (double)(now_ns() - t0) / (double)n, n);
		return 0;
	}
	int efd = eventfd(0, EFD_NONBLOCK);
	struct kvm_ioeventfd io = { .addr = DOORBELL, .len = 4, .fd = efd };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { n / 1000, (n % 1000) * 1000 } };
	uint64_t count = 0, t0;

	if (efd < 0 || ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0)
		return fail("KVM_IOEVENTFD");
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = now_ns();
	if (ioctl(vcpu_fd, KVM_RUN, 0) == 0 || errno != EINTR)
		return fail("KVM_RUN: want EINTR from the alarm");
	uint64_t ns = now_ns() - t0;
	if (read(efd, &count, sizeof(count)) != sizeof(count) || !count)
		return fail("no doorbell counted");
	printf("doorbell_ns=%.1f doorbells=%llu\n", (double)ns / (double)count, (unsigned long long)count);
	return 0;
}
