/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on a port of hv's in-process switch (vswitch.c): NICs of one
 * VM, or of several, reach each other with no tap. A frame moves with one
 * copy, from the sender's transmit chain straight into the receiver's next
 * posted receive chain, on the sender's I/O thread.
 *
 * Locks, in the one order they are ever taken:
 *
 *   the switch's lock -> the sending NIC's lock -> one receiving NIC's lock
 *
 * virtio_serve_queue() takes the switch's lock (the device's outer_lock)
 * before the sender's, and a receiver's lock is taken and released for
 * each copy. Only a sender ever holds two NIC locks, and it holds the
 * switch's lock while it does: two NICs sending to each other at once take
 * turns at the switch's lock, rather than each holding its own lock while
 * it waits for the other's. Everyone else holds at most one NIC lock and
 * never waits for the switch's while holding it: the vCPU thread's register
 * accesses, an RX kick (it takes none), vswitch_detach() at destroy (none).
 * And the switch never hands a frame back to the port it came from, so a
 * sender never waits for its own lock. The cost: a switch forwards one
 * frame at a time, whichever domains its ports belong to.
 *
 * Holding the sender's lock through the copy keeps the reset contract of
 * virtio_dev.h: once a reset returns to the sender's driver, hv no longer
 * reads its buffers. A receiver that is not live, or has no receive buffer
 * posted, loses the frame, counted, as a switch port with a full queue
 * does: frames never wait in hv. So that a flooding sender cannot take
 * every buffer, a receiver's last posted chains go only to senders under
 * their share of its frames (vswitch.c). A port is detached when its
 * device is destroyed, which must come before its domain's memory goes
 * (vm_destroy does it in that order): until then any domain's sender may
 * copy into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_net.h"
#include "vswitch.h"

struct switch_nic {
	struct virtio_dev dev;
	struct vswitch_port port;
	uint8_t mac[6];
	uint64_t tx_dropped; /* frames refused before the switch: malformed or too long */
};

static struct switch_nic *to_nic(const struct virtio_dev *d)
{
	return virtio_container_of(d, struct switch_nic, dev);
}

/*
 * Copy the len bytes of from into to, which has room for them. memmove,
 * not memcpy: a guest with two NICs may make a transmit buffer overlap a
 * receive buffer.
 */
static void copy_iov(const struct iovec *to, unsigned nto, const struct iovec *from,
		     unsigned nfrom)
{
	size_t toff = 0, foff = 0;
	unsigned ti = 0, fi = 0;

	while (ti < nto && fi < nfrom) {
		size_t room = to[ti].iov_len - toff, left = from[fi].iov_len - foff;
		size_t n = room < left ? room : left;

		memmove((uint8_t *)to[ti].iov_base + toff,
			(const uint8_t *)from[fi].iov_base + foff, n);
		toff += n;
		foff += n;
		if (toff == to[ti].iov_len)
			ti++, toff = 0;
		if (foff == from[fi].iov_len)
			fi++, foff = 0;
	}
}

/*
 * The switch's lock held, on the sender's thread: put one frame into this
 * NIC's next receive chain, checked as every chain is, and signal its port.
 * A sender over its share gets none of the queue's last chains.
 */
static int nic_deliver(struct vswitch_port *p, const struct iovec *frame, unsigned nr_iov,
		       size_t len, bool over_share)
{
	struct switch_nic *n = virtio_container_of(p, struct switch_nic, port);
	struct virtio_dev *d = &n->dev;
	struct virtq_dev *rx = &d->q[VIRTIO_NET_Q_RX].vq;
	/* No MRG_RXBUF: one chain per frame [5.1.6.3.1]; no offloads: all else zero. */
	struct virtio_net_hdr hdr = { .num_buffers = 1 };
	struct iovec to[HV_VIRTQ_SIZE_MAX];
	struct virtq_chain c;
	unsigned k;
	int rc = -ENOBUFS;

	pthread_mutex_lock(&d->lock);
	if (!virtio_queue_live(d, VIRTIO_NET_Q_RX))
		goto out;
	if (over_share) {
		uint16_t left = virtq_dev_available(rx);

		if (left > 0 && left <= rx->num >> VSWITCH_SHARE_RESERVE_SHIFT) {
			rc = -EAGAIN;
			goto out;
		}
	}
	if (virtio_queue_pop(d, VIRTIO_NET_Q_RX, &c) <= 0)
		goto out;
	if (!virtio_net_rx_holds_header(d, &c))
		goto out;
	if (c.in_len - sizeof(hdr) < len) {
		/* Too small for this frame; the next, smaller one may use it. */
		virtq_dev_unpop(rx);
		goto out;
	}
	virtq_chain_write(&c, 0, &hdr, sizeof(hdr));
	k = virtq_iov_slice(c.iov + c.nr_out, c.nr_in, sizeof(hdr), len, to);
	copy_iov(to, k, frame, nr_iov);
	d->q[VIRTIO_NET_Q_RX].bytes += len;
	virtio_queue_push(d, VIRTIO_NET_Q_RX, c.head, (uint32_t)(sizeof(hdr) + len));
	rc = 0;
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/*
 * Switch lock and our lock held: one frame out to the switch. The driver's
 * header can ask for nothing (no offload was offered), so it is skipped.
 */
static int64_t nic_tx_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct switch_nic *n = to_nic(d);
	struct iovec frame[HV_VIRTQ_SIZE_MAX];
	uint64_t len;
	unsigned k;

	if (c->out_len < sizeof(struct virtio_net_hdr) ||
	    c->out_len - sizeof(struct virtio_net_hdr) > VIRTIO_NET_FRAME_MAX) {
		n->tx_dropped++;
		return 0;
	}
	len = c->out_len - sizeof(struct virtio_net_hdr);
	k = virtq_iov_slice(c->iov, c->nr_out, sizeof(struct virtio_net_hdr), len, frame);
	vswitch_send(&n->port, frame, k, (size_t)len, hv_now_ns());
	d->q[q].bytes += len;
	return 0; /* the device wrote nothing into the chain */
}

