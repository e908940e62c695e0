/* SPDX-License-Identifier: MIT */
/*
 * The Xen platform's own interfaces: hypercalls through the hypercall page,
 * and how its files (PVH and PV boot, console, clock, event channels, grant
 * tables) call each other. The PVH guest shares the PVH entry, IDT and fault
 * reports with QEMU's PVH platform (platforms/kvm/pvh*); nothing in libos
 * includes this.
 */
#ifndef XEN_H
#define XEN_H

#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"
#include "platform.h"
#include "xen_abi.h"

/* Tunables. */
#define XEN_GRANT_MAPS 1024 /* pages of other domains mapped at once (the grant window) */
#define XEN_PV_MAX_RAM (1ull << 30) /* the most RAM a PV guest maps (its page tables' reach) */
#define XEN_CONNECT_NS (30ull * 1000000000) /* how long a device's backend may take to connect */

/* The page the hypercalls are in: Xen writes it (PV: at build; PVH: when asked by MSR). */
extern char xen_hypercall_page[4096];

/*
 * A hypercall: up to 5 arguments in rdi, rsi, rdx, r10, r8; the result in
 * rax. Xen may clobber the argument registers (debug builds do), and the PV
 * page's syscall clobbers rcx and r11.
 */
static inline long xen_hypercall(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3,
				 uint64_t a4, uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	long ret;

	__asm__ volatile("call *%[fn]"
			 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
			 : [fn] "r"(xen_hypercall_page + 32 * nr)
			 : "memory", "rcx", "r11", "r9");
	return ret;
}

#define xen_hc1(nr, a) xen_hypercall(nr, (uint64_t)(a), 0, 0, 0, 0)
#define xen_hc2(nr, a, b) xen_hypercall(nr, (uint64_t)(a), (uint64_t)(b), 0, 0, 0)
#define xen_hc3(nr, a, b, c) xen_hypercall(nr, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), 0, 0)
#define xen_hc4(nr, a, b, c, d) \
	xen_hypercall(nr, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d), 0)

/* What the PV or PVH boot found, for the files below. */
struct xen_guest {
	int pv;                          /* 1: a PV guest; 0: PVH */
	int dom0;                        /* the hardware domain (console_io, isa-debug-exit) */
	uint16_t domid;                  /* this domain's id; XEN_DOMID_SELF until known */
	struct hv_shared_info *shared;   /* mapped */
	const uint64_t *p2m;             /* PV: machine frame of each pseudo-physical frame */
	uint64_t nr_pages;               /* PV: entries in p2m */
	uint64_t grant_window;           /* where grant maps land: gpa (PVH) or va (PV) */
	uint32_t timer_port;             /* VIRQ_TIMER's port: block's deadlines */
};
extern struct xen_guest xen;

/* xen_ops.c: the platform ops both kinds share, and the boot steps they share. */
void xen_console_write(const char *buf, size_t len);
_Noreturn void xen_exit(int status);
_Noreturn void xen_fail(const char *msg);
void xen_wallclock(uint64_t *realtime_ns, uint64_t *tsc);
uint64_t xen_system_time(uint64_t *tsc); /* Xen's clock (ns) now, and the TSC it was read at */
uint64_t xen_tsc_hz(void);
void xen_set_deadline(uint64_t deadline_ns);
void xen_pv_call(unsigned call, void *arg);
void xen_events_init(void);
_Noreturn void xen_boot_finish(struct boot *b, const struct platform *p, uint64_t tsc_base);
int xen_is_dom0(void);

/* xen_console.c: a domU's console ring (dom0 and early boot use console_io). */
void xen_console_ring_init(void *page, uint32_t port);

/*
 * xen_store.c: the xenstore client, over the ring of a domU, for libos's store calls. In an
 * image only with something that uses the store (libos's store API or libos_domid(), and the
 * frontends, name it); the boot and xen_pv_call reach it through weak references, NULL
 * without it, and a domU's store then goes unread.
 */
void xen_store_init(void *page, uint32_t port);
void xen_store_op(struct hv_store_op *op);
int xen_store_domid(uint16_t *domid);
/* For the platform's drivers: a value as a string (its length), a write, and a directory's
 * children as NUL-separated names (their total length); -ERANGE if buf is too small. */
int xen_store_read(const char *path, char *buf, size_t size);
int xen_store_write(const char *path, const char *value);
int xen_store_directory(const char *path, char *buf, size_t size);
/* DIR/KEY as a decimal number (DIR "": KEY relative to the domain's home); and written as one. */
int xen_store_read_number(const char *dir, const char *key, unsigned long long *v);
int xen_store_write_number(const char *dir, const char *key, unsigned long long v);
/* Wait until backend/state is at least at_least (XenbusState), or XEN_CONNECT_NS: -ETIMEDOUT. */
int xen_store_wait_state(const char *backend, unsigned long long at_least);

/* xen_devices.c: a domU's split devices, attached once libos is up by the drivers the image
 * has (xen_blkfront.c, xen_netfront.c; declared in blkdev_driver.h and netdev_driver.h).
 * In the image only with a frontend, which names it; the platforms refer to it weakly. */
void xen_attach_devices(void);

/* xen_gnttab.c: GNTTABOP_* for libos, on PV or PVH (in the image with libos's grants, which
 * name it; xen_pv_call refers to it weakly). */
void xen_gnttab_op(struct hv_gnttab_op *op);
/* xen_ops.c: the frame a grant entry names for the page at va. */
uint64_t xen_frame_of(uint64_t va);

/* xen_pvh.c: the PVH guest's boot (called by pvh_start() when it finds Xen). */
uint32_t xen_cpuid_base(void);
struct hvm_start_info;
_Noreturn void xen_pvh_start(const struct hvm_start_info *si, uint64_t tsc_base);
void xen_pvh_upcall(uint64_t *rflags);

/* xen_pv.c and xen_pv_mmu.c: the PV guest's boot and its page tables. */
void xen_pv_map_ram(const struct xen_start_info *si, uint64_t first_free, uint64_t *ram_lo,
		    uint64_t *ram_end);
int xen_pv_set_pte(uint64_t va, uint64_t pte);

#endif /* XEN_H */
