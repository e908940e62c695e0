/* SPDX-License-Identifier: MIT */
/*
 * pingpong: two domains on one hv talk over a shared-memory channel (vchan.h).
 *
 *   hv pingpong.img role=server :: pingpong.img role=client
 *
 * Arguments (key=value): role=server|client; peer=DOMID (default: the other
 * domain in the store); mode=test (default), evtchn or stream (measurements:
 * pingpong_bench.c); n= messages (test, default 2000), round trips
 * (evtchn) or the message size (stream); bulk= bytes of the bulk transfer
 * (default 64 MiB; K/M/G suffixes); ring= bytes per direction (default 64K);
 * send=ring (default) or hypercall: how mode=evtchn sends.
 *
 * test: the client sends n messages of sizes from 0 bytes to three rings
 * (so writers block on full rings and readers take partial reads), the
 * server checks every byte and answers with a message of the same size and
 * its own pattern, which the client checks; then bulk bytes each way, every
 * byte checked; then the client closes and the server sees the end of the
 * stream. Each prints SUCCESS and exits 0, or exits with a PP_EXIT_* status
 * saying what went wrong (3 for a channel the peer broke).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libos.h"
#include "pingpong.h"
#include "store.h"

#define MSG_MAX	   (1u << 20) /* the largest test message the server accepts */
#define BULK_CHUNK (1u << 16)

struct msg_header {
	uint32_t seq;
	uint32_t len;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* Stream seed's bytes [off, off + len): eight bytes per mix of their position. */
static void fill(uint8_t *p, uint64_t seed, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++, off++)
		p[i] = (uint8_t)(mix(seed ^ (off >> 3)) >> (8 * (off & 7)));
}

/* The first position in p that differs from stream seed at off, or -1. */
static long check(const uint8_t *p, uint64_t seed, uint64_t off, size_t len)
{
	uint64_t word = 0;

	for (size_t i = 0; i < len; i++, off++) {
		if (i == 0 || (off & 7) == 0)
			word = mix(seed ^ (off >> 3));
		if (p[i] != (uint8_t)(word >> (8 * (off & 7))))
			return (long)i;
	}
	return -1;
}

int pp_read_full(struct vchan *v, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = vchan_read(v, p, len);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pp_fail(const char *what, int rc)
{
	printf("FAILURE: %s: %s\n", what, strerror(-rc));
	return rc == -EIO || rc == -EPIPE ? PP_EXIT_BROKEN : PP_EXIT_SETUP;
}

void pp_print_stats(struct vchan *v, uint64_t messages)
{
	struct vchan_stats s;

	vchan_get_stats(v, &s);
	printf("events: %" PRIu64 " sent, %" PRIu64 " received, %" PRIu64 " sleeps for %" PRIu64
	       " messages: %.3f events sent per message\n",
	       s.notifies, s.events, s.sleeps, messages,
	       messages ? (double)s.notifies / (double)messages : 0.0);
}

/* Test message seq's size: a mix of tiny, page-sized, ring-sized and beyond a ring. */
static uint32_t msg_size(uint32_t seq, size_t ring)
{
	uint64_t r = mix(seq + 1);

	switch (seq % 5) {
	case 0: return (uint32_t)(r % 65);
	case 1: return (uint32_t)(r % 4097);
	case 2: return (uint32_t)(r % (ring + 1));
	case 3: return (uint32_t)(r % (3 * ring + 1));
	default: return (uint32_t)ring;
	}
}

/* One side of the message exchange; the client sends first, the server answers. */
static int exchange(const struct pp_options *o, struct vchan *v, uint8_t *buf)
{
	for (uint32_t seq = 0; seq < o->n; seq++) {
		uint32_t len = msg_size(seq, o->ring);
		uint64_t out_seed = (o->server ? 0x5e000000ull : 0xc1000000ull) + seq;
		uint64_t in_seed = (o->server ? 0xc1000000ull : 0x5e000000ull) + seq;
		struct msg_header h = {seq, len};
		ssize_t w;
		long bad;
		int rc;

		if (!o->server) {
			fill(buf, out_seed, 0, len);
			if ((w = vchan_write(v, &h, sizeof(h))) < 0 ||
			    (w = vchan_write(v, buf, len)) < 0)
				return pp_fail("writing a message", (int)w);
		}
		rc = pp_read_full(v, &h, sizeof(h));
		if (rc)
			return pp_fail("reading a message header", rc);
		if (h.seq != seq || h.len != len) {
			printf("FAILURE: message %u: header says seq %u, %u bytes; want %u bytes\n",
			       seq, h.seq, h.len, len);
			return PP_EXIT_MISMATCH;
		}
		rc = pp_read_full(v, buf, len);
		if (rc)
			return pp_fail("reading a message", rc);
		bad = check(buf, in_seed, 0, len);
		if (bad >= 0) {
			printf("FAILURE: message %u: byte %ld of %u differs\n", seq, bad, len);
			return PP_EXIT_MISMATCH;
		}
		if (o->server) {
			fill(buf, out_seed, 0, len);
			if ((w = vchan_write(v, &h, sizeof(h))) < 0 ||
			    (w = vchan_write(v, buf, len)) < 0)
				return pp_fail("answering a message", (int)w);
		}
	}
	printf("%" PRIu64 " messages of 0 to %zu bytes each way, every byte checked\n", o->n,
	       3 * o->ring);
	return 0;
}

/* bulk bytes one way in writes of varying size; the reader checks every byte. */
static int bulk(const struct pp_options *o, struct vchan *v, uint8_t *buf, bool sending,
		uint64_t seed)
{
	uint64_t start = clock_monotonic_ns(), done = 0, ns;

	while (done < o->bulk) {
		size_t n = 1 + mix(seed + done) % BULK_CHUNK;
		long bad;
		ssize_t got;

		if (n > o->bulk - done)
			n = o->bulk - done;
		if (sending) {
			fill(buf, seed, done, n);
			got = vchan_write(v, buf, n);
			if (got < 0)
				return pp_fail("bulk write", (int)got);
		} else {
			got = vchan_read(v, buf, n);
			if (got <= 0)
				return pp_fail("bulk read", got ? (int)got : -EPIPE);
			bad = check(buf, seed, done, (size_t)got);
			if (bad >= 0) {
				printf("FAILURE: bulk byte %" PRIu64 " differs\n",
				       done + (uint64_t)bad);
				return PP_EXIT_MISMATCH;
			}
		}
		done += (uint64_t)got;
	}
	ns = clock_monotonic_ns() - start;
	printf("bulk: %s %" PRIu64 " bytes in %.1f ms (%.0f MB/s)%s\n",
	       sending ? "sent" : "received", o->bulk, ns / 1e6, o->bulk * 1e3 / (ns ? ns : 1),
	       sending ? "" : ", every byte checked");
	return 0;
}

static int run_test(const struct pp_options *o, struct vchan *v)
{
	uint8_t *buf = malloc(MSG_MAX > BULK_CHUNK ? MSG_MAX : BULK_CHUNK);
	int rc;

	if (!buf)
		return pp_fail("buffer", -ENOMEM);
	rc = exchange(o, v, buf);
	/* Client to server, then back. */
	if (rc == 0)
		rc = bulk(o, v, buf, !o->server, 0xb0000001);
	if (rc == 0)
		rc = bulk(o, v, buf, o->server, 0xb0000002);
	/* The server waits for the client's end of stream, so its close finds nothing mapped. */
	if (rc == 0 && o->server) {
		ssize_t n = vchan_read(v, buf, 1);

		if (n != 0) {
			printf("FAILURE: after the bulk transfer: want the end of the stream, got "
			       "%zd\n",
			       n);
			rc = n < 0 ? PP_EXIT_BROKEN : PP_EXIT_MISMATCH;
		}
	}
	pp_print_stats(v, o->n);
	free(buf);
	return rc;
}

/* The size arguments: a number with an optional K, M or G. */
static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t n = strtoull(s, &end, 0);

	switch (*end) {
	case 'K': return n << 10;
	case 'M': return n << 20;
	case 'G': return n << 30;
	default: return n;
	}
}

