/* SPDX-License-Identifier: MIT */
/*
 * Preloaded into hv in make test-kvm-nested's VM (LD_PRELOAD): hands KVM_SET_SREGS a task
 * register of type 9 (available 64-bit TSS) where hv gives 11 (busy), and passes every other
 * call through unchanged.
 *
 * Why: a CPU checks ring 3's port I/O against the TSS's I/O bitmap whatever the TSS's busy
 * bit, and hv's 11 is what LTR leaves in the register (and what VMX requires at VM entry).
 * QEMU's TCG, the CPU of that VM, only consults the bitmap when the cached type is 9
 * (target/i386/tcg/seg_helper.c, helper_check_io: its LTR leaves 9 cached), and SVM's VMRUN
 * loads the VMCB's type as it is; so under TCG every hypercall's `out` in a guest of hv is a
 * #GP. With 9, the emulated CPU reads the bitmap as real ones do.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#define TSS64_AVAILABLE 9
#define TSS64_BUSY 11

typedef int (*ioctl_fn)(int fd, unsigned long request, ...);

int ioctl(int fd, unsigned long request, ...)
{
	static ioctl_fn next;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!next)
		next = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
	if (request == KVM_SET_SREGS && arg &&
	    ((const struct kvm_sregs *)arg)->tr.type == TSS64_BUSY) {
		struct kvm_sregs sregs = *(const struct kvm_sregs *)arg;

		sregs.tr.type = TSS64_AVAILABLE;
		return next(fd, request, &sregs);
	}
	return next(fd, request, arg);
}
