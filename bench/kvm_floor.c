/* SPDX-License-Identifier: MIT */
/*
 * kvm_floor: the least a KVM program can do, as floors under hv's numbers.
 *   kvm_floor              create a VM with one page and one vCPU, run it to its first exit
 *                          (an `out`), exit: the floor under hv's boot time
 *   kvm_floor exits N      N port-I/O exits to this program: prints exit_ns=, the floor under
 *                          a hypercall round trip
 *   kvm_floor doorbell MS  MMIO writes to an address registered as an ioeventfd, for MS
 *                          milliseconds: prints doorbell_ns=, the floor under a virtio kick
 * The guest is a two-instruction loop in real mode; on a host where ring-0 guest code is
 * emulated, those instructions' emulation is part of each figure (about 1-2 us here).
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DOORBELL_GPA 0x2000 /* outside the one page of memory: MMIO */

static int fail(const char *what)
{
	perror(what);
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_alarm(int sig)
{
	(void)sig; /* only to make KVM_RUN return EINTR */
}

int main(int argc, char **argv)
{
	/* out %al,$0x10; hlt | out %al,$0x10; jmp .-4 | mov %al,(0x2000); jmp .-5 */
	static const unsigned char boot[] = { 0xe6, 0x10, 0xf4 };
	static const unsigned char exits[] = { 0xe6, 0x10, 0xeb, 0xfc };
	static const unsigned char bell[] = { 0xa2, 0x00, 0x20, 0xeb, 0xfb };
	const char *mode = argc > 1 ? argv[1] : "boot";
	long n = argc > 2 ? atol(argv[2]) : 0;
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, efd = -1;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm < 0 || mem == MAP_FAILED)
		return fail("KVM_CREATE_VM");
	if (!strcmp(mode, "exits"))
		memcpy(mem, exits, sizeof(exits));
	else if (!strcmp(mode, "doorbell"))
		memcpy(mem, bell, sizeof(bell));
	else
		memcpy(mem, boot, sizeof(boot));
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = 4096,
		.userspace_addr = (unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap vcpu");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");

	if (!strcmp(mode, "exits")) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO)
				return fail("KVM_RUN");
		printf("exit_ns=%.1f exits=%ld\n", (double)(now_ns() - t0) / (double)n, n);
		return 0;
	}
	if (!strcmp(mode, "doorbell")) {
		struct kvm_ioeventfd io = { .addr = DOORBELL_GPA, .len = 1 };
		struct sigaction sa = { .sa_handler = on_alarm };
		struct itimerval it = { .it_value = { n / 1000, (n % 1000) * 1000 } };
		uint64_t count = 0, t0;

		efd = eventfd(0, EFD_NONBLOCK);
		io.fd = efd;
		if (efd < 0 || ioctl(vm, KVM_IOEVENTFD, &io) < 0)
			return fail("KVM_IOEVENTFD");
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		t0 = now_ns();
		if (ioctl(vcpu, KVM_RUN, 0) == 0) /* the loop never leaves the kernel: only EINTR */
			return fail("KVM_RUN returned without the alarm");
		uint64_t ns = now_ns() - t0;
		if (read(efd, &count, sizeof(count)) != sizeof(count) || count == 0)
			return fail("no doorbell counted");
		printf("doorbell_ns=%.1f doorbells=%llu\n", (double)ns / (double)count,
		       (unsigned long long)count);
		return 0;
	}
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10) {
		fprintf(stderr, "kvm_floor: unexpected exit %u\n", run->exit_reason);
		return 1;
	}
	return 0;
}
