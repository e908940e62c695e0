/* SPDX-License-Identifier: MIT */
/*
 * Unit test of hv's switch (vswitch.c) with ports that record what they are
 * given: names, switches made and freed by name, learning, flooding, no
 * hairpin, a full table, ageing, a MAC that moves, drops, detaching, and
 * fair shares of a port's receive buffers when one sender floods it.
 */
#include <errno.h>
#include <stddef.h>

#include "check.h"
#include "vswitch.h"

#define NR_PORTS 3
#define NS 1000000000ull

/*
 * A port that keeps the last frame it got, or refuses every frame while
 * full. A limited one has a queue of receive buffers, room of them free,
 * and keeps the last ones from a sender over its share, as a NIC does.
 */
struct test_port {
	struct vswitch_port port;
	bool full, limited;
	unsigned queue, room;
	unsigned got;
	uint8_t last[128];
	size_t last_len;
};

static struct test_port ports[NR_PORTS];
#define A (&ports[0])
#define B (&ports[1])
#define C (&ports[2])

static int record(struct vswitch_port *to, const struct iovec *frame, unsigned nr_iov, size_t len,
		  bool over_share, const void *meta)
{
	struct test_port *t = (struct test_port *)((char *)to - offsetof(struct test_port, port));
	size_t off = 0;

	CHECK(meta != NULL); /* the sender's, passed through */
	(void)meta;

	if (t->full)
		return -ENOBUFS;
	if (t->limited) {
		if (t->room == 0)
			return -ENOBUFS;
		if (over_share && t->room <= t->queue >> VSWITCH_SHARE_RESERVE_SHIFT)
			return -EAGAIN;
		t->room--;
	}
	for (unsigned i = 0; i < nr_iov; i++) {
		if (off + frame[i].iov_len <= sizeof(t->last))
			memcpy(t->last + off, frame[i].iov_base, frame[i].iov_len);
		off += frame[i].iov_len;
	}
	CHECK_EQ(off, len);
	t->last_len = len;
	t->got++;
	return 0;
}

static void mac_of(unsigned n, uint8_t mac[6])
{
	uint8_t m[6] = { 0x02, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
			 (uint8_t)n };

	memcpy(mac, m, 6);
}

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ipv4_multicast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

/*
 * Send a 60-byte frame dst <- src from port p at time now, in three buffers
 * that split both MACs, as a driver's chain may. Returns the verdict; the
 * ports' counts of frames got start from zero for each send.
 */
static enum vswitch_verdict send_at(struct test_port *p, const uint8_t dst[6],
				    const uint8_t src[6], size_t len, uint64_t now)
{
	uint8_t f[60];
	struct iovec iov[3] = { { f, 4 }, { f + 4, 5 }, { f + 9, sizeof(f) - 9 } };
	enum vswitch_verdict v;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88, f[13] = 0xb5; /* the local experimental EtherType */
	for (size_t i = 14; i < sizeof(f); i++)
		f[i] = (uint8_t)(i * 7 + src[5]);
	for (unsigned i = 0; i < NR_PORTS; i++)
		ports[i].got = 0;
	if (len < 9) /* a runt: one buffer */
		iov[0].iov_len = len;
	else
		iov[2].iov_len = len - 9;
	pthread_mutex_lock(vswitch_lock(p->port.sw));
	v = vswitch_send(&p->port, iov, len < 9 ? 1 : 3, len, now, &p->port);
	pthread_mutex_unlock(vswitch_lock(p->port.sw));
	for (unsigned i = 0; i < NR_PORTS; i++)
		if (ports[i].got &&
		    !CHECK(ports[i].last_len == len && !memcmp(ports[i].last, f, len)))
			fprintf(stderr, "    port %u got a different frame\n", i);
	return v;
}

static enum vswitch_verdict send_now(struct test_port *p, const uint8_t dst[6],
				     const uint8_t src[6])
{
	return send_at(p, dst, src, 60, 1 * NS);
}

/* Which ports got the last frame: bit i for port i. */
static unsigned got(void)
{
	unsigned m = 0;

	for (unsigned i = 0; i < NR_PORTS; i++)
		m |= (ports[i].got ? 1u : 0u) << i;
	return m;
}

