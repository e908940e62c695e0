/* SPDX-License-Identifier: MIT */
/*
 * Grant tables, v1 (GNTTABOP_*). A granter registers a table in its own
 * memory; a grantee maps an entry granted to it into its grant window, a
 * guest-physical range its page tables map from boot with nothing behind
 * it: hv pins the entry (grant_entry.c) and has the backend alias the
 * granter's page there, the same host memory (a KVM memory slot, or a
 * mapping of the granter's memfd in the proc child). Unmapping takes the
 * page away, then unpins. Copies pin both ends for the length of a memcpy.
 * Every refusal is Xen's GNTST_* code; none ends a domain.
 *
 * The map in window page i has handle i. The window has
 * HV_GRANT_WINDOW_SIZE / 4 KiB pages, fewer if the backend offers fewer.
 *
 * A grantee's devices may read and write its maps too (a disk read into a
 * granted page, a frame sent from one): grant_dma finds the granter's page
 * behind a descriptor in the window, under the host lock, with the device's
 * lock held for the whole request. An unmap takes the page from the table,
 * then takes and drops each of the grantee's device locks, so no request
 * that found the page is still running when the granter gets it back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "grant_entry.h"
#include "hv.h"
#include "virtio_dev.h"

#define WINDOW_PAGES (HV_GRANT_WINDOW_SIZE / HV_PAGE_SIZE)

/* One map a grantee holds; written by its vCPU thread under the host lock. */
struct gnttab_map {
	domid_t granter; /* 0: the window page is free */
	bool readonly;
	uint32_t ref;
	uint32_t frame; /* the granter's page */
};

struct gnttab {
	/* As a granter (host lock): the registered table and what hv holds of each entry. */
	uint64_t table; /* gpa; nr_entries 0: none */
	uint32_t nr_entries;
	struct grant_pins *pins;
	uint64_t pinned; /* entries' pins in all, so the table is not replaced under them */
	/* As a grantee (its vCPU thread only). */
	uint32_t nr_pages;   /* usable window pages */
	uint32_t nr_used;    /* pages [0, nr_used) have been used: beyond, all are free */
	uint32_t nr_free;
	uint32_t *free;      /* a stack of the free pages below nr_used */
	struct gnttab_map map[WINDOW_PAGES];
};

static void *grant_dma(struct hv_vm *vm, uint64_t gpa, uint64_t len, bool write)
{
	uint64_t off = gpa - HV_GRANT_WINDOW, i = off / HV_PAGE_SIZE;
	struct gnttab_map m = { 0 };
	struct hv_vm *granter = NULL;

	/* Within one window page: the next page may be another granter's. */
	if (gpa < HV_GRANT_WINDOW || i >= vm->gnt->nr_pages || len == 0 ||
	    len > HV_PAGE_SIZE - off % HV_PAGE_SIZE)
		return NULL;
	pthread_mutex_lock(&vm->host->lock);
	m = vm->gnt->map[i];
	if (m.granter)
		granter = vm->host->dom[m.granter];
	pthread_mutex_unlock(&vm->host->lock);
	if (!granter || (write && m.readonly))
		return NULL;
	/* The frame was checked against the granter's memory when it was pinned. */
	return granter->mem + (uint64_t)m.frame * HV_PAGE_SIZE + off % HV_PAGE_SIZE;
}

int gnttab_domain_init(struct hv_vm *vm)
{
	struct gnttab *g = calloc(1, sizeof(*g));

	if (!g || !(g->free = calloc(WINDOW_PAGES, sizeof(*g->free)))) {
		free(g);
		vm_fail(vm, HV_EXIT_OSERR, "allocating its grant table state: out of memory");
		return HV_EXIT_OSERR;
	}
	g->nr_pages = vm->be->grant_pages(vm);
	if (g->nr_pages > WINDOW_PAGES)
		g->nr_pages = WINDOW_PAGES;
	vm->gnt = g;
	vm->grant_dma = grant_dma;
	return 0;
}

void gnttab_domain_free(struct hv_vm *vm)
{
	if (!vm->gnt)
		return;
	free(vm->gnt->pins);
	free(vm->gnt->free);
	free(vm->gnt);
	vm->gnt = NULL;
}

