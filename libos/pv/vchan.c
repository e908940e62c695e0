/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory channels: set up (grants, an event channel and two store
 * keys), blocking reads and writes over the rings of vchan_ring.c with
 * events only to a side that sleeps, and closing. The wire format and the
 * notification scheme are described in vchan_ring.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnttab.h"
#include "kernel.h"
#include "libos.h"
#include "store.h"
#include "vchan.h"
#include "vchan_ring.h"

#define MAX_PAGES (1 + 2 * VCHAN_MAX_RING_PAGES) /* the control page, then both rings */
/* How often the closing server looks whether the client has unmapped its pages. */
#define CLOSE_POLL_NS 1000000

struct vchan {
	bool server;
	domid_t peer;
	evtchn_port_t port;
	uint32_t ring_pages; /* per direction */
	struct vchan_ctrl *ctrl;
	struct vchan_ring rx, tx;
	struct wait_queue wq; /* readers and writers sleeping on this channel */
	bool reported;	      /* the broken channel's message is out */
	struct vchan_stats stats;
	/* The server's: its pages, their grants, and where it published them. */
	uint8_t *mem;
	int refs[MAX_PAGES];
	char dir[HV_STORE_KEY_MAX + 1];
	/* The client's: the maps of the server's pages. */
	int handles[MAX_PAGES];
};

static uint32_t nr_pages(const struct vchan *v)
{
	return 1 + 2 * v->ring_pages;
}

/* Events only wake the sleepers; they look at the rings themselves. */
static void on_event(evtchn_port_t port, void *arg)
{
	struct vchan *v = arg;

	(void)port;
	v->stats.events++;
	wait_queue_wake_all(&v->wq);
}

static void notify(struct vchan *v)
{
	/* -ENOTCONN: no client bound yet, so nobody can be sleeping on the other side. */
	if (evtchn_send(v->port) == 0)
		v->stats.notifies++;
}

static void say(const struct vchan *v, const char *what, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "libos: vchan %s domain %u: %s: %s\n",
		 v->server ? "to client" : "to server", v->peer, what, why);
	console_write(msg, strlen(msg));
}

static int broken(struct vchan *v, struct vchan_ring *r)
{
	if (!v->reported) {
		v->reported = true;
		say(v, "the peer broke the channel", r->why);
	}
	return -EIO;
}

static bool peer_closed(const struct vchan *v)
{
	const uint32_t *flag = v->server ? &v->ctrl->client_closed : &v->ctrl->server_closed;

	/* Acquire: what the peer wrote before it closed is seen after its flag. */
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

/* --- Reading and writing ---------------------------------------------------------------- */

/*
 * Before a side sleeps it watches the ring a little while: the peer runs
 * on another CPU and usually moves its index within microseconds, sooner
 * than an event could come (a send goes through hv's drainer thread, which
 * must wake). 1: the ring moved, 0: it did not, -EIO: the peer broke it.
 */
static int spin_for_ring(struct vchan *v, bool reading)
{
	uint64_t deadline = clock_monotonic_ns() + VCHAN_SPIN_NS;

	do {
		int n = reading ? vchan_ring_readable(&v->rx) : vchan_ring_writable(&v->tx);

		if (n != 0)
			return n < 0 ? n : 1;
		if (peer_closed(v))
			return 1; /* the caller has that to look at */
		__builtin_ia32_pause();
	} while (clock_monotonic_ns() < deadline);
	return 0;
}

ssize_t vchan_write(struct vchan *v, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		int space = vchan_ring_writable(&v->tx);
		size_t n;

		if (space < 0)
			return broken(v, &v->tx);
		if (peer_closed(v))
			return -EPIPE;
		if (space == 0) {
			if (spin_for_ring(v, false))
				continue;
			/* Ask for an event, then look again: the reader may have moved since. */
			vchan_ring_want_event(&v->tx);
			space = vchan_ring_writable(&v->tx);
			if (space < 0)
				return broken(v, &v->tx);
			if (space == 0 && !peer_closed(v)) {
				v->stats.sleeps++;
				wait_queue_wait(&v->wq, LIBOS_FOREVER);
			}
			continue;
		}
		n = vchan_ring_write(&v->tx, p + done, len - done);
		done += n;
		v->stats.bytes_written += n;
		if (vchan_ring_peer_waiting(&v->tx))
			notify(v);
	}
	return (ssize_t)len;
}