static const uint8_t *mac(const struct test_port *p)
{
	static uint8_t m[NR_PORTS][6];
	unsigned i = (unsigned)(p - ports);

	mac_of(0x1000 + i, m[i]);
	return m[i];
}

static void setup(const char *name)
{
	memset(ports, 0, sizeof(ports));
	for (unsigned i = 0; i < NR_PORTS; i++) {
		ports[i].port.deliver = record;
		CHECK_EQ(vswitch_attach(&ports[i].port, name), 0);
	}
}

static void teardown(void)
{
	for (unsigned i = 0; i < NR_PORTS; i++)
		vswitch_detach(&ports[i].port);
}

static void test_names(void)
{
	static const char *const good[] = { "a", "lan", "LAN-0_b",
					    "0123456789012345678901234567890" };
	static const char *const bad[] = { "", "01234567890123456789012345678901", "a b", "a.b",
					   "a/b", "a:b", "a,b", "caf\xc3\xa9" };

	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!CHECK_EQ(vswitch_name_check(good[i], strlen(good[i])), 0))
			fprintf(stderr, "    name \"%s\"\n", good[i]);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_EQ(vswitch_name_check(bad[i], strlen(bad[i])), -EINVAL))
			fprintf(stderr, "    name \"%s\"\n", bad[i]);
	/* Only the first len characters count: the rest of --net's argument follows. */
	CHECK_EQ(vswitch_name_check("lan,mac=02:00:00:00:00:01", 3), 0);
}

/* A switch is made by its first port, shared by name, numbered in order, freed with its last. */
static void test_attach(void)
{
	struct vswitch_port x = { .deliver = record }, y = { .deliver = record };

	setup("one");
	CHECK(A->port.sw == B->port.sw && B->port.sw == C->port.sw);
	CHECK_EQ(A->port.id, 0);
	CHECK_EQ(C->port.id, 2);
	CHECK_STR_EQ(vswitch_name(A->port.sw), "one");
	CHECK_EQ(vswitch_attach(&x, "two"), 0);
	CHECK(x.sw != A->port.sw);
	CHECK_EQ(x.id, 0);
	vswitch_detach(&B->port);
	CHECK(B->port.sw == NULL);
	CHECK_EQ(vswitch_attach(&y, "one"), 0);
	CHECK(y.sw == A->port.sw);
	CHECK_EQ(y.id, 3); /* numbers are never reused while the switch lives */
	vswitch_detach(&y);
	vswitch_detach(&B->port); /* twice: nothing happens */
	teardown();
	vswitch_detach(&x);
	/* All gone (LeakSanitizer checks the memory); a new "one" starts again from 0. */
	setup("one");
	CHECK_EQ(C->port.id, 2);
	teardown();
}

