/* SPDX-License-Identifier: MIT */
/*
 * The guest<->hv ABI: image note, boot info, hypercalls and the shared-info page.
 *
 * This header is the only one that both the guest (libos) and the host (hv)
 * include. It is self-contained (no libc headers beyond <stdint.h>), uses
 * fixed-width little-endian types for every shared structure, and carries
 * the ABI version that an image's note must match exactly.
 *
 * Addresses passed across the boundary are guest-physical (gpa). On hv the
 * guest runs with virtual == physical addresses, so a pointer is its gpa.
 * Assembly may include it for the constants that come before the first type.
 */
#ifndef HV_ABI_H
#define HV_ABI_H

#define HV_ABI_VERSION 3
#define HV_NOTE_NAME "hv"
#define HV_NOTE_ABI 1

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * Image note (HV_NOTE_NAME, HV_NOTE_ABI above). An image declares that it
 * speaks this ABI with an ELF note (in a PT_NOTE segment) named "hv\0" of
 * type HV_NOTE_ABI whose descriptor is struct hv_note_abi. hv refuses an
 * image without it or with another version.
 */
struct hv_note_abi {
	uint32_t abi_version;
	uint32_t flags; /* none defined; must be 0 */
};

/*
 * Guest-physical memory. Everything below HV_IMAGE_BASE belongs to hv (its
 * page tables, GDT, TSS, IDT, fault stubs, boot info, shared info); page 0 is
 * never mapped. Images are linked at HV_IMAGE_BASE with virtual == physical
 * addresses. Guest RAM and every device window lie below 4 GiB, so a
 * hypercall argument pointer always fits the 32-bit port write.
 */
#define HV_PAGE_SIZE 4096u
#define HV_IMAGE_BASE 0x100000u
#define HV_GPA_LIMIT 0x100000000ull

/*
 * Hypercalls. The guest writes the gpa of the call's argument block with a
 * 32-bit `out` to HV_PORT(call); hv reads the block, does the call, writes
 * results back into the block and resumes the guest after the `out`.
 * Ports are 4 apart because a 32-bit `out` checks 4 bits of the TSS I/O
 * bitmap. hv opens the ports of all HV_CALL_SLOTS calls to ring 3 and no
 * other port, so a call this hv does not know still reaches it and is
 * reported by number. The block must lie in guest RAM, outside hv's area,
 * and be 8-byte aligned. A bad call number or block ends the VM.
 */
#define HV_PORT_BASE 0x500u
#define HV_CALL_SLOTS 64u
#define HV_PORT(call) (HV_PORT_BASE + 4u * (call))

enum hv_call {
	HV_CALL_CONSOLE_WRITE = 0,
	HV_CALL_EXIT = 1,
	HV_CALL_WALLCLOCK = 2,
	HV_CALL_BLOCK = 3,
	HV_CALL_EVTCHN_OP = 4, /* struct hv_evtchn_op */
	HV_CALL_GNTTAB_OP = 5, /* struct hv_gnttab_op */
	HV_CALL_STORE = 6,     /* struct hv_store_op */
	HV_CALL_COUNT
};

/* Write len bytes at buf to the console. ret: bytes written or -errno. */
struct hv_console_write {
	uint64_t buf;
	uint64_t len;
	int64_t ret;
};

/* End the VM; hv exits with status & 0xff when this is its only VM. */
struct hv_exit {
	_Alignas(8) int32_t status; /* an argument block is 8-byte aligned: so is its type */
	uint32_t pad;
};

/*
 * Wall-clock time: realtime_ns (ns since the Unix epoch) read at the same
 * instant as tsc, so the guest can extend it with its own monotonic clock.
 */
struct hv_wallclock {
	uint64_t realtime_ns;
	uint64_t tsc;
};

