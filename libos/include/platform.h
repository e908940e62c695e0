/* SPDX-License-Identifier: MIT */
/*
 * The platform interface: everything libos needs from whatever it boots on
 * (hv, QEMU, Xen). A platform's entry code fills a struct boot and calls
 * libos_start(); libos reaches the platform only through struct platform.
 * Nothing above this line knows which platform it runs on.
 */
#ifndef LIBOS_PLATFORM_H
#define LIBOS_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"

#define BOOT_MAX_RAM 8

struct platform {
	const char *name;
	/* Write to the console; returns when the bytes are out of the guest's hands. */
	void (*console_write)(const char *buf, size_t len);
	/* Wall-clock time: ns since the Unix epoch, and the TSC read at that instant. */
	void (*wallclock)(uint64_t *realtime_ns, uint64_t *tsc);
	/*
	 * Wait until an event may be pending or the monotonic clock reaches
	 * deadline_ns (UINT64_MAX: no deadline). May return early; callers
	 * recheck their condition.
	 */
	void (*block)(uint64_t deadline_ns);
	/*
	 * How long the idle loop polls the shared-info page for an event before
	 * it calls block, in ns: worth it where blocking is an expensive exit
	 * and a wake-up often follows within microseconds (a reply to a request
	 * just sent); 0 where blocking is cheap.
	 */
	uint64_t idle_poll_ns;
	/*
	 * How long it polls when no completion is owed (traffic that may or may
	 * not come), in ns: a few microseconds, less than a block and a wake-up
	 * cost, so that a server's next request often needs neither; 0 for none.
	 */
	uint64_t idle_spin_ns;
	/*
	 * Paravirtual operations (libos/pv/): make hypercall HV_CALL_EVTCHN_OP,
	 * HV_CALL_GNTTAB_OP or HV_CALL_STORE with its argument block (hv_abi.h),
	 * whose own fields carry the result. NULL where the platform has none
	 * (QEMU): libos's calls then return -ENOSYS.
	 */
	void (*pv_call)(unsigned call, void *arg);
	/*
	 * Kick a virtio queue through fd (a boot_device's kick_fd + queue)
	 * rather than its QueueNotify register: true if done, false when the
	 * caller must write the register. NULL where devices have no such fds.
	 */
	bool (*kick)(int fd);
	/*
	 * The frame a grant entry names for the page at va: its guest frame,
	 * va / 4096, where NULL (hv, Xen PVH); its machine frame on Xen PV.
	 * 0 for a page the platform cannot name.
	 */
	uint64_t (*frame_of)(const void *va);
	/*
	 * Attach the platform's own paravirtual devices (Xen's blkfront and
	 * netfront) to the block and network APIs; called once libos's threads,
	 * events and grants are up. NULL where the platform has none.
	 */
	void (*attach_devices)(void);
	/* End the guest with status. */
	void (*exit)(int status) __attribute__((noreturn));
};

struct boot_ram {
	uint64_t base;
	uint64_t size;
};

#define BOOT_MAX_DEVICES 16

/*
 * A virtio-mmio device the platform found. Queue q of the device signals
 * event-channel port (port + q) in the boot's shared-info page: on hv the
 * device itself sets it; where devices interrupt, the platform's interrupt
 * handler does, after acknowledging the interrupt.
 */
struct boot_device {
	uint64_t base; /* the MMIO window, virtual == physical */
	uint64_t size;
	uint32_t port;
	uint32_t nr_ports;
	int kick_fd; /* queue q is kicked by platform->kick(kick_fd + q); 0: by QueueNotify */
};

/* What the platform found at boot. */
struct boot {
	const struct platform *platform;
	uint64_t tsc_hz;
	uint64_t tsc_base;          /* TSC at monotonic time zero */
	struct boot_ram ram[BOOT_MAX_RAM]; /* free RAM for the allocator */
	unsigned nr_ram;
	const char *args;           /* argc NUL-terminated strings, back to back */
	unsigned argc;
	size_t args_size;
	/* Events: pending and mask bitmaps in Xen's 2-level layout (hv_abi.h). */
	struct hv_shared_info *shared_info;
	struct boot_device devices[BOOT_MAX_DEVICES];
	unsigned nr_devices;
	/*
	 * Domains (hv): this domain's id, its event-channel send ring and the
	 * ring's doorbell, and the range its grant maps land in. All zero where
	 * the platform has no domains.
	 */
	uint16_t domid;
	struct hv_send_ring *send_ring;
	volatile uint32_t *send_doorbell;
	uint64_t grant_window;
	uint64_t grant_window_size;
};

/*
 * Ports bound to a VIRQ now (libos/pv/evtchn.c; a weak reference is NULL in
 * images without it). Only the hypervisor makes a VIRQ pending, so a
 * platform that can block without its hypervisor seeing it (hv's proc)
 * blocks through the hypervisor while any is bound.
 */
extern unsigned evtchn_virqs_bound;

/* The platform libos runs on, set once by libos_start(). */
extern const struct platform *platform;

/* libos's init sequence; never returns. */
_Noreturn void libos_start(const struct boot *boot);

/* Zero .bss; the first thing a platform's entry does when its loader may not have. */
void libos_clear_bss(void);

#endif /* LIBOS_PLATFORM_H */
