/* SPDX-License-Identifier: MIT */
/* The proc backend's child mechanics on real traced children: traps, filter, grants, kicks. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend_proc_child.h"

/* The guest's memory: a memfd, mapped the same at the same offsets in the child. */
#define MEM_SIZE 0x200000
#define CODE 0x100000 /* [CODE, MEM_SIZE) r-x */
#define DATA 0x1000   /* [DATA, CODE) rw */
#define STACK_TOP 0x80000
#define PATH_AT 0x2000  /* a file name for the guest's system calls */
#define WORD_AT 0x3000  /* a known word for a guest load */
#define UNMAPPED 0xc0000000ULL
#define WINDOW_LO 0xd0000000ULL
#define WINDOW_HI 0xd0100000ULL

/* Guest code snippets, one per 0x100 bytes of CODE. */
#define S_OUT (CODE + 0x000)   /* mov $0x12345678,%eax; out %eax,$0x80; jmp back to the out */
#define S_LOAD (CODE + 0x100)  /* mov (%rcx),%eax; int3 */
#define S_STORE (CODE + 0x200) /* mov %edx,(%rcx); int3 */
#define S_SYS (CODE + 0x300)   /* syscall; int3 */
#define S_INT3 (CODE + 0x400)  /* int3 */
#define S_DIV (CODE + 0x500)   /* xor %ecx,%ecx; idiv %ecx */
#define S_UD2 (CODE + 0x600)   /* ud2 */
#define S_SPIN (CODE + 0x700)  /* jmp . */
#define S_INT80 (CODE + 0x800) /* int $0x80; int3 */

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS; glibc's headers leave it to the kernel's */
#endif

static const struct {
	uint64_t at;
	unsigned char len, bytes[12];
} snippets[] = {
	{S_OUT, 9, {0xb8, 0x78, 0x56, 0x34, 0x12, 0xe7, 0x80, 0xeb, 0xfc}},
	{S_LOAD, 3, {0x8b, 0x01, 0xcc}},
	{S_STORE, 3, {0x89, 0x11, 0xcc}},
	{S_SYS, 3, {0x0f, 0x05, 0xcc}},
	{S_INT3, 1, {0xcc}},
	{S_DIV, 4, {0x31, 0xc9, 0xf7, 0xf9}},
	{S_UD2, 2, {0x0f, 0x0b}},
	{S_SPIN, 2, {0xeb, 0xfe}},
	{S_INT80, 3, {0xcd, 0x80, 0xcc}},
};

static struct proc_child child;
static struct proc_stop st; /* the last stop */
static unsigned char *mem;
static int passed, failed;
static volatile sig_atomic_t usr2_seen;
static pthread_t main_thread;

static void check(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (ok)
		passed++;
	else
		failed++;
}

/* Runs the guest with registers r until it stops for a reason other than EINTR, into st. */
static int go(struct user_regs_struct *r)
{
	int err;

	r->rsp = STACK_TOP;
	proc_child_set_regs(&child, r);
	err = proc_child_resume(&child, &st);
	while (err == 0 && st.kind == PROC_STOP_INTR)
		err = proc_child_wait(&child, &st);
	return err;
}

/* Runs the guest at rip with these registers (the others as they were). */
static int run(uint64_t rip, uint64_t rax, uint64_t rcx, uint64_t rdx)
{
	struct user_regs_struct r = child.regs;

	r.rip = rip;
	r.rax = rax;
	r.rcx = rcx;
	r.rdx = rdx;
	return go(&r);
}

/* The guest makes system call nr from S_SYS. */
static int guest_call(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct user_regs_struct r = child.regs;

	r.rip = S_SYS;
	r.rax = (uint64_t)nr;
	r.rdi = a0;
	r.rsi = a1;
	r.rdx = a2;
	r.r10 = a3;
	r.r8 = a4;
	r.r9 = 0;
	return go(&r);
}

/* The last run ended in a stop for signo with code. */
static bool stopped(int err, int signo, int code)
{
	return err == 0 && st.kind == PROC_STOP_SIGNAL && st.si.si_signo == signo &&
	       st.si.si_code == code;
}