/*
 * Block until an event is pending or the guest's monotonic clock reaches
 * deadline_ns (HV_DEADLINE_NONE: no deadline). Returns at once, without
 * sleeping, when vcpu_info[0].evtchn_upcall_pending is already set: the
 * guest clears that flag, scans for work, runs it, then blocks, and a wake-up
 * that arrives between the scan and the block is never lost (Xen's
 * SCHEDOP_block rule). hv does not clear the flag. ret: HV_BLOCK_EVENT or
 * HV_BLOCK_DEADLINE, whichever ended the wait; at HV_BLOCK_DEADLINE the
 * port bound to HV_VIRQ_TIMER, if any, goes pending.
 */
#define HV_DEADLINE_NONE UINT64_MAX
#define HV_BLOCK_EVENT 0
#define HV_BLOCK_DEADLINE 1

struct hv_block {
	uint64_t deadline_ns;
	int64_t ret;
};

/*
 * Boot info. On entry (64-bit, ring 3, SSE on, interrupts off, virtual ==
 * physical) %rdi holds the gpa of this block and %rsp the top of the main
 * stack (16-byte aligned, an unmapped guard page below the stack). The block
 * and the argument strings are read-only to the guest. All guest memory hv
 * did not load from the image is zero, the image's .bss included.
 */
#define HV_BOOT_MAGIC 0x49425648u /* "HVBI" */
#define HV_MAX_MEM_REGIONS 16
#define HV_MAX_DEVICES 16

enum hv_mem_type {
	HV_MEM_RAM = 1,     /* free for the guest's allocator */
	HV_MEM_IMAGE = 2,   /* the loaded image, from its lowest to highest segment */
	HV_MEM_STACK = 3,   /* the main stack; its guard page is below it, unmapped */
	HV_MEM_HV = 4,      /* hv's own area; not accessible to the guest */
	HV_MEM_SHARED = 5,  /* the shared-info page */
};

struct hv_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint32_t type; /* enum hv_mem_type */
	uint32_t pad;
};

/*
 * The guest runs as a Linux process (hv's proc backend, where there is no
 * /dev/kvm), and may make the Linux system calls below. There any trap is a
 * stop of that process that hv serves (tens of microseconds); a system call
 * is about one. Each call and argument must be exactly as given here: any
 * other system call ends the domain.
 *
 * Kick queue q of device d, as a write of q to its QueueNotify would:
 *   write(HV_KICK_FD(d, q), buf, 8), buf 8 bytes of memory holding 1
 * (the fd is an eventfd: a count, added). -EBADF: that queue has no such fd;
 * write QueueNotify instead.
 *
 * Block, as HV_CALL_BLOCK does:
 *   vcpu_info[0].wait = 1 (sequentially consistent), then read
 *   evtchn_upcall_pending; if it is clear,
 *   futex(&shared_info->vcpu_info[0].wait, FUTEX_WAIT, 1, timeout, 0, 0)
 *   with timeout a relative struct timespec (NULL is refused), then set
 *   wait = 0.
 * hv, when it sets evtchn_upcall_pending, exchanges wait for 0 and, if it
 * was 1, wakes the futex: an event after the read above is never lost (the
 * rule of HV_CALL_BLOCK, evtchn.c). Unlike HV_CALL_BLOCK, hv does not see
 * this block: it sets no HV_VIRQ_TIMER port pending at the deadline (block
 * by the hypercall while a VIRQ is bound), does not drain the send ring
 * first (block this way only when send_ring's cons is its prod), counts no
 * exit, and cannot tell a guest that waits forever (block with no deadline
 * by the hypercall).
 */
#define HV_BOOT_LINUX_CALLS 1u
#define HV_KICK_FD_BASE 16
#define HV_KICK_FD_QUEUES 4 /* fds per device */
#define HV_KICK_FD(dev, q) (HV_KICK_FD_BASE + HV_KICK_FD_QUEUES * (dev) + (q))

