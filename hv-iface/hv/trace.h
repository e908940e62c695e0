/* SPDX-License-Identifier: MIT */
/*
 * hv --trace: one line for each exit of a guest, each hypercall and each
 * thing a device or the send ring does for it, with the time, the domain,
 * who did it, what it was (its arguments decoded) and what came of it.
 *
 *   31.472us dom1:hello.img vcpu0 hypercall console_write buf=0x1ffd90 len=32 "Hello" -> 32
 *
 * Fields, blank-separated: microseconds since hv started; dom<id>:<label>;
 * who: vcpu0 (the domain's vCPU thread: one vCPU per domain), a device
 * (virtio-blk0: its I/O thread) or ring (the send ring's thread); the kind
 * (hypercall, io, mmio, fault, syscall, shutdown, intr, backend, start, end;
 * doorbell, event, request; send); its details; and " -> " with the result
 * where there is one. A line is written when the event is over (a block, once
 * it returned), with the time it began, in one write(): lines of several
 * threads never mix. Off, each place that traces costs one test of
 * trace_enabled, a global that never changes once the guests run.
 */
#ifndef HV_TRACE_H
#define HV_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "hv.h"

#define TRACE_LINE_MAX 1024 /* bytes of a line, its newline included; longer ones end in "..." */
#define TRACE_ARG_MAX 128   /* bytes of a hypercall's argument block the trace keeps */

struct virtio_dev;
struct virtq_chain;
struct virtio_blk_req_hdr;

/* Set by trace_open() before any thread starts; never changed while guests run. */
extern bool trace_enabled;

static inline bool trace_on(void)
{
	return __builtin_expect(trace_enabled, 0);
}

/*
 * main.c, before any other thread: trace to file (created, or emptied if it
 * exists) or, file NULL, to stderr; the clock of the lines starts now.
 * Returns 0 or -errno. The descriptor stays open: the sandbox allows
 * writes to it, not opening anything anew.
 */
int trace_open(const char *file);
void trace_close(void);

/* host.c, the vCPU thread: the domain is about to run for the first time, and it has ended. */
void trace_domain_start(struct hv_vm *vm);
void trace_domain_end(struct hv_vm *vm);

/*
 * run.c: an exit that happened at ns, once served. An exit whose hypercall
 * wrote a line of its own adds none.
 */
void trace_exit(struct hv_vm *vm, const struct hv_vmexit *x, uint64_t ns);

/*
 * hypercall.c: begin keeps the argument block as the guest gave it (a call
 * may overwrite its inputs with results) and the time; end, after the call
 * was served, writes its line from both blocks.
 */
struct trace_call {
	uint64_t ns;       /* hv's clock when the call was made */
	uint64_t guest_ns; /* the guest's clock then (a block's deadline is relative to it) */
	uint64_t in[TRACE_ARG_MAX / 8];
};
void trace_call_begin(struct hv_vm *vm, struct trace_call *t, const void *arg, size_t size);
void trace_call_end(struct hv_vm *vm, const struct trace_call *t, unsigned call, const void *out);

/*
 * Device threads: kicks taken from a queue's doorbell; a queue's port
 * signalled; a disk request served, begun at ns (h is read only if the
 * chain holds a whole header).
 */
void trace_doorbell(const struct virtio_dev *d, unsigned q, uint64_t kicks);
void trace_event(const struct virtio_dev *d, unsigned q, enum evtchn_result r);
void trace_blk_request(const struct virtio_dev *d, unsigned q, const struct virtq_chain *c,
		       const struct virtio_blk_req_hdr *h, uint8_t status, uint64_t ns);

/* send_ring.c: doorbells the ring's thread took; one port taken from the ring (rc: delivery's). */
void trace_ring_doorbell(struct hv_vm *vm, uint64_t rings);
void trace_ring_send(struct hv_vm *vm, uint32_t port, int rc, bool woke);

/*
 * The line builder trace.c and trace_call.c share: start writes the time,
 * the domain and who; add appends; end_result appends " -> " and how the
 * domain ended, if it has (returns whether); write sends the line.
 */
struct trace_line {
	char s[TRACE_LINE_MAX];
	size_t n;
	bool truncated;
};
void trace_line_start(struct trace_line *l, const struct hv_vm *vm, const char *who, uint64_t ns);
void trace_add(struct trace_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes as a quoted C string, at most max of them (then "..."), escaped where not printable. */
void trace_add_bytes(struct trace_line *l, const uint8_t *p, size_t len, size_t max);
/* A result that is 0, a count or -errno: "12", "-EINVAL". */
void trace_add_errno(struct trace_line *l, int64_t rc);
bool trace_add_end(struct trace_line *l, const struct hv_vm *vm);
void trace_line_write(struct trace_line *l);

/* trace_call.c: the hypercall's own words ("console_write buf=0x... len=12 -> 12"). */
void trace_call_describe(struct trace_line *l, struct hv_vm *vm, const struct trace_call *t,
			 unsigned call, const void *out);

#endif /* HV_TRACE_H */
