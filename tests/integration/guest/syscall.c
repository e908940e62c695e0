/* SPDX-License-Identifier: MIT */
/*
 * A guest that makes one raw Linux system call, named by its argument (open, execve,
 * socket, kill), or none ("none": it sleeps 200 ms and exits 0, the peer of the others).
 * A guest has no system calls: on proc the child's seccomp filter refuses each and hv
 * ends the domain as a fault; on kvm the syscall instruction is #UD. Either way, reaching
 * the line after the call is a failure. Used by tests/integration/sandbox.sh.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct call {
	const char *name;
	long nr, a0, a1, a2;
};

static const struct call calls[] = {
	{ "open", 2, (long)"/etc/passwd", 0 /* O_RDONLY */, 0 },
	{ "execve", 59, (long)"/bin/sh", 0, 0 },
	{ "socket", 41, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0 },
	/* Every process the child may signal, hv and the other domains' included. */
	{ "kill", 62, -1, 9 /* SIGKILL */, 0 },
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
		__asm__ volatile("syscall"
				 : "+a"(ret)
				 : "D"(calls[i].a0), "S"(calls[i].a1), "d"(calls[i].a2)
				 : "rcx", "r11", "memory");
		printf("FAILURE: %s returned %ld\n", calls[i].name, ret);
		return 1;
	}
	printf("usage: syscall.img open|execve|socket|kill|none\n");
	return 2;
}
