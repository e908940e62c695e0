/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on a host tap device [virtio 1.1, 5.1]. The tap speaks the
 * same 12-byte virtio_net_hdr (IFF_VNET_HDR), so a frame moves between the
 * tap and the guest's buffers with one readv or writev, with no copy in hv,
 * and the header's offloads pass through unchanged: checksums left partial
 * both ways, TCP segments of up to 64 KiB both ways (the host kernel cuts or
 * joins them), a received frame spread over several receive chains
 * (mergeable buffers). The tap is told which offloads the driver took
 * (TUNSETOFFLOAD), so it never hands the guest a frame it did not ask for.
 * Also what every NIC shares (virtio_net.h): the device offered, --net's MAC.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio_net.h"

/* The most receive chains one frame may take: a 64 KiB segment in 1 KiB buffers. */
#define NET_RX_CHAINS_MAX 66
#define NET_RX_IOV_MAX 1024 /* the most iovecs one readv takes (the kernel's UIO_MAXIOV) */

struct virtio_net {
	struct virtio_dev dev;
	int tap_fd;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	uint64_t rx_dropped, tx_dropped, tx_refused;
	uint64_t rx_starved; /* times the tap waited: too few receive buffers posted for a frame */
	uint64_t rx_frames, rx_merged, rx_large, tx_large, tx_csum; /* offloads at work */
	/* I/O thread: the driver's features as of its DRIVER_OK */
	uint64_t features;
	uint32_t rx_need; /* header and the longest frame the tap may hand over */
	struct virtq_chain *rx; /* NET_RX_CHAINS_MAX, for one frame */
	struct iovec rx_iov[NET_RX_IOV_MAX];
};

static bool has(uint64_t features, unsigned bit)
{
	return features & (1ull << bit);
}

static struct virtio_net *to_net(const struct virtio_dev *d)
{
	return virtio_container_of(d, struct virtio_net, dev);
}

/* Poll the tap only while frames can go somewhere; else they wait in the kernel's queue. */
static void rx_arm(struct virtio_net *n, bool on)
{
	if (n->dev.host_polled != on)
		virtio_dev_poll_host(&n->dev, on);
}

/*
 * Lock held, the features known: take receive chains until they hold the
 * longest frame the tap may hand over. Returns how many were taken, 0 when
 * the ring has too few buffers for it (all put back), or -EPROTO (the ring
 * broke). Without mergeable buffers one chain must hold it all.
 */
static int take_rx_chains(struct virtio_net *n)
{
	struct virtio_dev *d = &n->dev;
	bool merge = has(n->features, VIRTIO_NET_F_MRG_RXBUF);
	uint64_t room = 0;
	int k = 0;

	while (room < n->rx_need && k < (merge ? NET_RX_CHAINS_MAX : 1)) {
		int rc = virtio_queue_pop(d, VIRTIO_NET_Q_RX, &n->rx[k]);

		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		if (!virtio_net_rx_holds_header(d, &n->rx[k]))
			return -EPROTO;
		room += n->rx[k++].in_len;
	}
	if (room >= n->rx_need || (!merge && k == 1))
		return k; /* one short chain without merging: a frame too long is dropped */
	while (k-- > 0)
		virtq_dev_unpop(&d->q[VIRTIO_NET_Q_RX].vq);
	return 0;
}

/*
 * Lock held: got bytes (header and frame) were read into the k chains taken.
 * Give back the ones used, each with its part, the rest untouched; the first
 * says how many (num_buffers, 1 without merging [5.1.6.3.1]). One signal.
 */
static void give_rx_chains(struct virtio_net *n, int k, uint64_t got)
{
	struct virtio_dev *d = &n->dev;
	struct virtq_dev *vq = &d->q[VIRTIO_NET_Q_RX].vq;
	uint16_t used = 0;
	uint64_t left = got;

	for (int i = 0; i < k && left > 0; i++) {
		left -= n->rx[i].in_len < left ? n->rx[i].in_len : left;
		used++;
	}
	virtq_chain_write(&n->rx[0], offsetof(struct virtio_net_hdr, num_buffers), &used,
			  sizeof(used));
	for (int i = k - 1; i >= used; i--)
		virtq_dev_unpop(vq);
	left = got;
	for (int i = 0; i < used; i++) {
		uint64_t part = n->rx[i].in_len < left ? n->rx[i].in_len : left;

		virtq_dev_push(vq, n->rx[i].head, (uint32_t)part);
		d->q[VIRTIO_NET_Q_RX].chains++;
		left -= part;
	}
	n->rx_frames++;
	n->rx_merged += used > 1;
	n->rx_large += got - sizeof(struct virtio_net_hdr) > VIRTIO_NET_FRAME_MAX;
	d->q[VIRTIO_NET_Q_RX].bytes += got - sizeof(struct virtio_net_hdr);
	virtio_queue_signal_used(d, VIRTIO_NET_Q_RX);
}

