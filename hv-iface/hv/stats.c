/* SPDX-License-Identifier: MIT */
/* --stats: exits by kind and where the time went, printed when the VM ends. */
#include <stdio.h>
#include <time.h>

#include "backend.h"
#include "hv.h"
#include "virtio_dev.h"

uint64_t hv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *const kind_names[HV_EXITK_COUNT] = {
	[HV_EXITK_HYPERCALL] = "hypercall",
	[HV_EXITK_FAULT] = "fault report",
	[HV_EXITK_MMIO] = "mmio",
	[HV_EXITK_INTR] = "interrupted",
	[HV_EXITK_SHUTDOWN] = "shutdown",
	[HV_EXITK_OTHER] = "other",
};

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/*
 * What each device served, and the work that cost the vCPU no exit: the
 * kicks its I/O thread took from a doorbell (KVM's ioeventfd; none on
 * proc, where every kick exits), the events it set in shared memory, the
 * eventfd writes that woke a blocked vCPU.
 */
static void devices_print(const struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const struct virtio_dev *d = vm->devices[i];
		char served[384];

		d->be->stats(d, served, sizeof(served));
		fprintf(stderr, "hv: %s: stats: %s: %s\n", vm->name, d->name, served);
		fprintf(stderr, "hv: %s: stats: %s: %llu doorbells without an exit, %llu events set, "
				"%llu wake-ups\n",
			vm->name, d->name, (unsigned long long)(d->doorbells - d->hand_kicks),
			(unsigned long long)d->events, (unsigned long long)d->wakeups);
		if (d->polls_found || d->polls_idle)
			fprintf(stderr, "hv: %s: stats: %s: after emptying a queue, found more while "
					"watching it %llu times, watched in vain %llu times\n",
				vm->name, d->name, (unsigned long long)d->polls_found,
				(unsigned long long)d->polls_idle);
	}
}

/* Grant maps and what the backend's map calls cost, a map and its unmap together. */
static void grants_print(const struct hv_vm *vm)
{
	const struct hv_stats *s = &vm->stats;
	uint64_t pairs = s->grant_maps > s->grant_unmaps ? s->grant_maps : s->grant_unmaps;

	if (!pairs && !s->grant_copies && !s->grant_refused)
		return;
	fprintf(stderr, "hv: %s: stats: grants: %llu maps, %llu unmaps (%.1f us a pair in the "
			"backend's map calls), %llu copies, %llu refused\n",
		vm->name, (unsigned long long)s->grant_maps, (unsigned long long)s->grant_unmaps,
		pairs ? (double)s->ns_grant_slots / 1e3 / (double)pairs : 0.0,
		(unsigned long long)s->grant_copies, (unsigned long long)s->grant_refused);
}

void stats_print(const struct hv_vm *vm)
{
	const struct hv_stats *s = &vm->stats;
	uint64_t total = s->ns_end - s->ns_start, exits = 0;
	/* Guest time is spent in the backend's run (KVM_RUN, or the child running, the
	 * kernel's work on an exit included); hv time is the rest (setup, loading,
	 * serving exits) except sleeping in the block call. */
	uint64_t host = total - s->ns_guest - s->ns_blocked;

	for (int k = 0; k < HV_EXITK_COUNT; k++)
		exits += s->exits[k];
	fprintf(stderr, "hv: %s: stats: backend %s (an exit is %s)\n", vm->name, vm->be->name,
		vm->be->exit_means);
	fprintf(stderr, "hv: %s: stats: %llu exits in %.3f ms: guest %.3f ms, hv %.3f ms, "
			"blocked %.3f ms\n",
		vm->name, (unsigned long long)exits, ms(total), ms(s->ns_guest), ms(host),
		ms(s->ns_blocked));
	for (int k = 0; k < HV_EXITK_COUNT; k++) {
		if (!s->exits[k])
			continue;
		fprintf(stderr, "hv: %s: stats:   %-14s %llu\n", vm->name, kind_names[k],
			(unsigned long long)s->exits[k]);
		if (k == HV_EXITK_HYPERCALL)
			for (int c = 0; c < HV_CALL_COUNT; c++)
				if (s->calls[c])
					fprintf(stderr, "hv: %s: stats:     %-12s %llu\n", vm->name,
						hypercall_names[c], (unsigned long long)s->calls[c]);
		if (k == HV_EXITK_MMIO)
			for (unsigned i = 0; i < vm->nr_devices; i++)
				if (vm->devices[i]->mmio_exits)
					fprintf(stderr, "hv: %s: stats:     %-12s %llu\n", vm->name,
						vm->devices[i]->name,
						(unsigned long long)vm->devices[i]->mmio_exits);
	}
	send_ring_stats_print(vm);
	grants_print(vm);
	devices_print(vm);
}

const char *stats_end_reason(int status, char *buf, size_t len)
{
	switch (status) {
	case HV_EXIT_SOFTWARE: return "hv's own check failed";
	case HV_EXIT_OSERR: return "host error";
	case HV_EXIT_GUEST_FAULT: return "guest fault";
	case HV_EXIT_GUEST_ABI: return "ABI violation";
	case HV_EXIT_GUEST_CRASH: return "guest crash";
	default: break;
	}
	if (status > 128 && status < 128 + 65) {
		snprintf(buf, len, "stopped by signal %d", status - 128);
		return buf;
	}
	return "ended by hv";
}

void stats_print_end(const struct hv_vm *vm)
{
	char buf[48];

	if (vm->exited)
		fprintf(stderr, "hv: dom%u (%s): exited with %d\n", vm->domid, vm->label, vm->status);
	else
		fprintf(stderr, "hv: dom%u (%s): ended: %s (%d)\n", vm->domid, vm->label,
			stats_end_reason(vm->status, buf, sizeof(buf)), vm->status);
}
