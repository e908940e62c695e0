/* SPDX-License-Identifier: MIT */
/* What pingpong's test and benchmark halves share: options, the peer, exit statuses. */
#ifndef PINGPONG_H
#define PINGPONG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vchan.h"

/* Exit statuses, besides 0 (SUCCESS). */
#define PP_EXIT_MISMATCH 1 /* a byte or a header was not what was sent */
#define PP_EXIT_SETUP	 2 /* no channel: bad arguments, no peer, the setup failed */
#define PP_EXIT_BROKEN	 3 /* the channel broke (-EIO) or the peer went away mid-way */

#define PP_CHANNEL    "pingpong"
#define PP_CONNECT_NS (20ull * 1000000000) /* how long a client waits for the server's offer */

struct pp_options {
	bool server;
	uint16_t peer;	  /* the other domain */
	const char *mode; /* test, evtchn, stream */
	uint64_t n;	  /* test: messages; evtchn: round trips; stream: message size */
	uint64_t bulk;	  /* test and stream: bytes of the bulk transfer */
	size_t ring;	  /* bytes per direction of the channel */
	bool sync_send;	  /* evtchn: send by hypercall (evtchn_send_sync), not through the ring */
};

/* Read exactly len bytes; 0, or what ended the stream early (-EIO, or -EPIPE at its end). */
int pp_read_full(struct vchan *v, void *buf, size_t len);
/* Say what a failed call did and return the exit status that goes with it. */
int pp_fail(const char *what, int rc);
/* The channel's events and sleeps, per message. */
void pp_print_stats(struct vchan *v, uint64_t messages);

int pp_bench_evtchn(const struct pp_options *o);
int pp_bench_stream(const struct pp_options *o, struct vchan *v);

#endif /* PINGPONG_H */
