/* SPDX-License-Identifier: MIT */
/*
 * Virtio 1.x definitions shared by the guest's drivers and hv's devices: the
 * MMIO transport's registers, split virtqueues, and the block and net
 * devices, with the field names of the virtio 1.1 specification (sections in
 * brackets). All multi-byte fields are little-endian, as x86 is.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <stdint.h>

/* Device IDs [5]. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2

/* Device status bits [2.1]. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Reserved feature bits [6]. */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* MMIO transport registers, offsets in the device's window [4.2.2]. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000 /* "virt" */
#define VIRTIO_MMIO_VERSION 0x004     /* 2 for virtio 1.x, 1 for legacy */
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976u
#define VIRTIO_MMIO_INT_VRING 1u   /* InterruptStatus: used buffers */
#define VIRTIO_MMIO_INT_CONFIG 2u  /* InterruptStatus: configuration changed */

/* Split virtqueues [2.6]. */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* queue size entries, then used_event */
};

struct virtq_used_elem {
	uint32_t id; /* head of the chain */
	uint32_t len; /* bytes written into the chain */
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* queue size entries, then avail_event */
};

/* Part sizes of a queue of n entries, and the alignment each needs [2.6]. */
#define VIRTQ_DESC_SIZE(n) (16ul * (n))
#define VIRTQ_AVAIL_SIZE(n) (6ul + 2ul * (n))
#define VIRTQ_USED_SIZE(n) (6ul + 8ul * (n))
#define VIRTQ_DESC_ALIGN 16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN 4
#define VIRTQ_MAX_SIZE 32768

/*
 * With VIRTIO_F_RING_EVENT_IDX: should the side that moved its index from
 * old_idx to new_idx signal the other, which asked to hear at event_idx?
 * [2.6.7.2, 2.6.10]
 */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* Block device [5.2]. */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_ID_BYTES 20

struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
} __attribute__((packed));

/* The request header; data follows, then one status byte the device writes. */
struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Network device [5.1]. */
#define VIRTIO_NET_F_CSUM 0       /* the device completes checksums the driver leaves partial */
#define VIRTIO_NET_F_GUEST_CSUM 1 /* the driver takes frames with partial or checked checksums */
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7 /* the driver takes TCP/IPv4 segments longer than the MTU */
#define VIRTIO_NET_F_GUEST_TSO6 8 /* ... and TCP/IPv6 ones */
#define VIRTIO_NET_F_HOST_TSO4 11 /* the device cuts long TCP/IPv4 segments the driver sends */
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15 /* a received frame may span several receive chains */
#define VIRTIO_NET_F_STATUS 16

/* virtio_net_hdr.flags and gso_type [5.1.6] */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1 /* sum from csum_start, store at csum_start + csum_offset */
#define VIRTIO_NET_HDR_F_DATA_VALID 2 /* the checksums were checked */
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_Q_RX 0
#define VIRTIO_NET_Q_TX 1

struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

/* Precedes every frame in both directions (virtio 1.x: num_buffers always present). */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

_Static_assert(sizeof(struct virtq_desc) == 16, "descriptor layout");
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "net header layout");
_Static_assert(sizeof(struct virtio_blk_req_hdr) == 16, "block header layout");

#endif /* VIRTIO_H */
