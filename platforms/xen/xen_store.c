/* SPDX-License-Identifier: MIT */
/*
 * The xenstore client of a domU: requests and replies as messages (a
 * header, then the payload: Xen's io/xs_wire.h) over the shared page's two
 * rings, signalled through the store's event channel; one request at a
 * time, answered before the next. Watch events that arrive meanwhile are
 * queued for HV_STORE_WATCH_NEXT. dom0 has no xenstore of its own to talk
 * to (its toolstack runs the daemon), so there every call is -ENOSYS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "xen.h"

#define RING_SIZE 1024u
#define PAYLOAD_MAX 4096u /* Xen's XENSTORE_PAYLOAD_MAX */
#define EVENTS_MAX 16     /* watch events queued; more are dropped, counted */

enum xs_type {
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_WRITE = 11,
	XS_RM = 13,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
};

struct xs_ring {
	char req[RING_SIZE];
	char rsp[RING_SIZE];
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
};

struct xs_header {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};

static struct xs_ring *ring;
static uint32_t ring_port, next_req = 1;
static char events[EVENTS_MAX][HV_STORE_KEY_MAX + 1];
static unsigned events_head, events_tail, events_dropped;
static char reply[PAYLOAD_MAX + 1];

void xen_store_init(void *page, uint32_t port)
{
	ring = page;
	ring_port = port;
}

static void notify(void)
{
	struct xen_evtchn_port_arg p = { .port = ring_port };

	xen_hc2(XEN_HC_EVENT_CHANNEL_OP, HV_EVTCHNOP_SEND, &p);
}

/* Wait for the daemon, in dom0: let it run (on one CPU it must, for anything to happen). */
static void wait_for_daemon(void)
{
	notify();
	xen_hc2(XEN_HC_SCHED_OP, SCHEDOP_YIELD, 0);
}

static void ring_put(const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		uint32_t prod = ring->req_prod;
		uint32_t cons = __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE);
		size_t room = RING_SIZE - (prod - cons), n = len < room ? len : room;

		if (n == 0) {
			wait_for_daemon();
			continue;
		}
		for (size_t i = 0; i < n; i++)
			ring->req[(prod + i) % RING_SIZE] = p[i];
		__atomic_store_n(&ring->req_prod, prod + (uint32_t)n, __ATOMIC_RELEASE);
		p += n;
		len -= n;
	}
	notify();
}

static void ring_get(void *data, size_t len)
{
	char *p = data;

	while (len) {
		uint32_t cons = ring->rsp_cons;
		uint32_t prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE);
		size_t avail = prod - cons, n = len < avail ? len : avail;

		if (avail > RING_SIZE)
			xen_fail("xenstore: the daemon's reply ring has more than a ring of data");
		if (n == 0) {
			wait_for_daemon();
			continue;
		}
		for (size_t i = 0; i < n; i++)
			p[i] = ring->rsp[(cons + i) % RING_SIZE];
		__atomic_store_n(&ring->rsp_cons, cons + (uint32_t)n, __ATOMIC_RELEASE);
		p += n;
		len -= n;
	}
	notify();
}

/* A watch event's payload is "path\0token\0": queue the path. */
static void queue_event(const char *payload, uint32_t len)
{
	size_t n = strnlen(payload, len);

	if (n > HV_STORE_KEY_MAX || events_tail - events_head == EVENTS_MAX) {
		events_dropped++;
		return;
	}
	memcpy(events[events_tail % EVENTS_MAX], payload, n);
	events[events_tail % EVENTS_MAX][n] = '\0';
	events_tail++;
}

static int error_of(const char *name)
{
	static const struct {
		const char *name;
		int err;
	} errors[] = {
		{ "ENOENT", ENOENT }, { "EACCES", EPERM }, { "EPERM", EPERM },
		{ "EINVAL", EINVAL }, { "E2BIG", E2BIG },  { "ENOSPC", ENOSPC },
		{ "EQUOTA", ENOSPC }, { "EAGAIN", EAGAIN }, { "EEXIST", EEXIST },
		{ "EBUSY", EBUSY },   { "EISDIR", EISDIR }, { "EROFS", EROFS },
		{ "ENOMEM", ENOMEM }, { "ENOSYS", ENOSYS },
	};

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (strcmp(name, errors[i].name) == 0)
			return -errors[i].err;
	return -EIO;
}

