/* SPDX-License-Identifier: MIT */
/*
 * The part of Xen's guest ABI (its public headers, xen/include/public/) the
 * Xen platform uses, x86-64 only: hypercall numbers, the argument structs of
 * the calls made, the PV start_info and the ELF note types. Every layout here
 * is checked against the offsets Xen's headers give (static asserts below).
 * The shared-info page and the grant entry are hv_abi.h's (the same layout).
 */
#ifndef XEN_ABI_H
#define XEN_ABI_H

/* ELF notes (name "Xen"): what the domain builder reads from the image. */
#define XEN_ELFNOTE_ENTRY 1          /* PV: the entry's virtual address */
#define XEN_ELFNOTE_HYPERCALL_PAGE 2 /* PV: where the builder writes the hypercall page */
#define XEN_ELFNOTE_VIRT_BASE 3      /* PV: virtual address of pseudo-physical 0 */
#define XEN_ELFNOTE_PADDR_OFFSET 4   /* PV: virtual minus ELF physical addresses */
#define XEN_ELFNOTE_XEN_VERSION 5    /* "xen-3.0": the ABI the image speaks */
#define XEN_ELFNOTE_GUEST_OS 6
#define XEN_ELFNOTE_LOADER 8         /* "generic": not a Linux kernel */
#define XEN_ELFNOTE_FEATURES 10

/* Hypercall numbers: call xen_hypercall_page + 32 * number. */
#define XEN_HC_SET_TRAP_TABLE 0
#define XEN_HC_MMU_UPDATE 1
#define XEN_HC_SET_CALLBACKS 4
#define XEN_HC_FPU_TASKSWITCH 5
#define XEN_HC_MEMORY_OP 12
#define XEN_HC_UPDATE_VA_MAPPING 14
#define XEN_HC_SET_TIMER_OP 15
#define XEN_HC_XEN_VERSION 17
#define XEN_HC_CONSOLE_IO 18
#define XEN_HC_GRANT_TABLE_OP 20
#define XEN_HC_IRET 23
#define XEN_HC_VCPU_OP 24
#define XEN_HC_MMUEXT_OP 26
#define XEN_HC_SCHED_OP 29
#define XEN_HC_EVENT_CHANNEL_OP 32
#define XEN_HC_PHYSDEV_OP 33
#define XEN_HC_HVM_OP 34

#ifndef __ASSEMBLER__
#include <stdint.h>

#define XEN_DOMID_SELF 0x7ff0u

/* Xen's errno values are Linux's; newlib's agree below 35, and ENOSYS is the one libos meets. */
#define XEN_ENOSYS 38

/* console_io */
#define CONSOLEIO_WRITE 0

/* xen_version */
#define XENVER_GET_FEATURES 6
struct xen_feature_info {
	uint32_t submap_idx;
	uint32_t submap;
};
#define XENFEAT_DOM0 11 /* in submap 0: this is the hardware domain */

/* sched_op */
#define SCHEDOP_YIELD 0
#define SCHEDOP_BLOCK 1
#define SCHEDOP_SHUTDOWN 2
#define SHUTDOWN_POWEROFF 0
#define SHUTDOWN_CRASH 3
struct xen_sched_shutdown {
	uint32_t reason;
};

/* memory_op */
#define XENMEM_ADD_TO_PHYSMAP 7
#define XENMEM_MEMORY_MAP 9
#define XENMAPSPACE_SHARED_INFO 0
#define XENMAPSPACE_GRANT_TABLE 1
struct xen_add_to_physmap {
	uint16_t domid;
	uint16_t size;
	uint32_t space;
	uint64_t idx;
	uint64_t gpfn;
};
struct xen_memory_map {
	uint32_t nr_entries; /* in: room in buffer; out: entries written */
	uint32_t pad;
	uint64_t buffer;     /* struct xen_e820_entry[] */
};
struct xen_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
#define XEN_E820_RAM 1

/* hvm_op */
#define HVMOP_SET_PARAM 0
#define HVMOP_GET_PARAM 1
#define HVM_PARAM_CALLBACK_IRQ 0
#define HVM_PARAM_STORE_PFN 1
#define HVM_PARAM_STORE_EVTCHN 2
#define HVM_PARAM_CONSOLE_PFN 17
#define HVM_PARAM_CONSOLE_EVTCHN 18
#define HVM_CALLBACK_VECTOR(v) ((2ull << 56) | (v)) /* deliver upcalls as this IDT vector */
struct xen_hvm_param {
	uint16_t domid;
	uint16_t pad;
	uint32_t index;
	uint64_t value;
};

/* physdev_op */
#define PHYSDEVOP_SET_IOPL 6
struct xen_physdev_set_iopl {
	uint32_t iopl;
};

/* event_channel_op: the command numbers are hv_abi.h's (HV_EVTCHNOP_*, Xen's). */
#define VIRQ_TIMER 0
struct xen_evtchn_alloc_unbound {
	uint16_t dom, remote_dom;
	uint32_t port;
};
struct xen_evtchn_bind_interdomain {
	uint16_t remote_dom;
	uint16_t pad;
	uint32_t remote_port;
	uint32_t local_port;
};
struct xen_evtchn_bind_virq {
	uint32_t virq;
	uint32_t vcpu;
	uint32_t port;
};
struct xen_evtchn_port_arg { /* close, send, unmask */
	uint32_t port;
};
struct xen_evtchn_status {
	uint16_t dom;
	uint16_t pad;
	uint32_t port;
	uint32_t status; /* EVTCHNSTAT_*: hv_abi.h's numbers */
	uint32_t vcpu;
	union {
		uint16_t unbound_dom;
		struct {
			uint16_t dom;
			uint16_t pad;
			uint32_t port;
		} interdomain;
		uint32_t virq;
	} u;
};

