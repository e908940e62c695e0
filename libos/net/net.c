/* SPDX-License-Identifier: MIT */
/*
 * Starting the network: lwIP's threads, the interface on the first network
 * device, and its address from the arguments or from DHCP, with one line
 * on the console saying what was configured or why nothing was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "libos.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/inet.h"
#include "lwip/netifapi.h"
#include "lwip/tcpip.h"
#include "net.h"

static struct netif netif;
static int started, result;
static struct wait_queue addressed = WAIT_QUEUE_INIT;

struct net_config {
	ip4_addr_t ip, mask, gw, dns;
	int have_ip, have_dns;
	long dhcp_wait_ms;
	const char *bad; /* an argument that looked like ours but did not parse */
};

/* "A.B.C.D/N" (N defaults to 24) */
static int parse_cidr(const char *s, ip4_addr_t *ip, ip4_addr_t *mask)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	long bits = 24;

	if (len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (slash) {
		char *end;
		bits = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || bits < 1 || bits > 32)
			return -1;
	}
	if (!ip4addr_aton(addr, ip))
		return -1;
	ip4_addr_set_u32(mask, lwip_htonl(bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits)));
	return 0;
}

static void parse_args(struct net_config *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "ip=", 3)) {
			if (parse_cidr(a + 3, &c->ip, &c->mask))
				c->bad = a;
			else
				c->have_ip = 1;
		} else if (!strncmp(a, "gw=", 3)) {
			if (!ip4addr_aton(a + 3, &c->gw))
				c->bad = a;
		} else if (!strncmp(a, "dhcp_wait=", 10)) {
			char *end;
			long s = strtol(a + 10, &end, 10);
			if (*end || end == a + 10 || s < 0 || s > 3600)
				c->bad = a;
			else
				c->dhcp_wait_ms = s * 1000;
		} else if (!strncmp(a, "dns=", 4)) {
			if (!ip4addr_aton(a + 4, &c->dns))
				c->bad = a;
			else
				c->have_dns = 1;
		}
	}
}

static void status_changed(struct netif *n)
{
	if (!ip4_addr_isany_val(*netif_ip4_addr(n)))
		wait_queue_wake_all(&addressed);
}

static void tcpip_ready(void *arg)
{
	*(int *)arg = 1;
}

static void say_config(const char *how)
{
	char ip[16], mask[16], gw[16];

	ip4addr_ntoa_r(netif_ip4_addr(&netif), ip, sizeof(ip));
	ip4addr_ntoa_r(netif_ip4_netmask(&netif), mask, sizeof(mask));
	ip4addr_ntoa_r(netif_ip4_gw(&netif), gw, sizeof(gw));
	printf("libos: net: %s %s netmask %s gateway %s (%s)\n", netdev_name(netif.state), ip, mask,
	       gw, how);
}

static int start(void)
{
	struct net_config c = { .dhcp_wait_ms = NET_DHCP_WAIT_MS };
	struct netdev *dev = netdev_get(0);
	volatile int ready = 0;
	int rc;

	if (!dev)
		return -ENODEV;
	parse_args(&c, libos_argc, libos_argv);
	if (c.bad)
		printf("libos: net: ignoring '%s' (want ip=A.B.C.D/N, gw=A.B.C.D, dns=A.B.C.D, "
		       "dhcp_wait=SECONDS)\n", c.bad);
	tcpip_init(tcpip_ready, (void *)&ready);
	while (!ready)
		thread_yield();
	LOCK_TCPIP_CORE();
	rc = nic_attach(&netif, dev);
	if (!rc) {
		netif_set_status_callback(&netif, status_changed);
		netif_set_default(&netif);
		if (c.have_ip)
			netif_set_addr(&netif, &c.ip, &c.mask, &c.gw);
		netif_set_up(&netif);
		netif_set_link_up(&netif);
		if (c.have_dns)
			dns_setserver(0, (const ip_addr_t *)&c.dns);
		if (!c.have_ip)
			dhcp_start(&netif);
	}
	UNLOCK_TCPIP_CORE();
	if (rc)
		return rc;
	if (c.have_ip) {
		say_config("from the arguments");
		return 0;
	}
	uint64_t deadline = clock_monotonic_ns() + (uint64_t)c.dhcp_wait_ms * 1000000ull;
	while (ip4_addr_isany_val(*netif_ip4_addr(&netif)))
		if (wait_queue_wait(&addressed, deadline) == -ETIMEDOUT)
			break;
	if (ip4_addr_isany_val(*netif_ip4_addr(&netif)))
		printf("libos: net: %s has no address: no DHCP answer within %ld s (it keeps asking; "
		       "or give ip=A.B.C.D/N gw=A.B.C.D)\n",
		       netdev_name(dev), c.dhcp_wait_ms / 1000);
	else
		say_config("from DHCP");
	return 0;
}

int net_start(void)
{
	if (!started) {
		started = 1;
		result = start();
	}
	return result;
}

/* Called by libos_start when the image links the network stack: start it before main(). */
void net_boot(void)
{
	if (netdev_count())
		net_start();
}
