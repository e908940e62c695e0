/* SPDX-License-Identifier: MIT */
/*
 * A hostile vchan peer for tests/integration/libos_pv.sh: it speaks the channel's
 * setup through libos's grant, event and store calls (not vchan.c), with
 * the layout of libos/pv/vchan_ring.h, and then lies, to show that
 * apps/pingpong on the other side reports a broken channel and exits
 * cleanly instead of crashing or reading outside the rings.
 *
 *   role=client lie=prod    connect to a pingpong server and move to_server.prod
 *                           far past a full ring while the server waits to read
 *   role=server lie=prod    offer a channel to a pingpong client; once the client
 *                           waits for an answer, move to_client.prod backwards
 *   role=server lie=cons    offer it to a pingpong client in mode=stream; once the
 *                           client sleeps on a full ring, move to_server.cons past prod
 *   role=server lie=magic|pages|ref   offer a control page with a wrong magic, 3
 *                           pages per ring, or a data ref that was never granted
 *
 *   hold=SECONDS            (with role=client) keep the map that long after the
 *                           server closed, beyond the time it waits to take its pages back
 *
 * Then it waits for the victim to close its end, cleans up and prints
 * "hostile: done" and exits 0 (or 1, saying why, if the victim never reacts).
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtchn.h"
#include "gnttab.h"
#include "libos.h"
#include "store.h"
#include "vchan_ring.h"

#define PAGE	   VCHAN_PAGE_BYTES
#define RING_PAGES 1
#define NR_PAGES   (1 + 2 * RING_PAGES)
#define WAIT_NS	   (20ull * 1000000000)

static uint16_t peer;
static unsigned hold_s;
static struct vchan_ctrl *ctrl;
static evtchn_port_t port;

static _Noreturn void give_up(const char *why, int rc)
{
	printf("hostile: %s: %s\n", why, rc ? strerror(-rc) : "timed out");
	exit(1);
}

/* Poll (sleeping) until *p satisfies cond, or give up. */
#define AWAIT(what, cond)                                                                          \
	do {                                                                                       \
		uint64_t deadline_ = clock_monotonic_ns() + WAIT_NS;                               \
		while (!(cond)) {                                                                  \
			if (clock_monotonic_ns() > deadline_)                                      \
				give_up(what, 0);                                                  \
			sleep_until(clock_monotonic_ns() + 1000000);                               \
		}                                                                                  \
	} while (0)

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_u32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static void path(char *buf, uint16_t server, uint16_t client, const char *leaf)
{
	char rel[96];

	snprintf(rel, sizeof(rel), "data/vchan/%u/pingpong/%s", client, leaf);
	store_domain_path(buf, HV_STORE_KEY_MAX + 1, server, rel);
}

/* The peer domain has ended: hv refuses a port for a domain that is gone. */
static bool peer_gone(void)
{
	int p = evtchn_alloc_unbound(peer);

	if (p > 0)
		evtchn_close((evtchn_port_t)p);
	return p == -ESRCH;
}