ssize_t vchan_read(struct vchan *v, void *buf, size_t len)
{
	size_t n;

	if (len == 0)
		return 0;
	for (;;) {
		/* The flag before the ring: the peer wrote everything before it closed. */
		bool closed = peer_closed(v);
		int ready = vchan_ring_readable(&v->rx);

		if (ready < 0)
			return broken(v, &v->rx);
		if (ready > 0)
			break;
		if (closed)
			return 0;
		if (spin_for_ring(v, true))
			continue;
		vchan_ring_want_event(&v->rx);
		ready = vchan_ring_readable(&v->rx);
		if (ready < 0)
			return broken(v, &v->rx);
		if (ready > 0)
			break;
		/* The peer sends an event when it closes, so a sleep never misses that either. */
		if (!peer_closed(v)) {
			v->stats.sleeps++;
			wait_queue_wait(&v->wq, LIBOS_FOREVER);
		}
	}
	n = vchan_ring_read(&v->rx, buf, len);
	v->stats.bytes_read += n;
	if (vchan_ring_peer_waiting(&v->rx))
		notify(v);
	return (ssize_t)n;
}

int vchan_data_ready(struct vchan *v)
{
	int n = vchan_ring_readable(&v->rx);

	return n < 0 ? broken(v, &v->rx) : n;
}

int vchan_buffer_space(struct vchan *v)
{
	int n = vchan_ring_writable(&v->tx);

	return n < 0 ? broken(v, &v->tx) : n;
}

void vchan_get_stats(const struct vchan *v, struct vchan_stats *st)
{
	*st = v->stats;
}

/* --- Setting up: the server ------------------------------------------------------------- */

