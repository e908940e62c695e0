/* SPDX-License-Identifier: MIT */
/* What hv's virtio-net backends (a tap, a switch port) share: the device they offer, the MAC. */
#ifndef HV_VIRTIO_NET_H
#define HV_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_dev.h"

#define VIRTIO_NET_MTU 1500 /* bytes of payload every NIC offers */
/* The longest frame a NIC sends: the MTU, the Ethernet header and room for an 802.1Q tag. */
#define VIRTIO_NET_FRAME_MAX (VIRTIO_NET_MTU + 14 + 4)
/* The longest a TCP segment offload makes one: an IP packet's largest, with the same. */
#define VIRTIO_NET_SEGMENT_MAX (65535 + 14 + 4)

/* Offer what every NIC offers (MTU, MAC, link status: up) with this MAC. */
void virtio_net_setup(struct virtio_dev *d, const uint8_t mac[6]);

/* Lock held: whether receive chain c holds the header; if not, the device is broken. */
bool virtio_net_rx_holds_header(struct virtio_dev *d, const struct virtq_chain *c);

/* A stable default MAC: locally administered, unicast, the rest a hash of seed. */
void virtio_net_mac_from_name(const char *seed, uint8_t mac[6]);

/* What --net=...,OPTIONS may say besides the NIC's place. */
struct virtio_net_opts {
	uint8_t mac[6];
	bool mac_given;
	bool no_offload; /* offload=off: offer no checksum, segmentation or merging offload */
};

/*
 * What follows the name in --net=arg: opts is "" or options each after a
 * comma: mac=xx:xx:xx:xx:xx:xx, offload=on|off. Returns 0, or HV_EXIT_USAGE
 * after a message saying it wants want.
 */
int virtio_net_parse_opts(const char *arg, const char *opts, const char *want,
			  struct virtio_net_opts *o);

/* virtio_net_switch.c: --net=switch:NAME[,mac=...], as virtio_net_add() (which calls it). */
int virtio_net_switch_add(struct hv_vm *vm, const char *arg);

#endif /* HV_VIRTIO_NET_H */