/* Host lock held: entry ref of granter's table (ref checked). */
static struct hv_grant_entry *entry(struct hv_vm *granter, uint32_t ref)
{
	return (struct hv_grant_entry *)(granter->mem + granter->gnt->table +
					 (uint64_t)ref * sizeof(struct hv_grant_entry));
}

/*
 * Host lock held: pin granter's entry ref for vm and find its page. Returns
 * GNTST_OKAY with the granted page's frame in the granter's memory.
 */
static int pin(struct hv_vm *vm, struct hv_vm *granter, uint32_t ref, bool readonly,
	       uint32_t *framep)
{
	struct gnttab *g = granter->gnt;
	struct hv_grant_entry *e;
	uint32_t frame;
	int rc;

	if (ref >= g->nr_entries)
		return HV_GNTST_BAD_GNTREF;
	e = entry(granter, ref);
	rc = grant_entry_pin(e, &g->pins[ref], vm->domid, readonly);
	if (rc)
		return rc;
	frame = grant_entry_frame(e);
	if (!grant_frame_ok(frame, granter->mem_size)) {
		grant_entry_unpin(e, &g->pins[ref], readonly);
		return HV_GNTST_GENERAL_ERROR;
	}
	g->pinned++;
	*framep = frame;
	return HV_GNTST_OKAY;
}

/* Host lock held. */
static void unpin(struct hv_vm *granter, uint32_t ref, bool readonly)
{
	struct gnttab *g = granter->gnt;

	grant_entry_unpin(entry(granter, ref), &g->pins[ref], readonly);
	g->pinned--;
}

static int setup_table(struct hv_vm *vm, struct hv_gnttab_op *op)
{
	struct gnttab *g = vm->gnt;
	struct grant_pins *pins;
	uint64_t bytes = (uint64_t)op->nr_entries * sizeof(struct hv_grant_entry);
	int rc = HV_GNTST_OKAY;

	if (op->nr_entries == 0 || op->nr_entries > HV_MAX_GRANT_ENTRIES)
		return HV_GNTST_GENERAL_ERROR;
	/* In the guest's RAM, above hv's area: hv writes the entries' flags there. */
	if (op->table % HV_PAGE_SIZE || op->table < HV_IMAGE_BASE || op->table > vm->mem_size ||
	    bytes > vm->mem_size - op->table)
		return HV_GNTST_BAD_VIRT_ADDR;
	pins = calloc(op->nr_entries, sizeof(*pins));
	if (!pins)
		return HV_GNTST_GENERAL_ERROR;
	pthread_mutex_lock(&vm->host->lock);
	if (g->pinned) {
		rc = HV_GNTST_GENERAL_ERROR; /* another domain has entries of the old table */
	} else {
		free(g->pins);
		g->pins = pins;
		pins = NULL;
		g->table = op->table;
		g->nr_entries = op->nr_entries;
	}
	pthread_mutex_unlock(&vm->host->lock);
	free(pins);
	return rc;
}

/* Window page i shows the granter's frame (or, granter NULL, nothing), timed for the stats. */
static int set_page(struct hv_vm *vm, uint32_t i, struct hv_vm *granter, uint32_t frame,
		    bool readonly)
{
	uint64_t t0 = hv_now_ns();
	int rc = granter ? vm->be->grant_map(vm, i, granter, frame, readonly)
			 : vm->be->grant_unmap(vm, i);

	vm->stats.ns_grant_slots += hv_now_ns() - t0;
	return rc;
}

