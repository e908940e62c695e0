#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-pv: two domains on one hv against two native processes, side by side in one run.
#   latency:    an event-channel round trip between two domains (apps/pingpong mode=evtchn),
#               sends through the send ring and by hypercall, against one byte over two pipes and a count over two eventfds between two
#               processes (bench/ipc_native.c), median of each run's median
#   throughput: the shared-memory channel (apps/pingpong mode=stream) in 64 B, 4 KiB and
#               64 KiB messages against the same messages over a pipe
#   per message: the events the channel sent (notification suppression at work) and hv's
#               exits (hv --stats, the whole run, setup included)
# Rounds alternate between the contenders so that drift in the machine's load hits all alike.
# Usage: bench/pv.sh BUILD_DIR   (RUNS=n rounds, default 5; RTTS=n round trips per run)
set -euo pipefail

B=$1
RUNS=${RUNS:-5}
RTTS=${RTTS:-20000}
SIZES=(64 4096 65536)
declare -A BYTES=([64]=$((32 << 20)) [4096]=$((512 << 20)) [65536]=$((512 << 20)))
PP=$B/apps/pingpong.img
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]] || { echo "bench-pv needs /dev/kvm"; exit 1; }
echo "bench-pv on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, Linux $(uname -r)"
grep -qwE 'vmx|svm' /proc/cpuinfo ||
	echo "KVM here is software-assisted (no VMX/SVM visible): compare ratios, not absolute times."
echo "$RUNS rounds; $RTTS round trips per latency run; medians over the rounds"
echo

# record LABEL VALUE: one sample of LABEL.
record() { echo "$2" >>"$TMP/$1.samples"; }
median() { sort -g "$TMP/$1.samples" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The sum of hv's exit counts over its domains, from --stats in file $1.
exits() { sed -n 's/.*stats: \([0-9][0-9]*\) exits in.*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }
# The events both sides of the channel sent, from pingpong's "events: N sent" lines in $1.
events() { sed -n 's/.*events: \([0-9][0-9]*\) sent.*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }

# hv_pair LOG ARGS...: both pingpong domains with ARGS, --stats, output in LOG; 0 or say why.
hv_pair() {
	local log=$1
	shift
	if ! timeout 300 "$B/hv" --stats "$PP" role=server "$@" :: "$PP" role=client "$@" >"$log" 2>&1 ||
		[[ $(grep -c SUCCESS "$log") != 2 ]]; then
		echo "bench-pv: pingpong $* failed:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
}

for ((r = 1; r <= RUNS; r++)); do
	printf 'round %d:' "$r"
	for send in ring hypercall; do
		hv_pair "$TMP/evtchn.log" mode=evtchn n="$RTTS" send="$send"
		record "evtchn-$send" "$(sed -n 's/.*evtchn round trip: median \([0-9.]*\) us.*/\1/p' "$TMP/evtchn.log")"
		record "evtchn-$send-exits" "$(awk -v e="$(exits "$TMP/evtchn.log")" -v n="$RTTS" 'BEGIN { printf "%.3f", e / (n + 1000) }')"
	done
	for kind in pipe eventfd; do
		record "$kind" "$("$B/bench/ipc_native" pingpong "$kind" "$RTTS" |
			sed -n 's/.*median \([0-9.]*\) us.*/\1/p')"
	done
	for s in "${SIZES[@]}"; do
		hv_pair "$TMP/stream.log" mode=stream n="$s" bulk="${BYTES[$s]}"
		record "vchan-$s" "$(sed -n 's/.*stream: .* \([0-9.]*\) MB\/s.*/\1/p' "$TMP/stream.log")"
		msgs=$((${BYTES[$s]} / s))
		record "vchan-$s-events" "$(awk -v e="$(events "$TMP/stream.log")" -v n="$msgs" 'BEGIN { printf "%.5f", e / n }')"
		record "vchan-$s-exits" "$(awk -v e="$(exits "$TMP/stream.log")" -v n="$msgs" 'BEGIN { printf "%.5f", e / n }')"
		record "pipe-$s" "$("$B/bench/ipc_native" stream "$s" "${BYTES[$s]}" |
			sed -n 's/.* \([0-9.]*\) MB\/s.*/\1/p')"
		printf ' .'
	done
	echo
done
echo

printf '%-44s %14s %14s %14s %12s\n' "round trip (median)" "hv domains" "pipe" "eventfd" "exits/trip"
printf '%-44s %11s us %11s us %11s us %12s\n' "event channel, sends through the ring" \
	"$(median evtchn-ring)" "$(median pipe)" "$(median eventfd)" "$(median evtchn-ring-exits)"
printf '%-44s %11s us %14s %14s %12s\n' "event channel, sends by EVTCHNOP_send" \
	"$(median evtchn-hypercall)" "" "" "$(median evtchn-hypercall-exits)"
echo
printf '%-44s %14s %14s %12s %12s\n' "stream throughput (median)" "vchan" "pipe" "events/msg" "exits/msg"
for s in "${SIZES[@]}"; do
	printf '%-44s %9s MB/s %9s MB/s %12s %12s\n' "$s-byte messages ($((${BYTES[$s]} >> 20)) MiB)" \
		"$(median "vchan-$s")" "$(median "pipe-$s")" "$(median "vchan-$s-events")" \
		"$(median "vchan-$s-exits")"
done
echo
echo "exits/trip, exits/msg: hv's exits in both domains per round trip or message, setup included;"
echo "events/msg: events both ends of the channel sent per message (a side is notified only when"
echo "it said it sleeps). A ring send wakes a thread of hv's, which needs a free CPU: on a host"
echo "with few, a send by hypercall (an exit, delivered by the sender's own vCPU thread) can be sooner."
