/* SPDX-License-Identifier: MIT */
/*
 * hv's in-process Ethernet switch, a learning bridge as IEEE 802.1D describes
 * one: it learns which port each source MAC sits behind, sends a frame for a
 * learned MAC to that port alone, floods the rest, and never sends a frame
 * back out of the port it came in on. It knows nothing of virtio: a port
 * is a deliver callback, so the forwarding decisions are tested on the host.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vswitch.h"

/* A learned MAC; port NULL: a free entry. */
struct vswitch_mac {
	uint8_t mac[6];
	struct vswitch_port *port;
	uint64_t seen_ns; /* when a frame from it last came in */
};

/*
 * One switch. The lock guards the port list, the table and every port's
 * counters; it is held for each frame from its decision to its last copy.
 */
struct vswitch {
	char name[VSWITCH_NAME_MAX + 1];
	pthread_mutex_t lock;
	struct vswitch_port *ports; /* in attach order: the order of a flood */
	unsigned nr_ports, next_id;
	struct vswitch_mac table[VSWITCH_MAC_BUCKETS][VSWITCH_MAC_WAYS];
	struct vswitch *next;
};

/* Every switch of the process, by name; the registry lock comes before a switch's lock. */
static struct vswitch *switches;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

int vswitch_name_check(const char *name, size_t len)
{
	if (len == 0 || len > VSWITCH_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

const char *vswitch_name(const struct vswitch *sw)
{
	return sw->name;
}

pthread_mutex_t *vswitch_lock(struct vswitch *sw)
{
	return &sw->lock;
}

int vswitch_attach(struct vswitch_port *p, const char *name)
{
	struct vswitch *sw;
	struct vswitch_port **tail;

	pthread_mutex_lock(&registry_lock);
	for (sw = switches; sw && strcmp(sw->name, name) != 0; sw = sw->next)
		;
	if (!sw) {
		sw = calloc(1, sizeof(*sw));
		if (!sw) {
			pthread_mutex_unlock(&registry_lock);
			return -ENOMEM;
		}
		snprintf(sw->name, sizeof(sw->name), "%s", name);
		pthread_mutex_init(&sw->lock, NULL);
		sw->next = switches;
		switches = sw;
	}
	pthread_mutex_lock(&sw->lock);
	for (tail = &sw->ports; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	p->next = NULL;
	p->sw = sw;
	p->id = sw->next_id++;
	memset(&p->count, 0, sizeof(p->count));
	memset(&p->share, 0, sizeof(p->share));
	sw->nr_ports++;
	pthread_mutex_unlock(&sw->lock);
	pthread_mutex_unlock(&registry_lock);
	return 0;
}

void vswitch_detach(struct vswitch_port *p)
{
	struct vswitch *sw = p->sw, **link;
	struct vswitch_port **pp;
	bool last;

	if (!sw)
		return;
	pthread_mutex_lock(&registry_lock);
	pthread_mutex_lock(&sw->lock);
	for (pp = &sw->ports; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	for (unsigned b = 0; b < VSWITCH_MAC_BUCKETS; b++)
		for (unsigned w = 0; w < VSWITCH_MAC_WAYS; w++)
			if (sw->table[b][w].port == p)
				sw->table[b][w].port = NULL;
	last = --sw->nr_ports == 0;
	pthread_mutex_unlock(&sw->lock);
	if (last) {
		for (link = &switches; *link != sw; link = &(*link)->next)
			;
		*link = sw->next;
		pthread_mutex_destroy(&sw->lock);
		free(sw);
	}
	pthread_mutex_unlock(&registry_lock);
	p->sw = NULL;
	p->next = NULL;
}

void vswitch_port_counters(struct vswitch_port *p, struct vswitch_counters *out)
{
	pthread_mutex_lock(&p->sw->lock);
	*out = p->count;
	pthread_mutex_unlock(&p->sw->lock);
}

/* FNV-1a over the six bytes: guests pick their MACs, so every byte counts. */
unsigned vswitch_mac_bucket(const uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return (h ^ (h >> 16)) % VSWITCH_MAC_BUCKETS;
}

static bool expired(const struct vswitch_mac *e, uint64_t now_ns)
{
	return now_ns > e->seen_ns && now_ns - e->seen_ns > VSWITCH_MAC_AGE_NS;
}

/*
 * src came in on port from: remember it there. A full bucket gives up its
 * oldest entry, so the table stays bounded and what talks stays learned.
 */
static void learn(struct vswitch *sw, struct vswitch_port *from, const uint8_t src[6],
		  uint64_t now_ns)
{
	struct vswitch_mac *bucket = sw->table[vswitch_mac_bucket(src)];
	struct vswitch_mac *spare = NULL, *oldest = &bucket[0], *victim;

	for (unsigned w = 0; w < VSWITCH_MAC_WAYS; w++) {
		struct vswitch_mac *e = &bucket[w];

		if (e->port && memcmp(e->mac, src, 6) == 0) {
			e->port = from; /* a MAC that moved is followed at once */
			e->seen_ns = now_ns;
			return;
		}
		if (!spare && (!e->port || expired(e, now_ns)))
			spare = e;
		if (e->seen_ns < oldest->seen_ns)
			oldest = e;
	}
	victim = spare ? spare : oldest;
	memcpy(victim->mac, src, 6);
	victim->port = from;
	victim->seen_ns = now_ns;
}

/* The port dst was learned on, or NULL when it is unknown or forgotten. */
static struct vswitch_port *lookup(struct vswitch *sw, const uint8_t dst[6], uint64_t now_ns)
{
	struct vswitch_mac *bucket = sw->table[vswitch_mac_bucket(dst)];

	for (unsigned w = 0; w < VSWITCH_MAC_WAYS; w++) {
		struct vswitch_mac *e = &bucket[w];

		if (!e->port || memcmp(e->mac, dst, 6) != 0)
			continue;
		if (expired(e, now_ns)) {
			e->port = NULL;
			return NULL;
		}
		return e->port;
	}
	return NULL;
}

/*
 * Fair shares of a port's receive buffers. Frames never wait in hv: one
 * takes the receiver's next free buffer, or is lost. So a sender that
 * transmits as fast as it can would take nearly every buffer its receiver
 * posts, and another sender's frame, coming now and then, would find none:
 * a flooding domain could starve the others. Instead the last buffers of
 * each port (1/2^VSWITCH_SHARE_RESERVE_SHIFT of its queue) are kept for the
 * senders that had less than an equal share of its recent frames, counting
 * one sender more than were seen: for a newcomer's sake. The sender that
 * floods is over its share and refused when the receiver runs low; a
 * sender that sends less than its share still finds a buffer. A lone
 * sender cannot fill the last buffers: the price of not knowing who comes
 * next. The counts are per receiver, a few slots indexed by the sender's
 * port number (ports whose numbers are equal modulo VSWITCH_SHARE_SLOTS
 * share one), halved every VSWITCH_SHARE_WINDOW frames delivered: O(1) a
 * frame, and a sender that slows down is soon under its share again.
 */
static bool over_share(const struct vswitch_share *s, const struct vswitch_port *from)
{
	unsigned taken = s->taken[from->id % VSWITCH_SHARE_SLOTS];

	return taken * (s->senders + 1u) > s->total;
}

static void count_share(struct vswitch_share *s, const struct vswitch_port *from)
{
	if (s->taken[from->id % VSWITCH_SHARE_SLOTS]++ == 0)
		s->senders++;
	if (++s->total < VSWITCH_SHARE_WINDOW)
		return;
	s->total = s->senders = 0;
	for (unsigned i = 0; i < VSWITCH_SHARE_SLOTS; i++) {
		s->taken[i] /= 2;
		s->total = (uint16_t)(s->total + s->taken[i]);
		s->senders = (uint16_t)(s->senders + (s->taken[i] != 0));
	}
}

static void deliver(struct vswitch_port *from, struct vswitch_port *to, const struct iovec *frame,
		    unsigned nr_iov, size_t len, const void *meta)
{
	int rc = to->deliver(to, frame, nr_iov, len, over_share(&to->share, from), meta);

	if (rc == 0) {
		to->count.delivered++;
		count_share(&to->share, from);
	} else if (rc == -EAGAIN) {
		to->count.refused++;
	} else {
		to->count.dropped++;
	}
}

/* The destination and source MACs, wherever the buffers split them. */
static void read_macs(const struct iovec *frame, unsigned nr_iov, uint8_t macs[12])
{
	size_t got = 0;

	for (unsigned i = 0; i < nr_iov && got < 12; i++) {
		size_t take = frame[i].iov_len < 12 - got ? frame[i].iov_len : 12 - got;

		memcpy(macs + got, frame[i].iov_base, take);
		got += take;
	}
}

enum vswitch_verdict vswitch_send(struct vswitch_port *from, const struct iovec *frame,
				  unsigned nr_iov, size_t len, uint64_t now_ns, const void *meta)
{
	static const uint8_t zero[6];
	struct vswitch *sw = from->sw;
	struct vswitch_port *to;
	uint8_t macs[12];
	const uint8_t *dst = macs, *src = macs + 6;

	if (len < VSWITCH_ETH_HLEN)
		goto filtered;
	read_macs(frame, nr_iov, macs);
	/* Like Linux's bridge: a group or zero source is no station; its frame is dropped. */
	if ((src[0] & 1) || memcmp(src, zero, 6) == 0)
		goto filtered;
	learn(sw, from, src, now_ns);
	to = (dst[0] & 1) ? NULL : lookup(sw, dst, now_ns);
	if (to == from)
		goto filtered; /* the destination is behind the sender's own port */
	if (to) {
		from->count.forwarded++;
		deliver(from, to, frame, nr_iov, len, meta);
		return VSWITCH_FORWARDED;
	}
	from->count.flooded++;
	for (to = sw->ports; to; to = to->next)
		if (to != from)
			deliver(from, to, frame, nr_iov, len, meta);
	return VSWITCH_FLOODED;

filtered:
	from->count.filtered++;
	return VSWITCH_FILTERED;
}