static int map_grant(struct hv_vm *vm, struct hv_gnttab_op *op)
{
	struct gnttab *g = vm->gnt;
	bool readonly = op->flags & HV_GNTMAP_READONLY;
	struct hv_vm *granter;
	uint32_t frame = 0, i;
	int rc;

	if (op->flags & ~HV_GNTMAP_READONLY)
		return HV_GNTST_GENERAL_ERROR;
	if (g->nr_free == 0 && g->nr_used == g->nr_pages)
		return HV_GNTST_NO_DEVICE_SPACE;
	pthread_mutex_lock(&vm->host->lock);
	granter = host_domain(vm->host, op->dom);
	rc = granter ? pin(vm, granter, op->ref, readonly, &frame) : HV_GNTST_BAD_DOMAIN;
	pthread_mutex_unlock(&vm->host->lock);
	if (rc)
		return rc;
	/* Outside the lock: a map takes tens of microseconds. */
	i = g->nr_free ? g->free[g->nr_free - 1] : g->nr_used;
	rc = set_page(vm, i, granter, frame, readonly);
	if (rc) {
		fprintf(stderr, "hv: %s: grant map of window page %u: %s\n", vm->name, i,
			strerror(-rc));
		pthread_mutex_lock(&vm->host->lock);
		unpin(granter, op->ref, readonly);
		pthread_mutex_unlock(&vm->host->lock);
		return rc == -ENOMEM || rc == -ENOSPC ? HV_GNTST_NO_DEVICE_SPACE
						      : HV_GNTST_GENERAL_ERROR;
	}
	if (g->nr_free)
		g->nr_free--;
	else
		g->nr_used++;
	pthread_mutex_lock(&vm->host->lock);
	g->map[i] = (struct gnttab_map){ .granter = granter->domid, .readonly = readonly,
					 .ref = op->ref, .frame = frame };
	pthread_mutex_unlock(&vm->host->lock);
	op->addr = HV_GRANT_WINDOW + (uint64_t)i * HV_PAGE_SIZE;
	op->handle = i;
	vm->stats.grant_maps++;
	return HV_GNTST_OKAY;
}

/* The slot goes first: the granter may reuse its page as soon as the entry is unpinned. */
static int unmap_grant(struct hv_vm *vm, uint32_t handle, bool delete_slot)
{
	struct gnttab *g = vm->gnt;
	struct gnttab_map m;
	int rc;

	if (handle >= g->nr_used || !g->map[handle].granter)
		return HV_GNTST_BAD_HANDLE;
	m = g->map[handle];
	if (delete_slot && (rc = set_page(vm, handle, NULL, 0, false)) != 0) {
		fprintf(stderr, "hv: %s: grant unmap of window page %u: %s\n", vm->name, handle,
			strerror(-rc));
		return HV_GNTST_GENERAL_ERROR;
	}
	pthread_mutex_lock(&vm->host->lock);
	g->map[handle].granter = 0;
	pthread_mutex_unlock(&vm->host->lock);
	/* A device request that found the page ends before the granter may reuse it. */
	virtio_devs_quiesce(vm);
	pthread_mutex_lock(&vm->host->lock);
	unpin(vm->host->dom[m.granter], m.ref, m.readonly);
	pthread_mutex_unlock(&vm->host->lock);
	g->free[g->nr_free++] = handle;
	vm->stats.grant_unmaps++;
	return HV_GNTST_OKAY;
}

/* One end of a copy, pinned if it is a grant. */
struct copy_end {
	struct hv_vm *granter; /* NULL: the caller's own memory */
	uint32_t ref;
	uint8_t *p;
};

/*
 * Host lock held: resolve one end of a copy. A grant ref carries the
 * offset in the granted page in bits 32 and up of where (libos's encoding).
 */
static int copy_end(struct hv_vm *vm, const struct hv_gnttab_copy_ptr *ptr, bool is_gref,
		    bool is_dst, uint32_t len, struct copy_end *end)
{
	uint32_t frame;
	int rc;

	if (!is_gref) {
		if (ptr->dom != HV_DOMID_SELF && ptr->dom != vm->domid)
			return HV_GNTST_BAD_DOMAIN;
		if (ptr->where % HV_PAGE_SIZE + len > HV_PAGE_SIZE)
			return HV_GNTST_BAD_COPY_ARG;
		end->p = is_dst ? vm_guest_write(vm, ptr->where, len) : vm_guest_read(vm, ptr->where, len);
		return end->p ? HV_GNTST_OKAY : HV_GNTST_BAD_COPY_ARG;
	}
	uint64_t offset = ptr->where >> 32;

	if (offset >= HV_PAGE_SIZE || offset + len > HV_PAGE_SIZE)
		return HV_GNTST_BAD_COPY_ARG;
	end->granter = host_domain(vm->host, ptr->dom);
	if (!end->granter)
		return HV_GNTST_BAD_DOMAIN;
	end->ref = (uint32_t)ptr->where;
	rc = pin(vm, end->granter, end->ref, !is_dst, &frame);
	if (rc) {
		end->granter = NULL;
		return rc;
	}
	end->p = end->granter->mem + (uint64_t)frame * HV_PAGE_SIZE + offset;
	return HV_GNTST_OKAY;
}

