/* SPDX-License-Identifier: MIT */
/*
 * A GDB remote stub for a domain (--gdb=PORT): gdb's remote serial protocol
 * on 127.0.0.1:PORT, one connection, taken before the guest's first
 * instruction. The domain's vCPU thread serves gdb whenever the guest is
 * stopped: at its start, at a breakpoint (int3 that gdb placed), after a
 * single step (the trap flag), at a fault, and at a Ctrl-C from gdb (a
 * watcher thread kicks the vCPU). Other domains run on meanwhile.
 */
#ifndef HV_GDB_H
#define HV_GDB_H

#include <stdbool.h>
#include <stdint.h>

struct hv_vm;
struct hv_fault;

/*
 * Setup, before the sandbox: listen on 127.0.0.1:port (0: a free port,
 * which hv prints), say so on stderr, wait for gdb to connect, start the
 * watcher. 0, or an hv_exit_code after a message.
 */
int gdb_attach(struct hv_vm *vm, uint16_t port);

/* The vCPU thread, between two runs: whether gdb wants the guest stopped (at the start, Ctrl-C). */
bool gdb_wants_stop(const struct hv_vm *vm);

/* The vCPU thread: stop for gdb and serve it until it resumes the guest (or ends the domain). */
void gdb_stop(struct hv_vm *vm);

/*
 * The vCPU thread, at a fault: true when gdb took it as a stop (a breakpoint,
 * a step, the guest's own int3) and the guest goes on; false when hv must
 * end the domain as it does without gdb (after gdb has seen the fault).
 */
bool gdb_fault(struct hv_vm *vm, const struct hv_fault *f);

/* The domain ended: tell gdb how (exit status or signal), close, stop the watcher. */
void gdb_end(struct hv_vm *vm);

#endif /* HV_GDB_H */
