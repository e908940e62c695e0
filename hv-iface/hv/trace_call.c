/* SPDX-License-Identifier: MIT */
/*
 * hv --trace: a hypercall in words. From the argument block as the guest
 * gave it (in) and as hv answered (out), the call's arguments by their ABI
 * names (hv_abi.h), then " -> " and its result, or how the domain ended if
 * the call ended it. Reads of guest memory (a console text, a store key)
 * go through the checked accessors, like everything else hv reads there.
 */
#include <errno.h>
#include <string.h>

#include "trace.h"

#define TEXT_MAX    24 /* bytes of a console write shown */
#define VALUE_MAX   32 /* bytes of a store value shown */
#define PENDING_MAX 4  /* pending ports a block's end names */

/* A domain id as the ABI spells it: SELF, or the number. */
static void add_dom(struct trace_line *l, const char *field, domid_t dom)
{
	if (dom == HV_DOMID_SELF)
		trace_add(l, " %s=SELF", field);
	else
		trace_add(l, " %s=%u", field, dom);
}

/* An operation's name from names[0, n), or its number when it has none. */
static void add_cmd(struct trace_line *l, const char *const *names, size_t n, uint32_t cmd)
{
	if (cmd < n && names[cmd])
		trace_add(l, " %s", names[cmd]);
	else
		trace_add(l, " cmd=%u", cmd);
}

/* A NUL-terminated string of the guest's at gpa, of at most max bytes, quoted. */
static void add_guest_string(struct trace_line *l, struct hv_vm *vm, uint64_t gpa, size_t max)
{
	const uint8_t *p = vm_guest_read(vm, gpa, 1);
	uint64_t room;

	if (!p) {
		trace_add(l, "(outside guest memory)");
		return;
	}
	room = vm->mem_size - gpa;
	if (room > max + 1)
		room = max + 1;
	trace_add_bytes(l, p, strnlen((const char *)p, room), max);
}

/* len bytes of the guest's at gpa, quoted, the first max of them; nothing if they are not there. */
static void add_guest_bytes(struct trace_line *l, struct hv_vm *vm, uint64_t gpa, uint64_t len,
			    size_t max)
{
	const uint8_t *p = vm_guest_read(vm, gpa, len < max ? len : max);

	if (!p)
		return;
	trace_add(l, " ");
	trace_add_bytes(l, p, len, max);
}

static void describe_console_write(struct trace_line *l, struct hv_vm *vm,
				   const struct trace_call *t, const void *out)
{
	struct hv_console_write in, o;

	memcpy(&in, t->in, sizeof(in));
	memcpy(&o, out, sizeof(o));
	trace_add(l, " buf=0x%llx len=%llu", (unsigned long long)in.buf,
		  (unsigned long long)in.len);
	add_guest_bytes(l, vm, in.buf, in.len, TEXT_MAX);
	if (trace_add_end(l, vm))
		return;
	trace_add(l, " -> ");
	trace_add_errno(l, o.ret);
}

static void describe_exit(struct trace_line *l, struct hv_vm *vm, const struct trace_call *t)
{
	struct hv_exit in;

	memcpy(&in, t->in, sizeof(in));
	trace_add(l, " status=%d", in.status);
	trace_add_end(l, vm);
}

static void describe_wallclock(struct trace_line *l, struct hv_vm *vm, const void *out)
{
	struct hv_wallclock o;

	memcpy(&o, out, sizeof(o));
	if (trace_add_end(l, vm))
		return;
	trace_add(l, " -> realtime=%llu.%09llu tsc=%llu",
		  (unsigned long long)(o.realtime_ns / 1000000000ull),
		  (unsigned long long)(o.realtime_ns % 1000000000ull), (unsigned long long)o.tsc);
}

