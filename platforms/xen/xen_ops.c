/* SPDX-License-Identifier: MIT */
/*
 * What the PV and PVH guests share on Xen: the console (console_io, which
 * Xen gives the hardware domain), time from the shared-info page's pvclock,
 * the timer that ends a block at its deadline (VIRQ_TIMER), ending the
 * domain, and libos's paravirtual calls turned into Xen's hypercalls.
 */
#include <errno.h>
#include "libos.h"
#include "pvh.h"
#include "xen.h"

#define DEBUG_EXIT_PORT 0xf4 /* QEMU's isa-debug-exit, as on QEMU's PVH platform */
#define DEBUG_EXIT_MASK 0x7f
#define PAGE 4096ull

struct xen_guest xen;

/* In the image only with what makes these calls (xen.h); NULL otherwise. */
#pragma weak xen_gnttab_op
#pragma weak xen_store_op

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t xen_frame_of(uint64_t va)
{
	uint64_t pfn = va / PAGE;

	if (!xen.pv)
		return pfn;
	return pfn < xen.nr_pages ? xen.p2m[pfn] : 0;
}

int xen_is_dom0(void)
{
	struct xen_feature_info f = { .submap_idx = 0 };

	if (xen_hc2(XEN_HC_XEN_VERSION, XENVER_GET_FEATURES, &f))
		return 0;
	return (f.submap >> XENFEAT_DOM0) & 1;
}

/*
 * The hardware domain under QEMU ends QEMU through isa-debug-exit (a PV
 * guest needs the I/O privilege level for the port first); without that
 * device, or as a domU, the domain shuts down: powered off for status 0,
 * crashed otherwise, which is what xl reports.
 */
_Noreturn void xen_exit(int status)
{
	struct xen_sched_shutdown s = { .reason = status ? SHUTDOWN_CRASH : SHUTDOWN_POWEROFF };

	if (xen.dom0) {
		struct xen_physdev_set_iopl iopl = { .iopl = 1 };
		uint64_t start, span = xen_tsc_hz() / 2;

		if (xen.pv)
			xen_hc2(XEN_HC_PHYSDEV_OP, PHYSDEVOP_SET_IOPL, &iopl);
		__asm__ volatile("outl %0, %w1"
				 :
				 : "a"((uint32_t)status & DEBUG_EXIT_MASK), "Nd"(DEBUG_EXIT_PORT));
		/* QEMU ends a moment after the write (see platforms/kvm/pvh_exit.c). */
		for (start = rdtsc(); rdtsc() - start < span;)
			__builtin_ia32_pause();
	}
	if (status)
		pvh_printf("xen: exit status %d\n", status);
	for (;;)
		xen_hc2(XEN_HC_SCHED_OP, SCHEDOP_SHUTDOWN, &s);
}

_Noreturn void xen_fail(const char *msg)
{
	pvh_printf("xen: %s\n", msg);
	xen_exit(LIBOS_PANIC_STATUS);
}

/* --- Time: the pvclock in vcpu_info[0].time, and the wall clock beside it ----------------- */

static uint64_t scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* Read under the version counter Xen makes odd while it writes. */
uint64_t xen_system_time(uint64_t *tsc)
{
	volatile struct hv_vcpu_time_info *t = &xen.shared->vcpu_info[0].time;
	uint32_t version;
	uint64_t now, ns;

	do {
		version = t->version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		now = rdtsc();
		ns = t->system_time + scale(now - t->tsc_timestamp, t->tsc_to_system_mul, t->tsc_shift);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) || version != t->version);
	if (tsc)
		*tsc = now;
	return ns;
}

/* The rate the pvclock's scale implies: ns = ticks << shift * mul >> 32. */
uint64_t xen_tsc_hz(void)
{
	volatile struct hv_vcpu_time_info *t = &xen.shared->vcpu_info[0].time;
	uint64_t hz = (1000000000ull << 32) / t->tsc_to_system_mul; /* no 128-bit division */

	return t->tsc_shift < 0 ? (uint64_t)(hz << -t->tsc_shift) : (uint64_t)(hz >> t->tsc_shift);
}