/*
 * Devices. hv places each virtio-mmio device (virtio 1.x, see virtio.h) in its
 * own HV_DEVICE_WINDOW from HV_DEVICE_BASE up, mapped user read-write and
 * no-exec at boot. A write of q to the QueueNotify register kicks queue q
 * without an exit to hv's user space (an ioeventfd). When the device puts
 * buffers in queue q's used ring it sets event-channel port (port + q)
 * pending in the shared-info page, honouring VIRTQ_AVAIL_F_NO_INTERRUPT or
 * used_event, and wakes the vCPU if it is blocked. No interrupt is ever
 * injected; the guest never needs InterruptStatus.
 */
#define HV_DEVICE_BASE 0xc0000000u
#define HV_DEVICE_WINDOW 0x1000u

enum hv_device_type {
	HV_DEV_VIRTIO_MMIO = 1,
};

struct hv_device {
	uint32_t type;      /* enum hv_device_type */
	uint32_t virtio_id; /* VIRTIO_ID_* of the device in the window */
	uint64_t gpa;       /* the MMIO window */
	uint64_t size;
	uint32_t port;      /* event-channel port of queue 0; ports are never 0 */
	uint32_t nr_queues;
};

struct hv_boot_info {
	uint32_t magic;       /* HV_BOOT_MAGIC */
	uint32_t abi_version; /* HV_ABI_VERSION */
	uint32_t domid;       /* this domain's id: 1, 2 ... in the order hv was given them */
	uint32_t flags;       /* HV_BOOT_* */
	uint64_t send_ring;   /* gpa of struct hv_send_ring */
	uint64_t send_doorbell; /* gpa of its doorbell register (a 32-bit write of anything) */
	uint64_t grant_window; /* gpa of the window grant maps land in */
	uint64_t grant_window_size;
	uint64_t tsc_hz;      /* TSC ticks per second */
	uint64_t tsc_base;    /* TSC value at guest monotonic time zero */
	uint64_t shared_info; /* gpa of struct hv_shared_info */
	uint64_t args;        /* gpa of argc NUL-terminated strings, back to back */
	uint32_t argc;
	uint32_t args_size;   /* bytes at args, NULs included */
	uint32_t nr_mem;
	uint32_t nr_devices;
	struct hv_mem_region mem[HV_MAX_MEM_REGIONS];
	struct hv_device devices[HV_MAX_DEVICES];
};

/*
 * Domains. hv runs one or several domains; ids start at 1. A domain names
 * itself with HV_DOMID_SELF where an operation takes a domain id. A domain
 * that ended is no domain to the operations below (-ESRCH, GNTST_bad_domain).
 *
 * The errno values hv returns are Linux's and Xen's, and hv keeps to those
 * that newlib numbers the same: EPERM 1, ENOENT 2, ESRCH 3, E2BIG 7,
 * ENOMEM 12, EBUSY 16, EINVAL 22, ENOSPC 28 (so not ENOSYS: an unknown
 * operation is -EINVAL).
 */
typedef uint16_t domid_t;
#define HV_DOMID_SELF 0x7ff0u
#define HV_MAX_DOMAINS 1024

/*
 * Event channels: Xen's operations (EVTCHNOP_*, same numbers and meaning)
 * through HV_CALL_EVTCHN_OP. ret is 0 or a negative errno: -EINVAL a bad or
 * unbound port or virq, -ESRCH no such domain, -EPERM a port of another
 * domain or an allocation for a third one, -ENOSPC no free port, -EBUSY a
 * port bound elsewhere already. Ports below a domain's device ports' end
 * are hv's (virtqueues, STATUS says DEVICE) and refused here but by STATUS
 * and UNMASK. BIND_INTERDOMAIN of a remote port that is not unbound: -EBUSY
 * when it is bound, -EPERM when it is offered to another domain, -EINVAL
 * otherwise (Xen says -EINVAL for all three); the new local port comes
 * pending, as on Xen. Closing one end of a pair, or its domain ending,
 * leaves the other end unbound for the closer. SEND on an unbound port is
 * -EINVAL (Xen drops it silently).
 */
