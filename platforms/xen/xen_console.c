/* SPDX-License-Identifier: MIT */
/*
 * The console of a domU: a shared page of two rings (Xen's io/console.h
 * layout) that dom0's console daemon reads, signalled through an event
 * channel. dom0 itself writes with console_io (xen_ops.c), which a release
 * build of Xen refuses to a domU.
 */
#include <stdint.h>

#include "xen.h"

#define OUT_SIZE 2048u

struct xen_console_ring {
	char in[1024];
	char out[OUT_SIZE];
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};
_Static_assert(__builtin_offsetof(struct xen_console_ring, out_prod) == 3084, "console ring");

static struct xen_console_ring *ring;
static uint32_t ring_port;

void xen_console_ring_init(void *page, uint32_t port)
{
	ring = page;
	ring_port = port;
}

static void notify(void)
{
	struct xen_evtchn_port_arg p = { .port = ring_port };

	xen_hc2(XEN_HC_EVENT_CHANNEL_OP, HV_EVTCHNOP_SEND, &p);
}

/* Everything is written: a full ring waits (yielding to dom0's daemon), nothing is dropped. */
static void ring_write(const char *buf, size_t len)
{
	while (len) {
		uint32_t prod = ring->out_prod;
		uint32_t cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
		size_t room = OUT_SIZE - (prod - cons), n = len < room ? len : room;

		if (n == 0) {
			notify();
			xen_hc2(XEN_HC_SCHED_OP, SCHEDOP_YIELD, 0);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			ring->out[(prod + i) % OUT_SIZE] = buf[i];
		__atomic_store_n(&ring->out_prod, prod + (uint32_t)n, __ATOMIC_RELEASE);
		buf += n;
		len -= n;
		notify();
	}
}

void xen_console_write(const char *buf, size_t len)
{
	if (ring)
		ring_write(buf, len);
	else /* dom0, or a domU before its ring is known */
		xen_hc3(XEN_HC_CONSOLE_IO, CONSOLEIO_WRITE, len, buf);
}