void xen_wallclock(uint64_t *realtime_ns, uint64_t *tsc)
{
	volatile struct hv_shared_info *s = xen.shared;
	uint32_t version;
	uint64_t wall, now;

	do {
		version = s->wc_version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		wall = ((uint64_t)s->wc_sec_hi << 32 | s->wc_sec) * 1000000000ull + s->wc_nsec;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) || version != s->wc_version);
	*realtime_ns = wall + xen_system_time(&now);
	*tsc = now;
}

/*
 * Arm Xen's one-shot timer for libos's monotonic deadline (set_timer_op
 * takes Xen's system time): VIRQ_TIMER then goes pending on timer_port.
 * The port's stale pending bit is cleared first, or the new expiry would
 * raise no upcall.
 */
void xen_set_deadline(uint64_t deadline_ns)
{
	uint64_t mono = clock_monotonic_ns(), sys = xen_system_time(NULL);
	uint64_t bit = 1ull << (xen.timer_port % 64);

	__atomic_fetch_and(&xen.shared->evtchn_pending[xen.timer_port / 64], ~bit, __ATOMIC_SEQ_CST);
	xen_hc1(XEN_HC_SET_TIMER_OP, sys + (deadline_ns > mono ? deadline_ns - mono : 0) + 1);
}

/* --- Event channels: hv's operation blocks in, Xen's out ------------------------------------ */

static int timer_lent; /* libos bound VIRQ_TIMER: it got timer_port */

static int32_t errno_of(long rc)
{
	return rc == -XEN_ENOSYS ? -ENOSYS : (int32_t)rc;
}

/* The platform's own VIRQ_TIMER port, unmasked: what ends a block at its deadline. */
void xen_events_init(void)
{
	struct xen_evtchn_bind_virq b = { .virq = VIRQ_TIMER, .vcpu = 0 };
	long rc = xen_hc2(XEN_HC_EVENT_CHANNEL_OP, HV_EVTCHNOP_BIND_VIRQ, &b);

	if (rc) {
		pvh_printf("xen: EVTCHNOP_bind_virq(VIRQ_TIMER) failed: %ld\n", rc);
		xen_exit(LIBOS_PANIC_STATUS);
	}
	xen.timer_port = b.port;
	__atomic_fetch_and(&xen.shared->evtchn_mask[b.port / 64], ~(1ull << (b.port % 64)),
			   __ATOMIC_SEQ_CST);
}

/*
 * Xen binds a VIRQ to one port per vCPU, and the platform holds VIRQ_TIMER's
 * for its deadlines: libos's BIND_VIRQ of it gets that port (its pending bit
 * then tells libos a deadline passed, as on hv), and its CLOSE gives it back.
 */