static int copy(struct hv_vm *vm, struct hv_gnttab_op *op)
{
	struct copy_end src = { 0 }, dst = { 0 };
	int rc;

	if (op->flags & ~(HV_GNTCOPY_SOURCE_GREF | HV_GNTCOPY_DEST_GREF) || op->len > HV_PAGE_SIZE)
		return HV_GNTST_BAD_COPY_ARG;
	pthread_mutex_lock(&vm->host->lock);
	rc = copy_end(vm, &op->src, op->flags & HV_GNTCOPY_SOURCE_GREF, false, op->len, &src);
	if (rc == HV_GNTST_OKAY)
		rc = copy_end(vm, &op->dst, op->flags & HV_GNTCOPY_DEST_GREF, true, op->len, &dst);
	if (rc == HV_GNTST_OKAY) {
		memmove(dst.p, src.p, op->len);
		vm->stats.grant_copies++;
	}
	if (src.granter)
		unpin(src.granter, src.ref, true);
	if (dst.granter)
		unpin(dst.granter, dst.ref, false);
	pthread_mutex_unlock(&vm->host->lock);
	return rc;
}

static int query_size(struct hv_vm *vm, struct hv_gnttab_op *op)
{
	struct hv_vm *d;
	int rc = HV_GNTST_OKAY;

	pthread_mutex_lock(&vm->host->lock);
	d = host_domain(vm->host, op->dom == HV_DOMID_SELF || op->dom == 0 ? vm->domid : op->dom);
	if (!d)
		rc = HV_GNTST_BAD_DOMAIN;
	else if (d != vm)
		rc = HV_GNTST_PERMISSION_DENIED;
	else
		op->nr_entries = vm->gnt->nr_entries;
	pthread_mutex_unlock(&vm->host->lock);
	op->max_entries = HV_MAX_GRANT_ENTRIES;
	return rc;
}

void gnttab_op(struct hv_vm *vm, void *arg)
{
	struct hv_gnttab_op *op = arg;

	switch (op->cmd) {
	case HV_GNTTABOP_SETUP_TABLE:
		op->status = setup_table(vm, op);
		break;
	case HV_GNTTABOP_MAP_GRANT_REF:
		op->status = map_grant(vm, op);
		break;
	case HV_GNTTABOP_UNMAP_GRANT_REF:
		op->status = unmap_grant(vm, op->handle, true);
		break;
	case HV_GNTTABOP_COPY:
		op->status = copy(vm, op);
		break;
	case HV_GNTTABOP_QUERY_SIZE:
		op->status = query_size(vm, op);
		break;
	default:
		op->status = HV_GNTST_GENERAL_ERROR;
		break;
	}
	if (op->status != HV_GNTST_OKAY)
		vm->stats.grant_refused++;
}

/* A map of the window that the guest wrote to read-only, or a page with no map. */
void gnttab_mmio(struct hv_vm *vm, uint64_t gpa, bool is_write, unsigned len)
{
	uint64_t i = (gpa - HV_GRANT_WINDOW) / HV_PAGE_SIZE;
	const struct gnttab_map *m = i < vm->gnt->nr_pages ? &vm->gnt->map[i] : NULL;

	if (m && m->granter && m->readonly && is_write)
		vm_fail(vm, HV_EXIT_GUEST_ABI, "write of %u bytes at 0x%llx to a read-only grant: "
			"ref %u of dom%u, mapped read-only (handle %llu)", len, (unsigned long long)gpa,
			m->ref, m->granter, (unsigned long long)i);
	else
		vm_fail(vm, HV_EXIT_GUEST_CRASH, "%s of %u bytes at 0x%llx in the grant window, where "
			"no grant is mapped", is_write ? "write" : "read", len,
			(unsigned long long)gpa);
}

/* The domain ended: its maps let go of their entries, so their granters can end access. */
void gnttab_domain_end(struct hv_vm *vm)
{
	if (!vm->gnt)
		return;
	/* The slots stay: the VM never runs again, and its memory lives until hv exits. */
	for (uint32_t i = 0; i < vm->gnt->nr_used; i++)
		if (vm->gnt->map[i].granter)
			unmap_grant(vm, i, false);
}