/* Frames never wait for receive buffers, so new ones need no work: only TX is served. */
static void nic_kick(struct virtio_dev *d, unsigned q)
{
	if (q == VIRTIO_NET_Q_TX)
		virtio_serve_queue(d, q);
}

static void nic_stats(const struct virtio_dev *d, char *buf, size_t len)
{
	struct switch_nic *n = to_nic(d);
	struct vswitch_counters c;

	if (!n->port.sw) { /* its VM failed before it was attached */
		snprintf(buf, len, "on no switch");
		return;
	}
	vswitch_port_counters(&n->port, &c);
	snprintf(buf, len,
		 "switch %s port %u: rx %llu packets %llu bytes (%llu dropped, %llu refused over "
		 "share), tx %llu packets %llu bytes (%llu dropped); %llu forwarded, %llu flooded, "
		 "%llu filtered",
		 vswitch_name(n->port.sw), n->port.id, (unsigned long long)d->q[0].chains,
		 (unsigned long long)d->q[0].bytes, (unsigned long long)c.dropped,
		 (unsigned long long)c.refused, (unsigned long long)d->q[1].chains,
		 (unsigned long long)d->q[1].bytes, (unsigned long long)n->tx_dropped,
		 (unsigned long long)c.forwarded, (unsigned long long)c.flooded,
		 (unsigned long long)c.filtered);
}

static void nic_destroy(struct virtio_dev *d)
{
	struct switch_nic *n = to_nic(d);

	vswitch_detach(&n->port); /* after this no sender touches n */
	free(n);
}

static const struct virtio_backend switch_nic_backend = {
	.kind = "virtio-net",
	.virtio_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.serve_chain = nic_tx_chain, /* TX only: RX is filled by the senders */
	.drain_queues = 1u << VIRTIO_NET_Q_TX,
	.kick = nic_kick,
	.stats = nic_stats,
	.destroy = nic_destroy,
};

/* switch:NAME[,mac=xx:xx:xx:xx:xx:xx] */
int virtio_net_switch_add(struct hv_vm *vm, const char *arg)
{
	static const char want[] = "switch:NAME or switch:NAME,mac=xx:xx:xx:xx:xx:xx";
	const char *name = arg + strlen("switch:"), *comma = strchr(name, ',');
	size_t len = comma ? (size_t)(comma - name) : strlen(name);
	char sw_name[VSWITCH_NAME_MAX + 1], seed[VSWITCH_NAME_MAX + 16];
	bool mac_given = false;
	struct switch_nic *n;
	int rc;

	if (vswitch_name_check(name, len)) {
		fprintf(stderr, "hv: --net=%s: want %s (a switch name has 1 to %d letters, digits, "
				"'_' or '-')\n", arg, want, VSWITCH_NAME_MAX);
		return HV_EXIT_USAGE;
	}
	memcpy(sw_name, name, len);
	sw_name[len] = '\0';
	n = calloc(1, sizeof(*n));
	if (!n) {
		fprintf(stderr, "hv: --net=%s: out of memory\n", arg);
		return HV_EXIT_OSERR;
	}
	rc = virtio_net_parse_mac_opt(arg, name + len, want, n->mac, &mac_given);
	if (rc) {
		free(n);
		return rc;
	}
	n->port.deliver = nic_deliver;
	n->dev.be = &switch_nic_backend;
	n->dev.host_fd = -1;
	/* From here the VM owns n and frees it; a port is attached once its lock exists. */
	rc = virtio_dev_add(vm, &n->dev);
	if (rc)
		return rc;
	if (vswitch_attach(&n->port, sw_name)) {
		fprintf(stderr, "hv: --net=%s: out of memory\n", arg);
		return HV_EXIT_OSERR;
	}
	n->dev.outer_lock = vswitch_lock(n->port.sw);
	/* Distinct per NIC on the switch, and the same at every run of the same command line. */
	if (!mac_given) {
		snprintf(seed, sizeof(seed), "%s:%u", sw_name, n->port.id);
		virtio_net_mac_from_name(seed, n->mac);
	}
	virtio_net_setup(&n->dev, n->mac);
	return 0;
}