/* The filter trapped the guest's call nr, which then did not run. */
static bool refused(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	return stopped(guest_call(nr, a0, a1, a2, a3, a4), SIGSYS, SYS_SECCOMP) &&
	       st.si.si_syscall == nr && st.si.si_arch == AUDIT_ARCH_X86_64 &&
	       st.si.si_call_addr == (void *)(S_SYS + 2) && child.regs.rip == S_SYS + 2 &&
	       child.regs.rax == (uint64_t)nr;
}

/* The child's only open fd is 1, its end of the socket. */
static bool only_fd_1(void)
{
	int fds = 0, ones = 0;
	char dir[64];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", child.pid);
	d = opendir(dir);
	if (!d)
		return false;
	while ((e = readdir(d))) {
		fds += e->d_name[0] != '.';
		ones += strcmp(e->d_name, "1") == 0;
	}
	closedir(d);
	return fds == 1 && ones == 1;
}

static bool child_maps_mention(const char *needle)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", child.pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2_seen = 1;
}

static void *kick_later(void *arg)
{
	usleep(20000);
	if (arg)
		pthread_kill(main_thread, SIGUSR1); /* as hv kicks its vCPU thread */
	else
		proc_child_kick(&child);
	return NULL;
}

static void test_setup(int memfd)
{
	size_t i;

	check(proc_child_spawn(&child, memfd, NULL) == 0, "spawn: the child stops at exec");
	check(child.regs.rip == PROC_STUB_BASE, "spawn: rip is the stub's entry");
	check(proc_child_map_own(&child, CODE, MEM_SIZE - CODE, PROT_READ | PROT_EXEC, CODE) == 0 &&
		      proc_child_map_own(&child, DATA, CODE - DATA, PROT_READ | PROT_WRITE,
					 DATA) == 0,
	      "map_own: code r-x and data rw");
	check(proc_child_map_own(&child, CODE, 4096, PROT_READ, 0) == -EEXIST,
	      "map_own: refuses to replace a mapping");
	for (i = 0; i < sizeof(snippets) / sizeof(snippets[0]); i++)
		memcpy(mem + snippets[i].at, snippets[i].bytes, snippets[i].len);
	check(proc_child_confine(&child, WINDOW_LO, WINDOW_HI) == 0, "confine");
	check(only_fd_1(), "confine: the child holds fd 1 only");
	check(!child_maps_mention("proc_child_test"), "the child maps nothing of its parent");
}

static void test_traps(void)
{
	check(stopped(run(S_OUT, 0, 0, 0), SIGSEGV, SI_KERNEL) && st.si.si_addr == NULL &&
		      child.regs.rip == S_OUT + 5 && (uint32_t)child.regs.rax == 0x12345678,
	      "out: SIGSEGV SI_KERNEL at the out, eax intact");
	check(stopped(run(S_LOAD, 0, UNMAPPED, 0), SIGSEGV, SEGV_MAPERR) &&
		      st.si.si_addr == (void *)UNMAPPED && child.regs.rip == S_LOAD,
	      "load from unmapped 0xc0000000: SIGSEGV SEGV_MAPERR with its address");
	memcpy(mem + WORD_AT, "\xce\xfa\xed\xfe", 4);
	check(stopped(run(S_LOAD, 0, WORD_AT, 0), SIGTRAP, SI_KERNEL) &&
		      child.regs.rip == S_LOAD + 3 && (uint32_t)child.regs.rax == 0xfeedface,
	      "load from guest memory sees the memfd; int3 gives SIGTRAP after it");
	check(stopped(run(S_STORE, 0, S_INT3, 1), SIGSEGV, SEGV_ACCERR) &&
		      st.si.si_addr == (void *)S_INT3,
	      "store to code: SIGSEGV SEGV_ACCERR");
	check(stopped(run(S_INT3, 0, 0, 0), SIGTRAP, SI_KERNEL) && child.regs.rip == S_INT3 + 1,
	      "int3: SIGTRAP");
	check(stopped(run(S_DIV, 7, 0, 0), SIGFPE, FPE_INTDIV) && child.regs.rip == S_DIV + 2,
	      "idiv by zero: SIGFPE FPE_INTDIV");
	check(stopped(run(S_UD2, 0, 0, 0), SIGILL, ILL_ILLOPN) && child.regs.rip == S_UD2,
	      "ud2: SIGILL ILL_ILLOPN");
}

