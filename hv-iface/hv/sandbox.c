/* SPDX-License-Identifier: MIT */
/*
 * hv's own confinement, in two steps before any guest instruction runs:
 *
 *   - once every domain is set up, as root, hv becomes an unprivileged user
 *     (HV_SANDBOX_UID, nobody) with no supplementary groups; what it opened
 *     as root stays open (/dev/kvm, disks, taps);
 *   - once each guest is started (its proc child spawned, as that user), a
 *     seccomp filter on every thread (TSYNC) allows only the system calls
 *     hv makes while guests run, some with their arguments checked: no
 *     executable mappings, threads only (no new processes), ioctls only
 *     those a running domain needs, signals only to hv's own threads or a
 *     child, fstat only of an open descriptor. No open, exec, socket or
 *     anything else that reaches a file or the network anew.
 *
 * A refused call raises SIGSYS, whose handler names the call and ends hv
 * with HV_EXIT_OSERR. `--no-sandbox` skips both steps (for debugging). The
 * calls each backend needs are listed in sandbox_calls() below.
 */
#define _GNU_SOURCE /* setresuid, CLONE_*, AT_EMPTY_PATH */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "hv.h"
#include "sandbox.h"

#define MAX_INSNS 256
#define X32_SYSCALL_BIT 0x40000000u

struct prog {
	struct sock_filter insn[MAX_INSNS];
	unsigned n;
	int overflow;
};

static void emit(struct prog *p, struct sock_filter f)
{
	if (p->n == MAX_INSNS)
		p->overflow = 1;
	else
		p->insn[p->n++] = f;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, t, f) ((struct sock_filter)BPF_JUMP((code), (k), (t), (f)))
#define LOAD(off) STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) STMT(BPF_RET | BPF_K, (v))
#define JEQ(k, t, f) JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JSET(k, t, f) JUMP(BPF_JMP | BPF_JSET | BPF_K, (k), (t), (f))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)

static void allow(struct prog *p, unsigned nr)
{
	emit(p, JEQ(nr, 0, 1));
	emit(p, RET(SECCOMP_RET_ALLOW));
}

/* nr, allowed only if none of mask's bits are set in argument arg. */
static void allow_without(struct prog *p, unsigned nr, unsigned arg, uint32_t mask)
{
	emit(p, JEQ(nr, 0, 4));
	emit(p, LOAD(ARG_LO(arg)));
	emit(p, JSET(mask, 0, 1));
	emit(p, RET(SECCOMP_RET_TRAP));
	emit(p, RET(SECCOMP_RET_ALLOW));
}

/* nr, allowed only if all of mask's bits are set in argument arg. */
static void allow_with(struct prog *p, unsigned nr, unsigned arg, uint32_t mask)
{
	emit(p, JEQ(nr, 0, 5));
	emit(p, LOAD(ARG_LO(arg)));
	emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, mask));
	emit(p, JEQ(mask, 1, 0));
	emit(p, RET(SECCOMP_RET_TRAP));
	emit(p, RET(SECCOMP_RET_ALLOW));
}

/* nr, allowed only if argument arg (all 64 bits) is one of values. */
static void allow_values(struct prog *p, unsigned nr, unsigned arg, const uint32_t *values,
			 unsigned n)
{
	emit(p, JEQ(nr, 0, (uint8_t)(n + 5)));
	emit(p, LOAD(ARG_HI(arg)));
	emit(p, JEQ(0, 0, (uint8_t)(n + 1)));
	emit(p, LOAD(ARG_LO(arg)));
	for (unsigned i = 0; i < n; i++)
		emit(p, JEQ(values[i], (uint8_t)(n - i), 0));
	emit(p, RET(SECCOMP_RET_TRAP));
	emit(p, RET(SECCOMP_RET_ALLOW));
}

/* The calls hv makes once its guests run, whichever the backend. */
static const unsigned common_calls[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_preadv,
	SYS_pwritev, SYS_lseek, SYS_close, SYS_fsync, SYS_fdatasync, SYS_poll, SYS_ppoll,
	SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_ctl, SYS_eventfd2, SYS_futex,
	SYS_set_robust_list, SYS_rseq, SYS_sched_yield, SYS_clock_gettime, SYS_clock_nanosleep,
	SYS_nanosleep, SYS_gettid, SYS_getpid, SYS_madvise, SYS_munmap, SYS_mremap, SYS_brk,
	SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_sigaltstack, SYS_exit, SYS_exit_group,
	SYS_fcntl,
	SYS_restart_syscall,   /* a timed futex or poll that a kick signal interrupted goes on */
	SYS_sysinfo,           /* glibc's qsort (the fault report's symbols) asks for memory size */
	SYS_sched_getaffinity, /* ASan's runtime, as a thread starts (SANITIZE=1) */
	SYS_io_uring_enter,    /* a disk's ring, fenced at setup to its one file (uring.h) */
};

/*
 * The proc backend's: tracing its children, their pidfds, grant maps passed over a socket,
 * and copies to and from a child's grant window.
 */
static const unsigned proc_calls[] = {
	SYS_ptrace, SYS_wait4, SYS_waitid, SYS_pidfd_send_signal, SYS_sendmsg, SYS_recvmsg,
	SYS_process_vm_readv, SYS_process_vm_writev,
};

/* The kvm backend's ioctls on a running domain: run, grants and doorbells, fault reports. */
static const uint32_t run_ioctls[] = {
	TUNSETOFFLOAD, /* first: proc allows it alone */
	KVM_RUN, KVM_SET_USER_MEMORY_REGION, KVM_IOEVENTFD, KVM_GET_REGS, KVM_GET_SREGS,
	KVM_SET_REGS,
};

