/* SPDX-License-Identifier: MIT */
/* maxrss: run a command, print its peak resident memory in KiB (a small parent, so the
 * child's figure is its own and not a copy of a big parent's). Usage: maxrss CMD ARGS... */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: maxrss CMD ARGS...\n");
		return 2;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
		perror("maxrss");
		return 1;
	}
	printf("maxrss_kib=%ld status=%d\n", ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
