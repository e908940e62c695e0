/* SPDX-License-Identifier: MIT */
/* One proc-backend guest process: spawn the stub under ptrace, inject calls, run it, kill it. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "backend_proc_child.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable even where vm.memfd_noexec says otherwise */
#endif

/* The built stub, embedded by proc_stub/stub_elf.S. */
extern const unsigned char proc_stub_elf[], proc_stub_elf_end[];

/* One sealed memfd of the stub for the whole process, made on first spawn. */
static pthread_once_t stub_once = PTHREAD_ONCE_INIT;
static int stub_fd = -1;
static int stub_err;

/* Where the syscall gadget's int3 leaves rip. */
#define GADGET_DONE (PROC_STUB_SYSCALL + 3)
#define BATCH_DONE  (PROC_STUB_BASE + 0x61) /* the batch's trap, stub.S */

/*
 * The entry point shows whether the stub was linked where backend_proc_child.h
 * says (stub.ld); a scratch page elsewhere would show as every poke failing.
 */
static int stub_check(void)
{
	Elf64_Ehdr eh;

	if ((size_t)(proc_stub_elf_end - proc_stub_elf) < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, proc_stub_elf, sizeof(eh));
	return eh.e_entry == PROC_STUB_BASE ? 0 : -ENOEXEC;
}

static void stub_create(void)
{
	const unsigned char *p = proc_stub_elf;
	ssize_t n;
	int fd;

	stub_err = stub_check();
	if (stub_err < 0)
		return;
	fd = memfd_create("hv-proc-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL) /* a kernel before MFD_EXEC */
		fd = memfd_create("hv-proc-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		stub_err = -errno;
		return;
	}
	while (p < proc_stub_elf_end) {
		n = write(fd, p, (size_t)(proc_stub_elf_end - p));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			goto err_close;
		p += n;
	}
	/* Sealed, so no one who gets hold of the fd can change what guests exec. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		goto err_close;
	stub_fd = fd;
	return;
err_close:
	stub_err = -errno;
	close(fd);
}

/* What the new child needs from the thread that made it. */
struct child_args {
	int memfd, sock;
	pid_t parent;
	const struct proc_linux_calls *lc; /* never NULL here */
};

static void __attribute__((noreturn)) child_exec(const struct child_args *a);

static int child_main(void *arg)
{
	child_exec(arg);
}

/* The most fds a child is given at fixed numbers (proc_linux_calls). */
#define CHILD_FDS_MAX 64

/*
 * The new child, up to exec. hv's other threads may hold locks the child
 * inherited, so only plain system calls from here on. A failure exits with
 * the errno as status, for proc_child_spawn to return.
 */
static void __attribute__((noreturn)) child_exec(const struct child_args *a)
{
	static char *const argv[] = {"hv-guest", NULL}, *const envp[] = {NULL};
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	struct rlimit nofile = {2, 2}, core = {0, 0};
	const struct proc_linux_calls *lc = a->lc;
	int m, s, x, sig, high = lc->nr_fds ? lc->fd_base + (int)lc->nr_fds : 3;
	int moved[CHILD_FDS_MAX];
	sigset_t none;

	/* The spawning thread may have gone between fork and here. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != a->parent)
		_exit(ESRCH);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* exec keeps ignored signals ignored */
	/* Above every number given out below first, so the dup2s cannot overwrite one another. */
	m = fcntl(a->memfd, F_DUPFD, high);
	s = fcntl(a->sock, F_DUPFD, high);
	x = fcntl(stub_fd, F_DUPFD, high);
	for (unsigned i = 0; i < lc->nr_fds; i++)
		moved[i] = lc->fds[i] < 0 ? -1 : fcntl(lc->fds[i], F_DUPFD, high);
	if (m < 0 || s < 0 || x < 0 || dup2(m, 0) < 0 || dup2(s, 1) < 0 ||
	    dup3(x, 2, O_CLOEXEC) < 0)
		_exit(errno);
	/* A number given nothing is closed: hv's own fd of that number must not stay. */
	for (unsigned i = 0; i < lc->nr_fds; i++)
		if (lc->fds[i] < 0)
			(void)close(lc->fd_base + (int)i);
		else if (moved[i] < 0 || dup2(moved[i], lc->fd_base + (int)i) < 0)
			_exit(moved[i] < 0 ? EMFILE : errno);
	if (lc->nr_fds && lc->fd_base > 3 && close_range(3, (unsigned)lc->fd_base - 1, 0) < 0)
		_exit(errno);
	if (close_range((unsigned)high, ~0U, 0) < 0)
		_exit(errno);
	/* Two: fds 0 and 1; after confine closes 0, a received memfd can only land there. */
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CORE, &core) < 0)
		_exit(errno);
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(errno);
	execveat(2, "", argv, envp, AT_EMPTY_PATH);
	_exit(errno);
}