static void build(struct prog *p, const struct hv_backend *be)
{
	emit(p, LOAD(offsetof(struct seccomp_data, arch)));
	emit(p, JEQ(AUDIT_ARCH_X86_64, 1, 0));
	emit(p, RET(SECCOMP_RET_KILL_PROCESS));
	emit(p, LOAD(offsetof(struct seccomp_data, nr)));
	emit(p, JSET(X32_SYSCALL_BIT, 0, 1));
	emit(p, RET(SECCOMP_RET_TRAP));
	for (size_t i = 0; i < sizeof(common_calls) / sizeof(common_calls[0]); i++)
		allow(p, common_calls[i]);
	/* W^X for hv itself: no new executable memory. */
	allow_without(p, SYS_mmap, 2, PROT_EXEC);
	allow_without(p, SYS_mprotect, 2, PROT_EXEC);
	/* Threads (the send ring's starts with its first doorbell), never a process. */
	allow_with(p, SYS_clone, 0, CLONE_THREAD | CLONE_VM);
	emit(p, JEQ(SYS_clone3, 0, 1)); /* its flags are in memory: glibc falls back to clone */
	emit(p, RET(SECCOMP_RET_ERRNO | ENOSYS));
	/* Signals: the kick, to hv's own threads only. */
	{
		uint32_t self = (uint32_t)getpid();

		allow_values(p, SYS_tgkill, 0, &self, 1);
	}
	/* A disk's lock given up as its domain ends (virtio_blk.c); never taken. */
	{
		uint32_t unlock = LOCK_UN;

		allow_values(p, SYS_flock, 1, &unlock, 1);
	}
	/* fstat of an open descriptor (stdio's first write), never a path. */
	{
		uint32_t empty = AT_EMPTY_PATH;

		allow_values(p, SYS_newfstatat, 3, &empty, 1);
	}
	if (be == &hv_backend_proc) {
		for (size_t i = 0; i < sizeof(proc_calls) / sizeof(proc_calls[0]); i++)
			allow(p, proc_calls[i]);
		/* kill: a child by pid only, never 0 (the group) or negative (-1: everyone). */
		emit(p, JEQ(SYS_kill, 0, 5));
		emit(p, LOAD(ARG_LO(0)));
		emit(p, JEQ(0, 2, 0));
		emit(p, JSET(0x80000000u, 1, 0));
		emit(p, RET(SECCOMP_RET_ALLOW));
		emit(p, RET(SECCOMP_RET_TRAP));
	}
	/* ioctl: a tap told which offloads the guest took (virtio_net.c); on kvm, the vCPU's. */
	if (be == &hv_backend_kvm)
		allow_values(p, SYS_ioctl, 1, run_ioctls,
			     sizeof(run_ioctls) / sizeof(run_ioctls[0]));
	else
		allow_values(p, SYS_ioctl, 1, run_ioctls, 1); /* TUNSETOFFLOAD only */
	emit(p, RET(SECCOMP_RET_TRAP));
}

/* The refusal: name the call and end hv. Only write and exit_group, both allowed. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char msg[160];
	const char *name = hv_syscall_name((uint64_t)si->si_syscall);
	int n;

	(void)sig, (void)ctx;
	n = snprintf(msg, sizeof(msg),
		     "hv: sandbox: system call %d%s%s%s refused; hv stops (--no-sandbox runs "
		     "without the sandbox)\n",
		     si->si_syscall, name ? " (" : "", name ? name : "", name ? ")" : "");
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg));
	syscall(SYS_exit_group, HV_EXIT_OSERR);
}

/*
 * Root's privileges go: supplementary groups, then group, then user. Before
 * the guests start, so that a proc child is the same unprivileged user as
 * the hv that traces it and copies to and from it.
 */
int sandbox_drop_root(char *err, size_t len)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) || setresgid(HV_SANDBOX_UID, HV_SANDBOX_UID, HV_SANDBOX_UID) ||
	    setresuid(HV_SANDBOX_UID, HV_SANDBOX_UID, HV_SANDBOX_UID)) {
		snprintf(err, len, "dropping root to user %d: %s", HV_SANDBOX_UID, strerror(errno));
		return -1;
	}
	/* setuid cleared it: hv's own fault reports and /proc/self stay its user's. */
	prctl(PR_SET_DUMPABLE, 1);
	return 0;
}

int sandbox_filter(const struct hv_backend *be, char *err, size_t len)
{
	static struct prog p;
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	struct sock_fprog fprog;

	memset(&p, 0, sizeof(p));
	build(&p, be);
	if (p.overflow) {
		snprintf(err, len, "the sandbox's filter has more than %d instructions", MAX_INSNS);
		return -1;
	}
	if (sigaction(SIGSYS, &sa, NULL) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, len, "preparing the sandbox: %s", strerror(errno));
		return -1;
	}
	fprog = (struct sock_fprog){ .len = (unsigned short)p.n, .filter = p.insn };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog)) {
		snprintf(err, len, "installing the sandbox's filter on every thread: %s",
			 errno > 0 ? strerror(errno) : "a thread could not take it");
		return -1;
	}
	return 0;
}

unsigned sandbox_filter_size(const struct hv_backend *be)
{
	static struct prog p;

	memset(&p, 0, sizeof(p));
	build(&p, be);
	return p.n;
}
