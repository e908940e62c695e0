#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The tour's exercise 4 (docs/tour/04-events.md): an event sent back and forth between two
# domains, 1000 times untimed then 100 timed, first by hypercall, then through the send
# ring; the exits of each domain from hv --stats: all of them by kind, and of the
# hypercalls the blocks and the event-channel operations. From the project root, after make.
HV=${HV:-build/hv}
for send in hypercall ring; do
	echo "send=$send"
	"$HV" --stats --name=server build/apps/pingpong.img role=server mode=evtchn n=100 \
		send=$send :: --name=client build/apps/pingpong.img role=client mode=evtchn \
		n=100 send=$send 2>&1 | grep -E 'stats: ([0-9]+ exits|  [a-z]|    (block|evtchn_op))'
done