static void reaped(struct proc_child *c, int status)
{
	c->status = status;
	c->running = false;
	c->pid = -1;
}

/*
 * Waits for the child's next signal-delivery-stop and reads its siginfo,
 * resuming it past group-stops and ptrace events. Returns the signal, 0 when
 * the child is gone (reaped), or -errno; -EINTR only when intr is set.
 */
static int wait_signal(struct proc_child *c, bool intr, siginfo_t *si)
{
	int st;

	for (;;) {
		if (waitpid(c->pid, &st, __WALL) < 0) {
			if (errno == EINTR && !intr)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			reaped(c, st);
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		/* GETSIGINFO fails for a group-stop, which is the way to tell them apart. */
		if (st >> 16 == 0 && ptrace(PTRACE_GETSIGINFO, c->pid, 0, si) == 0)
			return WSTOPSIG(st);
		/* ESRCH: killed meanwhile; the next waitpid reports it. */
		if (ptrace(PTRACE_CONT, c->pid, 0, 0) < 0 && errno != ESRCH)
			return -errno;
	}
}

void proc_child_init(struct proc_child *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->pidfd = -1;
	c->sock = -1;
}

int proc_child_spawn(struct proc_child *c, int memfd, const struct proc_linux_calls *lc)
{
	static const struct proc_linux_calls none = {0};
	char stack[16384] __attribute__((aligned(16))); /* the child's, until its exec */
	pid_t parent = getpid(), pid;
	struct child_args args;
	siginfo_t si;
	int sv[2], err, sig;

	proc_child_init(c);
	if (!lc)
		lc = &none;
	if (lc->nr_fds > CHILD_FDS_MAX || (lc->nr_fds && lc->fd_base < 3))
		return -EINVAL;
	c->linux_calls = (struct proc_linux_calls){lc->futex, lc->fd_base, lc->nr_fds, NULL};
	pthread_once(&stub_once, stub_create);
	if (stub_fd < 0)
		return stub_err;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/*
	 * The child shares hv's memory until its exec (CLONE_VM, with a stack of its
	 * own) and this thread waits for that (CLONE_VFORK): no copy of hv's page
	 * tables, which on a nested host costs more than the exec itself.
	 */
	args = (struct child_args){memfd, sv[1], parent, lc};
	pid = clone(child_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	close(sv[1]);
#ifdef __SANITIZE_ADDRESS__
	/*
	 * The child's frames, instrumented, poisoned ASan's shadow of stack[] and never
	 * returned to clear it: clear it here, or a later deep frame of this thread reads as
	 * an overflow (SANITIZE=1 builds).
	 */
	ASAN_UNPOISON_MEMORY_REGION(stack, sizeof(stack));
#endif
	c->pid = pid;
	c->sock = sv[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd < 0) {
		err = -errno;
		goto err_destroy;
	}
	/* The exec's SIGTRAP; anything another process sent before it is dropped. */
	while ((sig = wait_signal(c, false, &si)) > 0 && sig != SIGTRAP) {
		if (ptrace(PTRACE_CONT, pid, 0, 0) < 0) {
			err = -errno;
			goto err_destroy;
		}
	}
	if (sig <= 0) {
		err = sig;
		if (sig == 0 && WIFEXITED(c->status)) /* child_exec failed: status is errno */
			err = -WEXITSTATUS(c->status);
		if (err == 0)
			err = -ECHILD;
		goto err_destroy;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL) < 0 ||
	    ptrace(PTRACE_GETREGS, pid, 0, &c->regs) < 0) {
		err = -errno;
		goto err_destroy;
	}
	return 0;
err_destroy:
	proc_child_destroy(c);
	return err;
}

/*
 * Child stopped, r set up for one of the stub's gadgets: runs it until its
 * trap at done (the rip after the int3) and leaves the registers there in
 * *r. Returns 0, -EPERM when the filter refused a call (it was skipped),
 * -ECHILD when the child died, or -errno.
 */
static int run_gadget(struct proc_child *c, struct user_regs_struct *r, uint64_t done)
{
	bool refused = false;
	siginfo_t si;
	int sig;

	if (c->pid < 0)
		return -ECHILD;
	if (c->running)
		return -EBUSY;
	r->orig_rax = (unsigned long long)-1; /* not in a system call: nothing to restart */
	if (ptrace(PTRACE_SETREGS, c->pid, 0, r) < 0)
		return -errno;
	/* The child's registers are no longer c->regs: the next resume must write them back. */
	c->regs_dirty = true;
	for (;;) {
		if (ptrace(PTRACE_CONT, c->pid, 0, 0) < 0 && errno != ESRCH)
			return -errno;
		sig = wait_signal(c, false, &si);
		if (sig < 0)
			return sig;
		if (sig == 0)
			return -ECHILD;
		if (sig == SIGTRAP) {
			if (ptrace(PTRACE_GETREGS, c->pid, 0, r) < 0)
				return -errno;
			if (r->rip == done)
				return refused ? -EPERM : 0;
		}
		/* The filter skipped the call, leaving its number in rax: not a result. */
		if (sig == SIGSYS && si.si_code > 0)
			refused = true;
		/* Not the gadget's trap: a kick is kept for the next resume, the rest dropped. */
		if (sig == PROC_KICK_SIGNAL)
			c->kick_pending = true;
	}
}

long proc_child_syscall(struct proc_child *c, long nr, long a0, long a1, long a2, long a3, long a4,
			long a5)
{
	struct user_regs_struct r = c->regs;
	int err;

	r.rip = PROC_STUB_SYSCALL;
	r.rax = (unsigned long long)nr;
	r.rdi = (unsigned long long)a0;
	r.rsi = (unsigned long long)a1;
	r.rdx = (unsigned long long)a2;
	r.r10 = (unsigned long long)a3;
	r.r8 = (unsigned long long)a4;
	r.r9 = (unsigned long long)a5;
	err = run_gadget(c, &r, GADGET_DONE);
	return err ? err : (long)r.rax;
}

int proc_child_batch(struct proc_child *c, struct proc_call *calls, unsigned n)
{
	const uint64_t table = PROC_STUB_SCRATCH + PROC_BATCH_SCRATCH_END;
	struct user_regs_struct r = c->regs;
	int err;

	_Static_assert(sizeof(struct proc_call) == 64, "the stub's entry: 8 quadwords");
	_Static_assert(PROC_BATCH_SCRATCH_END + PROC_BATCH_MAX * 64 <= PROC_STUB_SCRATCH_SIZE,
		       "the table fits the scratch page");
	if (n > PROC_BATCH_MAX)
		return -E2BIG;
	for (unsigned i = 0; i < n; i++)
		calls[i].result = 0;
	err = proc_child_poke(c, table, calls, n * sizeof(*calls));
	if (err)
		return err;
	r.rip = PROC_STUB_BATCH;
	r.rbx = table;
	r.r12 = n;
	err = run_gadget(c, &r, BATCH_DONE);
	if (err == 0 || err == -EPERM)
		err = proc_child_peek(c, table, calls, n * sizeof(*calls)) ?: err;
	for (unsigned i = 0; err == 0 && i < n; i++)
		if (calls[i].result < 0 && calls[i].result >= -4095)
			err = (int)calls[i].result;
	return err;
}

/* Copies between hv and the child's memory; the whole length or -EFAULT. */
static int copy_child(struct proc_child *c, uint64_t addr, void *buf, size_t len, bool write)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	ssize_t n;

	if (c->pid < 0)
		return -ECHILD;
	n = write ? process_vm_writev(c->pid, &local, 1, &remote, 1, 0)
		  : process_vm_readv(c->pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int proc_child_poke(struct proc_child *c, uint64_t addr, const void *buf, size_t len)
{
	return copy_child(c, addr, (void *)buf, len, true);
}

int proc_child_peek(struct proc_child *c, uint64_t addr, void *buf, size_t len)
{
	return copy_child(c, addr, buf, len, false);
}

int proc_child_map_own(struct proc_child *c, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	long r = proc_child_syscall(c, __NR_mmap, (long)addr, (long)len, prot,
				    MAP_SHARED | MAP_FIXED_NOREPLACE, 0, (long)off);

	if (r < 0)
		return (int)r;
	return (uint64_t)r == addr ? 0 : -EEXIST; /* a kernel that ignores NOREPLACE */
}

void proc_child_set_regs(struct proc_child *c, const struct user_regs_struct *regs)
{
	c->regs = *regs;
	c->regs_dirty = true;
}

int proc_child_resume(struct proc_child *c, struct proc_stop *stop)
{
	if (c->pid < 0)
		return proc_child_wait(c, stop);
	if (c->running)
		return -EBUSY;
	if (c->regs_dirty) {
		/* Whatever rax now holds, the kernel must not take it for a call to restart. */
		c->regs.orig_rax = (unsigned long long)-1;
		if (ptrace(PTRACE_SETREGS, c->pid, 0, &c->regs) < 0 && errno != ESRCH)
			return -errno;
		c->regs_dirty = false;
	}
	/* A kick an injected call swallowed: sent again, the child stops at once. */
	if (c->kick_pending) {
		c->kick_pending = false;
		proc_child_kick(c);
	}
	/* ESRCH: killed while stopped; the wait reaps it. */
	if (ptrace(PTRACE_CONT, c->pid, 0, 0) < 0 && errno != ESRCH)
		return -errno;
	c->running = true;
	return proc_child_wait(c, stop);
}

int proc_child_wait(struct proc_child *c, struct proc_stop *stop)
{
	int sig;

	memset(stop, 0, sizeof(*stop));
	if (c->pid < 0) {
		stop->kind = PROC_STOP_EXITED;
		stop->status = c->status;
		return 0;
	}
	if (!c->running)
		return -EINVAL; /* nothing would ever wake the wait */
	sig = wait_signal(c, true, &stop->si);
	if (sig == -EINTR) {
		stop->kind = PROC_STOP_INTR;
		return 0;
	}
	if (sig < 0)
		return sig;
	c->running = false;
	if (sig == 0) {
		stop->kind = PROC_STOP_EXITED;
		stop->status = c->status;
		return 0;
	}
	if (ptrace(PTRACE_GETREGS, c->pid, 0, &c->regs) < 0)
		return -errno;
	c->regs_dirty = false;
	stop->kind = PROC_STOP_SIGNAL;
	return 0;
}

void proc_child_kick(struct proc_child *c)
{
	/* Through the pidfd: a kick that races with the reap cannot hit a recycled pid. */
	if (c->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, c->pidfd, PROC_KICK_SIGNAL, NULL, 0);
}

void proc_child_kill(struct proc_child *c)
{
	if (c->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
}

void proc_child_destroy(struct proc_child *c)
{
	int st;

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		/* Stops reported before the kill may come first; only the exit reaps it. */
		for (;;) {
			if (waitpid(c->pid, &st, __WALL) < 0) {
				if (errno == EINTR)
					continue;
				st = 0;
				break;
			}
			if (WIFEXITED(st) || WIFSIGNALED(st))
				break;
		}
		reaped(c, st);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->sock >= 0)
		close(c->sock);
	c->pidfd = -1;
	c->sock = -1;
}