/* The ports pending and not masked when a block ends: what woke the guest. */
static void add_pending(struct trace_line *l, const struct hv_vm *vm)
{
	const struct hv_shared_info *si = (const void *)(vm->mem + HV_L_SHARED);
	unsigned shown = 0, more = 0;

	for (unsigned w = 0; w < HV_EVTCHN_WORDS; w++) {
		uint64_t bits = __atomic_load_n(&si->evtchn_pending[w], __ATOMIC_RELAXED) &
				~__atomic_load_n(&si->evtchn_mask[w], __ATOMIC_RELAXED);

		for (; bits; bits &= bits - 1) {
			if (shown == PENDING_MAX) {
				more++;
				continue;
			}
			trace_add(l, "%s%u", shown ? "," : " pending=",
				  w * 64 + (unsigned)__builtin_ctzll(bits));
			shown++;
		}
	}
	if (more)
		trace_add(l, ",+%u", more);
}

static void describe_block(struct trace_line *l, struct hv_vm *vm, const struct trace_call *t,
			   const void *out)
{
	struct hv_block in, o;

	memcpy(&in, t->in, sizeof(in));
	memcpy(&o, out, sizeof(o));
	if (in.deadline_ns == HV_DEADLINE_NONE)
		trace_add(l, " deadline=none");
	else
		trace_add(l, " deadline=%+.3fms",
			  (double)(int64_t)(in.deadline_ns - t->guest_ns) / 1e6);
	if (trace_add_end(l, vm))
		return;
	trace_add(l, " -> %s after %.3fms", o.ret == HV_BLOCK_DEADLINE ? "DEADLINE" : "EVENT",
		  (double)(hv_now_ns() - t->ns) / 1e6);
	if (o.ret == HV_BLOCK_EVENT)
		add_pending(l, vm);
}

static void describe_evtchn_op(struct trace_line *l, struct hv_vm *vm, const struct trace_call *t,
			       const void *out)
{
	static const char *const cmds[] = {
		[HV_EVTCHNOP_BIND_INTERDOMAIN] = "BIND_INTERDOMAIN",
		[HV_EVTCHNOP_BIND_VIRQ] = "BIND_VIRQ",
		[HV_EVTCHNOP_CLOSE] = "CLOSE",
		[HV_EVTCHNOP_SEND] = "SEND",
		[HV_EVTCHNOP_STATUS] = "STATUS",
		[HV_EVTCHNOP_ALLOC_UNBOUND] = "ALLOC_UNBOUND",
		[HV_EVTCHNOP_UNMASK] = "UNMASK",
	};
	static const char *const states[] = {
		[HV_EVTCHNSTAT_CLOSED] = "CLOSED",	     [HV_EVTCHNSTAT_UNBOUND] = "UNBOUND",
		[HV_EVTCHNSTAT_INTERDOMAIN] = "INTERDOMAIN", [HV_EVTCHNSTAT_VIRQ] = "VIRQ",
		[HV_EVTCHNSTAT_DEVICE] = "DEVICE",
	};
	struct hv_evtchn_op in, o;

	memcpy(&in, t->in, sizeof(in));
	memcpy(&o, out, sizeof(o));
	add_cmd(l, cmds, sizeof(cmds) / sizeof(cmds[0]), in.cmd);
	switch (in.cmd) {
	case HV_EVTCHNOP_BIND_INTERDOMAIN:
		add_dom(l, "remote_dom", in.remote_dom);
		trace_add(l, " remote_port=%u", in.remote_port);
		break;
	case HV_EVTCHNOP_BIND_VIRQ:
		trace_add(l, " virq=%u%s", in.virq, in.virq == HV_VIRQ_TIMER ? "(TIMER)" : "");
		break;
	case HV_EVTCHNOP_ALLOC_UNBOUND:
		add_dom(l, "dom", in.dom);
		add_dom(l, "remote_dom", in.remote_dom);
		break;
	case HV_EVTCHNOP_STATUS:
		add_dom(l, "dom", in.dom);
		trace_add(l, " port=%u", in.port);
		break;
	case HV_EVTCHNOP_CLOSE:
	case HV_EVTCHNOP_SEND:
	case HV_EVTCHNOP_UNMASK: trace_add(l, " port=%u", in.port); break;
	}
	if (trace_add_end(l, vm))
		return;
	trace_add(l, " -> ");
	trace_add_errno(l, o.ret);
	if (o.ret != 0)
		return;
	if (in.cmd == HV_EVTCHNOP_BIND_INTERDOMAIN || in.cmd == HV_EVTCHNOP_BIND_VIRQ ||
	    in.cmd == HV_EVTCHNOP_ALLOC_UNBOUND)
		trace_add(l, " port=%u", o.port);
	if (in.cmd != HV_EVTCHNOP_STATUS)
		return;
	if (o.status < sizeof(states) / sizeof(states[0]) && states[o.status])
		trace_add(l, " status=%s", states[o.status]);
	else
		trace_add(l, " status=%u", o.status);
	if (o.status == HV_EVTCHNSTAT_INTERDOMAIN || o.status == HV_EVTCHNSTAT_UNBOUND)
		trace_add(l, " remote_dom=%u", o.remote_dom);
	if (o.status == HV_EVTCHNSTAT_INTERDOMAIN)
		trace_add(l, " remote_port=%u", o.remote_port);
	if (o.status == HV_EVTCHNSTAT_VIRQ)
		trace_add(l, " virq=%u", o.virq);
}

