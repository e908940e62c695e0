/* SPDX-License-Identifier: MIT */
/*
 * hv --trace: where the lines go and how one is built, and the lines of a
 * domain's start and end, of each exit, of the devices and of the send ring
 * (trace_call.c words the hypercalls). trace.h has the line's fields.
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"
#include "virtio_dev.h"

#define LABEL_MAX 64 /* characters of a domain's label in a line */

bool trace_enabled;
static int trace_fd = -1;
static uint64_t trace_t0;       /* hv's clock when tracing began: the lines' zero */
static bool trace_write_failed; /* atomic: said once */

/* The vCPU thread's current exit was a hypercall that wrote a line of its own. */
static __thread bool call_traced;

int trace_open(const char *file)
{
	int fd = STDERR_FILENO;

	if (file) {
		/* O_APPEND: each write() lands whole at the end, whichever thread makes it. */
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	trace_fd = fd;
	trace_t0 = hv_now_ns();
	trace_enabled = true;
	return 0;
}

void trace_close(void)
{
	trace_enabled = false;
	if (trace_fd > STDERR_FILENO)
		close(trace_fd);
	trace_fd = -1;
}

/* --- building a line -------------------------------------------------------------------- */

void trace_add(struct trace_line *l, const char *fmt, ...)
{
	/* Two bytes are kept: the newline, and vsnprintf's NUL. */
	size_t room = sizeof(l->s) - 1 - l->n;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->s + l->n, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		l->n = sizeof(l->s) - 2;
		l->truncated = true;
	} else {
		l->n += (size_t)n;
	}
}

/* One character, without vsnprintf's cost: labels and strings go a character at a time. */
static void add_char(struct trace_line *l, char c)
{
	if (l->n < sizeof(l->s) - 2)
		l->s[l->n++] = c;
	else
		l->truncated = true;
}

