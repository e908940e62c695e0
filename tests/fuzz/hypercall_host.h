/* SPDX-License-Identifier: MIT */
/*
 * The hypercall target's domains and the host around them: what
 * fuzz_hypercall.c drives and checks, and hypercall_host.c stands in for
 * (the backend, vm.c's end of a domain and clock, gdb's stop request).
 */
#ifndef TESTS_FUZZ_HYPERCALL_HOST_H
#define TESTS_FUZZ_HYPERCALL_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "evtchn_ports.h"
#include "hv.h"
#include "store.h"
#include "virtio_dev.h"

#define NR_DOMS 3    /* domains 1 to NR_DOMS */
#define MAX_WINDOW 4 /* grant-window pages of the largest window */

/* A grant-window page as the backend holds it: granter 0 when nothing is mapped there. */
struct grant_slot {
	domid_t granter;
	bool readonly;
	uint32_t frame;
};

struct dom {
	struct hv_vm vm;
	char name[8];
	uint8_t *shadow; /* [HV_L_SHARED, mem_size) as the target last checked it */
	struct virtio_dev dev; /* no I/O thread: its ports and a wake source only */
	/* The domain's clock, and where a block hypercall stands (hypercall_host.c). */
	uint64_t now, deadline;
	unsigned looks;
	/* vm_fail's message, when it ended the domain. */
	bool failed;
	char failure[512];
	/* The backend's window, and the errno its next map or unmap returns (0: none). */
	unsigned window_pages;
	struct grant_slot slot[MAX_WINDOW];
	int refuse_map, refuse_unmap;
	/* The grant table SETUP_TABLE last registered (nr_entries 0: none); the target's. */
	uint64_t table;
	uint32_t nr_entries;
};

extern struct dom doms[NR_DOMS + 1];
extern struct hv_host host;
extern struct evtchn_domains evtchn_tables;
extern struct store store;

struct dom *dom_of(const struct hv_vm *vm);

/*
 * Once: the domains' memory (sizes differ; a page nothing may touch after
 * each), ids, wake eventfds and hv's area as hv leaves it before the first
 * instruction, sealed for area.c, which checks it at the process's exit;
 * the console goes to /dev/null, and --trace too unless trace_to_stderr.
 */
void host_start(bool trace_to_stderr);

/*
 * Each input, the host's tables emptied first: the domain as main.c's
 * domain_create leaves it (event channels, grants, its name in the store),
 * memory above hv's area zeroed. config: bits 0-1 its --console-max (the
 * default, 0, 16 or 256 bytes); bit 2 a device, with ports 1 and 2.
 */
void dom_start(struct dom *d, uint8_t config);
/* At the input's end: what dom_start allocated. */
void dom_stop(struct dom *d);

/*
 * hv's area below the boot info: no access at all while calls run (hv never
 * reaches there for a guest), readable while area.c checks it.
 */
void hv_area_open(struct dom *d, bool open);

/* Read the domain's wake eventfd empty. */
void drain_wake(struct dom *d);

#endif /* TESTS_FUZZ_HYPERCALL_HOST_H */