/*
 * The chains' writable buffers, in order, as one iovec list for readv (at
 * most NET_RX_IOV_MAX of them); *room is the bytes they hold.
 */
static int rx_iovecs(struct virtio_net *n, int k, uint64_t *room)
{
	int m = 0;

	*room = 0;
	for (int i = 0; i < k; i++)
		for (unsigned j = 0; j < n->rx[i].nr_in && m < NET_RX_IOV_MAX; j++) {
			n->rx_iov[m] = n->rx[i].iov[n->rx[i].nr_out + j];
			*room += n->rx_iov[m++].iov_len;
		}
	return m;
}

/*
 * Move frames from the tap into posted RX chains until the tap is empty or
 * the driver has too few buffers posted. The chains are taken before the
 * read, so a frame never leaves the kernel without a place to go.
 */
static void net_rx(struct virtio_dev *d)
{
	struct virtio_net *n = to_net(d);

	while (!virtio_dev_stopping(d)) {
		struct virtq_dev *vq = &d->q[VIRTIO_NET_Q_RX].vq;
		uint16_t posted;
		uint64_t room;
		ssize_t got;
		int k;

		pthread_mutex_lock(&d->lock);
		if (!virtio_queue_live(d, VIRTIO_NET_Q_RX)) {
			rx_arm(n, false); /* the driver's DRIVER_OK or kick re-arms */
			pthread_mutex_unlock(&d->lock);
			return;
		}
		posted = virtq_dev_available(vq);
		k = take_rx_chains(n);
		/* None, or too few for a frame: wait for the driver's next, unless it came. */
		if (k == 0 && virtq_dev_enable_kicks_after(vq, posted)) {
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		if (k <= 0) {
			n->rx_starved += k == 0;
			rx_arm(n, false);
			pthread_mutex_unlock(&d->lock);
			return;
		}
		got = readv(n->tap_fd, n->rx_iov, rx_iovecs(n, k, &room));
		/* The tap returns a frame's whole length even when it had to cut it. */
		if (got < (ssize_t)sizeof(struct virtio_net_hdr) || (uint64_t)got > room) {
			for (int i = 0; i < k; i++)
				virtq_dev_unpop(&d->q[VIRTIO_NET_Q_RX].vq);
			pthread_mutex_unlock(&d->lock);
			if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
				rx_arm(n, true);
				return;
			}
			n->rx_dropped++; /* the frame did not fit the buffers: it is gone */
			continue;
		}
		give_rx_chains(n, k, (uint64_t)got);
		pthread_mutex_unlock(&d->lock);
	}
}

/*
 * Whether the driver may ask for what its header asks: a partial checksum
 * only with CSUM, a long segment only with the matching HOST_TSO. The rest
 * (where the checksum goes, the segment size) the tap's kernel checks.
 */
static bool tx_header_allowed(const struct virtio_net *n, const struct virtio_net_hdr *h)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !has(n->features, VIRTIO_NET_F_CSUM))
		return false;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE: return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4: return has(n->features, VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6: return has(n->features, VIRTIO_NET_F_HOST_TSO6);
	default: return false;
	}
}

/*
 * One frame out, straight from guest memory with one writev. The driver's
 * header is copied first (the guest cannot change it under the checks),
 * checked against what was negotiated, and passed on: a refused one drops
 * the frame, counted.
 */
