/* SPDX-License-Identifier: MIT */
/*
 * A guest that makes one raw Linux system call, named by its argument (open, execve,
 * socket, kill, or a bent form of the kicks and blocks proc allows: futex-other,
 * futex-wake, futex-forever, write-socket, write-long), or jumps into the proc child's
 * syscall gadget ("stub"), or none ("none": it sleeps 200 ms and exits 0, the peer of
 * the others).
 * A guest has no system calls but, on proc, a futex wait on its own word with a timeout
 * and 8-byte writes to its kick fds (hv_abi.h, HV_BOOT_LINUX_CALLS): the child's seccomp
 * filter refuses any other and hv ends the domain as a fault; on kvm the syscall
 * instruction is #UD. Either way, reaching the line after the call is a failure. Used by
 * tests/integration/sandbox.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hv_abi.h"

struct call {
	const char *name;
	long nr, a0, a1, a2, a3;
};

/* hv's shared-info page (hv.h's HV_L_SHARED) and the futex word proc lets a guest wait on. */
#define WAIT_WORD (0xff000 + offsetof(struct hv_shared_info, vcpu_info[0].wait))
static const struct { long sec, nsec; } a_second = { 1, 0 };
static const uint64_t one = 1;

static const struct call calls[] = {
	{ "open", 2, (long)"/etc/passwd", 0 /* O_RDONLY */, 0, 0 },
	{ "execve", 59, (long)"/bin/sh", 0, 0, 0 },
	{ "socket", 41, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0, 0 },
	/* Every process the child may signal, hv and the other domains' included. */
	{ "kill", 62, -1, 9 /* SIGKILL */, 0, 0 },
	/* A wait on a word of its own rather than the shared one. */
	{ "futex-other", 202, (long)&one, 0 /* FUTEX_WAIT */, 1, (long)&a_second },
	/* A wake rather than a wait. */
	{ "futex-wake", 202, WAIT_WORD, 1 /* FUTEX_WAKE */, 1, 0 },
	/* A wait with no timeout, which hv could not tell from a guest blocked forever. */
	{ "futex-forever", 202, WAIT_WORD, 0 /* FUTEX_WAIT */, 0, 0 },
	/* A write to the child's socket to hv (fd 1), below the kick fds. */
	{ "write-socket", 1, 1, (long)&one, 8, 0 },
	/* A kick fd, but not 8 bytes. */
	{ "write-long", 1, HV_KICK_FD(0, 0), (long)&one, 16, 0 },
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "none")) {
		usleep(200 * 1000);
		printf("SUCCESS: the peer ran to its end\n");
		return 0;
	}
	for (size_t i = 0; argc == 2 && i < sizeof(calls) / sizeof(calls[0]); i++) {
		long ret = calls[i].nr;

		if (strcmp(argv[1], calls[i].name))
			continue;
		/* Set after the strcmp, which may use r10 as any call may. */
		register long r10 __asm__("r10") = calls[i].a3;
		__asm__ volatile("syscall"
				 : "+a"(ret)
				 : "D"(calls[i].a0), "S"(calls[i].a1), "d"(calls[i].a2), "r"(r10)
				 : "rcx", "r11", "memory");
		printf("FAILURE: %s returned %ld\n", calls[i].name, ret);
		return 1;
	}
	if (argc == 2 && !strcmp(argv[1], "stub")) {
		/*
		 * Where the proc child's stub keeps its syscall gadget: a guest that
		 * jumps there with a grant-shaped mmap of fd 0 gets EBADF from the
		 * filtered call, then the gadget's trap ends it (a fault on kvm,
		 * where nothing is mapped there).
		 */
		long ret = 9; /* mmap */
		register long r10 __asm__("r10") = 0x1 | 0x10; /* MAP_SHARED | MAP_FIXED */
		register long r8 __asm__("r8") = 0, r9 __asm__("r9") = 0;

		__asm__ volatile("call *%[gadget]"
				 : "+a"(ret), "+r"(r10), "+r"(r8), "+r"(r9)
				 : [gadget] "r"(0x100000000010ul), "D"(0xd0000000ul), "S"(4096l),
				   "d"(1l /* PROT_READ */)
				 : "rcx", "r11", "memory");
		printf("FAILURE: the stub's gadget returned %ld\n", ret);
		return 1;
	}
	printf("usage: syscall.img open|execve|socket|kill|futex-other|futex-wake|futex-forever|"
	       "write-socket|write-long|stub|none\n");
	return 2;
}