/*
 * One request of parts (each with its length; a NUL is part of a part where
 * the protocol wants one), and its reply into `reply`: 0 and *len, or -errno.
 */
static int talk(enum xs_type type, uint32_t tx, const char *const *parts, const size_t *lens,
		unsigned nr_parts, uint32_t *len)
{
	struct xs_header h = { .type = type, .req_id = next_req++, .tx_id = tx };

	for (unsigned i = 0; i < nr_parts; i++)
		h.len += (uint32_t)lens[i];
	if (h.len > PAYLOAD_MAX)
		return -E2BIG;
	ring_put(&h, sizeof(h));
	for (unsigned i = 0; i < nr_parts; i++)
		ring_put(parts[i], lens[i]);
	for (;;) {
		struct xs_header r;

		ring_get(&r, sizeof(r));
		if (r.len > PAYLOAD_MAX)
			xen_fail("xenstore: the daemon sent a message longer than the protocol allows");
		ring_get(reply, r.len);
		reply[r.len] = '\0';
		if (r.type == XS_WATCH_EVENT) {
			queue_event(reply, r.len);
			continue;
		}
		if (r.req_id != h.req_id)
			continue; /* a reply to a request given up on: none are */
		if (r.type == XS_ERROR)
			return error_of(reply);
		*len = r.len;
		return 0;
	}
}

/* A path and, for a write, the value after its NUL. */
static int talk_key(enum xs_type type, uint32_t tx, const char *key, const void *value,
		    size_t value_len, uint32_t *len)
{
	const char *parts[2] = { key, value };
	size_t lens[2] = { strlen(key) + 1, value_len };

	return talk(type, tx, parts, lens, value ? 2 : 1, len);
}

/* Watches carry a token, handed back with each event: every watch of ours uses this one. */
static int watch(enum xs_type type, const char *key)
{
	static const char token[] = "libos";
	const char *parts[2] = { key, token };
	size_t lens[2] = { strlen(key) + 1, sizeof(token) };
	uint32_t len;

	return talk(type, 0, parts, lens, 2, &len);
}

static int read_into(enum xs_type type, struct hv_store_op *op, const char *key)
{
	uint32_t len = 0;
	int rc = talk_key(type, op->tx, key, NULL, 0, &len);

	if (rc)
		return rc;
	op->len = len > op->len ? len : op->len; /* the whole length when it does not fit */
	if (len > op->len || len > HV_STORE_VALUE_MAX)
		return -E2BIG;
	memcpy((void *)(uintptr_t)op->buf, reply, len);
	op->len = len;
	return 0;
}

/*
 * Take the watch events the daemon sent since the last request, without
 * waiting: only whole messages, each header then its payload.
 */
static void take_events(void)
{
	for (;;) {
		uint32_t prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t avail = prod - ring->rsp_cons;
		struct xs_header h;

		if (avail > RING_SIZE)
			xen_fail("xenstore: the daemon's reply ring has more than a ring of data");
		if (avail < sizeof(h))
			return;
		for (size_t i = 0; i < sizeof(h); i++)
			((char *)&h)[i] = ring->rsp[(ring->rsp_cons + i) % RING_SIZE];
		if (h.len > PAYLOAD_MAX)
			xen_fail("xenstore: the daemon sent a message longer than the protocol allows");
		if (avail < sizeof(h) + h.len)
			return; /* the rest is on its way */
		ring_get(&h, sizeof(h));
		ring_get(reply, h.len);
		reply[h.len] = '\0';
		if (h.type == XS_WATCH_EVENT)
			queue_event(reply, h.len);
	}
}

static int next_event(struct hv_store_op *op)
{
	const char *path;
	size_t n;

	take_events();
	if (events_head == events_tail)
		return -EAGAIN;
	path = events[events_head % EVENTS_MAX];
	n = strlen(path);
	if (n > op->len) {
		op->len = (uint32_t)n;
		return -E2BIG;
	}
	memcpy((void *)(uintptr_t)op->buf, path, n);
	op->len = (uint32_t)n;
	events_head++;
	return 0;
}