static void test_filter(void)
{
	const uint64_t shared_fixed = MAP_SHARED | MAP_FIXED;
	char path[64];

	snprintf(path, sizeof(path), "/tmp/proc_child_test.%d", getpid());
	memcpy(mem + PATH_AT, path, strlen(path) + 1);
	check(refused(__NR_open, PATH_AT, O_CREAT | O_WRONLY, 0600, 0, 0) && access(path, F_OK) < 0,
	      "open: SIGSYS, no file created");
	check(refused(__NR_execve, PATH_AT, 0, 0, 0, 0), "execve: SIGSYS");
	check(refused(__NR_socket, AF_INET, SOCK_STREAM, 0, 0, 0) && only_fd_1(),
	      "socket: SIGSYS, no fd made");
	check(refused(__NR_kill, (uint64_t)getpid(), SIGUSR2, 0, 0, 0) && !usr2_seen,
	      "kill of the parent: SIGSYS, no signal sent");
	check(refused(__NR_exit_group, 0, 0, 0, 0, 0), "exit_group: SIGSYS");
	check(refused(__NR_getpid, 0, 0, 0, 0, 0), "getpid: SIGSYS");
	check(stopped(run(S_SYS, 0x40000000 | __NR_getpid, 0, 0), SIGSYS, SYS_SECCOMP) &&
		      st.si.si_syscall == (0x40000000 | __NR_getpid),
	      "an x32 call: SIGSYS");
	/* With ia32 emulation off the kernel refuses int $0x80 itself (#GP). */
	check(run(S_INT80, 20, 0, 0) == 0 &&
		      (stopped(0, SIGSYS, SYS_SECCOMP) ? st.si.si_arch == AUDIT_ARCH_I386
						       : stopped(0, SIGSEGV, SI_KERNEL)),
	      "int $0x80: SIGSYS (i386) or SIGSEGV");
	check(refused(__NR_mmap, UNMAPPED, 4096, PROT_READ, shared_fixed, 0),
	      "a grant-shaped mmap outside the window: SIGSYS");
	check(refused(__NR_mmap, WINDOW_LO, 4096, PROT_READ | PROT_EXEC, shared_fixed, 0),
	      "an executable mmap in the window: SIGSYS");
	check(refused(__NR_mmap, WINDOW_LO, 4096, PROT_READ, shared_fixed, 1),
	      "an mmap of fd 1 in the window: SIGSYS");
	check(refused(__NR_mmap, WINDOW_LO, 8192, PROT_READ, shared_fixed, 0),
	      "a two-page mmap in the window: SIGSYS");
	check(refused(__NR_close, 1, 0, 0, 0, 0), "close(1): SIGSYS");
	check(refused(__NR_recvmsg, 1, PATH_AT, 0, 0, 0), "a blocking recvmsg: SIGSYS");
	/* The exact grant map passes the filter, but the guest has no fd 0 to map. */
	check(stopped(guest_call(__NR_mmap, WINDOW_LO, 4096, PROT_READ, shared_fixed, 0), SIGTRAP,
		      SI_KERNEL) &&
		      (long)child.regs.rax == -EBADF,
	      "the exact grant mmap passes the filter, and fails with EBADF");
}

static void test_grants(void)
{
	int granter = memfd_create("granter", MFD_CLOEXEC);
	const uint64_t rw = WINDOW_LO + 4096;
	uint32_t word = 0;

	check(granter >= 0 && ftruncate(granter, 2 * 4096) == 0 &&
		      pwrite(granter, "\x78\x56\x34\x12", 4, 4096) == 4,
	      "granter memfd");
	check(proc_child_map_foreign(&child, granter, WINDOW_LO, PROT_READ, 4096) == 0,
	      "map_foreign: read-only grant");
	check(only_fd_1(), "map_foreign: the granter's fd is closed again");
	check(stopped(run(S_LOAD, 0, WINDOW_LO, 0), SIGTRAP, SI_KERNEL) &&
		      (uint32_t)child.regs.rax == 0x12345678,
	      "a guest load sees the granted page");
	check(stopped(run(S_STORE, 0, WINDOW_LO, 1), SIGSEGV, SEGV_ACCERR) &&
		      st.si.si_addr == (void *)WINDOW_LO,
	      "a guest store to a read-only grant: SIGSEGV SEGV_ACCERR");
	check(proc_child_map_foreign(&child, granter, rw, PROT_READ | PROT_WRITE, 0) == 0 &&
		      stopped(run(S_STORE, 0, rw, 0xabcd1234), SIGTRAP, SI_KERNEL) &&
		      pread(granter, &word, 4, 0) == 4 && word == 0xabcd1234,
	      "a guest store to a writable grant reaches the granter");
	check(proc_child_unmap(&child, WINDOW_LO) == 0 &&
		      stopped(run(S_LOAD, 0, WINDOW_LO, 0), SIGSEGV, SEGV_MAPERR) &&
		      st.si.si_addr == (void *)WINDOW_LO,
	      "after unmap a load is SEGV_MAPERR");
	check(proc_child_map_foreign(&child, granter, UNMAPPED, PROT_READ, 0) == -EPERM &&
		      proc_child_unmap(&child, UNMAPPED) == -EPERM && only_fd_1(),
	      "map_foreign and unmap outside the window: refused by the filter (-EPERM)");
	if (granter >= 0)
		close(granter);
}