static int parse(int argc, char **argv, struct pp_options *o)
{
	const char *role = NULL;

	*o = (struct pp_options){.mode = "test", .n = 2000, .bulk = 64u << 20, .ring = 64u << 10};
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *val = eq ? eq + 1 : "";
		size_t klen = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);

#define KEY(k) (klen == sizeof(k) - 1 && strncmp(argv[i], k, klen) == 0)
		if (KEY("role"))
			role = val;
		else if (KEY("peer"))
			o->peer = (uint16_t)strtoul(val, NULL, 0);
		else if (KEY("mode"))
			o->mode = val;
		else if (KEY("n"))
			o->n = parse_size(val);
		else if (KEY("bulk"))
			o->bulk = parse_size(val);
		else if (KEY("ring"))
			o->ring = (size_t)parse_size(val);
		else if (KEY("send"))
			o->sync_send = strcmp(val, "hypercall") == 0;
		else {
			printf("pingpong: unknown argument '%s'\n", argv[i]);
			return -1;
		}
#undef KEY
	}
	if (!role || (strcmp(role, "server") && strcmp(role, "client"))) {
		printf("pingpong: say role=server or role=client\n");
		return -1;
	}
	o->server = strcmp(role, "server") == 0;
	return 0;
}

/* The other domain: the first id, from 1 up, that hv named in the store and is not ours. */
static uint16_t find_peer(void)
{
	char key[64], name[128];

	for (uint16_t id = 1; id < HV_MAX_DOMAINS; id++) {
		int rc;

		if (id == libos_domid())
			continue;
		store_domain_path(key, sizeof(key), id, "name");
		rc = store_read(key, name, sizeof(name));
		if (rc >= 0)
			return id;
		if (rc != -ENOENT)
			break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pp_options o;
	struct vchan *v;
	int rc;

	if (parse(argc, argv, &o))
		return PP_EXIT_SETUP;
	if (!o.peer)
		o.peer = find_peer();
	if (!o.peer) {
		printf(
		    "FAILURE: no other domain in the store (hv gives each domain /local/domain/<id>"
		    "/name); run two: hv pingpong.img role=server :: pingpong.img role=client\n");
		return PP_EXIT_SETUP;
	}
	printf("pingpong: domain %u, %s of domain %u, mode %s\n", libos_domid(),
	       o.server ? "server" : "client", o.peer, o.mode);
	if (strcmp(o.mode, "evtchn") == 0)
		return pp_bench_evtchn(&o);
	if (o.server)
		v = vchan_server_init(o.peer, PP_CHANNEL, o.ring);
	else
		v = vchan_client_init(o.peer, PP_CHANNEL, clock_monotonic_ns() + PP_CONNECT_NS);
	if (!v)
		return pp_fail(o.server ? "offering the channel" : "connecting", -errno);
	if (strcmp(o.mode, "stream") == 0)
		rc = pp_bench_stream(&o, v);
	else if (strcmp(o.mode, "test") == 0)
		rc = run_test(&o, v);
	else
		rc = pp_fail("mode", -EINVAL);
	if (vchan_close(v))
		rc = rc ? rc : PP_EXIT_BROKEN;
	if (rc == 0)
		printf("SUCCESS\n");
	return rc;
}
