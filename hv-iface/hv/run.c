/* SPDX-License-Identifier: MIT */
/* The vCPU loop: enter the guest, sort each exit, serve it or end the VM. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hv.h"
#include "virtio_dev.h"

static void handle_io(struct hv_vm *vm)
{
	const struct kvm_run *run = vm->run;
	unsigned port = run->io.port;

	if (port == HV_FAULT_PORT && run->io.direction == KVM_EXIT_IO_OUT) {
		vm->stats.exits[HV_EXITK_FAULT]++;
		fault_report(vm);
		return;
	}
	vm->stats.exits[HV_EXITK_HYPERCALL]++;
	if (port < HV_PORT(0) || port >= HV_PORT(HV_CALL_SLOTS) || (port - HV_PORT(0)) % 4) {
		vm_fail(vm, HV_EXIT_GUEST_ABI, "I/O to port 0x%x, which is not a hypercall", port);
		return;
	}
	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1 ||
	    run->io.data_offset > vm->run_size - 4) {
		vm_fail(vm, HV_EXIT_GUEST_ABI,
			"hypercall port 0x%x used with %s of size %u, count %u (want one 32-bit out)",
			port, run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.size,
			run->io.count);
		return;
	}
	uint32_t gpa;
	memcpy(&gpa, (const uint8_t *)run + run->io.data_offset, sizeof(gpa));
	hypercall_dispatch(vm, (port - HV_PORT(0)) / 4, gpa);
}

/* Register accesses to a device's window; anything else is an access to nothing. */
static void handle_mmio(struct hv_vm *vm)
{
	struct kvm_run *run = vm->run;
	uint64_t addr = run->mmio.phys_addr;
	uint64_t off = addr - HV_DEVICE_BASE;

	if (addr >= HV_DEVICE_BASE && off / HV_DEVICE_WINDOW < vm->nr_devices) {
		virtio_mmio_access(vm->devices[off / HV_DEVICE_WINDOW], off % HV_DEVICE_WINDOW,
				   run->mmio.data, run->mmio.len, run->mmio.is_write);
		return;
	}
	if (addr >= HV_SEND_DOORBELL && addr < HV_SEND_DOORBELL + HV_PAGE_SIZE) {
		send_ring_mmio(vm, run->mmio.is_write, run->mmio.data,
			       run->mmio.len <= sizeof(run->mmio.data) ? run->mmio.len : 0);
		return;
	}
	if (addr >= HV_GRANT_WINDOW && addr - HV_GRANT_WINDOW < HV_GRANT_WINDOW_SIZE) {
		gnttab_mmio(vm, addr, run->mmio.is_write, run->mmio.len);
		return;
	}
	vm_fail(vm, HV_EXIT_GUEST_CRASH, "%s of %u bytes at 0x%llx, where no memory or device is",
		run->mmio.is_write ? "write" : "read", run->mmio.len,
		(unsigned long long)run->mmio.phys_addr);
}

static void handle_exit(struct hv_vm *vm)
{
	const struct kvm_run *run = vm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vm);
		break;
	case KVM_EXIT_MMIO:
		vm->stats.exits[HV_EXITK_MMIO]++;
		handle_mmio(vm);
		break;
	case KVM_EXIT_SHUTDOWN:
		vm->stats.exits[HV_EXITK_SHUTDOWN]++;
		fault_shutdown(vm);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vm->stats.exits[HV_EXITK_OTHER]++;
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "KVM internal error, suberror %u (emulation failed?)",
			run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm->stats.exits[HV_EXITK_OTHER]++;
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "KVM could not enter the guest (reason 0x%llx)",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		vm->stats.exits[HV_EXITK_OTHER]++;
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "unexpected KVM exit %u", run->exit_reason);
		break;
	}
}

void vm_stop_by_signal(struct hv_vm *vm)
{
	int sig = __atomic_load_n(&hv_stop_signal, __ATOMIC_SEQ_CST);

	vm_fail(vm, 128 + sig, "stopped by signal %d (%s)", sig, strsignal(sig));
}

int vm_run(struct hv_vm *vm)
{
	vm_start_clock(vm);
	/* A thread that cannot start ends the VM (vm_fail) before its first entry. */
	virtio_devs_start(vm);
	while (!vm_ended(vm)) {
		uint64_t t0 = hv_now_ns();
		int rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
		int err = errno;

		vm->stats.ns_guest += hv_now_ns() - t0;
		if (rc < 0) {
			if (err == EINTR || err == EAGAIN) {
				vm->stats.exits[HV_EXITK_INTR]++;
				/*
				 * Sequentially consistent, as are vm_kick()'s writes: if the loop's
				 * test then misses an end, the kick's immediate_exit comes after
				 * this store, and the next KVM_RUN returns at once.
				 */
				__atomic_store_n(&vm->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				if (__atomic_load_n(&hv_stop_signal, __ATOMIC_SEQ_CST))
					vm_stop_by_signal(vm);
				continue;
			}
			vm_fail(vm, HV_EXIT_OSERR, "KVM_RUN: %s", strerror(err));
			break;
		}
		handle_exit(vm);
	}
	/* The devices finish their request and stop; so does the send ring. */
	virtio_devs_stop(vm);
	send_ring_stop(vm);
	vm->stats.ns_end = hv_now_ns();
	return vm->status;
}