static int64_t net_tx_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct virtio_net *n = to_net(d);
	struct virtio_net_hdr hdr;
	struct iovec iov[1 + HV_VIRTQ_SIZE_MAX];
	uint64_t frame;
	unsigned k;

	if (c->out_len < sizeof(hdr) || virtq_chain_read(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		n->tx_dropped++;
		return 0;
	}
	if (!tx_header_allowed(n, &hdr)) {
		n->tx_refused++;
		return 0;
	}
	hdr.num_buffers = 0;
	frame = c->out_len - sizeof(hdr);
	iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
	k = virtq_iov_slice(c->iov, c->nr_out, sizeof(hdr), frame, iov + 1);
	if (writev(n->tap_fd, iov, (int)(k + 1)) < 0) {
		n->tx_dropped++; /* the interface is down, or the frame or header malformed */
		return 0;
	}
	n->tx_large += hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	n->tx_csum += hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	d->q[q].bytes += frame;
	return 0; /* the device wrote nothing into the chain */
}

/*
 * vCPU thread, lock held: the driver's features, at FEATURES_OK (0 at a
 * reset). Refuses a set the spec forbids; tells the tap which offloads it
 * may use toward the guest, and sizes the frames it may hand over.
 */
static int net_set_features(struct virtio_dev *d, uint64_t f)
{
	struct virtio_net *n = to_net(d);
	unsigned offload = 0;

	if ((has(f, VIRTIO_NET_F_GUEST_TSO4) || has(f, VIRTIO_NET_F_GUEST_TSO6)) &&
	    !has(f, VIRTIO_NET_F_GUEST_CSUM))
		return virtio_features_refused(d, f, "GUEST_TSO without GUEST_CSUM [5.1.3.1]");
	if ((has(f, VIRTIO_NET_F_HOST_TSO4) || has(f, VIRTIO_NET_F_HOST_TSO6)) &&
	    !has(f, VIRTIO_NET_F_CSUM))
		return virtio_features_refused(d, f, "HOST_TSO without CSUM [5.1.3.1]");
	if (has(f, VIRTIO_NET_F_GUEST_CSUM))
		offload |= TUN_F_CSUM;
	if (has(f, VIRTIO_NET_F_GUEST_TSO4))
		offload |= TUN_F_TSO4;
	if (has(f, VIRTIO_NET_F_GUEST_TSO6))
		offload |= TUN_F_TSO6;
	if (ioctl(n->tap_fd, TUNSETOFFLOAD, offload) < 0) {
		fprintf(stderr, "hv: %s: %s: TUNSETOFFLOAD 0x%x on %s: %s\n", d->vm->name, d->name,
			offload, n->ifname, strerror(errno));
		return -EIO;
	}
	n->features = f;
	n->rx_need = (uint32_t)sizeof(struct virtio_net_hdr) +
		     (offload & (TUN_F_TSO4 | TUN_F_TSO6) ? VIRTIO_NET_SEGMENT_MAX
							   : VIRTIO_NET_FRAME_MAX);
	return 0;
}

static void net_kick(struct virtio_dev *d, unsigned q)
{
	if (q == VIRTIO_NET_Q_TX) {
		virtio_serve_queue(d, q);
		return;
	}
	/* New RX buffers: frames may flow again. */
	rx_arm(to_net(d), true);
	net_rx(d);
}

static void net_stats(const struct virtio_dev *d, char *buf, size_t len)
{
	const struct virtio_net *n = to_net(d);

	snprintf(buf, len, "rx %llu packets %llu bytes (%llu dropped), tx %llu packets %llu bytes "
			   "(%llu dropped, %llu refused); offloads: rx %llu frames %llu over several "
			   "buffers %llu long, tx %llu long %llu checksums left partial; "
			   "rx waited for buffers %llu times",
		 (unsigned long long)n->rx_frames, (unsigned long long)d->q[0].bytes,
		 (unsigned long long)n->rx_dropped, (unsigned long long)d->q[1].chains,
		 (unsigned long long)d->q[1].bytes, (unsigned long long)n->tx_dropped,
		 (unsigned long long)n->tx_refused, (unsigned long long)n->rx_frames,
		 (unsigned long long)n->rx_merged, (unsigned long long)n->rx_large,
		 (unsigned long long)n->tx_large, (unsigned long long)n->tx_csum,
		 (unsigned long long)n->rx_starved);
}

/* Another hv (or this one's next domain) may attach to the tap as soon as this one ends. */
static void net_release(struct virtio_dev *d)
{
	struct virtio_net *n = to_net(d);

	if (n->tap_fd >= 0)
		close(n->tap_fd);
	n->tap_fd = -1;
}

static void net_destroy(struct virtio_dev *d)
{
	struct virtio_net *n = to_net(d);

	net_release(d);
	free(n->rx);
	free(n);
}