enum hv_evtchnop {
	HV_EVTCHNOP_BIND_INTERDOMAIN = 0,
	HV_EVTCHNOP_BIND_VIRQ = 1,
	HV_EVTCHNOP_CLOSE = 3,
	HV_EVTCHNOP_SEND = 4,
	HV_EVTCHNOP_STATUS = 5,
	HV_EVTCHNOP_ALLOC_UNBOUND = 6,
	HV_EVTCHNOP_UNMASK = 9,
};

/* Port states from EVTCHNOP_STATUS (Xen's EVTCHNSTAT_*, plus hv's device ports). */
enum hv_evtchnstat {
	HV_EVTCHNSTAT_CLOSED = 0,
	HV_EVTCHNSTAT_UNBOUND = 1,
	HV_EVTCHNSTAT_INTERDOMAIN = 2,
	HV_EVTCHNSTAT_VIRQ = 4,
	HV_EVTCHNSTAT_DEVICE = 16, /* a virtqueue's port, bound by hv */
};

#define HV_VIRQ_TIMER 0 /* pending when a block hypercall's deadline passes */

struct hv_evtchn_op {
	_Alignas(8) uint32_t cmd; /* enum hv_evtchnop; 8-byte aligned, as every argument block */
	int32_t ret;    /* out: 0 or -errno */
	domid_t dom;    /* ALLOC_UNBOUND: the allocating domain (SELF); STATUS: whose port */
	domid_t remote_dom; /* ALLOC_UNBOUND: who may bind; BIND_INTERDOMAIN: the peer; STATUS out */
	uint32_t remote_port; /* BIND_INTERDOMAIN: the peer's unbound port; STATUS out */
	uint32_t port;  /* the local port: in for CLOSE, SEND, UNMASK, STATUS; out for the binds */
	uint32_t virq;  /* BIND_VIRQ: in; STATUS out */
	uint32_t status; /* STATUS out: enum hv_evtchnstat */
	uint32_t pad;
};

/*
 * Sending without an exit: the guest appends ports to its send ring and
 * writes the doorbell (an ioeventfd: no exit to hv's user space) only when
 * hv said it went idle. hv drains the ring in order; a port that is not an
 * interdomain port of the sender is dropped and counted (the ring returns no
 * errors: EVTCHNOP_SEND does, at the price of an exit).
 *
 * The protocol (Dekker's): the guest writes ports[prod % SIZE], then prod
 * (release), then a full barrier, then reads hv_idle and rings if it is 1.
 * hv sets hv_idle to 0 when it starts taking entries and to 1 when it has
 * taken them all, then a full barrier, then reads prod again: so either the
 * guest sees 1 and rings, or hv sees the entry. The guest may set hv_idle to
 * 0 itself when it rings, to save more doorbells until hv wakes. hv trusts
 * only prod; a prod more than HV_SEND_RING_SIZE past hv's cons ends the
 * domain. The first doorbell exits to hv (which then makes it an ioeventfd);
 * a vCPU that blocks has its ring drained first.
 */
#define HV_SEND_RING_SIZE 512 /* entries, a power of two */

struct hv_send_ring {
	uint32_t prod;    /* the guest's: entries written */
	uint32_t cons;    /* hv's: entries taken */
	uint32_t hv_idle; /* hv's: 1 when it waits for the doorbell */
	uint32_t dropped; /* hv's: entries refused */
	uint32_t ports[HV_SEND_RING_SIZE];
};

/*
 * Grant tables, version 1 (Xen's grant_entry_v1 and GNTTABOP_* numbers).
 * A domain keeps its table in its own memory and registers it once
 * (SETUP_TABLE). An entry lets domid access one frame (gpa >> 12) of the
 * granter; the grantee maps it into its grant window (a KVM memory slot
 * that aliases the granter's page: the same memory, no copy), and hv sets
 * GTF_reading/GTF_writing in the granter's entry while it is mapped. A
 * granter ends access by clearing GTF_permit_access with a compare-and-swap
 * that fails while either in-use flag is set.
 */
