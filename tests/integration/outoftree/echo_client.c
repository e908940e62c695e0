/* SPDX-License-Identifier: MIT */
/*
 * A client of the template appliance (templates/appliance, a TCP echo server),
 * built with the installed kit like it, for tests/integration/outoftree.sh.
 * Arguments: server=A.B.C.D port=N (beside libos's ip=). Opens two connections
 * at once (connecting again every 100 ms for 10 s while the server boots),
 * reads each one's greeting, sends a line on the second and 64 KiB on the
 * first, 4 KiB at a time, and checks every byte that comes back. Prints
 * "client: greeting: ..." and SUCCESS and exits 0, or FAILURE: why and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 4096
#define TOTAL (64 * 1024)

static void fail(const char *what)
{
	printf("client: FAILURE: %s (%s)\n", what, strerror(errno));
	exit(1);
}

static int connect_to(const struct sockaddr_in *server)
{
	const struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};

	for (int tries = 0; tries < 100; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			fail("socket");
		if (connect(fd, (const struct sockaddr *)server, sizeof(*server)) == 0)
			return fd;
		close(fd);
		nanosleep(&pause, NULL);
	}
	fail("connect: the server never answered");
	return -1;
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, 0);

		if (n <= 0)
			fail("send");
		buf += n;
		len -= (size_t)n;
	}
}

static void recv_exact(int fd, char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, buf, len, 0);

		if (n <= 0)
			fail(n == 0 ? "the server closed the connection" : "recv");
		buf += n;
		len -= (size_t)n;
	}
}

/* One line, its newline replaced by a NUL. */
static void recv_line(int fd, char *line, size_t size)
{
	size_t have = 0;

	for (;;) {
		if (have + 1 == size)
			fail("a line too long");
		recv_exact(fd, line + have, 1);
		if (line[have] == '\n')
			break;
		have++;
	}
	line[have] = '\0';
}

int main(int argc, char **argv)
{
	struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(7)};
	static char out[CHUNK], back[CHUNK], line[256];
	const char hello[] = "a line on the second connection\n";

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "server=", 7) == 0)
			inet_pton(AF_INET, argv[i] + 7, &server.sin_addr);
		else if (strncmp(argv[i], "port=", 5) == 0)
			server.sin_port = htons((unsigned short)atoi(argv[i] + 5));
	}

	int first = connect_to(&server);
	recv_line(first, line, sizeof(line));
	printf("client: greeting: %s\n", line);
	int second = connect_to(&server);
	recv_line(second, line, sizeof(line));

	send_all(second, hello, strlen(hello));
	recv_exact(second, back, strlen(hello));
	if (memcmp(back, hello, strlen(hello)) != 0)
		fail("the line came back changed");
	for (int sent = 0; sent < TOTAL; sent += CHUNK) {
		for (int i = 0; i < CHUNK; i++)
			out[i] = (char)((sent + i) * 7 + (sent + i) / 251);
		send_all(first, out, CHUNK);
		recv_exact(first, back, CHUNK);
		if (memcmp(back, out, CHUNK) != 0)
			fail("bytes came back changed");
	}
	close(second);
	close(first);
	printf("client: %d bytes and a line echoed, SUCCESS\n", TOTAL);
	return 0;
}