static const struct virtio_backend net_backend = {
	.kind = "virtio-net",
	.virtio_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.serve_chain = net_tx_chain, /* TX only: RX is driven by the tap */
	.set_features = net_set_features,
	.drain_queues = 1u << VIRTIO_NET_Q_TX,
	.kick = net_kick,
	.host_ready = net_rx,
	.stats = net_stats,
	.release = net_release,
	.destroy = net_destroy,
};

/* An FNV-1a hash of the seed. */
void virtio_net_mac_from_name(const char *seed, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = seed; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int virtio_net_parse_opts(const char *arg, const char *opts, const char *want,
			  struct virtio_net_opts *o)
{
	while (*opts) {
		const char *end = strchr(opts + 1, ',');
		size_t len = end ? (size_t)(end - opts - 1) : strlen(opts + 1);
		char tok[32];
		uint8_t m[6];

		if (*opts != ',' || len >= sizeof(tok))
			goto bad;
		memcpy(tok, opts + 1, len);
		tok[len] = '\0';
		opts += 1 + len;
		if (strcmp(tok, "offload=off") == 0 || strcmp(tok, "offload=on") == 0) {
			o->no_offload = strcmp(tok, "offload=off") == 0;
			continue;
		}
		if (strncmp(tok, "mac=", 4) != 0 || parse_mac(tok + 4, m))
			goto bad;
		if (m[0] & 1) {
			fprintf(stderr, "hv: --net=%s: %s is a multicast address; a NIC needs a "
					"unicast one (first byte even)\n", arg, tok + 4);
			return HV_EXIT_USAGE;
		}
		memcpy(o->mac, m, 6);
		o->mac_given = true;
	}
	return 0;
bad:
	fprintf(stderr, "hv: --net=%s: want %s\n", arg, want);
	return HV_EXIT_USAGE;
}

bool virtio_net_rx_holds_header(struct virtio_dev *d, const struct virtq_chain *c)
{
	if (c->in_len >= sizeof(struct virtio_net_hdr))
		return true;
	virtio_dev_break(d, VIRTIO_NET_Q_RX,
			 "receive buffer at descriptor %u holds %llu bytes, less than the %zu-byte "
			 "header",
			 c->head, (unsigned long long)c->in_len, sizeof(struct virtio_net_hdr));
	return false;
}

void virtio_net_setup(struct virtio_dev *d, const uint8_t mac[6])
{
	struct virtio_net_config cfg = { 0 };

	d->features |= 1ull << VIRTIO_NET_F_MTU | 1ull << VIRTIO_NET_F_MAC |
		       1ull << VIRTIO_NET_F_STATUS;
	memcpy(cfg.mac, mac, sizeof(cfg.mac));
	cfg.status = VIRTIO_NET_S_LINK_UP;
	cfg.mtu = VIRTIO_NET_MTU;
	memcpy(d->config, &cfg, sizeof(cfg));
	d->config_size = sizeof(cfg);
}

/* TAP[,mac=xx:xx:xx:xx:xx:xx][,offload=off] */
static int parse_net_arg(const char *arg, struct virtio_net *n, struct virtio_net_opts *o)
{
	int rc;

	static const char want[] = "TAP, then ,mac=xx:xx:xx:xx:xx:xx or ,offload=on|off if you like";
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);

	if (len == 0 || len >= IFNAMSIZ) {
		fprintf(stderr, "hv: --net=%s: want %s (a network interface name has 1 to %d "
				"characters)\n", arg, want, IFNAMSIZ - 1);
		return HV_EXIT_USAGE;
	}
	memcpy(n->ifname, arg, len);
	n->ifname[len] = '\0';
	virtio_net_mac_from_name(n->ifname, o->mac);
	rc = virtio_net_parse_opts(arg, arg + len, want, o);
	memcpy(n->mac, o->mac, 6);
	return rc;
}

/* The interface's tun flags (IFF_TAP...), or -ENOENT for an interface that is not tun/tap. */
static int tun_flags(const char *ifname, unsigned *flags)
{
	char path[64 + IFNAMSIZ];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", ifname);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%x", flags) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

/*
 * Attach to the existing tap ifname. TUNSETIFF would create a missing one
 * (we are often root), so hv checks first that it exists and is a tap, and
 * afterwards that it is still the same interface: an interface created by
 * us would go away with our fd, and hv never leaves one behind anyway.
 */