/* One end of a grant copy: "dom2:ref5+0x10" for a grant, else the caller's own gpa. */
static void add_copy_end(struct trace_line *l, const char *field,
			 const struct hv_gnttab_copy_ptr *p, bool gref)
{
	if (gref)
		trace_add(l, " %s=dom%u:ref%u+0x%x", field, p->dom, (uint32_t)p->where,
			  (uint32_t)(p->where >> 32));
	else
		trace_add(l, " %s=0x%llx", field, (unsigned long long)p->where);
}

static void describe_gnttab_op(struct trace_line *l, struct hv_vm *vm, const struct trace_call *t,
			       const void *out)
{
	static const char *const cmds[] = {
		[HV_GNTTABOP_MAP_GRANT_REF] = "MAP",	    [HV_GNTTABOP_UNMAP_GRANT_REF] = "UNMAP",
		[HV_GNTTABOP_SETUP_TABLE] = "SETUP_TABLE", [HV_GNTTABOP_COPY] = "COPY",
		[HV_GNTTABOP_QUERY_SIZE] = "QUERY_SIZE",
	};
	/* Xen's GNTST_* names, by -status. */
	static const char *const statuses[] = {
		"okay",		 "general_error", "bad_domain",		"bad_gntref",
		"bad_handle",	 "bad_virt_addr", "bad_dev_addr",	"no_device_space",
		"permission_denied", "bad_page",  "bad_copy_arg",
	};
	struct hv_gnttab_op in, o;

	memcpy(&in, t->in, sizeof(in));
	memcpy(&o, out, sizeof(o));
	add_cmd(l, cmds, sizeof(cmds) / sizeof(cmds[0]), in.cmd);
	switch (in.cmd) {
	case HV_GNTTABOP_SETUP_TABLE:
		trace_add(l, " table=0x%llx entries=%u", (unsigned long long)in.table,
			  in.nr_entries);
		break;
	case HV_GNTTABOP_MAP_GRANT_REF:
		add_dom(l, "dom", in.dom);
		trace_add(l, " ref=%u flags=", in.ref);
		if (in.flags & ~HV_GNTMAP_READONLY)
			trace_add(l, "0x%x", in.flags);
		else
			trace_add(l, "%s", in.flags & HV_GNTMAP_READONLY ? "ro" : "rw");
		break;
	case HV_GNTTABOP_UNMAP_GRANT_REF: trace_add(l, " handle=%u", in.handle); break;
	case HV_GNTTABOP_COPY:
		add_copy_end(l, "src", &in.src, in.flags & HV_GNTCOPY_SOURCE_GREF);
		add_copy_end(l, "dst", &in.dst, in.flags & HV_GNTCOPY_DEST_GREF);
		trace_add(l, " len=%u", in.len);
		break;
	case HV_GNTTABOP_QUERY_SIZE: add_dom(l, "dom", in.dom); break;
	}
	if (trace_add_end(l, vm))
		return;
	if (o.status <= 0 && -o.status < (int)(sizeof(statuses) / sizeof(statuses[0])))
		trace_add(l, " -> GNTST_%s", statuses[-o.status]);
	else
		trace_add(l, " -> %d", o.status);
	if (o.status != HV_GNTST_OKAY)
		return;
	if (in.cmd == HV_GNTTABOP_MAP_GRANT_REF)
		trace_add(l, " addr=0x%llx handle=%u", (unsigned long long)o.addr, o.handle);
	else if (in.cmd == HV_GNTTABOP_QUERY_SIZE)
		trace_add(l, " entries=%u max=%u", o.nr_entries, o.max_entries);
}