/* The folder both sides agree on: the server's, then the client's id and the name. */
static int channel_dir(char *buf, domid_t server, domid_t client, const char *name)
{
	char rel[HV_STORE_KEY_MAX + 1];

	/* One part of a store key. */
	if (!name[0] || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789_.:@-") != strlen(name))
		return -EINVAL;
	if (snprintf(rel, sizeof(rel), "data/vchan/%u/%s", client, name) >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	return store_domain_path(buf, HV_STORE_KEY_MAX + 1, server, rel) < 0 ? -ENAMETOOLONG : 0;
}

static int store_key(char *key, const char *dir, const char *leaf)
{
	return snprintf(key, HV_STORE_KEY_MAX + 1, "%s/%s", dir, leaf) > HV_STORE_KEY_MAX
		   ? -ENAMETOOLONG
		   : 0;
}

static int publish(struct vchan *v)
{
	char key[HV_STORE_KEY_MAX + 1], val[16];
	int rc;

	/* The ref first: the client waits for the port, so it finds both. */
	if ((rc = store_key(key, v->dir, "ring-ref")) != 0)
		return rc;
	snprintf(val, sizeof(val), "%d", v->refs[0]);
	if ((rc = store_write(key, val)) != 0)
		return rc;
	if ((rc = store_key(key, v->dir, "event-channel")) != 0)
		return rc;
	snprintf(val, sizeof(val), "%u", v->port);
	return store_write(key, val);
}

static void unpublish(struct vchan *v)
{
	char key[HV_STORE_KEY_MAX + 1];

	if (store_key(key, v->dir, "event-channel") == 0)
		(void)store_remove(key);
	if (store_key(key, v->dir, "ring-ref") == 0)
		(void)store_remove(key);
}

/*
 * Take every grant back. While the client still has a page mapped its
 * grant cannot end (-EBUSY): sleep and retry until deadline. Returns 0, or
 * -EBUSY with the refs still granted left in v->refs.
 */
static int end_grants(struct vchan *v, uint64_t deadline)
{
	for (;;) {
		int busy = 0;

		for (uint32_t i = 0; i < nr_pages(v); i++) {
			if (v->refs[i] < 0)
				continue;
			if (gnttab_end_access((grant_ref_t)v->refs[i]) == 0)
				v->refs[i] = -1;
			else
				busy++;
		}
		if (!busy)
			return 0;
		if (clock_monotonic_ns() >= deadline)
			return -EBUSY;
		sleep_until(clock_monotonic_ns() + CLOSE_POLL_NS);
	}
}

static int server_grants(struct vchan *v)
{
	for (uint32_t i = 0; i < nr_pages(v); i++) {
		v->refs[i] = gnttab_grant_access(v->peer, v->mem + (size_t)i * PAGE_BYTES, 0);
		if (v->refs[i] < 0)
			return v->refs[i];
		if (i > 0)
			v->ctrl->refs[i - 1] = (uint32_t)v->refs[i];
	}
	return 0;
}

static void attach_rings(struct vchan *v, uint8_t *const *pages)
{
	struct vchan_ring_shared *out = v->server ? &v->ctrl->to_client : &v->ctrl->to_server;
	struct vchan_ring_shared *in = v->server ? &v->ctrl->to_server : &v->ctrl->to_client;
	uint8_t *const *out_pages = v->server ? pages : pages + v->ring_pages;
	uint8_t *const *in_pages = v->server ? pages + v->ring_pages : pages;

	/* A ring the server set up badly is broken from the start: the first call reports it. */
	(void)vchan_ring_attach(&v->tx, out, out_pages, v->ring_pages, true);
	(void)vchan_ring_attach(&v->rx, in, in_pages, v->ring_pages, false);
}

struct vchan *vchan_server_init(domid_t client, const char *name, size_t ring_bytes)
{
	uint8_t *pages[2 * VCHAN_MAX_RING_PAGES];
	struct vchan *v;
	int rc, port;

	if (ring_bytes == 0)
		ring_bytes = VCHAN_DEFAULT_RING_BYTES;
	if (ring_bytes > VCHAN_MAX_RING_PAGES * PAGE_BYTES || ring_bytes % PAGE_BYTES ||
	    !vchan_ring_pages_ok((uint32_t)(ring_bytes / PAGE_BYTES))) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	v->server = true;
	v->peer = client;
	v->ring_pages = (uint32_t)(ring_bytes / PAGE_BYTES);
	for (uint32_t i = 0; i < MAX_PAGES; i++)
		v->refs[i] = -1;
	rc = channel_dir(v->dir, libos_domid(), client, name);
	if (rc)
		goto err_free;
	v->mem = pages_alloc(nr_pages(v));
	if (!v->mem) {
		rc = -ENOMEM;
		goto err_free;
	}
	/* Zeroed: the indices start at 0, and the client sees none of our old data. */
	memset(v->mem, 0, (size_t)nr_pages(v) * PAGE_BYTES);
	v->ctrl = (struct vchan_ctrl *)v->mem;
	v->ctrl->magic = VCHAN_MAGIC;
	v->ctrl->version = VCHAN_VERSION;
	v->ctrl->ring_pages = v->ring_pages;
	rc = server_grants(v);
	if (rc)
		goto err_end_grants;
	port = evtchn_alloc_unbound(client);
	if (port < 0) {
		rc = port;
		goto err_end_grants;
	}
	v->port = (evtchn_port_t)port;
	for (uint32_t i = 0; i < 2 * v->ring_pages; i++)
		pages[i] = v->mem + (size_t)(i + 1) * PAGE_BYTES;
	attach_rings(v, pages);
	rc = evtchn_bind_handler(v->port, on_event, v);
	if (rc)
		goto err_close_port;
	/* The store call is an exit: the control page is complete in memory before the client
	 * can learn where it is. */
	rc = publish(v);
	if (rc)
		goto err_unpublish;
	return v;

err_unpublish:
	unpublish(v);
err_close_port:
	evtchn_close(v->port);
err_end_grants:
	/* Nobody knows these refs yet (or the client's maps failed): they end at once. */
	if (end_grants(v, 0) == 0)
		pages_free(v->mem, nr_pages(v));
err_free:
	free(v);
	errno = -rc;
	return NULL;
}

/* --- Setting up: the client ------------------------------------------------------------- */

/* A decimal number from the store, up to max. */
static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (!s[0] || *end || errno || n > max || s[0] == '-' || s[0] == ' ')
		return -EPROTO;
	*out = (uint32_t)n;
	return 0;
}

static int read_offer(struct vchan *v, const char *dir, uint64_t deadline, uint32_t *ref,
		      uint32_t *port)
{
	char key[HV_STORE_KEY_MAX + 1], val[32];
	int rc;

	if ((rc = store_key(key, dir, "event-channel")) != 0)
		return rc;
	rc = store_wait(key, val, sizeof(val), deadline);
	if (rc >= 0 && (rc = parse_u32(val, HV_NR_EVTCHN - 1, port)) != 0)
		say(v, "not a port number in the store", val);
	if (rc < 0)
		return rc;
	if ((rc = store_key(key, dir, "ring-ref")) != 0)
		return rc;
	rc = store_read(key, val, sizeof(val));
	if (rc >= 0 && (rc = parse_u32(val, UINT32_MAX, ref)) != 0)
		say(v, "not a grant ref in the store", val);
	return rc < 0 ? rc : 0;
}

/* The control page the server wrote: read once, checked, before anything is mapped by it. */
static int check_ctrl(struct vchan *v, uint32_t *refs)
{
	const volatile struct vchan_ctrl *c = v->ctrl;
	uint32_t magic = c->magic, version = c->version, pages = c->ring_pages;
	char why[96];

	if (magic != VCHAN_MAGIC || version != VCHAN_VERSION || !vchan_ring_pages_ok(pages)) {
		snprintf(why, sizeof(why), "magic 0x%x, version %u, %u pages per ring", magic,
			 version, pages);
		say(v, "the control page is not a channel's", why);
		return -EPROTO;
	}
	v->ring_pages = pages;
	for (uint32_t i = 0; i < 2 * pages; i++)
		refs[i] = c->refs[i];
	return 0;
}

static void unmap_all(struct vchan *v)
{
	/* The control page last: the rings' pages were found through it. */
	for (uint32_t i = MAX_PAGES; i-- > 0;)
		if (v->handles[i] >= 0)
			(void)gnttab_unmap(v->handles[i]);
}

struct vchan *vchan_client_init(domid_t server, const char *name, uint64_t deadline_ns)
{
	uint8_t *pages[2 * VCHAN_MAX_RING_PAGES];
	uint32_t refs[2 * VCHAN_MAX_RING_PAGES], ctrl_ref, remote_port;
	char dir[HV_STORE_KEY_MAX + 1];
	struct vchan *v;
	void *addr;
	int rc, port;

	v = calloc(1, sizeof(*v));
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	v->peer = server;
	for (uint32_t i = 0; i < MAX_PAGES; i++)
		v->handles[i] = -1;
	rc = channel_dir(dir, server, libos_domid(), name);
	if (rc == 0)
		rc = read_offer(v, dir, deadline_ns, &ctrl_ref, &remote_port);
	if (rc)
		goto err_free;
	rc = gnttab_map(server, ctrl_ref, 0, &addr);
	if (rc < 0)
		goto err_free;
	v->handles[0] = rc;
	v->ctrl = addr;
	rc = check_ctrl(v, refs);
	if (rc)
		goto err_unmap;
	for (uint32_t i = 0; i < 2 * v->ring_pages; i++) {
		rc = gnttab_map(server, refs[i], 0, &addr);
		if (rc < 0) {
			char why[64];

			snprintf(why, sizeof(why), "ref %u of ring page %u: %s", refs[i], i,
				 strerror(-rc));
			say(v, "the control page names a page that does not map", why);
			goto err_unmap;
		}
		v->handles[i + 1] = rc;
		pages[i] = addr;
	}
	port = evtchn_bind_interdomain(server, remote_port);
	if (port < 0) {
		rc = port;
		goto err_unmap;
	}
	v->port = (evtchn_port_t)port;
	attach_rings(v, pages);
	rc = evtchn_bind_handler(v->port, on_event, v);
	if (rc)
		goto err_close_port;
	return v;

err_close_port:
	evtchn_close(v->port);
err_unmap:
	unmap_all(v);
err_free:
	free(v);
	errno = -rc;
	return NULL;
}

/* --- Closing ---------------------------------------------------------------------------- */

int vchan_close(struct vchan *v)
{
	uint32_t *mine = v->server ? &v->ctrl->server_closed : &v->ctrl->client_closed;
	int rc = 0;

	if (v->server)
		unpublish(v); /* no new client finds it */
	/* Release, and the send ring's own release after it: the flag is seen before the event. */
	__atomic_store_n(mine, 1, __ATOMIC_RELEASE);
	/* A peer that closed first has closed its port too: nobody would take the event. */
	if (!peer_closed(v))
		notify(v);
	if (v->server) {
		rc = end_grants(v, clock_monotonic_ns() + VCHAN_CLOSE_WAIT_NS);
		if (rc == 0) {
			pages_free(v->mem, nr_pages(v));
		} else {
			/* Still mapped by the client: those pages must never be reused. */
			say(v, "closing",
			    "the client still maps the channel's pages; they are "
			    "left to it, never reused");
		}
		evtchn_close(v->port);
	} else {
		evtchn_close(v->port);
		unmap_all(v);
	}
	free(v);
	return rc;
}
