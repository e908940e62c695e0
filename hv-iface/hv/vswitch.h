/* SPDX-License-Identifier: MIT */
/* hv's in-process Ethernet switch: named switches, their ports, MAC learning and forwarding. */
#ifndef HV_VSWITCH_H
#define HV_VSWITCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Tunables of every switch. */
#define VSWITCH_NAME_MAX 31                     /* characters of a switch's name */
#define VSWITCH_MAC_BUCKETS 64                  /* the learning table: buckets ... */
#define VSWITCH_MAC_WAYS 4                      /* ... of this many MACs: 256 in all */
#define VSWITCH_MAC_AGE_NS (300ull * 1000000000) /* a MAC not heard from for 300 s is forgotten */
/* Fair sharing of a port's receive buffers among its senders (vswitch.c says why and how). */
#define VSWITCH_SHARE_SLOTS 16   /* senders told apart at a port: port numbers modulo this */
#define VSWITCH_SHARE_WINDOW 256 /* a port's counts of its senders halve every this many frames */
#define VSWITCH_SHARE_RESERVE_SHIFT 3 /* a port's last 1/8 of receive buffers: under share only */

#define VSWITCH_ETH_HLEN 14 /* a frame is at least an Ethernet header */

struct vswitch;
struct vswitch_port;

/*
 * Hand a frame of len bytes, in nr_iov buffers, to port to. Called with the
 * switch's lock held, from the sending port's thread. over_share: its sender
 * has had more than its share of to's recent frames, so the frame may not
 * take one of to's last receive buffers (the last 1/2^VSWITCH_SHARE_RESERVE_SHIFT
 * of its queue). Returns 0; -EAGAIN when only those were left and over_share
 * kept the frame out, which the switch counts as refused at that port; another
 * negative errno when it could not be taken (no receive buffer at all),
 * counted as dropped.
 */
typedef int (*vswitch_deliver_fn)(struct vswitch_port *to, const struct iovec *frame,
				  unsigned nr_iov, size_t len, bool over_share, const void *meta);

/* What happened to the frames a port sent, and to those sent to it. */
struct vswitch_counters {
	uint64_t forwarded; /* sent: to the one port where its destination was learned */
	uint64_t flooded;   /* sent: to every other port (broadcast, multicast, unknown) */
	uint64_t filtered;  /* sent: to none (destination on the sender's own port, runt,
			       multicast or zero source address) */
	uint64_t delivered; /* for this port: handed over */
	uint64_t dropped;   /* for this port: lost, the port had no room for it */
	uint64_t refused;   /* for this port: lost, its sender was over its share and the
			       port's last buffers are kept for the others */
};

/*
 * Who had a port's frames lately: per sender (its port number modulo
 * VSWITCH_SHARE_SLOTS) the frames delivered, all halved every
 * VSWITCH_SHARE_WINDOW frames so that the past fades.
 */
struct vswitch_share {
	uint16_t taken[VSWITCH_SHARE_SLOTS];
	uint16_t total;   /* their sum, below VSWITCH_SHARE_WINDOW */
	uint16_t senders; /* slots that are not zero */
};

/*
 * A switch port, embedded in its owner (a NIC). The owner sets deliver
 * before vswitch_attach(); the switch sets the rest.
 */
struct vswitch_port {
	vswitch_deliver_fn deliver;
	struct vswitch *sw;
	unsigned id; /* the port's number on its switch: 0, 1, ... in attach order */
	struct vswitch_port *next;
	struct vswitch_counters count; /* under the switch's lock */
	struct vswitch_share share;    /* under the switch's lock */
};

/* 0 when name[0, len) is a valid switch name: 1 to 31 of [A-Za-z0-9_-]; else -EINVAL. */
int vswitch_name_check(const char *name, size_t len);

/*
 * Attach p to the switch called name (valid by vswitch_name_check), which
 * is made at its first use. Returns 0 or -ENOMEM.
 */
int vswitch_attach(struct vswitch_port *p, const char *name);

/*
 * Detach p: the switch forgets p's MACs, and goes with its last port. On
 * return nothing is delivered to p any more, so its owner may go. Never
 * call it holding a lock that a deliver callback takes: a sender holding
 * the switch's lock may be waiting for it.
 */
void vswitch_detach(struct vswitch_port *p);

/*
 * The switch's lock. Whoever sends through a switch takes it first, before
 * any lock of its own (see virtio_net_switch.c for the whole order).
 */
pthread_mutex_t *vswitch_lock(struct vswitch *sw);

const char *vswitch_name(const struct vswitch *sw);

enum vswitch_verdict {
	VSWITCH_FORWARDED, /* to the port its destination was learned on */
	VSWITCH_FLOODED,   /* to every port but the sender */
	VSWITCH_FILTERED,  /* to none */
};

/*
 * Lock held: switch a frame of len bytes in nr_iov buffers sent by port
 * from, at monotonic time now_ns. Learns the source MAC on from (moving it
 * there if it was learned elsewhere); sends a broadcast or multicast frame
 * and one for an unknown or forgotten destination to every other port, one
 * for a learned destination to that port alone, and never one back to its
 * sender. A runt (under 14 bytes) and a frame from a multicast or all-zero
 * address go nowhere and teach nothing. meta is the sender's, handed to
 * every deliver unchanged and never read by the switch (a NIC's virtio-net
 * header, offloads and all).
 */
enum vswitch_verdict vswitch_send(struct vswitch_port *from, const struct iovec *frame,
				  unsigned nr_iov, size_t len, uint64_t now_ns, const void *meta);

/* p's counters, read under the switch's lock. */
void vswitch_port_counters(struct vswitch_port *p, struct vswitch_counters *out);

/* The learning table's bucket for mac (exposed for the tests: MACs that share one). */
unsigned vswitch_mac_bucket(const uint8_t mac[6]);

#endif /* HV_VSWITCH_H */
