/* SPDX-License-Identifier: MIT */
/* The network stack's start, inside libos: lwIP on the first network device. */
#ifndef LIBOS_NET_H
#define LIBOS_NET_H

#include "lwip/netif.h"
#include "netdev.h"

/* How long the start waits for a DHCP lease before saying there is none (it keeps trying). */
#define NET_DHCP_WAIT_MS 10000

/*
 * Start lwIP once: a network interface on the first network device,
 * configured from the appliance's arguments (ip=A.B.C.D/N, gw=A.B.C.D,
 * dns=A.B.C.D) or by DHCP, waiting for a lease at most dhcp_wait=SECONDS
 * (default NET_DHCP_WAIT_MS). 0, or -ENODEV when there is no network device.
 * Later calls return the first result.
 */
int net_start(void);

/* The interface on dev, receiving in its own thread. */
int nic_attach(struct netif *netif, struct netdev *dev);

#endif /* LIBOS_NET_H */