static long evtchn_op(struct hv_evtchn_op *op)
{
	long rc;

	switch (op->cmd) {
	case HV_EVTCHNOP_ALLOC_UNBOUND: {
		struct xen_evtchn_alloc_unbound a = { .dom = op->dom, .remote_dom = op->remote_dom };

		rc = xen_hc2(XEN_HC_EVENT_CHANNEL_OP, op->cmd, &a);
		op->port = a.port;
		return rc;
	}
	case HV_EVTCHNOP_BIND_INTERDOMAIN: {
		struct xen_evtchn_bind_interdomain b = { .remote_dom = op->remote_dom,
						     .remote_port = op->remote_port };

		rc = xen_hc2(XEN_HC_EVENT_CHANNEL_OP, op->cmd, &b);
		op->port = b.local_port;
		return rc;
	}
	case HV_EVTCHNOP_BIND_VIRQ: {
		struct xen_evtchn_bind_virq b = { .virq = op->virq, .vcpu = 0 };

		if (op->virq == VIRQ_TIMER) {
			if (timer_lent)
				return -EBUSY;
			timer_lent = 1;
			op->port = xen.timer_port;
			return 0;
		}
		rc = xen_hc2(XEN_HC_EVENT_CHANNEL_OP, op->cmd, &b);
		op->port = b.port;
		return rc;
	}
	case HV_EVTCHNOP_CLOSE:
		if (op->port == xen.timer_port) {
			if (!timer_lent)
				return -EINVAL;
			timer_lent = 0;
			return 0;
		}
		/* fall through */
	case HV_EVTCHNOP_SEND:
	case HV_EVTCHNOP_UNMASK: {
		struct xen_evtchn_port_arg p = { .port = op->port };

		return xen_hc2(XEN_HC_EVENT_CHANNEL_OP, op->cmd, &p);
	}
	case HV_EVTCHNOP_STATUS: {
		struct xen_evtchn_status s = { .dom = op->dom, .port = op->port };

		rc = xen_hc2(XEN_HC_EVENT_CHANNEL_OP, op->cmd, &s);
		if (rc)
			return rc;
		op->status = s.status;
		op->remote_dom = 0;
		op->remote_port = 0;
		op->virq = 0;
		if (s.status == HV_EVTCHNSTAT_UNBOUND)
			op->remote_dom = s.u.unbound_dom;
		else if (s.status == HV_EVTCHNSTAT_INTERDOMAIN) {
			op->remote_dom = s.u.interdomain.dom;
			op->remote_port = s.u.interdomain.port;
		} else if (s.status == HV_EVTCHNSTAT_VIRQ)
			op->virq = s.u.virq;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

void xen_pv_call(unsigned call, void *arg)
{
	switch (call) {
	case HV_CALL_EVTCHN_OP: {
		struct hv_evtchn_op *op = arg;

		op->ret = errno_of(evtchn_op(op));
		break;
	}
	case HV_CALL_GNTTAB_OP:
		if (!xen_gnttab_op)
			goto unlinked;
		xen_gnttab_op(arg);
		break;
	case HV_CALL_STORE:
		if (!xen_store_op)
			goto unlinked;
		xen_store_op(arg);
		break;
	unlinked: /* only libos's grant and store calls make these, and they bring them in */
		pvh_printf("xen: libos made paravirtual call %u, whose client this image lacks\n",
			   call);
		xen_exit(LIBOS_PANIC_STATUS);
	default:
		pvh_printf("xen: libos made paravirtual call %u, which this platform does not know\n",
			   call);
		xen_exit(LIBOS_PANIC_STATUS);
	}
}

/* The boot's last steps, the same for PV and PVH: the deadline timer, what libos needs, libos. */
_Noreturn void xen_boot_finish(struct boot *b, const struct platform *p, uint64_t tsc_base)
{
	xen_events_init();
	b->platform = p;
	b->tsc_hz = xen_tsc_hz();
	b->tsc_base = tsc_base;
	b->shared_info = xen.shared;
	b->domid = xen.domid;
	b->grant_window = xen.grant_window;
	b->grant_window_size = XEN_GRANT_MAPS * 4096ull;
	if (pvh_debug) {
		pvh_printf("xen: %s %s (domain %u), TSC %llu Hz, grant window at %#llx, timer port "
			   "%u\n",
			   xen.pv ? "PV" : "PVH", xen.dom0 ? "dom0" : "domU", xen.domid,
			   (unsigned long long)b->tsc_hz, (unsigned long long)xen.grant_window,
			   xen.timer_port);
		for (unsigned i = 0; i < b->nr_ram; i++)
			pvh_printf("xen: RAM %#llx-%#llx\n", (unsigned long long)b->ram[i].base,
				   (unsigned long long)(b->ram[i].base + b->ram[i].size));
	}
	libos_start(b);
}