#define HV_GTF_INVALID 0x0000u
#define HV_GTF_PERMIT_ACCESS 0x0001u
#define HV_GTF_READONLY 0x0004u
#define HV_GTF_READING 0x0008u
#define HV_GTF_WRITING 0x0010u

struct hv_grant_entry {
	uint16_t flags;
	domid_t domid;
	uint32_t frame;
};

enum hv_gnttabop {
	HV_GNTTABOP_MAP_GRANT_REF = 0,
	HV_GNTTABOP_UNMAP_GRANT_REF = 1,
	HV_GNTTABOP_SETUP_TABLE = 2,
	HV_GNTTABOP_COPY = 5,
	HV_GNTTABOP_QUERY_SIZE = 6,
};

/* Xen's GNTST_* results. */
#define HV_GNTST_OKAY 0
#define HV_GNTST_GENERAL_ERROR (-1)
#define HV_GNTST_BAD_DOMAIN (-2)
#define HV_GNTST_BAD_GNTREF (-3)
#define HV_GNTST_BAD_HANDLE (-4)
#define HV_GNTST_BAD_VIRT_ADDR (-5)
#define HV_GNTST_NO_DEVICE_SPACE (-7)
#define HV_GNTST_PERMISSION_DENIED (-8)
#define HV_GNTST_BAD_COPY_ARG (-10)

#define HV_GNTMAP_READONLY 1u /* MAP: map read-only (required for a read-only grant) */
#define HV_GNTCOPY_SOURCE_GREF 1u
#define HV_GNTCOPY_DEST_GREF 2u
#define HV_MAX_GRANT_ENTRIES 8192 /* per table */

/*
 * An end of a copy: with the *_GREF flag, where is a grant ref in bits 0-31
 * and the offset in the granted page in bits 32-63 (Xen's separate offset
 * field); without it, a gpa of the caller's own. Each end stays within one
 * page. A read-only grant is no destination.
 */
struct hv_gnttab_copy_ptr {
	uint64_t where; /* ref | offset << 32 (with the *_GREF flag), else a gpa of the caller */
	domid_t dom;    /* the granter for a ref; HV_DOMID_SELF for a gpa */
	uint16_t pad[3];
};

/*
 * Refusals are Xen's codes: a table not page-aligned or outside the caller's
 * RAM (or in hv's area) is bad_virt_addr; an entry not granted to the
 * caller, read-only for a writable map, naming a frame outside the granter's
 * RAM, or a table that is replaced while in use, general_error (as Xen); a
 * ref beyond the table bad_gntref; no such granter bad_domain; a full grant
 * window no_device_space. A map's handle is its page's index in the window.
 * A write to a read-only map ends the domain. QUERY_SIZE answers for the
 * caller (dom SELF, its id or 0); another domain is permission_denied.
 */
struct hv_gnttab_op {
	uint32_t cmd;    /* enum hv_gnttabop */
	int32_t status;  /* out: HV_GNTST_* */
	/* SETUP_TABLE: table gpa (page-aligned), entries. QUERY_SIZE out: entries, max. */
	uint64_t table;
	uint32_t nr_entries;
	uint32_t max_entries;
	/* MAP: dom, ref, flags in; addr (in the grant window) and handle out. UNMAP: handle in. */
	domid_t dom;
	uint16_t flags; /* MAP: HV_GNTMAP_*; COPY: HV_GNTCOPY_* */
	uint32_t ref;
	uint64_t addr;
	uint32_t handle;
	uint32_t len;   /* COPY: bytes, within one page at each end */
	struct hv_gnttab_copy_ptr src, dst;
};