static int tx_start(struct hv_store_op *op)
{
	uint32_t len;
	int rc = talk_key(XS_TRANSACTION_START, 0, "", NULL, 0, &len);
	char *end;
	unsigned long id;

	if (rc)
		return rc;
	id = strtoul(reply, &end, 10);
	if (end == reply || *end || id == 0 || id > UINT32_MAX)
		return -EIO;
	op->tx = (uint32_t)id;
	return 0;
}

void xen_store_op(struct hv_store_op *op)
{
	const char *key = (const char *)(uintptr_t)op->key;
	uint32_t len;

	if (!ring) {
		op->ret = -ENOSYS;
		return;
	}
	switch (op->cmd) {
	case HV_STORE_READ:
		op->ret = read_into(XS_READ, op, key);
		break;
	case HV_STORE_WRITE:
		op->ret = talk_key(XS_WRITE, op->tx, key, (const void *)(uintptr_t)op->buf, op->len,
				   &len);
		break;
	case HV_STORE_REMOVE:
		op->ret = talk_key(XS_RM, op->tx, key, NULL, 0, &len);
		break;
	case HV_STORE_WATCH:
		op->ret = watch(XS_WATCH, key);
		break;
	case HV_STORE_UNWATCH:
		op->ret = watch(XS_UNWATCH, key);
		break;
	case HV_STORE_WATCH_NEXT:
		op->ret = next_event(op);
		break;
	case HV_STORE_TX_START:
		op->ret = tx_start(op);
		break;
	case HV_STORE_TX_END:
		op->ret = talk_key(XS_TRANSACTION_END, op->tx, op->len ? "T" : "F", NULL, 0, &len);
		break;
	default:
		op->ret = -EINVAL;
	}
}

/* --- For the platform's own code (boot, blkfront, netfront): plain calls, no transaction --- */

/* A READ or DIRECTORY's reply into buf as a string: its length, or -ERANGE. */
static int fetch(enum xs_type type, const char *path, char *buf, size_t size)
{
	uint32_t len;
	int rc;

	if (!ring)
		return -ENOSYS;
	rc = talk_key(type, 0, path, NULL, 0, &len);
	if (rc)
		return rc;
	if (len >= size)
		return -ERANGE;
	memcpy(buf, reply, len);
	buf[len] = '\0';
	return (int)len;
}

int xen_store_read(const char *path, char *buf, size_t size)
{
	return fetch(XS_READ, path, buf, size);
}

int xen_store_directory(const char *path, char *buf, size_t size)
{
	return fetch(XS_DIRECTORY, path, buf, size);
}

int xen_store_write(const char *path, const char *value)
{
	uint32_t len;

	if (!ring)
		return -ENOSYS;
	return talk_key(XS_WRITE, 0, path, value, strlen(value), &len);
}

int xen_store_read_number(const char *dir, const char *key, unsigned long long *v)
{
	char path[160], buf[32], *end;
	int rc;

	snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", key); /* "": relative */
	rc = xen_store_read(path, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	*v = strtoull(buf, &end, 10);
	return end == buf || *end ? -EINVAL : 0;
}

int xen_store_write_number(const char *dir, const char *key, unsigned long long v)
{
	char path[160], buf[24];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	snprintf(buf, sizeof(buf), "%llu", v);
	return xen_store_write(path, buf);
}

/* Polls (a setup step): the frontends wait for their backends this way. */
int xen_store_wait_state(const char *backend, unsigned long long at_least)
{
	uint64_t deadline = clock_monotonic_ns() + XEN_CONNECT_NS;
	unsigned long long state = 0;

	while (xen_store_read_number(backend, "state", &state) != 0 || state < at_least) {
		if (clock_monotonic_ns() > deadline)
			return -ETIMEDOUT;
		sleep_until(clock_monotonic_ns() + 1000000);
	}
	return 0;
}

/* This domain's id: the toolstack writes it at the relative key "domid". */
int xen_store_domid(uint16_t *domid)
{
	unsigned long long id;
	int rc = xen_store_read_number("", "domid", &id);

	if (rc)
		return rc;
	if (id >= XEN_DOMID_SELF)
		return -EIO;
	*domid = (uint16_t)id;
	return 0;
}
