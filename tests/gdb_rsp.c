/* SPDX-License-Identifier: MIT */
/*
 * A scripted client of gdb's remote protocol, for where Debian's gdb is not at hand (the
 * nested kvm VM of tests/kvm-nested.sh): connects to 127.0.0.1:PORT and, for each argument,
 * sends it as a packet and prints "> PACKET" then "< REPLY". Two arguments are not packets:
 * "rip" sends g and prints "rip=0x..." from the reply (gdb's x86-64 order: the 17th register),
 * "ctrl-c:MS" waits MS milliseconds, sends a lone 0x03 and prints the stop reply, and a packet
 * after a '!' is sent with no wait for its reply (a continue that a ctrl-c ends). Built
 * static, so that it runs with no libraries beside it.
 *
 *   gdb_rsp PORT PACKET...   exits 0, or 1 when the connection fails or closes early
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd;

static int byte(void)
{
	unsigned char c;

	return read(fd, &c, 1) == 1 ? c : -1;
}

static void send_packet(const char *data)
{
	char buf[4200];
	unsigned sum = 0;
	int n;

	for (const char *p = data; *p; p++)
		sum += (unsigned char)*p;
	n = snprintf(buf, sizeof(buf), "$%s#%02x", data, sum & 0xff);
	if (write(fd, buf, (size_t)n) != n) {
		puts("gdb_rsp: write failed");
		exit(1);
	}
}

/* The next packet's data (acks skipped); exits when the connection closes. */
static const char *reply(void)
{
	static char buf[8192];
	size_t len = 0;
	int c;

	while ((c = byte()) != '$')
		if (c < 0) {
			puts("gdb_rsp: the connection closed");
			exit(1);
		}
	while ((c = byte()) != '#' && c >= 0)
		if (len + 1 < sizeof(buf))
			buf[len++] = (char)c;
	buf[len] = '\0';
	byte();
	byte();
	if (write(fd, "+", 1) != 1)
		exit(1);
	return buf;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (argc < 2)
		return 2;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("gdb_rsp: connect");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "rip")) {
			const char *g;
			unsigned long long rip = 0;

			send_packet("g");
			g = reply();
			if (strlen(g) < 17 * 16) {
				printf("< %s (too short for rip)\n", g);
				continue;
			}
			for (int b = 7; b >= 0; b--) {
				unsigned v;

				sscanf(g + 16 * 16 + 2 * b, "%2x", &v);
				rip = rip << 8 | v;
			}
			printf("rip=0x%llx\n", rip);
		} else if (!strncmp(argv[i], "ctrl-c:", 7)) {
			struct timespec ts = { 0, atol(argv[i] + 7) * 1000000L };

			ts.tv_sec = ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			nanosleep(&ts, NULL);
			if (write(fd, "\x03", 1) != 1)
				return 1;
			printf("> ctrl-c\n< %s\n", reply());
		} else {
			bool wait = argv[i][0] != '!' && strcmp(argv[i], "k"); /* k has no reply */
			const char *pkt = argv[i] + (argv[i][0] == '!');

			send_packet(pkt);
			printf("> %s\n", pkt);
			if (wait)
				printf("< %s\n", reply());
		}
		fflush(stdout);
	}
	return 0;
}
