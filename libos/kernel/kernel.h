/* SPDX-License-Identifier: MIT */
/* Declarations shared inside libos's kernel; not part of the application interface. */
#ifndef LIBOS_KERNEL_H
#define LIBOS_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define PAGE_BYTES 4096u

/* Init steps, in the order libos_start() calls them. */
void clock_init(uint64_t tsc_hz, uint64_t tsc_base);
void memory_init(const struct boot *boot);
void sched_init(void);
void fd_init(void);   /* the console on descriptors 0, 1 and 2 */
void evtchn_init(const struct boot *boot);
/* In the image when the app uses grants (libos/pv/gnttab.c); init.c refers to it weakly. */
void gnttab_init(const struct boot *boot);
/* This domain's id as the platform found it at boot (0 on platforms without domains). */
extern uint16_t libos_boot_domid;
/*
 * Mounts the image's own archive at "/", if it has one. In the image when the app uses files
 * (open(), stat() or a mount bring libos/fs/tarfs.c in); weak: absent otherwise, and then so is
 * the archive, which nothing could read.
 */
void fs_init(void) __attribute__((weak));

/*
 * A driver is owed n more (or, negative, fewer) completions that the device
 * will send within microseconds (a disk request in flight). While any is
 * owed, an idle vCPU polls for events a while before it blocks (the
 * platform's idle_poll_ns); otherwise only a few microseconds
 * (idle_spin_ns), and leaves the CPU to whoever will send it something.
 */
void sched_owed(int n);

/* Run the handlers of pending event-channel ports; the scheduler calls it. */
void evtchn_dispatch(void);
/* Is an event waiting for the next dispatch? A read of the shared-info page. */
int evtchn_upcall_pending(void);
/* Wait until hv has taken every event libos put in the send ring (before the domain ends). */
void evtchn_flush_sends(void);

/* The appliance's arguments, for the layers that take options from them (the network). */
extern int libos_argc;
extern char **libos_argv;

/* Starts the network before main() when the image links it (weak: absent otherwise). */
void net_boot(void) __attribute__((weak));

/* Page frames for drivers and stacks: n contiguous pages, or NULL. */
void *pages_alloc(size_t n);
void pages_free(void *addr, size_t n);
size_t pages_free_count(void);

#endif /* LIBOS_KERNEL_H */