static void describe_store(struct trace_line *l, struct hv_vm *vm, const struct trace_call *t,
			   const void *out)
{
	static const char *const cmds[] = {
		[HV_STORE_READ] = "READ",	   [HV_STORE_WRITE] = "WRITE",
		[HV_STORE_REMOVE] = "REMOVE",	   [HV_STORE_WATCH] = "WATCH",
		[HV_STORE_UNWATCH] = "UNWATCH",	   [HV_STORE_WATCH_NEXT] = "WATCH_NEXT",
		[HV_STORE_TX_START] = "TX_START", [HV_STORE_TX_END] = "TX_END",
	};
	struct hv_store_op in, o;

	memcpy(&in, t->in, sizeof(in));
	memcpy(&o, out, sizeof(o));
	if (in.cmd < sizeof(cmds) / sizeof(cmds[0]))
		trace_add(l, " %s key=", cmds[in.cmd]);
	else
		trace_add(l, " cmd=%u key=", in.cmd);
	add_guest_string(l, vm, in.key, HV_STORE_KEY_MAX);
	if (in.tx)
		trace_add(l, " tx=%u", in.tx);
	if (in.cmd == HV_STORE_READ)
		trace_add(l, " len=%u", in.len);
	if (in.cmd == HV_STORE_WRITE) {
		trace_add(l, " len=%u", in.len);
		add_guest_bytes(l, vm, in.buf, in.len, VALUE_MAX);
	}
	if (trace_add_end(l, vm))
		return;
	trace_add(l, " -> ");
	trace_add_errno(l, o.ret);
	/* A READ says the value's length, also when it did not fit (-E2BIG). */
	if (in.cmd == HV_STORE_READ && (o.ret == 0 || o.ret == -E2BIG))
		trace_add(l, " len=%u", o.len);
	if (in.cmd == HV_STORE_READ && o.ret == 0)
		add_guest_bytes(l, vm, in.buf, o.len, VALUE_MAX);
}

void trace_call_describe(struct trace_line *l, struct hv_vm *vm, const struct trace_call *t,
			 unsigned call, const void *out)
{
	switch (call) {
	case HV_CALL_CONSOLE_WRITE: describe_console_write(l, vm, t, out); break;
	case HV_CALL_EXIT: describe_exit(l, vm, t); break;
	case HV_CALL_WALLCLOCK: describe_wallclock(l, vm, out); break;
	case HV_CALL_BLOCK: describe_block(l, vm, t, out); break;
	case HV_CALL_EVTCHN_OP: describe_evtchn_op(l, vm, t, out); break;
	case HV_CALL_GNTTAB_OP: describe_gnttab_op(l, vm, t, out); break;
	case HV_CALL_STORE: describe_store(l, vm, t, out); break;
	default: trace_add_end(l, vm); break;
	}
}
