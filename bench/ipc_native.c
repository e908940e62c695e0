/* SPDX-License-Identifier: MIT */
/*
 * ipc_native: the native baselines of make bench-pv, between two processes
 * (a fork) on this host, measured the way pingpong measures two domains.
 *
 *   ipc_native pingpong pipe|eventfd N   N round trips (after 1000 not timed): one byte
 *                                        over a pair of pipes, or a count over a pair of
 *                                        eventfds; prints median and mean in us
 *   ipc_native stream SIZE BYTES         BYTES in SIZE-byte writes over a pipe, the reader
 *                                        taking each message whole, then a one-byte answer;
 *                                        prints MB/s
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 1000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "ipc_native: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Exactly len bytes, or die. */
static void read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			die(n ? "read" : "read: early end");
		p += n;
		len -= (size_t)n;
	}
}

static void write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A pipe carries one byte; an eventfd carries a count (8 bytes), which the
 * reader takes and resets: the same wake-up as an event channel.
 */
static void signal_fd(int fd, int is_eventfd)
{
	uint64_t one = 1;

	write_full(fd, &one, is_eventfd ? 8 : 1);
}

static void wait_fd(int fd, int is_eventfd)
{
	uint64_t v;

	read_full(fd, &v, is_eventfd ? 8 : 1);
}

static int pingpong(const char *kind, uint64_t n)
{
	int is_eventfd = strcmp(kind, "eventfd") == 0, to_child[2], to_parent[2];
	uint64_t *rtt = malloc(n * sizeof(*rtt)), sum = 0;
	pid_t pid;

	if (!is_eventfd && strcmp(kind, "pipe") != 0)
		return fprintf(stderr, "ipc_native: pingpong pipe|eventfd N\n"), 2;
	if (!rtt)
		die("malloc");
	if (is_eventfd) {
		to_child[0] = to_child[1] = eventfd(0, 0);
		to_parent[0] = to_parent[1] = eventfd(0, 0);
		if (to_child[0] < 0 || to_parent[0] < 0)
			die("eventfd");
	} else if (pipe(to_child) || pipe(to_parent)) {
		die("pipe");
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (uint64_t i = 0; i < n + WARMUP; i++) {
			wait_fd(to_child[0], is_eventfd);
			signal_fd(to_parent[1], is_eventfd);
		}
		_exit(0);
	}
	for (uint64_t i = 0; i < n + WARMUP; i++) {
		uint64_t t0 = now_ns();

		signal_fd(to_child[1], is_eventfd);
		wait_fd(to_parent[0], is_eventfd);
		if (i >= WARMUP)
			rtt[i - WARMUP] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += rtt[i];
	printf("%s round trip: median %.2f us, mean %.2f us over %llu\n", kind, rtt[n / 2] / 1e3,
	       sum / 1e3 / (double)n, (unsigned long long)n);
	free(rtt);
	return 0;
}

static int stream(size_t size, uint64_t bytes)
{
	uint64_t messages = bytes / size, start, ns;
	int data[2], ack[2];
	uint8_t *buf = calloc(1, size), a = 0;
	pid_t pid;

	if (!buf)
		die("malloc");
	if (pipe(data) || pipe(ack))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (uint64_t i = 0; i < messages; i++)
			read_full(data[0], buf, size);
		write_full(ack[1], &a, 1);
		_exit(0);
	}
	start = now_ns();
	for (uint64_t i = 0; i < messages; i++)
		write_full(data[1], buf, size);
	read_full(ack[0], &a, 1);
	ns = now_ns() - start;
	waitpid(pid, NULL, 0);
	printf("stream: %zu-byte messages: %llu bytes in %.1f ms: %.1f MB/s\n", size,
	       (unsigned long long)(messages * size), ns / 1e6, messages * size * 1e3 / ns);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "pingpong") == 0)
		return pingpong(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 4 && strcmp(argv[1], "stream") == 0 && atol(argv[2]) > 0)
		return stream((size_t)atol(argv[2]), strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: ipc_native pingpong pipe|eventfd N | stream SIZE BYTES\n");
	return 2;
}
