/* SPDX-License-Identifier: MIT */
/*
 * pingpong's measurements (bench/pv.sh runs them; they print numbers, never PASS):
 *
 *   mode=evtchn n=N   N round trips of a bare event: the client sends, the
 *                     server's handler wakes it and it sends back (after 1000
 *                     not timed); the client prints the median and mean.
 *                     send=hypercall: by EVTCHNOP_SEND, not through the send ring.
 *   mode=stream n=S bulk=B   the client writes B bytes in S-byte messages,
 *                     the server reads each whole and answers one byte at the
 *                     end; the client prints MB/s, both print events per message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtchn.h"
#include "libos.h"
#include "pingpong.h"
#include "store.h"

#define WARMUP 1000

static struct wait_queue evtchn_wq = WAIT_QUEUE_INIT;
static uint64_t events;

static void on_event(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	events++;
	wait_queue_wake_all(&evtchn_wq);
}

/* Sleep until the handler has counted more than seen events. */
static void wait_event(uint64_t seen)
{
	while (events == seen)
		wait_queue_wait(&evtchn_wq, LIBOS_FOREVER);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The server offers a port under its store folder; the client binds it. */
static int connect_port(const struct pp_options *o)
{
	char key[HV_STORE_KEY_MAX + 1], val[16];
	int port, rc;

	if (o->server) {
		port = evtchn_alloc_unbound(o->peer);
		if (port < 0)
			return port;
		snprintf(val, sizeof(val), "%d", port);
		store_domain_path(key, sizeof(key), libos_domid(), "data/pingpong/evtchn");
		rc = store_write(key, val);
	} else {
		store_domain_path(key, sizeof(key), o->peer, "data/pingpong/evtchn");
		rc = store_wait(key, val, sizeof(val), clock_monotonic_ns() + PP_CONNECT_NS);
		port = rc < 0 ? rc : evtchn_bind_interdomain(o->peer, (evtchn_port_t)atoi(val));
	}
	if (rc < 0)
		return rc;
	if (port < 0)
		return port;
	rc = evtchn_bind_handler((evtchn_port_t)port, on_event, NULL);
	if (rc)
		return rc;
	/*
	 * Xen's rule, which hv keeps: a port is pending as it is bound, in case
	 * the peer signalled before. Events carry no count; take that one (a
	 * yield dispatches it) before counting, or the two ends drift apart.
	 */
	if (!o->server) {
		thread_yield();
		events = 0;
	}
	return port;
}

int pp_bench_evtchn(const struct pp_options *o)
{
	int (*send)(evtchn_port_t) = o->sync_send ? evtchn_send_sync : evtchn_send;
	uint64_t total = o->n + WARMUP, *rtt = NULL, sum = 0;
	struct evtchn_send_stats s;
	int port = connect_port(o), rc;

	if (port < 0)
		return pp_fail("event channel", port);
	if (!o->server && !(rtt = malloc(o->n * sizeof(*rtt))))
		return pp_fail("buffer", -ENOMEM);
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0 = clock_monotonic_ns(), seen = events;

		if (o->server) {
			wait_event(seen);
			rc = send((evtchn_port_t)port);
		} else {
			rc = send((evtchn_port_t)port);
			wait_event(seen);
			if (i >= WARMUP)
				rtt[i - WARMUP] = clock_monotonic_ns() - t0;
		}
		if (rc)
			return pp_fail("evtchn_send", rc);
	}
	evtchn_get_send_stats(&s);
	printf("evtchn: %" PRIu64 " sends: %" PRIu64 " through the ring (%" PRIu64
	       " doorbells), %" PRIu64 " by hypercall\n",
	       total, s.ring, s.doorbells, s.hypercall);
	if (!o->server) {
		qsort(rtt, o->n, sizeof(*rtt), cmp_u64);
		for (uint64_t i = 0; i < o->n; i++)
			sum += rtt[i];
		printf("evtchn round trip: median %.2f us, mean %.2f us over %" PRIu64 "\n",
		       rtt[o->n / 2] / 1e3, sum / 1e3 / (double)(o->n ? o->n : 1), o->n);
		free(rtt);
	}
	/* The server exits after its last send; the client's port is closed with it. */
	evtchn_close((evtchn_port_t)port);
	printf("SUCCESS\n");
	return 0;
}

int pp_bench_stream(const struct pp_options *o, struct vchan *v)
{
	size_t size = o->n ? (size_t)o->n : 1;
	uint64_t messages = o->bulk / size, start, ns;
	uint8_t *buf = calloc(1, size), ack = 0;
	int rc;

	if (!buf)
		return pp_fail("buffer", -ENOMEM);
	start = clock_monotonic_ns();
	for (uint64_t i = 0; i < messages; i++) {
		if (o->server) {
			rc = pp_read_full(v, buf, size);
			if (rc)
				return pp_fail("stream read", rc);
		} else {
			ssize_t w = vchan_write(v, buf, size);

			if (w < 0)
				return pp_fail("stream write", (int)w);
		}
	}
	/* The last byte is in when the server's answer is back. */
	if (o->server)
		rc = vchan_write(v, &ack, 1) == 1 ? 0 : -EIO;
	else
		rc = pp_read_full(v, &ack, 1);
	if (rc)
		return pp_fail("stream end", rc);
	ns = clock_monotonic_ns() - start;
	if (!o->server)
		printf("stream: %zu-byte messages: %" PRIu64 " bytes in %.1f ms: %.1f MB/s\n", size,
		       messages * size, ns / 1e6, messages * size * 1e3 / (ns ? ns : 1));
	pp_print_stats(v, messages);
	/* The server waits for the client's close, so that its own finds nothing mapped. */
	if (o->server && vchan_read(v, buf, 1) != 0)
		return pp_fail("stream close", -EIO);
	free(buf);
	return 0;
}
