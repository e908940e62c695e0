/* SPDX-License-Identifier: MIT */
/*
 * The hypercalls. Each argument block is copied out of guest memory once,
 * checked, served, and its results copied back, so the guest (or a domain
 * that shares its pages) cannot change a value after hv checked it.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "hv.h"
#include "trace.h"

#define ARG_MAX_SIZE 128

static void console_write(struct hv_vm *vm, void *arg)
{
	struct hv_console_write *c = arg;
	const uint8_t *buf = vm_guest_read(vm, c->buf, c->len);
	uint64_t done = 0;

	if (!buf) {
		vm_fail(vm, HV_EXIT_GUEST_ABI,
			"console_write: buffer [0x%llx, +0x%llx) is outside guest memory",
			(unsigned long long)c->buf, (unsigned long long)c->len);
		return;
	}
	/* The budget: a flooding guest cannot fill the host's disk. */
	if (c->len > vm->console_max - vm->console_written) {
		if (!vm->console_dropped)
			fprintf(stderr, "hv: %s: console output reached --console-max (%llu bytes); "
				"more is dropped\n",
				vm->name, (unsigned long long)vm->console_max);
		vm->console_dropped += c->len;
		c->ret = -ENOSPC;
		return;
	}
	vm->console_written += c->len;
	while (done < c->len) {
		ssize_t n = write(STDOUT_FILENO, buf + done, c->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->ret = n < 0 ? -errno : -EIO;
			return;
		}
		done += (uint64_t)n;
	}
	c->ret = (int64_t)done;
}

static void exit_vm(struct hv_vm *vm, void *arg)
{
	const struct hv_exit *e = arg;

	/* Unless hv ended it first (a fault report cannot race this, a send-ring thread can). */
	if (__atomic_exchange_n(&vm->end_claimed, true, __ATOMIC_SEQ_CST))
		return;
	vm->status = e->status & 0xff;
	vm->exited = true;
	__atomic_store_n(&vm->ended, true, __ATOMIC_SEQ_CST);
}

static void wallclock(struct hv_vm *vm, void *arg)
{
	struct hv_wallclock *w = arg;
	struct timespec ts;

	(void)vm;
	clock_gettime(CLOCK_REALTIME, &ts);
	w->tsc = hv_rdtsc();
	w->realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool event_pending(struct hv_vm *vm)
{
	const struct hv_shared_info *si = (const void *)(vm->mem + HV_L_SHARED);

	/* Sequentially consistent: R1 of the wake protocol in evtchn.c. */
	return __atomic_load_n(&si->vcpu_info[0].evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0;
}

/*
 * Sleep until an event is pending or the deadline passes. blocked is set
 * before the flag is checked, so a device thread that sets the flag after
 * our check sees blocked and writes the wake eventfd, which stays readable
 * until drained: a wake-up is never lost (the argument is in evtchn.c).
 */
static void block(struct hv_vm *vm, void *arg)
{
	struct hv_block *b = arg;
	uint64_t t0 = hv_now_ns();

	send_ring_flush(vm);
	__atomic_store_n(&vm->blocked, true, __ATOMIC_SEQ_CST); /* W1 in evtchn.c */
	for (;;) {
		struct pollfd pfd = { .fd = vm->wake_fd, .events = POLLIN };
		struct timespec ts, *timeout = NULL;
		uint64_t now, count;

		/* A debugger's Ctrl-C: a wake-up like any (the guest looks, finds nothing). */
		if (event_pending(vm) || gdb_wants_stop(vm)) {
			b->ret = HV_BLOCK_EVENT;
			break;
		}
		if (b->deadline_ns != HV_DEADLINE_NONE) {
			now = vm_guest_now(vm);
			if (now >= b->deadline_ns) {
				b->ret = HV_BLOCK_DEADLINE;
				evtchn_timer_fired(vm);
				break;
			}
			ts.tv_sec = (time_t)((b->deadline_ns - now) / 1000000000ull);
			ts.tv_nsec = (long)((b->deadline_ns - now) % 1000000000ull);
			timeout = &ts;
		} else if (__atomic_load_n(&vm->wake_sources, __ATOMIC_SEQ_CST) == 0 &&
			   !evtchn_may_wake(vm)) {
			vm_fail(vm, HV_EXIT_GUEST_CRASH,
				"guest blocked with no deadline and nothing that could wake it");
			break;
		}
		if (__atomic_load_n(&hv_stop_signal, __ATOMIC_SEQ_CST)) {
			vm_stop_by_signal(vm);
			break;
		}
		if (ppoll(&pfd, 1, timeout, NULL) < 0 && errno != EINTR) {
			vm_fail(vm, HV_EXIT_OSERR, "ppoll: %s", strerror(errno));
			break;
		}
		if (pfd.revents & POLLIN)
			(void)!read(vm->wake_fd, &count, sizeof(count));
	}
	__atomic_store_n(&vm->blocked, false, __ATOMIC_SEQ_CST);
	vm->stats.ns_blocked += hv_now_ns() - t0;
}

static const struct {
	size_t size;
	void (*serve)(struct hv_vm *vm, void *arg);
} calls[HV_CALL_COUNT] = {
	[HV_CALL_CONSOLE_WRITE] = { sizeof(struct hv_console_write), console_write },
	[HV_CALL_EXIT] = { sizeof(struct hv_exit), exit_vm },
	[HV_CALL_WALLCLOCK] = { sizeof(struct hv_wallclock), wallclock },
	[HV_CALL_BLOCK] = { sizeof(struct hv_block), block },
	[HV_CALL_EVTCHN_OP] = { sizeof(struct hv_evtchn_op), evtchn_op },
	[HV_CALL_GNTTAB_OP] = { sizeof(struct hv_gnttab_op), gnttab_op },
	[HV_CALL_STORE] = { sizeof(struct hv_store_op), store_op },
};

_Static_assert(sizeof(struct hv_gnttab_op) <= ARG_MAX_SIZE && ARG_MAX_SIZE <= TRACE_ARG_MAX,
	       "the largest block fits, in the trace's copy too");

const char *const hypercall_names[HV_CALL_COUNT] = {
	[HV_CALL_CONSOLE_WRITE] = "console_write",
	[HV_CALL_EXIT] = "exit",
	[HV_CALL_WALLCLOCK] = "wallclock",
	[HV_CALL_BLOCK] = "block",
	[HV_CALL_EVTCHN_OP] = "evtchn_op",
	[HV_CALL_GNTTAB_OP] = "gnttab_op",
	[HV_CALL_STORE] = "store",
};

void hypercall_dispatch(struct hv_vm *vm, unsigned call, uint32_t gpa)
{
	uint64_t arg[ARG_MAX_SIZE / 8];
	void *block_in_guest;
	struct trace_call trace;

	if (call >= HV_CALL_COUNT) {
		vm_fail(vm, HV_EXIT_GUEST_ABI, "unknown hypercall %u", call);
		return;
	}
	vm->stats.calls[call]++;
	block_in_guest = vm_guest_write(vm, gpa, calls[call].size);
	if (!block_in_guest || gpa % 8) {
		vm_fail(vm, HV_EXIT_GUEST_ABI,
			"%s: argument block at 0x%x is %s", hypercall_names[call], gpa,
			block_in_guest ? "not 8-byte aligned" : "outside guest memory");
		return;
	}
	memcpy(arg, block_in_guest, calls[call].size);
	if (trace_on())
		trace_call_begin(vm, &trace, arg, calls[call].size);
	calls[call].serve(vm, arg);
	memcpy(block_in_guest, arg, calls[call].size);
	if (trace_on())
		trace_call_end(vm, &trace, call, arg);
}
