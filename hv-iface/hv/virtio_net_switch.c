/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on a port of hv's in-process switch (vswitch.c): NICs of one
 * VM, or of several, reach each other with no tap. A frame moves with one
 * copy, from the sender's transmit chain straight into the receiver's next
 * posted receive chain, on the sender's I/O thread. The sender's virtio-net
 * header goes along unchanged: a checksum it left partial reaches a receiver
 * that took GUEST_CSUM as it was sent, and is completed here for one that
 * did not.
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
	uint64_t features;   /* the driver's, as of FEATURES_OK; under the NIC's lock */
	uint64_t summed;     /* partial checksums completed for this receiver */
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

/* The ones' complement sum of the bytes of the iovecs, read as big-endian 16-bit words. */
static uint16_t sum_iov(const struct iovec *iov, unsigned n)
{
	uint64_t sum = 0;
	size_t at = 0; /* the offset of the next byte within the span: its byte lane */

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *b = iov[i].iov_base;

		for (size_t k = 0; k < iov[i].iov_len; k++, at++)
			sum += (at & 1) ? b[k] : (uint32_t)b[k] << 8;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The receiver did not take GUEST_CSUM: finish the checksum the sender left
 * partial, in the receiver's copy of the frame (after the header in chain c)
 * [5.1.6.2]. Where it goes was checked at send (it lies in the frame).
 */
static void complete_csum(struct switch_nic *n, const struct virtq_chain *c,
			  const struct virtio_net_hdr *h, size_t len)
{
	size_t start = sizeof(struct virtio_net_hdr) + h->csum_start;
	struct iovec span[HV_VIRTQ_SIZE_MAX];
	unsigned k = virtq_iov_slice(c->iov + c->nr_out, c->nr_in, start, len - h->csum_start,
				     span);
	uint16_t sum = (uint16_t)~sum_iov(span, k);
	uint8_t be[2] = { (uint8_t)(sum >> 8), (uint8_t)sum };

	virtq_chain_write(c, start + h->csum_offset, be, sizeof(be));
	n->summed++;
}

/*
 * The switch's lock held, on the sender's thread: put one frame into this
 * NIC's next receive chain, checked as every chain is, and signal its port.
 * A sender over its share gets none of the queue's last chains. meta is the
 * sender's header (checked by it): passed on, or its partial checksum done.
 */
static int nic_deliver(struct vswitch_port *p, const struct iovec *frame, unsigned nr_iov,
		       size_t len, bool over_share, const void *meta)
{
	struct switch_nic *n = virtio_container_of(p, struct switch_nic, port);
	struct virtio_dev *d = &n->dev;
	struct virtq_dev *rx = &d->q[VIRTIO_NET_Q_RX].vq;
	const struct virtio_net_hdr *sent = meta;
	/* One chain per frame, whatever MRG_RXBUF says (a frame fits one) [5.1.6.3.1]. */
	struct virtio_net_hdr hdr = { .num_buffers = 1 };
	bool partial = sent && (sent->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
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
	k = virtq_iov_slice(c.iov + c.nr_out, c.nr_in, sizeof(hdr), len, to);
	copy_iov(to, k, frame, nr_iov);
	if (partial && (n->features & (1ull << VIRTIO_NET_F_GUEST_CSUM))) {
		hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr.csum_start = sent->csum_start;
		hdr.csum_offset = sent->csum_offset;
	} else if (partial) {
		complete_csum(n, &c, sent, len);
	}
	virtq_chain_write(&c, 0, &hdr, sizeof(hdr));
	d->q[VIRTIO_NET_Q_RX].bytes += len;
	virtio_queue_push(d, VIRTIO_NET_Q_RX, c.head, (uint32_t)(sizeof(hdr) + len));
	rc = 0;
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/*
 * Switch lock and our lock held: one frame out to the switch. The driver's
 * header is copied and checked: the only offload offered is a partial
 * checksum (CSUM), which must lie inside the frame; all else must be zero.
 */
static int64_t nic_tx_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct switch_nic *n = to_nic(d);
	struct iovec frame[HV_VIRTQ_SIZE_MAX];
	struct virtio_net_hdr hdr;
	uint64_t len;
	unsigned k;

	if (c->out_len < sizeof(hdr) || c->out_len - sizeof(hdr) > VIRTIO_NET_FRAME_MAX ||
	    virtq_chain_read(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		n->tx_dropped++;
		return 0;
	}
	len = c->out_len - sizeof(hdr);
	if (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	    (hdr.flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) ||
	    ((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	     (!(n->features & (1ull << VIRTIO_NET_F_CSUM)) ||
	      (uint64_t)hdr.csum_start + hdr.csum_offset + 2 > len))) {
		n->tx_dropped++;
		return 0;
	}
	k = virtq_iov_slice(c->iov, c->nr_out, sizeof(hdr), len, frame);
	vswitch_send(&n->port, frame, k, (size_t)len, hv_now_ns(), &hdr);
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
		 "%llu filtered; %llu partial checksums completed",
		 vswitch_name(n->port.sw), n->port.id, (unsigned long long)d->q[0].chains,
		 (unsigned long long)d->q[0].bytes, (unsigned long long)c.dropped,
		 (unsigned long long)c.refused, (unsigned long long)d->q[1].chains,
		 (unsigned long long)d->q[1].bytes, (unsigned long long)n->tx_dropped,
		 (unsigned long long)c.forwarded, (unsigned long long)c.flooded,
		 (unsigned long long)c.filtered, (unsigned long long)n->summed);
}

static void nic_destroy(struct virtio_dev *d)
{
	struct switch_nic *n = to_nic(d);

	vswitch_detach(&n->port); /* after this no sender touches n */
	free(n);
}

/* vCPU thread, lock held: the receive side reads them under the same lock. */
static int nic_set_features(struct virtio_dev *d, uint64_t f)
{
	to_nic(d)->features = f;
	return 0;
}

static const struct virtio_backend switch_nic_backend = {
	.kind = "virtio-net",
	.virtio_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.serve_chain = nic_tx_chain, /* TX only: RX is filled by the senders */
	.set_features = nic_set_features,
	.drain_queues = 1u << VIRTIO_NET_Q_TX,
	.kick = nic_kick,
	.stats = nic_stats,
	.destroy = nic_destroy,
};

/* switch:NAME[,mac=xx:xx:xx:xx:xx:xx][,offload=off] */
int virtio_net_switch_add(struct hv_vm *vm, const char *arg)
{
	static const char want[] = "switch:NAME, then ,mac=xx:xx:xx:xx:xx:xx or ,offload=on|off "
				   "if you like";
	struct virtio_net_opts opts = { 0 };
	const char *name = arg + strlen("switch:"), *comma = strchr(name, ',');
	size_t len = comma ? (size_t)(comma - name) : strlen(name);
	char sw_name[VSWITCH_NAME_MAX + 1], seed[VSWITCH_NAME_MAX + 16];
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
	rc = virtio_net_parse_opts(arg, name + len, want, &opts);
	memcpy(n->mac, opts.mac, 6);
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
	if (!opts.mac_given) {
		snprintf(seed, sizeof(seed), "%s:%u", sw_name, n->port.id);
		virtio_net_mac_from_name(seed, n->mac);
	}
	virtio_net_setup(&n->dev, n->mac);
	/* Checksums travel partial between guests; no TSO: frames stay within the MTU here. */
	if (!opts.no_offload)
		n->dev.features |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM;
	return 0;
}
