/* SPDX-License-Identifier: MIT */
/*
 * One proc-backend guest process: a child of hv that execs the tiny stub
 * (proc_stub/stub.S), is traced by the thread that spawned it, and runs guest
 * code under a seccomp filter that refuses every system call hv did not
 * inject. Every trap the guest takes (port I/O, faults, system calls) comes
 * back to hv as a ptrace signal-delivery-stop; the signal is never delivered.
 *
 * Threads: proc_child_spawn makes the calling thread the tracer. Only that
 * thread may call the other functions, except proc_child_kick (any thread)
 * and proc_child_destroy (any thread, once the tracer thread is done with the
 * child). hv must leave SIGCHLD's disposition alone (no SIG_IGN, no
 * SA_NOCLDWAIT), or the kernel reaps the child before hv can wait for it.
 * The child gets SIGKILL when the spawning thread exits (PR_SET_PDEATHSIG)
 * and when hv exits (PTRACE_O_EXITKILL).
 *
 * backend_proc_child.c runs the process; backend_proc_seccomp.c holds the
 * filter and, beside it, the injected calls it is shaped for.
 */
#ifndef HV_BACKEND_PROC_CHILD_H
#define HV_BACKEND_PROC_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* The stub's layout, fixed by proc_stub/stub.ld and the .org lines of stub.S. */
#define PROC_STUB_BASE	       0x100000000000ULL /* _start: int3; jmp _start */
#define PROC_STUB_SYSCALL      0x100000000010ULL /* syscall; int3 */
#define PROC_STUB_BATCH	       0x100000000020ULL /* a list of calls, then int3 */
#define PROC_STUB_SCRATCH      0x100000001000ULL /* one read-write page for hv */
#define PROC_STUB_SCRATCH_SIZE 4096

/* The signal proc_child_kick sends: ignored by default, so a stray one is harmless. */
#define PROC_KICK_SIGNAL SIGURG

/*
 * The Linux system calls a guest may make besides grant maps (hv_abi.h's
 * HV_BOOT_LINUX_CALLS): FUTEX_WAIT with a timeout on one word, and 8-byte
 * writes to fds [fd_base, fd_base + nr_fds), which are fds[] (-1: none).
 */
struct proc_linux_calls {
	uint64_t futex; /* the word's address in the guest; 0: no futex */
	int fd_base;
	unsigned nr_fds;
	const int *fds;
};

struct proc_child {
	pid_t pid;	   /* -1 when none (never spawned, or reaped) */
	int pidfd;	   /* the child, for kicks that cannot hit a recycled pid; -1 when none */
	int sock;	   /* hv's end of a SOCK_DGRAM socketpair; the child's end is its fd 1 */
	int status;	   /* waitpid's status once the child is reaped */
	bool running;	   /* resumed and not yet seen stopped */
	bool kick_pending; /* a kick arrived during an injected call: reported at next resume */
	bool regs_dirty;   /* regs changed since the stop: written back before the next resume */
	struct user_regs_struct regs; /* as of the last stop; change with proc_child_set_regs */
	struct proc_linux_calls linux_calls; /* spawn's (fds not kept), for the filter */
};

enum proc_stop_kind {
	PROC_STOP_SIGNAL, /* stopped at a signal: si says which; it is never delivered */
	PROC_STOP_EXITED, /* the child is gone and reaped: status says how */
	PROC_STOP_INTR,	  /* hv's thread got a signal: the child still runs; call proc_child_wait */
};

struct proc_stop {
	enum proc_stop_kind kind;
	siginfo_t si; /* SIGNAL: PTRACE_GETSIGINFO's siginfo */
	int status;   /* EXITED: waitpid's status */
};

/* Sets every field to "no child", so proc_child_destroy is safe before spawn. */
void proc_child_init(struct proc_child *c);

/*
 * Forks a child that execs the stub with the guest's memory memfd at its fd 0
 * and the child end of c->sock at its fd 1, lc's fds (lc may be NULL) at
 * theirs, nothing else open, RLIMIT_NOFILE 2 (which only bounds new fds),
 * every signal unblocked and at its default action. The calling thread
 * becomes its tracer. Returns 0 with the child stopped right after exec (its
 * registers in c->regs), or a negative errno with no child left behind.
 */
int proc_child_spawn(struct proc_child *c, int memfd, const struct proc_linux_calls *lc);

/*
 * Child stopped: runs one system call in it through the stub's gadget and
 * puts its registers back as they were (written at the next resume). Returns
 * the call's result (a negative errno when it failed), -EPERM when the
 * seccomp filter refused it, -ECHILD when the child died meanwhile, -EBUSY
 * when the child is running.
 */
long proc_child_syscall(struct proc_child *c, long nr, long a0, long a1, long a2, long a3, long a4,
			long a5);

/* One call of a batch: its number, arguments, and (out) its result. */
struct proc_call {
	long nr, a[6];
	long result; /* the call's return value, -errno; 0 for those not run */
};

#define PROC_BATCH_MAX 44 /* calls in one batch: every range of an image of 16 segments, and 3 */

/*
 * Child stopped: runs the calls in order for one stop (the stub's batch
 * gadget), up to the first that fails. Their arguments may point into the
 * scratch page below PROC_BATCH_SCRATCH_END. Returns 0 when all succeeded,
 * else the first failure's result (-EPERM when the filter refused it),
 * -ECHILD when the child died, -E2BIG for more than PROC_BATCH_MAX.
 */