static void test_learning_and_flooding(void)
{
	struct vswitch_counters c;

	setup("lan");
	/* Nothing learned yet: broadcast, multicast and unknown unicast go to all others. */
	CHECK_EQ(send_now(A, broadcast, mac(A)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x6);
	CHECK_EQ(send_now(A, ipv4_multicast, mac(A)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x6);
	CHECK_EQ(send_now(A, mac(B), mac(A)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x6);
	/* A is learned: B's answer goes to A alone, and then A's to B alone. */
	CHECK_EQ(send_now(B, mac(A), mac(B)), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x1);
	CHECK_EQ(send_now(A, mac(B), mac(A)), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x2);
	/* Learned destinations do not stop broadcast and multicast from flooding. */
	CHECK_EQ(send_now(A, broadcast, mac(A)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x6);
	CHECK_EQ(send_now(C, ipv4_multicast, mac(C)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x3);
	vswitch_port_counters(&A->port, &c);
	CHECK_EQ(c.forwarded, 1);
	CHECK_EQ(c.flooded, 4);
	CHECK_EQ(c.filtered, 0);
	CHECK_EQ(c.delivered, 2);
	vswitch_port_counters(&B->port, &c);
	CHECK_EQ(c.forwarded, 1);
	CHECK_EQ(c.delivered, 6);
	CHECK_EQ(c.dropped, 0);
	teardown();
}

/* A frame never goes back out of the port it came in on. */
static void test_no_hairpin(void)
{
	uint8_t behind_c[6];
	struct vswitch_counters c;

	mac_of(77, behind_c);
	setup("lan");
	CHECK_EQ(send_now(A, mac(A), mac(A)), VSWITCH_FILTERED); /* to itself */
	CHECK_EQ(got(), 0);
	CHECK_EQ(send_now(C, broadcast, behind_c), VSWITCH_FLOODED); /* learned on C */
	CHECK_EQ(got(), 0x3);
	CHECK_EQ(send_now(C, behind_c, mac(C)), VSWITCH_FILTERED); /* both behind C */
	CHECK_EQ(got(), 0);
	vswitch_port_counters(&C->port, &c);
	CHECK_EQ(c.filtered, 1);
	CHECK_EQ(c.delivered, 0);
	teardown();
}

/* Frames that name no station: sent nowhere, and nothing learned from them. */
static void test_bad_frames(void)
{
	static const uint8_t zero[6];
	struct vswitch_counters c;

	setup("lan");
	CHECK_EQ(send_at(A, broadcast, mac(A), 13, NS), VSWITCH_FILTERED);
	CHECK_EQ(send_at(A, broadcast, mac(A), 0, NS), VSWITCH_FILTERED);
	CHECK_EQ(got(), 0);
	/* A bare header is a frame. */
	CHECK_EQ(send_at(A, broadcast, mac(A), 14, NS), VSWITCH_FLOODED);
	CHECK_EQ(send_now(B, broadcast, ipv4_multicast), VSWITCH_FILTERED);
	CHECK_EQ(send_now(B, broadcast, zero), VSWITCH_FILTERED);
	CHECK_EQ(got(), 0);
	/* Neither source was learned on B. */
	CHECK_EQ(send_now(C, zero, mac(C)), VSWITCH_FLOODED);
	vswitch_port_counters(&B->port, &c);
	CHECK_EQ(c.filtered, 2);
	teardown();
}

/* A station that moves is followed at its first frame from the new port. */
static void test_mac_moves(void)
{
	uint8_t roamer[6];

	mac_of(42, roamer);
	setup("lan");
	send_now(B, broadcast, roamer);
	CHECK_EQ(send_now(A, roamer, mac(A)), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x2);
	send_now(C, broadcast, roamer);
	CHECK_EQ(send_now(A, roamer, mac(A)), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x4);
	/* Back on A itself: frames from A to it are now filtered, from B they go to A. */
	send_now(A, broadcast, roamer);
	CHECK_EQ(send_now(A, roamer, mac(A)), VSWITCH_FILTERED);
	CHECK_EQ(send_now(B, roamer, mac(B)), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x1);
	teardown();
}

/* Find n MACs (numbered from first) that share one bucket of the table. */
static void same_bucket(unsigned n, uint8_t out[][6])
{
	uint8_t m[6], m0[6];
	unsigned found = 0;

	mac_of(0x10000, m0);
	for (unsigned i = 0x10000; found < n && i < 0x10000 + 100000; i++) {
		mac_of(i, m);
		if (vswitch_mac_bucket(m) == vswitch_mac_bucket(m0))
			memcpy(out[found++], m, 6);
	}
	CHECK_EQ(found, n);
}

/*
 * A full bucket gives up its least recently heard MAC: the table stays
 * bounded, a forgotten MAC floods until it speaks again, and a MAC that keeps
 * speaking stays.
 */
static void test_table_full(void)
{
	uint8_t m[VSWITCH_MAC_WAYS + 2][6], other[6];

	same_bucket(VSWITCH_MAC_WAYS + 2, m);
	setup("lan");
	for (unsigned i = 0; i < VSWITCH_MAC_WAYS; i++)
		send_at(B, broadcast, m[i], 60, (10 + i) * NS);
	for (unsigned i = 0; i < VSWITCH_MAC_WAYS; i++)
		CHECK_EQ(send_at(A, m[i], mac(A), 60, 20 * NS), VSWITCH_FORWARDED);
	/* m[0] speaks again: now m[1] is the least recently heard. */
	send_at(B, broadcast, m[0], 60, 21 * NS);
	send_at(C, broadcast, m[VSWITCH_MAC_WAYS], 60, 22 * NS);
	CHECK_EQ(send_at(A, m[1], mac(A), 60, 23 * NS), VSWITCH_FLOODED);
	CHECK_EQ(send_at(A, m[0], mac(A), 60, 23 * NS), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x2);
	CHECK_EQ(send_at(A, m[VSWITCH_MAC_WAYS], mac(A), 60, 23 * NS), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x4);
	for (unsigned i = 2; i < VSWITCH_MAC_WAYS; i++)
		CHECK_EQ(send_at(A, m[i], mac(A), 60, 23 * NS), VSWITCH_FORWARDED);
	/* A whole table's worth and more from one port: the last MAC learned is always there. */
	for (unsigned i = 0; i < 4 * VSWITCH_MAC_BUCKETS * VSWITCH_MAC_WAYS; i++) {
		mac_of(0x20000 + i, other);
		send_at(C, broadcast, other, 60, (30 + i) * NS);
		if (!CHECK_EQ(send_at(A, other, mac(A), 60, (30 + i) * NS), VSWITCH_FORWARDED))
			break;
	}
	teardown();
}

/* A MAC not heard from for the ageing time is forgotten; hearing it renews it. */
static void test_ageing(void)
{
	uint8_t quiet[6], chatty[6];
	uint64_t t0 = 5 * NS;

	mac_of(100, quiet);
	mac_of(101, chatty);
	setup("lan");
	send_at(B, broadcast, quiet, 60, t0);
	send_at(C, broadcast, chatty, 60, t0);
	send_at(C, broadcast, chatty, 60, t0 + VSWITCH_MAC_AGE_NS / 2);
	CHECK_EQ(send_at(A, quiet, mac(A), 60, t0 + VSWITCH_MAC_AGE_NS), VSWITCH_FORWARDED);
	CHECK_EQ(send_at(A, quiet, mac(A), 60, t0 + VSWITCH_MAC_AGE_NS + 1), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x6);
	CHECK_EQ(send_at(A, chatty, mac(A), 60, t0 + VSWITCH_MAC_AGE_NS + 1), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x4);
	/* A clock read on another thread may be a little behind: not a reason to forget. */
	CHECK_EQ(send_at(A, chatty, mac(A), 60, t0), VSWITCH_FORWARDED);
	teardown();
}

/* A port with no room loses the frame, counted there; the others still get theirs. */
static void test_drops(void)
{
	struct vswitch_counters c;

	setup("lan");
	send_now(C, broadcast, mac(C));
	C->full = true;
	CHECK_EQ(send_now(A, broadcast, mac(A)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x2);
	CHECK_EQ(send_now(A, mac(C), mac(A)), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0);
	vswitch_port_counters(&C->port, &c);
	CHECK_EQ(c.dropped, 2);
	CHECK_EQ(c.delivered, 0);
	vswitch_port_counters(&A->port, &c);
	CHECK_EQ(c.forwarded, 1);
	CHECK_EQ(c.flooded, 1);
	C->full = false;
	CHECK_EQ(send_now(A, mac(C), mac(A)), VSWITCH_FORWARDED);
	CHECK_EQ(got(), 0x4);
	teardown();
}

/* A detached port's MACs are forgotten at once: frames for them flood the ports left. */
static void test_detach_forgets(void)
{
	setup("lan");
	send_now(C, broadcast, mac(C));
	vswitch_detach(&C->port);
	CHECK_EQ(send_now(A, mac(C), mac(A)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x2);
	CHECK_EQ(send_now(A, broadcast, mac(A)), VSWITCH_FLOODED);
	CHECK_EQ(got(), 0x2);
	teardown();
}

/* A queue of n receive buffers, all free, for port p. */
static void limit(struct test_port *p, unsigned n)
{
	p->limited = true;
	p->queue = p->room = n;
}

/* Port p's guest has taken a frame and posts its buffer again. Returns 1, or 0 if none was used. */
static unsigned give_back(struct test_port *p)
{
	if (p->room == p->queue)
		return 0;
	p->room++;
	return 1;
}

/*
 * A floods C, which takes back one buffer for every four frames A sends: C
 * runs low and stays low. B's frames to C, one now and then, must all find
 * a buffer; A is refused, not C's other senders.
 */
static void test_share_flood(void)
{
	struct vswitch_counters c;
	unsigned b_sent = 0, b_got = 0, a_got = 0, given_back = 0;

	setup("lan");
	send_now(C, broadcast, mac(C));
	limit(C, 64);
	for (unsigned i = 0; i < 20000; i++) {
		send_now(A, mac(C), mac(A));
		a_got += C->got;
		if (i % 4 == 0)
			given_back += give_back(C);
		if (i % 50 == 0) {
			send_now(B, mac(C), mac(B));
			b_sent++;
			b_got += C->got;
		}
	}
	CHECK_EQ(b_got, b_sent);
	CHECK_EQ(a_got + b_got, 64 + given_back - C->room); /* A had the rest */
	CHECK(C->room <= 64 >> VSWITCH_SHARE_RESERVE_SHIFT);  /* C was low all along */
	vswitch_port_counters(&C->port, &c);
	CHECK_EQ(c.dropped, 0);
	CHECK_EQ(c.refused, 20000 - a_got);
	CHECK_EQ(c.delivered, a_got + b_got);
	teardown();
}

/* The same with broadcast from A: B and C both run low, and still hear each other. */
static void test_share_broadcast_flood(void)
{
	struct vswitch_counters c;
	unsigned lost = 0;

	setup("lan");
	limit(B, 256);
	limit(C, 256);
	for (unsigned i = 0; i < 20000; i++) {
		send_now(A, broadcast, mac(A));
		if (i % 3 == 0) {
			give_back(B);
			give_back(C);
		}
		if (i % 100 == 0) {
			send_now(B, broadcast, mac(B)); /* to A and C */
			lost += !C->got;
			send_now(C, mac(B), mac(C));
			lost += !B->got;
		}
	}
	CHECK_EQ(lost, 0);
	vswitch_port_counters(&B->port, &c);
	CHECK(c.refused > 0);
	CHECK_EQ(c.dropped, 0);
	teardown();
}

/*
 * A lone sender fills all but the reserve (1/8) of a port that takes none
 * back; a newcomer still gets the reserve, and the port is full only then.
 */
static void test_share_lone_sender(void)
{
	struct vswitch_counters c;
	unsigned got = 0;

	setup("lan");
	send_now(C, broadcast, mac(C));
	limit(C, 64);
	for (unsigned i = 0; i < 100; i++) {
		send_now(A, mac(C), mac(A));
		got += C->got;
	}
	CHECK_EQ(got, 64 - (64 >> VSWITCH_SHARE_RESERVE_SHIFT));
	for (unsigned i = 0; i < 64 >> VSWITCH_SHARE_RESERVE_SHIFT; i++) {
		send_now(B, mac(C), mac(B));
		CHECK_EQ(C->got, 1);
	}
	CHECK_EQ(C->room, 0);
	send_now(B, mac(C), mac(B));
	CHECK_EQ(C->got, 0);
	vswitch_port_counters(&C->port, &c);
	CHECK_EQ(c.delivered, 64);
	CHECK_EQ(c.refused, 100 - got);
	CHECK_EQ(c.dropped, 1);
	teardown();
}

/* The past fades: once B has had most of C's recent frames, A is under its share again. */
static void test_share_fades(void)
{
	unsigned reserve = 64 >> VSWITCH_SHARE_RESERVE_SHIFT;

	setup("lan");
	send_now(C, broadcast, mac(C));
	limit(C, 64);
	for (unsigned i = 0; i < 100; i++)
		send_now(A, mac(C), mac(A));
	CHECK_EQ(C->room, reserve);
	send_now(A, mac(C), mac(A));
	CHECK_EQ(C->got, 0);
	C->limited = false;
	for (unsigned i = 0; i < 2 * VSWITCH_SHARE_WINDOW; i++)
		send_now(B, mac(C), mac(B));
	C->limited = true;
	send_now(B, mac(C), mac(B)); /* B is over its share now */
	CHECK_EQ(C->got, 0);
	send_now(A, mac(C), mac(A));
	CHECK_EQ(C->got, 1);
	CHECK_EQ(C->room, reserve - 1);
	teardown();
}

int main(void)
{
	test_names();
	test_attach();
	test_learning_and_flooding();
	test_no_hairpin();
	test_bad_frames();
	test_mac_moves();
	test_table_full();
	test_ageing();
	test_drops();
	test_detach_forgets();
	test_share_flood();
	test_share_broadcast_flood();
	test_share_lone_sender();
	test_share_fades();
	return check_finish("vswitch");
}