/* grant_table_op: the command numbers and GNTST_* are hv_abi.h's (Xen's). */
#define GNTMAP_HOST_MAP 2u
#define GNTMAP_READONLY 4u
struct xen_gnttab_map_grant_ref {
	uint64_t host_addr;
	uint32_t flags;
	uint32_t ref;
	uint16_t dom;
	int16_t status;
	uint32_t handle;
	uint64_t dev_bus_addr;
};
struct xen_gnttab_unmap_grant_ref {
	uint64_t host_addr;
	uint64_t dev_bus_addr;
	uint32_t handle;
	int16_t status;
	uint16_t pad;
};
struct xen_gnttab_setup_table {
	uint16_t dom;
	uint16_t pad;
	uint32_t nr_frames;
	int16_t status;
	uint16_t pad2[3];
	uint64_t frame_list; /* uint64_t[nr_frames], filled by Xen */
};
struct xen_gnttab_query_size {
	uint16_t dom;
	uint16_t pad;
	uint32_t nr_frames;
	uint32_t max_nr_frames;
	int16_t status;
	uint16_t pad2;
};
struct xen_gnttab_copy_ptr {
	uint64_t ref_or_frame; /* a grant ref (with GNTCOPY_*_GREF), else a frame of the caller */
	uint16_t domid;
	uint16_t offset;
	uint32_t pad;
};
struct xen_gnttab_copy {
	struct xen_gnttab_copy_ptr source, dest;
	uint16_t len;
	uint16_t flags;
	int16_t status;
	uint16_t pad;
};

/* vcpu_op */
#define VCPUOP_STOP_SINGLESHOT_TIMER 7

/* PV: mmu_update, update_va_mapping, mmuext_op */
#define MMU_NORMAL_PT_UPDATE 0
struct xen_mmu_update {
	uint64_t ptr; /* machine address of the entry, with the command in bits 0-1 */
	uint64_t val;
};
#define UVMF_INVLPG 2
#define MMUEXT_PIN_L1_TABLE 0

/* PV: the trap table and callbacks */
struct xen_trap_info {
	uint8_t vector;
	uint8_t flags; /* bits 0-1: the lowest ring that may raise it by int; bit 2: mask events */
	uint16_t cs;
	uint32_t pad;
	uint64_t address;
};
#define CALLBACKTYPE_EVENT 0
#define CALLBACKTYPE_FAILSAFE 1
#define FLAT_KERNEL_CS64 0xe033
#define FLAT_KERNEL_SS64 0xe02b

/* PV: what the domain builder leaves at %rsi. */
#define SIF_INITDOMAIN 2u
struct xen_start_info {
	char magic[32];         /* "xen-<version>-x86_64" */
	uint64_t nr_pages;      /* pseudo-physical pages: the domain's RAM */
	uint64_t shared_info;   /* machine address of the shared-info page */
	uint32_t flags;         /* SIF_* */
	uint32_t pad;
	uint64_t store_mfn;
	uint32_t store_evtchn;
	uint32_t pad1;
	uint64_t console_mfn;   /* domU; dom0: info_off and info_size */
	uint32_t console_evtchn;
	uint32_t pad2;
	uint64_t pt_base;       /* virtual address of the boot page tables' top level */
	uint64_t nr_pt_frames;
	uint64_t mfn_list;      /* virtual address of the pseudo-physical to machine map */
	uint64_t mod_start;
	uint64_t mod_len;
	char cmd_line[1024];
};

/* PV: the read-only machine-to-pseudo-physical map every PV guest sees. */
#define XEN_M2P_BASE 0xffff800000000000ull

_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "xen_add_to_physmap");
_Static_assert(sizeof(struct xen_e820_entry) == 20, "e820 entry");
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param");
_Static_assert(sizeof(struct xen_evtchn_bind_interdomain) == 12, "evtchn_bind_interdomain");
_Static_assert(sizeof(struct xen_evtchn_status) == 24, "evtchn_status");
_Static_assert(sizeof(struct xen_gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref");
_Static_assert(sizeof(struct xen_gnttab_unmap_grant_ref) == 24, "gnttab_unmap_grant_ref");
_Static_assert(sizeof(struct xen_gnttab_setup_table) == 24, "gnttab_setup_table");
_Static_assert(sizeof(struct xen_gnttab_query_size) == 16, "gnttab_query_size");
_Static_assert(sizeof(struct xen_gnttab_copy) == 40, "gnttab_copy");
_Static_assert(sizeof(struct xen_trap_info) == 16, "trap_info");
_Static_assert(__builtin_offsetof(struct xen_start_info, pt_base) == 88, "start_info.pt_base");
_Static_assert(__builtin_offsetof(struct xen_start_info, cmd_line) == 128, "start_info.cmd_line");

#endif /* __ASSEMBLER__ */
#endif /* XEN_ABI_H */
