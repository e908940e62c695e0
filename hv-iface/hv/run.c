/* SPDX-License-Identifier: MIT */
/* The vCPU loop: let the backend run the guest, sort each exit, serve it or end the VM. */
#include <string.h>

#include "backend.h"
#include "gdb.h"
#include "hv.h"
#include "trace.h"
#include "virtio_dev.h"

static void handle_io(struct hv_vm *vm, const struct hv_vmexit *x)
{
	unsigned port = x->io.port;

	vm->stats.exits[HV_EXITK_HYPERCALL]++;
	if (port < HV_PORT(0) || port >= HV_PORT(HV_CALL_SLOTS) || (port - HV_PORT(0)) % 4) {
		vm_fail(vm, HV_EXIT_GUEST_ABI, "I/O to port 0x%x, which is not a hypercall", port);
		return;
	}
	if (!x->io.is_write || x->io.size != 4 || x->io.count != 1) {
		vm_fail(
		    vm, HV_EXIT_GUEST_ABI,
		    "hypercall port 0x%x used with %s of size %u, count %u (want one 32-bit out)",
		    port, x->io.is_write ? "out" : "in", x->io.size, x->io.count);
		return;
	}
	hypercall_dispatch(vm, (port - HV_PORT(0)) / 4, x->io.data);
}

/* Register accesses to a device's window; anything else is an access to nothing. */
static void handle_mmio(struct hv_vm *vm, struct hv_vmexit *x)
{
	uint64_t addr = x->mmio.addr;
	uint64_t off = addr - HV_DEVICE_BASE;

	vm->stats.exits[HV_EXITK_MMIO]++;
	if (addr >= HV_DEVICE_BASE && off / HV_DEVICE_WINDOW < vm->nr_devices) {
		virtio_mmio_access(vm->devices[off / HV_DEVICE_WINDOW], off % HV_DEVICE_WINDOW,
				   x->mmio.data, x->mmio.len, x->mmio.is_write);
		return;
	}
	if (addr >= HV_SEND_DOORBELL && addr < HV_SEND_DOORBELL + HV_PAGE_SIZE) {
		send_ring_mmio(vm, x->mmio.is_write, x->mmio.data,
			       x->mmio.len <= sizeof(x->mmio.data) ? x->mmio.len : 0);
		return;
	}
	if (addr >= HV_GRANT_WINDOW && addr - HV_GRANT_WINDOW < HV_GRANT_WINDOW_SIZE) {
		gnttab_mmio(vm, addr, x->mmio.is_write, x->mmio.len);
		return;
	}
	vm_fail(vm, HV_EXIT_GUEST_CRASH, "%s of %u bytes at 0x%llx, where no memory or device is",
		x->mmio.is_write ? "write" : "read", x->mmio.len, (unsigned long long)addr);
}

static void handle_exit(struct hv_vm *vm, struct hv_vmexit *x)
{
	switch (x->reason) {
	case HV_X_IO: handle_io(vm, x); break;
	case HV_X_MMIO: handle_mmio(vm, x); break;
	case HV_X_FAULT:
		vm->stats.exits[HV_EXITK_FAULT]++;
		if (!gdb_fault(vm, &x->fault))
			fault_report(vm, &x->fault);
		break;
	case HV_X_SYSCALL:
		vm->stats.exits[HV_EXITK_FAULT]++;
		fault_syscall(vm, &x->fault);
		break;
	case HV_X_SHUTDOWN:
		vm->stats.exits[HV_EXITK_SHUTDOWN]++;
		fault_shutdown(vm, &x->fault);
		break;
	case HV_X_INTR:
		vm->stats.exits[HV_EXITK_INTR]++;
		if (__atomic_load_n(&hv_stop_signal, __ATOMIC_SEQ_CST))
			vm_stop_by_signal(vm);
		break;
	case HV_X_ENDED: vm->stats.exits[HV_EXITK_OTHER]++; break;
	}
}

void vm_stop_by_signal(struct hv_vm *vm)
{
	int sig = __atomic_load_n(&hv_stop_signal, __ATOMIC_SEQ_CST);

	vm_fail(vm, 128 + sig, "stopped by signal %d (%s)", sig, strsignal(sig));
}

void vm_run_start(struct hv_vm *vm)
{
	if (vm->be->vm_start(vm) == 0)
		vm_start_clock(vm);
	area_seal(vm);
	/* A thread that cannot start ends the VM (vm_fail) before its first entry. */
	virtio_devs_start(vm);
}

int vm_run(struct hv_vm *vm)
{
	struct hv_vmexit x = {.reason = HV_X_INTR};

	while (!vm_ended(vm)) {
		uint64_t t0, t1;

		if (gdb_wants_stop(vm)) {
			gdb_stop(vm);
			if (vm_ended(vm))
				break;
		}
		t0 = hv_now_ns();

		vm->be->run(vm, &x);
		t1 = hv_now_ns();
		vm->stats.ns_guest += t1 - t0;
		handle_exit(vm, &x);
		if (trace_on())
			trace_exit(vm, &x, t1);
	}
	/* The guest never runs again; the devices finish their request and stop, as does the ring.
	 */
	vm->be->stop(vm);
	virtio_devs_stop(vm);
	virtio_devs_release(vm);
	send_ring_stop(vm);
	gdb_end(vm);
	if (area_check(vm)) {
		vm->status = HV_EXIT_SOFTWARE;
		vm->exited = false;
	}
	vm->stats.ns_end = hv_now_ns();
	return vm->status;
}
