/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on a host tap device [virtio 1.1, 5.1]. The tap speaks the
 * same 12-byte virtio_net_hdr (IFF_VNET_HDR), so a frame moves between the
 * tap and the guest's buffers with one readv or writev, with no copy in hv.
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

struct virtio_net {
	struct virtio_dev dev;
	int tap_fd;
	bool rx_armed; /* the I/O thread polls the tap: there may be RX buffers */
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	uint64_t rx_dropped, tx_dropped;
};

static struct virtio_net *to_net(const struct virtio_dev *d)
{
	return virtio_container_of(d, struct virtio_net, dev);
}

/* Poll the tap only while frames can go somewhere; else they wait in the kernel's queue. */
static void rx_arm(struct virtio_net *n, bool on)
{
	if (n->rx_armed != on && virtio_dev_poll_host(&n->dev, on) == 0)
		n->rx_armed = on;
}

/*
 * Move frames from the tap into posted RX chains until the tap is empty or
 * the driver has no buffer posted. A chain is taken before the read, so a
 * frame never leaves the kernel without a place to go.
 */
static void net_rx(struct virtio_dev *d)
{
	struct virtio_net *n = to_net(d);
	struct virtq_chain c;
	const uint16_t one = 1;

	while (!virtio_dev_stopping(d)) {
		ssize_t got;
		int rc;

		pthread_mutex_lock(&d->lock);
		if (!virtio_queue_live(d, VIRTIO_NET_Q_RX)) {
			rx_arm(n, false); /* the driver's DRIVER_OK or kick re-arms */
			pthread_mutex_unlock(&d->lock);
			return;
		}
		rc = virtio_queue_pop(d, VIRTIO_NET_Q_RX, &c);
		if (rc == 0 && virtq_dev_enable_kicks(&d->q[VIRTIO_NET_Q_RX].vq)) {
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		if (rc <= 0) {
			rx_arm(n, false);
			pthread_mutex_unlock(&d->lock);
			return;
		}
		if (!virtio_net_rx_holds_header(d, &c)) {
			rx_arm(n, false);
			pthread_mutex_unlock(&d->lock);
			return;
		}
		got = readv(n->tap_fd, c.iov + c.nr_out, (int)c.nr_in);
		/* The tap returns a frame's whole length even when it had to cut it. */
		if (got < (ssize_t)sizeof(struct virtio_net_hdr) || (uint64_t)got > c.in_len) {
			virtq_dev_unpop(&d->q[VIRTIO_NET_Q_RX].vq);
			pthread_mutex_unlock(&d->lock);
			if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
				rx_arm(n, true);
				return;
			}
			n->rx_dropped++; /* the frame did not fit the buffer: it is gone */
			continue;
		}
		/* The tap skips num_buffers; without MRG_RXBUF it is 1 [5.1.6.3.1]. */
		virtq_chain_write(&c, offsetof(struct virtio_net_hdr, num_buffers), &one,
				  sizeof(one));
		d->q[VIRTIO_NET_Q_RX].bytes += (uint64_t)got - sizeof(struct virtio_net_hdr);
		virtio_queue_push(d, VIRTIO_NET_Q_RX, c.head, (uint32_t)got);
		pthread_mutex_unlock(&d->lock);
	}
}

/*
 * One frame out: the driver's header is replaced by a zeroed one (no
 * checksum or segmentation offload was offered, so none may be asked for),
 * then the frame goes straight from guest memory with one writev.
 */
static int64_t net_tx_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct virtio_net *n = to_net(d);
	struct virtio_net_hdr hdr = { 0 };
	struct iovec iov[1 + HV_VIRTQ_SIZE_MAX];
	uint64_t frame;
	unsigned k;

	if (c->out_len < sizeof(hdr)) {
		n->tx_dropped++;
		return 0;
	}
	frame = c->out_len - sizeof(hdr);
	iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
	k = virtq_iov_slice(c->iov, c->nr_out, sizeof(hdr), frame, iov + 1);
	if (writev(n->tap_fd, iov, (int)(k + 1)) < 0) {
		n->tx_dropped++; /* the interface is down, or the frame malformed */
		return 0;
	}
	d->q[q].bytes += frame;
	return 0; /* the device wrote nothing into the chain */
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
			   "(%llu dropped)",
		 (unsigned long long)d->q[0].chains, (unsigned long long)d->q[0].bytes,
		 (unsigned long long)n->rx_dropped, (unsigned long long)d->q[1].chains,
		 (unsigned long long)d->q[1].bytes, (unsigned long long)n->tx_dropped);
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
	net_release(d);
	free(to_net(d));
}

static const struct virtio_backend net_backend = {
	.kind = "virtio-net",
	.virtio_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.serve_chain = net_tx_chain, /* TX only: RX is driven by the tap */
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

int virtio_net_parse_mac_opt(const char *arg, const char *opt, const char *want, uint8_t mac[6],
			     bool *given)
{
	uint8_t m[6];

	if (*opt == '\0')
		return 0;
	if (strncmp(opt, ",mac=", 5) != 0 || parse_mac(opt + 5, m)) {
		fprintf(stderr, "hv: --net=%s: want %s\n", arg, want);
		return HV_EXIT_USAGE;
	}
	if (m[0] & 1) {
		fprintf(stderr, "hv: --net=%s: %s is a multicast address; a NIC needs a unicast "
				"one (first byte even)\n", arg, opt + 5);
		return HV_EXIT_USAGE;
	}
	memcpy(mac, m, 6);
	if (given)
		*given = true;
	return 0;
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

/* TAP[,mac=xx:xx:xx:xx:xx:xx] */
static int parse_net_arg(const char *arg, struct virtio_net *n)
{
	static const char want[] = "TAP or TAP,mac=xx:xx:xx:xx:xx:xx";
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);

	if (len == 0 || len >= IFNAMSIZ) {
		fprintf(stderr, "hv: --net=%s: want %s (a network interface name has 1 to %d "
				"characters)\n", arg, want, IFNAMSIZ - 1);
		return HV_EXIT_USAGE;
	}
	memcpy(n->ifname, arg, len);
	n->ifname[len] = '\0';
	virtio_net_mac_from_name(n->ifname, n->mac);
	return virtio_net_parse_mac_opt(arg, arg + len, want, n->mac, NULL);
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
	/* The header layout of virtio 1.x (num_buffers included); no offloads. */
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
	rc = parse_net_arg(arg, n);
	if (rc)
		goto err_free;
	rc = tap_open(n, arg);
	if (rc)
		goto err_free;

	n->dev.be = &net_backend;
	n->dev.host_fd = n->tap_fd;
	virtio_net_setup(&n->dev, n->mac);
	/* From here the VM owns n and frees it. */
	return virtio_dev_add(vm, &n->dev);

err_free:
	free(n);
	return rc;
}
