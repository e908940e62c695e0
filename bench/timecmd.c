/* SPDX-License-Identifier: MIT */
/*
 * timecmd: wall time of whole commands, alternating between them run after run so that
 * drift in the machine's load hits every command alike; prints median, p10, p90 and min.
 *
 * Usage: timecmd -n RUNS [-w WARMUP] [-o SAMPLES] -- LABEL CMD ARGS... [-- LABEL CMD ...]...
 * -o writes every sample, "LABEL<TAB>MS" per line, in the order they were taken.
 * Each command's stdout and stderr go to /dev/null; a command that fails stops the run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 8

struct cmd {
	const char *label;
	char **argv;
	double *ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double run_once(const struct cmd *c)
{
	double t0 = now_ms();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("timecmd");
		exit(1);
	}
	double t = now_ms() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "timecmd: %s (%s) failed with status 0x%x\n", c->label, c->argv[0], status);
		exit(1);
	}
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double quantile(const double *sorted, int n, double q)
{
	return sorted[(int)(q * (n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	int runs = 0, warmup = 3, ncmds = 0, i = 1;
	const char *samples = NULL;
	FILE *out = NULL;

	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-w") && i + 1 < argc)
			warmup = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			samples = argv[++i];
	}
	while (i < argc && !strcmp(argv[i], "--") && ncmds < MAX_CMDS) {
		argv[i++] = NULL; /* ends the previous command's argv */
		if (i + 1 >= argc)
			break;
		cmds[ncmds].label = argv[i++];
		cmds[ncmds].argv = &argv[i];
		while (i < argc && strcmp(argv[i], "--"))
			i++;
		ncmds++;
	}
	if (runs < 1 || ncmds == 0) {
		fprintf(stderr, "usage: timecmd -n RUNS [-w WARMUP] -- LABEL CMD ARGS... [-- ...]\n");
		return 2;
	}
	for (int c = 0; c < ncmds; c++) {
		cmds[c].ms = calloc((size_t)runs, sizeof(double));
		for (int w = 0; w < warmup; w++)
			run_once(&cmds[c]);
	}
	if (samples && !(out = fopen(samples, "w"))) {
		perror(samples);
		return 1;
	}
	for (int r = 0; r < runs; r++)
		for (int c = 0; c < ncmds; c++) {
			cmds[c].ms[r] = run_once(&cmds[c]);
			if (out)
				fprintf(out, "%s\t%.4f\n", cmds[c].label, cmds[c].ms[r]);
		}
	if (out)
		fclose(out);
	printf("%-34s %9s %9s %9s %9s\n", "command", "median", "p10", "p90", "min");
	for (int c = 0; c < ncmds; c++) {
		qsort(cmds[c].ms, (size_t)runs, sizeof(double), cmp_double);
		printf("%-34s %6.3f ms %6.3f ms %6.3f ms %6.3f ms\n", cmds[c].label,
		       quantile(cmds[c].ms, runs, 0.5), quantile(cmds[c].ms, runs, 0.1),
		       quantile(cmds[c].ms, runs, 0.9), cmds[c].ms[0]);
	}
	return 0;
}
