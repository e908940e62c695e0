/* SPDX-License-Identifier: MIT */
/*
 * Grant tables on Xen, for libos/pv/gnttab.c's operation blocks. What
 * differs from hv:
 *   - the table's frames are Xen's: a PVH guest puts them at the table's
 *     guest frames (add_to_physmap), a PV guest maps the machine frames
 *     setup_table names at the table's virtual address;
 *   - a grant entry and a copy name machine frames on PV, guest frames on PVH;
 *   - a map lands in the platform's grant window: a hole in the guest's
 *     physical space (PVH, by guest address) or a range of virtual addresses
 *     whose page tables exist (PV, by virtual address). Its handle is the
 *     page's index in the window, as on hv.
 * A PVH guest may not map its own grant: Xen keeps one guest frame per
 * page, so the map's frame would replace the page's own, leaving a hole
 * there for good (seen on Xen 4.17: the page reads as all ones, even after
 * the unmap). Such a map is refused with permission_denied; copies work.
 */
#include <errno.h>

#include "libos.h"
#include "xen.h"

#define PAGE 4096ull
#define MAX_TABLE_FRAMES 16

static struct {
	uint32_t xen_handle;
	uint8_t used;
} maps[XEN_GRANT_MAPS];

static int16_t setup_table(uint64_t table, uint32_t nr_entries)
{
	uint32_t frames = (uint32_t)((nr_entries * sizeof(struct hv_grant_entry) + PAGE - 1) / PAGE);

	if (table % PAGE || frames == 0 || frames > MAX_TABLE_FRAMES)
		return HV_GNTST_BAD_VIRT_ADDR;
	if (!xen.pv) {
		for (uint32_t i = 0; i < frames; i++) {
			struct xen_add_to_physmap a = { .domid = XEN_DOMID_SELF,
							.space = XENMAPSPACE_GRANT_TABLE,
							.idx = i, .gpfn = table / PAGE + i };

			if (xen_hc2(XEN_HC_MEMORY_OP, XENMEM_ADD_TO_PHYSMAP, &a))
				return HV_GNTST_GENERAL_ERROR;
		}
		return HV_GNTST_OKAY;
	}
	uint64_t list[MAX_TABLE_FRAMES];
	struct xen_gnttab_setup_table s = { .dom = XEN_DOMID_SELF, .nr_frames = frames,
					.frame_list = (uintptr_t)list };

	if (xen_hc3(XEN_HC_GRANT_TABLE_OP, HV_GNTTABOP_SETUP_TABLE, &s, 1) || s.status)
		return s.status ? s.status : HV_GNTST_GENERAL_ERROR;
	for (uint32_t i = 0; i < frames; i++)
		if (xen_pv_set_pte(table + i * PAGE, list[i] << 12 | 0x67))
			return HV_GNTST_GENERAL_ERROR;
	return HV_GNTST_OKAY;
}

static int16_t map(struct hv_gnttab_op *op)
{
	struct xen_gnttab_map_grant_ref m = { .flags = GNTMAP_HOST_MAP, .ref = op->ref, .dom = op->dom };
	unsigned slot = 0;

	if (!xen.pv && (op->dom == XEN_DOMID_SELF || op->dom == xen.domid))
		return HV_GNTST_PERMISSION_DENIED; /* Xen would take the page from its own address */
	while (slot < XEN_GRANT_MAPS && maps[slot].used)
		slot++;
	if (slot == XEN_GRANT_MAPS)
		return HV_GNTST_NO_DEVICE_SPACE;
	if (op->flags & HV_GNTMAP_READONLY)
		m.flags |= GNTMAP_READONLY;
	m.host_addr = xen.grant_window + slot * PAGE;
	if (xen_hc3(XEN_HC_GRANT_TABLE_OP, HV_GNTTABOP_MAP_GRANT_REF, &m, 1))
		return HV_GNTST_GENERAL_ERROR;
	if (m.status)
		return m.status;
	maps[slot].used = 1;
	maps[slot].xen_handle = m.handle;
	op->addr = m.host_addr;
	op->handle = slot;
	return HV_GNTST_OKAY;
}

static int16_t unmap(uint32_t slot)
{
	struct xen_gnttab_unmap_grant_ref u;

	if (slot >= XEN_GRANT_MAPS || !maps[slot].used)
		return HV_GNTST_BAD_HANDLE;
	u = (struct xen_gnttab_unmap_grant_ref){ .host_addr = xen.grant_window + slot * PAGE,
					     .handle = maps[slot].xen_handle };
	if (xen_hc3(XEN_HC_GRANT_TABLE_OP, HV_GNTTABOP_UNMAP_GRANT_REF, &u, 1))
		return HV_GNTST_GENERAL_ERROR;
	if (u.status)
		return u.status;
	maps[slot].used = 0;
	return HV_GNTST_OKAY;
}

/* One end of a copy: a grant (ref, offset) of dom, or an address of ours within one page. */
static int copy_end(const struct hv_gnttab_copy_ptr *p, int gref, struct xen_gnttab_copy_ptr *x)
{
	if (gref) {
		x->ref_or_frame = (uint32_t)p->where;
		x->offset = (uint16_t)(p->where >> 32);
		x->domid = p->dom;
		return (p->where >> 32) < PAGE;
	}
	x->ref_or_frame = xen_frame_of(p->where);
	x->offset = (uint16_t)(p->where % PAGE);
	x->domid = XEN_DOMID_SELF;
	return x->ref_or_frame != 0;
}

static int16_t copy(struct hv_gnttab_op *op)
{
	struct xen_gnttab_copy c = { .len = (uint16_t)op->len };

	c.flags = op->flags & (HV_GNTCOPY_SOURCE_GREF | HV_GNTCOPY_DEST_GREF);
	if (op->len > PAGE || !copy_end(&op->src, c.flags & HV_GNTCOPY_SOURCE_GREF, &c.source) ||
	    !copy_end(&op->dst, c.flags & HV_GNTCOPY_DEST_GREF, &c.dest))
		return HV_GNTST_BAD_COPY_ARG;
	if (xen_hc3(XEN_HC_GRANT_TABLE_OP, HV_GNTTABOP_COPY, &c, 1))
		return HV_GNTST_GENERAL_ERROR;
	return c.status;
}

static int16_t query_size(struct hv_gnttab_op *op)
{
	struct xen_gnttab_query_size q = { .dom = XEN_DOMID_SELF };

	if (xen_hc3(XEN_HC_GRANT_TABLE_OP, HV_GNTTABOP_QUERY_SIZE, &q, 1))
		return HV_GNTST_GENERAL_ERROR;
	op->nr_entries = q.nr_frames * (uint32_t)(PAGE / sizeof(struct hv_grant_entry));
	op->max_entries = q.max_nr_frames * (uint32_t)(PAGE / sizeof(struct hv_grant_entry));
	return q.status;
}

void xen_gnttab_op(struct hv_gnttab_op *op)
{
	switch (op->cmd) {
	case HV_GNTTABOP_SETUP_TABLE:
		op->status = setup_table(op->table, op->nr_entries);
		break;
	case HV_GNTTABOP_MAP_GRANT_REF:
		op->status = map(op);
		break;
	case HV_GNTTABOP_UNMAP_GRANT_REF:
		op->status = unmap(op->handle);
		break;
	case HV_GNTTABOP_COPY:
		op->status = copy(op);
		break;
	case HV_GNTTABOP_QUERY_SIZE:
		op->status = query_size(op);
		break;
	default:
		op->status = HV_GNTST_GENERAL_ERROR;
	}
}
