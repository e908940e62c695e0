/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for a bug in hv, preloaded into it by tests/integration/hv_sandbox.sh: a thread
 * started before hv's sandbox waits HV_PROBE_MS (default 300) and then makes the one system
 * call HV_PROBE names, as hv itself would if an attacker controlled it. In the sandbox the
 * call must end hv (71, the call named); with --no-sandbox it runs, and the probe says how it
 * went on stderr ("hv_probe: CALL returned R").
 *
 *   openat     open /etc/hostname for reading        execve   run /bin/true
 *   socket     an AF_INET socket                     fork     a child process (clone)
 *   mmap_exec  an anonymous executable mapping       kill     kill(-1, 0): every process
 *   ioctl      FIONREAD on stdin (not a KVM ioctl)   ptrace   PTRACE_TRACEME
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long probe(const char *call)
{
	int n;

	if (!strcmp(call, "openat"))
		return open("/etc/hostname", O_RDONLY);
	if (!strcmp(call, "execve")) {
		char *argv[] = { "/bin/true", NULL };

		return syscall(SYS_execve, "/bin/true", argv, environ);
	}
	if (!strcmp(call, "socket"))
		return socket(AF_INET, SOCK_STREAM, 0);
	if (!strcmp(call, "fork")) {
		long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);

		if (pid == 0)
			_exit(0);
		return pid;
	}
	if (!strcmp(call, "mmap_exec"))
		return (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!strcmp(call, "kill"))
		return kill(-1, 0);
	if (!strcmp(call, "ioctl"))
		return ioctl(0, FIONREAD, &n);
	if (!strcmp(call, "ptrace"))
		return ptrace(PTRACE_TRACEME, 0, 0, 0);
	fprintf(stderr, "hv_probe: unknown HV_PROBE=%s\n", call);
	return -1;
}

static void *run(void *arg)
{
	const char *ms = getenv("HV_PROBE_MS");
	long wait_ms = ms ? atol(ms) : 300;
	struct timespec t = { wait_ms / 1000, (wait_ms % 1000) * 1000000 };
	char msg[128];
	long r;
	int n;

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		; /* hv's kick signal may land on any thread */
	r = probe(arg);
	n = snprintf(msg, sizeof(msg), "hv_probe: %s returned %ld\n", (const char *)arg, r);
	(void)!write(2, msg, (size_t)n);
	return NULL;
}

__attribute__((constructor)) static void start(void)
{
	const char *call = getenv("HV_PROBE");
	pthread_t t;

	if (call && *call && pthread_create(&t, NULL, run, (void *)call) == 0)
		pthread_detach(t);
}
