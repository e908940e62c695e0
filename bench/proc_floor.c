/* SPDX-License-Identifier: MIT */
/*
 * proc_floor: the floors under hv's proc backend, where a guest is a traced child process
 * and each of its traps is a ptrace stop that hv serves. The least such a stop can cost:
 * the child traps, the parent waits for it, reads and writes its registers (to step over
 * the instruction) and resumes it. Nothing of hv's, no seccomp filter.
 *   proc_floor exits N     N port I/O traps (`out` in a process: SIGSEGV): prints exit_ns=
 *   proc_floor doorbell N  N stores to a page with no access, as an MMIO doorbell traps on
 *                          proc: prints doorbell_ns=
 *   proc_floor syscall N   N getppid system calls in this process, untraced: what a native
 *                          process pays to ask its kernel, printed as syscall_ns=
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *what)
{
	perror(what);
	return 1;
}

/* The traced child: stop for the parent, then trap forever, one instruction at a time. */
static void child(int doorbell)
{
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED || ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(1);
	raise(SIGSTOP);
	if (doorbell)
		__asm__ volatile("1: movl %%eax, (%%rbx)\n\tjmp 1b" : : "b"(page) : "memory");
	__asm__ volatile("mov $0x500, %%dx\n1: out %%eax, %%dx\n\tjmp 1b" : : : "rdx");
	_exit(1); /* never reached: the parent kills the child */
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exits";
	long n = argc > 2 ? atol(argv[2]) : 10000;
	int doorbell = !strcmp(mode, "doorbell"), st;
	struct user_regs_struct regs;
	uint64_t t0;

	if (!strcmp(mode, "syscall")) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		printf("syscall_ns=%.1f calls=%ld\n", (double)(now_ns() - t0) / (double)n, n);
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0)
		child(doorbell);
	if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st) ||
	    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL) < 0 || ptrace(PTRACE_CONT, pid, 0, 0) < 0)
		return fail("starting the traced child");
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSEGV)
			return fail("waitpid: not a trap");
		if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
			return fail("PTRACE_GETREGS");
		regs.rip += doorbell ? 2 : 1; /* movl %eax,(%rbx) is 2 bytes, out %eax,%dx 1 */
		if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0 || ptrace(PTRACE_CONT, pid, 0, 0) < 0)
			return fail("resuming the traced child");
	}
	uint64_t ns = now_ns() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	printf("%s_ns=%.1f %s=%ld\n", doorbell ? "doorbell" : "exit", (double)ns / (double)n,
	       doorbell ? "doorbells" : "exits", n);
	return 0;
}