static bool kicked(int err)
{
	return err == 0 && st.kind == PROC_STOP_SIGNAL && st.si.si_signo == PROC_KICK_SIGNAL;
}

static void test_kicks(void)
{
	pthread_t t;

	pthread_create(&t, NULL, kick_later, NULL);
	check(kicked(run(S_SPIN, 0, 0, 0)) && child.regs.rip == S_SPIN,
	      "a kick from another thread stops a spinning guest");
	pthread_join(t, NULL);

	pthread_create(&t, NULL, kick_later, (void *)1);
	check(proc_child_resume(&child, &st) == 0 && st.kind == PROC_STOP_INTR,
	      "a signal to hv's thread: PROC_STOP_INTR");
	pthread_join(t, NULL);
	proc_child_kick(&child);
	check(kicked(proc_child_wait(&child, &st)), "then kick and wait: the kick");

	proc_child_kick(&child);
	check(proc_child_unmap(&child, WINDOW_LO + 4096) == 0 && kicked(run(S_SPIN, 0, 0, 0)),
	      "a kick during an injected call shows at the next resume");
}

static void time_out_trap(void)
{
	struct user_regs_struct r;
	struct timespec t0, t1;
	int i, n = 20000, bad = 0;
	double ns;

	run(S_OUT, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		r = child.regs;
		r.rip += 2; /* past the out, to the jmp back to it */
		proc_child_set_regs(&child, &r);
		bad += !stopped(proc_child_resume(&child, &st), SIGSEGV, SI_KERNEL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	check(bad == 0, "20000 out traps in a row");
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("out trap round trip: %.2f us\n", ns / n / 1e3);
}

static void test_death(int memfd)
{
	pid_t pid = child.pid;

	proc_child_destroy(&child);
	check(child.pid == -1 && kill(pid, 0) < 0 && errno == ESRCH, "destroy kills and reaps");
	proc_child_destroy(&child);
	check(proc_child_resume(&child, &st) == 0 && st.kind == PROC_STOP_EXITED,
	      "destroy twice; resume after it reports EXITED");

	check(proc_child_spawn(&child, memfd, NULL) == 0, "spawn a second child");
	kill(child.pid, SIGKILL);
	check(proc_child_resume(&child, &st) == 0 && st.kind == PROC_STOP_EXITED &&
		      WIFSIGNALED(st.status) && WTERMSIG(st.status) == SIGKILL,
	      "a child killed from outside: EXITED, WIFSIGNALED SIGKILL");
	proc_child_destroy(&child);
}

int main(void)
{
	struct sigaction usr1 = {.sa_handler = on_usr1}, usr2 = {.sa_handler = on_usr2};
	int memfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	main_thread = pthread_self();
	/* Like hv: the kick handler does nothing and, without SA_RESTART, interrupts waitpid. */
	sigaction(SIGUSR1, &usr1, NULL);
	sigaction(SIGUSR2, &usr2, NULL);
	proc_child_init(&child);
	memfd = memfd_create("guest", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_SIZE) < 0)
		return perror("memfd"), 2;
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		return perror("mmap"), 2;

	test_setup(memfd);
	test_traps();
	test_filter();
	test_grants();
	test_kicks();
	time_out_trap();
	test_death(memfd);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
