/* SPDX-License-Identifier: MIT */
/*
 * echo: the template appliance. A TCP echo server (RFC 862) in plain C with
 * libc and BSD sockets: it greets each client with the image's /motd.txt (from
 * rootfs/), sends back every byte it receives, and serves several clients at
 * once with poll().
 *
 * Arguments (any order, beside libos's own ip=, gw=, dns=, dhcp_wait=):
 *   port=N       the TCP port (default 7)
 *   clients=N    stop, with status 0, once N clients have come and gone
 *                (default 0: serve for ever)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define MOTD_MAX    1024

struct options {
	int port;
	long clients;
};

/* The greeting, from the files the image carries; none if it carries no /motd.txt. */
static char motd[MOTD_MAX];
static size_t motd_len;

static void read_motd(void)
{
	FILE *f = fopen("/motd.txt", "r");

	if (!f)
		return;
	motd_len = fread(motd, 1, sizeof(motd), f);
	fclose(f);
}

static void parse_args(int argc, char **argv, struct options *opt)
{
	opt->port = 7;
	opt->clients = 0;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "port=", 5) == 0)
			opt->port = atoi(argv[i] + 5);
		else if (strncmp(argv[i], "clients=", 8) == 0)
			opt->clients = atol(argv[i] + 8);
	}
}

/* A socket listening on every address of the appliance at port, or -1. */
static int listen_on(int port)
{
	struct sockaddr_in addr = {
	    .sin_family = AF_INET,
	    .sin_port = htons((unsigned short)port),
	    .sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 8) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* Sends all len bytes: 0, or -1 when the client has gone. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, 0);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Takes a new client; returns its socket, or -1 if it was turned away or never came. */
static int welcome(int listener, int have_room)
{
	struct sockaddr_in peer;
	socklen_t peer_len = sizeof(peer);
	char ip[INET_ADDRSTRLEN];
	int fd = accept(listener, (struct sockaddr *)&peer, &peer_len);

	if (fd < 0)
		return -1;
	if (!have_room) {
		send_all(fd, "busy\n", 5);
		close(fd);
		return -1;
	}
	inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
	printf("echo: client %s:%u connected\n", ip, ntohs(peer.sin_port));
	if (send_all(fd, motd, motd_len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Echoes what one client has sent: the bytes it echoed, or 0 once the client is gone. */
static ssize_t echo_once(int fd)
{
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n <= 0 || send_all(fd, buf, (size_t)n) < 0)
		return 0;
	return n;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct pollfd fds[1 + MAX_CLIENTS]; /* fds[0]: the listener; then one per client */
	long bytes[1 + MAX_CLIENTS];	    /* what each client has had echoed */
	nfds_t nfds = 1;
	long gone = 0;

	parse_args(argc, argv, &opt);
	read_motd();
	fds[0] = (struct pollfd){.fd = listen_on(opt.port), .events = POLLIN};
	if (fds[0].fd < 0) {
		perror("echo: listen");
		return 1;
	}
	printf("echo: listening on TCP port %d\n", opt.port);

	while (opt.clients == 0 || gone < opt.clients) {
		if (poll(fds, nfds, -1) < 0) {
			perror("echo: poll");
			return 1;
		}
		/* From the last client down, so a slot refilled from the end was seen already. */
		for (nfds_t i = nfds - 1; i >= 1; i--) {
			ssize_t n = fds[i].revents ? echo_once(fds[i].fd) : -1;

			if (n > 0)
				bytes[i] += n;
			if (n != 0)
				continue;
			printf("echo: client left after %ld bytes\n", bytes[i]);
			close(fds[i].fd);
			nfds--;
			fds[i] = fds[nfds];
			bytes[i] = bytes[nfds];
			gone++;
		}
		if (fds[0].revents & POLLIN) {
			int fd = welcome(fds[0].fd, nfds < 1 + MAX_CLIENTS);

			if (fd >= 0) {
				fds[nfds] = (struct pollfd){.fd = fd, .events = POLLIN};
				bytes[nfds] = 0;
				nfds++;
			}
		}
	}
	printf("echo: %ld clients served, stopping\n", gone);
	close(fds[0].fd);
	return 0;
}