/*
 * The store: a small key-value tree hv keeps for all its domains, where
 * they meet (Xen's xenstore in spirit). Keys are paths of at most
 * HV_STORE_KEY_MAX bytes, values at most HV_STORE_VALUE_MAX. Anyone reads;
 * a domain writes and removes only under "/local/domain/<its id>/". hv
 * writes "/local/domain/<id>/name" for every domain at start, and only hv
 * may change it. A key is '/'-separated non-empty parts of [A-Za-z0-9_.:@-];
 * removing a key removes the keys below it. A READ of a value longer than
 * len is -E2BIG with len set to the value's length. A domain has a quota of
 * keys (-ENOSPC beyond it); a pointer outside its memory is -EINVAL.
 */
#define HV_STORE_KEY_MAX 128
#define HV_STORE_VALUE_MAX 1024

enum hv_storeop {
	HV_STORE_READ = 0,  /* value into buf (len: its size in, the value's length out) */
	HV_STORE_WRITE = 1, /* buf[0, len) becomes the value */
	HV_STORE_REMOVE = 2,
	/*
	 * Watches and transactions, which Xen's xenstore has (libos's Xen
	 * platform speaks these) and hv's store does not: hv answers -EINVAL,
	 * and refuses a tx other than 0.
	 */
	HV_STORE_WATCH = 3,      /* a change to key or below queues the changed path */
	HV_STORE_UNWATCH = 4,
	HV_STORE_WATCH_NEXT = 5, /* the next queued path into buf, as READ; -EAGAIN if none */
	HV_STORE_TX_START = 6,   /* tx out */
	HV_STORE_TX_END = 7,     /* tx in; len 1 commits, 0 aborts; -EAGAIN: a conflict, redo */
};

struct hv_store_op {
	uint32_t cmd;   /* enum hv_storeop */
	int32_t ret;    /* out: 0 or -errno (-ENOENT, -EPERM, -E2BIG, -EINVAL, -ENOSPC) */
	uint64_t key;   /* gpa of a NUL-terminated path */
	uint64_t buf;   /* gpa */
	uint32_t len;
	uint32_t tx;    /* READ, WRITE, REMOVE: within this transaction; 0: none */
};

/*
 * The shared-info page, one per domain, with the field names and offsets of
 * Xen's x86-64 2-level event-channel layout, so the guest's event code is the
 * same on hv and on Xen. Port p is pending when bit p of evtchn_pending is
 * set; the guest masks it with evtchn_mask. Setting a port pending also sets
 * bit (p / 64) of evtchn_pending_sel and evtchn_upcall_pending.
 */
#define HV_LEGACY_MAX_VCPUS 32
#define HV_EVTCHN_WORDS 64
#define HV_NR_EVTCHN (HV_EVTCHN_WORDS * 64)

struct hv_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad1[2];
};

struct hv_vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	uint8_t pad[2];
	uint32_t wait; /* the guest's futex word while it blocks by HV_BOOT_LINUX_CALLS */
	uint64_t evtchn_pending_sel;
	uint64_t arch_cr2;
	uint64_t arch_pad;
	struct hv_vcpu_time_info time;
};

struct hv_shared_info {
	struct hv_vcpu_info vcpu_info[HV_LEGACY_MAX_VCPUS];
	uint64_t evtchn_pending[HV_EVTCHN_WORDS];
	uint64_t evtchn_mask[HV_EVTCHN_WORDS];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
};

/* Layout checks: both sides compile these. */
_Static_assert(HV_CALL_COUNT <= HV_CALL_SLOTS, "every call has a port");
_Static_assert(sizeof(struct hv_grant_entry) == 8, "grant entry layout (Xen v1)");
_Static_assert(sizeof(struct hv_send_ring) <= HV_PAGE_SIZE, "send ring fits a page");
_Static_assert(sizeof(struct hv_vcpu_info) == 64, "vcpu_info is 64 bytes");
_Static_assert(sizeof(struct hv_shared_info) <= HV_PAGE_SIZE, "shared info fits a page");
_Static_assert(sizeof(struct hv_boot_info) <= HV_PAGE_SIZE, "boot info fits a page");

#endif /* __ASSEMBLER__ */
#endif /* HV_ABI_H */
