/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the hypercalls as guests make them. Three domains, each
 * with guest memory of its own size (hv's area below HV_IMAGE_BASE, a few
 * pages of RAM above), write argument blocks into their memory and call
 * hv's real hypercall_dispatch(), and through it the real handlers:
 * console_write, exit, wallclock, block (hypercall.c), evtchn_op (evtchn.c
 * over evtchn_ports.c), gnttab_op (gnttab.c over grant_entry.c) and
 * store_op (store.c), with the host's domain table (host.c), the idle send
 * ring (send_ring.c), --trace's words for each call when the input asks
 * (trace.c, trace_call.c) and hv's watch on its own area (area.c).
 * hypercall_host.c stands in for what needs a real host: the backend (its
 * grant maps recorded), vm.c's vm_fail (its message kept) and clock,
 * gdb's stop request; it says how a block hypercall returns without
 * sleeping. FUZZ_TRACE=1 in the environment traces every input to stderr.
 *
 * Checked after each call:
 *  - it ends the domain exactly when the ABI says so: a call number hv
 *    does not know, a block outside the guest's writable memory or not
 *    8-byte aligned, a console buffer outside guest memory, a block with no
 *    deadline and nothing that could wake it (then with a message that names
 *    the call), an exit (then with its status and no message); otherwise it
 *    returns a result the ABI names, which does what it says (a port in the
 *    state said, a pending bit, a map the backend holds, a copy's bytes);
 *  - guest memory changes only as the ABI allows: the caller's block, its
 *    READ buffer and copy destination, its shared-info page's event words;
 *    in another domain's, the bits of its port a SEND to it sets and a
 *    copy's destination in a page it granted; in any domain's grant table,
 *    GTF_reading and GTF_writing only; in an ended domain, those only;
 *    hv's own area nowhere (its pages fault at the access; area_check()
 *    finds them as sealed at the end of the run);
 *  - the backend's window changes only by the caller's map or unmap that
 *    succeeded; no other domain ends or changes status; an ended domain
 *    calls no more (hv's run loop stops) and leaves the cross-domain
 *    tables as host.c takes it out of them.
 *
 * Input: a byte of flags (bit 0: --trace on); a byte per domain (bits 0-1:
 * its --console-max, of the default, 0, 16 and 256 bytes; bit 2: a device,
 * whose event-channel ports are 1 and 2, which may also wake it); then
 * operations, each a byte (modulo NR_OPS) and its arguments. A domain is a
 * byte (modulo NR_DOMS, from domain 1). A guest address is a byte, then:
 * under 0xf0, 16 bits added to HV_L_SHARED (the guest's writable memory,
 * at any alignment); else 32 bits, taken as they come.
 *   OP_WRITE  domain, 16 bits of offset from HV_L_SHARED, a length byte and
 *             that many bytes: the guest writes them (clipped to its memory);
 *   OP_CALL   domain, a call byte (under 0xf0: modulo HV_CALL_COUNT; else a
 *             second byte modulo HV_CALL_SLOTS, any port a guest can use),
 *             the guest address of its argument block;
 *   OP_CLOCK  domain, 32 bits: its clock moves on that many microseconds;
 *   OP_REFUSE domain, a byte: the backend fails the domain's next grant map
 *             (bit 0 clear) or unmap (set) with -ENOMEM, -ENOSPC or -EIO
 *             (bits 1-7, modulo 3).
 */
#include <errno.h>
#include <unistd.h>

#include "fuzz.h"
#include "hypercall_host.h"
#include "trace.h"

#define HV_BITS (HV_GTF_READING | HV_GTF_WRITING)
#define SI_OFF(field) offsetof(struct hv_shared_info, field)

enum { OP_WRITE, OP_CALL, OP_CLOCK, OP_REFUSE, NR_OPS };

static bool trace_all; /* FUZZ_TRACE in the environment: every input traced, to stderr */

/* One hypercall: what the guest asked, what the harness saw before, what came back. */
union block {
	struct hv_console_write console;
	struct hv_exit exit;
	struct hv_wallclock wallclock;
	struct hv_block block;
	struct hv_evtchn_op evtchn;
	struct hv_gnttab_op gnttab;
	struct hv_store_op store;
};

static const size_t block_sizes[HV_CALL_COUNT] = {
	[HV_CALL_CONSOLE_WRITE] = sizeof(struct hv_console_write),
	[HV_CALL_EXIT] = sizeof(struct hv_exit),
	[HV_CALL_WALLCLOCK] = sizeof(struct hv_wallclock),
	[HV_CALL_BLOCK] = sizeof(struct hv_block),
	[HV_CALL_EVTCHN_OP] = sizeof(struct hv_evtchn_op),
	[HV_CALL_GNTTAB_OP] = sizeof(struct hv_gnttab_op),
	[HV_CALL_STORE] = sizeof(struct hv_store_op),
};

/* A range of a domain's memory that may change freely in a call. */
struct allowed {
	struct dom *d;
	uint64_t lo, hi;
};

struct call {
	struct dom *d; /* the caller; NULL for a domain's end, which no domain called */
	unsigned nr;
	uint32_t gpa;
	size_t size;   /* of its block; 0 for a call hv does not know */
	bool block_ok; /* in the guest's writable memory, aligned: hv serves it */
	union block in, out;
	bool pending_before; /* the caller's upcall flag */
	uint64_t now_before, written_before, dropped_before;
	bool ended_before[NR_DOMS + 1];
	int status_before[NR_DOMS + 1];
	struct grant_slot slots_before[NR_DOMS + 1][MAX_WINDOW];
	struct allowed allowed[2];
	unsigned nr_allowed;
	struct dom *sent_to; /* a SEND that succeeded: the peer, its port pending */
	uint32_t sent_port;
};

/* A domain id the input or a block names, if it is one of ours. */
static struct dom *dom_by_id(domid_t id)
{
	return id >= 1 && id <= NR_DOMS ? &doms[id] : NULL;
}

static struct hv_shared_info *shared_info(struct dom *d)
{
	return (struct hv_shared_info *)(d->vm.mem + HV_L_SHARED);
}

static bool port_bit(const uint64_t *words, uint32_t port)
{
	return port < HV_NR_EVTCHN && (words[port / 64] >> (port % 64)) & 1;
}

/* n bytes of d's memory at gpa (at or above the boot info) as they were before the call. */
static void read_before(struct dom *d, uint64_t gpa, void *buf, size_t n)
{
	uint8_t *out = buf;

	FUZZ_CHECK(gpa >= HV_L_BOOT_INFO && gpa <= d->vm.mem_size && n <= d->vm.mem_size - gpa);
	for (size_t i = 0; i < n; i++, gpa++)
		out[i] = gpa >= HV_L_SHARED ? d->shadow[gpa - HV_L_SHARED] : d->vm.mem[gpa];
}

/* Whether [lo, lo + len) of d overlaps the caller's block, which hv writes back last. */
static bool in_block(const struct call *c, const struct dom *d, uint64_t lo, uint64_t len)
{
	return c->block_ok && d == c->d && lo < (uint64_t)c->gpa + c->size && c->gpa < lo + len;
}

static bool in_guest(const struct dom *d, uint64_t lo, uint64_t len, uint64_t floor)
{
	return lo >= floor && lo <= d->vm.mem_size && len <= d->vm.mem_size - lo;
}

static void allow(struct call *c, struct dom *d, uint64_t lo, uint64_t len)
{
	FUZZ_CHECK(c->nr_allowed < sizeof(c->allowed) / sizeof(c->allowed[0]));
	c->allowed[c->nr_allowed++] = (struct allowed){ d, lo, lo + len };
}

/* --- guest memory and what may change in it -------------------------------------------- */

/* Of the byte at off in a bitmap of ports, the bit a SEND to d set, if it did; else 0. */
static uint8_t sent_bit(const struct call *c, const struct dom *d, uint64_t off, uint32_t port)
{
	return c->sent_to == d && port / 8 == off ? 1u << port % 8 : 0;
}

/*
 * Whether one byte of d at gpa may go from was to now in call c. In a
 * shared-info page, the caller's event words change as its calls say; in
 * another domain's, a SEND to it sets its port's bits, nothing else.
 */
static bool may_change(const struct call *c, struct dom *d, uint64_t gpa, uint8_t was, uint8_t now)
{
	uint64_t off = gpa - HV_L_SHARED, sel = SI_OFF(vcpu_info[0].evtchn_pending_sel);
	bool caller = d == c->d;
	uint8_t set = now & ~was, cleared = was & ~now;

	for (unsigned i = 0; i < c->nr_allowed; i++)
		if (c->allowed[i].d == d && gpa >= c->allowed[i].lo && gpa < c->allowed[i].hi)
			return true;
	if (c->block_ok && caller && gpa >= c->gpa && gpa < c->gpa + c->size)
		return true;
	/* An entry's flags are its first two bytes; hv sets and clears only its two bits. */
	if (d->nr_entries && gpa >= d->table && gpa < d->table + 8ull * d->nr_entries)
		return (gpa - d->table) % 8 == 0 && ((was ^ now) & ~HV_BITS) == 0;
	if (c->ended_before[d->vm.domid] || off >= HV_PAGE_SIZE)
		return false;
	if (off == SI_OFF(vcpu_info[0].evtchn_upcall_pending))
		return now == 1 && (caller || c->sent_to == d); /* hv never clears it */
	if (off >= sel && off < sel + 8)
		return !cleared &&
		       (caller || !(set & ~sent_bit(c, d, off - sel, c->sent_port / 64)));
	if (off >= SI_OFF(evtchn_pending) && off < SI_OFF(evtchn_mask))
		return caller || /* a close clears the caller's own */
		       (!cleared && !(set & ~sent_bit(c, d, off - SI_OFF(evtchn_pending),
							c->sent_port)));
	if (off >= SI_OFF(evtchn_mask) && off < SI_OFF(evtchn_mask) + 8 * HV_EVTCHN_WORDS)
		return caller && !set; /* only an unmask, the caller's */
	return false;
}

/* Every domain's memory against its shadow; then the shadow is the memory. */
static void check_memory(const struct call *c)
{
	for (unsigned id = 1; id <= NR_DOMS; id++) {
		struct dom *d = &doms[id];
		const uint8_t *now = d->vm.mem + HV_L_SHARED;
		size_t n = d->vm.mem_size - HV_L_SHARED;

		if (memcmp(now, d->shadow, n) == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (i % 64 == 0 && n - i >= 64 && memcmp(now + i, d->shadow + i, 64) == 0) {
				i += 63;
				continue;
			}
			if (now[i] == d->shadow[i] ||
			    may_change(c, d, HV_L_SHARED + i, d->shadow[i], now[i]))
				continue;
			fprintf(stderr, "fuzz_hypercall: dom%u's byte at 0x%llx went 0x%02x -> "
				"0x%02x in %s of dom%u\n", id,
				(unsigned long long)(HV_L_SHARED + i), d->shadow[i], now[i],
				c->d ? "a call" : "the end", c->d ? c->d->vm.domid : 0);
			FUZZ_CHECK(!"only what the ABI allows changes in guest memory");
		}
		memcpy(d->shadow, now, n);
	}
}

/* --- what each call must have done ------------------------------------------------------ */

static bool names_call(const struct call *c)
{
	char number[16];

	if (c->nr < HV_CALL_COUNT)
		return strstr(c->d->failure, hypercall_names[c->nr]) != NULL;
	snprintf(number, sizeof(number), "%u", c->nr);
	return strstr(c->d->failure, number) != NULL;
}

/* Whether a block with no deadline may sleep: a device, or a port a peer could send to. */
static bool could_be_woken(struct dom *d)
{
	if (d->vm.wake_sources)
		return true;
	for (uint32_t p = 1; p < HV_NR_EVTCHN; p++)
		if (d->vm.ports->port[p].state == HV_EVTCHNSTAT_UNBOUND ||
		    d->vm.ports->port[p].state == HV_EVTCHNSTAT_INTERDOMAIN)
			return true;
	return false;
}

/* Whether the ABI says this call ends the domain with a message. */
static bool must_fail(const struct call *c)
{
	if (c->nr >= HV_CALL_COUNT || !c->block_ok)
		return true;
	if (c->nr == HV_CALL_CONSOLE_WRITE)
		return !in_guest(c->d, c->in.console.buf, c->in.console.len, HV_L_BOOT_INFO);
	if (c->nr == HV_CALL_BLOCK)
		return c->in.block.deadline_ns == HV_DEADLINE_NONE && !c->pending_before &&
		       !could_be_woken(c->d);
	return false;
}

static void check_end(const struct call *c)
{
	struct hv_vm *vm = &c->d->vm;

	if (c->nr == HV_CALL_EXIT && c->block_ok) {
		FUZZ_CHECK(vm_ended(vm) && vm->exited && !c->d->failed);
		FUZZ_CHECK(vm->status == (c->in.exit.status & 0xff));
	} else if (must_fail(c)) {
		FUZZ_CHECK(vm_ended(vm) && !vm->exited && c->d->failed);
		FUZZ_CHECK(c->d->failure[0] != '\0' && names_call(c));
		FUZZ_CHECK(vm->status == HV_EXIT_GUEST_ABI || vm->status == HV_EXIT_GUEST_CRASH);
	} else {
		FUZZ_CHECK(!vm_ended(vm) && !c->d->failed);
	}
	for (unsigned id = 1; id <= NR_DOMS; id++) {
		if (&doms[id] == c->d)
			continue;
		FUZZ_CHECK(vm_ended(&doms[id].vm) == c->ended_before[id]);
		FUZZ_CHECK(doms[id].vm.status == c->status_before[id]);
	}
}

static void check_console(const struct call *c)
{
	const struct hv_vm *vm = &c->d->vm;
	uint64_t len = c->in.console.len;

	if (len > vm->console_max - c->written_before) {
		FUZZ_CHECK(c->out.console.ret == -ENOSPC);
		FUZZ_CHECK(vm->console_written == c->written_before);
		FUZZ_CHECK(vm->console_dropped == c->dropped_before + len);
	} else {
		FUZZ_CHECK(c->out.console.ret == (int64_t)len);
		FUZZ_CHECK(vm->console_written == c->written_before + len);
	}
}

static void check_block(const struct call *c)
{
	struct dom *d = c->d;
	uint64_t deadline = c->in.block.deadline_ns;
	uint32_t timer = d->vm.ports->virq_port[HV_VIRQ_TIMER];

	FUZZ_CHECK(!d->vm.blocked);
	if (c->pending_before || deadline == HV_DEADLINE_NONE) {
		FUZZ_CHECK(c->out.block.ret == HV_BLOCK_EVENT && d->now == c->now_before);
		return;
	}
	FUZZ_CHECK(c->out.block.ret == HV_BLOCK_DEADLINE);
	FUZZ_CHECK(d->now == (deadline > c->now_before ? deadline : c->now_before));
	if (timer && !in_block(c, d, HV_L_SHARED, HV_PAGE_SIZE))
		FUZZ_CHECK(port_bit(shared_info(d)->evtchn_pending, timer));
}

static void check_evtchn(struct call *c)
{
	const struct hv_evtchn_op *in = &c->in.evtchn, *out = &c->out.evtchn;
	const struct evtchn_ports *t = c->d->vm.ports;
	const struct hv_shared_info *si = shared_info(c->d);
	bool si_seen = !in_block(c, c->d, HV_L_SHARED, HV_PAGE_SIZE);
	uint32_t p = out->port;

	FUZZ_CHECK(out->ret == 0 || out->ret == -EINVAL || out->ret == -ESRCH ||
		   out->ret == -EPERM || out->ret == -ENOSPC || out->ret == -EBUSY);
	if (out->ret != 0)
		return;
	switch (in->cmd) {
	case HV_EVTCHNOP_ALLOC_UNBOUND:
		FUZZ_CHECK(p >= t->device_end && p < HV_NR_EVTCHN);
		FUZZ_CHECK(t->port[p].state == HV_EVTCHNSTAT_UNBOUND);
		break;
	case HV_EVTCHNOP_BIND_INTERDOMAIN: {
		const struct evtchn_port *e = &t->port[p];
		const struct evtchn_ports *peer = evtchn_tables.dom[e->remote_dom];

		FUZZ_CHECK(p >= t->device_end && p < HV_NR_EVTCHN);
		FUZZ_CHECK(e->state == HV_EVTCHNSTAT_INTERDOMAIN);
		FUZZ_CHECK(e->remote_port == in->remote_port);
		FUZZ_CHECK(peer && peer->port[e->remote_port].state == HV_EVTCHNSTAT_INTERDOMAIN);
		FUZZ_CHECK(peer->port[e->remote_port].remote_dom == c->d->vm.domid &&
			   peer->port[e->remote_port].remote_port == p);
		FUZZ_CHECK(!si_seen || port_bit(si->evtchn_pending, p)); /* it comes pending */
		break;
	}
	case HV_EVTCHNOP_BIND_VIRQ:
		FUZZ_CHECK(p >= t->device_end && p < HV_NR_EVTCHN);
		FUZZ_CHECK(t->port[p].state == HV_EVTCHNSTAT_VIRQ && t->virq_port[in->virq] == p);
		break;
	case HV_EVTCHNOP_CLOSE:
		FUZZ_CHECK(in->port < HV_NR_EVTCHN);
		FUZZ_CHECK(t->port[in->port].state == HV_EVTCHNSTAT_CLOSED);
		FUZZ_CHECK(!si_seen || !port_bit(si->evtchn_pending, in->port));
		break;
	case HV_EVTCHNOP_SEND: {
		struct dom *peer;

		FUZZ_CHECK(in->port < HV_NR_EVTCHN);
		FUZZ_CHECK(t->port[in->port].state == HV_EVTCHNSTAT_INTERDOMAIN);
		peer = dom_by_id(t->port[in->port].remote_dom);
		FUZZ_CHECK(peer != NULL);
		c->sent_to = peer;
		c->sent_port = t->port[in->port].remote_port;
		if (peer != c->d || si_seen)
			FUZZ_CHECK(port_bit(shared_info(peer)->evtchn_pending,
					    t->port[in->port].remote_port));
		break;
	}
	case HV_EVTCHNOP_UNMASK:
		FUZZ_CHECK(in->port >= 1 && in->port < HV_NR_EVTCHN);
		FUZZ_CHECK(!si_seen || !port_bit(si->evtchn_mask, in->port));
		break;
	case HV_EVTCHNOP_STATUS:
		FUZZ_CHECK(in->dom == HV_DOMID_SELF || in->dom == c->d->vm.domid);
		FUZZ_CHECK(in->port < HV_NR_EVTCHN && out->status == t->port[in->port].state);
		break;
	default:
		FUZZ_CHECK(!"an evtchn_op the ABI does not name succeeded");
	}
}

/* Where one end of a copy lies (a domain and a gpa), as the block names it; false: nowhere. */
static bool copy_place(const struct call *c, const struct hv_gnttab_copy_ptr *p, bool gref,
		       struct dom **dp, uint64_t *gpa)
{
	struct hv_grant_entry e;
	uint32_t ref = (uint32_t)p->where;

	if (!gref) {
		*dp = c->d;
		*gpa = p->where;
		return true;
	}
	*dp = dom_by_id(p->dom);
	if (!*dp || ref >= (*dp)->nr_entries)
		return false;
	read_before(*dp, (*dp)->table + 8ull * ref, &e, sizeof(e));
	*gpa = (uint64_t)e.frame * HV_PAGE_SIZE + (p->where >> 32);
	return true;
}

static void check_copy(struct call *c)
{
	const struct hv_gnttab_op *in = &c->in.gnttab;
	struct dom *sd, *dd;
	uint64_t src, dst;
	uint8_t bytes[HV_PAGE_SIZE];

	FUZZ_CHECK(copy_place(c, &in->src, in->flags & HV_GNTCOPY_SOURCE_GREF, &sd, &src));
	FUZZ_CHECK(copy_place(c, &in->dst, in->flags & HV_GNTCOPY_DEST_GREF, &dd, &dst));
	FUZZ_CHECK(in->len <= HV_PAGE_SIZE && src % HV_PAGE_SIZE + in->len <= HV_PAGE_SIZE &&
		   dst % HV_PAGE_SIZE + in->len <= HV_PAGE_SIZE);
	FUZZ_CHECK(in_guest(sd, src, in->len, HV_L_BOOT_INFO));
	FUZZ_CHECK(in_guest(dd, dst, in->len, in->flags & HV_GNTCOPY_DEST_GREF ? HV_IMAGE_BASE
									      : HV_L_SHARED));
	read_before(sd, src, bytes, in->len);
	if (!in_block(c, dd, dst, in->len))
		FUZZ_CHECK(memcmp(dd->vm.mem + dst, bytes, in->len) == 0);
	allow(c, dd, dst, in->len);
}

static void check_map(const struct call *c)
{
	const struct hv_gnttab_op *in = &c->in.gnttab, *out = &c->out.gnttab;
	struct dom *g = dom_by_id(in->dom);
	bool ro = in->flags & HV_GNTMAP_READONLY;
	struct hv_grant_entry e;
	const struct grant_slot *s;

	FUZZ_CHECK(g && !c->ended_before[g->vm.domid] && in->ref < g->nr_entries);
	read_before(g, g->table + 8ull * in->ref, &e, sizeof(e));
	FUZZ_CHECK((e.flags & 3) == HV_GTF_PERMIT_ACCESS && e.domid == c->d->vm.domid);
	FUZZ_CHECK(ro || !(e.flags & HV_GTF_READONLY));
	FUZZ_CHECK(out->handle < c->d->window_pages);
	FUZZ_CHECK(out->addr == HV_GRANT_WINDOW + (uint64_t)out->handle * HV_PAGE_SIZE);
	s = &c->d->slot[out->handle];
	FUZZ_CHECK(s->granter == g->vm.domid && s->frame == e.frame && s->readonly == ro);
	/* In use while mapped: hv's flags in the entry, unless the block landed on it. */
	if (!in_block(c, g, g->table + 8ull * in->ref, 2)) {
		const struct hv_grant_entry *now =
			(const void *)(g->vm.mem + g->table + 8ull * in->ref);

		FUZZ_CHECK(now->flags & HV_GTF_READING);
		FUZZ_CHECK(ro || (now->flags & HV_GTF_WRITING));
	}
}

static bool slot_same(const struct grant_slot *a, const struct grant_slot *b)
{
	return a->granter == b->granter && a->readonly == b->readonly && a->frame == b->frame;
}

static void check_gnttab(struct call *c)
{
	const struct hv_gnttab_op *in = &c->in.gnttab, *out = &c->out.gnttab;
	struct dom *d = c->d;
	int s = out->status;

	FUZZ_CHECK(s == HV_GNTST_OKAY || s == HV_GNTST_GENERAL_ERROR || s == HV_GNTST_BAD_DOMAIN ||
		   s == HV_GNTST_BAD_GNTREF || s == HV_GNTST_BAD_HANDLE ||
		   s == HV_GNTST_BAD_VIRT_ADDR || s == HV_GNTST_NO_DEVICE_SPACE ||
		   s == HV_GNTST_PERMISSION_DENIED || s == HV_GNTST_BAD_COPY_ARG);
	/* The window changes by the caller's map or unmap that succeeded, and only there. */
	for (unsigned id = 1; id <= NR_DOMS; id++)
		for (unsigned i = 0; i < MAX_WINDOW; i++) {
			if (slot_same(&c->slots_before[id][i], &doms[id].slot[i]))
				continue;
			FUZZ_CHECK(&doms[id] == d && s == HV_GNTST_OKAY);
			FUZZ_CHECK((in->cmd == HV_GNTTABOP_MAP_GRANT_REF && i == out->handle) ||
				   (in->cmd == HV_GNTTABOP_UNMAP_GRANT_REF && i == in->handle));
		}
	if (s != HV_GNTST_OKAY)
		return;
	switch (in->cmd) {
	case HV_GNTTABOP_SETUP_TABLE:
		FUZZ_CHECK(in->nr_entries >= 1 && in->nr_entries <= HV_MAX_GRANT_ENTRIES);
		FUZZ_CHECK(in->table % HV_PAGE_SIZE == 0 &&
			   in_guest(d, in->table, 8ull * in->nr_entries, HV_IMAGE_BASE));
		d->table = in->table;
		d->nr_entries = in->nr_entries;
		break;
	case HV_GNTTABOP_MAP_GRANT_REF:
		check_map(c);
		break;
	case HV_GNTTABOP_UNMAP_GRANT_REF:
		FUZZ_CHECK(in->handle < MAX_WINDOW);
		FUZZ_CHECK(c->slots_before[d->vm.domid][in->handle].granter != 0);
		FUZZ_CHECK(d->slot[in->handle].granter == 0);
		break;
	case HV_GNTTABOP_COPY:
		check_copy(c);
		break;
	case HV_GNTTABOP_QUERY_SIZE:
		FUZZ_CHECK(in->dom == HV_DOMID_SELF || in->dom == 0 || in->dom == d->vm.domid);
		FUZZ_CHECK(out->nr_entries == d->nr_entries &&
			   out->max_entries == HV_MAX_GRANT_ENTRIES);
		break;
	default:
		FUZZ_CHECK(!"a gnttab_op the ABI does not name succeeded");
	}
}

/* The store's own rules are fuzz_store's; here, that a READ wrote its value and no more. */
static void check_store(struct call *c)
{
	const struct hv_store_op *in = &c->in.store, *out = &c->out.store;

	FUZZ_CHECK(out->ret == 0 || out->ret == -ENOENT || out->ret == -EPERM ||
		   out->ret == -E2BIG || out->ret == -EINVAL || out->ret == -ENOSPC);
	if (out->ret != 0 || in->cmd != HV_STORE_READ || out->len == 0)
		return;
	FUZZ_CHECK(out->len <= in->len && out->len <= HV_STORE_VALUE_MAX);
	FUZZ_CHECK(in_guest(c->d, in->buf, out->len, HV_L_SHARED));
	allow(c, c->d, in->buf, out->len);
}

/*
 * The domain ended: what hv does then, in order. vm_run's tail (the ring
 * stops; area_check runs once a domain at the process's end, hypercall_host.c),
 * then host.c's domain_end (static there): out of the cross-domain tables,
 * its ports closed and its maps given back.
 */
static void dom_end(struct dom *d)
{
	struct call end = { .d = NULL };
	struct hv_vm *vm = &d->vm;

	send_ring_stop(vm);
	for (unsigned id = 1; id <= NR_DOMS; id++)
		end.ended_before[id] = true; /* no shared-info page changes at an end */
	pthread_mutex_lock(&host.lock);
	vm->gone = true;
	pthread_mutex_unlock(&host.lock);
	evtchn_domain_end(vm);
	gnttab_domain_end(vm);
	FUZZ_CHECK(evtchn_tables.dom[vm->domid] == NULL && host_domain(&host, vm->domid) == NULL);
	/* No port is bound to it any more; its maps' slots stay (it never runs again). */
	for (unsigned id = 1; id <= NR_DOMS; id++) {
		const struct evtchn_ports *t = evtchn_tables.dom[id];

		for (uint32_t p = 1; t && p < HV_NR_EVTCHN; p++)
			FUZZ_CHECK(t->port[p].state != HV_EVTCHNSTAT_INTERDOMAIN ||
				   t->port[p].remote_dom != vm->domid);
	}
	check_memory(&end);
}

/* --- the operations ---------------------------------------------------------------------- */

static struct dom *pick_dom(struct fuzz_in *in)
{
	return &doms[1 + fuzz_u8(in) % NR_DOMS];
}

static uint32_t pick_gpa(struct fuzz_in *in)
{
	return fuzz_u8(in) < 0xf0 ? (uint32_t)HV_L_SHARED + fuzz_u16(in) : fuzz_u32(in);
}

static void op_write(struct fuzz_in *in)
{
	struct dom *d = pick_dom(in);
	uint64_t gpa = HV_L_SHARED + fuzz_u16(in);
	size_t n;
	const uint8_t *bytes = fuzz_bytes(in, fuzz_u8(in), &n);

	/* A domain that ended runs no more. */
	if (vm_ended(&d->vm) || gpa >= d->vm.mem_size)
		return;
	if (n > d->vm.mem_size - gpa)
		n = d->vm.mem_size - gpa;
	memcpy(d->vm.mem + gpa, bytes, n);
	memcpy(d->shadow + (gpa - HV_L_SHARED), bytes, n);
}

/* What the harness sees before the call, and the block's wake-up armed. */
static void call_begin(struct call *c)
{
	struct dom *d = c->d;

	c->size = c->nr < HV_CALL_COUNT ? block_sizes[c->nr] : 0;
	c->block_ok = c->size && c->gpa % 8 == 0 && in_guest(d, c->gpa, c->size, HV_L_SHARED);
	if (c->block_ok)
		memcpy(&c->in, d->vm.mem + c->gpa, c->size);
	c->pending_before = shared_info(d)->vcpu_info[0].evtchn_upcall_pending != 0;
	c->now_before = d->now;
	c->written_before = d->vm.console_written;
	c->dropped_before = d->vm.console_dropped;
	for (unsigned id = 1; id <= NR_DOMS; id++) {
		c->ended_before[id] = vm_ended(&doms[id].vm);
		c->status_before[id] = doms[id].vm.status;
		memcpy(c->slots_before[id], doms[id].slot, sizeof(doms[id].slot));
	}
	d->looks = 0;
	d->deadline = c->nr == HV_CALL_BLOCK && c->block_ok ? c->in.block.deadline_ns
							     : HV_DEADLINE_NONE;
	if (c->nr == HV_CALL_BLOCK) {
		uint64_t one = 1;

		FUZZ_CHECK(write(d->vm.wake_fd, &one, sizeof(one)) == sizeof(one));
	}
}

static void call_end(struct call *c)
{
	struct dom *d = c->d;

	check_end(c);
	if (c->block_ok && !d->failed) {
		memcpy(&c->out, d->vm.mem + c->gpa, c->size);
		switch (c->nr) {
		case HV_CALL_CONSOLE_WRITE: check_console(c); break;
		case HV_CALL_WALLCLOCK:
			FUZZ_CHECK(c->out.wallclock.realtime_ns && c->out.wallclock.tsc);
			break;
		case HV_CALL_BLOCK: check_block(c); break;
		case HV_CALL_EVTCHN_OP: check_evtchn(c); break;
		case HV_CALL_GNTTAB_OP: check_gnttab(c); break;
		case HV_CALL_STORE: check_store(c); break;
		}
	} else if (c->block_ok) {
		/* Ended by vm_fail: the block went back as it came. */
		FUZZ_CHECK(memcmp(d->vm.mem + c->gpa, &c->in, c->size) == 0);
	}
	check_memory(c);
	drain_wake(d);
	if (vm_ended(&d->vm))
		dom_end(d);
}

static void op_call(struct fuzz_in *in)
{
	struct call c = { .d = pick_dom(in) };
	uint8_t b = fuzz_u8(in);

	c.nr = b < 0xf0 ? b % HV_CALL_COUNT : fuzz_u8(in) % HV_CALL_SLOTS;
	c.gpa = pick_gpa(in);
	if (vm_ended(&c.d->vm))
		return; /* hv's run loop stopped: no more calls */
	call_begin(&c);
	hypercall_dispatch(&c.d->vm, c.nr, c.gpa);
	call_end(&c);
}

static void op_refuse(struct fuzz_in *in)
{
	static const int errnos[3] = { ENOMEM, ENOSPC, EIO };
	struct dom *d = pick_dom(in);
	uint8_t b = fuzz_u8(in);

	if (b & 1)
		d->refuse_unmap = errnos[(b >> 1) % 3];
	else
		d->refuse_map = errnos[(b >> 1) % 3];
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trace_all = getenv("FUZZ_TRACE") != NULL;
	host_start(trace_all);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	/* Between inputs no call runs, so the trace may go on and off. */
	trace_enabled = (fuzz_u8(&in) & 1) || trace_all;
	memset(&evtchn_tables, 0, sizeof(evtchn_tables));
	store_init(&store);
	for (unsigned id = 1; id <= NR_DOMS; id++)
		dom_start(&doms[id], fuzz_u8(&in));
	while (in.left) {
		switch (fuzz_u8(&in) % NR_OPS) {
		case OP_WRITE:
			op_write(&in);
			break;
		case OP_CALL:
			op_call(&in);
			break;
		case OP_CLOCK: {
			struct dom *d = pick_dom(&in);

			d->now += (uint64_t)fuzz_u32(&in) * 1000;
			break;
		}
		case OP_REFUSE:
			op_refuse(&in);
			break;
		}
	}
	for (unsigned id = 1; id <= NR_DOMS; id++)
		dom_stop(&doms[id]);
	store_destroy(&store);
	return 0;
}