static int tap_open(struct virtio_net *n, const char *arg)
{
	unsigned ifindex = if_nametoindex(n->ifname), flags = 0;
	struct ifreq ifr = { 0 };
	int hdr_size = sizeof(struct virtio_net_hdr), rc;

	if (ifindex == 0) {
		fprintf(stderr, "hv: --net=%s: there is no network interface %s; create the tap "
				"first: ip tuntap add %s mode tap\n", arg, n->ifname, n->ifname);
		return HV_EXIT_UNAVAILABLE;
	}
	rc = tun_flags(n->ifname, &flags);
	if (rc == -ENOENT || (rc == 0 && !(flags & IFF_TAP))) {
		fprintf(stderr, "hv: --net=%s: %s is not a tap device (%s); hv needs one made with "
				"ip tuntap add NAME mode tap\n", arg, n->ifname,
			rc ? "not a tun/tap interface"
			   : "a tun device, which carries IP, not Ethernet");
		return HV_EXIT_UNAVAILABLE;
	}
	n->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap_fd < 0) {
		fprintf(stderr, "hv: --net=%s: /dev/net/tun: %s\n", arg, strerror(errno));
		return HV_EXIT_UNAVAILABLE;
	}
	memcpy(ifr.ifr_name, n->ifname, IFNAMSIZ);
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (flags & IFF_MULTI_QUEUE));
	if (ioctl(n->tap_fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "hv: --net=%s: cannot attach to tap %s: %s\n", arg, n->ifname,
			errno == EBUSY	 ? "it is in use by another process"
			: errno == EPERM ? "not permitted (it belongs to another user: run as "
					   "root, or make it with ip tuntap add NAME mode tap "
					   "user $USER)"
					 : strerror(errno));
		goto err_close;
	}
	if (if_nametoindex(n->ifname) != ifindex) {
		fprintf(stderr, "hv: --net=%s: tap %s went away while hv attached to it\n", arg,
			n->ifname);
		goto err_close;
	}
	/* The header layout of virtio 1.x (num_buffers included); no offloads until the driver's
	 * features say which (net_set_features). */
	if (ioctl(n->tap_fd, TUNSETVNETHDRSZ, &hdr_size) < 0 ||
	    ioctl(n->tap_fd, TUNSETOFFLOAD, 0) < 0) {
		fprintf(stderr, "hv: --net=%s: setting up tap %s: %s\n", arg, n->ifname,
			strerror(errno));
		goto err_close;
	}
	return 0;

err_close:
	close(n->tap_fd);
	n->tap_fd = -1;
	return HV_EXIT_UNAVAILABLE;
}

int virtio_net_add(struct hv_vm *vm, const char *arg)
{
	struct virtio_net_opts opts = { 0 };
	struct virtio_net *n;
	int rc;

	/* No interface name holds a ':', so no tap is mistaken for a switch. */
	if (strncmp(arg, "switch:", 7) == 0)
		return virtio_net_switch_add(vm, arg);
	n = calloc(1, sizeof(*n));
	if (!n) {
		fprintf(stderr, "hv: --net=%s: out of memory\n", arg);
		return HV_EXIT_OSERR;
	}
	n->tap_fd = -1;
	rc = parse_net_arg(arg, n, &opts);
	if (rc)
		goto err_free;
	rc = tap_open(n, arg);
	if (rc)
		goto err_free;

	n->rx = calloc(NET_RX_CHAINS_MAX, sizeof(*n->rx));
	if (!n->rx) {
		fprintf(stderr, "hv: --net=%s: out of memory\n", arg);
		close(n->tap_fd);
		rc = HV_EXIT_OSERR;
		goto err_free;
	}
	n->dev.be = &net_backend;
	n->dev.host_fd = n->tap_fd;
	virtio_net_setup(&n->dev, n->mac);
	if (!opts.no_offload)
		n->dev.features |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM |
				   1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6 |
				   1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 |
				   1ull << VIRTIO_NET_F_MRG_RXBUF;
	n->rx_need = sizeof(struct virtio_net_hdr) + VIRTIO_NET_FRAME_MAX;
	/* From here the VM owns n and frees it. */
	return virtio_dev_add(vm, &n->dev);

err_free:
	free(n);
	return rc;
}
