/* SPDX-License-Identifier: MIT */
/*
 * lwIP's configuration for libos: the stack runs on libos's cooperative
 * threads (NO_SYS=0) with the core lock taken by the caller (no message
 * hop to the tcpip thread per call), IPv4, TCP, UDP, DHCP, DNS and BSD
 * sockets numbered after the console's descriptors. Sizes are chosen for
 * appliances that serve a few hundred connections; they are the tunables.
 */
#ifndef LIBOS_LWIPOPTS_H
#define LIBOS_LWIPOPTS_H

/* The operating system: libos threads, semaphores and mailboxes (sys_arch.c). */
#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1 /* sys_arch_protect is free: nothing preempts a thread */
#define LWIP_TCPIP_CORE_LOCKING 1
#define LWIP_TCPIP_CORE_LOCKING_INPUT 1 /* received frames are processed by the receiving thread */
#define TCPIP_THREAD_NAME "lwip"
#define TCPIP_THREAD_STACKSIZE (64 * 1024)
#define TCPIP_MBOX_SIZE 256
#define DEFAULT_THREAD_STACKSIZE (64 * 1024)
#define DEFAULT_RAW_RECVMBOX_SIZE 64
#define DEFAULT_UDP_RECVMBOX_SIZE 256
/*
 * A socket's receive mailbox holds a pbuf chain per segment delivered: room for a window of
 * full-sized segments (1 MiB / 1460 = 718), for NICs that do not join them (QEMU's here).
 * With 256, one stream into QEMU filled it, lwIP refused the data, and the stream stalled
 * for good after 5-11 MB.
 */
#define DEFAULT_TCP_RECVMBOX_SIZE 1024
#define DEFAULT_ACCEPTMBOX_SIZE 256
#define LWIP_NETCONN_SEM_PER_THREAD 0

/* newlib provides errno, struct timeval and fd_set (FD_SETSIZE comes from the build). */
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_TIMEVAL_PRIVATE 0

/* Memory: lwIP's own heap and pools, sized on purpose (static data of the image). */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (1024 * 1024)
#define MEMP_NUM_PBUF 512
#define MEMP_NUM_UDP_PCB 32
#define MEMP_NUM_TCP_PCB 512
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_TCP_SEG 2048
#define MEMP_NUM_NETBUF 256
#define MEMP_NUM_NETCONN 512
#define MEMP_NUM_TCPIP_MSG_API 64
#define MEMP_NUM_TCPIP_MSG_INPKT 256
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define PBUF_POOL_SIZE 1024
#define LWIP_SUPPORT_CUSTOM_PBUF 1 /* received frames stay in the driver's buffers */

/* Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_DNS 1
#define LWIP_IGMP 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

/*
 * TCP: a receive window of 1 MiB (scaled), so that one stream keeps the link busy: the more
 * the sender may send ahead, the fewer gaps while the guest, hv's device thread and the
 * sender wait on one another. One stream into the guest on hv's proc backend, 5 s runs on
 * a 2-CPU host: with kicks and blocks by trap, a window of 128 KiB gave 4.3-5.6 Gbit/s,
 * 256 KiB 6.2-6.8, 384 KiB 6.5-7.9, 512 KiB 5.9-7.7, 1 MiB 4.4-5.8; with proc's futex
 * blocks and eventfd kicks (hv_abi.h, HV_BOOT_LINUX_CALLS), 512 KiB 7.6-8.4, 1 MiB 8.2-11.8,
 * 2 MiB 8.7-11.0. The receive buffers lent to lwIP (netif.c, 256 KiB) and the pbuf pool
 * (1,024 pbufs of a segment each, 1.5 MiB) hold more than a window.
 * A window update goes out once the application has read a quarter of the window, not four
 * segments: an ACK of its own per read cost as many exits as data segments.
 */
#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 5
#define TCP_WND (1024 * 1024)
#define TCP_WND_UPDATE_THRESHOLD (TCP_WND / 4)
#define TCP_SND_BUF (128 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (16 * TCP_MSS) /* writable again below this; must fit 16 bits */
#define TCP_QUEUE_OOSEQ 1
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 255
#define LWIP_TCP_KEEPALIVE 1
#define TCP_OVERSIZE TCP_MSS

/* Sockets: numbered from 3, after stdin, stdout and stderr. */
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_OFFSET 3
#define LWIP_SOCKET_SELECT 1
#define LWIP_SOCKET_POLL 1
#define LWIP_SO_RCVTIMEO 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_SO_RCVBUF 1
#define SO_REUSE 1
#define LWIP_TCP_CLOSE_TIMEOUT_MS_DEFAULT 5000
#define LWIP_NETIF_API 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1

/* Checksums in software, except where a device does them: each interface says (netif.c). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_UDP 1
#define LWIP_CHECKSUM_ON_COPY 1

/* No statistics or debug output by default. */
#define LWIP_STATS 0
#define LWIP_DEBUG 0

#endif /* LIBOS_LWIPOPTS_H */
