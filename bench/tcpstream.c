/* SPDX-License-Identifier: MIT */
/*
 * tcpstream: one-way TCP throughput, built from this one source as a native program and as a
 * guest image (bench/guest/tcpstream.c).
 *   tcpstream sink PORT            accept connections forever; for each, count bytes to EOF
 *                                  and print "received=N ns=T"
 *   tcpstream source HOST PORT S   send for S seconds in 64 KiB writes; print "sent=N ns=T
 *                                  mbit_s=R" (R: what the sink acknowledged, by a final read)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sink(int port)
{
	static char buf[CHUNK];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 8)) {
		perror("tcpstream: listen");
		return 1;
	}
	printf("tcpstream: sink on port %d\n", port);
	fflush(stdout);
	for (;;) {
		int c = accept(l, NULL, NULL);
		uint64_t got = 0, t0 = now_ns();
		ssize_t n;

		if (c < 0)
			continue;
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
			got += (uint64_t)n;
		/* Tell the source the count, so its rate is of bytes that arrived. */
		char reply[64];
		int len = snprintf(reply, sizeof(reply), "%llu\n", (unsigned long long)got);
		send(c, reply, (size_t)len, 0);
		close(c);
		printf("received=%llu ns=%llu\n", (unsigned long long)got,
		       (unsigned long long)(now_ns() - t0));
		fflush(stdout);
	}
}

static int source(const char *host, int port, double seconds)
{
	static char buf[CHUNK];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);
	uint64_t sent = 0, t0, end;
	char reply[64] = "";

	inet_pton(AF_INET, host, &a.sin_addr);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("tcpstream: connect");
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	while (now_ns() < end) {
		ssize_t n = send(s, buf, sizeof(buf), 0);
		if (n <= 0) {
			perror("tcpstream: send");
			return 1;
		}
		sent += (uint64_t)n;
	}
	shutdown(s, SHUT_WR);
	ssize_t n = recv(s, reply, sizeof(reply) - 1, 0);
	uint64_t ns = now_ns() - t0, acked = n > 0 ? strtoull(reply, NULL, 10) : 0;
	printf("sent=%llu acked=%llu ns=%llu mbit_s=%.1f\n", (unsigned long long)sent,
	       (unsigned long long)acked, (unsigned long long)ns, (double)acked * 8 / ((double)ns / 1e9) / 1e6);
	return acked == sent ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "sink"))
		return sink(atoi(argv[2]));
	if (argc >= 5 && !strcmp(argv[1], "source"))
		return source(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: tcpstream sink PORT | source HOST PORT SECONDS\n");
	return 2;
}