/* The server's half of the setup, by hand, with one lie in the control page or the refs. */
static void serve(const char *lie)
{
	uint8_t *mem = memalign(PAGE, NR_PAGES * PAGE);
	int refs[NR_PAGES], p;
	char key[HV_STORE_KEY_MAX + 1], val[16];

	memset(mem, 0, NR_PAGES * PAGE);
	ctrl = (struct vchan_ctrl *)mem;
	ctrl->magic = strcmp(lie, "magic") ? VCHAN_MAGIC : 0x0badc0de;
	ctrl->version = VCHAN_VERSION;
	ctrl->ring_pages = strcmp(lie, "pages") ? RING_PAGES : 3;
	for (int i = 0; i < NR_PAGES; i++) {
		refs[i] = gnttab_grant_access(peer, mem + i * PAGE, 0);
		if (refs[i] < 0)
			give_up("grant", refs[i]);
		if (i > 0)
			ctrl->refs[i - 1] = strcmp(lie, "ref") ? (uint32_t)refs[i] : 4000;
	}
	p = evtchn_alloc_unbound(peer);
	if (p < 0)
		give_up("alloc_unbound", p);
	port = (evtchn_port_t)p;
	path(key, libos_domid(), peer, "ring-ref");
	snprintf(val, sizeof(val), "%d", refs[0]);
	store_write(key, val);
	path(key, libos_domid(), peer, "event-channel");
	snprintf(val, sizeof(val), "%u", port);
	store_write(key, val);
	printf("hostile: offered a channel with lie=%s\n", lie);

	if (strcmp(lie, "prod") == 0) {
		/* The client wrote its first message and sleeps waiting for the answer. */
		AWAIT("the client's first message and wait",
		      load(&ctrl->to_server.prod) > 0 && load(&ctrl->to_client.want_data));
		store_u32(&ctrl->to_client.prod, (uint32_t)-100);
		evtchn_send(port);
	} else if (strcmp(lie, "cons") == 0) {
		/* A stream client: it fills the ring and sleeps for room. */
		AWAIT("the client's full ring",
		      load(&ctrl->to_server.want_space) &&
			  load(&ctrl->to_server.prod) == RING_PAGES * PAGE);
		store_u32(&ctrl->to_server.cons, RING_PAGES * PAGE + 1);
		evtchn_send(port);
	}
	if (strcmp(lie, "prod") == 0 || strcmp(lie, "cons") == 0)
		AWAIT("the client's close", load(&ctrl->client_closed));
	else /* a client that refuses the channel exits: hv then undoes its maps */
		AWAIT("the client's end", peer_gone());
	for (int i = 0; i < NR_PAGES; i++)
		AWAIT("the client's unmap", gnttab_end_access((grant_ref_t)refs[i]) == 0);
}

/* The client's half, by hand: map the control page, bind the port, and lie. */
static void connect_and_lie(void)
{
	char key[HV_STORE_KEY_MAX + 1], val[16];
	void *addr;
	int h, p, rc;

	path(key, peer, libos_domid(), "event-channel");
	rc = store_wait(key, val, sizeof(val), clock_monotonic_ns() + WAIT_NS);
	if (rc < 0)
		give_up("the server's offer", rc);
	p = evtchn_bind_interdomain(peer, (evtchn_port_t)atoi(val));
	if (p < 0)
		give_up("bind", p);
	port = (evtchn_port_t)p;
	path(key, peer, libos_domid(), "ring-ref");
	if ((rc = store_read(key, val, sizeof(val))) < 0)
		give_up("ring-ref", rc);
	h = gnttab_map(peer, (grant_ref_t)atoi(val), 0, &addr);
	if (h < 0)
		give_up("map", h);
	ctrl = addr;
	/* The server waits for its first message header: claim a ring and a page of data. */
	AWAIT("the server's wait", load(&ctrl->to_server.want_data));
	store_u32(&ctrl->to_server.prod, load(&ctrl->to_server.cons) + 2 * PAGE * ctrl->ring_pages);
	evtchn_send(port);
	printf("hostile: moved to_server.prod past the ring\n");
	AWAIT("the server's close", load(&ctrl->server_closed));
	sleep_until(clock_monotonic_ns() + hold_s * 1000000000ull);
	gnttab_unmap(h);
}

int main(int argc, char **argv)
{
	const char *role = "", *lie = "";

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "role=", 5) == 0)
			role = argv[i] + 5;
		else if (strncmp(argv[i], "lie=", 4) == 0)
			lie = argv[i] + 4;
		else if (strncmp(argv[i], "hold=", 5) == 0)
			hold_s = (unsigned)atoi(argv[i] + 5);
	}
	peer = libos_domid() == 1 ? 2 : 1;
	if (strcmp(role, "server") == 0)
		serve(lie);
	else if (strcmp(role, "client") == 0 && strcmp(lie, "prod") == 0)
		connect_and_lie();
	else
		give_up("say role=server lie=magic|pages|ref|prod|cons or role=client lie=prod",
			-EINVAL);
	evtchn_close(port);
	printf("hostile: done\n");
	return 0;
}