void trace_add_bytes(struct trace_line *l, const uint8_t *p, size_t len, size_t max)
{
	add_char(l, '"');
	for (size_t i = 0; i < len && i < max; i++) {
		uint8_t c = p[i];

		if (c == '\n' || c == '\t' || c == '"' || c == '\\') {
			add_char(l, '\\');
			add_char(l, c == '\n' ? 'n' : c == '\t' ? 't' : (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			trace_add(l, "\\x%02x", c);
		} else {
			add_char(l, (char)c);
		}
	}
	trace_add(l, len > max ? "\"..." : "\"");
}

void trace_add_errno(struct trace_line *l, int64_t rc)
{
	const char *name = rc < 0 && rc > -4096 ? strerrorname_np((int)-rc) : NULL;

	if (name)
		trace_add(l, "-%s", name);
	else
		trace_add(l, "%lld", (long long)rc);
}

void trace_line_start(struct trace_line *l, const struct hv_vm *vm, const char *who, uint64_t ns)
{
	uint64_t t = ns > trace_t0 ? ns - trace_t0 : 0;
	const char *label = vm->label ? vm->label : "?";

	l->n = 0;
	l->truncated = false;
	trace_add(l, "%llu.%03lluus dom%u:", (unsigned long long)(t / 1000),
		  (unsigned long long)(t % 1000), vm->domid);
	/* The label is one field: a blank or a control character in a file name becomes '_'. */
	for (size_t i = 0; label[i] && i < LABEL_MAX; i++)
		add_char(l, label[i] > ' ' && label[i] < 0x7f ? label[i] : '_');
	add_char(l, ' ');
	for (size_t i = 0; who[i]; i++)
		add_char(l, who[i]);
	add_char(l, ' ');
}

bool trace_add_end(struct trace_line *l, const struct hv_vm *vm)
{
	char buf[48];

	if (!vm_ended(vm))
		return false;
	if (vm->exited)
		trace_add(l, " -> exited with %d", vm->status);
	else
		trace_add(l, " -> ended: %s (%d)", stats_end_reason(vm->status, buf, sizeof(buf)),
			  vm->status);
	return true;
}

void trace_line_write(struct trace_line *l)
{
	ssize_t n;

	if (l->truncated)
		memcpy(l->s + l->n - 3, "...", 3);
	l->s[l->n++] = '\n';
	/* One write: another thread's line never lands inside this one. */
	do
		n = write(trace_fd, l->s, l->n);
	while (n < 0 && errno == EINTR);
	if (n < 0 && !__atomic_exchange_n(&trace_write_failed, true, __ATOMIC_RELAXED))
		fprintf(stderr, "hv: --trace: %s; the lines that follow are lost\n",
			strerror(errno));
}

/* --- domains ---------------------------------------------------------------------------- */

void trace_domain_start(struct hv_vm *vm)
{
	struct trace_line l;
	char mem[32];

	format_size(vm->mem_size, mem, sizeof(mem));
	trace_line_start(&l, vm, "vcpu0", hv_now_ns());
	trace_add(&l, "start backend=%s mem=%s entry=0x%llx devices=", vm->be->name, mem,
		  (unsigned long long)vm->entry);
	for (unsigned i = 0; i < vm->nr_devices; i++)
		trace_add(&l, "%s%s", i ? "," : "", vm->devices[i]->name);
	if (vm->nr_devices == 0)
		trace_add(&l, "none");
	trace_line_write(&l);
}

void trace_domain_end(struct hv_vm *vm)
{
	const struct hv_stats *s = &vm->stats;
	struct trace_line l;
	uint64_t exits = 0;

	for (int k = 0; k < HV_EXITK_COUNT; k++)
		exits += s->exits[k];
	trace_line_start(&l, vm, "vcpu0", hv_now_ns());
	trace_add(&l, "end exits=%llu guest=%.3fms blocked=%.3fms", (unsigned long long)exits,
		  (double)s->ns_guest / 1e6, (double)s->ns_blocked / 1e6);
	trace_add_end(&l, vm);
	trace_line_write(&l);
}

/* --- exits ------------------------------------------------------------------------------ */

/* Port I/O that did not reach a hypercall's line: a bad port, a bad form, a bad call or block. */
static void describe_io(struct trace_line *l, const struct hv_vmexit *x)
{
	unsigned port = x->io.port, call = (port - HV_PORT(0)) / 4;
	bool one_out = x->io.is_write && x->io.size == 4 && x->io.count == 1;

	if (port < HV_PORT(0) || port >= HV_PORT(HV_CALL_SLOTS) || (port - HV_PORT(0)) % 4) {
		trace_add(l, "io %s port=0x%x size=%u count=%u", x->io.is_write ? "out" : "in",
			  port, x->io.size, x->io.count);
		if (x->io.is_write)
			trace_add(l, " value=0x%x", x->io.data);
		return;
	}
	if (call < HV_CALL_COUNT)
		trace_add(l, "hypercall %s", hypercall_names[call]);
	else
		trace_add(l, "hypercall #%u", call);
	if (one_out)
		trace_add(l, " block=0x%x", x->io.data);
	else
		trace_add(l, " %s size=%u count=%u", x->io.is_write ? "out" : "in", x->io.size,
			  x->io.count);
}

/* The virtio-mmio registers by offset / 4 [virtio 1.1, 4.2.2]; dec: a count, shown in decimal. */
static const struct {
	const char *name;
	bool dec;
} regs[VIRTIO_MMIO_CONFIG / 4] = {
	[VIRTIO_MMIO_MAGIC_VALUE / 4] = { "MAGIC_VALUE", false },
	[VIRTIO_MMIO_VERSION / 4] = { "VERSION", true },
	[VIRTIO_MMIO_DEVICE_ID / 4] = { "DEVICE_ID", true },
	[VIRTIO_MMIO_VENDOR_ID / 4] = { "VENDOR_ID", false },
	[VIRTIO_MMIO_DEVICE_FEATURES / 4] = { "DEVICE_FEATURES", false },
	[VIRTIO_MMIO_DEVICE_FEATURES_SEL / 4] = { "DEVICE_FEATURES_SEL", true },
	[VIRTIO_MMIO_DRIVER_FEATURES / 4] = { "DRIVER_FEATURES", false },
	[VIRTIO_MMIO_DRIVER_FEATURES_SEL / 4] = { "DRIVER_FEATURES_SEL", true },
	[VIRTIO_MMIO_QUEUE_SEL / 4] = { "QUEUE_SEL", true },
	[VIRTIO_MMIO_QUEUE_NUM_MAX / 4] = { "QUEUE_NUM_MAX", true },
	[VIRTIO_MMIO_QUEUE_NUM / 4] = { "QUEUE_NUM", true },
	[VIRTIO_MMIO_QUEUE_READY / 4] = { "QUEUE_READY", true },
	[VIRTIO_MMIO_QUEUE_NOTIFY / 4] = { "QUEUE_NOTIFY", true },
	[VIRTIO_MMIO_INTERRUPT_STATUS / 4] = { "INTERRUPT_STATUS", false },
	[VIRTIO_MMIO_INTERRUPT_ACK / 4] = { "INTERRUPT_ACK", false },
	[VIRTIO_MMIO_STATUS / 4] = { "STATUS", false },
	[VIRTIO_MMIO_QUEUE_DESC_LOW / 4] = { "QUEUE_DESC_LOW", false },
	[VIRTIO_MMIO_QUEUE_DESC_HIGH / 4] = { "QUEUE_DESC_HIGH", false },
	[VIRTIO_MMIO_QUEUE_DRIVER_LOW / 4] = { "QUEUE_DRIVER_LOW", false },
	[VIRTIO_MMIO_QUEUE_DRIVER_HIGH / 4] = { "QUEUE_DRIVER_HIGH", false },
	[VIRTIO_MMIO_QUEUE_DEVICE_LOW / 4] = { "QUEUE_DEVICE_LOW", false },
	[VIRTIO_MMIO_QUEUE_DEVICE_HIGH / 4] = { "QUEUE_DEVICE_HIGH", false },
	[VIRTIO_MMIO_CONFIG_GENERATION / 4] = { "CONFIG_GENERATION", true },
};

/* A device status and its bits: "0xb(ACKNOWLEDGE|DRIVER|FEATURES_OK)" [virtio 1.1, 2.1]. */
static void add_status(struct trace_line *l, uint32_t s)
{
	static const char *const bits[8] = { "ACKNOWLEDGE", "DRIVER", "DRIVER_OK", "FEATURES_OK",
					     NULL, NULL, "DEVICE_NEEDS_RESET", "FAILED" };
	bool first = true;

	trace_add(l, "0x%x(", s);
	for (unsigned b = 0; b < 8; b++) {
		if (!(s & (1u << b)))
			continue;
		trace_add(l, "%s%s", first ? "" : "|", bits[b] ? bits[b] : "?");
		first = false;
	}
	trace_add(l, "%s)", first ? "reset" : "");
}

/* A register access in a device's window: "mmio virtio-blk0 write QUEUE_NOTIFY=0". */
static void describe_register(struct trace_line *l, const struct virtio_dev *d, uint64_t off,
			      const struct hv_vmexit *x, uint64_t v)
{
	bool named = off < VIRTIO_MMIO_CONFIG && off % 4 == 0 && x->mmio.len == 4 &&
		     regs[off / 4].name;
	const char *fmt = named && regs[off / 4].dec ? "%llu" : "0x%llx";

	trace_add(l, "mmio %s %s ", d->name, x->mmio.is_write ? "write" : "read");
	if (off >= VIRTIO_MMIO_CONFIG)
		trace_add(l, "config+0x%llx len=%u", (unsigned long long)(off - VIRTIO_MMIO_CONFIG),
			  x->mmio.len);
	else if (named)
		trace_add(l, "%s", regs[off / 4].name);
	else
		trace_add(l, "0x%03llx len=%u", (unsigned long long)off, x->mmio.len);
	if (named && off == VIRTIO_MMIO_STATUS) {
		if (x->mmio.is_write) {
			trace_add(l, "=");
			add_status(l, (uint32_t)v);
		}
		/* What the device took: FEATURES_OK stays clear when it refused the features. */
		trace_add(l, " -> ");
		add_status(l, __atomic_load_n(&d->status, __ATOMIC_SEQ_CST));
		return;
	}
	if (x->mmio.is_write) {
		trace_add(l, "=");
		trace_add(l, fmt, (unsigned long long)v);
	} else {
		trace_add(l, " -> ");
		trace_add(l, fmt, (unsigned long long)v);
	}
}

static void describe_mmio(struct trace_line *l, const struct hv_vm *vm, const struct hv_vmexit *x)
{
	uint64_t addr = x->mmio.addr, off = addr - HV_DEVICE_BASE, v = 0;
	const char *rw = x->mmio.is_write ? "write" : "read";

	/* The bytes written, or hv's answer to a read: a little-endian value. */
	for (unsigned i = x->mmio.len < 8 ? x->mmio.len : 8; i > 0; i--)
		v = v << 8 | x->mmio.data[i - 1];
	if (addr >= HV_DEVICE_BASE && off / HV_DEVICE_WINDOW < vm->nr_devices) {
		describe_register(l, vm->devices[off / HV_DEVICE_WINDOW], off % HV_DEVICE_WINDOW, x,
				  v);
		return;
	}
	if (addr >= HV_SEND_DOORBELL && addr < HV_SEND_DOORBELL + HV_PAGE_SIZE)
		trace_add(l, "mmio send-doorbell %s len=%u", rw, x->mmio.len);
	else if (addr >= HV_GRANT_WINDOW && addr - HV_GRANT_WINDOW < HV_GRANT_WINDOW_SIZE)
		trace_add(l, "mmio grant-window %s 0x%llx len=%u", rw, (unsigned long long)addr,
			  x->mmio.len);
	else
		trace_add(l, "mmio unmapped %s 0x%llx len=%u", rw, (unsigned long long)addr,
			  x->mmio.len);
	if (x->mmio.is_write)
		trace_add(l, " value=0x%llx", (unsigned long long)v);
}

static void describe_fault(struct trace_line *l, const struct hv_fault *f)
{
	static const char *const mnemonics[32] = {
		"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", NULL, "TS", "NP", "SS",
		"GP", "PF", NULL, "MF", "AC", "MC", "XM", "VE", "CP",
	};
	const char *m = f->vector < 32 ? mnemonics[f->vector] : NULL;

	trace_add(l, "fault %s%s vector=%llu error=0x%llx rip=0x%llx", m ? "#" : "", m ? m : "?",
		  (unsigned long long)f->vector, (unsigned long long)f->error,
		  (unsigned long long)f->rip);
	if (f->vector == 14)
		trace_add(l, " cr2=0x%llx", (unsigned long long)f->cr2);
	if (f->ring0)
		trace_add(l, " ring0");
}

void trace_exit(struct hv_vm *vm, const struct hv_vmexit *x, uint64_t ns)
{
	bool traced = call_traced;
	struct trace_line l;
	const char *name;

	call_traced = false;
	if (traced && x->reason == HV_X_IO)
		return;
	trace_line_start(&l, vm, "vcpu0", ns);
	switch (x->reason) {
	case HV_X_IO: describe_io(&l, x); break;
	case HV_X_MMIO: describe_mmio(&l, vm, x); break;
	case HV_X_FAULT: describe_fault(&l, &x->fault); break;
	case HV_X_SYSCALL:
		name = x->fault.compat ? "32-bit" : hv_syscall_name(x->fault.nr);
		trace_add(&l, "syscall nr=%llu", (unsigned long long)x->fault.nr);
		if (name)
			trace_add(&l, "(%s)", name);
		trace_add(&l, " rip=0x%llx", (unsigned long long)x->fault.rip);
		break;
	case HV_X_SHUTDOWN:
		trace_add(&l, "shutdown rip=0x%llx cr2=0x%llx", (unsigned long long)x->fault.rip,
			  (unsigned long long)x->fault.cr2);
		break;
	case HV_X_INTR: trace_add(&l, "intr"); break;
	case HV_X_ENDED: trace_add(&l, "backend"); break;
	}
	trace_add_end(&l, vm);
	trace_line_write(&l);
}

void trace_call_begin(struct hv_vm *vm, struct trace_call *t, const void *arg, size_t size)
{
	t->ns = hv_now_ns();
	t->guest_ns = vm_guest_now(vm);
	memcpy(t->in, arg, size < sizeof(t->in) ? size : sizeof(t->in));
}

void trace_call_end(struct hv_vm *vm, const struct trace_call *t, unsigned call, const void *out)
{
	struct trace_line l;

	trace_line_start(&l, vm, "vcpu0", t->ns);
	trace_add(&l, "hypercall %s", hypercall_names[call]);
	trace_call_describe(&l, vm, t, call, out);
	trace_line_write(&l);
	call_traced = true;
}

/* --- devices and the send ring ---------------------------------------------------------- */

void trace_doorbell(const struct virtio_dev *d, unsigned q, uint64_t kicks)
{
	struct trace_line l;

	trace_line_start(&l, d->vm, d->name, hv_now_ns());
	trace_add(&l, "doorbell q%u kicks=%llu", q, (unsigned long long)kicks);
	trace_line_write(&l);
}

void trace_event(const struct virtio_dev *d, unsigned q, enum evtchn_result r)
{
	static const char *const results[] = {
		[EVTCHN_WAS_PENDING] = "already pending",
		[EVTCHN_SET] = "pending",
		[EVTCHN_SET_WOKE] = "pending, woke vcpu0",
	};
	struct trace_line l;

	trace_line_start(&l, d->vm, d->name, hv_now_ns());
	trace_add(&l, "event q%u port=%u -> %s", q, d->port + q, results[r]);
	trace_line_write(&l);
}

void trace_blk_request(const struct virtio_dev *d, unsigned q, const struct virtq_chain *c,
		       const struct virtio_blk_req_hdr *h, uint8_t status, uint64_t ns)
{
	static const char *const statuses[] = { "OK", "IOERR", "UNSUPP" };
	struct trace_line l;

	trace_line_start(&l, d->vm, d->name, ns);
	trace_add(&l, "request q%u head=%u ", q, c->head);
	if (c->out_len < sizeof(*h))
		trace_add(&l, "no-header");
	else if (h->type == VIRTIO_BLK_T_IN || h->type == VIRTIO_BLK_T_OUT)
		trace_add(&l, "%s sector=%llu len=%llu", h->type == VIRTIO_BLK_T_IN ? "IN" : "OUT",
			  (unsigned long long)h->sector,
			  (unsigned long long)(h->type == VIRTIO_BLK_T_IN ? c->in_len - 1
								  : c->out_len - sizeof(*h)));
	else if (h->type == VIRTIO_BLK_T_FLUSH)
		trace_add(&l, "FLUSH");
	else if (h->type == VIRTIO_BLK_T_GET_ID)
		trace_add(&l, "GET_ID len=%llu", (unsigned long long)(c->in_len - 1));
	else
		trace_add(&l, "type=%u", h->type);
	trace_add(&l, " -> %s after %.3fms", status < 3 ? statuses[status] : "?",
		  (double)(hv_now_ns() - ns) / 1e6);
	trace_line_write(&l);
}

void trace_ring_doorbell(struct hv_vm *vm, uint64_t rings)
{
	struct trace_line l;

	trace_line_start(&l, vm, "ring", hv_now_ns());
	trace_add(&l, "doorbell rings=%llu", (unsigned long long)rings);
	trace_line_write(&l);
}

void trace_ring_send(struct hv_vm *vm, uint32_t port, int rc, bool woke)
{
	/* The ring's thread takes entries, and so does the vCPU thread, before it blocks. */
	bool on_vcpu = vm->thread_running && pthread_equal(pthread_self(), vm->thread);
	struct trace_line l;

	trace_line_start(&l, vm, on_vcpu ? "vcpu0" : "ring", hv_now_ns());
	trace_add(&l, "send port=%u -> ", port);
	trace_add_errno(&l, rc);
	trace_add(&l, "%s", rc ? ", dropped" : woke ? ", woke the peer" : "");
	trace_line_write(&l);
}