int proc_child_batch(struct proc_child *c, struct proc_call *calls, unsigned n);
#define PROC_BATCH_SCRATCH_END 1152 /* the batch table lives above, in the scratch page */

/* Child stopped: writes len bytes at addr in the child's memory. 0 or -errno. */
int proc_child_poke(struct proc_child *c, uint64_t addr, const void *buf, size_t len);
/* Child stopped: reads len bytes at addr in the child's memory. 0 or -errno. */
int proc_child_peek(struct proc_child *c, uint64_t addr, void *buf, size_t len);

/*
 * Child stopped, before proc_child_confine: maps [off, off + len) of the
 * guest's memfd (its fd 0) at addr with prot (PROT_* bits), shared. Refuses
 * to replace an existing mapping (-EEXIST). 0 or -errno.
 */
int proc_child_map_own(struct proc_child *c, uint64_t addr, uint64_t len, int prot, uint64_t off);

/*
 * Child stopped, after proc_child_confine: maps the page at offset off of
 * another domain's memfd fd at addr, prot PROT_READ or PROT_READ |
 * PROT_WRITE, replacing what was there. The fd crosses over c->sock and is
 * closed in the child before this returns, whatever failed. 0, -EPERM when
 * the filter refuses the map (addr outside the window, another prot), or
 * another -errno; after an error other than -EPERM the caller ends the guest.
 */
int proc_child_map_foreign(struct proc_child *c, int fd, uint64_t addr, int prot, uint64_t off);

/* Child stopped, after proc_child_confine: unmaps the page at addr; -EPERM outside the window. */
int proc_child_unmap(struct proc_child *c, uint64_t addr);

/*
 * Child stopped, after every proc_child_map_own: closes the guest memfd (fd
 * 0), sets no_new_privs and installs the filter of proc_seccomp_build. From
 * then on the only calls that work are grant maps and unmaps of one page in
 * [window_lo, window_hi), which must be page aligned and below 4 GiB, and
 * the calls of spawn's proc_linux_calls. 0 or -errno.
 */
int proc_child_confine(struct proc_child *c, uint64_t window_lo, uint64_t window_hi);

/* One range of the guest's memfd for proc_child_start: map_own's arguments. */
struct proc_map {
	uint64_t addr, len, off;
	int prot;
	bool populate; /* fault its pages in now (MAP_POPULATE): hv wrote them, the guest reads them
			*/
};

/*
 * Child stopped, right after spawn: maps every range as proc_child_map_own
 * would, then confines it as proc_child_confine does, all for one stop.
 * At most PROC_BATCH_MAX - 3 ranges. 0 or -errno.
 */
int proc_child_start(struct proc_child *c, const struct proc_map *maps, unsigned n,
		     uint64_t window_lo, uint64_t window_hi);

/* Child stopped: replaces its registers; written back at the next resume. */
void proc_child_set_regs(struct proc_child *c, const struct user_regs_struct *regs);

/*
 * Child stopped: writes back changed registers (never as a system call for
 * the kernel to restart), resumes the child without the signal it stopped at
 * and waits for its next stop, with *stop filled as proc_child_wait says.
 * -EBUSY when it is already running.
 */
int proc_child_resume(struct proc_child *c, struct proc_stop *stop);

/*
 * Child running: waits for it to stop. Fills *stop: SIGNAL with c->regs read
 * (SIGSEGV with si_code SI_KERNEL for port I/O and privileged instructions,
 * SEGV_MAPERR / SEGV_ACCERR with si_addr for page faults, SIGSYS from the
 * filter with si_syscall, si_arch and si_call_addr, SIGTRAP, SIGFPE, SIGILL,
 * SIGBUS, PROC_KICK_SIGNAL for a kick, and whatever another process sent,
 * which has si_code <= 0); EXITED; or INTR when hv's thread took a signal
 * (EINTR), the child still running. Group-stops and ptrace events are
 * resumed here and never returned. Returns 0, -EINVAL when the child is
 * stopped (nothing would end the wait), or -errno when wait or ptrace fails.
 */
int proc_child_wait(struct proc_child *c, struct proc_stop *stop);

/*
 * Any thread: makes the child stop soon with PROC_KICK_SIGNAL. A kick sent
 * while the child is stopped shows at the next resume. Must not race with
 * proc_child_destroy.
 */
void proc_child_kick(struct proc_child *c);

/*
 * Any thread: the child gets SIGKILL now and stops running guest code; its
 * exit (the kernel tearing down its memory) goes on while hv does other
 * work, and proc_child_destroy reaps it. Safe on a child already gone.
 */
void proc_child_kill(struct proc_child *c);

/* Kills and reaps the child, closes its socket. Safe to call twice, and after init alone. */
void proc_child_destroy(struct proc_child *c);

/*
 * Writes the filter proc_child_confine installs into out (room for max
 * instructions, each 8 bytes: struct sock_filter). Returns the instruction
 * count, -EINVAL for a window that is not as proc_child_confine says, or
 * -E2BIG when max is too small. lc (NULL: none) adds its calls.
 */
struct sock_filter;
int proc_seccomp_build(struct sock_filter *out, int max, uint64_t window_lo, uint64_t window_hi,
		       const struct proc_linux_calls *lc);

#endif
